// Quick responses of one knowledge base: ListQuickResponses paged by nextToken; with filters,
// SearchQuickResponses with filters only; with text, SearchQuickResponses as you type.
import { call, enc } from "../api.js";
import { isCurrent } from "../app.js";
import { clear, confirmDialog, debounce, h, highlight, table, time, toast, words } from "../ui.js";

export const PAGE_SIZE = 25;
export const DEBOUNCE_MS = 250;
// The agent workspace's type-ahead: shortcut key first, then name, content and description.
const TYPE_AHEAD = [["shortcutKey", "HIGH"], ["name", "HIGH"], ["content", "MEDIUM"], ["description", "LOW"]];
const LANGUAGES = ["", "de_DE", "en_US", "es_ES", "fr_FR", "id_ID", "it_IT", "ja_JP", "ko_KR", "pt_BR", "zh_CN", "zh_TW"];

export async function render(main, token, kbId) {
  const base = `/knowledgeBases/${enc(kbId)}`;
  // The knowledge base (for its name) and the first page are asked for together.
  const kbAnswer = call("GET", base);

  const search = h("input", { type: "search", id: "qr-search", placeholder: "Search as you type…", "aria-label": "Search quick responses", autocomplete: "off" });
  const field = h("select", { id: "qr-search-field", "aria-label": "Field to search" },
    ["content", "name", "description", "shortcutKey"].map((f) => h("option", { value: f }, f)));
  const typeAhead = h("input", { type: "checkbox", id: "qr-typeahead" });
  const channel = h("select", { id: "f-channel" }, ["", "Chat", "Email"].map((c) => h("option", { value: c }, c || "any")));
  const active = h("select", { id: "f-active" }, [["", "any"], ["true", "active"], ["false", "inactive"]].map(([v, t]) => h("option", { value: v }, t)));
  const language = h("select", { id: "f-language" }, LANGUAGES.map((l) => h("option", { value: l }, l || "any")));
  const profile = h("input", { type: "text", id: "f-profile", placeholder: "routing-profile ARN", size: 30 });
  const results = h("div", { id: "qr-results", "aria-live": "polite" });
  const pager = h("div.pager");
  const info = h("p.muted", { id: "qr-info" });

  const crumb = h("span", kbId);
  const title = h("h1", "Quick responses");
  clear(main,
    h("p.crumbs", h("a", { href: "#/" }, "Knowledge bases"), " › ", crumb),
    title,
    h("div.toolbar",
      h("a", { href: `#/kb/${enc(kbId)}/qr/new` }, h("button.primary", { type: "button", tabIndex: -1 }, "New quick response")),
      h("a", { href: `#/kb/${enc(kbId)}/import` }, "Import / export CSV"),
      h("a", { href: `#/kb/${enc(kbId)}/jobs` }, "Import history")),
    h("div.toolbar", { role: "search" },
      h("label", "Search", search),
      h("label", "Field", field),
      h("label", { style: "flex-direction:row;align-items:center;gap:4px" }, typeAhead, "Agent type-ahead (4 fields)")),
    h("div.toolbar", { "aria-label": "Filters" },
      h("label", "Channel", channel), h("label", "Active", active), h("label", "Language", language),
      h("label", "Routing profile", profile)),
    info, results, pager);

  const state = { tokens: [undefined], page: 0, seq: 0 };

  function filters() {
    const out = [];
    if (channel.value) out.push({ name: "channels", operator: "EQUALS", values: [channel.value] });
    if (active.value) out.push({ name: "isActive", operator: "EQUALS", values: [active.value] });
    if (language.value) out.push({ name: "language", operator: "EQUALS", values: [language.value] });
    if (profile.value.trim()) out.push({ name: "groupingConfiguration.values", operator: "EQUALS", values: [profile.value.trim()], includeNoExistence: true });
    return out;
  }

  function queries(text) {
    if (!text) return [];
    if (typeAhead.checked) return TYPE_AHEAD.map(([name, priority]) => ({ name, operator: "CONTAINS_AND_PREFIX", values: [text], priority, allowFuzziness: name !== "shortcutKey" }));
    return [{ name: field.value, operator: "CONTAINS_AND_PREFIX", values: [text] }];
  }

  // One page of the current view; a newer request makes an older answer's drawing a no-op.
  async function load() {
    const seq = ++state.seq;
    const text = search.value.trim();
    const fs = filters();
    const nextToken = state.tokens[state.page];
    const started = performance.now();
    let doc, items, mode;
    try {
      if (!text && !fs.length) {
        mode = "list";
        doc = await call("GET", `${base}/quickResponses`, { query: { maxResults: PAGE_SIZE, nextToken } });
        items = doc.quickResponseSummaries;
      } else {
        mode = "search";
        const expr = {};
        const q = queries(text);
        if (q.length) expr.queries = q;
        if (fs.length) expr.filters = fs;
        if (!q.length) expr.orderOnField = { name: "name", order: "ASC" };
        doc = await call("POST", `${base}/search/quickResponses`, { query: { maxResults: PAGE_SIZE, nextToken }, body: { searchExpression: expr } });
        items = doc.results;
      }
    } catch (err) {
      if (seq === state.seq && isCurrent(token)) clear(results, h("p.error", { role: "alert" }, String(err)));
      return;
    }
    if (seq !== state.seq || !isCurrent(token)) return;
    const answered = performance.now();
    draw(mode, items, text);
    state.tokens[state.page + 1] = doc.nextToken;
    drawPager(doc.nextToken);
    const ms = performance.now() - started;
    info.textContent = `${mode === "list" ? "ListQuickResponses" : "SearchQuickResponses"}: ${items.length} shown (page ${state.page + 1}) in ${ms.toFixed(0)} ms`;
    results.dataset.drawn = String(seq);
    // For tests and the benchmark: when the request started (after the debounce), when the
    // rows were in the DOM, and when the frame that shows them was painted.
    const drawn = { seq, text, started, answered, at: performance.now(), count: items.length };
    window.__qcLastDraw = drawn;
    requestAnimationFrame(() => setTimeout(() => { drawn.painted = performance.now(); }, 0));
  }

  function draw(mode, items, text) {
    const ws = words(text);
    const rows = items.map((qr) => {
      const content = qr.contents ? (qr.contents.plainText || qr.contents.markdown || {}).content : null;
      const matched = mode === "search" && ws.length ? matchedFields(qr, content, ws) : [];
      return h("tr.clickable", {
        tabIndex: 0, dataset: { qr: qr.quickResponseId },
        onclick: (e) => { if (!e.target.closest("button,a")) location.hash = `#/kb/${enc(kbId)}/qr/${enc(qr.quickResponseId)}`; },
        onkeydown: (e) => { if (e.key === "Enter" && e.target === e.currentTarget) location.hash = `#/kb/${enc(kbId)}/qr/${enc(qr.quickResponseId)}`; },
      },
        h("td", h("a", { href: `#/kb/${enc(kbId)}/qr/${enc(qr.quickResponseId)}` }, highlight(qr.name, ws))),
        h("td", qr.shortcutKey ? highlight(qr.shortcutKey, ws) : ""),
        h("td.hide-narrow", content !== null && content !== undefined ? highlight(content.slice(0, 160), ws) : h("span.muted", qr.description || "")),
        h("td", (qr.channels || []).join(", ")),
        h("td", qr.isActive ? "yes" : "no"),
        h("td.hide-narrow", mode === "search" ? matched.join(", ") : time(qr.lastModifiedTime)),
        h("td", h("button.danger", {
          type: "button", "aria-label": `Delete ${qr.name}`,
          onclick: async () => {
            if (!await confirmDialog(`Delete quick response "${qr.name}"?`, "Delete")) return;
            try { await call("DELETE", `${base}/quickResponses/${enc(qr.quickResponseId)}`); toast(`Deleted ${qr.name}`); await load(); }
            catch (err) { toast(String(err), true); }
          },
        }, "Delete")));
    });
    clear(results, table(
      ["Name", "Shortcut", h("span.hide-narrow", mode === "search" ? "Content" : "Content / description"), "Channels", "Active",
        h("span.hide-narrow", mode === "search" ? "Matched fields" : "Last modified"), ""],
      rows, { label: "Quick responses", empty: mode === "search" ? "No quick response matches." : "No quick responses yet." }));
  }

  function drawPager(nextToken) {
    clear(pager,
      h("button", { type: "button", disabled: state.page === 0, onclick: () => { state.page--; load(); } }, "‹ Previous"),
      h("span.muted", `page ${state.page + 1}`),
      h("button", { type: "button", id: "qr-next", disabled: !nextToken, onclick: () => { state.page++; load(); } }, "Next ›"));
  }

  const restart = () => { state.tokens = [undefined]; state.page = 0; load(); };
  search.addEventListener("input", debounce(restart, DEBOUNCE_MS));
  for (const el of [field, typeAhead, channel, active, language]) el.addEventListener("change", restart);
  profile.addEventListener("change", restart);
  const [{ knowledgeBase: kb }] = await Promise.all([kbAnswer, load()]);
  if (!isCurrent(token)) return;
  crumb.textContent = kb.name;
  title.textContent = `Quick responses of ${kb.name}`;
}

// The API returns no highlights for quick responses (its result shape has none), so the page
// marks the query's words itself and names the fields that contain them.
function matchedFields(qr, content, ws) {
  const fields = { shortcutKey: qr.shortcutKey, name: qr.name, content, description: qr.description };
  const last = ws[ws.length - 1];
  return Object.entries(fields).filter(([, v]) => {
    if (!v) return false;
    const have = words(v);
    return ws.every((w, i) => have.some((x) => x === w || (i === ws.length - 1 && x.startsWith(last))));
  }).map(([k]) => k);
}
