"""Inspection points: which regions of a frame are which phase of which device part.

A points file (YAML, see ``docs/points.md``) lists inspection points.  Each has
an ``id``, the ``device`` and rule-pack ``part`` it inspects, the ``heating_type``
(``current`` or ``voltage``), phase regions in pixel coordinates and an ambient
reference (a region or a value in °C), optionally the ``images`` (file-name
patterns) it applies to and a ``reference_image`` to re-register against.
For the measurability checks (:mod:`irpatrol.diagnosis.measurability`) a point may give
its surface ``material`` (a class of the measurability table), the measured part's
smallest dimension ``target_mm`` (mm) and the camera-to-part ``distance_m`` (m).

:func:`parse_points` takes the YAML text and never reads files itself; a
malformed file raises :class:`~irpatrol.errors.PointsFileError` naming the file,
the line (from the YAML node marks) and the field.
"""

from __future__ import annotations

import fnmatch
import math
from dataclasses import dataclass
from typing import Any

import yaml

from irpatrol.diagnosis.measurability import materials
from irpatrol.errors import ParameterError, PointsFileError
from irpatrol.thermal.measure import Box, Ellipse, Polygon, Region

HEATING_TYPES = ("current", "voltage")
"""Current-induced (connections, contacts) or voltage-induced (insulation, dielectric) heating."""

SHAPES = ("box", "polygon", "ellipse")


@dataclass(frozen=True, kw_only=True)
class InspectionPoint:
    """One configured inspection point; regions in (x, y) px of its frames.

    ``material`` is the surface class of the measured part (``None``: not stated),
    ``target_mm`` its smallest dimension (mm) and ``distance_m`` the camera-to-part
    distance (m) where known; they feed the measurability checks.
    """

    id: str
    device: str
    part: str
    heating_type: str
    phases: tuple[tuple[str, Region], ...]
    ambient: Region | None = None
    ambient_c: float | None = None
    images: tuple[str, ...] = ()
    reference_image: str | None = None
    material: str | None = None
    target_mm: float | None = None
    distance_m: float | None = None

    def applies_to(self, filename: str) -> bool:
        """True if ``images`` is empty or a pattern matches ``filename`` (base name)."""
        return not self.images or any(fnmatch.fnmatch(filename, p) for p in self.images)


@dataclass(frozen=True, kw_only=True)
class PointsFile:
    """A parsed points file."""

    path: str
    points: tuple[InspectionPoint, ...]

    def for_image(self, filename: str) -> tuple[InspectionPoint, ...]:
        """The points that apply to an image file name."""
        return tuple(p for p in self.points if p.applies_to(filename))


class _Ctx:
    def __init__(self, path: str) -> None:
        self.path = path

    def fail(self, node: yaml.Node | None, field: str | None, detail: str) -> PointsFileError:
        line = node.start_mark.line + 1 if node is not None else None
        return PointsFileError(self.path, detail, line=line, field=field)

    def mapping(self, node: yaml.Node, field: str) -> dict[str, tuple[yaml.Node, yaml.Node]]:
        if not isinstance(node, yaml.MappingNode):
            raise self.fail(node, field, "expected a mapping (key: value)")
        out: dict[str, tuple[yaml.Node, yaml.Node]] = {}
        for k, v in node.value:
            if not isinstance(k, yaml.ScalarNode):
                raise self.fail(k, field, "keys must be plain names")
            if k.value in out:
                raise self.fail(k, f"{field}.{k.value}", "duplicate key")
            out[k.value] = (k, v)
        return out

    def seq(self, node: yaml.Node, field: str) -> list[yaml.Node]:
        if not isinstance(node, yaml.SequenceNode):
            raise self.fail(node, field, "expected a list")
        return list(node.value)

    def text(self, node: yaml.Node, field: str) -> str:
        if not isinstance(node, yaml.ScalarNode) or node.value == "":
            raise self.fail(node, field, "expected a non-empty text value")
        return str(node.value)

    def number(self, node: yaml.Node, field: str) -> float:
        if not isinstance(node, yaml.ScalarNode):
            raise self.fail(node, field, "expected a number")
        try:
            value = float(node.value)
        except ValueError:
            raise self.fail(node, field, f"expected a number, got {node.value!r}") from None
        if not math.isfinite(value):
            raise self.fail(node, field, f"expected a finite number, got {node.value!r}")
        return value

    def numbers(self, node: yaml.Node, field: str, n: int) -> list[float]:
        items = self.seq(node, field)
        if len(items) != n:
            raise self.fail(node, field, f"expected {n} numbers, got {len(items)}")
        return [self.number(x, field) for x in items]


