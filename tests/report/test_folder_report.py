"""Folder reports: built from the bundled demo images, printed as PDF, DOCX and HTML, and read back."""

from __future__ import annotations

import io
import re
from pathlib import Path
from typing import Any

import docx
import pytest

from irpatrol.diagnosis.points import parse_points
from irpatrol.diagnosis.rulepack import load_rule_pack
from irpatrol.pipeline import Conditions
from irpatrol.report.folder import FolderHeader, build_folder_report
from irpatrol.report.model import Report
from irpatrol.report.render import render_html, render_report
from tests.report.conftest import POINTS, pdf_fonts, pdf_images, pdf_text


def _report(folder: Path, lang: str, **kwargs: Any) -> Report:
    points = parse_points(POINTS.read_text(encoding="utf-8"), path=str(POINTS)).points
    return build_folder_report(
        folder,
        lang=lang,
        pack=load_rule_pack("dlt664-2016"),
        points=points,
        points_dir=POINTS.parent,
        **kwargs,
    )


@pytest.fixture(scope="module")
def zh(demo_folder: Path) -> Report:
    return _report(
        demo_folder,
        "zh",
        header=FolderHeader(station="220kV 示范变电站", executor="张工", executor_kind="person"),
    )


@pytest.fixture(scope="module")
def en(demo_folder: Path) -> Report:
    return _report(demo_folder, "en", conditions=Conditions(ambient_c=21.5, load_ratio=0.6))


def test_folder_model(zh: Report) -> None:
    """Every readable image is a capture; the broken file is listed with its reason; notes are skipped."""
    assert [c.name for c in zh.captures] == [
        "dji_zenmuse_xtr.jpg",
        "flir_ax8.jpg",
        "flir_e40.jpg",
        "flir_t640_fuses.jpg",
    ]
    assert [u.name for u in zh.unreadable] == ["broken.jpg"]
    assert "unsupported format" in zh.unreadable[0].reason
    assert str(zh.unreadable[0].reason).startswith("broken.jpg")  # no temp-folder path in the report
    fuses = zh.captures[-1]
    (f,) = fuses.findings  # the points file configures the fuse bank: one assessment, no automatic spots
    assert f.subject == "cabinet-3-fuses"
    assert f.grade == "general"
    assert f.delta_pct == pytest.approx(41.9, abs=0.1)
    assert f.t2_c is not None
    assert f.t0_c is not None
    assert f.clause
    assert "DL/T 664" in f.clause
    assert f.explanation
    assert "相对温差" in f.explanation
    assert fuses.visible_jpeg is not None
    assert fuses.visible_jpeg[:2] == b"\xff\xd8"
    assert zh.captures[0].visible_jpeg is None  # the XT R file has no embedded photo
    assert fuses.location == "Disconnect cabinet 3, fuse bank"
    assert zh.counts_by_grade()["general"] == 1
    assert [(c.name, x.subject) for c, x in zh.defects()] == [("flir_t640_fuses.jpg", "cabinet-3-fuses")]
    models = {i.model for i in zh.header.instruments}
    assert {"FLIR T640", "FLIR E40", "FLIR AX8"} <= models
    t640 = next(i for i in zh.header.instruments if i.model == "FLIR T640")
    assert t640.range_c == pytest.approx((-40.0, 150.0), abs=0.01)


def test_pdf_zh(zh: Report, tmp_path: Path) -> None:
    pdf = render_report(zh, "pdf")
    assert pdf.startswith(b"%PDF")
    text = pdf_text(pdf, tmp_path)
    rows = pdf_text(pdf, tmp_path, layout=True)
    assert "红外热像检测报告" in text
    assert "220kV 示范变电站" in text
    assert "未记录" in text  # no ambient, no humidity, no visible photo for most images
    assert "一般缺陷" in text
    assert "相对温差 δ" in text
    assert "°C" in text
    assert "broken.jpg" in text
    assert "unsupported format" in text
    assert "notes.txt" not in text
    # the measurement row of the fuse bank: T1, T2, T0, ΔT, rise, δ and the grade on one line
    row = next(
        line for line in rows.splitlines() if line.strip().startswith("cabinet-3-fuses") and "%" in line
    )
    assert re.search(r"46\.6 °C\s+41\.5 °C\s+34\.3 °C\s+5\.1 K\s+12\.2 K\s+41\.9 %\s+一般缺陷", row), row
    images = pdf_images(pdf, tmp_path)
    # logo + 4 thermograms + 2 visible photos (T640 and AX8 carry one)
    assert len(images) >= 7, images
    fonts = pdf_fonts(pdf, tmp_path)
    assert "NotoSansCJK" in fonts.replace("-", "").replace(" ", "") or "Noto-Sans-CJK" in fonts
    for line in fonts.splitlines()[2:]:
        assert " yes yes " in line, line  # every font embedded and subset


def test_pdf_en(en: Report, tmp_path: Path) -> None:
    text = " ".join(pdf_text(render_report(en, "pdf"), tmp_path).split())
    assert "Infrared Thermographic Inspection Report" in text
    assert "not recorded" in text
    assert "21.5 °C" in text  # the ambient given for the whole folder
    assert "General" in text
    assert "Recommended action" in text
    assert "Record it, watch how the defect develops" in text  # the recommendation in English
    assert "未记录" not in text


def test_docx(zh: Report, en: Report) -> None:
    for report, title, missing in (
        (zh, "红外热像检测报告", "未记录"),
        (en, "Infrared Thermographic", "not recorded"),
    ):
        doc = docx.Document(io.BytesIO(render_report(report, "docx")))
        body = "\n".join(p.text for p in doc.paragraphs)
        assert title in body
        cells = [c.text for t in doc.tables for row in t.rows for c in row.cells]
        assert missing in cells
        assert any("cabinet-3-fuses" in c for c in cells)
        assert any(c in {"一般缺陷", "General"} for c in cells)
        assert any("broken.jpg" in c for c in cells)
        assert len(doc.inline_shapes) >= 7  # logo, four thermograms, two photos
    zh_doc = docx.Document(io.BytesIO(render_report(zh, "docx")))
    measure = [t for t in zh_doc.tables if t.rows[0].cells[0].text == "对象" and len(t.columns) == 8]
    assert len(measure) == 3  # one per capture with findings (the AX8 frame has no hot spot)
    row = [c.text for c in measure[-1].rows[1].cells]
    assert row == [
        "cabinet-3-fuses",
        "46.6 °C",
        "41.5 °C",
        "34.3 °C",
        "5.1 K",
        "12.2 K",
        "41.9 %",
        "一般缺陷",
    ]


def test_no_empty_value_cells(zh: Report) -> None:
    """Data cells say 未记录 where nothing was recorded; only the signature cells are left blank to sign."""
    doc = docx.Document(io.BytesIO(render_report(zh, "docx")))
    for t in doc.tables[:-1]:  # the last table is the sign-off row
        for row in t.rows:
            for cell in row.cells:
                if not cell._tc.xpath(".//w:drawing"):
                    assert cell.text.strip(), [c.text for c in row.cells]


def test_html_self_contained(zh: Report) -> None:
    html = render_html(zh)
    assert "<h1>红外热像检测报告</h1>" in html
    assert html.count('src="data:image/jpeg;base64,') >= 6
    assert 'src="data:image/png;base64,' in html  # the logo
    assert not re.search(r'(src|href)="(?!data:)', html), "every resource must be inline"
    assert "未记录" in html
    assert "<td></td>" not in html.split('<table class="sign">')[0]
