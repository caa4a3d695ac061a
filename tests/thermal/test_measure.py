"""Measurement tools on tiny hand-built arrays."""

from __future__ import annotations

import numpy as np
import pytest

from irpatrol.errors import ParameterError
from irpatrol.thermal.measure import (
    Box,
    Ellipse,
    Line,
    Polygon,
    Spot,
    delta_t,
    isotherm,
    line_profile,
    measure_region,
    measure_regions,
    region_mask,
    translate_region,
)


def _frame() -> np.ndarray:
    t = np.full((6, 8), 20.0, dtype=np.float32)
    t[2, 5] = 31.0
    t[4, 1] = 12.0
    return t


def test_box_stats_and_locations() -> None:
    s = measure_region(_frame(), Box(left=0, top=0, right=8, bottom=6))
    assert s.area_px == 48
    assert s.n_valid == 48
    assert s.max_c == 31.0
    assert s.max_xy == (5, 2)
    assert s.min_c == 12.0
    assert s.min_xy == (1, 4)
    assert s.mean_c == pytest.approx((46 * 20 + 31 + 12) / 48)


def test_spot() -> None:
    s = measure_region(_frame(), Spot(x=5, y=2))
    assert (s.max_c, s.area_px, s.std_k) == (31.0, 1, 0.0)


def test_nan_and_invalid_pixels_excluded_and_counted() -> None:
    t = _frame()
    t[2, 5] = np.nan
    valid = np.ones(t.shape, dtype=bool)
    valid[4, 1] = False
    s = measure_region(t, Box(left=0, top=0, right=8, bottom=6), valid=valid)
    assert s.n_valid == 46
    assert s.n_excluded == 2
    assert s.max_c == 20.0
    assert s.min_c == 20.0


def test_all_invalid_region_has_no_temperature() -> None:
    t = np.full((3, 3), np.nan, dtype=np.float32)
    s = measure_region(t, Box(left=0, top=0, right=3, bottom=3))
    assert s.max_c is None
    assert s.n_excluded == 9


def test_region_outside_image_is_clipped() -> None:
    s = measure_region(_frame(), Box(left=6, top=4, right=20, bottom=20))
    assert s.area_px == 4
    assert measure_region(_frame(), Box(left=50, top=50, right=60, bottom=60)).area_px == 0


def test_polygon_triangle_pixel_centres() -> None:
    m = region_mask((5, 5), Polygon(vertices=((0, 0), (4.5, 0), (0, 4.5))))
    # centres with x + y < 4.5 (strictly inside the hypotenuse)
    expected = np.add.outer(np.arange(5), np.arange(5)) < 4.5
    assert np.array_equal(m, expected)


def test_ellipse_mask_and_rotation() -> None:
    m = region_mask((7, 9), Ellipse(cx=4, cy=3, rx=3, ry=1))
    assert m[3, 1:8].all()
    assert not m[3, 0]
    assert m[2, 4]
    assert not m[1, 4]
    r = region_mask((9, 9), Ellipse(cx=4, cy=4, rx=3, ry=1, angle_deg=90))
    assert r[1:8, 4].all()
    assert not r[4, 1]


def test_line_profile_and_excluded() -> None:
    t = np.arange(10, dtype=np.float32)[None, :].repeat(3, axis=0)
    t[1, 4] = np.nan
    p = line_profile(t, Line(x0=0, y0=1, x1=9, y1=1))
    assert p.xy.shape == (10, 2)
    assert p.n_excluded == 1
    assert np.isnan(p.celsius[4])
    assert p.celsius[9] == 9.0
    assert p.distance_px[-1] == 9.0


def test_delta_t_between_regions() -> None:
    a, b = measure_regions(_frame(), [Spot(x=5, y=2), Spot(x=0, y=0)])
    assert delta_t(a, b) == 11.0
    assert delta_t(a, b, statistic="mean") == 11.0
    with pytest.raises(ParameterError, match="statistic"):
        delta_t(a, b, statistic="median")  # type: ignore[arg-type]


def test_isotherm_band_excludes_invalid() -> None:
    t = _frame()
    t[0, 0] = np.nan
    assert np.count_nonzero(isotherm(t, above_c=30)) == 1
    assert np.count_nonzero(isotherm(t, below_c=15)) == 1
    assert np.count_nonzero(isotherm(t, above_c=15, below_c=25)) == 45
    with pytest.raises(ParameterError, match="above_c"):
        isotherm(t, above_c=30, below_c=10)


def test_bad_shapes_name_the_parameter() -> None:
    with pytest.raises(ParameterError, match="box"):
        Box(left=3, top=0, right=3, bottom=2)
    with pytest.raises(ParameterError, match="vertices"):
        Polygon(vertices=((0, 0), (1, 1)))
    with pytest.raises(ParameterError, match="rx"):
        Ellipse(cx=0, cy=0, rx=0, ry=1)
    with pytest.raises(ParameterError, match="celsius"):
        measure_region(np.zeros(4), Spot(x=0, y=0))
    with pytest.raises(ParameterError, match="valid"):
        measure_region(np.zeros((2, 2)), Spot(x=0, y=0), valid=np.ones((3, 3), bool))


def test_translate_region() -> None:
    assert translate_region(Box(left=1, top=2, right=4, bottom=5), dx=2, dy=-1) == Box(
        left=3, top=1, right=6, bottom=4
    )
