// @ts-check
// The API browser: the gallery's OpenAPI document in Swagger UI (pinned, shipped with the site, no CDN). Calls made
// from it carry the token the management page stored, so "Try it out" works once signed in there.

import { currentToken } from "./lib/keys.js";

const root = document.getElementById("api-docs");

/**
 * Swagger draws some buttons as an icon alone, with no name a screen reader reads: each tag's collapse arrow (a title
 * at most) and the dialog's close cross. Name them after what a press does. Cheap and idempotent, so it can run on
 * every change Swagger makes.
 * @param {ParentNode} scope
 */
function nameButtons(scope) {
  for (const button of scope.querySelectorAll("button.expand-operation")) {
    const tag = button.closest(".opblock-tag")?.getAttribute("data-tag") ?? "";
    const verb = button.getAttribute("aria-expanded") === "true" ? "Collapse" : "Expand";
    const label = tag ? `${verb} the ${tag} operations` : `${verb} the operations`;
    if (button.getAttribute("aria-label") !== label) button.setAttribute("aria-label", label);
  }
  for (const button of scope.querySelectorAll("button.close-modal:not([aria-label])")) button.setAttribute("aria-label", "Close");
}

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
  nameButtons(root);
  // Only aria-expanded and new nodes matter: the labels set here (aria-label) do not wake the observer again.
  new MutationObserver(() => nameButtons(root)).observe(root, {
    subtree: true,
    childList: true,
    attributes: true,
    attributeFilter: ["aria-expanded"],
  });
} else if (root) {
  const note = document.createElement("p");
  note.className = "api-docs-missing";
  note.textContent = "The browsable view is not installed with this copy (run `make` in the repository); the OpenAPI document linked above is complete.";
  root.append(note);
}
