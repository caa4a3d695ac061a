"""Matching a capture to its point: order of evidence, radius, nearest; fuzzed against brute force."""

from __future__ import annotations

import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from irpatrol.edge.config import DEFAULT_PRESET_PATTERN
from irpatrol.edge.matching import PointMatcher, SitePoint, great_circle_m, merge_points, preset_from_name
from irpatrol.errors import ParameterError

POINTS = [
    SitePoint(code="A", preset="1", x_m=0.0, y_m=0.0, lat=31.0, lon=121.0),
    SitePoint(code="B", preset="2", x_m=10.0, y_m=0.0, lat=31.0001, lon=121.0),
    SitePoint(code="C", x_m=0.0, y_m=10.0),
]


def test_order_of_evidence() -> None:
    m = PointMatcher(POINTS, radius_m=5.0)
    assert m.match(point_code="C", preset="1", local_xy=(10.0, 0.0)).point.code == "C"  # type: ignore[union-attr]
    got = m.match(preset="2", local_xy=(0.0, 0.0))
    assert got is not None
    assert (got.point.code, got.method) == ("B", "preset")
    got = m.match(point_code="unknown", preset="99", local_xy=(9.0, 1.0))
    assert got is not None
    assert (got.point.code, got.method) == ("B", "local")
    assert got.distance_m == pytest.approx(math.hypot(1.0, 1.0))
    got = m.match(latlon=(31.00009, 121.0))
    assert got is not None
    assert (got.point.code, got.method) == ("B", "gnss")
    assert got.distance_m == pytest.approx(1.1, abs=0.05)
    assert m.match(local_xy=(5.0, 5.0)) is None  # 7.07 m from every point: outside the radius
    assert m.match() is None
    assert m.match(local_xy=(math.nan, 0.0)) is None


def test_duplicates_and_radius_are_refused() -> None:
    with pytest.raises(ParameterError, match="unique point codes"):
        PointMatcher([SitePoint(code="A"), SitePoint(code="A")], radius_m=1)
    with pytest.raises(ParameterError, match="unique presets"):
        PointMatcher([SitePoint(code="A", preset="1"), SitePoint(code="B", preset="1")], radius_m=1)
    with pytest.raises(ParameterError, match="radius_m"):
        PointMatcher([], radius_m=0)


def test_merge_keeps_plan_order_and_local_positions() -> None:
    plan = [SitePoint(code="B", preset="2", point_id=7), SitePoint(code="Z", preset="9", point_id=8)]
    merged = merge_points(POINTS, plan)
    assert [p.code for p in merged] == ["B", "Z", "A", "C"]
    assert merged[0].point_id == 7
    assert merged[0].x_m == 10.0


@pytest.mark.parametrize(
    ("name", "preset"),
    [
        ("IR_preset12_0001.jpg", "12"),
        ("bay3-p07.jpg", "7"),
        ("P3.jpg", "3"),
        ("IR_0001.jpg", None),
        ("step12.jpg", None),
        ("p0.fff", "0"),
    ],
)
def test_preset_in_file_names(name: str, preset: str | None) -> None:
    assert preset_from_name(name, DEFAULT_PRESET_PATTERN) == preset


def test_great_circle() -> None:
    assert great_circle_m(31.0, 121.0, 31.0, 121.0) == 0.0
    assert great_circle_m(0.0, 0.0, 1.0, 0.0) == pytest.approx(111_195, rel=1e-4)
    assert great_circle_m(10, 20, -5, 40) == pytest.approx(great_circle_m(-5, 40, 10, 20))


coord = st.floats(min_value=-50, max_value=50, allow_nan=False)


@settings(max_examples=300, deadline=None)
@given(
    pts=st.lists(st.tuples(coord, coord), min_size=0, max_size=12),
    here=st.tuples(coord, coord),
    radius=st.floats(min_value=0.1, max_value=40),
)
def test_nearest_is_the_brute_force_nearest_within_the_radius(
    pts: list[tuple[float, float]], here: tuple[float, float], radius: float
) -> None:
    points = [SitePoint(code=f"p{i}", x_m=x, y_m=y) for i, (x, y) in enumerate(pts)]
    got = PointMatcher(points, radius_m=radius).match(local_xy=here)
    dists = [math.hypot(x - here[0], y - here[1]) for x, y in pts]
    inside = [d for d in dists if d <= radius]
    if not inside:
        assert got is None
        return
    assert got is not None
    assert got.distance_m == pytest.approx(min(inside))
    assert got.point.code == f"p{dists.index(min(inside))}"  # the first of equals wins


@settings(max_examples=200, deadline=None)
@given(name=st.text(max_size=80))
def test_preset_parsing_never_crashes(name: str) -> None:
    got = preset_from_name(name, DEFAULT_PRESET_PATTERN)
    assert got is None or (got.isdigit() and (got == "0" or not got.startswith("0")))
