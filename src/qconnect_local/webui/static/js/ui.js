// Small DOM helpers: no framework, so the console needs no build step.

// h("tag.class", {attr: v, onclick: f}, ...children): children may be strings, nodes, arrays or null.
export function h(spec, attrs, ...children) {
  const [tag, ...classes] = spec.split(".");
  const el = document.createElement(tag || "div");
  if (classes.length) el.className = classes.join(" ");
  if (attrs && (typeof attrs !== "object" || attrs instanceof Node || Array.isArray(attrs))) {
    children.unshift(attrs);
    attrs = null;
  }
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k.startsWith("on")) el.addEventListener(k.slice(2), v);
    else if (k === "dataset") Object.assign(el.dataset, v);
    else if (k in el && typeof v !== "string") el[k] = v;
    else el.setAttribute(k, v === true ? "" : v);
  }
  append(el, children);
  return el;
}

function append(el, children) {
  for (const c of children) {
    if (c === null || c === undefined || c === false) continue;
    if (Array.isArray(c)) append(el, c);
    else el.append(c instanceof Node ? c : String(c));
  }
}

export function clear(el, ...children) {
  el.replaceChildren();
  append(el, children);
  return el;
}

export function table(headers, rows, { label, empty = "Nothing here yet." } = {}) {
  const body = h("tbody");
  if (!rows.length) body.append(h("tr", h("td.muted", { colSpan: headers.length }, empty)));
  for (const r of rows) body.append(r instanceof Node ? r : h("tr", r.map((c) => h("td", c))));
  return h("div.table-wrap", h("table", { "aria-label": label }, h("thead", h("tr", headers.map((x) => h("th", { scope: "col" }, x)))), body));
}

export function toast(text, bad = false) {
  const box = document.getElementById("toast");
  const item = h(bad ? "div.bad" : "div", text);
  box.append(item);
  setTimeout(() => item.remove(), bad ? 8000 : 3500);
}

export function confirmDialog(text, okLabel = "Confirm") {
  const dialog = document.getElementById("confirm");
  document.getElementById("confirm-text").textContent = text;
  document.getElementById("confirm-ok").textContent = okLabel;
  dialog.returnValue = "";
  dialog.showModal();
  return new Promise((resolve) => dialog.addEventListener("close", () => resolve(dialog.returnValue === "ok"), { once: true }));
}

export function copyButton(value, what = "id") {
  return h("button.copy", {
    type: "button", title: `Copy ${what}`, "aria-label": `Copy ${what} ${value}`,
    onclick: async (e) => {
      e.stopPropagation();
      try { await navigator.clipboard.writeText(value); toast(`Copied ${value}`); }
      catch { window.prompt("Copy:", value); }
    },
  }, "copy");
}

// Local "YYYY-MM-DD HH:MM:SS" built by hand: the first toLocaleString of a page loads Intl data,
// which costs ~100 ms before the first rows can be drawn.
export function localTime(epochSeconds, withDate = true) {
  const d = new Date(epochSeconds * 1000);
  const p = (n) => String(n).padStart(2, "0");
  const clock = `${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}`;
  return withDate ? `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())} ${clock}` : clock;
}

export function time(epochSeconds) {
  if (epochSeconds === undefined || epochSeconds === null) return "";
  const d = new Date(epochSeconds * 1000);
  return h("time", { datetime: d.toISOString(), title: d.toISOString() }, localTime(epochSeconds));
}

export function tags(map) {
  return Object.entries(map || {}).map(([k, v]) => h("span.tag", `${k}=${v}`));
}

// "k=v" pairs, one a line or comma-separated -> {k: v}.
export function parseTags(text) {
  const out = {};
  for (const part of text.split(/[\n,]/)) {
    const t = part.trim();
    if (!t) continue;
    const i = t.indexOf("=");
    out[i < 0 ? t : t.slice(0, i).trim()] = i < 0 ? "" : t.slice(i + 1).trim();
  }
  return out;
}

export function formatTags(map) {
  return Object.entries(map || {}).map(([k, v]) => `${k}=${v}`).join("\n");
}

// RFC 4180 CSV -> rows of cells (quoted fields may hold commas, quotes and newlines).
export function parseCsv(text) {
  const rows = [];
  let row = [], cell = "", quoted = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (quoted) {
      if (c === '"') { if (text[i + 1] === '"') { cell += '"'; i++; } else quoted = false; }
      else cell += c;
    } else if (c === '"') quoted = true;
    else if (c === ",") { row.push(cell); cell = ""; }
    else if (c === "\n" || c === "\r") {
      if (c === "\r" && text[i + 1] === "\n") i++;
      row.push(cell); rows.push(row); row = []; cell = "";
    } else cell += c;
  }
  if (cell || row.length) { row.push(cell); rows.push(row); }
  return rows;
}

export function toCsv(rows) {
  return rows.map((r) => r.map((c) => (/[",\n\r]/.test(c) ? `"${c.replace(/"/g, '""')}"` : c)).join(",")).join("\r\n") + "\r\n";
}

export function download(name, text, type = "text/csv") {
  const url = URL.createObjectURL(new Blob([text], { type }));
  const a = h("a", { href: url, download: name });
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 1000);
}

export function debounce(fn, ms) {
  let timer;
  return (...args) => { clearTimeout(timer); timer = setTimeout(() => fn(...args), ms); };
}

// Wraps each occurrence of the query's words (and prefixes of the last word) in <mark>.
export function highlight(text, words) {
  text = text || "";
  if (!words.length) return [text];
  const escaped = words.map((w) => w.replace(/[.*+?^${}()|[\]\\]/g, "\\$&"));
  const re = new RegExp(`(${escaped.join("|")})`, "gi");
  const out = [];
  let last = 0;
  for (const m of text.matchAll(re)) {
    if (m.index > last) out.push(text.slice(last, m.index));
    out.push(h("mark", m[0]));
    last = m.index + m[0].length;
  }
  out.push(text.slice(last));
  return out;
}

export function words(text) {
  return (text.toLowerCase().match(/[\p{L}\p{N}]+/gu) || []);
}

export function link(href, text) { return h("a", { href }, text); }
