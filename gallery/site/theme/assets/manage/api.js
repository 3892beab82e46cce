// @ts-check
// The gallery API as the management page uses it: the ThingsBoard paths, a token that refreshes itself, uploads
// with progress, and large files sent straight to storage through a presigned form.

import { REFRESH_KEY, TOKEN_KEY, announceToken } from "../lib/keys.js";
import { readPair, writePair } from "./tokens.js";

/** @typedef {import("../lib/types.js").Image} Image */
/** @typedef {import("../lib/types.js").Page} Page */
/** @typedef {import("./tokens.js").TokenPair} TokenPair */
/**
 * @typedef {object} SendOptions
 * @property {unknown} [json] a body to send as JSON
 * @property {BodyInit} [body] a body to send as it is
 * @property {Record<string, unknown>} [query]
 * @property {"json" | "blob"} [as]
 * @property {AbortSignal} [signal]
 */
const REFRESH_LOCK = "gallery-token-refresh";
const EARLY_SECONDS = 30; // refresh a token this close to its expiry rather than send it and be refused
// Above this a file goes to storage directly: a Lambda request carries at most 6 MB, and less once base64-encoded.
export const DIRECT_UPLOAD_LIMIT = 4 * 1024 * 1024;

export class ApiError extends Error {
  /** @type {boolean | undefined} set on a refused sign-in: its message is the server's own */
  login;

  /**
   * @param {number} status
   * @param {any} body
   * @param {string} fallback
   */
  constructor(status, body, fallback) {
    super((body && typeof body === "object" ? body.message : typeof body === "string" ? body : "") || fallback);
    this.name = "ApiError";
    this.status = status;
    this.errorCode = body?.errorCode;
    this.body = body;
  }
}

/** @param {string} token */
const expiry = (token) => {
  try {
    return JSON.parse(atob(token.split(".")[1].replace(/-/g, "+").replace(/_/g, "/"))).exp ?? 0;
  } catch {
    return 0;
  }
};

/** A token with more than EARLY_SECONDS left. @param {string} token */
const fresh = (token) => expiry(token) - Date.now() / 1000 > EARLY_SECONDS;

/**
 * One refresh or sign-in at a time across all tabs (Web Locks, where the browser has them).
 * @template T @param {() => Promise<T>} work @returns {Promise<T>}
 */
const exclusively = (work) =>
  navigator.locks ? /** @type {Promise<T>} */ (navigator.locks.request(REFRESH_LOCK, work)) : work();

/** @param {Response} response */
async function readBody(response) {
  const text = await response.text();
  if (!text) return null;
  try { return JSON.parse(text); } catch { return /<Message>([^<]*)</.exec(text)?.[1] ?? text.slice(0, 200); }
}

export class Api {
  /** @type {Promise<string | null> | null} */
  #refreshing = null;

  constructor(base = "") {
    this.base = base.replace(/\/+$/, "");
    /** @type {(error: ApiError) => void} */
    this.onSignedOut = () => {};
  }

  /** @param {string} path */
  url(path) { return new URL(this.base + path, location.href).href; }

  get signedIn() { return Boolean(localStorage.getItem(REFRESH_KEY)); }

  /** @param {string} username @param {string} password */
  async login(username, password) {
    try {
      const pair = await this.#send("POST", "/api/auth/login", { json: { username, password } }, null);
      await exclusively(() => this.#store(pair));
    } catch (error) {
      if (error instanceof ApiError && error.status === 401) error.login = true;
      throw error;
    }
  }

  async logout() {
    const token = localStorage.getItem(TOKEN_KEY);
    this.forget();
    if (token) await this.#send("POST", "/api/auth/logout", {}, token).catch(() => {});
  }

  forget() {
    localStorage.removeItem(REFRESH_KEY);
    announceToken(null, { store: true });
    writePair(null).catch(() => {});
  }

  // This tab's copy now, the shared one before the lock is let go.
  /** @param {TokenPair} pair */
  async #store(pair) {
    this.#keep(pair);
    await writePair(pair).catch(() => {});
  }

