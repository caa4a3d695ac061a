"""Measurability per finding on real files: FOV and distance read from them, flags, facts, texts.

Datasheet figures the values read from the files are checked against (FLIR and DJI technical
data as published for each model):

* FLIR T640 with its 25° lens: FOV 25° × 19°, 640 × 480 px, IFOV 0.68 mrad;
* FLIR E40: FOV 25° × 19°, 160 × 120 px, IFOV 2.72 mrad;
* FLIR AX8: FOV 48° × 37°, 80 × 60 px, so IFOV = 48° in rad / 80 = 10.47 mrad;
* DJI Matrice 30T thermal camera: 640 × 512 px, 12 µm pitch, 9.1 mm focal length (the
  sample's EXIF FocalLength), so HFOV 45.76° and IFOV = FOV / 640 = 1.25 mrad.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pytest

from irpatrol.diagnosis.analysis import analyze_frame
from irpatrol.diagnosis.measurability import MATERIAL_FLAG, SIZE_FLAG, Optics
from irpatrol.diagnosis.points import InspectionPoint, parse_points
from irpatrol.diagnosis.rulepack import load_rule_pack
from irpatrol.formats import open_thermal
from irpatrol.pipeline import Conditions, Inspection, inspect_image
from irpatrol.pipeline.inspection import camera_optics, check_measurability, target_distance
from irpatrol.pipeline.texts import bilingual_texts
from irpatrol.thermal.radiometry import Thermogram
from tests.conftest import DEMO, sample_path

FUSES = DEMO / "flir_t640_fuses.jpg"
POINTS_TEXT = (DEMO / "flir_t640_fuses.points.yaml").read_text(encoding="utf-8")
PACK = load_rule_pack("dlt664-2016")


def _points(extra: str) -> tuple[InspectionPoint, ...]:
    """The demo's fuse-bank point with more keys (inserted after its heating type)."""
    text = POINTS_TEXT.replace("    heating_type: current\n", f"    heating_type: current\n{extra}", 1)
    return parse_points(text, path="fuses.points.yaml").points


def _finding(ins: Inspection) -> dict[str, Any]:
    (a,) = ins.to_dict()["findings"]
    finding: dict[str, Any] = a["finding"]
    return finding


def test_t640_fov_and_footprint_from_the_file() -> None:
    ins = inspect_image(FUSES, pack=PACK)
    m = ins.to_dict()["measurability"]
    assert m["fov_source"] == "file"
    assert m["fov_deg"] == pytest.approx(25.0, abs=0.05)  # CameraInfo 24.99°, datasheet 25°
    assert m["width_px"] == 640
    assert m["ifov_mrad"] == pytest.approx(0.68, abs=0.005)  # datasheet 0.68 mrad
    # the object distance the camera was set to: 1 m, so one pixel covers 0.68 mm, 3 px 2.0 mm
    assert (m["distance_m"], m["distance_source"]) == (1.0, "file")
    assert m["pixel_mm"] == pytest.approx(0.68, abs=0.005)
    assert m["min_measurable_mm"] == pytest.approx(2.04, abs=0.01)


@pytest.mark.samples
@pytest.mark.parametrize(
    ("name", "fov_deg", "width", "ifov", "distance"),
    [
        ("flir_ax8.jpg", 48.0, 80, math.radians(48.0) / 80 * 1000, 1.0),  # 10.47 mrad
        ("flir_e40.jpg", 25.0, 160, 2.72, 2.0),
        ("flir_t640_fuses.jpg", 25.0, 640, 0.68, 1.0),
    ],
)
def test_flir_samples_match_their_datasheets(
    name: str, fov_deg: float, width: int, ifov: float, distance: float
) -> None:
    m = inspect_image(sample_path(name), pack=PACK).to_dict()["measurability"]
    assert m["fov_source"] == "file"
    assert m["fov_deg"] == pytest.approx(fov_deg, abs=0.1)
    assert m["width_px"] == width
    assert m["ifov_mrad"] == pytest.approx(ifov, rel=0.01)
    assert m["distance_m"] == distance
    assert m["pixel_mm"] == pytest.approx(m["ifov_mrad"] * distance, abs=1e-3)


@pytest.mark.samples
def test_ax8_footprint_at_distance() -> None:
    # 10.46 mrad × 12 m = 125.5 mm per pixel: nothing under 376 mm is measurable
    ins = inspect_image(sample_path("flir_ax8.jpg"), pack=PACK, conditions=Conditions(distance_m=12.0))
    m = ins.to_dict()["measurability"]
    assert m["distance_source"] == "conditions"
    assert m["pixel_mm"] == pytest.approx(125.5, abs=0.1)
    assert m["min_measurable_mm"] == pytest.approx(376.4, abs=0.2)


@pytest.mark.samples
@pytest.mark.parametrize(
    ("name", "hfov"),
    [("dji_m30t_640.jpg", 45.76), ("dji_h20t_rooftop.jpg", 31.76), ("dji_m4t_tower.jpg", 35.49)],
)
def test_dji_fov_from_the_model_table(name: str, hfov: float) -> None:
    with open_thermal(sample_path(name)) as tf:
        frame = tf.first_frame()
        optics = camera_optics(frame.info, frame.info.width)
        distance = target_distance(frame.info, None, Conditions())
    assert optics is not None
    assert optics.source == "table"
    assert optics.fov_deg == hfov
    assert optics.ifov_mrad == pytest.approx(math.radians(hfov) / 640 * 1000)
    assert distance == (5.0, "file")  # the DJI parameters' object distance


