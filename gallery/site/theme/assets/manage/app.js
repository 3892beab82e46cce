// @ts-check
// The management page: sign in, then list, search, upload, import, embed, edit and delete images through the API.
// Modules, no build step. Everything the page shows is rebuilt from `state` (kept in the URL) and one API page.

import "../gallery-img.js";
import { debounce, saveFile } from "../lib/util.js";
import { Api, ApiError } from "./api.js";
import { h, icon } from "./dom.js";
import { bulkTagDialog, confirm, editDialog, embedDialog, importDialog, inUseList, referenceList, uploadDialog } from "./dialogs.js";
import { formatSize, imageId, imagePath, isSystem, plainError } from "./format.js";
import { readState, rememberView, writeState } from "./state.js";
import { showSection } from "./admin.js";
import { grid, pager, table } from "./views.js";

/** @typedef {import("../lib/types.js").Image} Image */
/** @typedef {import("../lib/types.js").Page} Page */
/** @typedef {import("./views.js").Ui} Ui */
/** @typedef {import("./state.js").State} State */
/** @typedef {{email: string, authority: string}} User */

const found = document.getElementById("manage");
if (!found) throw new Error("The management page has no #manage element");
const root = found;

/**
 * The page's element for `selector`, of the type the code needs (an HTMLElement unless said otherwise).
 * @template {HTMLElement} [E=HTMLElement]
 * @param {string} selector
 * @param {new () => E} [type]
 * @returns {E}
 */
function $(selector, type) {
  const element = root.querySelector(selector);
  if (!(element instanceof (type ?? HTMLElement))) throw new Error(`The management page has no ${selector}`);
  return /** @type {E} */ (element);
}

/** @param {string} selector */
const all = (selector) => [...root.querySelectorAll(selector)].filter((e) => e instanceof HTMLElement);

const api = new Api(root.dataset.api);
const componentUrl = new URL(`${root.dataset.assets}gallery-img.js`, location.href).href;

let state = readState();
/** @type {User | null} */
let user = null;
/** @type {Page | null} */
let page = null;
/** @type {AbortController | null} */
let loading = null;
/** @type {Map<string, Image>} imageId → image, kept across pages until cleared */
const selected = new Map();

/** @param {string} name */
function screen(name) {
  for (const section of all("[data-screen]")) section.hidden = section.dataset.screen !== name;
}

/** @param {string} message @param {"info" | "error"} [kind] */
function notify(message, kind = "info") {
  if (!message) return;
  const toast = h("div", { class: `m-toast ${kind}`, role: kind === "error" ? "alert" : null }, message,
    h("button", { type: "button", class: "link", "aria-label": "Dismiss", onclick: () => toast.remove() }, "×"));
  $("#m-toasts").append(toast);
  setTimeout(() => toast.remove(), kind === "error" ? 10_000 : 4_000);
}

/** @param {unknown} error */
const failed = (error) => notify(plainError(error), "error");

/** @type {Ui} */
const ui = {
  api,
  selected,
  maxSize: 0,
  apiBase: api.base,
  get sysadmin() { return user?.authority === "SYS_ADMIN"; },
  get canWrite() { return user?.authority === "SYS_ADMIN" || user?.authority === "TENANT_ADMIN"; },
  readOnly: (image) => isSystem(image) && user?.authority !== "SYS_ADMIN",
  embedContext: (image) => ({
    publicUrl: image.public && image.publicLink ? api.url(image.publicLink) : "",
    apiBase: api.base ? api.url("") .replace(/\/$/, "") : "",
    componentUrl,
  }),
  notify,
  changed: () => load({ quiet: true }),
  download: (image) => api.download(imagePath(image)).then((blob) => saveFile(blob, image.fileName || image.resourceKey), failed),
  exportJson: (image) => api.exportJson(imagePath(image)).then(
    (data) => saveFile(new Blob([JSON.stringify(data, null, 2)], { type: "application/json" }), `${image.resourceKey}.json`), failed),
  embed: (image) => embedDialog(ui, image),
  edit: (image, focus) => editDialog(ui, image, { focus }),
  filterTag: (tag) => { if (!state.tags.includes(tag)) update({ tags: [...state.tags, tag], page: 0 }); },
  remove: (image) => removeOne(image),
  sort: (property) => {
    const toggle = state.property === property;
    update({ property, direction: toggle ? (state.direction === "asc" ? "desc" : "asc") : property === "title" ? "asc" : "desc", page: 0 });
  },
  select: (image, on) => { if (on) selected.set(imageId(image), image); else selected.delete(imageId(image)); render(); },
  selectAll: (images, on) => { for (const image of images) ui.select(image, on); },
  goTo: (n) => update({ page: n }),
  pageSize: (n) => update({ pageSize: n, page: 0 }),
};

