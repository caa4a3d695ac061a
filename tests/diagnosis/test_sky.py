"""Sky and cold background: hand-made frames, indoor samples (no sky) and real sky frames."""

from __future__ import annotations

import numpy as np
import pytest

from irpatrol.diagnosis.analysis import analyze_frame
from irpatrol.diagnosis.hotspots import find_hotspots
from irpatrol.diagnosis.rulepack import load_rule_pack
from irpatrol.diagnosis.sky import sky_mask
from irpatrol.formats import open_thermal
from tests.conftest import REFS, sample_path


def _tower(seed: int = 7) -> np.ndarray:
    """A 240x320 frame: clear sky (-15..-5 °C, smooth) over two thirds, a textured structure below."""
    rng = np.random.RandomState(seed)
    rows = np.linspace(-15.0, -5.0, 240, dtype=np.float32)[:, None]
    t = np.repeat(rows, 320, axis=1) + rng.normal(0, 0.05, (240, 320)).astype(np.float32)
    t[160:, :] = 18.0 + rng.normal(0, 1.5, (80, 320)).astype(np.float32)  # textured ground/equipment
    t[40:160, 150:162] = 20.0 + rng.normal(0, 1.0, (120, 12)).astype(np.float32)  # a post into the sky
    return t


def test_sky_found_and_structure_kept() -> None:
    t = _tower()
    m = sky_mask(t, np.ones(t.shape, dtype=bool))
    assert m[:110, :140].all()  # open sky
    assert not m[165:, :].any()  # structure below
    assert not m[45:155, 152:160].any()  # the post core


def test_sky_needs_ambient_contrast_or_seed() -> None:
    # a cool smooth wall 8 K below a warm panel is not sky (indoor) ...
    t = np.full((200, 200), 22.0, dtype=np.float32)
    t[:, 100:] = 30.0 + np.tile(np.array([0.0, 2.0], dtype=np.float32), 50)
    valid = np.ones(t.shape, dtype=bool)
    assert not sky_mask(t, valid).any()
    # ... unless the air is known to be warmer than it by more than 5 K
    assert sky_mask(t, valid, ambient_c=30.0)[:, :90].all()


def test_below_range_pixels_are_sky() -> None:
    t = _tower()
    valid = np.ones(t.shape, dtype=bool)
    t[:20, :20] = -60.0  # what a reader leaves under the camera's lower limit
    valid[:20, :20] = False
    assert sky_mask(t, valid)[:20, :20].all()


def test_hot_spots_never_in_sky_and_background_is_structure() -> None:
    t = _tower()
    yy, xx = np.mgrid[:240, :320]
    t += (12.0 * np.exp(-((yy - 60) ** 2 + (xx - 156) ** 2) / (2 * 3.0**2))).astype(np.float32)  # a hot cap
    r = find_hotspots(t)
    sky = sky_mask(t, np.ones(t.shape, dtype=bool))
    assert r.sky_fraction == pytest.approx(0.62, abs=0.05)  # 150 of 240 rows, less the post
    assert r.mostly_sky
    assert r.background_c == pytest.approx(18.0, abs=1.0)  # the structure, not the sky (about -10 °C)
    assert r.spots[0].peak_xy == pytest.approx((156, 60), abs=2)
    for s in r.spots:
        assert not (sky & (r.labels == s.rank)).any()
    assert find_hotspots(t, exclude_sky=False).background_c < 10.0  # the test can tell


@pytest.mark.samples
@pytest.mark.parametrize("name", ["flir_t640_fuses.jpg", "flir_c2_afci_breakers.jpg", "flir_e40.jpg"])
def test_indoor_samples_have_no_sky(name: str) -> None:
    tg = open_thermal(sample_path(name)).first_frame().thermogram()
    assert find_hotspots(tg.celsius, valid=tg.valid).n_sky == 0


