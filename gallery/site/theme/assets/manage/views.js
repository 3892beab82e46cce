// @ts-check
// The two ways to see a page of images — a table and a grid of cards — and the paginator under them.
// `ui` carries what they need from the app: the API base, the selection, who may change what, and the actions.

import { h, icon, iconButton } from "./dom.js";
import { formatDate, formatSize, imageId, imagePath, isSystem, resolution, summary } from "./format.js";
import { PAGE_SIZES } from "./state.js";

/** @typedef {import("../lib/types.js").Image} Image */
/** @typedef {import("../lib/types.js").Page} Page */
/** @typedef {import("./state.js").State} State */
/** @typedef {import("./api.js").Api} Api */

/**
 * What the views and dialogs need from the page.
 * @typedef {object} Ui
 * @property {Api} api
 * @property {Map<string, Image>} selected
 * @property {number} maxSize the tenant's largest image, bytes (0: none)
 * @property {string} apiBase
 * @property {boolean} sysadmin
 * @property {boolean} canWrite
 * @property {(image: Image) => boolean} readOnly
 * @property {(image: Image) => {publicUrl: string, apiBase: string, componentUrl: string}} embedContext
 * @property {(message: string, kind?: "info" | "error") => void} notify
 * @property {(image?: Image) => void} changed
 * @property {(image: Image) => Promise<void>} download
 * @property {(image: Image) => Promise<void>} exportJson
 * @property {(image: Image) => Promise<Image>} embed
 * @property {(image: Image, focus?: "altText") => void} edit
 * @property {(tag: string) => void} filterTag show only the images carrying this tag too
 * @property {(image: Image) => Promise<void>} remove
 * @property {(property: "createdTime" | "title") => void} sort
 * @property {(image: Image, on: boolean) => void} select
 * @property {(images: Image[], on: boolean) => void} selectAll
 * @property {(page: number) => void} goTo
 * @property {(size: number) => void} pageSize
 */

const SMALL_ICON = 64; // px on the longer side: at most this, a raster image is drawn with hard pixels when enlarged

/** @param {Image} image @param {Ui} ui */
export function preview(image, ui, className = "m-thumb") {
  // `v` keys the browser's cache by content: after an update in place the new bytes show at once.
  const element = h("gallery-img", {
    class: className,
    src: `${imagePath(image)}/preview?v=${encodeURIComponent(image.etag ?? "")}`,
    alt: "",
    "api-base": ui.apiBase || null,
  });
  limitScale(element, image);
  return element;
}

// The formats drawn from a vector, which scale without loss, from the server's one list (`gallery/domain/formats.py`).
const VECTOR_TYPES = (document.getElementById("manage")?.dataset.vectorTypes ?? "").split(" ").filter(Boolean);

/**
 * Past twice its own size a raster image only gets blurrier: the CSS caps the preview there (manage.css reads
 * --m-max-width and --m-max-height), and a small icon, doubled, keeps its hard pixels. Vector images scale freely.
 * Set through the CSSOM, which the page's Content-Security-Policy allows where a style attribute is refused.
 * @param {HTMLElement} element @param {Image} image
 */
function limitScale(element, image) {
  const { width = 0, height = 0, mediaType = "" } = image.descriptor ?? {};
  if (!width || !height || VECTOR_TYPES.includes(mediaType)) return;
  element.style.setProperty("--m-max-width", `${2 * width}px`);
  element.style.setProperty("--m-max-height", `${2 * height}px`);
  element.classList.toggle("m-pixels", Math.max(width, height) <= SMALL_ICON);
}

/** @param {Image} image @param {Ui} ui */
function actions(image, ui, { withEdit = true } = {}) {
  /** @param {string} label */
  const named = (label) => `${label}: ${image.title}`;
  const readOnly = ui.readOnly(image);
  // The edit dialog offers these three too: where a row has room for two buttons (a phone), they give way.
  const extra = { class: "icon-button m-extra-action" };
  return [
    iconButton("download", named("Download image"), () => ui.download(image), extra),
    iconButton("export", named("Export image to JSON"), () => ui.exportJson(image), extra),
    iconButton("embed", named("Embed image"), () => ui.embed(image), extra),
    withEdit && (readOnly
      ? iconButton("details", `${named("Image details")} (read-only)`, () => ui.edit(image))
      : iconButton("edit", named("Edit image"), () => ui.edit(image))),
    iconButton("delete", named("Delete image"), () => ui.remove(image), { disabled: readOnly || !ui.canWrite }),
  ];
}

/**
 * The image's tags as buttons that filter the list by them, and, for an image the caller may edit, a gentle word
 * that it has no alt text yet (screen readers then announce only its name, or nothing).
 * @param {Image} image @param {Ui} ui
 */
function texts(image, ui) {
  const tags = image.tags ?? [];
  return [
    tags.length > 0 && h("ul", { class: "m-tags", "aria-label": `Tags of ${image.title}` }, tags.map((tag) =>
      h("li", {}, h("button", { type: "button", class: "m-tag", title: `Show images tagged ${tag}`,
        "aria-label": `Show images tagged ${tag}`, onclick: () => ui.filterTag(tag) }, tag)))),
    !image.altText && !ui.readOnly(image) && h("button", { type: "button", class: "link m-alt-missing",
      "aria-label": `Add alt text: ${image.title}`, onclick: () => ui.edit(image, "altText") }, "Add alt text"),
  ];
}

