// Import history of one knowledge base: ListImportJobs, the failed-record report as a table and
// a download, running held jobs (--import-mode manual), delete.
import { call, enc, internal } from "../api.js";
import { isCurrent } from "../app.js";
import { clear, confirmDialog, copyButton, h, parseCsv, table, time, toast } from "../ui.js";

export async function render(main, token, kbId) {
  const base = `/knowledgeBases/${enc(kbId)}`;
  const { knowledgeBase: kb } = await call("GET", base);
  if (!isCurrent(token)) return;
  const list = h("div", { id: "jobs" });
  const detail = h("div", { id: "job-detail", "aria-live": "polite" });
  const pager = h("div.pager");
  clear(main,
    h("p.crumbs", h("a", { href: "#/" }, "Knowledge bases"), " › ", h("a", { href: `#/kb/${enc(kbId)}` }, kb.name), " › import history"),
    h("h1", `Import history of ${kb.name}`),
    h("div.toolbar", h("a", { href: `#/kb/${enc(kbId)}/import` }, "New import"), h("button", { type: "button", onclick: () => load() }, "Refresh")),
    list, pager, detail);

  const tokens = [undefined];
  let page = 0;

  async function load() {
    const doc = await call("GET", `${base}/importJobs`, { query: { maxResults: 25, nextToken: tokens[page] } });
    if (!isCurrent(token)) return;
    tokens[page + 1] = doc.nextToken;
    const rows = doc.importJobSummaries.map((job) => h("tr", { dataset: { job: job.importJobId } },
      h("td.id", h("code", job.importJobId.slice(0, 8) + "…"), copyButton(job.importJobId)),
      h("td", h("strong", job.status)),
      h("td", time(job.createdTime)),
      h("td.hide-narrow", time(job.lastModifiedTime)),
      h("td.hide-narrow", Object.entries(job.metadata || {}).map(([k, v]) => h("span.tag", `${k}=${v}`))),
      h("td",
        h("button", { type: "button", onclick: () => show(job.importJobId) }, "Details"), " ",
        job.status === "START_IN_PROGRESS" ? h("button", { type: "button", "aria-label": `Run job ${job.importJobId}`, onclick: () => run(job.importJobId) }, "Run") : null, " ",
        h("button.danger", {
          type: "button", "aria-label": `Delete job ${job.importJobId}`, disabled: job.status === "START_IN_PROGRESS",
          onclick: async () => {
            if (!await confirmDialog("Delete this import job, its report and its upload? The quick responses it created stay.", "Delete")) return;
            try { await call("DELETE", `${base}/importJobs/${enc(job.importJobId)}`); toast("Deleted the import job"); clear(detail); await load(); }
            catch (err) { toast(String(err), true); }
          },
        }, "Delete"))));
    clear(list, table(["Job", "Status", "Created", h("span.hide-narrow", "Last modified"), h("span.hide-narrow", "Metadata"), ""], rows,
      { label: "Import jobs", empty: "No import job for this knowledge base." }));
    clear(pager,
      h("button", { type: "button", disabled: page === 0, onclick: () => { page--; load(); } }, "‹ Previous"),
      h("button", { type: "button", disabled: !doc.nextToken, onclick: () => { page++; load(); } }, "Next ›"));
  }

  async function run(jobId) {
    try {
      const r = await internal("POST", `import-jobs/${enc(jobId)}/run`, { query: { wait: "true" } });
      toast(`Job ${r.status}`);
      await load();
      await show(jobId);
    } catch (err) { toast(String(err), true); }
  }

  // GetImportJob's links: the uploaded file (its rows) and the failed-record report (rows that failed).
  async function show(jobId) {
    clear(detail, h("p.muted", "Loading…"));
    try {
      const { importJob: job } = await call("GET", `${base}/importJobs/${enc(jobId)}`);
      const [file, report] = await Promise.all([fetchText(job.url), job.failedRecordReport ? fetchText(job.failedRecordReport) : null]);
      const fileRows = file === null ? null : parseCsv(file).slice(1).filter((r) => r.some((c) => c)).length;
      const reportRows = report === null ? [] : parseCsv(report);
      const failed = Math.max(reportRows.length - 1, 0);
      const done = job.status !== "START_IN_PROGRESS";
      const imported = done && fileRows !== null ? Math.max(fileRows - failed, 0) : null;
      clear(detail,
        h("h2", `Import job ${job.importJobId}`),
        h("p", { id: "job-counts" }, `Status ${job.status} · rows in the file: ${fileRows ?? "?"} · imported: ${imported ?? "—"} · failed: ${done ? failed : "—"}`),
        job.externalSourceConfiguration ? h("p.muted", `Connect instance ${job.externalSourceConfiguration.configuration.connectConfiguration.instanceId}`) : null,
        h("p", h("a", { href: job.url, download: "upload.csv" }, "Download the uploaded file"),
          job.failedRecordReport ? [" · ", h("a", { href: job.failedRecordReport, download: `failed-records-${job.importJobId}.csv`, id: "job-report-download" }, "Download the failed-record report")] : ""),
        reportRows.length > 1 ? [h("h3", "Failed records"), table(reportRows[0], reportRows.slice(1, 1001), { label: "Failed records" })] : h("p.muted", done ? "No failed records." : ""));
    } catch (err) { clear(detail, h("p.error", String(err))); }
  }

  async function fetchText(url) {
    const r = await fetch(url);
    return r.ok ? r.text() : null;
  }

  await load();
}
