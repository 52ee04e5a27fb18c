// The local Connect directory: routing profiles of each Amazon Connect instance, as import jobs
// resolve the CSV's Routing Profile names. The directory has no listing endpoint, so the page
// offers the instances it has seen (import jobs, this browser) and any id typed in.
import { enc, internal } from "../api.js";
import { clear, copyButton, h, table, toast } from "../ui.js";

const KEY = "qconnect-console-instances";

function remembered() {
  try { return JSON.parse(localStorage.getItem(KEY) || "[]"); } catch { return []; }
}

function remember(id) {
  const all = new Set(remembered());
  all.add(id);
  localStorage.setItem(KEY, JSON.stringify([...all]));
}

export async function render(main) {
  const idInput = h("input", { type: "text", id: "instance-id", required: true, size: 40, list: "known-instances" });
  const known = h("datalist", { id: "known-instances" }, remembered().map((i) => h("option", { value: i })));
  const view = h("div", { id: "instance-view" });
  const form = h("form.toolbar", h("label", "Instance id", idInput), known, h("button.primary", { type: "submit" }, "Open"));
  form.addEventListener("submit", (e) => { e.preventDefault(); open(idInput.value.trim()); });
  clear(main, h("h1", "Connect directory"),
    h("p.muted", "Routing profiles of each Amazon Connect instance, as import jobs resolve names. Profiles given without an ARN get a stable one."),
    form, view);

  async function open(id) {
    let profiles = [];
    let exists = true;
    try { profiles = (await internal("GET", `connect-instances/${enc(id)}/routing-profiles`)).routingProfiles; }
    catch (err) { if (err.status === 404) exists = false; else { clear(view, h("p.error", String(err))); return; } }
    remember(id);
    const editor = h("textarea", { id: "instance-profiles", rows: 8, cols: 80, "aria-label": "Routing profiles, one a line: name or name=ARN" },
      profiles.map((p) => `${p.name}=${p.arn}`).join("\n"));
    const error = h("p.error", { role: "alert" });
    clear(view,
      h("h2", `Instance ${id}`, copyButton(id, "instance id")),
      exists ? table(["Name", "ARN"], profiles.map((p) => [p.name, h("code", p.arn)]), { label: "Routing profiles" }) : h("p.muted", "Not in the directory yet."),
      h("h3", "Edit (one a line: name, or name=ARN)"), editor, error,
      h("div.toolbar",
        h("button.primary", { type: "button", id: "instance-save", onclick: async () => {
          const list = editor.value.split("\n").map((l) => l.trim()).filter(Boolean).map((l) => {
            const i = l.indexOf("=arn:");
            return i < 0 ? { name: l } : { name: l.slice(0, i).trim(), arn: l.slice(i + 1).trim() };
          });
          try { await internal("PUT", `connect-instances/${enc(id)}/routing-profiles`, { body: { routingProfiles: list } }); toast("Saved"); await open(id); }
          catch (err) { error.textContent = String(err); }
        } }, "Save"),
        exists ? h("button.danger", { type: "button", onclick: async () => {
          try { await internal("DELETE", `connect-instances/${enc(id)}/routing-profiles`); toast("Removed"); await open(id); }
          catch (err) { error.textContent = String(err); }
        } }, "Remove the instance") : null));
  }
}
