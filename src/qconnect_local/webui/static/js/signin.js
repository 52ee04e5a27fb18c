// The access key of a server started with --verify-signatures: asked once per tab, checked with
// a signed call (console/config answers with the key's account, or with AWS's error), then used
// to sign every call. The secret stays in this tab's sessionStorage.
import { internal, saveCredentials, scope, signing } from "./api.js";
import { clear, h } from "./ui.js";

let lastError = null;

// The key's account, after a signed call; on failure the key is dropped and the error kept to show.
export async function checkKey() {
  try {
    const me = await internal("GET", "console/config");
    lastError = null;
    return me.accountId;
  } catch (err) {
    saveCredentials(null);
    lastError = err;
    return null;
  }
}

function errorText(err) {
  const [first] = String(err.message).split("\n\n");  // InvalidSignatureException adds the canonical request
  return `${err.code}: ${first}`;
}

export function renderSignIn(main, onKey) {
  const keyId = h("input", { type: "text", id: "cred-key", required: true, autocomplete: "username", size: 24 });
  const secret = h("input", { type: "password", id: "cred-secret", required: true, autocomplete: "current-password", size: 24 });
  const token = h("input", { type: "password", id: "cred-token", size: 24 });
  const form = h("form.form", { id: "signin", "aria-label": "Access key" },
    h("label", "Access key id", keyId), h("label", "Secret access key", secret),
    h("label", "Session token (if the key has one)", token),
    h("div", h("button.primary", { type: "submit" }, "Use this key")));
  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    const credentials = { accessKeyId: keyId.value.trim(), secretAccessKey: secret.value };
    if (token.value.trim()) credentials.sessionToken = token.value.trim();
    saveCredentials(credentials);
    await onKey();
  });
  clear(main,
    h("h1", "Access key"),
    h("p", "This server checks AWS Signature V4 on every call (--verify-signatures). Enter a key of its credentials file: ",
      "the page signs each call with it, in the browser. The secret stays in this tab (sessionStorage) and is never sent to the server."),
    lastError ? h("div", { id: "signin-error", role: "alert" },
      h("p.error", errorText(lastError)),
      lastError.message.includes("\n") ? h("details", h("summary", "The whole error"), h("pre.wrap", lastError.message)) : null) : null,
    form);
  keyId.focus();
}

// The scope bar's part: which key signs, and a button to forget it.
export function showKey(box, onForget) {
  if (!signing.credentials) { clear(box); return; }
  clear(box,
    h("span", { title: "the calls are signed with this access key" }, `key ${signing.credentials.accessKeyId} (account ${scope.account})`),
    h("button", { type: "button", id: "cred-forget", onclick: () => { saveCredentials(null); clear(box); onForget(); } }, "Forget key"));
}
