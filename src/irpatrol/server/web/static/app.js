// irpatrol dashboard shell: hash router, login/session, i18n, API client, error banner, nav.
//
// Contract for page modules (static/pages/<name>.js):
//   export async function render(root, params, ctx)
// ctx = { api, apiBinary, apiBlob, t, lang, me, can, navigate, showError, reload, login }
// When render() resolves the shell sets data-page="<name>" and data-ready="1" on <main>.

const API = "/api/v1";
const TOKEN_KEY = "irpatrol.token";
const LANG_KEY = "irpatrol.lang";

/** One route per hash path; `:id` captures a numeric id. Order matters (first match wins). */
const ROUTES = [
  { path: /^\/login$/, page: "login", section: null, open: true },
  { path: /^\/overview$/, page: "overview", section: "overview" },
  { path: /^\/assets$/, page: "assets", section: "assets" },
  { path: /^\/points\/(\d+)$/, page: "point", section: "assets" },
  { path: /^\/executions$/, page: "executions", section: "executions" },
  { path: /^\/executions\/(\d+)$/, page: "execution", section: "executions" },
  { path: /^\/captures$/, page: "captures", section: "captures" },
  { path: /^\/captures\/(\d+)$/, page: "capture", section: "captures" },
  { path: /^\/defects$/, page: "defects", section: "defects" },
  { path: /^\/positions$/, page: "positions", section: "positions" },
];

/** An error answered by the API (or a network failure: status 0, code "network"). */
export class ApiError extends Error {
  constructor(status, code, message) {
    super(message);
    this.name = "ApiError";
    this.status = status;
    this.code = code;
  }
}

const state = {
  lang: localStorage.getItem(LANG_KEY) === "en" ? "en" : "zh",
  dict: {},
  pageDicts: new Map(), // "<page>.<lang>" -> dict (or {} when the file is absent)
  me: null,
  generation: 0,
  flash: null, // message shown on the next login page
  languageReady: Promise.resolve(),
};

const $ = (id) => document.getElementById(id);
const main = () => $("main");

// ---------------------------------------------------------------- i18n

/** The label for `key` in the current language, `{name}` placeholders filled from `vars`. */
export function t(key, vars) {
  let text = state.dict[key];
  if (text === undefined) {
    for (const d of state.pageDicts.values()) {
      if (d.__lang === state.lang && d[key] !== undefined) {
        text = d[key];
        break;
      }
    }
  }
  if (text === undefined) text = key;
  if (vars) text = text.replace(/\{(\w+)\}/g, (m, name) => (vars[name] ?? m));
  return text;
}

/** A static JSON file, or null when it is absent, unreadable or the network is down. */
async function fetchJson(url) {
  try {
    const r = await fetch(url, { headers: { Accept: "application/json" } });
    return r.ok ? await r.json() : null;
  } catch {
    return null;
  }
}

async function loadLanguage(lang) {
  const dict = await fetchJson(`/static/i18n/${lang}.json`);
  state.lang = lang;
  state.dict = dict || {};
  document.documentElement.lang = lang === "zh" ? "zh-CN" : "en";
  document.title = t("app.title");
  translateShell();
}

/** A page's own dictionary `i18n/<page>.<lang>.json`, if it ships one (404 tolerated). */
async function loadPageDict(page) {
  const key = `${page}.${state.lang}`;
  if (!state.pageDicts.has(key)) {
    const dict = await fetchJson(`/static/i18n/${key}.json`);
    state.pageDicts.set(key, { ...(dict || {}), __lang: state.lang });
  }
}

function translateShell() {
  for (const el of document.querySelectorAll("[data-i18n]")) el.textContent = t(el.dataset.i18n);
  for (const el of document.querySelectorAll("[data-i18n-aria-label]")) {
    el.setAttribute("aria-label", t(el.dataset.i18nAriaLabel));
  }
  const sw = $("lang-switch");
  // the switch names the other language in that language
  sw.textContent = state.lang === "zh" ? "English" : "中文";
  sw.lang = state.lang === "zh" ? "en" : "zh-CN";
  sw.title = t("shell.switch_language"); // the visible name stays the accessible name
  renderWho();
}

// ---------------------------------------------------------------- API client

function token() {
  return sessionStorage.getItem(TOKEN_KEY);
}

