// @ts-check
// Sizes in the words the server uses in its messages (`gallery.domain.errors.display_size`): whole units, rounded down,
// so the hint a page shows and the refusal the server sends name the same limit.

const UNITS = /** @type {const} */ ([["EB", 2 ** 60], ["PB", 2 ** 50], ["TB", 2 ** 40], ["GB", 2 ** 30], ["MB", 2 ** 20], ["KB", 2 ** 10]]);

/** @param {number} bytes */
export function formatSize(bytes) {
  for (const [unit, factor] of UNITS) {
    if (bytes >= factor) return `${Math.floor(bytes / factor)} ${unit}`;
  }
  return `${bytes} bytes`;
}
