// @ts-check
// What the page shows lives in its URL (ThingsBoard's query parameter names), so a link or a reload restores it.
// The view is always written; other values only when they differ from the defaults. Without a view in the URL,
// the one last chosen is shown. `parseState` and `stateQuery` are pure (unit-tested in Node); `readState` and
// `writeState` are them applied to the page's location.

import { VIEW_KEY } from "../lib/keys.js";

export const PAGE_SIZES = [10, 20, 30];

/**
 * @typedef {object} State
 * @property {"list" | "grid"} view
 * @property {number} page
 * @property {number} pageSize
 * @property {"createdTime" | "title"} property
 * @property {"asc" | "desc"} direction
 * @property {string} textSearch
 * @property {boolean} system
 * @property {string[]} tags images carrying all of these
 */

/** @type {State} */
export const DEFAULTS = { view: "list", page: 0, pageSize: 10, property: "createdTime", direction: "desc", textSearch: "", system: false, tags: [] };

/**
 * The state a query string describes; `savedView` is the view chosen last, for when the query names none.
 * @param {string} search
 * @param {string | null} savedView
 * @returns {State}
 */
export function parseState(search, savedView) {
  const params = new URLSearchParams(search);
  /** @param {string} name @param {number} fallback @param {(value: number) => boolean} ok */
  const number = (name, fallback, ok) => {
    const value = Number(params.get(name));
    return params.has(name) && Number.isInteger(value) && ok(value) ? value : fallback;
  };
  const view = params.get("view") ?? savedView;
  return {
    view: view === "grid" || view === "list" ? view : DEFAULTS.view,
    page: number("page", DEFAULTS.page, (v) => v >= 0),
    pageSize: number("pageSize", DEFAULTS.pageSize, (v) => PAGE_SIZES.includes(v)),
    property: params.get("property") === "title" ? "title" : DEFAULTS.property,
    direction: params.get("direction")?.toLowerCase() === "asc" ? "asc" : "desc",
    textSearch: params.get("textSearch") ?? "",
    system: params.get("includeSystemImages") === "true",
    tags: [...new Set((params.get("tags") ?? "").split(",").map((tag) => tag.trim()).filter(Boolean))],
  };
}

/**
 * The query string for a state: the view always, everything else only when it is not the default.
 * @param {State} state
 */
export function stateQuery(state) {
  const params = new URLSearchParams();
  params.set("view", state.view);
  if (state.page) params.set("page", String(state.page));
  if (state.pageSize !== DEFAULTS.pageSize) params.set("pageSize", String(state.pageSize));
  if (state.property !== DEFAULTS.property) params.set("property", state.property);
  if (state.direction !== DEFAULTS.direction) params.set("direction", state.direction);
  if (state.textSearch) params.set("textSearch", state.textSearch);
  if (state.system) params.set("includeSystemImages", "true");
  if (state.tags.length) params.set("tags", state.tags.join(","));
  return params.toString();
}

/** The state the page's own URL describes. */
export const readState = () => parseState(location.search, localStorage.getItem(VIEW_KEY));

/**
 * Put the state in the page's URL: a new history entry (`push`) or in place of the current one.
 * @param {State} state
 * @param {{push?: boolean}} [options]
 */
export function writeState(state, { push = false } = {}) {
  const query = stateQuery(state);
  const url = `${location.pathname}${query ? `?${query}` : ""}`;
  if (url !== `${location.pathname}${location.search}`) history[push ? "pushState" : "replaceState"](null, "", url);
}

/** @param {"list" | "grid"} view */
export const rememberView = (view) => localStorage.setItem(VIEW_KEY, view);
