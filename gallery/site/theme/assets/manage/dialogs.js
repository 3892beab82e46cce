// @ts-check
// Modal dialogs on the native <dialog>: it traps focus, closes on Escape and gives focus back to the opener.

import { copyText } from "../lib/util.js";
import { append, h, icon, iconButton } from "./dom.js";
import { formatSize, imagePath, plainError, snippets, summary } from "./format.js";
import { preview } from "./views.js";

let counter = 0;

export function modal(title, { className = "", onClose = () => {} } = {}) {
  const id = `dialog-title-${++counter}`;
  const body = h("div", { class: "m-dialog-body" });
  const footer = h("div", { class: "m-dialog-actions" });
  const heading = h("h2", { id }, title);
  const element = h("dialog", { class: `m-dialog ${className}`, "aria-labelledby": id },
    h("div", { class: "m-dialog-head" }, heading, iconButton("close", "Close", () => element.close())),
    body, footer);
  element.addEventListener("close", () => { element.remove(); onClose(); });
  document.body.append(element);
  return { element, body, footer, heading, show: () => element.showModal(), close: () => element.close() };
}

export function confirm(title, message, { action = "Delete", danger = true, details = null } = {}) {
  return new Promise((resolve) => {
    let answer = false;
    const dialog = modal(title, { className: "m-confirm", onClose: () => resolve(answer) });
    append(dialog.body, h("p", {}, message), details);
    const yes = h("button", { type: "button", class: danger ? "danger" : "primary", onclick: () => { answer = true; dialog.close(); } }, action);
    append(dialog.footer, h("button", { type: "button", onclick: () => dialog.close() }, "Cancel"), yes);
    dialog.show();
    yes.focus();
  });
}

// What refers to an image, as the API reports it (`{"DASHBOARD": [{name, …}], …}`), in a list.
export function referenceList(references) {
  const names = Object.entries(references ?? {}).flatMap(([type, items]) =>
    items.map((item) => `${type.toLowerCase()} “${item.name ?? item.title ?? item.id?.id ?? "?"}”`));
  return h("ul", { class: "m-references" }, names.map((name) => h("li", {}, name)));
}

/**
 * Several images in use, each named with what uses it: enough to decide on each without opening a dashboard.
 * @param {{title: string, references: any}[]} images
 */
export function inUseList(images) {
  return h("ul", { class: "m-in-use" }, images.map(({ title, references }) =>
    h("li", {}, h("strong", {}, title), " is used by:", referenceList(references))));
}

const errorLine = () => h("p", { class: "m-error", role: "alert" });

/**
 * @param {{accept: string, multiple: boolean, prompt: string, hint?: string | null, onFiles: (files: File[]) => void}} options
 */
function dropZone({ accept, multiple, prompt, hint = null, onFiles }) {
  const input = h("input", { type: "file", accept, multiple, class: "sr-only", onchange: () => { onFiles([...input.files]); input.value = ""; } });
  const zone = h("label", { class: "m-drop" }, input, icon("upload"),
    h("span", { class: "m-drop-text" }, prompt, " or ", h("span", { class: "m-browse" }, "browse")),
    hint && h("span", { class: "m-hint" }, hint));
  zone.addEventListener("dragover", (e) => { e.preventDefault(); zone.classList.add("over"); });
  zone.addEventListener("dragleave", () => zone.classList.remove("over"));
  zone.addEventListener("drop", (e) => {
    e.preventDefault();
    zone.classList.remove("over");
    const files = [...(e.dataTransfer?.files ?? [])];
    if (files.length) onFiles(multiple ? files : files.slice(0, 1));
  });
  return zone;
}

// The extensions of the formats the gallery takes, from the server's one list (`gallery/domain/formats.py`).
const imageFiles = (document.getElementById("manage")?.dataset.imageFiles ?? "").split(" ").filter(Boolean);
const isImage = (file) => file.type.startsWith("image/") ||
  imageFiles.includes(file.name.toLowerCase().split(".").pop() ?? "");

// Upload one or several new images, or (with `target`) new bytes for an image whose URL stays the same. `files`:
// what the dialog starts with (dropped on the page or pasted).
/**
 * @param {any} ui @param {{target?: import("../lib/types.js").Image | null, files?: File[]}} [options]
 * @returns {Promise<any[]>}
 */
