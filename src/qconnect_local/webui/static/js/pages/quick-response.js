// One quick response: every CreateQuickResponse member, markdown preview, the plain text the API
// derives, {{Attributes.X}} interpolation preview, tags; the API's errors shown beside the field.
import { call, enc } from "../api.js";
import { isCurrent } from "../app.js";
import { clear, confirmDialog, formatTags, h, localTime, parseTags, toast } from "../ui.js";
import { renderMarkdown } from "../markdown.js";

const MARKDOWN = "application/x.quickresponse;format=markdown";
const PLAIN = "application/x.quickresponse;format=plain";
const LANGUAGES = ["", "de_DE", "en_US", "es_ES", "fr_FR", "id_ID", "it_IT", "ja_JP", "ko_KR", "pt_BR", "zh_CN", "zh_TW"];
// Which input an error message is about: the member names the API's messages use.
const FIELD_OF = [
  [/shortcut ?key/i, "shortcutKey"], [/\bname\b/i, "name"], [/description/i, "description"],
  [/contentType|content type/i, "contentType"], [/\bcontent\b/i, "content"], [/channel/i, "channels"],
  [/language/i, "language"], [/grouping|routing/i, "groupingConfiguration"], [/tag/i, "tags"],
];
const ATTRIBUTE = /\{\{\s*Attributes\.([^}\s]+)\s*\}\}/g;

