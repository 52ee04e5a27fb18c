// The console's shell: scope bar (account, region, server health), navigation and the router.
import { internal, knownAccounts, loadCredentials, loadScope, saveScope, scope, signing } from "./api.js";
import { checkKey, renderSignIn, showKey } from "./signin.js";
import { clear, h, toast } from "./ui.js";

export const config = {};

const REGIONS = ["us-east-1", "us-west-2", "ca-central-1", "eu-west-2", "eu-central-1", "ap-northeast-1",
  "ap-northeast-2", "ap-southeast-1", "ap-southeast-2", "af-south-1"];

const ROUTES = [
  [/^\/$/, () => import("./pages/knowledge-bases.js")],
  [/^\/kb\/([^/]+)$/, () => import("./pages/quick-responses.js")],
  [/^\/kb\/([^/]+)\/qr\/([^/]+)$/, () => import("./pages/quick-response.js")],
  [/^\/kb\/([^/]+)\/import$/, () => import("./pages/import.js")],
  [/^\/kb\/([^/]+)\/jobs$/, () => import("./pages/import-jobs.js")],
  [/^\/directory$/, () => import("./pages/directory.js")],
  [/^\/requests$/, () => import("./pages/requests.js")],
];

let generation = 0;

// Each page module exports render(main, ...routeGroups); a page left behind must stop drawing.
export function isCurrent(token) { return token === generation; }

async function route() {
  const path = (location.hash || "#/").slice(1).split("?")[0] || "/";
  const main = document.getElementById("main");
  const token = ++generation;
  for (const a of document.querySelectorAll(".main-nav a")) {
    const target = a.getAttribute("href").slice(1);
    a.toggleAttribute("aria-current", target === "/" ? path === "/" || path.startsWith("/kb/") : path.startsWith(target));
    if (a.hasAttribute("aria-current")) a.setAttribute("aria-current", "page");
  }
  if (signing.required && !signing.credentials) {
    renderSignIn(main, useKey);
    return;
  }
  for (const [pattern, load] of ROUTES) {
    const m = path.match(pattern);
    if (!m) continue;
    clear(main, h("p.muted", "Loading…"));
    try {
      const page = await load();
      if (!isCurrent(token)) return;
      await page.render(main, token, ...m.slice(1).map(decodeURIComponent));
    } catch (err) {
      if (isCurrent(token)) clear(main, h("h1", "Something went wrong"), h("p.error", String(err)));
    }
    return;
  }
  clear(main, h("h1", "Not found"), h("p", h("a", { href: "#/" }, "Back to the knowledge bases")));
}

async function refreshStatus() {
  const box = document.getElementById("server-status");
  try {
    const r = await fetch("/_qconnect/health");
    const hl = await r.json();
    const q = hl.importQueue;
    clear(box,
      h(`span.${hl.status}`, { title: "GET /_qconnect/health" }, `● ${hl.status}`),
      h("span", `v${hl.version}`),
      h("span", { title: "storage" }, hl.storage + (hl.inMemory ? " (in memory)" : "")),
      h("span", { title: "import jobs waiting / running" },
        q ? `imports: ${q.waiting ?? q.queued ?? 0} waiting, ${q.running ?? 0} running` : "imports: ?"));
    box.dataset.storage = hl.storage;
  } catch (err) {
    clear(box, h("span.degraded", `● server unreachable`));
  }
}

function setUpScopeBar() {
  const form = document.getElementById("scope");
  const account = document.getElementById("scope-account");
  const region = document.getElementById("scope-region");
  account.value = scope.account;
  region.value = scope.region;
  const accounts = new Set([config.defaultAccountId, ...knownAccounts()]);
  clear(document.getElementById("scope-accounts"), [...accounts].map((a) => h("option", { value: a })));
  clear(document.getElementById("scope-regions"), [...new Set([config.defaultRegion, ...REGIONS])].map((r) => h("option", { value: r })));
  form.addEventListener("submit", (e) => {
    e.preventDefault();
    if (!form.reportValidity()) return;
    saveScope(account.value.trim(), region.value.trim());
    toast(`Now in account ${scope.account}, region ${scope.region}`);
    if (location.hash.startsWith("#/kb/")) location.hash = "#/";  // a knowledge base belongs to one scope
    else route();
  });
}

// With signature checking, the account is the key's: checked with a signed call, then shown.
async function useKey() {
  const account = signing.credentials ? await checkKey() : null;
  if (account) {
    saveScope(account, scope.region);
    document.getElementById("scope-account").value = account;
  }
  showKey(document.getElementById("signed-in"), route);
  await route();
}

async function start() {
  Object.assign(config, await internal("GET", "console/config", { unsigned: true }));  // no account's data
  signing.required = Boolean(config.signaturesRequired);
  loadScope(config);
  setUpScopeBar();
  window.addEventListener("hashchange", route);
  if (signing.required) {
    loadCredentials();
    document.getElementById("scope-account").readOnly = true;  // the key names the account
    await useKey();
  } else {
    await route();  // the page's own calls first: the health check is not needed to draw it
  }
  await refreshStatus();
  setInterval(refreshStatus, 5000);
}

start();
