"""One frame → hot spots, regions, comparisons and findings."""

from __future__ import annotations

import numpy as np
import pytest

from irpatrol.diagnosis.analysis import analyze_frame
from irpatrol.diagnosis.points import InspectionPoint, parse_points
from irpatrol.diagnosis.registration import _warp
from irpatrol.diagnosis.rulepack import Grade, load_rule_pack
from irpatrol.errors import ParameterError
from irpatrol.formats import open_thermal
from irpatrol.thermal.measure import Box
from irpatrol.thermal.radiometry import Thermogram
from tests.conftest import REPO, sample_path


def _three_phase() -> np.ndarray:
    t = np.full((30, 40), 20.0, dtype=np.float32)
    t[5:25, 5:10] = 30.0  # A
    t[5:25, 15:20] = 60.0  # B, hot
    t[5:25, 25:30] = 31.0  # C
    return t


POINT = InspectionPoint(
    id="p1",
    device="bank",
    part="connector",
    heating_type="current",
    phases=(
        ("A", Box(left=5, top=5, right=10, bottom=25)),
        ("B", Box(left=15, top=5, right=20, bottom=25)),
        ("C", Box(left=25, top=5, right=30, bottom=25)),
    ),
    ambient=Box(left=32, top=5, right=38, bottom=25),
)


def test_configured_point_compared_and_graded() -> None:
    a = analyze_frame(_three_phase(), points=[POINT], pack=load_rule_pack("dlt664-2016"))
    (assessment,) = a.assessments
    c = assessment.comparison
    assert c is not None
    assert (c.hot_label, c.reference_label, c.t1_c, c.t2_c, c.t0_c) == ("B", "A", 60.0, 30.0, 20.0)
    assert c.delta_pct == 75.0
    assert assessment.finding is not None
    assert assessment.finding.grade >= Grade.GENERAL
    assert [r.name for r in a.regions] == ["A", "B", "C", "ambient"]
    assert a.hotspots.spots[0].peak_c == 60.0


def test_without_pack_nothing_graded() -> None:
    a = analyze_frame(_three_phase(), points=[POINT])
    assert a.assessments[0].finding is None
    assert a.assessments[0].comparison is not None


def test_automatic_mode_states_reference() -> None:
    a = analyze_frame(_three_phase(), pack=load_rule_pack("dlt664-2016"))
    top = a.assessments[0]
    assert top.subject == "spot 1"
    assert top.comparison is not None
    assert top.comparison.reference_source == "similar-region"
    assert top.flags == ("reference-similar-region",)
    d = a.to_dict()
    assert d["hotspots"][0]["x"] == 15
    assert d["findings"][0]["finding"]["grade"] is not None


def test_invalid_pixels_excluded_and_reported() -> None:
    t = _three_phase()
    valid = np.ones(t.shape, dtype=bool)
    valid[5:25, 15:20] = False  # the hot phase is out of range
    tg = Thermogram(t, valid, 0, 0, 100)
    a = analyze_frame(tg, points=[POINT])
    assert a.n_excluded == 100
    assert "phase-B-no-valid-pixels" in a.assessments[0].flags
    assert a.assessments[0].comparison is not None
    assert a.assessments[0].comparison.hot_label == "C"


def test_alignment_failure_refuses_to_grade() -> None:
    rng = np.random.RandomState(0)
    point = InspectionPoint(**{**POINT.__dict__, "reference_image": "ref.jpg"})
    other = rng.normal(20, 3, (30, 40)).astype(np.float32)
    ref = Thermogram(other, np.ones(other.shape, bool), 0, 0, 0)
    a = analyze_frame(
        _three_phase(), points=[point], references={"ref.jpg": ref}, pack=load_rule_pack("dlt664-2016")
    )
    (assessment,) = a.assessments
    assert assessment.finding is None
    assert "alignment-failed" in assessment.flags
    assert "not-graded" in assessment.flags
    missing = analyze_frame(_three_phase(), points=[point])
    assert "reference-missing" in missing.assessments[0].flags


def test_bad_frame() -> None:
    with pytest.raises(ParameterError, match="frame"):
        analyze_frame(np.zeros(5))


@pytest.mark.samples
def test_t640_fuse_bank_end_to_end() -> None:
    tg = open_thermal(sample_path("flir_t640_fuses.jpg")).first_frame().thermogram()
    pf = parse_points((REPO / "src/irpatrol/demo/flir_t640_fuses.points.yaml").read_text())
    a = analyze_frame(tg, points=pf.for_image("flir_t640_fuses.jpg"), pack=load_rule_pack("dlt664-2016"))
    (assessment,) = a.assessments
    c = assessment.comparison
    assert c is not None
    assert c.hot_label == "B"
    assert c.delta_pct == pytest.approx(41.9, abs=0.1)
    assert assessment.finding is not None
    assert assessment.finding.grade == Grade.GENERAL


@pytest.mark.samples
def test_t640_preset_reregistered_after_camera_moved() -> None:
    tg = open_thermal(sample_path("flir_t640_fuses.jpg")).first_frame().thermogram()
    point = parse_points((REPO / "src/irpatrol/demo/flir_t640_fuses.points.yaml").read_text()).points[0]
    point = InspectionPoint(**{**point.__dict__, "reference_image": "ref"})
    moved = _warp(tg.celsius, angle_deg=1.0, scale=1.0, shift=(15.0, -10.0))
    moved[moved == 0] = np.nan
    frame = Thermogram(moved, np.isfinite(moved), 0, 0, 0)
    a = analyze_frame(frame, points=[point], references={"ref": tg})
    (assessment,) = a.assessments
    assert assessment.alignment is not None
    assert assessment.alignment.ok
    assert assessment.comparison is not None
    assert assessment.comparison.hot_label == "B"
    assert assessment.comparison.delta_pct == pytest.approx(41.9, abs=3.0)
