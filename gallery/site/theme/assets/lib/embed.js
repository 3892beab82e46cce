// @ts-check
// `gallery.domain.model.path_segment` and `gallery.domain.embed`, once more, for the management page: a test in Chromium feeds both
// the same keys and titles and compares their output. A key is one path segment with everything but RFC 3986's
// unreserved characters encoded, so it cannot end a path (?, #), an attribute or a string (", ') or a tag (<, >)
// wherever a link is pasted.

/** @typedef {import("./types.js").Image} Image */

/** @param {string} text */
export const pathSegment = (text) =>
  encodeURIComponent(text).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);

/** @param {Image} image */
export const isSystem = (image) => String(image.link ?? "").startsWith("/api/images/system/");
/** @param {Image} image */
export const imageType = (image) => (isSystem(image) ? "system" : "tenant");
/** @param {Image} image */
export const imagePath = (image) => `/api/images/${imageType(image)}/${pathSegment(image.resourceKey)}`;
/** @param {Image} image */
export const imageId = (image) => `${imageType(image)}/${image.resourceKey}`;

/**
 * What a snippet's `alt` says: the alt text, or the title when it has none (`embed.alt_of`).
 * @param {Image} image
 */
export const altOf = (image) => String(image.altText || image.title);

/** @type {Record<string, string>} */
const ATTRIBUTE = { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" };
/** @param {unknown} text */
export const attribute = (text) => String(text).replace(/[&<>"']/g, (c) => ATTRIBUTE[c]);
/** @type {Record<string, string>} */
const MARKDOWN_TEXT = { "\\": "\\\\", "[": "\\[", "]": "\\]", "<": "\\<", ">": "\\>", "\n": " ", "\r": " " };
/** @type {Record<string, string>} */
const MARKDOWN_URL = { " ": "%20", "(": "%28", ")": "%29", "<": "%3C", ">": "%3E" };

/**
 * @typedef {object} Snippet
 * @property {string} id
 * @property {string} name
 * @property {string} code
 */

/**
 * With a public link, HTML and Markdown that need no login; always the <gallery-img> element (it fetches with the
 * visitor's token) and ThingsBoard's Angular template.
 * @param {Image} image
 * @param {{publicUrl: string, apiBase: string, componentUrl: string}} context
 * @returns {Snippet[]}
 */
export function snippets(image, { publicUrl, apiBase, componentUrl }) {
  const alt = attribute(altOf(image));
  const { width, height } = image.descriptor ?? {};
  const size = width && height ? ` width="${Math.trunc(width)}" height="${Math.trunc(height)}"` : "";
  const link = imagePath(image);
  const made = [];
  if (publicUrl) {
    made.push({ id: "html", name: "HTML (public link)", code: `<img src="${attribute(publicUrl)}" alt="${alt}"${size}>` });
    const text = altOf(image).replace(/[\\[\]<>\n\r]/g, (c) => MARKDOWN_TEXT[c]);
    const url = publicUrl.replace(/[ ()<>]/g, (c) => MARKDOWN_URL[c]);
    made.push({ id: "markdown", name: "Markdown (public link)", code: `![${text}](${url})` });
  }
  const base = apiBase ? ` api-base="${attribute(apiBase)}"` : "";
  made.push({
    id: "component",
    name: "HTML for signed-in visitors (web component)",
    code: `<script type="module" src="${attribute(componentUrl)}"></script>\n` +
      `<gallery-img src="${link}"${base} alt="${alt}"${size}></gallery-img>`,
  });
  made.push({ id: "angular", name: "ThingsBoard (Angular template)", code: `<img [src]="'${link}' | image | async" />` });
  return made;
}