export async function render(main, token, kbId, qrId) {
  const base = `/knowledgeBases/${enc(kbId)}`;
  const isNew = qrId === "new";
  const [{ knowledgeBase: kb }, current] = await Promise.all([
    call("GET", base),
    isNew ? Promise.resolve(null) : call("GET", `${base}/quickResponses/${enc(qrId)}`).then((d) => d.quickResponse),
  ]);
  if (!isCurrent(token)) return;
  const qr = current || { isActive: true, contentType: PLAIN, channels: ["Chat"] };
  const body = (qr.contents && (qr.contentType === MARKDOWN ? qr.contents.markdown : qr.contents.plainText)) || {};

  const errors = {};
  const input = (name, el) => { errors[name] = h("p.field-error", { id: `err-${name}`, role: "alert" }); el.setAttribute("aria-describedby", `err-${name}`); el.id = `qr-${name}`; return el; };
  const name = input("name", h("input", { type: "text", value: qr.name || "", required: true }));
  const content = input("content", h("textarea", { rows: 8 }, body.content || ""));
  const contentType = input("contentType", h("select", [[PLAIN, "plain text"], [MARKDOWN, "markdown"]].map(([v, t]) => h("option", { value: v, selected: qr.contentType === v }, t))));
  const description = input("description", h("input", { type: "text", value: qr.description || "" }));
  const shortcutKey = input("shortcutKey", h("input", { type: "text", value: qr.shortcutKey || "" }));
  const language = input("language", h("select", LANGUAGES.map((l) => h("option", { value: l, selected: (qr.language || "") === l }, l || "(none)"))));
  const isActive = h("input", { type: "checkbox", id: "qr-isActive", checked: qr.isActive !== false });
  const chat = h("input", { type: "checkbox", id: "qr-chat", checked: (qr.channels || []).includes("Chat") });
  const email = h("input", { type: "checkbox", id: "qr-email", checked: (qr.channels || []).includes("Email") });
  const channelsBox = h("fieldset", h("legend", "Channels"), h("div.checks", h("label", chat, "Chat"), h("label", email, "Email")));
  errors.channels = h("p.field-error", { role: "alert" });
  const grouping = qr.groupingConfiguration || {};
  const criteria = input("criteria", h("input", { type: "text", value: grouping.criteria || "", placeholder: "RoutingProfileArn" }));
  const groupValues = input("groupingConfiguration", h("textarea", { rows: 3, placeholder: "one routing-profile ARN a line" }, (grouping.values || []).join("\n")));
  const tagsBox = input("tags", h("textarea", { rows: 3, placeholder: "key=value, one a line" }, formatTags(qr.tags)));
  const formError = h("p.error", { id: "qr-form-error", role: "alert" });

  const mdPreview = h("div.preview", { id: "qr-markdown-preview", "aria-label": "Markdown preview" });
  const plainPreview = h("div.preview", { id: "qr-plain-text" }, h("pre", (qr.contents && qr.contents.plainText && qr.contents.plainText.content) || ""));
  const samples = h("div.form", { id: "qr-samples" });
  const interpolated = h("div.preview", { id: "qr-interpolated" });
  const sampleValues = {};

  function refreshPreviews() {
    const text = content.value;
    clear(mdPreview, contentType.value === MARKDOWN ? renderMarkdown(text) : h("pre", text));
    const keys = [...new Set([...text.matchAll(ATTRIBUTE)].map((m) => m[1]))];
    clear(samples, keys.length ? keys.map((k) => h("label", `Attributes.${k}`, h("input", {
      type: "text", value: sampleValues[k] || "", "data-attribute": k,
      oninput: (e) => { sampleValues[k] = e.target.value; drawInterpolated(); },
    }))) : h("p.muted", "No {{Attributes.X}} placeholders in the content."));
    drawInterpolated();
  }
  function drawInterpolated() {
    const text = content.value.replace(ATTRIBUTE, (whole, k) => (sampleValues[k] ? sampleValues[k] : whole));
    clear(interpolated, contentType.value === MARKDOWN ? renderMarkdown(text) : h("pre", text));
  }
  content.addEventListener("input", refreshPreviews);
  contentType.addEventListener("change", refreshPreviews);

  // The real interpolation: SearchQuickResponses with `attributes`, filtered to this one response.
  const apiPreview = h("div.preview", { id: "qr-api-interpolated" });
  const apiPreviewButton = isNew ? null : h("button", {
    type: "button", onclick: async () => {
      try {
        const doc = await call("POST", `${base}/search/quickResponses`, { body: {
          searchExpression: { filters: [{ name: "name", operator: "EQUALS", values: [qr.name] }] }, attributes: sampleValues } });
        const hit = doc.results.find((r) => r.quickResponseId === qr.quickResponseId);
        clear(apiPreview, hit ? [h("pre", (hit.contents.plainText || {}).content || ""),
          h("p.muted", `interpolated: ${hit.attributesInterpolated.join(", ") || "none"}; not interpolated: ${hit.attributesNotInterpolated.join(", ") || "none"}`)] : "not found");
      } catch (err) { clear(apiPreview, h("p.error", String(err))); }
    },
  }, "Interpolate through the API (SearchQuickResponses)");

  const form = h("form", { id: "qr-form", "aria-label": "Quick response" },
    h("div.form",
      h("label", "Name *", name, errors.name),
      h("label", "Shortcut key", shortcutKey, errors.shortcutKey),
      h("label", "Content type", contentType, errors.contentType),
      h("label", "Language", language, errors.language),
      h("div", channelsBox, errors.channels),
      h("div.checks", h("label", isActive, "Active (visible to agents)")),
      h("label.wide", "Description", description, errors.description),
      h("label.wide", "Content *", content, errors.content),
      h("label", "Grouping criteria", criteria, errors.criteria),
      h("label", "Routing profiles (grouping values)", groupValues, errors.groupingConfiguration),
      h("label", isNew ? "Tags" : "Tags (TagResource / UntagResource)", tagsBox, errors.tags)),
    formError,
    h("div.toolbar", h("button.primary", { type: "submit", id: "qr-save" }, isNew ? "Create" : "Save"),
      isNew ? null : h("button.danger", { type: "button", id: "qr-delete", onclick: remove }, "Delete")));
  form.addEventListener("submit", (e) => { e.preventDefault(); save(); });

  clear(main,
    h("p.crumbs", h("a", { href: "#/" }, "Knowledge bases"), " › ", h("a", { href: `#/kb/${enc(kbId)}` }, kb.name), " › ", isNew ? "new" : qr.name),
    h("h1", isNew ? "New quick response" : qr.name),
    isNew ? null : h("p.muted", h("code", qr.quickResponseId), ` · status ${qr.status} · modified `, localTime(qr.lastModifiedTime), qr.lastModifiedBy ? ` by ${qr.lastModifiedBy}` : ""),
    form,
    h("h2", "Preview"),
    h("div.previews",
      h("div", h("h3", "Rendered"), mdPreview),
      h("div", h("h3", "Plain text the API derived (saved version)"), plainPreview)),
    h("h2", "Attribute interpolation"),
    samples,
    h("div.previews", h("div", h("h3", "With the sample values"), interpolated),
      isNew ? null : h("div", h("h3", "From the API"), apiPreviewButton, apiPreview)));
  refreshPreviews();

  function showError(err) {
    for (const el of Object.values(errors)) el.textContent = "";
    formError.textContent = "";
    const message = `${err.code}: ${err.message}`;
    // The member the message names ('at 'name'' in a validation message, or a field word).
    const quoted = /at '([A-Za-z.]+)'/.exec(err.message || "");
    let target = quoted ? quoted[1].split(".")[0] : null;
    if (!target || !errors[target]) target = (FIELD_OF.find(([re]) => re.test(err.message || "")) || [])[1];
    if (target && errors[target]) {
      errors[target].textContent = message;
      const el = document.getElementById(`qr-${target}`);
      if (el) el.setAttribute("aria-invalid", "true");
    } else formError.textContent = message;
  }

  async function save() {
    for (const el of Object.values(errors)) el.textContent = "";
    formError.textContent = "";
    for (const el of form.querySelectorAll("[aria-invalid]")) el.removeAttribute("aria-invalid");
    const channels = [chat.checked && "Chat", email.checked && "Email"].filter(Boolean);
    const values = groupValues.value.split("\n").map((s) => s.trim()).filter(Boolean);
    const req = { name: name.value, content: { content: content.value }, contentType: contentType.value, isActive: isActive.checked, channels };
    if (language.value) req.language = language.value;
    try {
      if (isNew) {
        if (description.value) req.description = description.value;
        if (shortcutKey.value) req.shortcutKey = shortcutKey.value;
        if (values.length || criteria.value) req.groupingConfiguration = { criteria: criteria.value || "RoutingProfileArn", values };
        const t = parseTags(tagsBox.value);
        if (Object.keys(t).length) req.tags = t;
        req.clientToken = crypto.randomUUID();
        const { quickResponse } = await call("POST", `${base}/quickResponses`, { body: req });
        toast(`Created ${quickResponse.name}`);
        location.hash = `#/kb/${enc(kbId)}/qr/${enc(quickResponse.quickResponseId)}`;
        return;
      }
      if (description.value) req.description = description.value; else if (qr.description) req.removeDescription = true;
      if (shortcutKey.value) req.shortcutKey = shortcutKey.value; else if (qr.shortcutKey) req.removeShortcutKey = true;
      if (values.length || criteria.value) req.groupingConfiguration = { criteria: criteria.value || "RoutingProfileArn", values };
      else if (qr.groupingConfiguration) req.removeGroupingConfiguration = true;
      const { quickResponse } = await call("POST", `${base}/quickResponses/${enc(qrId)}`, { body: req });
      await saveTags(quickResponse.quickResponseArn);
      toast(`Saved ${quickResponse.name}`);
      await render(main, token, kbId, qrId);
    } catch (err) { showError(err); }
  }

  async function saveTags(arn) {
    const want = parseTags(tagsBox.value);
    const have = qr.tags || {};
    const gone = Object.keys(have).filter((k) => !(k in want));
    const changed = Object.fromEntries(Object.entries(want).filter(([k, v]) => have[k] !== v));
    if (gone.length) await call("DELETE", `/tags/${enc(arn)}`, { query: { tagKeys: gone } });
    if (Object.keys(changed).length) await call("POST", `/tags/${enc(arn)}`, { body: { tags: changed } });
  }

  async function remove() {
    if (!await confirmDialog(`Delete quick response "${qr.name}"?`, "Delete")) return;
    try {
      await call("DELETE", `${base}/quickResponses/${enc(qrId)}`);
      toast(`Deleted ${qr.name}`);
      location.hash = `#/kb/${enc(kbId)}`;
    } catch (err) { showError(err); }
  }
}
