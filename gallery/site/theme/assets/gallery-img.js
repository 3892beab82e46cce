// <gallery-img src="/api/images/tenant/KEY" alt="…" width="…" height="…">: an image that needs a login, for any
// page (our analogue of ThingsBoard's `image` pipe). It fetches the bytes with the caller's token and shows them.
//
// The token comes from `GalleryImg.token` when a page sets it, else from localStorage["gallery.token"] (where the
// management app keeps it). `api-base` prefixes `src` when the API is on another origin. The browser's HTTP cache
// revalidates with the image's ETag, so a repeat view costs a 304. The element sets an `error` attribute and fires
// `error` when the image cannot be had; it fires `load` when it shows.

const TOKEN_KEY = "gallery.token";
const SHEET = new CSSStyleSheet();
SHEET.replaceSync(":host{display:inline-block}img{max-width:100%;height:auto;display:block}");

export class GalleryImg extends HTMLElement {
  static observedAttributes = ["src", "alt", "width", "height", "api-base"];
  static token = null;

  #img = document.createElement("img");
  #objectUrl = null;
  #controller = null;

  constructor() {
    super();
    this.#img.setAttribute("part", "img");
    const shadow = this.attachShadow({ mode: "open" });
    // A constructed stylesheet, not a <style> element: pages with a strict Content-Security-Policy (ours among
    // them) allow no inline styles.
    shadow.adoptedStyleSheets = [SHEET];
    shadow.append(this.#img);
  }

  connectedCallback() { this.#load(); }

  attributeChangedCallback() { if (this.isConnected) this.#load(); }

  disconnectedCallback() {
    this.#controller?.abort();
    this.#release();
  }

  #release() {
    if (this.#objectUrl) URL.revokeObjectURL(this.#objectUrl);
    this.#objectUrl = null;
  }

  async #load() {
    for (const name of ["alt", "width", "height"]) {
      const value = this.getAttribute(name);
      if (value === null) this.#img.removeAttribute(name); else this.#img.setAttribute(name, value);
    }
    const src = this.getAttribute("src");
    if (!src) return;
    this.#controller?.abort();
    const controller = (this.#controller = new AbortController());
    const token = GalleryImg.token ?? localStorage.getItem(TOKEN_KEY);
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
      this.#objectUrl = URL.createObjectURL(blob);
      await new Promise((resolve, reject) => {
        this.#img.onload = resolve;
        this.#img.onerror = () => reject(new Error("The image could not be shown"));
        this.#img.src = this.#objectUrl;
      });
      this.removeAttribute("error");
      this.dispatchEvent(new Event("load"));
    } catch (error) {
      if (error.name === "AbortError") return;
      this.setAttribute("error", error.message);
      this.dispatchEvent(new Event("error"));
    }
  }
}

if (!customElements.get("gallery-img")) customElements.define("gallery-img", GalleryImg);
