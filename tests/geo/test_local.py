"""Local metres and the fit of a station layout image to control points."""

from __future__ import annotations

import math
import random

import pytest

from irpatrol.errors import ParameterError
from irpatrol.geo.local import fit_layout, local_en

LAT0, LON0 = 30.5, 114.3


def _pixels(
    lat: float, lon: float, *, scale: float, angle_deg: float, x0: float, y0: float
) -> tuple[float, float]:
    """A layout drawn at ``scale`` px/m, rotated by ``angle_deg``, north up before rotation."""
    e, n = local_en(lat, lon, LAT0, LON0)
    u, v = e, -n  # image y points south
    c, s = math.cos(math.radians(angle_deg)), math.sin(math.radians(angle_deg))
    return x0 + scale * (c * u - s * v), y0 + scale * (s * u + c * v)


def test_one_degree_of_latitude_is_about_111_km() -> None:
    e, n = local_en(LAT0 + 1.0, LON0, LAT0, LON0)
    assert e == 0.0
    assert n == pytest.approx(111_195, rel=1e-4)
    e, n = local_en(LAT0, LON0 + 1.0, LAT0, LON0)
    assert e == pytest.approx(111_195 * math.cos(math.radians(LAT0)), rel=1e-4)


def test_two_points_recover_a_rotated_scaled_layout() -> None:
    ctrl = [(LAT0, LON0), (LAT0 + 0.001, LON0 + 0.0015)]
    xy = [_pixels(*p, scale=2.5, angle_deg=20, x0=300, y0=400) for p in ctrl]
    fit = fit_layout(ctrl, xy)
    assert fit.kind == "similarity"
    assert fit.m_per_px == pytest.approx(0.4, rel=1e-5)  # references differ: cos(lat0) at the centroid
    probe = (LAT0 + 0.0004, LON0 + 0.0021)
    assert fit.to_pixel(*probe) == pytest.approx(
        _pixels(*probe, scale=2.5, angle_deg=20, x0=300, y0=400), abs=0.01
    )


def test_many_noisy_points_fit_an_affine_map_within_the_noise() -> None:
    rng = random.Random(7)
    ctrl = [(LAT0 + rng.uniform(0, 0.002), LON0 + rng.uniform(0, 0.002)) for _ in range(8)]
    xy = [
        (x + rng.gauss(0, 0.5), y + rng.gauss(0, 0.5))
        for x, y in (_pixels(*p, scale=1.2, angle_deg=-35, x0=50, y0=900) for p in ctrl)
    ]
    fit = fit_layout(ctrl, xy)
    assert fit.kind == "affine"
    assert fit.rms_px < 1.0
    probe = (LAT0 + 0.001, LON0 + 0.001)
    x, y = fit.to_pixel(*probe)
    tx, ty = _pixels(*probe, scale=1.2, angle_deg=-35, x0=50, y0=900)
    assert math.hypot(x - tx, y - ty) < 1.5


def test_points_on_one_line_fall_back_to_a_similarity() -> None:
    ctrl = [(LAT0, LON0), (LAT0 + 0.0005, LON0), (LAT0 + 0.001, LON0)]
    xy = [_pixels(*p, scale=3, angle_deg=0, x0=10, y0=600) for p in ctrl]
    fit = fit_layout(ctrl, xy)
    assert fit.kind == "similarity"
    assert fit.to_pixel(LAT0, LON0 + 0.001) == pytest.approx(
        _pixels(LAT0, LON0 + 0.001, scale=3, angle_deg=0, x0=10, y0=600), abs=0.01
    )


@pytest.mark.parametrize(
    ("ctrl", "xy"),
    [
        ([(LAT0, LON0)], [(0.0, 0.0)]),
        ([(LAT0, LON0), (LAT0 + 0.001, LON0)], [(0.0, 0.0)]),
        ([(LAT0, LON0), (LAT0, LON0)], [(0.0, 0.0), (100.0, 0.0)]),
        ([(LAT0, LON0), (LAT0 + 0.001, LON0)], [(5.0, 5.0), (5.0, 5.0)]),
    ],
)
def test_too_few_or_coincident_points_are_refused(
    ctrl: list[tuple[float, float]], xy: list[tuple[float, float]]
) -> None:
    with pytest.raises(ParameterError, match="control_points"):
        fit_layout(ctrl, xy)
