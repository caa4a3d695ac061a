"""Templates a utility replaces, the value printer, markers from stored analyses, the trend chart."""

from __future__ import annotations

import io
from datetime import UTC, datetime, timedelta
from pathlib import Path

import docx
import pytest
from PIL import Image

from irpatrol.errors import DataFileError, ParameterError
from irpatrol.report.annotate import markers_from_doc, region_from_dict
from irpatrol.report.figures import trend_chart
from irpatrol.report.model import CaptureEntry, FindingEntry, Header, Report, TrendPoint
from irpatrol.report.render import format_from_suffix, render_html, render_report
from irpatrol.report.templates import Formatter, TemplateSet
from irpatrol.thermal.measure import Box, Ellipse, Line, Polygon, Spot


def _minimal(kind: str = "defect", lang: str = "zh") -> Report:
    """A report with nothing recorded but one finding without T2."""
    finding = FindingEntry(subject="P-1", grade="serious", t1_c=80.0, t0_c=30.0, rise_k=50.0)
    return Report(
        kind=kind,  # type: ignore[arg-type]
        lang=lang,
        header=Header(),
        captures=(CaptureEntry(name="x.jpg", findings=(finding,)),),
    )


def test_formatter_prints_missing_values_as_not_recorded() -> None:
    zh = Formatter(TemplateSet().labels("zh"))
    assert zh.num(None, "°C") == "未记录"
    assert zh.num(41.93, "%") == "41.9 %"
    assert zh.num(0.949, "", 2) == "0.95"
    assert zh.text("  ") == "未记录"
    assert zh.time(None) == "未记录"
    assert zh.time(datetime(2026, 6, 1, 9, 30, tzinfo=UTC)) == "2026-06-01 09:30:00 +0000"
    assert zh.pair(zh.num(None), zh.num(None)) == "未记录"
    assert zh.load(None, 0.6) == "未记录 / 60 %"
    assert zh.range_c((-40.0, 150.0)) == "-40 … 150 °C"
    assert zh.grade("general", tentative=True) == "一般缺陷（暂定）"
    assert zh.pick("patrol_types", "infrared") == "红外普测"
    en = Formatter(TemplateSet().labels("en"))
    assert en.num(None) == "not recorded"
    assert en.grade("critical") == "Critical"


def test_missing_everything_still_prints(tmp_path: Path) -> None:
    """No photo, no thermogram, no ambient, no load, no T2, no instrument: 未记录 everywhere, no crash."""
    report = _minimal()
    html = render_html(report)
    assert "<h1>红外热像检测异常报告</h1>" in html
    assert "可见光照片：未记录" in html
    assert "红外热像图：未记录" in html
    assert "<td></td>" not in html.split('<table class="sign">')[0]
    doc = docx.Document(io.BytesIO(render_report(report, "docx")))
    cells = [c.text for t in doc.tables[:-1] for row in t.rows for c in row.cells]
    assert all(c.strip() for c in cells), cells
    assert "未记录" in cells
    assert render_report(_minimal(lang="en"), "pdf").startswith(b"%PDF")


def test_custom_templates_override_only_what_they_hold(tmp_path: Path) -> None:
    custom = tmp_path / "ours"
    custom.mkdir()
    (custom / "labels.zh.yaml").write_text(
        "title:\n  defect: 变电站设备红外异常报告\norganisation: 国网示范供电公司\n", encoding="utf-8"
    )
    logo = io.BytesIO()
    Image.new("RGB", (40, 20), (0, 90, 160)).save(logo, format="PNG")
    (custom / "logo.png").write_bytes(logo.getvalue())
    ts = TemplateSet(custom)
    labels = ts.labels("zh")
    assert labels["title"]["defect"] == "变电站设备红外异常报告"
    assert labels["title"]["patrol"] == "红外热像检测报告"  # not in the custom file: the default
    assert labels["fields"]["t1"] == "发热点温度 T1"
    assert ts.logo() == (logo.getvalue(), "image/png")
    html = render_html(_minimal(), templates=ts)
    assert "变电站设备红外异常报告" in html
    assert "国网示范供电公司" in html
    doc = docx.Document(io.BytesIO(render_report(_minimal(), "docx", templates=ts)))
    assert "变电站设备红外异常报告" in "\n".join(p.text for p in doc.paragraphs)
    # a custom layout file replaces the built-in one
    (custom / "report.html.j2").write_text(
        "<p>{{ L.title[r.kind] }} / {{ r.captures | length }}</p>", encoding="utf-8"
    )
    assert render_html(_minimal(), templates=ts) == "<p>变电站设备红外异常报告 / 1</p>"