async function request(path, opts = {}) {
  const headers = new Headers(opts.headers || {});
  const tok = token();
  if (tok && !opts.anonymous) headers.set("Authorization", `Bearer ${tok}`);
  let body = opts.body;
  if (body !== undefined && !(body instanceof FormData) && !(body instanceof Blob) && typeof body !== "string") {
    body = JSON.stringify(body);
    headers.set("Content-Type", "application/json");
  }
  if (!headers.has("Accept")) headers.set("Accept", opts.accept || "application/json");
  let response;
  try {
    response = await fetch(API + path, { method: opts.method || (body !== undefined ? "POST" : "GET"), headers, body });
  } catch {
    throw new ApiError(0, "network", t("error.network"));
  }
  if (!response.ok) {
    let code = "error";
    let message = `HTTP ${response.status}`;
    try {
      const err = (await response.json()).error;
      if (err) {
        code = err.code || code;
        message = err.message || message;
      }
    } catch {
      /* not a JSON body (a proxy's page): keep the status line */
    }
    const error = new ApiError(response.status, code, message);
    if (response.status === 401 && !opts.anonymous) {
      sessionExpired();
      error.handled = true;
    }
    throw error;
  }
  return response;
}

/** JSON from `GET|POST /api/v1<path>`; opts: {method, body (object → JSON, or FormData), headers}. */
export async function api(path, opts = {}) {
  const r = await request(path, opts);
  if (r.status === 204) return null;
  const text = await r.text();
  return text ? JSON.parse(text) : null;
}

/** Raw bytes and headers (e.g. the °C matrix as float32 with X-Width/X-Height). */
export async function apiBinary(path, opts = {}) {
  const r = await request(path, { ...opts, accept: "*/*" });
  return { buffer: await r.arrayBuffer(), headers: r.headers };
}

/** A file from the API as a Blob (reports, images), sent with the bearer header. */
export async function apiBlob(path, opts = {}) {
  const r = await request(path, { ...opts, accept: "*/*" });
  return r.blob();
}

function can(action) {
  const scopes = new Set((state.me && state.me.scopes) || []);
  if (action === "review" || action === "lifecycle") return scopes.has("review");
  if (action === "admin") return scopes.has("admin");
  if (action === "assets") return scopes.has("assets:write");
  return scopes.has(action);
}

// ---------------------------------------------------------------- session

async function login(username, password) {
  const r = await api("/auth/login", { method: "POST", body: { username, password }, anonymous: true });
  sessionStorage.setItem(TOKEN_KEY, r.token);
  state.me = null;
  await loadMe();
  return r;
}

async function loadMe() {
  if (!token()) return null;
  const me = await api("/me");
  state.me = { name: me.user, role: me.role, scopes: me.scopes };
  renderWho();
  return state.me;
}

function clearSession() {
  sessionStorage.removeItem(TOKEN_KEY);
  state.me = null;
  renderWho();
}

function sessionExpired() {
  clearSession();
  state.flash = "login.expired";
  hideError();
  if (location.hash !== "#/login") location.hash = "#/login";
}

async function logout() {
  try {
    await api("/auth/logout", { method: "POST" });
  } catch {
    /* the token is dropped here whatever the server says */
  }
  clearSession();
  state.flash = "login.logged_out";
  navigate("#/login");
}

function renderWho() {
  const who = $("whoami");
  const loggedIn = Boolean(state.me);
  $("nav").hidden = !loggedIn;
  $("logout").hidden = !loggedIn;
  who.hidden = !loggedIn;
  if (loggedIn) who.textContent = `${state.me.name} · ${t("role." + state.me.role)}`;
}

// ---------------------------------------------------------------- errors and status

let retryAction = null;

/** Show `message` in the banner (role=alert); `retry` defaults to rendering the page again. */
export function showError(message, retry) {
  retryAction = retry || (() => route());
  $("banner-message").textContent = message;
  $("banner").hidden = false;
}

function hideError() {
  $("banner").hidden = true;
  $("banner-message").textContent = "";
}

/** Announce a short status message to screen readers (and show it briefly). */
export function announce(message) {
  const el = $("status");
  el.textContent = "";
  requestAnimationFrame(() => {
    el.textContent = message;
  });
}

function errorText(err) {
  if (err instanceof ApiError) {
    if (err.status === 0) return t("error.network");
    return t("error.api", { status: err.status, message: err.message });
  }
  return t("error.unexpected", { message: String((err && err.message) || err) });
}