const typedSearch = () => $("#m-search", HTMLInputElement).value.trim();

/**
 * @param {Partial<State>} changes
 * @param {{push?: boolean}} [options]
 */
function update(changes, { push = true } = {}) {
  // While someone types, the search box is the truth: any other change (a view, a sort, a page) takes what it
  // holds now, before the debounce has passed it on, so nothing writes an older text back.
  if (!("textSearch" in changes) && typedSearch() !== state.textSearch) changes = { ...changes, textSearch: typedSearch(), page: 0 };
  const resets = "textSearch" in changes || "system" in changes || "tags" in changes;
  if (resets) selected.clear();
  state = { ...state, ...changes };
  writeState(state, { push });
  load();
}

async function load({ quiet = false } = {}) {
  const results = $("#m-results");
  loading?.abort();
  const controller = (loading = new AbortController());
  results.setAttribute("aria-busy", "true");
  if (!quiet && !page) results.replaceChildren(h("p", { class: "m-note" }, "Loading images…"));
  try {
    const query = {
      pageSize: state.pageSize, page: state.page, sortProperty: state.property, sortOrder: state.direction.toUpperCase(),
      textSearch: state.textSearch.trim(), includeSystemImages: state.system && !ui.sysadmin ? "true" : undefined,
      tags: state.tags.length ? state.tags.join(",") : undefined,
    };
    const found = await api.list(query, controller.signal);
    if (controller.signal.aborted) return;
    if (found.totalPages > 0 && state.page >= found.totalPages) { update({ page: found.totalPages - 1 }, { push: false }); return; }
    page = found;
  } catch (error) {
    if (error instanceof Error && error.name === "AbortError") return;
    results.replaceChildren(h("p", { class: "m-error", role: "alert" }, plainError(error), " ",
      h("button", { type: "button", onclick: () => load() }, "Try again")));
    $("#m-pager").replaceChildren();
    results.removeAttribute("aria-busy");
    return;
  }
  results.removeAttribute("aria-busy");
  render();
  showTags();
  // After a change (a quiet reload), what the images take has moved too.
  if (quiet && !ui.sysadmin) api.params().then(showUsage, () => {});
}

function render() {
  if (!page) return;
  const results = $("#m-results");
  for (const button of all("[data-view]")) button.setAttribute("aria-pressed", String(button.dataset.view === state.view));
  $("#m-system", HTMLInputElement).checked = state.system;
  const count = selected.size;
  $("#m-selection").hidden = count === 0 || state.view !== "list";
  $("#m-selected").textContent = `${count} image${count === 1 ? "" : "s"} selected`;
  showFilters();
  if (page.data.length === 0) {
    const searching = state.textSearch.trim();
    const filtered = searching || state.tags.length;
    const tagged = state.tags.length ? ` tagged ${state.tags.map((tag) => `“${tag}”`).join(" and ")}` : "";
    results.replaceChildren(h("div", { class: "m-empty" },
      h("p", {}, filtered ? `No images${tagged}${searching ? ` match “${searching}”` : ""}.` : "No images yet."),
      !filtered && ui.canWrite && h("button", { type: "button", class: "primary", onclick: () => upload() }, icon("upload"), "Upload image")));
  } else {
    // Keep focus where it was when the page is redrawn (a checkbox, a sort button) for keyboard users.
    const holder = document.activeElement?.closest?.("[data-key]");
    const focusKey = holder instanceof HTMLElement ? holder.dataset.key : undefined;
    const focusLabel = document.activeElement?.getAttribute?.("aria-label");
    results.replaceChildren(state.view === "list" ? table(page, state, ui) : grid(page, ui));
    const again = focusKey && focusLabel ? results.querySelector(`[data-key="${CSS.escape(focusKey)}"] [aria-label="${CSS.escape(focusLabel)}"]`) : null;
    if (again instanceof HTMLElement) again.focus();
  }
  $("#m-pager").replaceChildren(...pager(page, state, ui));
}

// The tags the list is filtered by, each a chip that takes it off the filter.
function showFilters() {
  const bar = $("#m-filters");
  bar.hidden = state.tags.length === 0;
  $("#m-filter-tags").replaceChildren(...state.tags.map((tag) => h("li", { class: "m-chip" }, h("span", {}, tag),
    h("button", { type: "button", class: "icon-button", "aria-label": `Stop filtering by ${tag}`, title: `Stop filtering by ${tag}`,
      onclick: () => update({ tags: state.tags.filter((t) => t !== tag), page: 0 }) }, icon("close")))));
}