@pytest.mark.samples
def test_b60_below_range_corner_is_sky() -> None:
    # the Aqua Tower facade (FLIR b60): the clear sky in the top-left corner is below the
    # camera's -20 °C limit, so the reader flags it invalid
    tg = open_thermal(sample_path("flir_b60_building.jpg")).first_frame().thermogram()
    r = find_hotspots(tg.celsius, valid=tg.valid)
    assert r.n_sky >= tg.n_invalid
    sky = sky_mask(tg.celsius, tg.valid)
    assert sky[:10, :10].all()


def _ref_matrix(name: str) -> np.ndarray:
    path = REFS / f"{name}.temp_c.npy"
    if not path.exists():
        pytest.skip(f"reference matrix {path} is absent")
    return np.load(path).astype(np.float32)


@pytest.mark.samples
def test_substation_against_sky_background_is_the_structures() -> None:
    # DJI M2EA over a substation: bushings and post insulators against a clear sky
    # (-13..+12 °C above row ~300); °C matrix converted by dji-thermal-cli (refs/),
    # as irpatrol does not read DJI R-JPEGs yet
    t = _ref_matrix("dji_m2ea_substation.jpg")
    valid = np.isfinite(t)
    r = find_hotspots(t, valid=valid)
    sky = sky_mask(t, valid)
    assert 0.3 < r.sky_fraction < 0.55
    assert sky[:60].mean() > 0.95  # the top rows are sky ...
    assert sky[430:].mean() < 0.01  # ... the switchyard at the bottom is not
    ground = float(np.median(t[430:]))  # equipment and gravel, hand-checked on the render
    assert r.background_c == pytest.approx(ground, abs=3.0)
    assert r.background_c > float(np.median(t)) + 3.0  # the all-pixel median is pulled down by the sky
    for s in r.spots:
        x, y = s.peak_xy
        assert not sky[y, x]
        assert not (sky & (r.labels == s.rank)).any()
    analysis = analyze_frame(t, valid=valid, pack=load_rule_pack("dlt664-2016"))
    sky_top = float(np.percentile(t[sky], 99))
    for a in analysis.assessments:
        c = a.comparison
        assert c is not None
        assert c.t0_c is not None
        assert c.t0_c > sky_top  # T0 is the structure's background
        assert c.t2_c is None or c.t2_c > sky_top  # T2 never from the sky
    d = analysis.to_dict()
    assert d["ranked_by"] == "contrast_k"
    assert d["mostly_sky"] is False
    assert d["sky_fraction"] == pytest.approx(r.sky_fraction, abs=1e-4)


@pytest.mark.samples
def test_tower_against_sky() -> None:
    # DJI M4T: lattice tower and insulator strings against a hazy sky (refs/ °C matrix)
    t = _ref_matrix("dji_m4t_tower.jpg")
    valid = np.isfinite(t)
    r = find_hotspots(t, valid=valid)
    sky = sky_mask(t, valid)
    assert 0.15 < r.sky_fraction < 0.4
    assert sky[:20, 350:].mean() > 0.85  # open sky right of the tower, top rows (a line crosses it)
    assert r.background_c == pytest.approx(float(np.median(t[420:])), abs=2.0)
    for s in r.spots:
        assert not (sky & (r.labels == s.rank)).any()


def test_a_hot_plateau_on_a_uniform_wall_is_a_hot_spot_not_sky_over_a_wall() -> None:
    """The rim of one hot object is textured; it must not make the uniform wall "sky".

    A flat-topped 210 °C part (saturated connector, a hot enclosure) on a 25 °C wall was
    once not reported at all: the wall became sky and the part was all the structure left.
    """
    rng = np.random.default_rng(0)
    t = (25.0 + rng.normal(0.0, 0.3, (256, 320))).astype(np.float32)
    t[100:130, 150:190] = 210.0
    assert not sky_mask(t, np.ones(t.shape, dtype=bool)).any()
    r = find_hotspots(t)
    assert r.sky_fraction == 0.0
    assert r.background_c == pytest.approx(25.0, abs=0.2)
    top = r.spots[0]
    assert top.peak_c == pytest.approx(210.0)
    assert top.excess_k == pytest.approx(185.0, abs=0.5)
    assert top.bbox == (150, 100, 190, 130)