def _region(ctx: _Ctx, node: yaml.Node, field: str) -> Region:
    m = ctx.mapping(node, field)
    kinds = [k for k in m if k in SHAPES]
    extra = [k for k in m if k not in SHAPES]
    if extra:
        raise ctx.fail(
            m[extra[0]][0], f"{field}.{extra[0]}", f"unknown key; a region is one of {', '.join(SHAPES)}"
        )
    if len(kinds) != 1:
        raise ctx.fail(node, field, f"a region needs exactly one of {', '.join(SHAPES)}")
    kind = kinds[0]
    value = m[kind][1]
    sub = f"{field}.{kind}"
    try:
        if kind == "box":
            left, top, right, bottom = ctx.numbers(value, sub, 4)
            return Box(left=round(left), top=round(top), right=round(right), bottom=round(bottom))
        if kind == "polygon":
            pts = ctx.seq(value, sub)
            return Polygon(vertices=tuple((lambda a: (a[0], a[1]))(ctx.numbers(p, sub, 2)) for p in pts))
        e = ctx.mapping(value, sub)
        for key in e:
            if key not in ("center", "radii", "angle_deg"):
                raise ctx.fail(e[key][0], f"{sub}.{key}", "unknown key; expected center, radii, angle_deg")
        if "center" not in e or "radii" not in e:
            raise ctx.fail(value, sub, "an ellipse needs `center: [x, y]` and `radii: [rx, ry]`")
        cx, cy = ctx.numbers(e["center"][1], f"{sub}.center", 2)
        rx, ry = ctx.numbers(e["radii"][1], f"{sub}.radii", 2)
        angle = ctx.number(e["angle_deg"][1], f"{sub}.angle_deg") if "angle_deg" in e else 0.0
        return Ellipse(cx=cx, cy=cy, rx=rx, ry=ry, angle_deg=angle)
    except ParameterError as exc:
        raise ctx.fail(value, sub, f"{exc.parameter} must be {exc.expected}") from None


_POINT_KEYS = (
    "id",
    "device",
    "part",
    "heating_type",
    "phases",
    "ambient",
    "ambient_c",
    "images",
    "reference_image",
    "material",
    "target_mm",
    "distance_m",
)


