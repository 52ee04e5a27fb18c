// The local Connect directory: routing profiles of each Amazon Connect instance of the account,
// as import jobs resolve the CSV's Routing Profile names. Lists the instances, opens one by id.
import { enc, internal } from "../api.js";
import { isCurrent } from "../app.js";
import { clear, copyButton, h, table, toast } from "../ui.js";

export async function render(main, token) {
  const idInput = h("input", { type: "text", id: "instance-id", required: true, size: 40 });
  const list = h("div", { id: "instances" }, h("p.muted", "Loading…"));
  const view = h("div", { id: "instance-view" });
  const form = h("form.toolbar", h("label", "Instance id", idInput), h("button.primary", { type: "submit" }, "Open"));
  form.addEventListener("submit", (e) => { e.preventDefault(); open(idInput.value.trim()); });
  clear(main, h("h1", "Connect directory"),
    h("p.muted", "Routing profiles of each Amazon Connect instance of this account, as import jobs resolve names. Profiles given without an ARN get a stable one."),
    list, form, view);

  async function listInstances() {
    let doc;
    try { doc = await internal("GET", "connect-instances"); }
    catch (err) { clear(list, h("p.error", String(err))); return; }
    if (!isCurrent(token)) return;
    const rows = doc.instances.map((i) => h("tr", { dataset: { instance: i.instanceId } },
      h("td", h("button.link", { type: "button", onclick: () => { idInput.value = i.instanceId; open(i.instanceId); } }, i.instanceId)),
      h("td", String(i.routingProfileCount))));
    clear(list, table(["Instance", "Routing profiles"], rows,
      { label: "Amazon Connect instances", empty: "No instance in the directory for this account yet." }));
  }

  async function open(id) {
    let profiles = [];
    let exists = true;
    try { profiles = (await internal("GET", `connect-instances/${enc(id)}/routing-profiles`)).routingProfiles; }
    catch (err) { if (err.status === 404) exists = false; else { clear(view, h("p.error", String(err))); return; } }
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
          try { await internal("PUT", `connect-instances/${enc(id)}/routing-profiles`, { body: { routingProfiles: list } }); toast("Saved"); await open(id); await listInstances(); }
          catch (err) { error.textContent = String(err); }
        } }, "Save"),
        exists ? h("button.danger", { type: "button", onclick: async () => {
          try { await internal("DELETE", `connect-instances/${enc(id)}/routing-profiles`); toast("Removed"); await open(id); await listInstances(); }
          catch (err) { error.textContent = String(err); }
        } }, "Remove the instance") : null));
  }
  await listInstances();
}