  /** @param {TokenPair} pair */
  #keep(pair) {
    localStorage.setItem(REFRESH_KEY, pair.refreshToken);
    announceToken(pair.token, { store: true });
  }

  // A token good for at least a little while: refreshed first when it is about to expire (one refresh at a time).
  /** @returns {Promise<string | null>} */
  async token({ force = false } = {}) {
    const token = localStorage.getItem(TOKEN_KEY);
    if (!force && token && fresh(token)) return token;
    this.#refreshing ??= this.#refresh(token).finally(() => { this.#refreshing = null; });
    return this.#refreshing;
  }

  // Tabs share the tokens, and a refresh token works once (the server ends every session when one comes back).
  // So one refresh at a time across all tabs, and a tab that waited takes the pair the other one stored rather
  // than spend the same refresh token again: read from the shared store, as localStorage may not have it yet.
  /** @param {string | null} stale the token this tab found wanting @returns {Promise<string | null>} */
  async #refresh(stale) {
    return exclusively(async () => {
      const shared = await readPair().catch(() => null);
      const current = shared?.token ?? localStorage.getItem(TOKEN_KEY);
      if (current && current !== stale && fresh(current)) {
        if (shared) this.#keep(shared);
        return current;
      }
      const refreshToken = shared?.refreshToken ?? localStorage.getItem(REFRESH_KEY);
      try {
        if (!refreshToken) throw new ApiError(401, null, "Not signed in");
        const pair = await this.#send("POST", "/api/auth/token", { json: { refreshToken } }, null);
        await this.#store(pair);
        return pair.token;
      } catch (error) {
        if (error instanceof ApiError && error.status === 401) {
          this.forget();
          this.onSignedOut(error);
        }
        throw error;
      }
    });
  }

  /**
   * @param {string} method
   * @param {string} path
   * @param {SendOptions} options
   * @param {string | null} token
   * @returns {Promise<any>}
   */
  async #send(method, path, { json, body, query, as = "json", signal } = {}, token) {
    const url = new URL(this.url(path));
    for (const [name, value] of Object.entries(query ?? {})) {
      if (value !== undefined && value !== null && value !== "") url.searchParams.set(name, String(value));
    }
    /** @type {Record<string, string>} */
    const headers = {};
    if (token) headers["X-Authorization"] = `Bearer ${token}`;
    if (json !== undefined) headers["Content-Type"] = "application/json";
    const response = await fetch(url, { method, headers, body: json !== undefined ? JSON.stringify(json) : body, signal });
    if (!response.ok) throw new ApiError(response.status, await readBody(response), `HTTP ${response.status}`);
    if (as === "blob") return response.blob();
    return readBody(response);
  }

  // An authenticated call; a token the server calls expired is refreshed once and the call repeated.
  /**
   * @param {string} method
   * @param {string} path
   * @param {SendOptions} [options]
   * @returns {Promise<any>}
   */
  async request(method, path, options = {}) {
    try {
      return await this.#send(method, path, options, await this.token());
    } catch (error) {
      if (!(error instanceof ApiError && error.status === 401 && error.errorCode === 11)) throw error;
      return this.#send(method, path, options, await this.token({ force: true }));
    }
  }

  // --- images ------------------------------------------------------------------------------------------------
  signInParams() { return this.#send("GET", "/api/noauth/signInParams", {}, null); }
  user() { return this.request("GET", "/api/auth/user"); }
  params() { return this.request("GET", "/api/system/params"); }
  /** @param {Record<string, unknown>} query @param {AbortSignal} signal @returns {Promise<Page>} */
  list(query, signal) { return this.request("GET", "/api/images", { query, signal }); }
  /** @param {string} path @returns {Promise<Blob>} */
  download(path) { return this.request("GET", path, { as: "blob" }); }
  /** @param {string} path */
  exportJson(path) { return this.request("GET", `${path}/export`); }
  /** @param {unknown} data @returns {Promise<Image>} */
  importJson(data) { return this.request("PUT", "/api/image/import", { json: data }); }
  /**
   * Change what is said of an image: the fields given (title, altText, description, tags); the rest stay.
   * @param {string} path @param {{title?: string, altText?: string, description?: string, tags?: string[]}} fields
   * @returns {Promise<Image>}
   */
  updateInfo(path, fields) { return this.request("PUT", `${path}/info`, { json: fields }); }
  /** @param {boolean} includeSystemImages @returns {Promise<Record<string, number>>} each tag and how many carry it */
  tags(includeSystemImages) { return this.request("GET", "/api/images/tags", { query: { includeSystemImages } }); }
  /** @param {string} path @param {boolean} isPublic @returns {Promise<Image>} */
  setPublic(path, isPublic) { return this.request("PUT", `${path}/public/${isPublic}`); }
  /** @param {string} path */
  delete(path, force = false) { return this.request("DELETE", path, { query: { force } }); }
  /** @param {{type: string, key: string}[]} images */
  bulkDelete(images, force = false) { return this.request("POST", "/api/images/bulkDelete", { json: { images, force } }); }
  /** @param {{type: string, key: string}[]} images @param {string[]} add @param {string[]} remove */
  bulkTags(images, add, remove) { return this.request("POST", "/api/images/bulkTags", { json: { images, add, remove } }); }

  // --- administration (system administrator) ------------------------------------------------------------------
  /** @param {string} what "tenants", "tenantProfiles" or "users" @returns {Promise<any[]>} every entry, page by page */
  async everyOne(what) {
    const found = [];
    for (let page = 0; ; page++) {
      const result = await this.request("GET", `/api/${what}`, { query: { pageSize: 100, page } });
      found.push(...result.data);
      if (!result.hasNext) return found;
    }
  }
  /** @param {any} body */
  saveTenant(body) { return this.request("POST", "/api/tenant", { json: body }); }
  /** @param {string} id */
  deleteTenant(id) { return this.request("DELETE", `/api/tenant/${encodeURIComponent(id)}`); }
  /** @param {any} body */
  saveProfile(body) { return this.request("POST", "/api/tenantProfile", { json: body }); }
  /** @param {string} id */
  deleteProfile(id) { return this.request("DELETE", `/api/tenantProfile/${encodeURIComponent(id)}`); }
  /** @param {any} body */
  createUser(body) { return this.request("POST", "/api/user", { json: body }); }
  /** @param {string} id @param {boolean} enabled */
  setEnabled(id, enabled) {
    return this.request("POST", `/api/user/${encodeURIComponent(id)}/userCredentialsEnabled`, { query: { userCredentialsEnabled: enabled } });
  }
  /** @param {string} id @param {string} password */
  setPassword(id, password) { return this.request("POST", `/api/user/${encodeURIComponent(id)}/password`, { json: { password } }); }
  /** @param {string} id */
  deleteUser(id) { return this.request("DELETE", `/api/user/${encodeURIComponent(id)}`); }

  // A new image (`target` null) or new bytes for `target` (a path): straight to the API when small, through a
  // presigned form when large. `progress(fraction)` follows the bytes.
  /**
   * @param {File} file
   * @param {{title?: string, target?: string | null, progress?: (fraction: number) => void}} [options]
   * @returns {Promise<Image>}
   */
  async upload(file, { title, target = null, progress = () => {} } = {}) {
    if (file.size <= DIRECT_UPLOAD_LIMIT) {
      const form = new FormData();
      form.append("file", file, file.name);
      if (!target && title) form.append("title", title);
      return this.#xhr(target ? "PUT" : "POST", this.url(target ?? "/api/image"), form, progress, true);
    }
    const staged = await this.request("POST", "/api/image/uploads", { json: { fileName: file.name, size: file.size } });
    const form = new FormData();
    for (const [name, value] of Object.entries(staged.fields)) form.append(name, value);
    form.append(staged.fileField ?? "file", file, file.name);
    // S3's form URL is absolute; the local backend's is a path of the API's (relative to it, wherever it is).
    await this.#xhr("POST", new URL(staged.url, this.url("/")).href, form, progress, false);
    const id = encodeURIComponent(staged.uploadId);
    if (target) return this.request("PUT", `${target}/uploads/${id}`);
    return this.request("POST", `/api/image/uploads/${id}`, { json: title ? { title } : {} });
  }

  // XMLHttpRequest because fetch cannot report upload progress.
  /**
   * @param {string} method
   * @param {string} url
   * @param {FormData} form
   * @param {(fraction: number) => void} progress
   * @param {boolean} authenticated
   * @returns {Promise<any>}
   */
  async #xhr(method, url, form, progress, authenticated) {
    const token = authenticated ? await this.token() : null;
    return new Promise((resolve, reject) => {
      const xhr = new XMLHttpRequest();
      xhr.open(method, url);
      if (token) xhr.setRequestHeader("X-Authorization", `Bearer ${token}`);
      xhr.upload.onprogress = (event) => { if (event.lengthComputable) progress(event.loaded / event.total); };
      xhr.onerror = () => reject(new TypeError("Network error"));
      xhr.onload = async () => {
        const body = await readBody(new Response(xhr.responseText));
        if (xhr.status >= 200 && xhr.status < 300) { progress(1); resolve(body); }
        else reject(new ApiError(xhr.status, body, `HTTP ${xhr.status}`));
      };
      xhr.send(form);
    });
  }
}