def _point(ctx: _Ctx, node: yaml.Node, where: str, seen: set[str]) -> InspectionPoint:
    m = ctx.mapping(node, where)
    if "id" not in m:
        raise ctx.fail(node, f"{where}.id", "missing required field")
    pid = ctx.text(m["id"][1], f"{where}.id")
    if pid in seen:
        raise ctx.fail(m["id"][1], f"{where}.id", f"duplicate point id {pid!r}")
    seen.add(pid)
    for key in ("part", "phases"):
        if key not in m:
            raise ctx.fail(node, f"{where}.{key}", "missing required field")
    where = f"points[{pid}]"
    for key, (knode, _) in m.items():
        if key not in _POINT_KEYS:
            raise ctx.fail(knode, f"{where}.{key}", f"unknown key; expected one of {', '.join(_POINT_KEYS)}")
    heating = ctx.text(m["heating_type"][1], f"{where}.heating_type") if "heating_type" in m else "current"
    if heating not in HEATING_TYPES:
        raise ctx.fail(
            m["heating_type"][1],
            f"{where}.heating_type",
            f"expected one of {', '.join(HEATING_TYPES)}, got {heating!r}",
        )
    phases_node = m["phases"][1]
    phases = ctx.mapping(phases_node, f"{where}.phases")
    if not phases:
        raise ctx.fail(phases_node, f"{where}.phases", "at least one phase region is needed")
    regions = tuple((name, _region(ctx, v, f"{where}.phases.{name}")) for name, (_, v) in phases.items())
    ambient = _region(ctx, m["ambient"][1], f"{where}.ambient") if "ambient" in m else None
    ambient_c = ctx.number(m["ambient_c"][1], f"{where}.ambient_c") if "ambient_c" in m else None
    if ambient_c is not None and not (-60.0 <= ambient_c <= 80.0):
        raise ctx.fail(m["ambient_c"][1], f"{where}.ambient_c", f"expected -60..80 °C, got {ambient_c}")
    images: tuple[str, ...] = ()
    if "images" in m:
        inode = m["images"][1]
        if isinstance(inode, yaml.ScalarNode):
            images = (ctx.text(inode, f"{where}.images"),)
        else:
            images = tuple(ctx.text(x, f"{where}.images") for x in ctx.seq(inode, f"{where}.images"))
    ref = ctx.text(m["reference_image"][1], f"{where}.reference_image") if "reference_image" in m else None
    surface = ctx.text(m["material"][1], f"{where}.material") if "material" in m else None
    if surface is not None and surface not in materials():
        raise ctx.fail(
            m["material"][1],
            f"{where}.material",
            f"expected one of {', '.join(materials())}, got {surface!r}",
        )
    sizes: dict[str, float | None] = {"target_mm": None, "distance_m": None}
    for key in sizes:
        if key in m:
            value = ctx.number(m[key][1], f"{where}.{key}")
            if value <= 0:
                raise ctx.fail(m[key][1], f"{where}.{key}", f"expected a length > 0, got {value:g}")
            sizes[key] = value
    return InspectionPoint(
        id=pid,
        device=ctx.text(m["device"][1], f"{where}.device") if "device" in m else pid,
        part=ctx.text(m["part"][1], f"{where}.part"),
        heating_type=heating,
        phases=regions,
        ambient=ambient,
        ambient_c=ambient_c,
        images=images,
        reference_image=ref,
        material=surface,
        target_mm=sizes["target_mm"],
        distance_m=sizes["distance_m"],
    )


def parse_points(text: str, *, path: str = "<points>") -> PointsFile:
    """Parse a points file's YAML ``text``; ``path`` is used in error messages.

    Raises
    ------
    PointsFileError
        With ``path``, ``line`` and ``field`` of the first problem.
    """
    ctx = _Ctx(path)
    try:
        root: Any = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark
        line = mark.line + 1 if mark is not None else None
        raise PointsFileError(path, f"not valid YAML: {exc.problem}", line=line) from None
    except yaml.YAMLError as exc:
        raise PointsFileError(path, f"not valid YAML: {exc}") from None
    if root is None:
        raise PointsFileError(path, "the file is empty", field="points")
    top = ctx.mapping(root, "<top>")
    for key, (knode, _) in top.items():
        if key not in ("version", "points"):
            raise ctx.fail(knode, key, "unknown key; expected `version` and `points`")
    if "version" in top:
        version = ctx.number(top["version"][1], "version")
        if version != 1:
            raise ctx.fail(top["version"][1], "version", f"unsupported version {version:g}; expected 1")
    if "points" not in top:
        raise ctx.fail(root, "points", "missing required field")
    nodes = ctx.seq(top["points"][1], "points")
    seen: set[str] = set()
    points = tuple(_point(ctx, n, f"points[{i}]", seen) for i, n in enumerate(nodes))
    return PointsFile(path=path, points=points)
