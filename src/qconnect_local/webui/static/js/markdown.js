// A small markdown preview built from DOM nodes (never innerHTML, so content cannot inject markup).
// It covers what quick responses use: headings, paragraphs, lists, emphasis, code and links.
import { h } from "./ui.js";

const INLINE = /(\*\*[^*]+\*\*|__[^_]+__|\*[^*\s][^*]*\*|_[^_\s][^_]*_|`[^`]+`|\[[^\]]+\]\([^)\s]+\))/;

function inline(text) {
  const out = [];
  for (const part of text.split(INLINE)) {
    if (!part) continue;
    let m;
    if ((m = /^(\*\*|__)(.+)\1$/.exec(part))) out.push(h("strong", inline(m[2])));
    else if ((m = /^([*_])(.+)\1$/.exec(part))) out.push(h("em", inline(m[2])));
    else if ((m = /^`(.+)`$/.exec(part))) out.push(h("code", m[1]));
    else if ((m = /^\[([^\]]+)\]\(([^)\s]+)\)$/.exec(part))) {
      const safe = /^(https?:|mailto:)/i.test(m[2]) ? m[2] : "#";
      out.push(h("a", { href: safe, rel: "noopener noreferrer", target: "_blank" }, m[1]));
    } else out.push(part);
  }
  return out;
}

export function renderMarkdown(text) {
  const blocks = [];
  let list = null, para = [];
  const flush = () => {
    if (para.length) blocks.push(h("p", inline(para.join(" "))));
    para = [];
  };
  for (const line of text.split(/\r?\n/)) {
    let m;
    if (!line.trim()) { flush(); list = null; continue; }
    if ((m = /^(#{1,6})\s+(.*)$/.exec(line))) { flush(); list = null; blocks.push(h(`h${Math.min(m[1].length + 2, 6)}`, inline(m[2]))); continue; }
    if ((m = /^\s*([-*+]|\d+[.)])\s+(.*)$/.exec(line))) {
      flush();
      const ordered = /\d/.test(m[1]);
      if (!list || list.ordered !== ordered) { list = { ordered, el: h(ordered ? "ol" : "ul") }; blocks.push(list.el); }
      list.el.append(h("li", inline(m[2])));
      continue;
    }
    list = null;
    para.push(line.trim());
  }
  flush();
  return blocks;
}
