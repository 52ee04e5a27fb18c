// Import a CSV: checked on the server by the offline checker first (same rules as the import job),
// then StartContentUpload, the PUT to the presigned URL, StartImportJob and a live status.
// Also the template download and an export of the knowledge base in the import format.
import { call, enc, internal } from "../api.js";
import { config, isCurrent } from "../app.js";
import { clear, download, h, table, toCsv, toast } from "../ui.js";

const HEADER = ["Name", "Content", "Shortcut key", "Description", "Routing Profile", "Channels", "Content type", "Language", "Active"];
const MARKDOWN = "application/x.quickresponse;format=markdown";
// The browser sets these itself and refuses them from scripts.
const FORBIDDEN = new Set(["host", "content-length", "connection"]);

export async function render(main, token, kbId) {
  const base = `/knowledgeBases/${enc(kbId)}`;
  const { knowledgeBase: kb } = await call("GET", base);
  if (!isCurrent(token)) return;
  let file = null;
  const fileInput = h("input", { type: "file", id: "import-file", accept: ".csv,text/csv" });
  const instance = h("input", { type: "text", id: "import-instance", placeholder: "optional: Amazon Connect instance id", size: 38 });
  const drop = h("div.drop", { id: "import-drop" }, h("p", "Drop a CSV file here, or "), h("label", "choose one: ", fileInput));
  const checkOut = h("div", { id: "import-check", "aria-live": "polite" });
  const startButton = h("button.primary", { type: "button", id: "import-start", disabled: true, onclick: start }, "Upload and import");
  const status = h("div", { id: "import-status", "aria-live": "polite" });

  for (const ev of ["dragenter", "dragover"]) drop.addEventListener(ev, (e) => { e.preventDefault(); drop.classList.add("over"); });
  for (const ev of ["dragleave", "drop"]) drop.addEventListener(ev, () => drop.classList.remove("over"));
  drop.addEventListener("drop", (e) => { e.preventDefault(); if (e.dataTransfer.files[0]) choose(e.dataTransfer.files[0]); });
  fileInput.addEventListener("change", () => fileInput.files[0] && choose(fileInput.files[0]));
  instance.addEventListener("change", () => file && choose(file));

  clear(main,
    h("p.crumbs", h("a", { href: "#/" }, "Knowledge bases"), " › ", h("a", { href: `#/kb/${enc(kbId)}` }, kb.name), " › import"),
    h("h1", `Import quick responses into ${kb.name}`),
    h("div.toolbar",
      h("a", { href: "/_qconnect/console/template.csv", download: "Response Import Template.csv", id: "import-template" }, "Download the template"),
      h("button", { type: "button", id: "export-csv", onclick: exportCsv }, "Export this knowledge base as CSV"),
      h("a", { href: `#/kb/${enc(kbId)}/jobs` }, "Import history")),
    h("div.toolbar", h("label", "Connect instance (resolves Routing Profile names)", instance)),
    drop, checkOut, h("div.toolbar", startButton), status);

  async function choose(f) {
    file = f;
    startButton.disabled = true;
    clear(checkOut, h("p.muted", `Checking ${f.name}…`));
    try {
      const r = await internal("POST", "validate", { raw: await f.arrayBuffer(), query: { knowledgeBaseId: kbId, instanceId: instance.value.trim() } });
      if (!isCurrent(token)) return;
      const parts = [h("p.summary", { id: "import-summary" }, r.fileProblem
        ? h("span.error", `The file cannot be imported: ${r.fileProblem}`)
        : [`${f.name}: ${r.rows} rows — `, h("span.good", `${r.valid} valid`), ", ",
          h(r.failed ? "span.error" : "span", `${r.failed} failed`),
          r.routingProfilesChecked ? "" : " (routing-profile names not checked: the instance is not in the directory)"])];
      if (r.failed) {
        parts.push(h("h2", "Rows that would fail"), table(r.report.header, r.report.rows.map((cells) => cells), { label: "Failed rows" }));
        if (r.reportCsv) parts.push(h("button", { type: "button", onclick: () => download(`${f.name.replace(/\.csv$/i, "")}-failed.csv`, r.reportCsv) }, "Download these rows"));
      }
      clear(checkOut, parts);
      startButton.disabled = Boolean(r.fileProblem);
      startButton.textContent = r.failed ? `Import anyway (${r.valid} rows would land)` : "Upload and import";
    } catch (err) { clear(checkOut, h("p.error", String(err))); }
  }

  async function start() {
    startButton.disabled = true;
    const step = (text) => status.append(h("p", text));
    clear(status);
    try {
      const upload = await call("POST", `${base}/upload`, { body: { contentType: "text/csv" } });
      step(`StartContentUpload: upload ${upload.uploadId}`);
      const headers = Object.fromEntries(Object.entries(upload.headersToInclude || {}).filter(([k]) => !FORBIDDEN.has(k.toLowerCase())));
      const put = await fetch(upload.url, { method: "PUT", headers, body: file });
      if (!put.ok) throw new Error(`PUT to the upload URL: HTTP ${put.status} ${await put.text()}`);
      step(`PUT ${file.size} bytes to the presigned URL: ${put.status}`);
      const body = { importJobType: "QUICK_RESPONSES", uploadId: upload.uploadId, clientToken: crypto.randomUUID(), metadata: { source: "console", file: file.name.slice(0, 200) } };
      if (instance.value.trim()) body.externalSourceConfiguration = { source: "AMAZON_CONNECT", configuration: { connectConfiguration: { instanceId: instance.value.trim() } } };
      let { importJob: job } = await call("POST", `${base}/importJobs`, { body });
      const line = h("p", { id: "import-job-status" });
      status.append(line);
      const t0 = performance.now();
      while (isCurrent(token)) {
        clear(line, `Import job ${job.importJobId}: `, h("strong", job.status), ` (${((performance.now() - t0) / 1000).toFixed(1)} s)`,
          job.status === "START_IN_PROGRESS" && config.importMode === "manual" ? " — held: the server runs in --import-mode manual; run it from the import history" : "");
        if (job.status !== "START_IN_PROGRESS") break;
        await new Promise((r) => setTimeout(r, 400));
        job = (await call("GET", `${base}/importJobs/${enc(job.importJobId)}`)).importJob;
      }
      if (job.status !== "START_IN_PROGRESS") {
        status.append(h("p", h("a", { href: `#/kb/${enc(kbId)}/jobs`, id: "import-history-link" }, "See it in the import history"), job.failedRecordReport ? " (failed-record report available)" : ""));
        toast(`Import ${job.status}`, job.status !== "COMPLETE");
      }
    } catch (err) {
      status.append(h("p.error", { role: "alert" }, String(err)));
      startButton.disabled = false;
    }
  }

  // SearchQuickResponses without queries returns full records (ListQuickResponses summaries lack
  // content), 100 a page in name order; routing-profile ARNs are written back as names.
  async function exportCsv() {
    const rows = [HEADER];
    const names = {};
    let nextToken;
    try {
      do {
        const doc = await call("POST", `${base}/search/quickResponses`, { query: { maxResults: 100, nextToken }, body: { searchExpression: { orderOnField: { name: "name", order: "ASC" } } } });
        for (const qr of doc.results) rows.push(await toRow(qr, names));
        nextToken = doc.nextToken;
      } while (nextToken);
      download(`${kb.name}.csv`, toCsv(rows));
      toast(`Exported ${rows.length - 1} quick responses`);
    } catch (err) { toast(String(err), true); }
  }
}

async function toRow(qr, names) {
  const markdown = qr.contentType === MARKDOWN;
  const body = (markdown ? qr.contents.markdown : qr.contents.plainText) || qr.contents.markdown || {};
  const profiles = [];
  for (const arn of (qr.groupingConfiguration || {}).values || []) {
    const m = /instance\/([^/]+)\/routing-profile\//.exec(arn);
    if (m && !(m[1] in names)) {
      try {
        const doc = await internal("GET", `connect-instances/${enc(m[1])}/routing-profiles`);
        names[m[1]] = Object.fromEntries(doc.routingProfiles.map((p) => [p.arn, p.name]));
      } catch { names[m[1]] = {}; }
    }
    profiles.push((m && names[m[1]][arn]) || arn);
  }
  return [qr.name, body.content || "", qr.shortcutKey || "", qr.description || "", profiles.join("|"),
    (qr.channels || []).join("|"), markdown ? "markdown" : "plain", qr.language || "", qr.isActive === false ? "false" : "true"];
}
