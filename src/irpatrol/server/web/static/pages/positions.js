// Capture positions (拍摄位置) of a station, coloured by GNSS fix quality, drawn on the station's own
// layout image through its georeference, or on a plain grid of local metres (east/north of the
// positions' centroid) when no layout was uploaded. No map tiles: the intranet has none.
import { field, fmtNum, fmtTime, h, hashWith, heading, pager, query, stations, svg, table } from "../ui.js";

const LIMIT = 100;
const EARTH_RADIUS_M = 6371008.8; // as irpatrol.geo.local

/** Colours per fix quality, best first (legend order); shapes differ too for colour-blind readers. */
const FIX = [
  ["rtk_fixed", "#1a9850"],
  ["rtk_float", "#91cf60"],
  ["dgps", "#4575b4"],
  ["single", "#fdae61"],
  ["estimated", "#9e6ebd"],
  ["manual", "#7f8c8d"],
  ["none", "#d73027"],
];
const COLOR = Object.fromEntries(FIX);

let objectUrl = null;

/** East and north of (lat, lon) from (lat0, lon0), metres (equirectangular, as the server's fit). */
function localEN(lat, lon, lat0, lon0) {
  const rad = Math.PI / 180;
  return [(lon - lon0) * rad * EARTH_RADIUS_M * Math.cos(lat0 * rad), (lat - lat0) * rad * EARTH_RADIUS_M];
}

export async function render(root, params, ctx) {
  const { t, lang } = ctx;
  const sts = await stations(ctx);
  if (objectUrl) {
    URL.revokeObjectURL(objectUrl);
    objectUrl = null;
  }
  const head = heading(t("positions.title"), t("positions.hint"));
  if (!sts.length) {
    root.append(head, h("p", { class: "empty" }, t("overview.no_stations")));
    return;
  }
  const station = sts.find((s) => s.code === params.station) || sts[0];
  const offset = Math.max(0, parseInt(params.offset || "0", 10) || 0);
  const [page, layout] = await Promise.all([
    ctx.api(`/captures${query({ station_id: station.id, limit: LIMIT, offset })}`),
    ctx.api(`/stations/${encodeURIComponent(station.code)}/layout`).catch((err) => {
      if (err.status === 404) return null;
      throw err;
    }),
  ]);
  const located = page.items.filter((c) => c.lat != null && c.lon != null);

  const picker = h("form", { class: "filters", "aria-label": t("filters.label") },
    field({ name: "station", label: t("field.station"), type: "select", options: sts.map((s) => [s.code, s.name]) }, station.code),
    h("div", { class: "field field-actions" }, h("button", { type: "submit" }, t("filters.apply"))));
  picker.addEventListener("submit", (e) => {
    e.preventDefault();
    ctx.navigate(hashWith("#/positions", { station: picker.elements.station.value }));
  });

  let drawing;
  if (layout) {
    const blob = await ctx.apiBlob(`/stations/${encodeURIComponent(station.code)}/layout/image`);
    objectUrl = URL.createObjectURL(blob);
    drawing = onLayout(layout, objectUrl, located, ctx);
  } else {
    drawing = onGrid(located, ctx);
  }

  const counts = Object.fromEntries(FIX.map(([k]) => [k, 0]));
  for (const c of located) counts[c.fix_quality || "none"] = (counts[c.fix_quality || "none"] || 0) + 1;
  const legend = h("ul", { class: "legend", "aria-label": t("positions.legend") },
    FIX.map(([k, color]) => h("li", {},
      h("span", { class: "swatch round", style: `background:${color}`, "aria-hidden": "true" }),
      `${t(`fix.${k}`)} (${counts[k] || 0})`)));

  const list = table(
    [
      { label: t("field.capture"), cell: (c) => h("a", { href: `#/captures/${c.id}` }, `#${c.id}`) },
      { label: t("field.taken_at"), cell: (c) => fmtTime(c.taken_at || c.received_at, lang), nowrap: true },
      { label: t("field.lat"), cell: (c) => fmtNum(c.lat, 7), num: true },
      { label: t("field.lon"), cell: (c) => fmtNum(c.lon, 7), num: true },
      { label: t("field.fix"), cell: (c) => h("span", {}, h("span", { class: "swatch round", style: `background:${COLOR[c.fix_quality || "none"]}`, "aria-hidden": "true" }), t(`fix.${c.fix_quality || "none"}`)) },
      { label: t("field.point"), cell: (c) => (c.point_id ? h("a", { href: `#/points/${c.point_id}` }, `#${c.point_id}`) : "—") },
    ],
    located,
    { caption: t("positions.caption", { n: located.length, of: page.items.length }), empty: t("positions.none") },
  );

  root.append(
    head,
    picker,
    h("p", { class: "muted" }, layout
      ? t("positions.on_layout", { rms: fmtNum(layout.transform.rms_px, 1), mpp: fmtNum(layout.transform.m_per_px, 3), points: layout.control_points.length })
      : t("positions.no_layout")),
    h("figure", { class: "map-figure" }, drawing, h("figcaption", {}, legend)),
    pager(page.total, LIMIT, offset, (o) => hashWith("#/positions", { station: station.code, offset: o }), t),
    list,
    ctx.can("admin") ? uploadForm(station, ctx) : "",
  );
}

