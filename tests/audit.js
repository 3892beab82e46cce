// What a person would fail to see or read inside `root`: each button must be on screen, uncovered and opaque enough
// to notice; every piece of text (button labels, headings, notes, errors, field values) must have a contrast of at
// least 4.5:1 (WCAG AA; 3:1 for large text) against the colour actually behind it — found by walking up to the first
// opaque background and compositing the translucent ones on the way — and none but code may read like a program's
// blank.
// A read-only text box (a snippet to copy) must show all it holds.
// Evaluated by tests/browser.py `audit` with the element to look at; returns the problems found.
(root) => {
  const problems = [];
  const parse = (value) => {
    const m = value.match(/rgba?\(([^)]+)\)/);
    if (!m) return [0, 0, 0, 0];
    const parts = m[1].split(/[ ,/]+/).filter(Boolean).map(Number);
    return [parts[0], parts[1], parts[2], parts.length > 3 ? parts[3] : 1];
  };
  const over = (top, bottom) => {
    const a = top[3];
    return [0, 1, 2].map((i) => top[i] * a + bottom[i] * (1 - a)).concat(1);
  };
  const luminance = (c) => {
    const [r, g, b] = c.slice(0, 3).map((v) => { v /= 255; return v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4; });
    return 0.2126 * r + 0.7152 * g + 0.0722 * b;
  };
  const contrast = (a, b) => { const [x, y] = [luminance(a), luminance(b)].sort((p, q) => q - p); return (x + 0.05) / (y + 0.05); };
  const background = (el) => {
    const layers = [];
    for (let node = el; node; node = node.parentElement) {
      const colour = parse(getComputedStyle(node).backgroundColor);
      if (colour[3] > 0) layers.push(colour);
      if (colour[3] >= 1) break;
    }
    return layers.reverse().reduce((below, layer) => over(layer, below), [255, 255, 255, 1]);
  };
  const opacity = (el) => { let o = 1; for (let n = el; n; n = n.parentElement) o *= Number(getComputedStyle(n).opacity); return o; };
  const name = (el) => `${el.tagName.toLowerCase()}${el.className && typeof el.className === "string" ? "." + el.className.trim().split(/\s+/).join(".") : ""} "${(el.innerText || el.value || el.getAttribute("aria-label") || "").trim().slice(0, 40)}"`;
  const shown = (el) => {
    const style = getComputedStyle(el);
    const box = el.getBoundingClientRect();
    return style.display !== "none" && style.visibility !== "hidden" && box.width > 0 && box.height > 0;
  };
  const readable = (el, text) => {
    const style = getComputedStyle(el);
    const fg = parse(style.color);
    const bg = background(el);
    const seen = over([fg[0], fg[1], fg[2], fg[3] * opacity(el)], bg);
    const ratio = contrast(seen, bg);
    const size = parseFloat(style.fontSize);
    const large = size >= 24 || (size >= 18.66 && Number(style.fontWeight) >= 700);
    const needed = large ? 3 : 4.5;
    if (ratio < needed) problems.push(`${name(el)}: contrast ${ratio.toFixed(2)}:1 < ${needed}:1 (${style.color} on rgb(${bg.slice(0, 3).map(Math.round)}))`);
    // In code (a JSON response, a snippet), `null` is data, not a blank a program failed to fill.
    if (!el.closest("pre, code") && /\b(null|undefined|NaN)\b|\[object Object\]/.test(text)) problems.push(`${name(el)}: reads "${text.trim().slice(0, 60)}"`);
  };
  for (const button of root.matches("button") ? [root] : root.querySelectorAll("button")) {
    if (!shown(button)) continue;  // hidden on purpose (display:none or [hidden]); what shows is checked below
    button.scrollIntoView({ block: "nearest", inline: "nearest" });
    const box = button.getBoundingClientRect();
    const [x, y] = [box.left + box.width / 2, box.top + box.height / 2];
    const hit = document.elementFromPoint(x, y);
    if (!hit || !(hit === button || button.contains(hit))) problems.push(`${name(button)}: covered by ${hit ? name(hit) : "nothing"} or off screen`);
    if (opacity(button) < 0.3) problems.push(`${name(button)}: nearly transparent (opacity ${opacity(button).toFixed(2)})`);
    const label = button.innerText.trim() || button.getAttribute("aria-label") || "";
    if (!label) problems.push(`${name(button)}: has no label`);
    if (!button.disabled) readable(button, button.innerText);  // disabled controls are exempt from contrast (WCAG)
  }
  const walker = document.createTreeWalker(root, NodeFilter.SHOW_TEXT);
  const owners = new Set();
  for (let node = walker.nextNode(); node; node = walker.nextNode()) {
    if (node.textContent.trim() && node.parentElement && !node.parentElement.closest("button, textarea, script, style")) owners.add(node.parentElement);
  }
  for (const el of owners) if (shown(el)) readable(el, el.textContent);
  for (const field of root.querySelectorAll("input:not([type=checkbox]):not([type=file]):not([type=radio]), textarea")) {
    if (shown(field) && field.value) readable(field, field.value);
    if (shown(field) && field.readOnly && field.tagName === "TEXTAREA" && field.scrollHeight > field.clientHeight + 1) {
      problems.push(`${name(field)}: cut off (${field.scrollHeight}px of text in ${field.clientHeight}px)`);
    }
  }
  return problems;
}
