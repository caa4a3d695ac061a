"""The report as an editable Word document (python-docx), laid out like the HTML/PDF one.

Utilities finish reports in Word, so everything is ordinary Word content: headings,
tables in the "Table Grid" style, pictures in line.  A ``report.docx`` in the template
folder is the starting document (its styles, page set-up, header and footer); fonts come
from the labels (``docx.font_east_asia``, ``docx.font_latin``).
"""

from __future__ import annotations

import contextlib
import io
from collections.abc import Mapping, Sequence
from typing import Any

from docx import Document
from docx.document import Document as DocxDocument
from docx.enum.table import WD_TABLE_ALIGNMENT
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.oxml.ns import qn
from docx.shared import Mm, Pt, RGBColor
from docx.table import Table, _Cell

from irpatrol.report.model import CaptureEntry, FindingEntry, Report
from irpatrol.report.templates import Formatter, TemplateSet

GRADE_RGB = {
    "critical": RGBColor(0xC0, 0x00, 0x00),
    "serious": RGBColor(0xD3, 0x54, 0x00),
    "general": RGBColor(0x9A, 0x7D, 0x00),
    "normal": RGBColor(0x1E, 0x7B, 0x34),
}
HEAD_FILL = "F0F0F0"


def _set_fonts(doc: DocxDocument, labels: Mapping[str, Any]) -> None:
    fonts = labels.get("docx") or {}
    style = doc.styles["Normal"]
    style.font.size = Pt(9.5)
    latin = fonts.get("font_latin")
    if latin:
        style.font.name = latin
    east = fonts.get("font_east_asia")
    if east:
        rpr = style.element.get_or_add_rPr()
        rfonts = rpr.find(qn("w:rFonts"))
        if rfonts is None:
            rfonts = rpr.makeelement(qn("w:rFonts"), {})
            rpr.append(rfonts)
        rfonts.set(qn("w:eastAsia"), east)


def _shade(cell: _Cell, fill: str) -> None:
    tcpr = cell._tc.get_or_add_tcPr()
    shd = tcpr.makeelement(qn("w:shd"), {qn("w:val"): "clear", qn("w:color"): "auto", qn("w:fill"): fill})
    tcpr.append(shd)


def _write(
    cell: _Cell, text: str, *, bold: bool = False, grade: str | None = None, size: float | None = None
) -> None:
    cell.text = ""
    run = cell.paragraphs[0].add_run(text)
    run.bold = bold or grade is not None
    if grade in GRADE_RGB:
        run.font.color.rgb = GRADE_RGB[grade]
    if size is not None:
        run.font.size = Pt(size)


_NO_STYLE = object()


def _table(doc: DocxDocument, rows: int, cols: int) -> Table:
    t = doc.add_table(rows=rows, cols=cols)
    # looking a style up walks the whole styles part: once per document, kept on the document
    # itself (not in a module global: the server prints reports in several threads at once)
    style = getattr(doc, "_irpatrol_grid", None)
    if style is None:
        style = _NO_STYLE
        with contextlib.suppress(KeyError):  # a custom base document without the style: plain table
            style = doc.styles["Table Grid"]
        doc._irpatrol_grid = style  # type: ignore[attr-defined]
    if style is not _NO_STYLE:
        t.style = style
    t.alignment = WD_TABLE_ALIGNMENT.CENTER
    return t


def _grid(t: Table) -> list[list[_Cell]]:
    """The cells row by row, fetched once (``Table.cell`` rebuilds the cell list on every call)."""
    return [list(row.cells) for row in t.rows]


def _head_row(t: Table, row: int, names: Sequence[str]) -> None:
    cells = t.rows[row].cells
    for j, name in enumerate(names):
        cell = cells[j]
        _write(cell, name, bold=True, size=8.5)
        _shade(cell, HEAD_FILL)


def _kv_table(doc: DocxDocument, pairs: Sequence[tuple[str, str]]) -> Table:
    """Label/value pairs two to a row (four columns), label cells shaded."""
    rows = (len(pairs) + 1) // 2
    t = _table(doc, rows, 4)
    grid = _grid(t)
    for k, (label, value) in enumerate(pairs):
        r, c = divmod(k, 2)
        _write(grid[r][2 * c], label, bold=True)
        _shade(grid[r][2 * c], HEAD_FILL)
        _write(grid[r][2 * c + 1], value)
    if len(pairs) % 2:
        grid[rows - 1][1].merge(grid[rows - 1][3])
    return t