def test_custom_word_base_document(tmp_path: Path) -> None:
    base = docx.Document()
    base.sections[0].header.paragraphs[0].text = "国网示范供电公司 文件"
    base.save(str(tmp_path / "report.docx"))
    doc = docx.Document(io.BytesIO(render_report(_minimal(), "docx", templates=TemplateSet(tmp_path))))
    assert doc.sections[0].header.paragraphs[0].text == "国网示范供电公司 文件"


def test_bad_template_files_are_named(tmp_path: Path) -> None:
    (tmp_path / "labels.en.yaml").write_text("title: [unclosed\n", encoding="utf-8")
    with pytest.raises(DataFileError, match=r"labels\.en\.yaml"):
        TemplateSet(tmp_path).labels("en")
    (tmp_path / "labels.zh.yaml").write_text("- a list\n", encoding="utf-8")
    with pytest.raises(DataFileError, match="mapping"):
        TemplateSet(tmp_path).labels("zh")
    with pytest.raises(ParameterError, match="templates"):
        TemplateSet(tmp_path / "absent")
    with pytest.raises(ParameterError, match="lang"):
        TemplateSet().labels("fr")


@pytest.mark.parametrize(
    ("name", "fmt"), [("a.pdf", "pdf"), ("b.DOCX", "docx"), ("c.html", "html"), ("d.htm", "html")]
)
def test_format_from_suffix(name: str, fmt: str) -> None:
    assert format_from_suffix(name) == fmt


def test_format_from_suffix_refuses_others() -> None:
    with pytest.raises(ParameterError, match=r"\.pdf, \.docx or \.html"):
        format_from_suffix("report.odt")


@pytest.mark.parametrize(
    "region",
    [
        Box(left=1, top=2, right=5, bottom=9),
        Spot(x=3, y=4),
        Polygon(vertices=((0.0, 0.0), (4.0, 0.0), (2.0, 3.0))),
        Ellipse(cx=5.0, cy=5.0, rx=2.0, ry=1.0, angle_deg=30.0),
        Line(x0=0.0, y0=0.0, x1=7.0, y1=3.0),
    ],
)
def test_region_round_trip(region: object) -> None:
    from irpatrol.diagnosis.analysis import region_to_dict

    assert region_from_dict(region_to_dict(region)) == region  # type: ignore[arg-type]


def test_markers_from_a_stored_result_skip_what_they_cannot_draw() -> None:
    doc = {
        "regions": [
            {"name": "A", "shape": {"type": "box", "left": 1, "top": 1, "right": 4, "bottom": 4}},
            {"name": "bad", "shape": {"type": "hexagon"}},
            {"name": "broken", "shape": {"type": "box", "left": 5, "top": 5, "right": 1, "bottom": 1}},
        ],
        "hotspots": [{"rank": 1, "x": 2, "y": 3, "peak_c": 50.0}, {"rank": 2}],
    }
    m = markers_from_doc(doc, labels=[("P-1: 一般缺陷", "general")])
    assert [name for name, _ in m.regions] == ["A"]
    assert m.spots == ((1, 2.0, 3.0, 50.0),)
    assert m.labels == (("P-1: 一般缺陷", "general"),)


def test_trend_chart() -> None:
    t0 = datetime(2026, 1, 1, tzinfo=UTC)
    pts = [TrendPoint(at=t0 + timedelta(days=30 * k), value_c=40.0 + 5 * k, grade="normal") for k in range(4)]
    assert trend_chart(pts[:1], axis_label="T1 (°C)") is None  # one reading is no trend
    png = trend_chart(pts, axis_label="温度 T1 (°C)", current=pts[-1].at)
    assert png is not None
    with Image.open(io.BytesIO(png)) as img:
        assert img.size == (640, 200)
        rgb = img.convert("RGB")
        # the grade colour of "normal" is drawn (the readings), not only black and white
        assert (80, 200, 80) in {c for _, c in rgb.getcolors(maxcolors=100_000) or []}