/**
 * @param {string} label
 * @param {"createdTime" | "title"} property
 * @param {State} state
 * @param {Ui} ui
 * @param {string} [className]
 */
function sortHeader(label, property, state, ui, className) {
  const active = state.property === property;
  const sort = active ? (state.direction === "asc" ? "ascending" : "descending") : null;
  return h("th", { scope: "col", class: className, "aria-sort": sort },
    h("button", { type: "button", class: "m-sort", onclick: () => ui.sort(property) },
      label, h("span", { class: "m-arrow", "aria-hidden": "true" }, active ? (state.direction === "asc" ? "▲" : "▼") : "")));
}

/** @param {Page} page @param {State} state @param {Ui} ui */
export function table(page, state, ui) {
  const showSystem = state.system && !ui.sysadmin;
  const selectable = page.data.filter((image) => !ui.readOnly(image));
  const allSelected = selectable.length > 0 && selectable.every((image) => ui.selected.has(imageId(image)));
  const head = h("tr", {},
    h("th", { scope: "col", class: "m-check" }, ui.canWrite && h("input", {
      type: "checkbox", "aria-label": "Select every image on this page", checked: allSelected,
      disabled: selectable.length === 0, onchange: (e) => ui.selectAll(selectable, e.target.checked),
    })),
    h("th", { scope: "col", class: "m-preview" }, h("span", { class: "sr-only" }, "Preview")),
    sortHeader("Name", "title", state, ui),
    sortHeader("Created", "createdTime", state, ui, "m-created"),
    h("th", { scope: "col", class: "m-resolution" }, "Resolution"),
    h("th", { scope: "col", class: "m-size" }, "Size"),
    showSystem && h("th", { scope: "col", class: "m-system" }, "System"),
    h("th", { scope: "col", class: "m-actions" }, h("span", { class: "sr-only" }, "Actions")));
  const rows = page.data.map((image) => {
    const id = imageId(image);
    const selected = ui.selected.has(id);
    const checkbox = ui.canWrite && h("input", {
      type: "checkbox", "aria-label": `Select ${image.title}`, checked: selected, disabled: ui.readOnly(image),
      onchange: (e) => ui.select(image, e.target.checked),
    });
    return h("tr", { class: selected ? "selected" : null, "aria-selected": ui.canWrite ? String(selected) : null, dataset: { key: id } },
      h("td", { class: "m-check" }, checkbox),
      h("td", { class: "m-preview" }, preview(image, ui)),
      h("td", { class: "m-name" }, h("span", { class: "m-title" }, image.title), texts(image, ui)),
      h("td", { class: "m-created" }, h("time", { datetime: new Date(image.createdTime).toISOString() }, formatDate(image.createdTime))),
      h("td", { class: "m-resolution" }, resolution(image)),
      h("td", { class: "m-size" }, formatSize(image.descriptor?.size ?? 0)),
      showSystem && h("td", { class: "m-system" }, isSystem(image) ? h("span", { class: "badge" }, "System") : ""),
      h("td", { class: "m-actions" }, h("div", { class: "m-row-actions" }, actions(image, ui))));
  });
  return h("table", { class: "m-table m-images" },
    h("caption", { class: "sr-only" }, "Images"),
    h("thead", {}, head),
    h("tbody", {}, rows));
}

/** @param {Page} page @param {Ui} ui */
export function grid(page, ui) {
  return h("ul", { class: "m-grid", "aria-label": "Images" }, page.data.map((image) => {
    const readOnly = ui.readOnly(image);
    return h("li", { class: "m-card", dataset: { key: imageId(image) } },
      h("div", { class: "m-card-preview" }, preview(image, ui, "m-card-img"),
        isSystem(image) && !ui.sysadmin && h("span", { class: "badge" }, "System")),
      h("div", { class: "m-card-body" },
        h("span", { class: "m-card-name" }, image.title),
        h("span", { class: "m-card-meta" }, summary(image)),
        texts(image, ui)),
      h("div", { class: "m-card-actions" },
        actions(image, ui, { withEdit: false }),
        // Named with the image (the visible words first, as a voice user says them): one card of many.
        h("button", { type: "button", class: "m-card-edit", onclick: () => ui.edit(image),
          "aria-label": readOnly ? `Image details: ${image.title} (read-only)` : `Edit image: ${image.title}` },
        icon(readOnly ? "details" : "edit"), readOnly ? "Image details" : "Edit image")));
  }));
}

/** @param {Page} page @param {State} state @param {Ui} ui */
export function pager(page, state, ui) {
  const total = page.totalElements;
  const pages = Math.max(1, page.totalPages);
  const first = total === 0 ? 0 : state.page * state.pageSize + 1;
  const last = Math.min(total, (state.page + 1) * state.pageSize);
  /** @param {number} n */
  const go = (n) => () => ui.goTo(n);
  return [
    h("label", { class: "m-page-size" }, "Items per page ",
      h("select", { onchange: (e) => ui.pageSize(Number(e.target.value)) },
        PAGE_SIZES.map((n) => h("option", { value: n, selected: n === state.pageSize }, String(n))))),
    h("span", { class: "m-range" }, `${first} – ${last} of ${total}`),
    iconButton("first", "First page", go(0), { disabled: state.page === 0 }),
    iconButton("prev", "Previous page", go(state.page - 1), { disabled: state.page === 0 }),
    iconButton("next", "Next page", go(state.page + 1), { disabled: state.page >= pages - 1 }),
    iconButton("last", "Last page", go(pages - 1), { disabled: state.page >= pages - 1 }),
  ];
}