def _instrument_text(F: Formatter, report: Report) -> str:
    lines = []
    for i in report.header.instruments:
        model = i.model or ""
        if i.make and model and i.make.split()[0] not in model:
            model = f"{i.make} {model}"
        lines.append(f"{F.text(model)} / {F.text(i.serial)} / {F.range_c(i.range_c)}")
    return "\n".join(lines) or F.missing


def _header(doc: DocxDocument, report: Report, L: Mapping[str, Any], F: Formatter) -> None:
    f, h = L["fields"], report.header
    sep = "、" if report.lang == "zh" else ", "
    env = h.environment
    pairs = [
        (f["station"], F.text(h.station)),
        (f["bays"], F.text(sep.join(h.bays))),
        (f["time"], F.span(h.started_at, h.finished_at)),
        (f["patrol_type"], F.pick("patrol_types", h.patrol_type)),
        (f["ambient"], F.num(env.ambient_c, "°C")),
        (f["humidity"], F.num(env.humidity_pct, "%", 0)),
        (f["wind"], F.num(env.wind_ms, "m/s")),
        (f["weather"], F.text(env.weather)),
        (f["load"], F.load(h.load_current_a, h.load_ratio)),
        (f["executor_kind"], F.pick("executor_kinds", h.executor_kind)),
        (f["executor"], F.text(h.executor)),
        (f["generated_at"], F.time(report.generated_at)),
        (f["rule_pack"], F.text(h.rule_pack)),
        (f["rule_pack_version"], F.text(h.rule_pack_version)),
    ]
    t = _kv_table(doc, pairs)
    row = t.add_row()
    _write(row.cells[0], f"{f['instrument']} / {f['serial']} / {f['range']}", bold=True)
    _shade(row.cells[0], HEAD_FILL)
    row.cells[1].merge(row.cells[3])
    _write(row.cells[1], _instrument_text(F, report))
    if h.source:
        row = t.add_row()
        _write(row.cells[0], f["source"], bold=True)
        _shade(row.cells[0], HEAD_FILL)
        row.cells[1].merge(row.cells[3])
        _write(row.cells[1], h.source, size=8)


def _summary(doc: DocxDocument, report: Report, L: Mapping[str, Any], F: Formatter) -> None:
    f, s = L["fields"], L["sections"]
    doc.add_heading(s["summary"], level=2)
    counts = report.counts_by_grade()
    names = [F.grade(g) for g in counts] + [f["file"], s["missed"], s["unreadable"]]
    values = [*counts.values(), len(report.captures), len(report.missed), len(report.unreadable)]
    t = _table(doc, 2, len(names))
    _head_row(t, 0, names)
    cells = t.rows[1].cells
    for j, v in enumerate(values):
        _write(cells[j], str(v))
    doc.add_heading(s["defects"], level=3)
    defects = report.defects()
    if defects:
        t = _table(doc, 1, 6)
        _head_row(t, 0, [f["location"], f["subject"], f["grade"], "T1", "δ", f["file"]])
        for cap, x in defects:
            cells = t.add_row().cells
            _write(cells[0], F.text(x.location or cap.location))
            _write(cells[1], x.subject)
            _write(cells[2], F.grade(x.grade, x.tentative), grade=x.grade)
            _write(cells[3], F.num(x.t1_c, "°C"))
            _write(cells[4], F.num(x.delta_pct, "%"))
            _write(cells[5], cap.name, size=8)
    else:
        doc.add_paragraph(str(L["no_defects"]))
    doc.add_heading(s["missed"], level=3)
    if report.missed:
        t = _table(doc, 1, 3)
        _head_row(t, 0, [f["code"], f["name"], f["location"]])
        for m in report.missed:
            cells = t.add_row().cells
            _write(cells[0], m.code)
            _write(cells[1], F.text(m.name))
            _write(cells[2], F.text(m.location))
    else:
        doc.add_paragraph(str(L["none"]))
    doc.add_heading(s["early_warnings"], level=3)
    early = report.early_warnings()
    if early:
        t = _table(doc, 1, 2)
        _head_row(t, 0, [f["point"], f["early_warnings"]])
        for pt in early:
            cells = t.add_row().cells
            _write(cells[0], pt.point)
            _write(cells[1], "\n".join(pt.warnings), size=8)
    else:
        doc.add_paragraph(str(L["no_early_warnings"]))
    doc.add_heading(s["unreadable"], level=3)
    if report.unreadable:
        t = _table(doc, 1, 2)
        _head_row(t, 0, [f["file"], f["reason"]])
        for u in report.unreadable:
            cells = t.add_row().cells
            _write(cells[0], u.name)
            _write(cells[1], u.reason, size=8)
    else:
        doc.add_paragraph(str(L["none"]))


