"""T1/T2/T0 comparisons: hand-worked numbers, automatic references, the real fuse bank."""

from __future__ import annotations

import pytest

from irpatrol.diagnosis.compare import auto_reference, compare_phases, relative_difference_pct
from irpatrol.diagnosis.hotspots import HotSpot
from irpatrol.diagnosis.points import parse_points
from irpatrol.errors import ParameterError
from irpatrol.formats import open_thermal
from irpatrol.thermal.measure import RegionStats, measure_region
from tests.conftest import REPO, sample_path


def _stats(max_c: float | None, mean_c: float | None = None) -> RegionStats:
    return RegionStats(
        area_px=4,
        n_valid=4 if max_c is not None else 0,
        n_excluded=0 if max_c else 4,
        max_c=max_c,
        min_c=max_c,
        mean_c=mean_c if mean_c is not None else max_c,
        std_k=0.0,
        max_xy=(0, 0),
        min_xy=(0, 0),
    )


def test_relative_difference_hand_worked() -> None:
    # (80 - 40) / (80 - 30) = 80 %
    assert relative_difference_pct(80.0, 40.0, 30.0) == 80.0
    assert relative_difference_pct(30.0, 25.0, 30.0) is None  # no rise: δ undefined
    assert relative_difference_pct(80.0, None, 30.0) is None


def test_hottest_phase_against_coolest_other() -> None:
    c = compare_phases({"A": _stats(60.0), "B": _stats(50.0), "C": _stats(40.0)}, ambient=_stats(20.0))
    assert (c.hot_label, c.reference_label) == ("A", "C")
    assert (c.t1_c, c.t2_c, c.t0_c) == (60.0, 40.0, 20.0)
    assert c.rise_k == 40.0
    assert c.delta_t_k == 20.0
    assert c.delta_pct == 50.0
    assert {o: d for _, o, d in c.pairs} == {"B": 25.0, "C": 50.0}
    assert c.ambient_source == "region"


def test_ambient_fallbacks() -> None:
    phases = {"A": _stats(60.0), "B": _stats(40.0)}
    assert compare_phases(phases, ambient_c=25.0).ambient_source == "given"
    c = compare_phases(phases, background_c=30.0)
    assert (c.t0_c, c.ambient_source) == (30.0, "background")
    assert compare_phases(phases).ambient_source == "none"
    assert compare_phases(phases).delta_pct is None


def test_phase_without_valid_pixels_is_left_out() -> None:
    c = compare_phases({"A": _stats(60.0), "B": _stats(None)}, ambient_c=20.0)
    assert c.t2_c is None
    assert c.reference_source == "none"
    with pytest.raises(ParameterError, match="phases"):
        compare_phases({"A": _stats(None)})


def _spot(rank: int, peak: float, area: int, w: int, h: int, bg: float = 20.0) -> HotSpot:
    return HotSpot(
        rank=rank,
        peak_c=peak,
        peak_xy=(0, 0),
        mean_c=peak,
        area_px=area,
        excess_k=peak - bg,
        background_c=bg,
        bbox=(0, 0, w, h),
        centroid_xy=(0.0, 0.0),
    )


def test_auto_reference_prefers_similar_regions() -> None:
    spots = [
        _spot(1, 70.0, 100, 10, 10),
        _spot(2, 45.0, 110, 11, 10),
        _spot(3, 40.0, 5000, 100, 50),
        _spot(4, 42.0, 90, 9, 10),
    ]
    c = auto_reference(spots[0], spots, background_c=25.0)
    assert c.reference_source == "similar-region"
    assert c.reference_label == "spot 4"
    assert c.t2_c == 42.0
    assert c.t0_c == 25.0


def test_auto_reference_without_similar_region_has_no_t2() -> None:
    # the spot's own background (31 °C) is not a corresponding point: no T2, no δ
    spots = [_spot(1, 70.0, 100, 10, 10, bg=31.0), _spot(2, 45.0, 5000, 100, 50)]
    c = auto_reference(spots[0], spots, background_c=25.0, ambient_c=22.0)
    assert (c.reference_source, c.t2_c, c.t0_c, c.ambient_source) == ("none", None, 22.0, "given")
    assert c.delta_pct is None
    assert c.rise_k == pytest.approx(48.0)


@pytest.mark.samples
def test_t640_fuse_bank_hottest_phase_and_delta() -> None:
    tg = open_thermal(sample_path("flir_t640_fuses.jpg")).first_frame().thermogram()
    point = parse_points((REPO / "src/irpatrol/demo/flir_t640_fuses.points.yaml").read_text()).points[0]
    phases = {name: measure_region(tg.celsius, r, valid=tg.valid) for name, r in point.phases}
    assert point.ambient is not None
    ambient = measure_region(tg.celsius, point.ambient, valid=tg.valid)
    c = compare_phases(phases, ambient=ambient)
    assert c.hot_label == "B"
    assert c.reference_label == "C"
    assert c.t1_c == pytest.approx(46.58, abs=0.02)
    assert c.t2_c == pytest.approx(41.45, abs=0.02)
    assert c.t0_c == pytest.approx(34.35, abs=0.02)
    assert c.delta_pct == pytest.approx(41.9, abs=0.1)
    assert {o: round(d, 1) for _, o, d in c.pairs if d is not None} == {"A": 12.0, "C": 41.9}


def test_auto_reference_only_from_the_same_structure_nearby() -> None:
    def at(rank: int, peak: float, x: float, bg: float) -> HotSpot:
        s = _spot(rank, peak, 100, 10, 10, bg=bg)
        return HotSpot(**{**s.__dict__, "centroid_xy": (x, 0.0)})

    hot = at(1, 70.0, 0.0, 30.0)
    far = at(2, 40.0, 300.0, 30.0)  # similar, but 30 spot sizes away
    other = at(3, 41.0, 30.0, 12.0)  # near, but on a structure 18 K cooler
    phase = at(4, 45.0, 40.0, 31.0)  # the parallel phase: near, same structure
    spots = [hot, far, other, phase]
    loose = auto_reference(hot, spots, background_c=25.0)
    assert loose.reference_label == "spot 2"  # unchecked: the coolest similar region anywhere
    c = auto_reference(hot, spots, background_c=25.0, max_distance=8.0, max_background_diff_k=5.0)
    assert c.reference_label == "spot 4"
    assert c.t2_c == 45.0
    alone = auto_reference(
        hot, [hot, far, other], background_c=25.0, max_distance=8.0, max_background_diff_k=5.0
    )
    assert alone.reference_source == "none"
