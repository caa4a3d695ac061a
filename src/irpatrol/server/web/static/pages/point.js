// One inspection point: where it is, its latest grade, and its trend (max temperature, δ, ambient, load).
import { timeChart } from "../chart.js";
import { fmtNum, fmtTime, gradeBadge, h, hashWith, heading, query, statusBadge, table } from "../ui.js";

const RANGES = { "90d": 90, "1y": 365, all: null };

export async function render(root, params, ctx) {
  const { t, api, lang } = ctx;
  const id = params.id;
  const range = params.range in RANGES ? params.range : "all";
  const days = RANGES[range];
  const since = days ? new Date(Date.now() - days * 86_400_000).toISOString() : null;
  const [p, trend] = await Promise.all([
    api(`/points/${id}`),
    api(`/points/${id}/trend${query({ since, lang })}`),
  ]);
  const items = trend.items;
  const latest = [...items].reverse().find((x) => x.grade);

  const crumbs = h("nav", { class: "breadcrumb", "aria-label": t("point.path") },
    h("ol", {},
      h("li", {}, h("a", { href: "#/assets" }, t("nav.assets"))),
      (p.path || []).map((a) => h("li", {}, `${a.name}`)),
      h("li", { "aria-current": "page" }, p.name)));

  const facts = h("dl", { class: "facts" },
    h("dt", {}, t("field.code")), h("dd", {}, p.code),
    h("dt", {}, t("field.part")), h("dd", {}, p.part),
    h("dt", {}, t("field.phase")), h("dd", {}, p.phase || "—"),
    h("dt", {}, t("field.preset")), h("dd", {}, p.preset_id || "—"),
    h("dt", {}, t("field.heating_type")), h("dd", {}, t(`heating.${p.heating_type}`)),
    h("dt", {}, t("field.rated_current")), h("dd", {}, fmtNum(p.rated_current_a, 0, "A")),
    h("dt", {}, t("point.latest_grade")), h("dd", {}, latest ? gradeBadge(latest.grade, t) : t("point.no_grade")),
    h("dt", {}, t("point.latest_at")), h("dd", {}, latest ? fmtTime(latest.taken_at, lang) : "—"));

  const rangeNav = h("nav", { class: "segmented", "aria-label": t("point.range") },
    Object.keys(RANGES).map((r) => h("a", {
      href: hashWith(`#/points/${id}`, { range: r }),
      class: "btn btn-plain",
      "aria-current": r === range ? "true" : null,
    }, t(`point.range_${r}`))));

  const when = (x) => new Date(x.taken_at);
  const series = [
    { label: t("point.series_max"), unit: "°C", axis: "left", color: "#c0392b", points: items.map((x) => ({ t: when(x), v: x.max_c })) },
    { label: t("point.series_t1"), unit: "°C", axis: "left", color: "#e67e22", dash: "4 3", points: items.map((x) => ({ t: when(x), v: x.t1_c })) },
    { label: t("point.series_ambient"), unit: "°C", axis: "left", color: "#2471a3", points: items.map((x) => ({ t: when(x), v: x.ambient_c ?? x.t0_c })) },
    { label: t("point.series_delta"), unit: "%", axis: "right", color: "#7d3c98", points: items.map((x) => ({ t: when(x), v: x.delta_pct })) },
    { label: t("point.series_load"), unit: "%", axis: "right", color: "#1e8449", dash: "2 3", points: items.map((x) => ({ t: when(x), v: x.load_ratio == null ? null : x.load_ratio * 100 })) },
  ];
  const chart = items.length
    ? timeChart({ series, axes: { left: t("point.axis_temp"), right: t("point.axis_pct") }, title: t("point.chart_title", { name: p.name }), lang })
    : h("p", { class: "empty" }, t("point.no_trend"));

  // the server's trend analysis, where it gives one: early warnings and the comparison sentence
  const warnings = (trend.analysis && trend.analysis.warnings) || [];
  const analysis = warnings.length || trend.comparison_text
    ? h("section", { class: "notice", "aria-labelledby": "analysis-title" },
        h("h2", { id: "analysis-title" }, t("point.analysis")),
        trend.comparison_text ? h("p", {}, trend.comparison_text) : null,
        warnings.length ? h("ul", {}, warnings.map((w) => h("li", {}, w.text))) : null)
    : "";

  const recent = items.slice(-20).reverse();
  const list = table(
    [
      { label: t("field.taken_at"), cell: (x) => fmtTime(x.taken_at, lang), nowrap: true },
      { label: t("field.capture"), cell: (x) => h("a", { href: `#/captures/${x.capture_id}` }, `#${x.capture_id}`) },
      { label: t("field.max"), cell: (x) => fmtNum(x.max_c, 1, "°C"), num: true },
      { label: t("field.t1"), cell: (x) => fmtNum(x.t1_c, 1, "°C"), num: true },
      { label: t("field.delta_t"), cell: (x) => fmtNum(x.delta_t_k, 1, "K"), num: true },
      { label: t("field.delta_pct"), cell: (x) => fmtNum(x.delta_pct, 0, "%"), num: true },
      { label: t("field.ambient"), cell: (x) => fmtNum(x.ambient_c, 1, "°C"), num: true },
      { label: t("field.load"), cell: (x) => (x.load_ratio == null ? "—" : fmtNum(x.load_ratio * 100, 0, "%")), num: true },
      { label: t("field.grade"), cell: (x) => gradeBadge(x.grade, t) },
      { label: t("field.review"), cell: (x) => statusBadge("review", x.review_status, t) },
    ],
    recent,
    { caption: t("point.recent", { n: recent.length, total: items.length }), empty: t("point.no_trend") },
  );

  root.append(crumbs, heading(p.name, p.code), facts,
    h("section", { "aria-labelledby": "trend-title" },
      h("h2", { id: "trend-title" }, t("point.trend")), rangeNav, chart),
    analysis,
    list,
    h("p", {}, h("a", { href: `#/captures?point_id=${p.id}` }, t("point.all_captures"))));
}
