// @ts-check
// Progressive enhancement: every page works without this file. With it, the index gets search by name, sorting
// and client-side pages over gallery.json (fetched on first use), the view choice is remembered, and snippets get
// copy buttons, and an image page's export is assembled here from its original. Only one page of cards is ever in the document, however many images there are; each is the
// page's own card `<template>`, filled with text (never parsed as HTML).

import { VIEW_KEY } from "./lib/keys.js";
import { copyText, debounce, saveFile } from "./lib/util.js";

/** @typedef {import("./lib/types.js").Card} Card */

function enhanceCopy() {
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

/** @param {HTMLElement} root */
function enhanceIndex(root) {
  const base = root.dataset.base ?? "";
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
  const load = async () => (all ??= /** @type {Card[]} */ (await (await fetch(root.dataset.index ?? "")).json()));
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
    Object.assign(img, { src: base + c.i, alt: c.t, width: c.iw, height: c.ih });
    find(item, ".name", HTMLElement).textContent = c.t;
    find(item, ".meta", HTMLElement).textContent = `${c.w}×${c.h} | ${c.z}`;
    if (!c.s) find(item, ".badge", HTMLElement).remove();
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
      .filter((c) => !needle || c.t.toLocaleLowerCase().includes(needle))
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
  // page is looked at again, a few bytes say whether gallery.json changed (a 304 when not), and if so it is fetched
  // again and the cards redrawn where the visitor is.
  const version = async () => {
    try {
      const response = await fetch(root.dataset.version ?? "", { cache: "no-cache" });
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
}

enhanceCopy();
enhanceExport();
const index = document.querySelector(".gallery[data-index]");
if (index instanceof HTMLElement) enhanceIndex(index);