export function uploadDialog(ui, { target = null, files = [] } = {}) {
  return new Promise((resolve) => {
    const done = [];
    const dialog = modal(target ? "Update image" : "Upload image", { className: "m-upload", onClose: () => resolve(done) });
    const limit = ui.maxSize;
    const hint = limit ? `Maximum upload file size: ${formatSize(limit)}` : null;
    const entries = [];
    const list = h("ul", { class: "m-files" });
    const error = errorLine();
    const submit = h("button", { type: "submit", class: "primary", form: `${dialog.element.getAttribute("aria-labelledby")}-form` }, "Upload");
    let busy = false;

    const valid = () => entries.filter((entry) => !entry.problem && !entry.done);
    const refresh = () => {
      const n = valid().length;
      submit.disabled = busy || n === 0 || valid().some((entry) => !entry.name.value.trim());
      submit.textContent = n > 1 ? `Upload ${n} images` : target ? "Update" : "Upload";
    };
    const add = (chosen) => {
      if (target) { for (const entry of entries.splice(0)) entry.row.remove(); }
      for (const file of chosen) {
        const entry = { file, done: false };
        entry.problem = !isImage(file) ? "This is not an image file."
          : limit && file.size > limit ? `Too large (${formatSize(file.size)}): the largest image allowed is ${formatSize(limit)}.` : "";
        entry.url = URL.createObjectURL(file);
        entry.name = h("input", { type: "text", value: file.name, required: true, "aria-label": `Name for ${file.name}`, oninput: refresh, hidden: Boolean(target) });
        entry.progress = h("progress", { max: 1, value: 0, hidden: true, "aria-label": `Uploading ${file.name}` });
        entry.status = h("span", { class: entry.problem ? "m-error" : "m-status" }, entry.problem);
        entry.row = h("li", { class: "m-file" },
          isImage(file) ? h("img", { src: entry.url, alt: "", class: "m-file-thumb" }) : h("span", { class: "m-file-thumb" }),
          h("div", { class: "m-file-main" },
            target ? h("span", { class: "m-file-name" }, file.name) : h("label", { class: "m-field" }, h("span", {}, "Name"), entry.name),
            h("span", { class: "m-file-size" }, `${file.name} · ${formatSize(file.size)}`),
            entry.progress, entry.status),
          iconButton("close", `Remove ${file.name}`, () => { entries.splice(entries.indexOf(entry), 1); entry.row.remove(); refresh(); }));
        entries.push(entry);
        list.append(entry.row);
      }
      refresh();
    };

    const form = h("form", { id: `${dialog.element.getAttribute("aria-labelledby")}-form`, onsubmit: async (event) => {
      event.preventDefault();
      busy = true;
      refresh();
      error.textContent = "";
      for (const entry of valid()) {
        entry.progress.hidden = false;
        entry.status.className = "m-status";
        entry.status.textContent = "Uploading…";
        try {
          const image = await ui.api.upload(entry.file, {
            title: entry.name.value.trim(), target: target && imagePath(target), progress: (f) => { entry.progress.value = f; },
          });
          entry.done = true;
          entry.status.textContent = "Uploaded";
          done.push(image);
        } catch (failure) {
          entry.progress.hidden = true;
          entry.status.className = "m-error";
          entry.status.textContent = plainError(failure);
        }
      }
      busy = false;
      refresh();
      if (entries.every((entry) => entry.done)) dialog.close();
      else error.textContent = done.length ? `${done.length} uploaded; the others could not be.` : "Nothing was uploaded.";
    } }, dropZone({
      accept: "image/*,.svg", multiple: !target, prompt: target ? "Drop the new image here" : "Drag & drop images here", hint, onFiles: add,
    }), list);
    append(dialog.body, form);
    append(dialog.footer, error, h("button", { type: "button", onclick: () => dialog.close() }, "Cancel"), submit);
    if (files.length) add(files);
    refresh();
    dialog.element.addEventListener("close", () => { for (const entry of entries) URL.revokeObjectURL(entry.url); });
    dialog.show();
    if (!submit.disabled) submit.focus(); // files brought along: Enter sends them
  });
}

