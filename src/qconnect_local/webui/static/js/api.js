// Calls the public API same-origin with the JSON an SDK sends. Account and region travel in the
// SigV4 Authorization header's credential scope, which is where the server reads them from. On a
// server with --verify-signatures the page signs each call with a key the user gives (sigv4.js).
import { amzDate, signedHeaders } from "./sigv4.js";

const KEY = "qconnect-console-scope";
const CREDENTIALS = "qconnect-console-credentials";

// required: the server checks signatures; credentials: {accessKeyId, secretAccessKey[, sessionToken]},
// kept in this tab's sessionStorage and never sent (only the signatures made with them are).
export const signing = { required: false, credentials: null };

export function loadCredentials() {
  try { signing.credentials = JSON.parse(sessionStorage.getItem(CREDENTIALS) || "null"); } catch { signing.credentials = null; }
}

export function saveCredentials(credentials) {
  signing.credentials = credentials;
  if (credentials) sessionStorage.setItem(CREDENTIALS, JSON.stringify(credentials));
  else sessionStorage.removeItem(CREDENTIALS);
}

export const scope = { account: "", region: "" };

export function loadScope(defaults) {
  let saved = {};
  try { saved = JSON.parse(localStorage.getItem(KEY) || "{}"); } catch { saved = {}; }
  scope.account = saved.account || defaults.defaultAccountId;
  scope.region = saved.region || defaults.defaultRegion;
}

export function saveScope(account, region) {
  scope.account = account;
  scope.region = region;
  localStorage.setItem(KEY, JSON.stringify(scope));
  const seen = new Set(JSON.parse(localStorage.getItem(KEY + "-accounts") || "[]"));
  seen.add(account);
  localStorage.setItem(KEY + "-accounts", JSON.stringify([...seen]));
}

export function knownAccounts() {
  try { return JSON.parse(localStorage.getItem(KEY + "-accounts") || "[]"); } catch { return []; }
}

// Without signature checking the signature is not computed: the server only reads the scope.
export async function authHeaders(method, url, body) {
  if (signing.required) {
    if (!signing.credentials) {
      throw new ApiError(403, "MissingAuthenticationTokenException", "Enter an access key of the server's credentials file (top right)");
    }
    return signedHeaders({ method, url, body, credentials: signing.credentials, region: scope.region });
  }
  const date = amzDate();
  return {
    "x-amz-date": date,
    authorization: `AWS4-HMAC-SHA256 Credential=${scope.account}/${date.slice(0, 8)}/${scope.region}/wisdom/aws4_request, ` +
      `SignedHeaders=host;x-amz-date, Signature=${"0".repeat(64)}`,
  };
}

export class ApiError extends Error {
  constructor(status, code, message, body) {
    super(message);
    this.status = status;
    this.code = code;
    this.body = body;
  }
  toString() { return `${this.code}: ${this.message}`; }
}

function queryString(query) {
  const params = new URLSearchParams();
  for (const [k, v] of Object.entries(query || {})) {
    if (Array.isArray(v)) for (const x of v) params.append(k, x);
    else if (v !== undefined && v !== null && v !== "") params.set(k, v);
  }
  const s = params.toString();
  return s ? "?" + s : "";
}

// One API call: parsed JSON, or an ApiError carrying the service's code and message.
export async function call(method, path, { query, body } = {}) {
  const url = new URL(path + queryString(query), location.href).href;
  const payload = body === undefined ? undefined : JSON.stringify(body);
  const headers = await authHeaders(method, url, payload);
  if (body !== undefined) headers["content-type"] = "application/json";
  const response = await fetch(url, { method, headers, body: payload });
  const text = await response.text();
  let doc = null;
  try { doc = text ? JSON.parse(text) : null; } catch { doc = null; }
  if (!response.ok) {
    const code = (response.headers.get("x-amzn-errortype") || (doc && doc.__type) || `HTTP${response.status}`).split(":")[0];
    throw new ApiError(response.status, code, (doc && (doc.message || doc.Message)) || text || response.statusText, doc);
  }
  return doc || {};
}

export const enc = encodeURIComponent;

// The internal endpoints under /_qconnect/ (same headers, so the scope applies to them too).
export async function internal(method, path, { query, body, raw, unsigned } = {}) {
  const url = new URL("/_qconnect/" + path + queryString(query), location.href).href;
  const payload = raw !== undefined ? raw : body !== undefined ? JSON.stringify(body) : undefined;
  const headers = unsigned ? {} : await authHeaders(method, url, payload);
  if (raw === undefined && body !== undefined) headers["content-type"] = "application/json";
  const response = await fetch(url, { method, headers, body: payload });
  const text = await response.text();
  let doc = null;
  try { doc = text ? JSON.parse(text) : null; } catch { doc = text; }
  if (!response.ok) {
    throw new ApiError(response.status, response.headers.get("x-amzn-errortype") || `HTTP${response.status}`,
      (doc && doc.message) || text || response.statusText, doc);
  }
  return doc;
}

// Every page of a paginated API call (for small lists: knowledge bases, routing profiles).
export async function* pages(method, path, resultKey, { query, body, maxResults = 100 } = {}) {
  let nextToken;
  do {
    const doc = await call(method, path, { query: { ...query, maxResults, nextToken }, body });
    yield doc[resultKey] || [];
    nextToken = doc.nextToken;
  } while (nextToken);
}
