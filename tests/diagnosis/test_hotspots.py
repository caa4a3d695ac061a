"""Hot-spot detection: tiny arrays with an obvious answer, then real electrical samples."""

from __future__ import annotations

import numpy as np
import pytest

from irpatrol.diagnosis.hotspots import find_hotspots
from irpatrol.errors import ParameterError
from irpatrol.formats import open_thermal
from tests.conftest import sample_path


def _noisy(shape: tuple[int, int] = (40, 50), seed: int = 3) -> np.ndarray:
    rng = np.random.RandomState(seed)
    return (20.0 + rng.normal(0, 0.1, shape)).astype(np.float32)


def test_two_spots_ranked_by_peak() -> None:
    t = _noisy()
    t[5:8, 5:8] = 30.0
    t[20:24, 30:34] = 45.0
    r = find_hotspots(t)
    assert [s.peak_xy for s in r.spots] == [(30, 20), (5, 5)]
    assert r.spots[0].rank == 1
    assert r.spots[0].area_px == 16
    assert r.spots[0].excess_k == pytest.approx(25.0, abs=0.5)
    assert r.background_c == pytest.approx(20.0, abs=0.05)


def test_single_hot_pixel_is_noise() -> None:
    t = _noisy()
    t[10, 10] = 80.0
    assert find_hotspots(t).spots == ()
    assert len(find_hotspots(t, min_area_px=1).spots) == 1


def test_small_excess_is_ignored() -> None:
    t = _noisy()
    t[5:9, 5:9] = 21.5
    assert find_hotspots(t).spots == ()
    assert len(find_hotspots(t, min_excess_k=1.0).spots) == 1


def test_warm_part_on_warm_object_found() -> None:
    t = np.full((60, 80), 10.0, dtype=np.float32)
    t[5:58, 10:75] = 14.0  # a large warm panel, most of the frame
    t[30:33, 40:43] = 19.0  # a warm breaker on it
    r = find_hotspots(t)
    top = r.spots[0]
    assert top.peak_xy == (40, 30)
    assert top.background_c == pytest.approx(14.0)


def test_nan_and_invalid_excluded_and_reported() -> None:
    t = _noisy()
    t[5:8, 5:8] = np.nan
    valid = np.ones(t.shape, dtype=bool)
    valid[20:24, 30:34] = False
    t[20:24, 30:34] = 99.0
    r = find_hotspots(t, valid=valid)
    assert r.spots == ()
    assert r.n_excluded == 25


def test_parameters_validated() -> None:
    with pytest.raises(ParameterError, match="min_area_px"):
        find_hotspots(_noisy(), min_area_px=0)
    with pytest.raises(ParameterError, match="min_excess_k"):
        find_hotspots(_noisy(), min_excess_k=-1)
    with pytest.raises(ParameterError, match="celsius"):
        find_hotspots(np.zeros((0, 3)))


@pytest.mark.samples
@pytest.mark.parametrize(
    ("name", "box"),
    [
        # hot equipment at the left edge of the T640 cabinet view (x 0-107, y 26-259), hand-checked
        ("flir_t640_fuses.jpg", (0, 20, 110, 260)),
        # the right AFCI breaker on the C2 panel (80x60), hand-checked
        ("flir_c2_afci_breakers.jpg", (28, 25, 57, 45)),
    ],
)
def test_top_hotspot_on_the_equipment(name: str, box: tuple[int, int, int, int]) -> None:
    tg = open_thermal(sample_path(name)).first_frame().thermogram()
    spot = find_hotspots(tg.celsius, valid=tg.valid).spots[0]
    left, top, right, bottom = box
    assert left <= spot.peak_xy[0] < right
    assert top <= spot.peak_xy[1] < bottom


@pytest.mark.samples
def test_t640_contactor_and_c2_both_breakers_found() -> None:
    tg = open_thermal(sample_path("flir_t640_fuses.jpg")).first_frame().thermogram()
    spots = find_hotspots(tg.celsius, valid=tg.valid).spots[:5]
    assert any(190 <= s.peak_xy[0] < 300 and 355 <= s.peak_xy[1] < 475 for s in spots)  # contactor
    tg = open_thermal(sample_path("flir_c2_afci_breakers.jpg")).first_frame().thermogram()
    spots = find_hotspots(tg.celsius, valid=tg.valid).spots[:2]
    assert sorted(s.peak_xy for s in spots) == [(33, 35), (51, 36)]


def test_local_excess_on_ragged_frame_matches_expanded_background() -> None:
    from irpatrol.diagnosis.hotspots import _exceeds_local, local_background

    rng = np.random.RandomState(5)
    t = rng.normal(20, 1, (37, 53)).astype(np.float32)
    v = np.ones(t.shape, dtype=bool)
    grid, block = local_background(t, v, window_px=28, fill_c=20.0)
    assert block == 4
    full = np.repeat(np.repeat(grid, block, axis=0), block, axis=1)[:37, :53]
    assert np.array_equal(_exceeds_local(t, grid, block, 0.5), t > full + np.float32(0.5))


