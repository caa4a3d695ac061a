// Patrol executions (巡视任务执行), newest first, filtered by station and state; 50 a page.
import { filterForm, fmtTime, h, hashWith, heading, pager, query, stationName, stations, statusBadge, table } from "../ui.js";

const LIMIT = 50;

export async function render(root, params, ctx) {
  const { t, lang } = ctx;
  const offset = Math.max(0, parseInt(params.offset || "0", 10) || 0);
  const sts = await stations(ctx);
  const page = await ctx.api(`/executions${query({ station_id: params.station_id, status: params.status, limit: LIMIT, offset })}`);
  const fields = [
    { name: "station_id", label: t("field.station"), type: "select", options: [["", t("filters.all")], ...sts.map((s) => [s.id, s.name])] },
    { name: "status", label: t("field.status"), type: "select", options: [["", t("filters.all")], ["running", t("execution.running")], ["finished", t("execution.finished")]] },
  ];
  root.append(
    heading(t("executions.title")),
    filterForm(fields, params, "#/executions", ctx),
    table(
      [
        { label: t("field.id"), cell: (e) => h("a", { href: `#/executions/${e.id}` }, `#${e.id}`) },
        { label: t("field.plan"), cell: (e) => e.plan_name },
        { label: t("field.station"), cell: (e) => stationName(sts, e.station_id) },
        { label: t("field.executor"), cell: (e) => e.executor || "—" },
        { label: t("field.data_source"), cell: (e) => t(`source.${e.data_source}`) },
        { label: t("field.status"), cell: (e) => statusBadge("execution", e.status, t) },
        { label: t("field.started_at"), cell: (e) => fmtTime(e.started_at, lang), nowrap: true },
        { label: t("field.finished_at"), cell: (e) => fmtTime(e.finished_at, lang), nowrap: true },
      ],
      page.items,
      { caption: t("executions.caption"), empty: t("executions.empty") },
    ),
    pager(page.total, LIMIT, offset, (o) => hashWith("#/executions", { ...params, offset: o }), t),
  );
}
