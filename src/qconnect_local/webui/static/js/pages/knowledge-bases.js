// Knowledge bases of the current account and region: list, create, delete, reset everything.
import { call, enc, internal, pages, scope } from "../api.js";
import { config, isCurrent } from "../app.js";
import { clear, confirmDialog, copyButton, h, parseTags, table, tags, toast } from "../ui.js";

export async function render(main, token) {
  const list = h("div", h("p.muted", "Loading…"));
  const error = h("p.error", { role: "alert" });
  const form = h("form.form", { "aria-label": "Create a knowledge base" },
    h("label", "Name", h("input", { type: "text", name: "name", required: true, maxLength: 255 })),
    h("label", "Type", h("select", { name: "type" },
      ["QUICK_RESPONSES", "CUSTOM", "EXTERNAL"].map((t) => h("option", { value: t }, t)))),
    h("label", "Description", h("input", { type: "text", name: "description" })),
    h("label", "Tags (k=v, comma-separated)", h("input", { type: "text", name: "tags" })),
    h("div", h("button.primary", { type: "submit" }, "Create knowledge base")));
  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    error.textContent = "";
    const f = new FormData(form);
    const body = { name: f.get("name"), knowledgeBaseType: f.get("type"), clientToken: crypto.randomUUID() };
    if (f.get("description")) body.description = f.get("description");
    const t = parseTags(f.get("tags") || "");
    if (Object.keys(t).length) body.tags = t;
    try {
      const { knowledgeBase } = await call("POST", "/knowledgeBases", { body });
      toast(`Created ${knowledgeBase.name}`);
      form.reset();
      await load();
    } catch (err) { error.textContent = String(err); }
  });
  const reset = h("button.danger", {
    type: "button",
    onclick: async () => {
      if (!await confirmDialog("Reset everything? Every knowledge base, quick response, upload and import job of EVERY account and region on this server is deleted.", "Reset everything")) return;
      try { await internal("POST", "reset"); toast("Everything was reset"); await load(); }
      catch (err) { toast(String(err), true); }
    },
  }, "Reset everything…");

  clear(main,
    h("h1", "Knowledge bases ", h("span.muted", `in ${scope.account} / ${scope.region}`)),
    list,
    h("h2", "Create a knowledge base"), form, error,
    h("h2", "Danger zone"), reset);

  async function load() {
    const kbs = [];
    for await (const page of pages("GET", "/knowledgeBases", "knowledgeBaseSummaries")) kbs.push(...page);
    if (!isCurrent(token)) return;
    const ids = kbs.map((kb) => kb.knowledgeBaseId);
    const counts = ids.length ? await internal("GET", "console/quick-response-counts", { query: { ids: ids.join(",") } }) : { counts: {} };
    if (!isCurrent(token)) return;
    const quota = config.quotas.quickResponsesPerKnowledgeBase;
    const rows = kbs.map((kb) => h("tr", { dataset: { kb: kb.knowledgeBaseId } },
      h("td.id", h("code", kb.knowledgeBaseId), copyButton(kb.knowledgeBaseId)),
      h("td", kb.knowledgeBaseType === "QUICK_RESPONSES" ? h("a", { href: `#/kb/${enc(kb.knowledgeBaseId)}` }, kb.name) : kb.name),
      h("td", kb.knowledgeBaseType),
      h("td", kb.status),
      h("td", { title: "quick responses / quota per knowledge base" },
        kb.knowledgeBaseType === "QUICK_RESPONSES" ? `${counts.counts[kb.knowledgeBaseId] ?? "?"} / ${quota}` : "—"),
      h("td.hide-narrow", tags(kb.tags)),
      h("td", kb.knowledgeBaseType === "QUICK_RESPONSES" ? [
        h("a", { href: `#/kb/${enc(kb.knowledgeBaseId)}/import` }, "Import"), " · ",
        h("a", { href: `#/kb/${enc(kb.knowledgeBaseId)}/jobs` }, "History"), " ",
      ] : null,
      h("button.danger", {
        type: "button", "aria-label": `Delete ${kb.name}`,
        onclick: async () => {
          if (!await confirmDialog(`Delete knowledge base "${kb.name}" and all its quick responses?`, "Delete")) return;
          try { await call("DELETE", `/knowledgeBases/${enc(kb.knowledgeBaseId)}`); toast(`Deleted ${kb.name}`); await load(); }
          catch (err) { toast(String(err), true); }
        },
      }, "Delete"))));
    clear(list,
      table(["Id", "Name", "Type", "Status", "Quick responses", h("span.hide-narrow", "Tags"), "Actions"], rows,
        { label: "Knowledge bases", empty: "No knowledge base in this account and region yet." }),
      h("p.muted", `${kbs.length} of at most ${config.quotas.knowledgeBases} knowledge bases (quota)`));
  }
  try { await load(); } catch (err) { clear(list, h("p.error", String(err))); }
}