def _gauss(shape: tuple[int, int], cy: float, cx: float, amp_k: float, sigma_px: float) -> np.ndarray:
    yy, xx = np.mgrid[: shape[0], : shape[1]]
    return (amp_k * np.exp(-((yy - cy) ** 2 + (xx - cx) ** 2) / (2 * sigma_px**2))).astype(np.float32)


def _crossarm_scene() -> np.ndarray:
    """Sky at -10 °C; a sun-warmed crossarm (45 °C) and a conductor (28 °C) hanging from it."""
    rng = np.random.RandomState(11)
    t = (-10.0 + rng.normal(0, 0.05, (240, 320))).astype(np.float32)
    t[60:72, 20:300] = 45.0 + rng.normal(0, 0.8, (12, 280)).astype(np.float32)  # crossarm
    t[72:240, 156:164] = 28.0 + rng.normal(0, 0.3, (168, 8)).astype(np.float32)  # conductor
    return t


def test_joint_on_conductor_outranks_warmer_crossarm() -> None:
    t = _crossarm_scene()
    t[150:170, 156:164] += _gauss((240, 320), 160, 160, 8.0, 3.0)[150:170, 156:164]  # a joint +8 K
    r = find_hotspots(t)
    assert r.ranked_by == "contrast_k"
    top = r.spots[0]
    assert top.peak_xy == pytest.approx((160, 160), abs=2)
    assert top.local_excess_k == pytest.approx(8.0, abs=1.5)
    assert top.peak_c < 45.0  # the crossarm is hotter in absolute terms ...
    # ... and not a hot spot at all: against the sky excluded, it is its own background
    assert all(not (60 <= s.peak_xy[1] < 72) or s.local_excess_k < top.local_excess_k for s in r.spots)
    assert top.to_dict()["local_excess_k"] == pytest.approx(top.local_excess_k, abs=0.01)


def test_two_hot_spots_on_one_conductor_are_two_spots() -> None:
    t = _crossarm_scene()
    t[72:240, 156:164] += (_gauss((240, 320), 120, 160, 10.0, 3.0) + _gauss((240, 320), 200, 160, 6.0, 3.0))[
        72:240, 156:164
    ]
    r = find_hotspots(t)
    peaks = [s.peak_xy for s in r.spots[:2]]
    assert peaks[0] == pytest.approx((160, 120), abs=2)
    assert peaks[1] == pytest.approx((160, 200), abs=2)
    # each spot is its heated part, not the whole conductor
    assert all(s.area_px < 200 for s in r.spots[:2])


@pytest.mark.parametrize("shape", [(240, 320), (60, 80)])
def test_a_thin_glint_ranks_below_a_heated_part_but_keeps_its_peak(shape: tuple[int, int]) -> None:
    # ranking by the 3x3 px core: a one-pixel-wide glint +16 K (a sunlit blade of grass,
    # an edge) is hotter at its peak than a heated part +12 K (sigma 3 px), but only the
    # part covers a measurable 3x3 px target
    rows, cols = shape
    t = _noisy(shape, seed=7)
    t[rows // 2 - 3 : rows // 2 + 3, cols // 4] += 16.0
    t += _gauss(shape, rows / 2, 3 * cols / 4, 12.0, 3.0)
    r = find_hotspots(t)
    top = r.spots[0]
    assert top.peak_xy == pytest.approx((3 * cols // 4, rows // 2), abs=1)
    assert top.local_excess_k == pytest.approx(12.0 * 0.9, abs=1.0)
    glints = [s for s in r.spots if s.peak_xy[0] == cols // 4]
    assert all(s.local_excess_k < top.local_excess_k for s in glints)
    assert all(s.peak_c == pytest.approx(36.0, abs=0.5) for s in glints)  # the absolute peak is kept


@pytest.mark.parametrize("n", [3, 4, 17, 33])
@pytest.mark.parametrize("axis", [0, 1])
def test_line_extremes_equal_scipy_filters(n: int, axis: int) -> None:
    from scipy import ndimage

    from irpatrol.diagnosis.hotspots import _line_extreme

    a = np.random.RandomState(n).rand(37, 53).astype(np.float32)
    assert np.array_equal(_line_extreme(a, n, axis, np.minimum), ndimage.minimum_filter1d(a, n, axis=axis))
    assert np.array_equal(_line_extreme(a, n, axis, np.maximum), ndimage.maximum_filter1d(a, n, axis=axis))


@pytest.mark.parametrize("size", [3, 5])
def test_small_grid_median_equals_scipy(size: int) -> None:
    from scipy import ndimage

    from irpatrol.diagnosis.hotspots import _median_nearest

    a = np.random.RandomState(size).rand(13, 17).astype(np.float32)
    assert np.array_equal(_median_nearest(a, size), ndimage.median_filter(a, size=size, mode="nearest"))