// The tags the list can be filtered by, with how many images carry each, in the toolbar's menu.
async function showTags() {
  const menu = $("#m-tag", HTMLSelectElement);
  const counts = await api.tags(state.system && !ui.sysadmin).catch(() => ({}));
  const choices = Object.entries(counts).filter(([tag]) => !state.tags.includes(tag));
  menu.replaceChildren(h("option", { value: "" }, choices.length ? "Filter by tag…" : "No tags yet"),
    ...choices.map(([tag, n]) => h("option", { value: tag }, `${tag} (${n})`)));
  menu.disabled = choices.length === 0;
}

/** @param {"add" | "remove"} mode */
async function retagSelected(mode) {
  const images = [...selected.values()];
  const tag = await bulkTagDialog(ui, images.length, mode);
  if (!tag) return;
  const targets = images.map((image) => ({ type: isSystem(image) ? "system" : "tenant", key: image.resourceKey }));
  try {
    const result = await api.bulkTags(targets, mode === "add" ? [tag] : [], mode === "remove" ? [tag] : []);
    const n = result.updated;
    notify(`${mode === "add" ? "Tagged" : "Untagged"} ${n} image${n === 1 ? "" : "s"} “${tag}”`);
    const refused = result.results.filter((r) => !r.success);
    const titles = new Map(images.map((image) => [imageId(image), image.title]));
    if (refused.length) {
      notify(`${refused.length} could not be changed: ${refused.map((r) => `${titles.get(`${r.type}/${r.key}`) ?? r.key} (${r.error?.message ?? "refused"})`).join(", ")}`, "error");
    }
  } catch (error) {
    failed(error);
  }
  load({ quiet: true });
}

/** @param {File[]} [files] dropped on the page or pasted: the dialog starts with them */
async function upload(files = []) {
  const images = await uploadDialog(ui, { files });
  if (images.length) {
    notify(images.length === 1 ? `Uploaded “${images[0].title}”` : `Uploaded ${images.length} images`);
    load({ quiet: true });
  }
}

/** @param {Image} image */
async function removeOne(image) {
  if (!(await confirm("Delete image", `Are you sure you want to delete image “${image.title}”?`))) return;
  try {
    await api.delete(imagePath(image));
  } catch (error) {
    if (!(error instanceof ApiError) || error.status !== 400 || !error.body?.references) return failed(error);
    const force = await confirm("Image is used by other entities", `“${image.title}” is used by:`,
      { action: "Delete anyway", details: referenceList(error.body.references) });
    if (!force) return;
    try { await api.delete(imagePath(image), true); } catch (again) { return failed(again); }
  }
  selected.delete(imageId(image));
  notify(`Deleted “${image.title}”`);
  load({ quiet: true });
}

async function removeSelected() {
  const images = [...selected.values()];
  const n = images.length;
  if (!(await confirm("Delete images", `Are you sure you want to delete ${n} image${n === 1 ? "" : "s"}?`))) return;
  /** @param {Image[]} list */
  const targets = (list) => list.map((image) => ({ type: isSystem(image) ? "system" : "tenant", key: image.resourceKey }));
  const byId = new Map(images.map((image) => [imageId(image), image]));
  try {
    let result = await api.bulkDelete(targets(images));
    let deleted = result.deleted;
    /** @param {{type: string, key: string}} r */
    const outcome = (r) => byId.get(`${r.type}/${r.key}`);
    /** @param {{type: string, key: string, success: boolean}[]} results */
    const unselectDeleted = (results) => { for (const r of results) if (r.success) selected.delete(`${r.type}/${r.key}`); };
    /** @type {{type: string, key: string, references: any}[]} */
    const inUse = result.results.filter((r) => !r.success && r.references);
    if (inUse.length) {
      // What is gone already leaves the list and the selection while the rest is asked about.
      unselectDeleted(result.results);
      load({ quiet: true });
      const details = inUseList(inUse.map((r) => ({ title: outcome(r)?.title ?? r.key, references: r.references })));
      if (await confirm("Images are used by other entities", `${inUse.length} of them ${inUse.length === 1 ? "is" : "are"} used by other entities:`, { action: "Delete anyway", details })) {
        const forced = await api.bulkDelete(inUse.map(({ type, key }) => ({ type, key })), true);
        deleted += forced.deleted;
        result = { results: [...result.results.filter((r) => r.success || !r.references), ...forced.results] };
      }
    }
    unselectDeleted(result.results);
    const refused = result.results.filter((r) => !r.success && !r.references);
    notify(`Deleted ${deleted} image${deleted === 1 ? "" : "s"}`);
    if (refused.length) notify(`${refused.length} could not be deleted: ${refused.map((r) => outcome(r)?.title ?? r.key).join(", ")}`, "error");
  } catch (error) {
    failed(error);
  }
  load({ quiet: true });
}

