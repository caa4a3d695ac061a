"""The measurability rule on hand-worked numbers: IFOV, footprint, 3-pixel spot, tables, points."""

from __future__ import annotations

import math

import numpy as np
import pytest

from irpatrol.diagnosis.measurability import (
    MIN_PIXELS,
    Optics,
    camera_model,
    camera_models,
    check_size,
    footprint_mm,
    hot_area,
    ifov_mrad,
    material,
    materials,
)
from irpatrol.diagnosis.points import parse_points
from irpatrol.errors import ParameterError, PointsFileError

# 25° lens, 640 px across: IFOV = 25 × π/180 / 640 = 0.6818 mrad (a T640 with its 25° lens).
T640 = Optics(fov_deg=25.0, width_px=640, source="file")


def test_ifov_and_footprint_by_hand() -> None:
    assert ifov_mrad(25.0, 640) == pytest.approx(math.radians(25.0) / 640 * 1000)
    assert ifov_mrad(25.0, 640) == pytest.approx(0.6818, abs=1e-4)
    # 1 mrad at 1 m is 1 mm: 0.6818 mrad × 12 m = 8.18 mm per pixel, 3 px = 24.5 mm
    assert footprint_mm(ifov_mrad(25.0, 640), 12.0) == pytest.approx(8.18, abs=0.01)
    check = check_size(optics=T640, distance_m=12.0, target_mm=6.0)
    assert check is not None
    assert check.min_measurable_mm == pytest.approx(24.54, abs=0.01)
    assert not check.measurable


def test_three_pixel_rule() -> None:
    assert MIN_PIXELS == 3


@pytest.mark.parametrize(("bad_fov", "bad_px"), [(0.0, 640), (180.0, 640), (math.nan, 640), (25.0, 0)])
def test_ifov_rejects_bad_input(bad_fov: float, bad_px: int) -> None:
    with pytest.raises(ParameterError):
        ifov_mrad(bad_fov, bad_px)


def _block(width: int) -> tuple[np.ndarray, np.ndarray]:
    t = np.full((20, 20), 20.0)
    t[8 : 8 + width, 8 : 8 + width] = 40.0
    return t, np.ones(t.shape, bool)


def test_image_target_three_pixels_is_at_the_limit() -> None:
    t, v = _block(3)
    area = hot_area(t, v, (8, 8), 20.0)
    assert area is not None
    assert (area.width_px, area.height_px, area.area_px, area.level_c) == (3, 3, 9, 30.0)
    check = check_size(optics=T640, distance_m=1.0, area=area)
    assert check is not None
    assert check.measurable
    assert check.target_mm == pytest.approx(3 * 0.6818, abs=1e-3)


def test_image_target_two_pixels_is_below() -> None:
    t, v = _block(2)
    check = check_size(optics=T640, distance_m=1.0, area=hot_area(t, v, (8, 8), 20.0))
    assert check is not None
    assert not check.measurable
    params = check.params()
    assert params["target_px"] == 2
    assert params["pixel_mm"] == pytest.approx(0.682, abs=1e-3)
    assert params["min_measurable_mm"] == pytest.approx(2.05, abs=0.01)
    assert params["target_source"] == "image"


def test_image_target_without_optics_is_checked_in_pixels() -> None:
    t, v = _block(2)
    check = check_size(optics=None, distance_m=None, area=hot_area(t, v, (8, 8), 20.0))
    assert check is not None
    assert not check.measurable
    assert check.target_mm is None


def test_narrow_target_uses_its_smaller_side() -> None:
    t = np.full((20, 20), 20.0)
    t[5:15, 8:10] = 40.0  # 10 px tall, 2 px wide: a thin conductor
    area = hot_area(t, np.ones(t.shape, bool), (8, 5), 20.0)
    assert area is not None
    assert area.size_px == 2


def test_small_excess_has_no_hot_area() -> None:
    t, v = _block(2)
    t[t > 30] = 21.5  # 1.5 K above the reference: below MIN_EXCESS_K
    assert hot_area(t, v, (8, 8), 20.0) is None


def test_configured_target_distance_doubled_flips() -> None:
    # 6 mm part, 0.6818 mrad: at 2.5 m one pixel is 1.70 mm, 3 px = 5.11 mm <= 6 mm: measurable;
    # at 5 m one pixel is 3.41 mm, 3 px = 10.2 mm > 6 mm: below the measurable size.
    near = check_size(optics=T640, distance_m=2.5, target_mm=6.0)
    far = check_size(optics=T640, distance_m=5.0, target_mm=6.0)
    assert near is not None
    assert far is not None
    assert near.min_measurable_mm == pytest.approx(5.11, abs=0.01)
    assert far.min_measurable_mm == pytest.approx(10.23, abs=0.01)
    assert near.measurable
    assert not far.measurable


def test_configured_target_exactly_at_the_limit_is_measurable() -> None:
    pixel = footprint_mm(T640.ifov_mrad, 4.0)
    check = check_size(optics=T640, distance_m=4.0, target_mm=3 * pixel)
    assert check is not None
    assert check.measurable


def test_configured_target_needs_optics_and_distance() -> None:
    assert check_size(optics=None, distance_m=5.0, target_mm=6.0) is None
    assert check_size(optics=T640, distance_m=None, target_mm=6.0) is None


def test_camera_table_is_consistent() -> None:
    cams = camera_models()
    assert {c.model for c in cams} >= {"ZH20T", "MAVIC2-ENTERPRISE-ADVANCED", "M30T", "M4T"}
    for c in cams:
        # hfov = 2 atan(width × pitch / 2f), from the stated pitch (µm) and focal length (mm)
        derived = 2 * math.degrees(math.atan(c.width_px * c.pixel_pitch_um / 1000 / 2 / c.focal_length_mm))
        assert c.hfov_deg == pytest.approx(derived, abs=0.01), c.model
        assert c.source
        assert c.verification in {"V", "P", "R"}
    assert camera_model("DJI", "m30t") is not None
    assert camera_model("FLIR Systems AB", "M30T") is None
    assert camera_model("DJI", "FLIR") is None


def test_material_table() -> None:
    table = materials()
    assert set(table) == {"painted", "oxidized", "ceramic", "composite", "bare_metal", "polished_metal"}
    for m in table.values():
        assert 0 < m.emissivity_min < m.emissivity_max <= 1
        assert m.name_zh
        assert m.name_en
    assert {m.id for m in table.values() if m.low_emissivity} == {"bare_metal", "polished_metal"}
    assert material("polished_metal").tentative
    with pytest.raises(ParameterError, match="painted"):
        material("chrome")


POINT = """
points:
  - id: p
    part: connector
    phases: {A: {box: [0, 0, 4, 4]}}
"""


def test_points_take_material_target_and_distance() -> None:
    text = POINT + "    material: bare_metal\n    target_mm: 6\n    distance_m: 12.5\n"
    (p,) = parse_points(text).points
    assert (p.material, p.target_mm, p.distance_m) == ("bare_metal", 6.0, 12.5)
    (q,) = parse_points(POINT).points
    assert (q.material, q.target_mm, q.distance_m) == (None, None, None)


@pytest.mark.parametrize(
    ("extra", "field"),
    [("material: chrome", "material"), ("target_mm: 0", "target_mm"), ("distance_m: -3", "distance_m")],
)
def test_points_reject_bad_measurability_fields(extra: str, field: str) -> None:
    with pytest.raises(PointsFileError) as err:
        parse_points(POINT + f"    {extra}\n", path="x.yaml")
    assert err.value.field == f"points[p].{field}"
