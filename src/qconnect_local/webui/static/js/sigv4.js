// AWS Signature Version 4 in the browser, for a server started with --verify-signatures: the
// canonical request botocore builds (and the server rebuilds), signed with the secret kept in
// this tab. HMAC and SHA-256 come from WebCrypto; outside a secure context (plain http to
// another host) the browser has no crypto.subtle, so a small pure-JavaScript SHA-256 takes over.
import { hmacSha256 as jsHmac, sha256 as jsSha256 } from "./sha256.js";

const te = new TextEncoder();
export const SERVICE = "wisdom";

const subtle = globalThis.crypto && globalThis.crypto.subtle;

function hex(bytes) {
  return Array.from(new Uint8Array(bytes), (b) => b.toString(16).padStart(2, "0")).join("");
}

export async function sha256Hex(data, { pure = !subtle } = {}) {
  return hex(pure ? jsSha256(data) : await subtle.digest("SHA-256", data));
}

export async function hmac(key, message, { pure = !subtle } = {}) {
  const data = te.encode(message);
  if (pure) return jsHmac(key, data);
  const k = await subtle.importKey("raw", key, { name: "HMAC", hash: "SHA-256" }, false, ["sign"]);
  return new Uint8Array(await subtle.sign("HMAC", k, data));
}

// Python's urllib.parse.quote over UTF-8: unreserved characters (and '/' in a path) stay.
function quote(text, keepSlash) {
  let out = "";
  for (const b of te.encode(text)) {
    const c = String.fromCharCode(b);
    if (/[A-Za-z0-9_.~-]/.test(c) || (keepSlash && c === "/")) out += c;
    else out += "%" + b.toString(16).toUpperCase().padStart(2, "0");
  }
  return out;
}

// botocore: remove_dot_segments (and empty segments), then quote the already-encoded path again.
function canonicalPath(path) {
  const parts = [];
  for (const p of path.split("/")) {
    if (!p || p === ".") continue;
    if (p === "..") parts.pop(); else parts.push(p);
  }
  const normal = (path.startsWith("/") ? "/" : "") + parts.join("/") + (path.endsWith("/") && parts.length ? "/" : "");
  return quote(normal || "/", true);
}

// The server decodes the pairs with percent-decoding only ('+' stays '+'), then quotes and sorts them.
function canonicalQuery(search) {
  const pairs = search.replace(/^\?/, "").split("&").filter(Boolean).map((part) => {
    const i = part.indexOf("=");
    const [k, v] = i < 0 ? [part, ""] : [part.slice(0, i), part.slice(i + 1)];
    return [quote(decodeURIComponent(k)), quote(decodeURIComponent(v))];
  });
  pairs.sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : a[1] < b[1] ? -1 : a[1] > b[1] ? 1 : 0));
  return pairs.map(([k, v]) => `${k}=${v}`).join("&");
}

function bytesOf(body) {
  if (body === undefined || body === null) return new Uint8Array();
  if (typeof body === "string") return te.encode(body);
  if (ArrayBuffer.isView(body)) return new Uint8Array(body.buffer, body.byteOffset, body.byteLength);
  return new Uint8Array(body);
}

export function amzDate(now = new Date()) {
  return now.toISOString().replace(/[-:]/g, "").replace(/\.\d+/, "");
}

const keys = new Map();  // the signing key of a day and region, as SDKs cache it

async function signingKey(secret, date, region, opts) {
  const id = `${secret}\n${date}\n${region}\n${opts.pure ? 1 : 0}`;
  if (!keys.has(id)) {
    let k = await hmac(te.encode("AWS4" + secret), date, opts);
    for (const part of [region, SERVICE, "aws4_request"]) k = await hmac(k, part, opts);
    keys.clear();
    keys.set(id, k);
  }
  return keys.get(id);
}

// The headers that sign one request: { authorization, x-amz-date[, x-amz-security-token] }.
// url: absolute (the one fetch is given); body: a string, ArrayBuffer, typed array or undefined.
export async function signedHeaders({ method, url, body, credentials, region, now = new Date(), pure = !subtle }) {
  const u = new URL(url);
  const stamp = amzDate(now);
  const date = stamp.slice(0, 8);
  const signed = { host: u.host, "x-amz-date": stamp };
  if (credentials.sessionToken) signed["x-amz-security-token"] = credentials.sessionToken;
  const names = Object.keys(signed).sort();
  const payload = bytesOf(body);
  const canonical = [
    method.toUpperCase(), canonicalPath(u.pathname), canonicalQuery(u.search),
    names.map((n) => `${n}:${String(signed[n]).trim().replace(/\s+/g, " ")}\n`).join(""),
    names.join(";"), await sha256Hex(payload, { pure }),
  ].join("\n");
  const credentialScope = `${date}/${region}/${SERVICE}/aws4_request`;
  const toSign = ["AWS4-HMAC-SHA256", stamp, credentialScope, await sha256Hex(te.encode(canonical), { pure })].join("\n");
  const signature = hex(await hmac(await signingKey(credentials.secretAccessKey, date, region, { pure }), toSign, { pure }));
  const out = {
    "x-amz-date": stamp,
    authorization: `AWS4-HMAC-SHA256 Credential=${credentials.accessKeyId}/${credentialScope}, ` +
      `SignedHeaders=${names.join(";")}, Signature=${signature}`,
  };
  if (credentials.sessionToken) out["x-amz-security-token"] = credentials.sessionToken;
  return out;
}
