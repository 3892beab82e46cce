// @ts-check
// What the gallery's pages keep in the browser, under one set of names, and how a page says the token changed.

export const TOKEN_KEY = "gallery.token"; // the access token: the management page writes it, <gallery-img> reads it
export const REFRESH_KEY = "gallery.refreshToken";
export const VIEW_KEY = "gallery.view"; // grid or list: shared by the static index and the management page
export const TOKEN_EVENT = "gallery-token"; // on window, detail: the new token or null

/** @type {string | null | undefined} a token a page announced, over what localStorage holds */
let announced;

/** The access token to send: the one last announced, or the stored one. */
export function currentToken() {
  return announced !== undefined ? announced : localStorage.getItem(TOKEN_KEY);
}

/**
 * Say that the token changed (signed in, refreshed, signed out). The management page also stores it; a page with
 * its own sign-in only announces it. Every <gallery-img> on the page hears it.
 * @param {string | null} token
 * @param {{store?: boolean}} [options]
 */
export function announceToken(token, { store = false } = {}) {
  if (store) {
    if (token) localStorage.setItem(TOKEN_KEY, token); else localStorage.removeItem(TOKEN_KEY);
  } else {
    announced = token;
  }
  window.dispatchEvent(new CustomEvent(TOKEN_EVENT, { detail: token }));
}
