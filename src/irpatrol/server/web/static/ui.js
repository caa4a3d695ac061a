// Small helpers the dashboard pages share: element builder, formatting, tables, pager, filters.

/** An element: h("a", {href: "#/x", class: "c"}, "text", child). `on<Event>` attrs add listeners. */
export function h(tag, attrs, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === null || v === undefined || v === false) continue;
    if (k.startsWith("on") && typeof v === "function") el.addEventListener(k.slice(2).toLowerCase(), v);
    else if (k === "class") el.className = v;
    else if (k === "dataset") Object.assign(el.dataset, v);
    else if (v === true) el.setAttribute(k, "");
    else el.setAttribute(k, String(v));
  }
  append(el, children);
  return el;
}

function append(el, children) {
  for (const c of children.flat(Infinity)) {
    if (c === null || c === undefined || c === false) continue;
    el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
}

/** An SVG element with attributes. */
export function svg(tag, attrs, ...children) {
  const el = document.createElementNS("http://www.w3.org/2000/svg", tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v !== null && v !== undefined) el.setAttribute(k, String(v));
  }
  append(el, children);
  return el;
}

/** A time (ISO 8601 from the API) in the viewer's zone as YYYY-MM-DD HH:mm (both languages). */
export function fmtTime(iso, lang) {
  if (!iso) return "—";
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return iso;
  const p = (n) => String(n).padStart(2, "0");
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())} ${p(d.getHours())}:${p(d.getMinutes())}`;
}

/** A number with `digits` decimals and a unit, or "—". */
export function fmtNum(v, digits = 1, unit = "") {
  if (v === null || v === undefined || Number.isNaN(v)) return "—";
  return `${Number(v).toFixed(digits)}${unit ? " " + unit : ""}`;
}

/** A grade as a coloured badge (text, not colour alone, carries the meaning). */
export function gradeBadge(grade, t) {
  if (!grade) return h("span", { class: "muted" }, "—");
  return h("span", { class: `badge grade-${grade}` }, t(`grade.${grade}`));
}

/**
 * A finding's provisional-grade badge and its flags as readable labels (issue 11).
 * `prefix` names the page's dictionary: labels are `<prefix>.tentative` and
 * `<prefix>.flag_<code with _ for ->`; a flag without a label shows its code.
 * Answers null when the finding is neither tentative nor flagged.
 */
export function findingMarks(f, t, prefix) {
  const codes = (f.flags || []).map((x) => (x && typeof x === "object" ? x.code : x)).filter(Boolean);
  if (!f.tentative && !codes.length) return null;
  const label = (code) => {
    const key = `${prefix}.flag_${String(code).replace(/-/g, "_")}`;
    const text = t(key);
    return text === key ? String(code) : text;
  };
  return h("span", { class: "finding-marks" },
    f.tentative ? h("span", { class: "badge tentative", "data-testid": "tentative" }, t(`${prefix}.tentative`)) : null,
    ...codes.map((c) => h("span", { class: "badge flag", dataset: { flag: String(c) } }, label(c))));
}

export function statusBadge(kind, value, t) {
  if (!value) return h("span", { class: "muted" }, "—");
  return h("span", { class: `badge ${kind}-${value}` }, t(`${kind}.${value}`));
}

/**
 * A table with a caption and column headers.
 * columns: [{label, cell: (row) => node|string, num?: bool, nowrap?: bool}]
 */
export function table(columns, rows, { caption, empty } = {}) {
  const thead = h("thead", {}, h("tr", {}, columns.map((c) => h("th", { scope: "col", class: c.num ? "num" : null }, c.label))));
  const body = rows.length
    ? rows.map((r) => h("tr", {}, columns.map((c) => h("td", { class: [c.num ? "num" : "", c.nowrap ? "nowrap" : ""].join(" ").trim() || null }, c.cell(r)))))
    : [h("tr", {}, h("td", { colspan: columns.length, class: "empty" }, empty || "—"))];
  return h(
    "div",
    { class: "table-wrap" },
    h("table", {}, caption ? h("caption", {}, caption) : null, thead, h("tbody", {}, body)),
  );
}

/** "#/base?k=v…" with empty values left out. */
export function hashWith(base, params) {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) {
    if (v !== null && v !== undefined && v !== "") q.set(k, v);
  }
  const s = q.toString();
  return s ? `${base}?${s}` : base;
}

/** API query string from an object (arrays repeat the key); empty values left out. */
export function query(params) {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) {
    if (Array.isArray(v)) v.forEach((x) => q.append(k, x));
    else if (v !== null && v !== undefined && v !== "") q.set(k, v);
  }
  const s = q.toString();
  return s ? `?${s}` : "";
}

/** Previous/next links and "x–y of total" for a paginated list. */
export function pager(total, limit, offset, hrefFor, t) {
  const from = total ? offset + 1 : 0;
  const to = Math.min(offset + limit, total);
  const prev = offset > 0 ? h("a", { href: hrefFor(Math.max(0, offset - limit)), class: "btn", rel: "prev" }, t("pager.prev")) : null;
  const next = offset + limit < total ? h("a", { href: hrefFor(offset + limit), class: "btn", rel: "next" }, t("pager.next")) : null;
  return h(
    "nav",
    { class: "pager", "aria-label": t("pager.label") },
    h("span", { class: "pager-count" }, t("pager.count", { from, to, total })),
    prev,
    next,
  );
}

/** A labelled form control: {name, label, type: select|date|text|number, options: [[value, label]]}. */
export function field(f, value) {
  const id = `f-${f.name}`;
  let control;
  if (f.type === "select") {
    control = h(
      "select",
      { id, name: f.name },
      f.options.map(([v, label]) => h("option", { value: v, selected: String(value ?? "") === String(v) }, label)),
    );
  } else {
    control = h("input", { id, name: f.name, type: f.type || "text", value: value ?? "", step: f.step, min: f.min, max: f.max });
  }
  return h("div", { class: "field" }, h("label", { for: id }, f.label), control);
}

/** A filter form: on submit goes to `base` with the fields' values (offset reset), `keep` params kept. */
export function filterForm(fields, params, base, ctx, keep = []) {
  const form = h(
    "form",
    { class: "filters", role: "search", "aria-label": ctx.t("filters.label") },
    fields.map((f) => field(f, params[f.name])),
    h("div", { class: "field field-actions" }, h("button", { type: "submit" }, ctx.t("filters.apply")),
      h("a", { href: base, class: "btn btn-plain" }, ctx.t("filters.reset"))),
  );
  form.addEventListener("submit", (e) => {
    e.preventDefault();
    const values = {};
    for (const k of keep) values[k] = params[k];
    for (const f of fields) values[f.name] = form.elements[f.name].value;
    ctx.navigate(hashWith(base, values));
  });
  return form;
}

let stationCache = null;

/** The stations [{id, code, name}] (from the asset tree; kept for a minute). */
export async function stations(ctx) {
  const now = Date.now();
  if (!stationCache || now - stationCache.at > 60_000 || stationCache.who !== ctx.me?.name) {
    const tree = await ctx.api("/assets");
    stationCache = { at: now, who: ctx.me?.name, list: tree.map((s) => ({ id: s.id, code: s.code, name: s.name })) };
  }
  return stationCache.list;
}

export function stationName(list, id) {
  const s = list.find((x) => x.id === id);
  return s ? s.name : id == null ? "—" : `#${id}`;
}

/** A date input value (YYYY-MM-DD) → ISO start of that local day, for since/until filters. */
export function dayStart(value, plusDays = 0) {
  if (!value) return null;
  const d = new Date(`${value}T00:00:00`);
  if (Number.isNaN(d.getTime())) return null;
  d.setDate(d.getDate() + plusDays);
  return d.toISOString();
}

/** Save a Blob as a file with `name` (through a temporary object URL). */
export function saveBlob(blob, name) {
  const url = URL.createObjectURL(blob);
  const a = h("a", { href: url, download: name, hidden: true });
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 60_000);
}

/** A page heading with optional secondary text. */
export function heading(text, sub) {
  return h("div", { class: "page-head" }, h("h1", {}, text), sub ? h("p", { class: "muted" }, sub) : null);
}
