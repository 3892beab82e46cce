// @ts-check
// <gallery-img src="/api/images/tenant/KEY" alt="…" width="…" height="…">: an image that needs a login, for any
// page (our analogue of ThingsBoard's `image` pipe). It fetches the bytes with the caller's token and shows them.
//
// The token is the one in localStorage["gallery.token"] (where the management page keeps it), or the one a page
// with its own sign-in announces: `window.dispatchEvent(new CustomEvent("gallery-token", {detail: token}))`; each
// element that could not show its image tries again when a token is announced. `api-base` prefixes `src` when the
// API is on another origin. Only a change of `src` or `api-base` fetches again; `alt`, `width` and `height` are
// applied as they are. The browser's HTTP cache revalidates with the image's ETag, so a repeat view costs a 304.
// The element sets an `error` attribute and fires `error` when the image cannot be had; it fires `load` when shown.

import { TOKEN_EVENT, currentToken } from "./lib/keys.js";

const SHEET = new CSSStyleSheet();
SHEET.replaceSync(":host{display:inline-block}img{max-width:100%;height:auto;display:block}");
const FETCHED_BY = new Set(["src", "api-base"]);

export class GalleryImg extends HTMLElement {
  static observedAttributes = ["src", "alt", "width", "height", "api-base"];

  #img = document.createElement("img");
  /** @type {string | null} */
  #objectUrl = null;
  /** @type {AbortController | null} */
  #controller = null;
  #retry = () => { if (this.hasAttribute("error")) this.#load(); };

  constructor() {
    super();
    this.#img.setAttribute("part", "img");
    const shadow = this.attachShadow({ mode: "open" });
    // A constructed stylesheet, not a <style> element: pages with a strict Content-Security-Policy (ours among
    // them) allow no inline styles.
    shadow.adoptedStyleSheets = [SHEET];
    shadow.append(this.#img);
  }

  connectedCallback() {
    window.addEventListener(TOKEN_EVENT, this.#retry);
    this.#copyAttributes();
    this.#load();
  }

  /** @param {string} name @param {string | null} before @param {string | null} after */
  attributeChangedCallback(name, before, after) {
    if (!this.isConnected || before === after) return;
    if (FETCHED_BY.has(name)) this.#load(); else this.#copyAttributes();
  }

  disconnectedCallback() {
    window.removeEventListener(TOKEN_EVENT, this.#retry);
    this.#controller?.abort();
    this.#release();
  }

  #copyAttributes() {
    for (const name of ["alt", "width", "height"]) {
      const value = this.getAttribute(name);
      if (value === null) this.#img.removeAttribute(name); else this.#img.setAttribute(name, value);
    }
  }

  #release() {
    if (this.#objectUrl) URL.revokeObjectURL(this.#objectUrl);
    this.#objectUrl = null;
  }

  async #load() {
    const src = this.getAttribute("src");
    if (!src) return;
    this.#controller?.abort();
    const controller = (this.#controller = new AbortController());
    const token = currentToken();
    try {
      const response = await fetch((this.getAttribute("api-base") ?? "") + src, {
        headers: token ? { "X-Authorization": `Bearer ${token}` } : {},
        signal: controller.signal,
      });
      if (!response.ok) {
        const body = await response.json().catch(() => ({}));
        throw new Error(body.message || `HTTP ${response.status}`);
      }
      const blob = await response.blob();
      this.#release();
      const objectUrl = (this.#objectUrl = URL.createObjectURL(blob));
      await new Promise((resolve, reject) => {
        this.#img.onload = resolve;
        this.#img.onerror = () => reject(new Error("The image could not be shown"));
        this.#img.src = objectUrl;
      });
      this.removeAttribute("error");
      this.dispatchEvent(new Event("load"));
    } catch (error) {
      if (error instanceof Error && error.name === "AbortError") return;
      this.setAttribute("error", error instanceof Error ? error.message : String(error));
      this.dispatchEvent(new Event("error"));
    }
  }
}

if (!customElements.get("gallery-img")) customElements.define("gallery-img", GalleryImg);
