// Overview: stations, open defects by grade, recent patrol executions, findings waiting for review.
import { fmtNum, fmtTime, gradeBadge, h, heading, stationName, stations, statusBadge, table } from "../ui.js";

const GRADES = ["critical", "serious", "general"];

export async function render(root, params, ctx) {
  const { t, api, lang } = ctx;
  const open = ["open", "in_repair"].map((s) => `defect_status=${s}`).join("&");
  const [sts, counts, execs, waiting] = await Promise.all([
    stations(ctx),
    Promise.all(GRADES.map((g) => api(`/findings?grade=${g}&${open}&limit=1`).then((p) => p.total))),
    api("/executions?limit=5"),
    api("/findings?review_status=unreviewed&min_grade=1&limit=10"),
  ]);

  const cards = h(
    "section",
    { class: "cards", "aria-labelledby": "ov-defects" },
    h("h2", { id: "ov-defects" }, t("overview.open_defects")),
    h("ul", { class: "card-list" },
      GRADES.map((g, i) =>
        h("li", { class: `card card-${g}` },
          h("a", { href: `#/defects?grade=${g}&defect_status=open` },
            h("span", { class: "card-number" }, String(counts[i])),
            h("span", { class: "card-label" }, t(`grade.${g}`))))),
      h("li", { class: "card" },
        h("a", { href: "#/assets" },
          h("span", { class: "card-number" }, String(sts.length)),
          h("span", { class: "card-label" }, t("overview.stations"))))),
  );

  const stationList = h(
    "section",
    { "aria-labelledby": "ov-stations" },
    h("h2", { id: "ov-stations" }, t("overview.stations")),
    table(
      [
        { label: t("field.code"), cell: (s) => s.code },
        { label: t("field.name"), cell: (s) => s.name },
        { label: t("field.links"), cell: (s) => h("span", { class: "links" },
          h("a", { href: `#/defects?station_id=${s.id}` }, t("nav.defects")), " · ",
          h("a", { href: `#/captures?station_id=${s.id}` }, t("nav.captures")), " · ",
          h("a", { href: `#/positions?station=${encodeURIComponent(s.code)}` }, t("nav.positions"))) },
      ],
      sts,
      { empty: t("overview.no_stations") },
    ),
  );

  const execTable = h(
    "section",
    { "aria-labelledby": "ov-execs" },
    h("h2", { id: "ov-execs" }, t("overview.recent_executions"), " ", h("span", { class: "muted small" }, t("overview.total", { total: execs.total }))),
    table(
      [
        { label: t("field.id"), cell: (e) => h("a", { href: `#/executions/${e.id}` }, `#${e.id}`) },
        { label: t("field.plan"), cell: (e) => e.plan_name },
        { label: t("field.station"), cell: (e) => stationName(sts, e.station_id) },
        { label: t("field.status"), cell: (e) => statusBadge("execution", e.status, t) },
        { label: t("field.started_at"), cell: (e) => fmtTime(e.started_at, lang), nowrap: true },
      ],
      execs.items,
      { empty: t("overview.no_executions") },
    ),
    h("p", {}, h("a", { href: "#/executions" }, t("overview.all_executions"))),
  );

  const review = h(
    "section",
    { "aria-labelledby": "ov-review" },
    h("h2", { id: "ov-review" }, t("overview.waiting_review"), " ", h("span", { class: "muted small" }, t("overview.total", { total: waiting.total }))),
    table(
      [
        { label: t("field.id"), cell: (f) => h("a", { href: `#/captures/${f.capture_id}` }, `#${f.id}`) },
        { label: t("field.taken_at"), cell: (f) => fmtTime(f.taken_at || f.created_at, lang), nowrap: true },
        { label: t("field.station"), cell: (f) => stationName(sts, f.station_id) },
        { label: t("field.device"), cell: (f) => f.device || f.subject },
        { label: t("field.t1"), cell: (f) => fmtNum(f.t1_c, 1, "°C"), num: true },
        { label: t("field.grade"), cell: (f) => gradeBadge(f.grade, t) },
      ],
      waiting.items,
      { empty: t("overview.nothing_waiting") },
    ),
    h("p", {}, h("a", { href: "#/defects?review_status=unreviewed" }, t("overview.go_review"))),
  );

  root.append(heading(t("overview.title")), cards, h("div", { class: "two-col" }, review, execTable), stationList);
}