// Import ThingsBoard export files: each holds one image (or, for convenience, a list of them).
export function importDialog(ui) {
  return new Promise((resolve) => {
    const imported = [];
    const dialog = modal("Import images from JSON", { className: "m-upload", onClose: () => resolve(imported) });
    const list = h("ul", { class: "m-files" });
    const error = errorLine();
    const files = [];
    const submit = h("button", { type: "button", class: "primary", disabled: true }, "Import");
    const add = (chosen) => {
      for (const file of chosen) {
        const status = h("span", { class: "m-status" }, formatSize(file.size));
        const row = h("li", { class: "m-file" }, h("div", { class: "m-file-main" }, h("span", { class: "m-file-name" }, file.name), status));
        files.push({ file, status, row, done: false });
        list.append(row);
      }
      submit.disabled = files.length === 0;
    };
    submit.addEventListener("click", async () => {
      submit.disabled = true;
      error.textContent = "";
      for (const entry of files.filter((f) => !f.done)) {
        let items;
        try {
          const parsed = JSON.parse(await entry.file.text());
          items = Array.isArray(parsed) ? parsed : [parsed];
        } catch {
          entry.status.className = "m-error";
          entry.status.textContent = "This file is not JSON: choose a file exported from an image gallery.";
          continue;
        }
        try {
          for (const item of items) imported.push(await ui.api.importJson(item));
          entry.done = true;
          entry.status.className = "m-status";
          entry.status.textContent = items.length === 1 ? `Imported “${imported.at(-1).title}”` : `Imported ${items.length} images`;
        } catch (failure) {
          entry.status.className = "m-error";
          entry.status.textContent = plainError(failure);
        }
      }
      if (files.every((f) => f.done)) dialog.close();
      else { error.textContent = "Some files could not be imported."; submit.disabled = false; }
    });
    append(dialog.body, dropZone({
      accept: ".json,application/json", multiple: true, prompt: "Drag & drop exported JSON files here", onFiles: add,
    }), list);
    append(dialog.footer, error, h("button", { type: "button", onclick: () => dialog.close() }, "Cancel"), submit);
    dialog.show();
  });
}

function snippetBox(label, code, hint) {
  const id = `snippet-${++counter}`;
  const area = h("textarea", { id, readonly: true, rows: Math.max(2, code.split("\n").reduce((n, line) => n + Math.ceil((line.length + 1) / 70), 0)), spellcheck: false }, code);
  const copy = h("button", { type: "button", class: "m-copy", onclick: async () => {
    await copyText(code, area);
    copy.textContent = "Copied";
    setTimeout(() => { copy.textContent = "Copy"; }, 1500);
  } }, "Copy");
  return h("div", { class: "m-snippet" }, h("label", { for: id }, label), hint && h("p", { class: "m-hint" }, hint), area, copy);
}

export function embedDialog(ui, image) {
  return new Promise((resolve) => {
    let current = image;
    const dialog = modal("Embed image", { className: "m-embed", onClose: () => resolve(current) });
    const error = errorLine();
    const htmlPart = h("div");
    const toggle = h("input", { type: "checkbox", role: "switch", checked: image.public, disabled: ui.readOnly(image) || !ui.canWrite });
    const HINTS = {
      component: "The <gallery-img> element fetches the image with the visitor's gallery token, so the image stays private.",
    };
    const render = () => {
      const made = snippets(current, ui.embedContext(current));
      const box = (s) => snippetBox(s.name, s.code, HINTS[s.id]);
      const open = made.filter((s) => s.id === "html" || s.id === "markdown");
      htmlPart.replaceChildren(...(open.length ? open.map(box)
        : [h("p", { class: "m-note" }, "The image is private: turn on its public link to get HTML that shows it without signing in.")]));
      others.replaceChildren(...made.filter((s) => !open.includes(s)).map(box));
    };
    const others = h("div");
    toggle.addEventListener("change", async () => {
      toggle.disabled = true;
      error.textContent = "";
      try {
        current = await ui.api.setPublic(imagePath(current), toggle.checked);
        ui.changed(current);
      } catch (failure) {
        toggle.checked = current.public;
        error.textContent = plainError(failure);
      }
      toggle.disabled = false;
      render();
    });
    append(dialog.body,
      h("section", { class: "m-embed-section" },
        h("h3", {}, "Embed to HTML"),
        h("label", { class: "m-switch" }, toggle, " Public link"),
        h("p", { class: "m-warning" }, "A public link works for anyone who has it, without signing in."),
        error, htmlPart),
      h("section", { class: "m-embed-section" }, h("h3", {}, "Embed with sign-in"), others));
    render();
    append(dialog.footer, h("button", { type: "button", class: "primary", onclick: () => dialog.close() }, "Done"));
    dialog.show();
  });
}

// The tag rule the server applies (`domain/validation.py`: lowercase, runs of spaces one '-'); it says what else
// a tag may not hold.
export const normalTag = (text) => text.trim().split(/\s+/).filter(Boolean).join("-").toLowerCase();