@pytest.mark.samples
def test_camera_without_fov_is_not_checked() -> None:
    # Zenmuse XT R: FLIR core whose CameraInfo FOV is 0 and whose model ("FLIR") is not in the table
    ins = inspect_image(sample_path("dji_zenmuse_xtr.jpg"), pack=PACK)
    m = ins.to_dict()["measurability"]
    assert m["ifov_mrad"] is None
    assert m["pixel_mm"] is None
    assert (m["distance_m"], m["distance_source"]) == (20.0, "file")


def test_grading_unchanged_for_measurable_targets() -> None:
    auto = inspect_image(FUSES, pack=PACK)
    for a in auto.analysis.assessments:
        assert a.finding is not None
        assert SIZE_FLAG not in a.finding.flags
        assert not a.finding.tentative
    (a,) = inspect_image(FUSES, pack=PACK, points=_points("")).analysis.assessments
    assert a.finding is not None
    assert a.finding.grade.name == "GENERAL"
    assert not a.finding.tentative
    assert a.finding.flags == ("load-unknown",)


def test_configured_target_too_small_at_its_distance() -> None:
    ins = inspect_image(FUSES, pack=PACK, points=_points("    target_mm: 6\n    distance_m: 12\n"))
    f = _finding(ins)
    assert SIZE_FLAG in f["flags"]
    assert f["tentative"] is True
    assert f["grade"] == "general"  # the grade stays, marked tentative
    (note,) = [n for n in f["notes"] if n["code"] == SIZE_FLAG]
    p = note["params"]
    assert p["target_mm"] == 6.0
    assert p["distance_m"] == 12.0
    assert p["distance_source"] == "point"
    assert p["pixel_mm"] == pytest.approx(8.177, abs=1e-3)  # 0.6815 mrad × 12 m
    assert p["min_measurable_mm"] == pytest.approx(24.53, abs=0.01)
    assert "target 6 mm is smaller than the smallest measurable size 25 mm" in f["explanation_en"]
    assert "one pixel covers 8.2 mm at 12 m" in f["explanation_en"]
    assert "Measure closer or with a telephoto lens." in f["recommendation_en"]
    assert "12 m 处每像素覆盖 8.2 mm" in f["explanation_zh"]
    assert "缩短检测距离或换用长焦镜头复测" in f["recommendation_zh"]
    # the stored facts render the same texts later
    assert bilingual_texts(f)["explanation_en"] == f["explanation_en"]


def test_distance_doubled_flips_the_flag_on_the_real_file() -> None:
    # 6 mm at 0.6815 mrad: 3 px = 5.11 mm at 2.5 m (measurable), 10.2 mm at 5 m (not)
    points = _points("    target_mm: 6\n")
    near = inspect_image(FUSES, pack=PACK, points=points, conditions=Conditions(distance_m=2.5))
    far = inspect_image(FUSES, pack=PACK, points=points, conditions=Conditions(distance_m=5.0))
    assert SIZE_FLAG not in _finding(near)["flags"]
    assert not _finding(near)["tentative"]
    assert SIZE_FLAG in _finding(far)["flags"]
    assert _finding(far)["tentative"]


def test_low_emissivity_material() -> None:
    f = _finding(inspect_image(FUSES, pack=PACK, points=_points("    material: bare_metal\n")))
    assert MATERIAL_FLAG in f["flags"]
    assert f["tentative"] is True
    (note,) = [n for n in f["notes"] if n["code"] == MATERIAL_FLAG]
    assert note["params"]["material"] == "bare_metal"
    assert note["params"]["emissivity"] == 0.95  # what the camera used
    assert (note["params"]["emissivity_min"], note["params"]["emissivity_max"]) == (0.05, 0.4)
    assert "bare metal (typical emissivity 0.05–0.4), measured with emissivity 0.95" in f["explanation_en"]
    assert "裸金属" in f["explanation_zh"]
    painted = _finding(inspect_image(FUSES, pack=PACK, points=_points("    material: painted\n")))
    assert MATERIAL_FLAG not in painted["flags"]
    assert not painted["tentative"]


# Hand-worked frames: a 60 °C block on a 25 °C structure, automatic mode, a 25° / 640 px camera
# at 1 m (0.68 mm per pixel, 3 px = 2.05 mm).
OPTICS = Optics(fov_deg=25.0, width_px=640, source="file")


def _frame(width: int) -> Thermogram:
    t = np.full((60, 80), 20.0) + np.random.default_rng(0).normal(0, 0.1, (60, 80))
    t[20:40, 10:70] = 25.0
    t[28 : 28 + width, 38 : 38 + width] = 60.0
    return Thermogram(t.astype(np.float32), np.ones(t.shape, bool), 0, 0, 0)


@pytest.mark.parametrize(("width", "flagged"), [(3, False), (2, True)])
def test_three_pixel_spot_is_at_the_limit(width: int, flagged: bool) -> None:
    frame = _frame(width)
    analysis = analyze_frame(frame, pack=PACK)
    checked = check_measurability(analysis, frame, optics=OPTICS, distance_m=1.0, distance_source="file")
    (a,) = checked.assessments
    assert a.finding is not None
    assert (SIZE_FLAG in a.finding.flags) is flagged
    assert a.finding.tentative is flagged
    if flagged:
        params = dict(a.finding.notes[-1].params)
        assert params["target_px"] == 2
        assert params["target_mm"] == pytest.approx(1.36, abs=0.01)
    else:
        assert checked.assessments == analysis.assessments


def test_ungraded_assessment_gets_the_flag_only() -> None:
    frame = _frame(2)
    analysis = analyze_frame(frame, pack=None)
    (a,) = check_measurability(analysis, frame, optics=None, distance_m=None).assessments
    assert a.finding is None
    assert SIZE_FLAG in a.flags