def _details(doc: DocxDocument, x: FindingEntry, L: Mapping[str, Any], F: Formatter) -> None:
    f = L["fields"]
    subject = x.subject + (f" — {x.device}" if x.device else "") + (f" ({x.part})" if x.part else "")
    rule = f"{x.rule_pack} {x.rule_id}" if x.rule_pack and x.rule_id else x.rule_id
    rows: list[tuple[str, str, str | None]] = [
        (f["subject"], subject, None),
        (f["grade"], F.grade(x.grade, x.tentative), x.grade),
        (f["rule"], F.text(rule), None),
        (f["clause"], F.text(x.clause), None),
        (f["analysis"], F.text(x.explanation), None),
        (f["recommendation"], F.text(x.recommendation), None),
    ]
    if x.defect_status or x.review_status:
        rows.append(
            (
                f"{f['defect_status']} / {f['review_status']}",
                F.pair(
                    F.pick("defect_statuses", x.defect_status), F.pick("review_statuses", x.review_status)
                ),
                None,
            )
        )
    t = _table(doc, len(rows), 2)
    for (label, value, grade), (head, cell) in zip(rows, _grid(t), strict=True):
        _write(head, label, bold=True)
        _shade(head, HEAD_FILL)
        _write(cell, value, grade=grade)
        head.width = Mm(35)
        cell.width = Mm(145)
    doc.add_paragraph()


