// @ts-check
// Progressive enhancement: every page works without this file. With it, the index and the tags' pages get search
// (names, alt texts, tags, descriptions' openings), sorting and client-side pages over every card (fetched on first
// use) and a viewer that shows a card's picture large; the view choice is remembered, snippets get copy buttons, and
// an image page's export is assembled here from its original. Only one page of cards is ever in the document, however
// many images there are; each is the page's own card `<template>`, filled with text (never parsed as HTML).

import { pathSegment } from "./lib/embed.js";
import { VIEW_KEY } from "./lib/keys.js";
import { copyText, debounce, saveFile } from "./lib/util.js";

/** @typedef {import("./lib/types.js").Card} Card */

// A root-relative link, in an attribute, a srcset or a Markdown link: what follows a quote, a space, a comma or "(".
const ROOT_RELATIVE = /(^|[\s"'(,])\/(?=[\w%.~-])/g;

/**
 * The plain-HTML snippets are pasted into other sites, so their links must be whole, as the management page writes
 * them. A site built without its address (or the API's) holds them from its root: made whole here, from the page's
 * own address, where the API is too.
 */
function wholeSnippets() {
  for (const area of document.querySelectorAll("textarea[data-site-relative]")) {
    if (!(area instanceof HTMLTextAreaElement)) continue;
    area.value = area.value.replace(ROOT_RELATIVE, `$1${location.origin}/`);
    area.removeAttribute("data-site-relative");
  }
}

function enhanceCopy() {
  wholeSnippets();
  for (const button of document.querySelectorAll("button[data-copy]")) {
    if (!(button instanceof HTMLButtonElement)) continue;
    button.hidden = false;
    button.addEventListener("click", async () => {
      const source = document.getElementById(button.dataset.copy ?? "");
      if (!(source instanceof HTMLTextAreaElement)) return;
      await copyText(source.value, source);
      button.textContent = "Copied";
      setTimeout(() => { button.textContent = "Copy"; }, 1500);
    });
  }
}

/**
 * The image's ThingsBoard export (what `PUT /api/image/import` takes back), made in the browser: the page holds
 * every field but the bytes, the site holds the original, so the site needs no second, base64 copy of each image.
 */
function enhanceExport() {
  const button = document.querySelector("button[data-export]");
  const fields = document.getElementById("export-fields");
  if (!(button instanceof HTMLButtonElement) || !fields) return;
  button.hidden = false;
  button.addEventListener("click", async () => {
    button.disabled = true;
    try {
      const response = await fetch(button.dataset.export ?? "");
      if (!response.ok) throw new Error(`${response.status}`);
      const data = await base64(await response.blob());
      const json = JSON.stringify({ ...JSON.parse(fields.textContent ?? "{}"), data });
      saveFile(new Blob([json], { type: "application/json" }), button.dataset.name ?? "image.json");
      button.textContent = "Export JSON";
    } catch {
      button.textContent = "Export failed: try again";
    } finally {
      button.disabled = false;
    }
  });
}

/**
 * @param {Blob} blob
 * @returns {Promise<string>} its bytes in base64 (a data: URL's tail: the browser encodes, not a loop here)
 */
function base64(blob) {
  return new Promise((resolve, reject) => {
    const reader = new FileReader();
    reader.onload = () => resolve(String(reader.result).split(",", 2)[1] ?? "");
    reader.onerror = () => reject(reader.error);
    reader.readAsDataURL(blob);
  });
}

/**
 * @template {Element} E
 * @param {ParentNode} root
 * @param {string} selector
 * @param {new () => E} type
 * @returns {E}
 */
function find(root, selector, type) {
  const found = root.querySelector(selector);
  if (!(found instanceof type)) throw new Error(`The page has no ${selector}`);
  return found;
}

/**
 * Everything search looks at in a card, folded once per card (a separator no text holds keeps a needle from
 * matching across two of them).
 * @type {WeakMap<Card, string>}
 */
const searched = new WeakMap();
/** @param {Card} c */
const searchText = (c) => {
  let text = searched.get(c);
  if (text === undefined) {
    text = [c.t, c.a ?? "", c.d ?? "", ...(c.g ?? [])].join("\u001f").toLocaleLowerCase();
    searched.set(c, text);
  }
  return text;
};

/** @param {HTMLElement} root */
function enhanceIndex(root) {
  // Every URL resolved once, against the page's own address: the viewer moves the address to an image's page, and
  // a relative URL resolved then would be that page's.
  const home = location.href;
  /** @param {string | null | undefined} relative */
  const resolve = (relative) => new URL(relative ?? "", home).href;
  const base = resolve(root.dataset.base);
  const tagBase = resolve(root.dataset.tags);
  // A tag's page lists that tag's images: search, sorting and paging go over those alone.
  const tag = root.dataset.tag ?? null;
  const cards = find(root, "#cards", HTMLUListElement);
  const search = find(root, "#search", HTMLInputElement);
  const sort = find(root, "#sort", HTMLSelectElement);
  const system = find(root, "#show-system", HTMLInputElement);
  const template = find(root, "#card-template", HTMLTemplateElement);
  const counts = find(document, "#counts", HTMLElement);
  const pageSize = Math.max(1, Number(root.dataset.pageSize) || 48);
  find(root, "[data-js]", HTMLElement).hidden = false;

  const saved = localStorage.getItem(VIEW_KEY);
  const savedInput = saved ? root.querySelector(`input[name=view][value=${CSS.escape(saved)}]`) : null;
  if (savedInput instanceof HTMLInputElement) savedInput.checked = true;
  for (const input of root.querySelectorAll("input[name=view]")) {
    if (input instanceof HTMLInputElement) input.addEventListener("change", () => localStorage.setItem(VIEW_KEY, input.value));
  }

  /** @type {Card[] | null} */
  let all = null;
  let page = 0;
  // A page after the first names its block of cards, counted from the oldest (stable while images are added): the
  // visitor's place, in pages from the newest, is known once the list is.
  let block = root.dataset.block === undefined ? null : Number(root.dataset.block);
  /** @param {string} url */
  const json = async (url) => (await fetch(url)).json();
  // gallery.json names the shards of the cards, newest first (an upload rewrites the newest shard, not every card).
  const fetched = async () => {
    const head = /** @type {{shards: string[]}} */ (await json(resolve(root.dataset.index)));
    return /** @type {Card[]} */ ((await Promise.all(head.shards.map((shard) => json(base + shard)))).flat());
  };
  const load = async () => (all ??= (await fetched()).filter((c) => tag === null || (c.g ?? []).includes(tag)));
  /** @type {Record<string, (a: Card, b: Card) => number>} */
  const orders = {
    "date-desc": (a, b) => b.c - a.c, "date-asc": (a, b) => a.c - b.c,
    "name-asc": (a, b) => a.t.localeCompare(b.t), "name-desc": (a, b) => b.t.localeCompare(a.t),
    "size-desc": (a, b) => b.b - a.b, "size-asc": (a, b) => a.b - b.b,
  };

  /** @param {Card} c */
  const card = (c) => {
    const item = /** @type {HTMLLIElement} */ (template.content.firstElementChild?.cloneNode(true));
    item.classList.toggle("system", c.s);
    find(item, "a", HTMLAnchorElement).href = base + c.p;
    const source = find(item, "source", HTMLSourceElement);
    if (c.v) source.srcset = base + c.v; else source.remove();
    const img = find(item, "img", HTMLImageElement);
    Object.assign(img, { src: base + c.i, alt: c.a ?? c.t, width: c.iw, height: c.ih });
    find(item, ".name", HTMLElement).textContent = c.t;
    find(item, ".meta", HTMLElement).textContent = `${c.w}×${c.h} | ${c.z}`;
    if (!c.s) find(item, ".badge", HTMLElement).remove();
    const chips = find(item, ".tags", HTMLUListElement);
    if (c.g?.length) chips.replaceChildren(...c.g.map(chip)); else chips.remove();
    return item;
  };

  /** @param {string} name a tag: a link to its page, as the build names it (`site_layout.tag_page`) */
  const chip = (name) => {
    const item = document.createElement("li");
    item.append(Object.assign(document.createElement("a"), { href: `${tagBase}${pathSegment(name)}/`, rel: "tag", textContent: name }));
    return item;
  };

  /** @param {string} label @param {number} step @param {boolean} disabled */
  const stepButton = (label, step, disabled) => {
    const button = Object.assign(document.createElement("button"), { type: "button", textContent: label, disabled });
    button.addEventListener("click", () => { page += step; render(); });
    return button;
  };

  async function render() {
    const items = await load();
    const needle = search.value.trim().toLocaleLowerCase();
    const shown = items
      .filter((c) => system.checked || !c.s)
      .filter((c) => !needle || searchText(c).includes(needle))
      .sort(orders[sort.value]);
    const pages = Math.max(1, Math.ceil(shown.length / pageSize));
    if (block !== null) {
      page = Math.floor(Math.max(0, items.length - (block + 1) * pageSize) / pageSize);
      block = null;
    }
    page = Math.min(page, pages - 1);
    cards.replaceChildren(...shown.slice(page * pageSize, (page + 1) * pageSize).map(card));
    counts.textContent = `${shown.length} of ${items.length} images`;
    let nav = root.querySelector(".pages");
    if (!nav) nav = root.appendChild(Object.assign(document.createElement("nav"), { className: "pages" }));
    nav.setAttribute("aria-label", "Pages");
    const current = Object.assign(document.createElement("span"), { textContent: `${page + 1} / ${pages}` });
    current.setAttribute("aria-current", "page");
    nav.replaceChildren(...(pages < 2 ? [] : [
      stepButton("Previous", -1, page === 0), current, stepButton("Next", 1, page >= pages - 1),
    ]));
  }
  // The gallery may change while this page is open (`gallery serve` and the publisher keep it current): when the
  // page is looked at again, a few bytes say whether the cards changed (a 304 when not), and if so they are fetched
  // again and the cards redrawn where the visitor is.
  const version = async () => {
    try {
      const response = await fetch(resolve(root.dataset.version), { cache: "no-cache" });
      return response.ok ? await response.text() : null;
    } catch {
      return null;
    }
  };
  let seen = version();
  const refresh = async () => {
    if (document.visibilityState !== "visible") return;
    const [before, now] = [await seen, await version()];
    if (!now || now === before) return;
    seen = Promise.resolve(now);
    all = null;
    render();
  };
  document.addEventListener("visibilitychange", refresh);
  window.addEventListener("focus", refresh);

  const restart = () => { page = 0; block = null; render(); };
  search.addEventListener("input", debounce(restart, 150));
  sort.addEventListener("change", restart);
  system.addEventListener("change", () => { if (all) restart(); });

  /** @type {{list: Card[] | null, byLink: Map<string, Card>}} */
  const links = { list: null, byLink: new Map() };
  /** @returns {Promise<Map<string, Card>>} the cards by the absolute URL of their page (what a card's link says) */
  const byLink = async () => {
    const list = await load();
    if (links.list !== list) {
      links.list = list;
      links.byLink = new Map(list.map((c) => [base + c.p, c]));
    }
    return links.byLink;
  };
  const viewer = find(root, "#viewer-template", HTMLTemplateElement).content.firstElementChild?.cloneNode(true);
  if (viewer instanceof HTMLDialogElement) enhanceViewer(cards, viewer, byLink, base, resolve);
}

/**
 * The viewer: a card's picture large in a modal dialog, with the previous and the next of the cards shown (buttons,
 * arrow keys, a swipe), closed by its button or Escape. The address follows the picture (its own page's, so a link
 * copied or a reload shows that page, which needs no script), Back goes to the picture before and then closes it,
 * and focus goes back to the card that opened it.
 * @param {HTMLUListElement} cards
 * @param {HTMLDialogElement} dialog
 * @param {() => Promise<Map<string, Card>>} byLink the cards by their pages' addresses
 * @param {string} base the gallery's root, absolute
 * @param {(relative: string | null) => string} resolve a URL of the page, absolute
 */
function enhanceViewer(cards, dialog, byLink, base, resolve) {
  cards.closest(".gallery")?.after(dialog);
  const stage = find(dialog, ".viewer-stage", HTMLElement);
  const heading = find(dialog, "#viewer-title", HTMLElement);
  const description = find(dialog, ".viewer-description", HTMLElement);
  const pageLink = find(dialog, ".viewer-page", HTMLAnchorElement);
  const previous = find(dialog, ".viewer-prev", HTMLButtonElement);
  const next = find(dialog, ".viewer-next", HTMLButtonElement);
  const close = find(dialog, ".viewer-close", HTMLButtonElement);
  const title = document.title;
  /** @type {string | null} the page of the picture shown */
  let shown = null;
  /** @type {HTMLAnchorElement | null} */
  let opener = null;
  let depth = 0; // history entries the viewer added since it opened: what closing it goes back over

  /** The pages of the cards a visitor sees (the system toggle hides some), in order. */
  const sequence = () => [...cards.querySelectorAll(":scope > li.card")]
    .filter((card) => card.getClientRects().length > 0)
    .map((card) => resolve(card.querySelector(":scope > a")?.getAttribute("href") ?? null));
  /** @param {string} link @returns {HTMLAnchorElement | null} the link of the card of this page */
  const cardLink = (link) => [...cards.querySelectorAll(":scope > li.card > a")]
    .filter((a) => a instanceof HTMLAnchorElement)
    .find((a) => resolve(a.getAttribute("href")) === link) ?? null;
  // The template's picture, kept empty: each picture shown is a new copy (never the last one's, still loading).
  const empty = find(stage, "picture", HTMLPictureElement);
  empty.remove();
  /**
   * The largest rendition (WebP, with the thumbnail's fallback for a browser without it), drawn at its own size at
   * most: an image narrower than the window is not blown up.
   * @param {Card} c
   */
  const picture = (c) => {
    const made = /** @type {HTMLPictureElement} */ (empty.cloneNode(true));
    const source = find(made, "source", HTMLSourceElement);
    const img = Object.assign(find(made, "img", HTMLImageElement), { alt: c.a ?? c.t, width: c.w, height: c.h });
    img.src = base + (c.v ? c.i : c.x ?? c.i); // without WebP (or an SVG, shown as itself) the largest is the src
    if (c.v) source.srcset = base + (c.x ?? c.v); else source.remove();
    return made;
  };

  /** @param {string} link a card's page @param {Card} c */
  const display = (link, c) => {
    shown = link;
    stage.replaceChildren(picture(c));
    heading.textContent = c.t;
    description.textContent = c.d ?? "";
    description.hidden = !c.d;
    pageLink.href = link;
    const links = sequence();
    const at = links.indexOf(link);
    const focused = document.activeElement;
    previous.disabled = at <= 0;
    next.disabled = at < 0 || at >= links.length - 1;
    // A button disabled under the keyboard's focus would drop it out of the dialog: it moves to the other one.
    if (focused instanceof HTMLButtonElement && focused.disabled) (focused === next ? previous : next).focus();
    if (!dialog.contains(document.activeElement)) close.focus();
    document.title = `${c.t} · ${title}`;
  };

  /** @param {string} link @param {boolean} push whether the address moves (not when history moved it) */
  const go = async (link, push) => {
    const c = (await byLink()).get(link);
    if (!c) { location.assign(link); return; } // a card gallery.json does not know (yet): its page does
    display(link, c);
    if (push) history.pushState({ viewer: link, depth: ++depth }, "", link);
    if (!dialog.open) dialog.showModal();
  };

  /** @param {number} step */
  const move = (step) => {
    const links = sequence();
    const at = shown === null ? -1 : links.indexOf(shown);
    const to = links[at + step];
    if (at >= 0 && to) go(to, true);
  };

  cards.addEventListener("pointerover", () => { byLink(); }, { once: true }); // gallery.json on its way before a click
  cards.addEventListener("click", (event) => {
    const target = event.target;
    if (!(target instanceof Element) || event.button !== 0 || event.ctrlKey || event.metaKey || event.shiftKey || event.altKey) return;
    const link = target.closest("li.card > a");
    // The picture opens the viewer, the name stays a link to the page; from the keyboard (a click of detail 0)
    // the card opens the viewer too, as a pointer on its picture would.
    if (!(link instanceof HTMLAnchorElement) || (!target.closest("picture") && event.detail !== 0)) return;
    event.preventDefault();
    opener = link;
    go(resolve(link.getAttribute("href")), true);
  });
  previous.addEventListener("click", () => move(-1));
  next.addEventListener("click", () => move(1));
  close.addEventListener("click", () => dialog.close());
  dialog.addEventListener("keydown", (event) => {
    if (event.key === "ArrowLeft" || event.key === "ArrowRight") {
      event.preventDefault();
      move(event.key === "ArrowLeft" ? -1 : 1);
    }
  });
  // A swipe: touch and pens only (a mouse drags to select the caption's text).
  let swipe = { id: -1, x: 0, y: 0 };
  stage.addEventListener("pointerdown", (event) => {
    if (event.pointerType !== "mouse") swipe = { id: event.pointerId, x: event.clientX, y: event.clientY };
  });
  stage.addEventListener("pointerup", (event) => {
    if (event.pointerId !== swipe.id) return;
    const [dx, dy] = [event.clientX - swipe.x, event.clientY - swipe.y];
    swipe.id = -1;
    if (Math.abs(dx) > 50 && Math.abs(dx) > Math.abs(dy)) move(dx < 0 ? 1 : -1);
  });
  stage.addEventListener("pointercancel", () => { swipe.id = -1; });

  let closedByHistory = false; // the address already moved back: closing has no history to undo
  // A close event is a task of its own: Back then Forward can reopen the viewer before the event of the close Back
  // made arrives, and it must then undo nothing (it would take the reopened picture's address away).
  dialog.addEventListener("close", () => {
    const byHistory = closedByHistory;
    closedByHistory = false;
    if (dialog.open) return;
    shown = null;
    document.title = title;
    if (!byHistory) {
      const back = depth;
      depth = 0;
      if (back > 0) history.go(-back); // to the page's own address, the way Back would
    }
    opener?.focus();
  });
  window.addEventListener("popstate", (event) => {
    const state = event.state;
    if (state && typeof state.viewer === "string") {
      depth = Number(state.depth) || 0;
      if (!dialog.open) opener = cardLink(state.viewer);
      go(state.viewer, false);
    } else if (dialog.open) {
      depth = 0; // history is where the viewer started: closing it goes nowhere
      closedByHistory = true;
      dialog.close();
    }
  });
}

enhanceCopy();
enhanceExport();
const index = document.querySelector(".gallery[data-index]");
if (index instanceof HTMLElement) enhanceIndex(index);