// ---------------------------------------------------------------- router

function parseHash() {
  const raw = location.hash.replace(/^#/, "") || "/overview";
  const [path, query = ""] = raw.split("?");
  const params = Object.fromEntries(new URLSearchParams(query));
  for (const r of ROUTES) {
    const m = path.match(r.path);
    if (m) return { route: r, params: m[1] !== undefined ? { ...params, id: m[1] } : params };
  }
  return null;
}

/** Go to `hash` ("#/defects?grade=serious"); the same hash renders the page again. */
export function navigate(hash) {
  if (location.hash === hash) route();
  else location.hash = hash;
}

function setNav(section) {
  for (const a of document.querySelectorAll("#nav a")) {
    if (a.dataset.section === section) a.setAttribute("aria-current", "page");
    else a.removeAttribute("aria-current");
  }
}

function makeCtx() {
  return {
    api,
    apiBinary,
    apiBlob,
    t,
    lang: state.lang,
    me: state.me,
    can,
    navigate,
    showError,
    announce,
    reload: () => route({ keepFocus: true }),
    login,
  };
}

const modules = new Map();

async function pageModule(name) {
  if (!modules.has(name)) modules.set(name, await import(`./pages/${name}.js`));
  return modules.get(name);
}

async function route(options = {}) {
  const gen = ++state.generation;
  const m = main();
  m.removeAttribute("data-ready");
  m.removeAttribute("data-error");
  m.setAttribute("aria-busy", "true");
  hideError();
  let found = parseHash();
  if (!found) {
    location.replace("#/overview");
    return;
  }
  if (!found.route.open && !token()) {
    state.flash = state.flash || null;
    location.replace("#/login");
    return;
  }
  if (found.route.page === "login" && token() && state.me) {
    location.replace("#/overview");
    return;
  }
  try {
    const { route: r, params } = found;
    setNav(r.section);
    // one round trip, not a waterfall: who am I, the dictionaries and the page's module at once
    const [, , mod] = await Promise.all([
      token() && !state.me ? loadMe() : null,
      state.languageReady.then(() => loadPageDict(r.page)),
      pageModule(r.page),
    ]);
    if (gen !== state.generation) return;
    const root = document.createElement("div");
    root.className = `page page-${r.page}`;
    if (r.page === "login") {
      params.flash = state.flash;
      state.flash = null;
    }
    m.dataset.page = r.page;
    // render into a detached element: a slow answer for a page left meanwhile is dropped
    const out = document.createElement("div");
    out.className = "loading";
    out.textContent = t("shell.loading");
    m.replaceChildren(out);
    await mod.render(root, params, makeCtx());
    if (gen !== state.generation) return;
    m.replaceChildren(root);
    m.dataset.page = r.page;
    m.dataset.ready = "1";
    m.removeAttribute("aria-busy");
    if (!options.keepFocus) {
      const h = root.querySelector("h1");
      (h || m).setAttribute("tabindex", "-1");
      (h || m).focus({ preventScroll: false });
    }
  } catch (err) {
    await state.languageReady;
    if (gen !== state.generation) return;
    m.removeAttribute("aria-busy");
    if (err && err.handled) return; // a 401: already on the way to the login page
    const box = document.createElement("div");
    box.className = "page page-error";
    const h = document.createElement("h1");
    h.textContent = t("error.title");
    const p = document.createElement("p");
    p.textContent = errorText(err);
    box.append(h, p);
    m.replaceChildren(box);
    m.dataset.error = "1";
    showError(errorText(err));
    console.error(err);
  }
}

// ---------------------------------------------------------------- start

async function start() {
  state.languageReady = loadLanguage(state.lang);
  $("lang-switch").addEventListener("click", async () => {
    const next = state.lang === "zh" ? "en" : "zh";
    localStorage.setItem(LANG_KEY, next);
    state.languageReady = loadLanguage(next);
    await state.languageReady;
    await route({ keepFocus: true });
    $("lang-switch").focus();
  });
  $("logout").addEventListener("click", logout);
  $("banner-retry").addEventListener("click", () => {
    const again = retryAction;
    hideError();
    if (again) again();
  });
  $("banner-close").addEventListener("click", hideError);
  $("skip-link").addEventListener("click", (e) => {
    e.preventDefault();
    main().focus();
  });
  window.addEventListener("hashchange", () => route());
  await route();
}

start();
