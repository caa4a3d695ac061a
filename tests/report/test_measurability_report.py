"""Reports carry the measurability notes in the finding's explanation and recommendation (zh and en)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from irpatrol.diagnosis.points import parse_points
from irpatrol.diagnosis.rulepack import load_rule_pack
from irpatrol.report.folder import build_folder_report
from irpatrol.report.render import render_html
from tests.report.conftest import POINTS

EXTRA = "    material: polished_metal\n    target_mm: 6\n    distance_m: 12\n"


@pytest.mark.parametrize(
    ("lang", "size", "material", "advice"),
    [
        ("zh", "12 m 处每像素覆盖 8.2 mm", "表面为抛光金属", "缩短检测距离或换用长焦镜头复测"),
        ("en", "one pixel covers 8.2 mm at 12 m", "The surface is polished metal", "Measure closer"),
    ],
)
def test_report_explains_the_flags(tmp_path: Path, lang: str, size: str, material: str, advice: str) -> None:
    shutil.copy(POINTS.parent / "flir_t640_fuses.jpg", tmp_path / "flir_t640_fuses.jpg")
    text = POINTS.read_text(encoding="utf-8").replace(
        "    heating_type: current\n", "    heating_type: current\n" + EXTRA, 1
    )
    points = parse_points(text, path="fuses.points.yaml").points
    report = build_folder_report(tmp_path, lang=lang, pack=load_rule_pack("dlt664-2016"), points=points)
    ((f,),) = [c.findings for c in report.captures]
    assert f.tentative
    assert f.explanation is not None
    assert f.recommendation is not None
    assert size in f.explanation
    assert material in f.explanation
    assert advice in f.recommendation
    html = render_html(report)
    assert size in html
    assert advice in html