def _capture(
    doc: DocxDocument, report: Report, cap: CaptureEntry, index: int, L: Mapping[str, Any], F: Formatter
) -> None:
    f = L["fields"]
    title = cap.location or cap.point or cap.name
    doc.add_heading(f"{index}. {title}" if report.kind == "patrol" else title, level=2)
    figs = _table(doc, 2, 2)
    fig_cells = _grid(figs)
    for j, (data, caption) in enumerate(
        ((cap.thermal_image, f["thermal_image"]), (cap.visible_jpeg, f["visible_photo"]))
    ):
        cell = fig_cells[0][j]
        cell.width = Mm(90)
        if data:
            cell.paragraphs[0].add_run().add_picture(io.BytesIO(data), width=Mm(84))
        else:
            _write(
                cell,
                f"{caption}：{L['not_recorded']}"
                if report.lang == "zh"
                else f"{caption}: {L['not_recorded']}",
            )
        cell.paragraphs[0].alignment = WD_ALIGN_PARAGRAPH.CENTER
        _write(fig_cells[1][j], caption, size=8)
        fig_cells[1][j].paragraphs[0].alignment = WD_ALIGN_PARAGRAPH.CENTER
    doc.add_paragraph()
    env = cap.environment
    _kv_table(
        doc,
        [
            (f["file"], cap.name),
            (f["taken_at"], F.time(cap.taken_at)),
            (f["location"], F.text(cap.location)),
            (f["point"], F.text(cap.point)),
            (f["instrument"], F.text(cap.camera.model)),
            (f["serial"], F.text(cap.camera.serial)),
            (f["emissivity"], F.num(cap.emissivity, "", 2)),
            (f["distance"], F.num(cap.distance_m, "m")),
            (f["max_min"], F.pair(F.num(cap.max_c, "°C"), F.num(cap.min_c, "°C"))),
            (f["ambient"], F.num(env.ambient_c, "°C")),
            (f["humidity"], F.num(env.humidity_pct, "%", 0)),
            (f["load"], F.load(None, cap.load_ratio)),
        ],
    )
    doc.add_paragraph()
    if not cap.findings:
        doc.add_paragraph(str(L["no_findings"]))
    else:
        t = _table(doc, 1, 8)
        _head_row(
            t, 0, [f["subject"], f["t1"], f["t2"], f["t0"], f["delta_t"], f["rise"], f["delta"], f["grade"]]
        )
        for x in cap.findings:
            cells = t.add_row().cells
            values = [
                x.subject,
                F.num(x.t1_c, "°C"),
                F.num(x.t2_c, "°C"),
                F.num(x.t0_c, "°C"),
                F.num(x.delta_t_k, "K"),
                F.num(x.rise_k, "K"),
                F.num(x.delta_pct, "%"),
            ]
            for j, v in enumerate(values):
                _write(cells[j], v)
            _write(cells[7], F.grade(x.grade, x.tentative), grade=x.grade)
        doc.add_paragraph()
        for x in cap.findings:
            if x.is_defect or report.kind == "defect" or not x.automatic:
                _details(doc, x, L, F)
    if cap.trend_png:
        doc.add_paragraph().add_run().add_picture(io.BytesIO(cap.trend_png), width=Mm(150))
        doc.add_paragraph(str(f["trend"])).alignment = WD_ALIGN_PARAGRAPH.CENTER
    pt = cap.point_trend
    if pt is not None and report.kind == "defect":
        doc.add_heading(str(f["point_trend"]), level=3)
        if pt.chart_png:
            doc.add_paragraph().add_run().add_picture(io.BytesIO(pt.chart_png), width=Mm(150))
            caption = f"{f['trend_rise']} ({F.pick('trend_basis', pt.basis)})"
            doc.add_paragraph(caption).alignment = WD_ALIGN_PARAGRAPH.CENTER
        doc.add_paragraph(f"{f['early_warnings']}: " + (" ".join(pt.warnings) or str(L["none"])))
        doc.add_paragraph(f"{f['comparison']}: {F.text(pt.comparison)}")


def render_docx(report: Report, *, templates: TemplateSet | None = None) -> bytes:
    """The report as DOCX bytes (A4, editable)."""
    ts = templates or TemplateSet()
    L = ts.labels(report.lang)
    F = Formatter(L)
    base = ts.find("report.docx")
    doc = Document(str(base)) if base is not None else Document()
    if base is None:
        for section in doc.sections:
            section.page_width, section.page_height = Mm(210), Mm(297)
            section.left_margin = section.right_margin = Mm(15)
            section.top_margin, section.bottom_margin = Mm(16), Mm(16)
    _set_fonts(doc, L)
    logo = ts.logo()
    if logo is not None and logo[1] == "image/png":
        doc.add_paragraph().add_run().add_picture(io.BytesIO(logo[0]), height=Mm(12))
    title = doc.add_heading(str(L["title"][report.kind]), level=0)
    title.alignment = WD_ALIGN_PARAGRAPH.CENTER
    if L.get("organisation"):
        doc.add_paragraph(str(L["organisation"])).alignment = WD_ALIGN_PARAGRAPH.CENTER
    doc.add_heading(str(L["sections"]["header"]), level=2)
    _header(doc, report, L, F)
    if report.kind == "patrol":
        _summary(doc, report, L, F)
    for k, cap in enumerate(report.captures, start=1):
        _capture(doc, report, cap, k, L, F)
    f = L["fields"]
    doc.add_paragraph()
    sign = _grid(_table(doc, 1, 6))[0]
    for j, key in enumerate(("tested_by", "reviewed_by", "approved_by")):
        _write(sign[2 * j], str(f[key]), bold=True)
        _shade(sign[2 * j], HEAD_FILL)
    footer = doc.sections[0].footer.paragraphs[0]
    if not footer.text:
        footer.text = str(L.get("footer", ""))
        footer.alignment = WD_ALIGN_PARAGRAPH.RIGHT
    buf = io.BytesIO()
    doc.save(buf)
    return buf.getvalue()
