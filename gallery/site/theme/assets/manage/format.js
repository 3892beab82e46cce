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
export const isSystem = (image) => image.link.startsWith("/api/images/system/");
export const imageType = (image) => (isSystem(image) ? "system" : "tenant");
export const imagePath = (image) => `/api/images/${imageType(image)}/${encodeURIComponent(image.resourceKey)}`;
export const imageId = (image) => `${imageType(image)}/${image.resourceKey}`;

// The same escaping ThingsBoard's embed dialog applies to the alt text of its snippet.
const attribute = (text) => String(text).replace(/&/g, "&amp;").replace(/"/g, "&quot;").replace(/</g, "&lt;");

export function snippets(image, { publicUrl, apiBase, componentUrl }) {
  const alt = attribute(image.title);
  const base = apiBase ? ` api-base="${attribute(apiBase)}"` : "";
  const { width, height } = image.descriptor ?? {};
  const size = width && height ? ` width="${width}" height="${height}"` : "";
  const link = imagePath(image); // percent-encoded: a key may hold characters that would end the attribute
  return {
    html: publicUrl ? `<img src="${attribute(publicUrl)}" alt="${alt}" />` : "",
    component:
      `<script type="module" src="${attribute(componentUrl)}"></script>\n` +
      `<gallery-img src="${link}"${base} alt="${alt}"${size}></gallery-img>`,
    angular: `<img [src]="'${link}' | image | async" />`,
  };
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
    case 429: return "Too many requests at once. Wait a moment and try again.";
    default:
      if (error.status >= 500) return "The gallery ran into a problem on its side. Try again in a moment.";
      return error.message || `The request was refused (HTTP ${error.status}).`;
  }
}
