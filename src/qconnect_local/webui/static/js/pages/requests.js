// The request log: the last API calls (GET /_qconnect/requests), with their bodies on demand.
import { internal } from "../api.js";
import { isCurrent } from "../app.js";
import { clear, h, localTime, table } from "../ui.js";

export async function render(main, token) {
  const list = h("div", { id: "requests" });
  const detail = h("div", { id: "request-detail" });
  const limit = h("select", { id: "requests-limit" }, [50, 100, 500].map((n) => h("option", { value: n }, n)));
  const auto = h("input", { type: "checkbox", id: "requests-auto" });
  clear(main, h("h1", "Request log"),
    h("div.toolbar", h("label", "Last", limit), h("button", { type: "button", onclick: () => load() }, "Refresh"),
      h("label", { style: "flex-direction:row;align-items:center;gap:4px" }, auto, "refresh every 2 s")),
    h("div.split", list, detail));
  limit.addEventListener("change", () => load());
  const timer = setInterval(() => { if (!isCurrent(token)) clearInterval(timer); else if (auto.checked) load(); }, 2000);

  async function load() {
    let doc;
    try { doc = await internal("GET", "requests", { query: { limit: limit.value } }); }
    catch (err) {
      clear(list, h("p.error", err.status === 404 ? "This server has no request log (GET /_qconnect/requests)." : String(err)));
      return;
    }
    if (!isCurrent(token)) return;
    const rows = doc.requests.map((r) => h("tr.clickable", {
      tabIndex: 0, dataset: { request: r.id },
      onclick: () => show(r), onkeydown: (e) => { if (e.key === "Enter") show(r); },
    },
      h("td", localTime(r.time, false)),
      h("td", r.operation || `${r.method} ${r.path}`),
      h("td", { class: r.status >= 400 ? "error" : "" }, String(r.status)),
      h("td", r.errorCode || ""),
      h("td", `${Math.round(r.latencyMs * 10) / 10} ms`),
      h("td.hide-narrow", r.account), h("td.hide-narrow", r.region)));
    clear(list, table(["Time", "Operation", "Status", "Error", "Latency", h("span.hide-narrow", "Account"), h("span.hide-narrow", "Region")], rows,
      { label: "Requests", empty: "No API call yet." }));
  }

  function show(r) {
    clear(detail,
      h("h2", `${r.operation || r.path} · ${r.status}`),
      h("p.muted", `${r.method} ${r.path} · request id `, h("code", r.id)),
      h("h3", "Request"), h("pre.body", { id: "request-body" }, JSON.stringify(r.request, null, 2)),
      h("h3", "Response"), h("pre.body", { id: "response-body" }, JSON.stringify(r.response, null, 2)));
  }

  await load();
}