// Tags as chips, each with a button that removes it, and a field that adds one on Enter or a comma (Backspace in
// the empty field takes the last back). Suggestions: the tags the gallery already has.
export function tagEditor(initial, { readOnly = false, onchange = () => {}, suggestions = Promise.resolve({}) } = {}) {
  let tags = [...initial];
  const id = `tags-${++counter}`;
  const chips = h("ul", { class: "m-tags m-chips", "aria-label": "Tags" });
  const options = h("datalist", { id: `${id}-known` });
  const input = h("input", { id, type: "text", list: `${id}-known`, placeholder: readOnly ? "" : "Add a tag", readonly: readOnly,
    autocomplete: "off", enterkeyhint: "done", "aria-describedby": `${id}-hint` });
  const draw = () => chips.replaceChildren(...tags.map((tag) => h("li", { class: "m-chip" }, h("span", {}, tag),
    !readOnly && iconButton("close", `Remove tag ${tag}`, () => { tags = tags.filter((t) => t !== tag); draw(); onchange(); input.focus(); }))));
  const take = () => {
    const tag = normalTag(input.value.replace(/,/g, " "));
    input.value = "";
    if (tag && !tags.includes(tag)) { tags.push(tag); draw(); }
    onchange();
  };
  input.addEventListener("keydown", (event) => {
    if (event.key === "Enter" || event.key === ",") { event.preventDefault(); take(); }
    else if (event.key === "Backspace" && !input.value && tags.length && !readOnly) { tags.pop(); draw(); onchange(); }
  });
  input.addEventListener("input", () => { if (input.value.includes(",")) take(); else onchange(); });
  suggestions.then((counts) => options.replaceChildren(...Object.keys(counts).map((tag) => h("option", { value: tag }))), () => {});
  draw();
  return {
    element: h("div", { class: "m-tag-editor" }, chips, input, options),
    input,
    /** The tags, with what is typed but not yet added. */
    value: () => { const typed = normalTag(input.value.replace(/,/g, " ")); return typed && !tags.includes(typed) ? [...tags, typed] : [...tags]; },
    reset: (next) => { tags = [...next]; input.value = ""; draw(); },
  };
}

/**
 * @param {import("./views.js").Ui} ui @param {import("../lib/types.js").Image} image
 * @param {{focus?: "altText" | null}} [options] a field to start in
 */
