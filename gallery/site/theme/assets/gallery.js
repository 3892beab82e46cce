// Progressive enhancement: every page works without this file. With it, the index gets search by name, sorting
// and client-side pages over gallery.json (fetched on first use), the view choice is remembered, and snippets get
// copy buttons. Only one page of cards is ever in the document, however many images there are.

const debounce = (fn, ms) => { let t; return (...a) => { clearTimeout(t); t = setTimeout(() => fn(...a), ms); }; };
const escape = (s) => String(s).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

function enhanceCopy() {
  for (const button of document.querySelectorAll("[data-copy]")) {
    button.hidden = false;
    button.addEventListener("click", async () => {
      const source = document.getElementById(button.dataset.copy);
      try { await navigator.clipboard.writeText(source.value); } catch { source.select(); document.execCommand("copy"); }
      button.textContent = "Copied";
      setTimeout(() => { button.textContent = "Copy"; }, 1500);
    });
  }
}

function enhanceIndex(root) {
  const base = root.dataset.base;
  const cards = root.querySelector("#cards");
  const search = root.querySelector("#search");
  const sort = root.querySelector("#sort");
  const system = root.querySelector("#show-system");
  const pageSize = Math.max(1, Number(root.dataset.pageSize) || 48);
  root.querySelector("[data-js]").hidden = false;

  const saved = localStorage.getItem("gallery.view");
  if (saved) { const input = root.querySelector(`input[name=view][value=${saved}]`); if (input) input.checked = true; }
  for (const input of root.querySelectorAll("input[name=view]")) {
    input.addEventListener("change", () => localStorage.setItem("gallery.view", input.value));
  }

  let all = null;
  let page = 0;
  const load = async () => all ??= await (await fetch(root.dataset.index)).json();
  const orders = {
    "date-desc": (a, b) => b.c - a.c, "date-asc": (a, b) => a.c - b.c,
    "name-asc": (a, b) => a.t.localeCompare(b.t), "name-desc": (a, b) => b.t.localeCompare(a.t),
    "size-desc": (a, b) => b.b - a.b, "size-asc": (a, b) => a.b - b.b,
  };
  const card = (c) => `<li class="card${c.s ? " system" : ""}"><a href="${base}${c.p}"><picture>${
    c.v ? `<source type="image/webp" srcset="${base}${c.v}">` : ""}<img src="${base}${c.i}" alt="${escape(c.t)}" width="${
    c.iw}" height="${c.ih}" loading="lazy" decoding="async"></picture><span class="name">${escape(c.t)}</span></a>` +
    `<span class="meta">${c.w}×${c.h} | ${escape(c.z)}</span>${c.s ? '<span class="badge">System</span>' : ""}</li>`;

  async function render() {
    const items = await load();
    const needle = search.value.trim().toLocaleLowerCase();
    const shown = items
      .filter((c) => system.checked || !c.s)
      .filter((c) => !needle || c.t.toLocaleLowerCase().includes(needle))
      .sort(orders[sort.value]);
    const pages = Math.max(1, Math.ceil(shown.length / pageSize));
    page = Math.min(page, pages - 1);
    cards.innerHTML = shown.slice(page * pageSize, (page + 1) * pageSize).map(card).join("");
    document.getElementById("counts").textContent = `${shown.length} of ${items.length} images`;
    const nav = root.querySelector(".pages") ?? root.appendChild(Object.assign(document.createElement("nav"), { className: "pages" }));
    nav.setAttribute("aria-label", "Pages");
    nav.innerHTML = pages < 2 ? "" :
      `<button type="button" data-step="-1" ${page === 0 ? "disabled" : ""}>Previous</button>` +
      `<span aria-current="page">${page + 1} / ${pages}</span>` +
      `<button type="button" data-step="1" ${page >= pages - 1 ? "disabled" : ""}>Next</button>`;
    for (const b of nav.querySelectorAll("button")) b.addEventListener("click", () => { page += Number(b.dataset.step); render(); });
  }
  search.addEventListener("input", debounce(() => { page = 0; render(); }, 150));
  sort.addEventListener("change", () => { page = 0; render(); });
  system.addEventListener("change", () => { if (all) { page = 0; render(); } });
}

enhanceCopy();
const index = document.querySelector(".gallery[data-index]");
if (index) enhanceIndex(index);
