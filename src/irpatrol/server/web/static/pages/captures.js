// Captures (红外图谱), newest first, filtered by station, status and reception day; 50 a page.
import { dayStart, filterForm, fmtNum, fmtTime, h, hashWith, heading, pager, query, stationName, stations, statusBadge, table } from "../ui.js";

const LIMIT = 50;

export async function render(root, params, ctx) {
  const { t, lang } = ctx;
  const offset = Math.max(0, parseInt(params.offset || "0", 10) || 0);
  const sts = await stations(ctx);
  const q = {
    station_id: params.station_id,
    status: params.status,
    point_id: params.point_id,
    execution_id: params.execution_id,
    since: dayStart(params.since),
    until: dayStart(params.until, 1),
    limit: LIMIT,
    offset,
  };
  const page = await ctx.api(`/captures${query(q)}`);
  const fields = [
    { name: "station_id", label: t("field.station"), type: "select", options: [["", t("filters.all")], ...sts.map((s) => [s.id, s.name])] },
    { name: "status", label: t("field.status"), type: "select", options: [["", t("filters.all")], ...["pending", "analyzed", "failed"].map((s) => [s, t(`capture.${s}`)])] },
    { name: "since", label: t("filters.since"), type: "date" },
    { name: "until", label: t("filters.until"), type: "date" },
  ];
  const scope = [];
  if (params.point_id) scope.push(t("captures.of_point", { id: params.point_id }));
  if (params.execution_id) scope.push(t("captures.of_execution", { id: params.execution_id }));
  const form = filterForm(fields, params, "#/captures", ctx, ["point_id", "execution_id"]);
  root.append(
    heading(t("captures.title"), scope.join(" · ") || null),
    form,
    table(
      [
        { label: t("field.id"), cell: (c) => h("a", { href: `#/captures/${c.id}` }, `#${c.id}`) },
        { label: t("field.file"), cell: (c) => h("span", { class: "filename" }, c.filename) },
        { label: t("field.station"), cell: (c) => stationName(sts, c.station_id) },
        { label: t("field.point"), cell: (c) => (c.point_id ? h("a", { href: `#/points/${c.point_id}` }, `#${c.point_id}`) : "—") },
        { label: t("field.status"), cell: (c) => statusBadge("capture", c.status, t) },
        { label: t("field.taken_at"), cell: (c) => fmtTime(c.taken_at, lang), nowrap: true },
        { label: t("field.received_at"), cell: (c) => fmtTime(c.received_at, lang), nowrap: true },
        { label: t("field.max"), cell: (c) => fmtNum(c.max_c, 1, "°C"), num: true },
        { label: t("field.camera"), cell: (c) => [c.camera_make, c.camera_model].filter(Boolean).join(" ") || "—" },
      ],
      page.items,
      { caption: t("captures.caption"), empty: t("captures.empty") },
    ),
    pager(page.total, LIMIT, offset, (o) => hashWith("#/captures", { ...params, offset: o }), t),
  );
}