async function start() {
  try {
    user = await api.user();
  } catch (error) {
    if ((error instanceof ApiError && error.status === 401) || !api.signedIn) return signIn(api.signedIn ? plainError(error) : "");
    screen("login");
    return failed(error);
  }
  for (const slot of all("[data-user]")) slot.textContent = user?.email ?? "";
  if (!ui.canWrite) return screen("denied");
  root.dataset.role = user?.authority;
  $("[data-system-toggle]").hidden = ui.sysadmin;
  const params = await api.params().catch(() => ({}));
  ui.maxSize = params.maxResourceSize ?? 0;
  showUsage(params);
  $("#m-tabs").hidden = !ui.sysadmin;
  section("images");
  screen("app");
  page = null;
  showState();
  load();
}

/** The images section, or one of the system administrator's (tenants, profiles, users). @param {string} name */
function section(name) {
  for (const tab of all("[data-section]")) {
    if (tab.dataset.section === name) tab.setAttribute("aria-current", "page"); else tab.removeAttribute("aria-current");
  }
  $("[data-images-section]").hidden = name !== "images";
  const admin = $("#m-admin");
  admin.hidden = name === "images";
  $("#app-title").textContent = name === "images" ? "Images" : "Administration";
  if (name !== "images") showSection({ api, notify, me: () => user?.email ?? "" }, name, admin);
}

// A tenant administrator sees what their images take against their limit, in the header beside their name.
/** @param {{resourcesInBytes?: number, maxResourcesInBytes?: number}} params */
function showUsage(params) {
  const usage = $("#m-usage");
  usage.hidden = ui.sysadmin || params.resourcesInBytes === undefined;
  const used = formatSize(params.resourcesInBytes ?? 0);
  const total = params.maxResourcesInBytes ?? 0;
  usage.textContent = total > 0 ? `${used} used of ${formatSize(total)}` : `${used} used (no total limit)`;
  usage.classList.toggle("full", total > 0 && (params.resourcesInBytes ?? 0) >= total * 0.9);
}

// Controls that state read from the URL (a link, a reload, Back) sets; a redraw leaves them as the person left them.
function showState() {
  $("#m-search", HTMLInputElement).value = state.textSearch;
}

/** @param {string} [message] */
function signIn(message = "") {
  user = null;
  page = null;
  selected.clear();
  $("#login-error").textContent = message;
  screen("login");
  $("#login-user").focus();
  showDemoLogins();
}

// Logins whose passwords are published (a demo): named, so nobody keeps real images behind them.
async function showDemoLogins() {
  const box = $("#login-demo");
  const { demoLogins = [] } = await api.signInParams().catch(() => ({}));
  box.hidden = demoLogins.length === 0;
  box.replaceChildren(
    h("p", {}, h("strong", {}, "This is a demo gallery. "),
      "Anyone can sign in with these logins: their passwords are published. Change them before you keep anything here."),
    h("ul", {}, demoLogins.map((login) => h("li", {}, h("code", {}, login.email), " / ", h("code", {}, login.password)))));
}

