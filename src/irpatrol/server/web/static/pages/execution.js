// One patrol execution: every point of the plan with its captures and worst grade, the missed points,
// captures at points outside the plan, and the report.
import { fmtNum, fmtTime, gradeBadge, h, heading, saveBlob, stationName, stations, statusBadge, table } from "../ui.js";

export async function render(root, params, ctx) {
  const { t, lang } = ctx;
  const [ex, sts] = await Promise.all([ctx.api(`/executions/${params.id}`), stations(ctx)]);
  const c = ex.counts;
  const captureLinks = (caps) => caps.length
    ? h("span", { class: "links" }, caps.map((cap, i) => [i ? ", " : "", h("a", { href: `#/captures/${cap.id}` }, `#${cap.id}`)]))
    : "—";

  const report = h("button", { type: "button", id: "execution-report" }, t("execution.report"));
  report.addEventListener("click", async () => {
    report.disabled = true;
    ctx.announce(t("report.preparing"));
    try {
      const blob = await ctx.apiBlob(`/executions/${ex.id}/report?format=pdf&lang=${lang}`);
      saveBlob(blob, `execution-${ex.id}-${lang}.pdf`);
      ctx.announce(t("report.ready"));
    } catch (err) {
      if (!err.handled) ctx.showError(t("error.api", { status: err.status, message: err.message }));
    } finally {
      report.disabled = false;
    }
  });

  const summary = h("dl", { class: "facts" },
    h("dt", {}, t("field.plan")), h("dd", {}, ex.plan_name),
    h("dt", {}, t("field.station")), h("dd", {}, stationName(sts, ex.station_id)),
    h("dt", {}, t("field.executor")), h("dd", {}, ex.executor || "—"),
    h("dt", {}, t("field.data_source")), h("dd", {}, t(`source.${ex.data_source}`)),
    h("dt", {}, t("field.status")), h("dd", {}, statusBadge("execution", ex.status, t)),
    h("dt", {}, t("field.started_at")), h("dd", {}, fmtTime(ex.started_at, lang)),
    h("dt", {}, t("field.finished_at")), h("dd", {}, fmtTime(ex.finished_at, lang)));

  const counts = h("ul", { class: "card-list small-cards", "aria-label": t("execution.counts") },
    ["planned", "covered", "missed", "captures", "analyzed", "pending", "failed", "defects"].map((k) =>
      h("li", { class: `card${k === "missed" && c.missed ? " card-warn" : ""}${k === "defects" && c.defects ? " card-serious" : ""}` },
        h("span", { class: "card-number" }, String(c[k])), h("span", { class: "card-label" }, t(`execution.count_${k}`)))));

  const points = table(
    [
      { label: t("field.seq"), cell: (x) => String(x.seq), num: true },
      { label: t("field.code"), cell: (x) => h("a", { href: `#/points/${x.point_id}` }, x.code) },
      { label: t("field.name"), cell: (x) => x.name },
      { label: t("field.preset"), cell: (x) => x.preset_id || "—" },
      { label: t("field.captures"), cell: (x) => captureLinks(x.captures) },
      { label: t("field.max"), cell: (x) => fmtNum(hottest(x.captures), 1, "°C"), num: true },
      { label: t("field.grade"), cell: (x) => (x.missed ? h("span", { class: "badge missed" }, t("execution.missed")) : gradeBadge(x.worst_grade, t)) },
    ],
    ex.items,
    { caption: t("execution.points_caption", { n: ex.items.length }) },
  );

  const missed = h("section", { "aria-labelledby": "missed-title" },
    h("h2", { id: "missed-title" }, t("execution.missed_points", { n: ex.missed.length })),
    ex.missed.length
      ? h("ul", { class: "missed-list" }, ex.missed.map((m) => h("li", {}, h("a", { href: `#/points/${m.point_id}` }, `${m.seq}. ${m.code}`), ` ${m.name}`, m.preset_id ? h("span", { class: "muted" }, ` (${t("field.preset")} ${m.preset_id})`) : null)))
      : h("p", { class: "muted" }, t("execution.none_missed")));

  const extra = ex.extra.length
    ? h("section", { "aria-labelledby": "extra-title" },
        h("h2", { id: "extra-title" }, t("execution.extra")),
        table([
          { label: t("field.capture"), cell: (x) => h("a", { href: `#/captures/${x.id}` }, `#${x.id}`) },
          { label: t("field.status"), cell: (x) => statusBadge("capture", x.status, t) },
          { label: t("field.taken_at"), cell: (x) => fmtTime(x.taken_at || x.received_at, lang), nowrap: true },
          { label: t("field.grade"), cell: (x) => gradeBadge(x.worst_grade, t) },
        ], ex.extra))
    : null;

  root.append(
    heading(t("execution.title", { id: ex.id }), ex.plan_name),
    h("div", { class: "toolbar" }, report, h("a", { class: "btn btn-plain", href: `#/captures?execution_id=${ex.id}` }, t("execution.all_captures"))),
    summary, counts, points, missed, extra || "");
}

/** The highest capture maximum among `caps`, °C (null when none is analysed). */
function hottest(caps) {
  const vals = caps.map((k) => k.max_c).filter((v) => v !== null && v !== undefined);
  return vals.length ? Math.max(...vals) : null;
}
