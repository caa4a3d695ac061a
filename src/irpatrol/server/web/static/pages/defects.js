// Defects (缺陷管理): filter by grade, status, station and time; review (confirm, false alarm,
// corrected value/grade), lifecycle open → in repair → closed, and the one-defect report.
import { dayStart, field, filterForm, findingMarks, fmtNum, fmtTime, gradeBadge, h, hashWith, heading, pager, query, saveBlob, stationName, stations, statusBadge, table } from "../ui.js";

const LIMIT = 50;
const TRANSITIONS = { open: ["in_repair", "closed"], in_repair: ["closed", "open"], closed: ["open"] };

export async function render(root, params, ctx) {
  const { t, lang } = ctx;
  const offset = Math.max(0, parseInt(params.offset || "0", 10) || 0);
  const sts = await stations(ctx);
  const grade = params.grade || "";
  const q = {
    grade: grade && grade !== "any" ? [grade] : [],
    min_grade: grade ? null : 1,
    defect_status: params.defect_status ? [params.defect_status] : [],
    review_status: params.review_status ? [params.review_status] : [],
    station_id: params.station_id,
    since: dayStart(params.since),
    until: dayStart(params.until, 1),
    lang,
    limit: LIMIT,
    offset,
  };
  const page = await ctx.api(`/findings${query(q)}`);
  const fields = [
    { name: "grade", label: t("field.grade"), type: "select", options: [["", t("defects.all_defects")], ...["critical", "serious", "general", "normal"].map((g) => [g, t(`grade.${g}`)]), ["any", t("defects.all_findings")]] },
    { name: "defect_status", label: t("field.defect_status"), type: "select", options: [["", t("filters.all")], ...["open", "in_repair", "closed"].map((s) => [s, t(`defect.${s}`)])] },
    { name: "review_status", label: t("field.review"), type: "select", options: [["", t("filters.all")], ...["unreviewed", "confirmed", "false_alarm", "corrected"].map((s) => [s, t(`review.${s}`)])] },
    { name: "station_id", label: t("field.station"), type: "select", options: [["", t("filters.all")], ...sts.map((s) => [s.id, s.name])] },
    { name: "since", label: t("filters.since_taken"), type: "date" },
    { name: "until", label: t("filters.until"), type: "date" },
  ];

  const dialog = correctionDialog(ctx);
  const act = async (label, fn) => {
    try {
      await fn();
      ctx.announce(label);
      ctx.reload();
    } catch (err) {
      if (!err.handled) ctx.showError(t("error.api", { status: err.status, message: err.message }), () => act(label, fn));
    }
  };
  const review = (f, body) => act(t("defects.saved_review", { id: f.id }), () => ctx.api(`/findings/${f.id}/review`, { method: "POST", body }));
  const move = (f, status) => act(t("defects.saved_status", { id: f.id, status: t(`defect.${status}`) }), () => ctx.api(`/findings/${f.id}/status`, { method: "POST", body: { status } }));

  const report = async (f, button) => {
    button.disabled = true;
    ctx.announce(t("report.preparing"));
    try {
      const blob = await ctx.apiBlob(`/findings/${f.id}/report?format=pdf&lang=${lang}`);
      saveBlob(blob, `defect-${f.id}-${lang}.pdf`);
      ctx.announce(t("report.ready"));
    } catch (err) {
      if (!err.handled) ctx.showError(t("error.api", { status: err.status, message: err.message }));
    } finally {
      button.disabled = false;
    }
  };

  const actions = (f) => {
    const b = (action, text, onclick, extra = {}) => h("button", {
      type: "button", class: "small", dataset: { action, finding: f.id },
      "aria-label": `${text} #${f.id}`, onclick, ...extra,
    }, text);
    const out = [];
    if (ctx.can("review")) {
      out.push(b("confirm", t("defects.confirm"), () => review(f, { verdict: "confirmed" })));
      out.push(b("false_alarm", t("defects.false_alarm"), () => review(f, { verdict: "false_alarm" })));
      out.push(b("correct", t("defects.correct"), () => dialog.open(f, (body) => review(f, body))));
    }
    if (ctx.can("lifecycle") && f.defect_status) {
      for (const next of TRANSITIONS[f.defect_status] || []) {
        const label = next === "open" && f.defect_status === "in_repair" ? t("defects.back_to_open") : t(`defects.to_${next}`);
        out.push(b(`status-${next}`, label, () => move(f, next), { class: "small secondary" }));
      }
    }
    const rep = b("report", t("defects.report"), () => report(f, rep), { class: "small btn-plain" });
    out.push(rep);
    return h("div", { class: "row-actions" }, out);
  };

  const gradeOnly = (f) => f.corrected_grade && f.corrected_grade !== f.grade
    ? h("span", {}, h("s", { "aria-label": t("defects.original_grade") }, gradeBadge(f.grade, t)), " → ", gradeBadge(f.corrected_grade, t))
    : gradeBadge(f.grade, t);
  // the tentative mark and the measurability flags (below measurable size, low emissivity…)
  const gradeCell = (f) => h("span", {}, gradeOnly(f), findingMarks(f, t, "defects"));

  const tbl = table(
    [
      { label: t("field.id"), cell: (f) => h("a", { href: `#/captures/${f.capture_id}`, title: t("defects.open_capture") }, `#${f.id}`) },
      { label: t("field.taken_at"), cell: (f) => fmtTime(f.taken_at || f.created_at, lang), nowrap: true },
      { label: t("field.station"), cell: (f) => stationName(sts, f.station_id) },
      { label: t("field.device"), cell: (f) => h("span", {}, f.device || f.subject, h("br"), h("span", { class: "muted small" }, f.part)) },
      { label: t("field.t1"), cell: (f) => f.corrected_value_c != null ? h("span", {}, h("s", {}, fmtNum(f.t1_c, 1)), " ", fmtNum(f.corrected_value_c, 1, "°C")) : fmtNum(f.t1_c, 1, "°C"), num: true },
      { label: t("field.delta_t"), cell: (f) => fmtNum(f.delta_t_k, 1, "K"), num: true },
      { label: t("field.delta_pct"), cell: (f) => fmtNum(f.delta_pct, 0, "%"), num: true },
      { label: t("field.grade"), cell: gradeCell },
      { label: t("field.review"), cell: (f) => statusBadge("review", f.review_status, t) },
      { label: t("field.defect_status"), cell: (f) => statusBadge("defect", f.defect_status, t) },
      { label: t("field.actions"), cell: actions },
    ],
    page.items,
    { caption: t("defects.caption", { total: page.total }), empty: t("defects.empty") },
  );
  tbl.querySelectorAll("tbody tr").forEach((tr, i) => {
    if (page.items[i]) tr.dataset.findingId = page.items[i].id;
  });

  root.append(
    heading(t("defects.title")),
    filterForm(fields, params, "#/defects", ctx),
    tbl,
    pager(page.total, LIMIT, offset, (o) => hashWith("#/defects", { ...params, offset: o }), t),
    dialog.element,
  );
}

