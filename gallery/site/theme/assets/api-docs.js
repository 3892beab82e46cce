// @ts-check
// The API browser: the gallery's OpenAPI document in Swagger UI (pinned, shipped with the site, no CDN). Calls made
// from it carry the token the management page stored, so "Try it out" works once signed in there.

import { currentToken } from "./lib/keys.js";

const root = document.getElementById("api-docs");
/** @type {any} */
const bundle = /** @type {any} */ (window).SwaggerUIBundle;
if (root && bundle) {
  bundle({
    url: root.dataset.spec,
    domNode: root,
    deepLinking: true,
    /** @param {{headers: Record<string, string>}} request */
    requestInterceptor: (request) => {
      const token = currentToken();
      if (token && !request.headers["X-Authorization"]) request.headers["X-Authorization"] = `Bearer ${token}`;
      return request;
    },
  });
} else if (root) {
  const note = document.createElement("p");
  note.className = "api-docs-missing";
  note.textContent = "The browsable view is not installed with this copy (run `make` in the repository); the OpenAPI document linked above is complete.";
  root.append(note);
}