export function editDialog(ui, image, { focus = null } = {}) {
  let current = image;
  const readOnly = ui.readOnly(image) || !ui.canWrite;
  const dialog = modal(readOnly ? "Image details" : "Edit image", { className: "m-edit" });
  const formId = `${dialog.element.getAttribute("aria-labelledby")}-form`;
  const error = errorLine();
  const big = h("div", { class: "m-large" });
  const meta = h("p", { class: "m-meta" });
  const show = () => {
    big.replaceChildren(preview(current, ui, "m-large-img"));
    meta.textContent = summary(current);
  };
  const id = ++counter;
  const name = h("input", { id: `edit-name-${id}`, type: "text", value: image.title, readonly: readOnly, required: true, maxlength: 255 });
  const alt = h("input", { id: `edit-alt-${id}`, type: "text", value: image.altText ?? "", readonly: readOnly, maxlength: 500,
    "aria-describedby": `edit-alt-hint-${id}` });
  const description = h("textarea", { id: `edit-description-${id}`, rows: 3, readonly: readOnly, maxlength: 4000 }, image.description ?? "");
  const tags = tagEditor(image.tags ?? [], { readOnly, onchange: () => dirty(), suggestions: ui.api.tags(false) });
  const save = h("button", { type: "submit", class: "primary", form: formId, disabled: true }, "Save");
  // Only what changed is sent: a field left alone is never written over by a stale copy.
  const changes = () => {
    const fields = {};
    if (name.value.trim() !== current.title) fields.title = name.value.trim();
    if (alt.value.trim() !== (current.altText ?? "")) fields.altText = alt.value.trim();
    if (description.value.trim() !== (current.description ?? "")) fields.description = description.value.trim();
    if (tags.value().join(",") !== (current.tags ?? []).join(",")) fields.tags = tags.value();
    return fields;
  };
  const dirty = () => { save.disabled = readOnly || !name.value.trim() || Object.keys(changes()).length === 0; };
  const saveInfo = async () => {
    const fields = changes();
    if (readOnly || !name.value.trim() || Object.keys(fields).length === 0) return;
    error.textContent = "";
    save.disabled = true;
    try {
      current = await ui.api.updateInfo(imagePath(current), fields);
      name.value = current.title;
      alt.value = current.altText ?? "";
      description.value = current.description ?? "";
      tags.reset(current.tags ?? []);
      ui.changed(current);
      ui.notify(`Saved “${current.title}”`);
    } catch (failure) {
      error.textContent = plainError(failure);
    }
    dirty();
  };
  for (const field of [name, alt, description]) field.addEventListener("input", dirty);
  /** @param {string} label @param {HTMLElement} control @param {string | null} [hint] */
  const labelled = (label, control, hint = null) => h("div", { class: "m-field" }, h("label", { for: control.id }, label), control,
    hint && h("p", { class: "m-hint", id: `${control.id}-hint` }, hint));
  const form = h("form", { id: formId, class: "m-form", onsubmit: (event) => { event.preventDefault(); saveInfo(); } },
    labelled("Name", name),
    labelled("Alt text", alt, readOnly ? null : "What the picture shows, for people who cannot see it. Without it, screen readers say only the name."),
    labelled("Description", description),
    h("div", { class: "m-field" }, h("label", { for: tags.input.id }, "Tags"), tags.element,
      !readOnly && h("p", { class: "m-hint", id: `${tags.input.id}-hint` }, "Press Enter or type a comma after each tag.")));
  const button = (iconName, label, onclick) => h("button", { type: "button", onclick }, icon(iconName), label);
  // ThingsBoard's "Copy link": the image's own link (for signed-in use: the API, `<gallery-img>`), and its public
  // link while it has one. A field the old-style copy can select where the Clipboard API is refused.
  const fallback = h("input", { type: "text", readonly: true, tabindex: -1, class: "sr-only", "aria-hidden": "true" });
  const copyLink = async (url, what) => {
    fallback.value = url;
    await copyText(url, fallback);
    ui.notify(`Copied the ${what} of “${current.title}”`);
  };
  const links = h("div", { class: "m-buttons" });
  const showLinks = () => links.replaceChildren(
    button("link", "Copy link", () => copyLink(ui.api.url(imagePath(current)), "link")),
    ...(current.public && current.publicLink
      ? [button("link", "Copy public link", () => copyLink(ui.api.url(current.publicLink ?? ""), "public link"))] : []),
    fallback);
  showLinks();
  append(dialog.body,
    big, meta,
    readOnly && ui.readOnly(image) && h("p", { class: "m-warning", role: "note" },
      "A system image: you can use it, and only the system administrator can change it."),
    form,
    error,
    h("div", { class: "m-buttons" },
      button("download", "Download", () => ui.download(current)),
      button("export", "Export to JSON", () => ui.exportJson(current)),
      button("embed", "Embed", async () => { current = await ui.embed(current); showLinks(); }),
      !readOnly && button("upload", "Update image", async () => {
        const [updated] = await uploadDialog(ui, { target: current });
        if (updated) { current = updated; show(); ui.changed(current); ui.notify(`Updated “${current.title}”`); }
      })),
    links);
  show();
  append(dialog.footer, h("button", { type: "button", onclick: () => dialog.close() }, "Close"), !readOnly && save);
  dialog.show();
  if (focus === "altText" && !readOnly) alt.focus();
}

// Ask for one tag to add to (or take from) the selected images.
export function bulkTagDialog(ui, count, mode) {
  return new Promise((resolve) => {
    let answer = null;
    const adding = mode === "add";
    const images = `${count} image${count === 1 ? "" : "s"}`;
    const dialog = modal(adding ? `Add a tag to ${images}` : `Remove a tag from ${images}`, { onClose: () => resolve(answer) });
    const formId = `${dialog.element.getAttribute("aria-labelledby")}-form`;
    const known = h("datalist", { id: `${formId}-known` });
    const input = h("input", { id: `${formId}-tag`, type: "text", list: known.id, required: true, autocomplete: "off" });
    ui.api.tags(false).then((counts) => known.replaceChildren(...Object.keys(counts).map((tag) => h("option", { value: tag }))), () => {});
    const form = h("form", { id: formId, class: "m-form", onsubmit: (event) => {
      event.preventDefault();
      const tag = normalTag(input.value);
      if (tag) { answer = tag; dialog.close(); }
    } }, h("div", { class: "m-field" }, h("label", { for: input.id }, "Tag"), input, known));
    append(dialog.body, form);
    append(dialog.footer, h("button", { type: "button", onclick: () => dialog.close() }, "Cancel"),
      h("button", { type: "submit", class: "primary", form: formId }, adding ? "Add tag" : "Remove tag"));
    dialog.show();
    input.focus();
  });
}