function wire() {
  for (const button of all("button[data-icon]")) button.prepend(icon(button.dataset.icon ?? ""));
  const form = $("#login-form", HTMLFormElement);
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const submit = $("#login-form button[type=submit]", HTMLButtonElement);
    const password = $("#login-password", HTMLInputElement);
    submit.disabled = true;
    $("#login-error").textContent = "";
    try {
      await api.login($("#login-user", HTMLInputElement).value.trim(), password.value);
      password.value = "";
      await start();
    } catch (error) {
      $("#login-error").textContent = plainError(error);
    }
    submit.disabled = false;
  });
  for (const button of all("[data-action=logout]")) {
    button.addEventListener("click", async () => { await api.logout(); signIn("You have signed out."); });
  }
  api.onSignedOut = () => signIn("Your session has ended. Please sign in again.");
  for (const button of all("[data-view]")) {
    const view = button.dataset.view === "grid" ? "grid" : "list";
    button.addEventListener("click", () => { rememberView(view); update({ view }); });
  }
  $("#m-search").addEventListener("input", debounce(() => {
    if (typedSearch() !== state.textSearch) update({ textSearch: typedSearch(), page: 0 }, { push: false });
  }, 150));
  const system = $("#m-system", HTMLInputElement);
  system.addEventListener("change", () => update({ system: system.checked, page: 0 }));
  $("#m-refresh").addEventListener("click", () => load());
  for (const tab of all("[data-section]")) tab.addEventListener("click", () => section(tab.dataset.section ?? "images"));
  $("#m-upload").addEventListener("click", () => upload());
  $("#m-import").addEventListener("click", async () => {
    const images = await importDialog(ui);
    if (images.length) { notify(`Imported ${images.length} image${images.length === 1 ? "" : "s"}`); load({ quiet: true }); }
  });
  $("#m-bulk-delete").addEventListener("click", removeSelected);
  $("#m-bulk-tag").addEventListener("click", () => retagSelected("add"));
  $("#m-bulk-untag").addEventListener("click", () => retagSelected("remove"));
  const tagMenu = $("#m-tag", HTMLSelectElement);
  tagMenu.addEventListener("change", () => { if (tagMenu.value) ui.filterTag(tagMenu.value); });
  $("#m-clear").addEventListener("click", () => { selected.clear(); render(); });
  window.addEventListener("popstate", () => { state = readState(); showState(); if (user) load(); });
  wireDrops();
  document.addEventListener("paste", pasted);
  keepRoomForToasts();
}

// Files from the desktop or the clipboard go to the upload dialog: for those who may upload, on the images, and not
// while a dialog is open (the upload dialog has its own drop zone).
const takesFiles = () => ui.canWrite && !$("[data-screen=app]").hidden && !$("[data-images-section]").hidden &&
  !document.querySelector("dialog[open]");

/** @param {DragEvent} event */
const carriesFiles = (event) => event.dataTransfer?.types.includes("Files") ?? false;

function wireDrops() {
  const section = $("[data-images-section]");
  const hint = $("#m-drop-hint");
  let depth = 0; // dragenter and dragleave pair up for every element crossed: the drag has left when they balance
  section.addEventListener("dragenter", (event) => {
    if (!carriesFiles(event) || !takesFiles()) return;
    depth += 1;
    hint.hidden = false;
  });
  section.addEventListener("dragover", (event) => {
    if (!carriesFiles(event) || !takesFiles()) return;
    event.preventDefault(); // which makes the section a drop target
    if (event.dataTransfer) event.dataTransfer.dropEffect = "copy";
  });
  section.addEventListener("dragleave", () => {
    depth = Math.max(0, depth - 1);
    if (depth === 0) hint.hidden = true;
  });
  section.addEventListener("drop", (event) => {
    depth = 0;
    hint.hidden = true;
    if (!carriesFiles(event) || !takesFiles()) return;
    event.preventDefault();
    const files = [...(event.dataTransfer?.files ?? [])];
    if (files.length) upload(files);
  });
  // Files dropped anywhere else would be opened by the browser in place of the page: refused there instead.
  document.addEventListener("dragover", (event) => {
    if (!carriesFiles(event) || event.defaultPrevented) return;
    event.preventDefault();
    if (event.dataTransfer) event.dataTransfer.dropEffect = "none";
  });
  document.addEventListener("drop", (event) => { if (carriesFiles(event)) event.preventDefault(); });
}

// A pasted image (a screenshot arrives as "image.png") is uploaded like a dropped one; a paste into a text field
// stays that field's.
/** @param {ClipboardEvent} event */
function pasted(event) {
  const focused = document.activeElement;
  const typing = focused instanceof HTMLElement &&
    focused.matches("input:not([type=checkbox]):not([type=radio]), textarea, select, [contenteditable]:not([contenteditable=false])");
  if (typing || !takesFiles()) return;
  const files = [...(event.clipboardData?.files ?? [])];
  if (!files.length) return;
  event.preventDefault();
  upload(files);
}

// Where toasts cannot sit beside the pager (narrower screens) they would cover it at the page's foot: the page keeps
// room under its content as tall as they reach (manage.css pads by --m-toasts-space there), so the pager scrolls clear.
function keepRoomForToasts() {
  const toasts = $("#m-toasts");
  new ResizeObserver(() => {
    const reach = toasts.childElementCount ? innerHeight - toasts.getBoundingClientRect().top : 0;
    root.style.setProperty("--m-toasts-space", `${Math.ceil(reach)}px`);
  }).observe(toasts);
}

wire();
if (api.signedIn) start(); else signIn();