/** A modal form for a corrected value (°C) and/or grade with a note. */
function correctionDialog(ctx) {
  const { t } = ctx;
  const title = h("h2", { id: "correct-title" });
  const form = h("form", { method: "dialog" },
    title,
    field({ name: "corrected_value_c", label: t("defects.corrected_value"), type: "number", step: "0.1", min: -100, max: 2000 }),
    field({ name: "corrected_grade", label: t("defects.corrected_grade"), type: "select", options: [["", t("defects.keep_grade")], ...["normal", "general", "serious", "critical"].map((g) => [g, t(`grade.${g}`)])] }),
    h("div", { class: "field" }, h("label", { for: "f-note" }, t("defects.note")), h("textarea", { id: "f-note", name: "note", rows: 3, maxlength: 2000 })),
    h("p", { class: "form-error", role: "alert" }),
    h("div", { class: "dialog-actions" },
      h("button", { type: "submit", value: "ok" }, t("defects.save")),
      h("button", { type: "button", class: "btn-plain", value: "cancel", onclick: () => dlg.close() }, t("defects.cancel"))));
  const dlg = h("dialog", { class: "dialog", "aria-labelledby": "correct-title" }, form);
  let submit = null;
  form.addEventListener("submit", (e) => {
    e.preventDefault();
    const value = form.elements.corrected_value_c.value;
    const grade = form.elements.corrected_grade.value;
    if (value === "" && grade === "") {
      form.querySelector(".form-error").textContent = t("defects.correct_needs");
      return;
    }
    const body = { verdict: "corrected", corrected_value_c: value === "" ? null : Number(value), corrected_grade: grade || null, note: form.elements.note.value || null };
    dlg.close();
    submit(body);
  });
  return {
    element: dlg,
    open(f, onSubmit) {
      submit = onSubmit;
      form.reset();
      form.querySelector(".form-error").textContent = "";
      title.textContent = t("defects.correct_title", { id: f.id });
      if (f.corrected_value_c != null) form.elements.corrected_value_c.value = f.corrected_value_c;
      dlg.showModal();
    },
  };
}
