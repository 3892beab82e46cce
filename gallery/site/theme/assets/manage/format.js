// How images and errors are put into words, and the snippets that embed an image elsewhere.

const UNITS = [["GB", 1024 ** 3], ["MB", 1024 ** 2], ["KB", 1024]];

export function formatSize(bytes) {
  for (const [unit, factor] of UNITS) {
    if (bytes >= factor) {
      const value = bytes / factor;
      // Rounded down, so a limit is never overstated: 20,000 bytes is 19.5 KB, not 20.
      return `${value >= 100 ? Math.floor(value) : Math.floor(value * 10) / 10} ${unit}`;
    }
  }
  return `${bytes} B`;
}

const pad = (n) => String(n).padStart(2, "0");

// ThingsBoard's list shows `yyyy-MM-dd HH:mm:ss` in the viewer's time zone.
export function formatDate(ms) {
  const d = new Date(ms);
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`;
}

export const resolution = (image) => `${image.descriptor?.width ?? 0}×${image.descriptor?.height ?? 0}`;
export const summary = (image) => `${resolution(image)} | ${formatSize(image.descriptor?.size ?? 0)}`;
// `gallery.model.path_segment` and `gallery.embed`, once more: a test feeds both the same keys and titles and
// compares their output. A key is one path segment with everything but RFC 3986's unreserved characters encoded,
// so it cannot end a path (?, #), an attribute or a string (", ') or a tag (<, >) wherever a link is pasted.
export const pathSegment = (text) =>
  encodeURIComponent(text).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);

export const isSystem = (image) => String(image.link ?? "").startsWith("/api/images/system/");
export const imageType = (image) => (isSystem(image) ? "system" : "tenant");
export const imagePath = (image) => `/api/images/${imageType(image)}/${pathSegment(image.resourceKey)}`;
export const imageId = (image) => `${imageType(image)}/${image.resourceKey}`;

const ATTRIBUTE = { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" };
export const attribute = (text) => String(text).replace(/[&<>"']/g, (c) => ATTRIBUTE[c]);
const MARKDOWN_TEXT = { "\\": "\\\\", "[": "\\[", "]": "\\]", "\n": " ", "\r": " " };
const MARKDOWN_URL = { " ": "%20", "(": "%28", ")": "%29", "<": "%3C", ">": "%3E" };

// With a public link, HTML and Markdown that need no login; always the <gallery-img> element (it fetches with the
// visitor's token) and ThingsBoard's Angular template. Each is { id, name, code }.
export function snippets(image, { publicUrl, apiBase, componentUrl }) {
  const alt = attribute(image.title);
  const { width, height } = image.descriptor ?? {};
  const size = width && height ? ` width="${Math.trunc(width)}" height="${Math.trunc(height)}"` : "";
  const link = imagePath(image);
  const made = [];
  if (publicUrl) {
    made.push({ id: "html", name: "HTML (public link)", code: `<img src="${attribute(publicUrl)}" alt="${alt}"${size}>` });
    const text = String(image.title).replace(/[\\[\]\n\r]/g, (c) => MARKDOWN_TEXT[c]);
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

// API failures in plain words. The server's own message is kept where it already says what went wrong.
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
