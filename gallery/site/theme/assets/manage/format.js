// @ts-check
// How images and errors are put into words for the management page.

import { formatSize } from "../lib/format.js";

/** @typedef {import("../lib/types.js").Image} Image */

export { formatSize };
export { attribute, imageId, imagePath, imageType, isSystem, pathSegment, snippets } from "../lib/embed.js";

/** @param {number} n */
const pad = (n) => String(n).padStart(2, "0");

/**
 * ThingsBoard's list shows `yyyy-MM-dd HH:mm:ss` in the viewer's time zone.
 * @param {number} ms
 */
export function formatDate(ms) {
  const d = new Date(ms);
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`;
}

/** @param {Image} image */
export const resolution = (image) => `${image.descriptor?.width ?? 0}×${image.descriptor?.height ?? 0}`;
/** @param {Image} image */
export const summary = (image) => `${resolution(image)} | ${formatSize(image.descriptor?.size ?? 0)}`;

// API failures in plain words. The server's own message is kept where it already says what went wrong.
/**
 * @param {any} error an ApiError, a network failure or an abort
 * @returns {string}
 */
export function plainError(error) {
  if (error?.name === "AbortError") return "";
  if (!("status" in (error ?? {}))) return "The gallery could not be reached. Check your connection and try again.";
  switch (error.status) {
    case 401: return error.login ? error.message : "Your session has ended. Please sign in again.";
    case 403: return "You are not allowed to do that.";
    case 404: return "That image no longer exists: someone may have deleted it. Refresh to see the current list.";
    case 409: return error.message || "Someone else changed this image at the same moment. Refresh and try again.";
    case 413: return "The file is larger than the server accepts.";
    case 429: return error.message || "Too many requests at once. Wait a moment and try again.";
    default:
      if (error.status >= 500) return "The gallery ran into a problem on its side. Try again in a moment.";
      return error.message || `The request was refused (HTTP ${error.status}).`;
  }
}