function dot(x, y, c, ctx, r) {
  const q = c.fix_quality || "none";
  const link = svg("a", { href: `#/captures/${c.id}`, "aria-label": `${ctx.t("field.capture")} #${c.id}, ${ctx.t(`fix.${q}`)}` });
  const shape = q === "rtk_fixed" || q === "rtk_float"
    ? svg("circle", { cx: x, cy: y, r, fill: COLOR[q], class: "pos" })
    : svg("rect", { x: x - r, y: y - r, width: 2 * r, height: 2 * r, fill: COLOR[q], class: "pos", transform: q === "none" ? `rotate(45 ${x} ${y})` : null });
  shape.append(svg("title", {}, `#${c.id} · ${ctx.t(`fix.${q}`)} · ${c.lat.toFixed(7)}, ${c.lon.toFixed(7)}`));
  link.append(shape);
  return link;
}

function onLayout(layout, url, caps, ctx) {
  const { width, height, transform: tr } = layout;
  const r = Math.max(4, Math.min(width, height) / 80);
  const g = svg("svg", { viewBox: `0 0 ${width} ${height}`, class: "map", role: "group", "aria-label": ctx.t("positions.map_layout") });
  g.append(svg("image", { href: url, x: 0, y: 0, width, height }));
  for (const c of caps) {
    const [e, n] = localEN(c.lat, c.lon, tr.origin_lat, tr.origin_lon);
    const x = tr.a * e + tr.b * n + tr.c;
    const y = tr.d * e + tr.e * n + tr.f;
    g.append(dot(x, y, c, ctx, r));
  }
  return g;
}

function niceStep(span) {
  const raw = span / 6;
  const mag = 10 ** Math.floor(Math.log10(raw || 1));
  return [1, 2, 5, 10].map((m) => m * mag).find((s) => s >= raw) || 10 * mag;
}

function onGrid(caps, ctx) {
  const W = 760;
  const H = 480;
  const pad = 48;
  const g = svg("svg", { viewBox: `0 0 ${W} ${H}`, class: "map grid-map", role: "group", "aria-label": ctx.t("positions.map_grid") });
  g.append(svg("rect", { x: 0, y: 0, width: W, height: H, class: "map-bg" }));
  if (!caps.length) {
    g.append(svg("text", { x: W / 2, y: H / 2, "text-anchor": "middle", class: "tick" }, ctx.t("positions.none")));
    return g;
  }
  const lat0 = caps.reduce((s, c) => s + c.lat, 0) / caps.length;
  const lon0 = caps.reduce((s, c) => s + c.lon, 0) / caps.length;
  const en = caps.map((c) => localEN(c.lat, c.lon, lat0, lon0));
  let span = 10; // at least ±5 m shown
  for (const [e, n] of en) span = Math.max(span, 2 * Math.abs(e) * 1.1, 2 * Math.abs(n) * 1.1);
  const scale = Math.min(W - 2 * pad, H - 2 * pad) / span; // px per metre, same on both axes
  const X = (e) => W / 2 + e * scale;
  const Y = (n) => H / 2 - n * scale;
  const step = niceStep(span);
  const halfW = (W / 2) / scale;
  const halfH = (H / 2) / scale;
  for (let v = -Math.floor(halfW / step) * step; v <= halfW; v += step) {
    g.append(svg("line", { x1: X(v), x2: X(v), y1: 0, y2: H, class: v === 0 ? "axis" : "grid" }));
    g.append(svg("text", { x: X(v) + 3, y: H - 6, class: "tick" }, `${Number(v.toFixed(3))} m`));
  }
  for (let v = -Math.floor(halfH / step) * step; v <= halfH; v += step) {
    g.append(svg("line", { x1: 0, x2: W, y1: Y(v), y2: Y(v), class: v === 0 ? "axis" : "grid" }));
    g.append(svg("text", { x: 4, y: Y(v) - 3, class: "tick" }, `${Number(v.toFixed(3))} m`));
  }
  // north arrow
  g.append(svg("path", { d: `M${W - 30},20 l8,22 l-8,-6 l-8,6 z`, class: "north" }));
  g.append(svg("text", { x: W - 30, y: 56, "text-anchor": "middle", class: "tick" }, ctx.t("positions.north")));
  g.append(svg("text", { x: W - 8, y: H / 2 - 6, "text-anchor": "end", class: "tick" }, ctx.t("positions.east")));
  const r = 6;
  caps.forEach((c, i) => g.append(dot(X(en[i][0]), Y(en[i][1]), c, ctx, r)));
  return g;
}

function uploadForm(station, ctx) {
  const { t } = ctx;
  const msg = h("p", { class: "form-error", role: "alert" });
  const form = h("form", { class: "upload-layout" },
    h("div", { class: "field" }, h("label", { for: "layout-image" }, t("positions.image")),
      h("input", { id: "layout-image", name: "image", type: "file", accept: "image/png,image/jpeg,image/webp", required: true })),
    h("div", { class: "field wide" }, h("label", { for: "layout-points" }, t("positions.control_points")),
      h("textarea", { id: "layout-points", name: "control_points", rows: 4, required: true, spellcheck: "false", placeholder: '[{"lat": 30.5, "lon": 114.3, "x": 120, "y": 80}, …]' })),
    h("button", { type: "submit" }, t("positions.upload")),
    msg);
  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    msg.textContent = "";
    const body = new FormData();
    body.append("image", form.elements.image.files[0]);
    body.append("control_points", form.elements.control_points.value);
    try {
      await ctx.api(`/stations/${encodeURIComponent(station.code)}/layout`, { method: "PUT", body });
      ctx.announce(t("positions.uploaded"));
      ctx.reload();
    } catch (err) {
      if (!err.handled) msg.textContent = err.message;
    }
  });
  return h("details", { class: "admin-box" }, h("summary", {}, t("positions.upload_title")), h("p", { class: "muted" }, t("positions.upload_hint")), form);
}
