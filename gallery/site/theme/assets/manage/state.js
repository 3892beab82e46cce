// What the page shows lives in its URL (ThingsBoard's query parameter names), so a link or a reload restores it.
// The view is always written; other values only when they differ from
// the defaults. Without a view in the URL, the one last chosen is shown.

export const PAGE_SIZES = [10, 20, 30];
const VIEW_KEY = "gallery.view"; // shared with the static index, which offers the same two views
const DEFAULTS = { view: "list", page: 0, pageSize: 10, property: "createdTime", direction: "desc", textSearch: "", system: false };

export function readState(search = location.search) {
  const params = new URLSearchParams(search);
  const number = (name, fallback, ok) => {
    const value = Number(params.get(name));
    return params.has(name) && Number.isInteger(value) && ok(value) ? value : fallback;
  };
  const saved = localStorage.getItem(VIEW_KEY);
  const view = params.get("view") ?? saved;
  return {
    view: view === "grid" || view === "list" ? view : DEFAULTS.view,
    page: number("page", DEFAULTS.page, (v) => v >= 0),
    pageSize: number("pageSize", DEFAULTS.pageSize, (v) => PAGE_SIZES.includes(v)),
    property: params.get("property") === "title" ? "title" : DEFAULTS.property,
    direction: params.get("direction")?.toLowerCase() === "asc" ? "asc" : "desc",
    textSearch: params.get("textSearch") ?? "",
    system: params.get("includeSystemImages") === "true",
  };
}

export function writeState(state, { push = false } = {}) {
  const params = new URLSearchParams();
  params.set("view", state.view);
  if (state.page) params.set("page", state.page);
  if (state.pageSize !== DEFAULTS.pageSize) params.set("pageSize", state.pageSize);
  if (state.property !== DEFAULTS.property) params.set("property", state.property);
  if (state.direction !== DEFAULTS.direction) params.set("direction", state.direction);
  if (state.textSearch) params.set("textSearch", state.textSearch);
  if (state.system) params.set("includeSystemImages", "true");
  const query = params.toString();
  const url = `${location.pathname}${query ? `?${query}` : ""}`;
  if (url !== `${location.pathname}${location.search}`) history[push ? "pushState" : "replaceState"](null, "", url);
}

export const rememberView = (view) => localStorage.setItem(VIEW_KEY, view);
