"""Preset re-registration on a real frame moved synthetically, and on unrelated frames."""

from __future__ import annotations

import numpy as np
import pytest

from irpatrol.diagnosis.registration import _warp, register_frames, require_alignment
from irpatrol.errors import AnalysisError, ParameterError
from irpatrol.formats import open_thermal
from irpatrol.thermal.measure import Box, Polygon
from tests.conftest import sample_path


@pytest.fixture(scope="module")
def t640() -> np.ndarray:
    return open_thermal(sample_path("flir_t640_fuses.jpg")).first_frame().celsius()


def _moved(t: np.ndarray, dx: float, dy: float, angle: float = 0.0, scale: float = 1.0) -> np.ndarray:
    rng = np.random.RandomState(7)
    m = _warp(t.astype(np.float32), angle_deg=angle, scale=scale, shift=(dx, dy))
    m = m + rng.normal(0, 0.1, t.shape).astype(np.float32)
    m[~(_warp(np.ones_like(t), angle_deg=angle, scale=scale, shift=(dx, dy)) > 0.99)] = np.nan
    return m + np.float32(3.0)  # a warmer day: the level must not matter


@pytest.mark.samples
def test_identity(t640: np.ndarray) -> None:
    a = register_frames(t640, t640)
    assert a.ok
    assert (a.dx, a.dy, a.rotation_deg, a.scale) == pytest.approx((0, 0, 0, 1), abs=0.05)
    assert a.ncc > 0.99


@pytest.mark.samples
@pytest.mark.parametrize(
    ("dx", "dy", "angle", "scale"),
    [(12, -7, 0.0, 1.0), (-20.5, 9.3, 0.0, 1.0), (8, 5, 2.0, 1.0), (30, -25, 3.0, 0.95)],
)
def test_shift_rotation_scale_recovered(
    t640: np.ndarray, dx: float, dy: float, angle: float, scale: float
) -> None:
    a = register_frames(t640, _moved(t640, dx, dy, angle, scale))
    assert a.ok, a.reason
    assert a.ncc > 0.6
    # the middle fuse lands where it was moved to, within a pixel
    ref = Box(left=286, top=170, right=311, bottom=268)
    cx, cy = (286 + 310) / 2, (170 + 267) / 2
    truth = _warp_point(t640.shape, cx, cy, dx, dy, angle, scale)
    got = a.map_point(cx, cy)
    assert got == pytest.approx(truth, abs=1.0)
    moved = a.apply(ref)
    assert isinstance(moved, Box if angle == 0 else Polygon)


def _warp_point(
    shape: tuple[int, ...], x: float, y: float, dx: float, dy: float, angle: float, scale: float
) -> tuple[float, float]:
    cx, cy = (shape[1] - 1) / 2, (shape[0] - 1) / 2
    a = np.radians(angle)
    u, v = x - cx, y - cy
    return (
        scale * (np.cos(a) * u - np.sin(a) * v) + cx + dx,
        scale * (np.sin(a) * u + np.cos(a) * v) + cy + dy,
    )


@pytest.mark.samples
def test_unrelated_frames_refused(t640: np.ndarray) -> None:
    other = open_thermal(sample_path("flir_sc660_sample.seq")).first_frame().celsius()
    a = register_frames(t640, other)
    assert not a.ok
    assert "do not match" in a.reason
    with pytest.raises(AnalysisError, match="re-register"):
        require_alignment(a)
    assert not register_frames(t640, np.fliplr(t640)).ok


@pytest.mark.samples
def test_different_sizes_refused(t640: np.ndarray) -> None:
    a = register_frames(t640, t640[:400])
    assert not a.ok
    assert "sizes differ" in a.reason


def test_synthetic_pattern_shift() -> None:
    rng = np.random.RandomState(1)
    base = rng.normal(20, 2, (96, 128)).astype(np.float32)
    moved = np.roll(base, (4, -6), axis=(0, 1))
    a = register_frames(base, moved, max_rotation_deg=0, max_scale_change=0)
    assert a.ok
    assert (a.dx, a.dy) == pytest.approx((-6, 4), abs=0.3)


def test_parameters_validated() -> None:
    with pytest.raises(ParameterError, match="max_rotation_deg"):
        register_frames(np.zeros((8, 8)), np.zeros((8, 8)), max_rotation_deg=90)
    with pytest.raises(ParameterError, match="reference"):
        register_frames(np.zeros(8), np.zeros((8, 8)))
