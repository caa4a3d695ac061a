"""Points-file parser: a good file, and malformed ones naming file, line and field."""

from __future__ import annotations

import pytest

from irpatrol.diagnosis.points import parse_points
from irpatrol.errors import PointsFileError
from irpatrol.thermal.measure import Box, Ellipse, Polygon
from tests.conftest import REPO

GOOD = """\
version: 1
points:
  - id: bay1-ct
    device: Bay 1 current transformer
    part: connector
    heating_type: current
    images: "bay1_*.jpg"
    reference_image: refs/bay1.jpg
    phases:
      A: {box: [10, 20, 30, 40]}
      B: {polygon: [[40, 20], [60, 20], [60, 40]]}
      C: {ellipse: {center: [80, 30], radii: [8, 5], angle_deg: 10}}
    ambient_c: 18.5
  - id: bay2
    part: fuse
    phases:
      A: {box: [0, 0, 5, 5]}
    ambient: {box: [5, 5, 9, 9]}
"""


def test_good_file() -> None:
    pf = parse_points(GOOD, path="p.yaml")
    a, b = pf.points
    assert a.id == "bay1-ct"
    assert [name for name, _ in a.phases] == ["A", "B", "C"]
    assert a.phases[0][1] == Box(left=10, top=20, right=30, bottom=40)
    assert isinstance(a.phases[1][1], Polygon)
    assert a.phases[2][1] == Ellipse(cx=80, cy=30, rx=8, ry=5, angle_deg=10)
    assert a.ambient_c == 18.5
    assert a.reference_image == "refs/bay1.jpg"
    assert b.device == "bay2"
    assert b.heating_type == "current"
    assert b.ambient == Box(left=5, top=5, right=9, bottom=9)
    assert pf.for_image("bay1_0001.jpg") == (a, b)
    assert pf.for_image("other.jpg") == (b,)


def test_shipped_example_parses() -> None:
    pf = parse_points((REPO / "src/irpatrol/demo/flir_t640_fuses.points.yaml").read_text())
    assert [name for name, _ in pf.points[0].phases] == ["A", "B", "C"]


@pytest.mark.parametrize(
    ("text", "line", "field", "match"),
    [
        (GOOD.replace("[10, 20, 30, 40]", "[10, 20, 30]"), 10, "points[bay1-ct].phases.A.box", "4 numbers"),
        (GOOD.replace("[10, 20, 30, 40]", "[30, 20, 10, 40]"), 10, "points[bay1-ct].phases.A.box", "left"),
        (
            GOOD.replace("heating_type: current", "heating_type: magic"),
            6,
            "points[bay1-ct].heating_type",
            "current, voltage",
        ),
        (GOOD.replace("    part: fuse\n", ""), 14, "points[1].part", "missing"),
        (GOOD.replace("id: bay2", "id: bay1-ct"), 14, "points[1].id", "duplicate"),
        (GOOD.replace("ambient_c: 18.5", "ambient_c: hot"), 13, "points[bay1-ct].ambient_c", "number"),
        (GOOD.replace("ambient_c: 18.5", "colour: red"), 13, "points[bay1-ct].colour", "unknown key"),
        (
            GOOD.replace("A: {box: [0, 0, 5, 5]}", "A: {circle: 3}"),
            17,
            "points[bay2].phases.A.circle",
            "unknown key",
        ),
        ("points: 3\n", 1, "points", "a list"),
        ("version: 2\npoints: []\n", 1, "version", "unsupported"),
    ],
)
def test_malformed_names_file_line_field(text: str, line: int, field: str, match: str) -> None:
    with pytest.raises(PointsFileError, match=match) as info:
        parse_points(text, path="site.yaml")
    err = info.value
    assert (err.path, err.line, err.field) == ("site.yaml", line, field)
    assert str(err).startswith(f"site.yaml:{line}:")


def test_not_yaml_and_empty() -> None:
    with pytest.raises(PointsFileError, match="not valid YAML") as info:
        parse_points("points: [\n  - {a: 1\n", path="x.yaml")
    assert info.value.line is not None
    with pytest.raises(PointsFileError, match="empty"):
        parse_points("", path="x.yaml")
