"""Measurement tools on a temperature image: spot, box, line, polygon, ellipse, isotherm.

Geometry is in pixel coordinates with ``x`` the column and ``y`` the row, origin
at the centre of the top-left pixel (the convention of image viewers and of the
points file).  Arrays are indexed ``[row, col] == [y, x]``.

Every statistic excludes pixels that are NaN or flagged invalid by the validity
mask; how many were excluded is reported with the result, never silently
dropped.  Temperatures are °C, differences K, areas px.

>>> import numpy as np
>>> t = np.full((4, 5), 20.0, dtype=np.float32)
>>> t[1, 3] = 30.0
>>> s = measure_region(t, Box(left=2, top=0, right=5, bottom=3))
>>> s.max_c, s.max_xy, s.area_px
(30.0, (3, 1), 9)
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np
import numpy.typing as npt

from irpatrol.errors import ParameterError

FloatImage = npt.NDArray[np.floating]
BoolImage = npt.NDArray[np.bool_]


@dataclass(frozen=True, kw_only=True)
class Spot:
    """One pixel at column ``x``, row ``y`` (px)."""

    x: int
    y: int

    def bbox(self) -> tuple[int, int, int, int]:
        """``(left, top, right, bottom)``, right/bottom exclusive (px)."""
        return self.x, self.y, self.x + 1, self.y + 1

    def local_mask(self, left: int, top: int, right: int, bottom: int) -> BoolImage:
        """The shape rasterised inside the given window (px); see :func:`region_mask`."""
        m = np.zeros((bottom - top, right - left), dtype=bool)
        m[self.y - top, self.x - left] = True
        return m


@dataclass(frozen=True, kw_only=True)
class Box:
    """An axis-aligned rectangle: columns ``left <= x < right``, rows ``top <= y < bottom`` (px)."""

    left: int
    top: int
    right: int
    bottom: int

    def __post_init__(self) -> None:
        if self.right <= self.left or self.bottom <= self.top:
            raise ParameterError(
                "box",
                (self.left, self.top, self.right, self.bottom),
                "left < right and top < bottom (px)",
            )

    def bbox(self) -> tuple[int, int, int, int]:
        """``(left, top, right, bottom)``, right/bottom exclusive (px)."""
        return self.left, self.top, self.right, self.bottom

    def local_mask(self, left: int, top: int, right: int, bottom: int) -> BoolImage:
        """The shape rasterised inside the given window (px)."""
        return np.ones((bottom - top, right - left), dtype=bool)


@dataclass(frozen=True, kw_only=True)
class Polygon:
    """A closed polygon through ``vertices`` ``((x, y), ...)`` (px); a pixel is inside when its centre is."""

    vertices: tuple[tuple[float, float], ...]

    def __post_init__(self) -> None:
        if len(self.vertices) < 3:
            raise ParameterError("vertices", self.vertices, "at least 3 (x, y) points")
        for v in self.vertices:
            if len(v) != 2 or not all(math.isfinite(c) for c in v):
                raise ParameterError("vertices", self.vertices, "finite (x, y) pairs")

    def bbox(self) -> tuple[int, int, int, int]:
        """``(left, top, right, bottom)`` enclosing every pixel centre inside (px)."""
        xs = [v[0] for v in self.vertices]
        ys = [v[1] for v in self.vertices]
        return (math.floor(min(xs)), math.floor(min(ys)), math.ceil(max(xs)) + 1, math.ceil(max(ys)) + 1)

    def local_mask(self, left: int, top: int, right: int, bottom: int) -> BoolImage:
        """Even-odd rule on pixel centres inside the window (px)."""
        ys, xs = np.mgrid[top:bottom, left:right]
        inside = np.zeros(xs.shape, dtype=bool)
        verts = self.vertices
        n = len(verts)
        for i in range(n):
            x0, y0 = verts[i]
            x1, y1 = verts[(i + 1) % n]
            if y0 == y1:
                continue
            crosses = (ys >= min(y0, y1)) & (ys < max(y0, y1))
            x_at = x0 + (ys - y0) * (x1 - x0) / (y1 - y0)
            inside ^= crosses & (xs < x_at)
        # pixels on an edge count as inside (a 1-px-wide polygon still measures)
        return inside


@dataclass(frozen=True, kw_only=True)
class Ellipse:
    """An ellipse centred at (``cx``, ``cy``) with semi-axes ``rx``, ``ry`` (px), rotated ``angle_deg``."""

    cx: float
    cy: float
    rx: float
    ry: float
    angle_deg: float = 0.0

    def __post_init__(self) -> None:
        for name in ("rx", "ry"):
            value = getattr(self, name)
            if not (math.isfinite(value) and value > 0):
                raise ParameterError(name, value, "a finite radius > 0 (px)")

    def bbox(self) -> tuple[int, int, int, int]:
        """``(left, top, right, bottom)`` enclosing the ellipse (px)."""
        r = max(self.rx, self.ry)
        return (
            math.floor(self.cx - r),
            math.floor(self.cy - r),
            math.ceil(self.cx + r) + 1,
            math.ceil(self.cy + r) + 1,
        )

    def local_mask(self, left: int, top: int, right: int, bottom: int) -> BoolImage:
        """Pixel centres with normalised radius <= 1 inside the window."""
        ys, xs = np.mgrid[top:bottom, left:right]
        dx = xs - self.cx
        dy = ys - self.cy
        a = math.radians(self.angle_deg)
        u = dx * math.cos(a) + dy * math.sin(a)
        v = -dx * math.sin(a) + dy * math.cos(a)
        result: BoolImage = (u / self.rx) ** 2 + (v / self.ry) ** 2 <= 1.0
        return result


@dataclass(frozen=True, kw_only=True)
class Line:
    """A straight segment from (``x0``, ``y0``) to (``x1``, ``y1``) (px), sampled once per pixel step."""

    x0: float
    y0: float
    x1: float
    y1: float

    def points(self) -> npt.NDArray[np.intp]:
        """Pixel (x, y) positions along the line, shape (N, 2), without repeats."""
        n = math.ceil(max(abs(self.x1 - self.x0), abs(self.y1 - self.y0))) + 1
        xs = np.rint(np.linspace(self.x0, self.x1, n)).astype(np.intp)
        ys = np.rint(np.linspace(self.y0, self.y1, n)).astype(np.intp)
        pts = np.stack([xs, ys], axis=1)
        keep = np.ones(len(pts), dtype=bool)
        keep[1:] = np.any(pts[1:] != pts[:-1], axis=1)
        return pts[keep]

    def bbox(self) -> tuple[int, int, int, int]:
        """``(left, top, right, bottom)`` enclosing the sampled pixels (px)."""
        p = self.points()
        return int(p[:, 0].min()), int(p[:, 1].min()), int(p[:, 0].max()) + 1, int(p[:, 1].max()) + 1

    def local_mask(self, left: int, top: int, right: int, bottom: int) -> BoolImage:
        """The sampled pixels inside the window."""
        m = np.zeros((bottom - top, right - left), dtype=bool)
        p = self.points()
        ok = (p[:, 0] >= left) & (p[:, 0] < right) & (p[:, 1] >= top) & (p[:, 1] < bottom)
        m[p[ok, 1] - top, p[ok, 0] - left] = True
        return m


Region = Spot | Box | Polygon | Ellipse | Line
"""Any measurement shape."""


@dataclass(frozen=True, kw_only=True)
class RegionStats:
    """Statistics of one region over its valid pixels.

    ``area_px`` counts the pixels of the shape inside the image, ``n_valid`` those
    measured, ``n_excluded`` those left out (NaN or invalid).  Temperatures are
    ``None`` when no pixel is valid.  ``max_xy``/``min_xy`` are ``(x, y)`` px.
    """

    area_px: int
    n_valid: int
    n_excluded: int
    max_c: float | None
    min_c: float | None
    mean_c: float | None
    std_k: float | None
    max_xy: tuple[int, int] | None
    min_xy: tuple[int, int] | None

    def to_dict(self) -> dict[str, object]:
        """Plain JSON-ready dict."""
        return {
            "area_px": self.area_px,
            "n_valid": self.n_valid,
            "n_excluded": self.n_excluded,
            "max_c": self.max_c,
            "min_c": self.min_c,
            "mean_c": self.mean_c,
            "std_k": self.std_k,
            "max_xy": list(self.max_xy) if self.max_xy else None,
            "min_xy": list(self.min_xy) if self.min_xy else None,
        }


def _validate_image(celsius: npt.ArrayLike, valid: npt.ArrayLike | None) -> tuple[FloatImage, BoolImage]:
    t = np.asarray(celsius)
    if t.ndim != 2 or t.size == 0:
        raise ParameterError("celsius", getattr(t, "shape", None), "a non-empty 2-D temperature array (°C)")
    if not np.issubdtype(t.dtype, np.floating):
        t = t.astype(np.float32)
    if valid is None:
        v = np.isfinite(t)
    else:
        v = np.asarray(valid, dtype=bool)
        if v.shape != t.shape:
            raise ParameterError("valid", v.shape, f"a bool mask of the image's shape {t.shape}")
    return t, v


def _clip_window(region: Region, shape: tuple[int, ...]) -> tuple[int, int, int, int] | None:
    left, top, right, bottom = region.bbox()
    left, top = max(left, 0), max(top, 0)
    right, bottom = min(right, shape[1]), min(bottom, shape[0])
    if right <= left or bottom <= top:
        return None
    return left, top, right, bottom


def region_mask(shape: tuple[int, int], region: Region) -> BoolImage:
    """A bool mask of ``shape`` (rows, cols) that is True on the region's pixels.

    Parts of the region outside the image are cut off.
    """
    mask = np.zeros(shape, dtype=bool)
    win = _clip_window(region, shape)
    if win is not None:
        left, top, right, bottom = win
        mask[top:bottom, left:right] = region.local_mask(left, top, right, bottom)
    return mask


def measure_region(
    celsius: npt.ArrayLike, region: Region, *, valid: npt.ArrayLike | None = None
) -> RegionStats:
    """Max, min, mean, std (°C/K), location of max/min and area (px) of ``region``.

    Parameters
    ----------
    celsius : ndarray of shape (M, N)
        Temperatures, °C.
    region : Spot, Box, Polygon, Ellipse or Line
        The shape, in pixel coordinates.
    valid : ndarray of bool, optional
        Validity mask; NaN pixels are always excluded as well.
    """
    t, v = _validate_image(celsius, valid)
    win = _clip_window(region, t.shape)
    if win is None:
        return RegionStats(
            area_px=0,
            n_valid=0,
            n_excluded=0,
            max_c=None,
            min_c=None,
            mean_c=None,
            std_k=None,
            max_xy=None,
            min_xy=None,
        )
    left, top, right, bottom = win
    shape_mask = region.local_mask(left, top, right, bottom)
    sub = t[top:bottom, left:right]
    ok = shape_mask & v[top:bottom, left:right] & np.isfinite(sub)
    area = int(np.count_nonzero(shape_mask))
    n_valid = int(np.count_nonzero(ok))
    if n_valid == 0:
        return RegionStats(
            area_px=area,
            n_valid=0,
            n_excluded=area,
            max_c=None,
            min_c=None,
            mean_c=None,
            std_k=None,
            max_xy=None,
            min_xy=None,
        )
    vals = sub[ok].astype(np.float64)
    rows, cols = np.nonzero(ok)
    imax = int(np.argmax(vals))
    imin = int(np.argmin(vals))
    return RegionStats(
        area_px=area,
        n_valid=n_valid,
        n_excluded=area - n_valid,
        max_c=float(vals[imax]),
        min_c=float(vals[imin]),
        mean_c=float(vals.mean()),
        std_k=float(vals.std()),
        max_xy=(int(cols[imax]) + left, int(rows[imax]) + top),
        min_xy=(int(cols[imin]) + left, int(rows[imin]) + top),
    )


@dataclass(frozen=True, kw_only=True)
class Profile:
    """Temperatures along a line: ``xy`` (N, 2) px, ``distance_px`` (N,), ``celsius`` (N,) °C or NaN."""

    xy: npt.NDArray[np.intp]
    distance_px: npt.NDArray[np.float64]
    celsius: npt.NDArray[np.float64]
    n_excluded: int


def line_profile(celsius: npt.ArrayLike, line: Line, *, valid: npt.ArrayLike | None = None) -> Profile:
    """The temperature profile (°C) along ``line``; points outside the image are dropped."""
    t, v = _validate_image(celsius, valid)
    p = line.points()
    inside = (p[:, 0] >= 0) & (p[:, 0] < t.shape[1]) & (p[:, 1] >= 0) & (p[:, 1] < t.shape[0])
    p = p[inside]
    vals = t[p[:, 1], p[:, 0]].astype(np.float64)
    ok = v[p[:, 1], p[:, 0]] & np.isfinite(vals)
    vals = np.where(ok, vals, np.nan)
    dist = np.hypot(p[:, 0] - line.x0, p[:, 1] - line.y0)
    return Profile(xy=p, distance_px=dist, celsius=vals, n_excluded=int(np.count_nonzero(~ok)))


Statistic = Literal["max", "min", "mean"]


def delta_t(a: RegionStats, b: RegionStats, *, statistic: Statistic = "max") -> float | None:
    """Temperature difference ``a - b`` (K) of the chosen statistic; ``None`` if either has no valid pixel."""
    if statistic not in ("max", "min", "mean"):
        raise ParameterError("statistic", statistic, "one of 'max', 'min', 'mean'")
    va = getattr(a, f"{statistic}_c")
    vb = getattr(b, f"{statistic}_c")
    if va is None or vb is None:
        return None
    return float(va - vb)


def isotherm(
    celsius: npt.ArrayLike,
    *,
    above_c: float | None = None,
    below_c: float | None = None,
    valid: npt.ArrayLike | None = None,
) -> BoolImage:
    """Mask of valid pixels with ``above_c <= T`` and/or ``T <= below_c`` (°C, inclusive).

    With both bounds the mask is the band between them; invalid and NaN pixels are
    never in the mask.
    """
    if above_c is None and below_c is None:
        raise ParameterError("above_c/below_c", None, "at least one bound (°C)")
    if above_c is not None and below_c is not None and above_c > below_c:
        raise ParameterError("above_c", above_c, f"<= below_c ({below_c} °C)")
    t, v = _validate_image(celsius, valid)
    mask = v & np.isfinite(t)
    if above_c is not None:
        mask &= t >= above_c
    if below_c is not None:
        mask &= t <= below_c
    return mask


def measure_regions(
    celsius: npt.ArrayLike, regions: Sequence[Region], *, valid: npt.ArrayLike | None = None
) -> list[RegionStats]:
    """:func:`measure_region` for each of ``regions``, validating the image once."""
    t, v = _validate_image(celsius, valid)
    return [measure_region(t, r, valid=v) for r in regions]


def translate_region(region: Region, *, dx: float, dy: float) -> Region:
    """The region moved by ``dx``, ``dy`` (px)."""
    return transform_region(region, lambda x, y: (x + dx, y + dy), scale=1.0, angle_deg=0.0)


def transform_region(
    region: Region,
    mapping: Callable[[float, float], tuple[float, float]],
    *,
    scale: float,
    angle_deg: float,
) -> Region:
    """Map a region through a similarity transform given as a point ``mapping``.

    Boxes become polygons when rotated by more than 0.5°; ``scale`` and
    ``angle_deg`` (counter-clockwise in the image as displayed) describe the same
    transform for shapes with radii.
    """
    if isinstance(region, Spot):
        x, y = mapping(region.x, region.y)
        return Spot(x=round(x), y=round(y))
    if isinstance(region, Line):
        x0, y0 = mapping(region.x0, region.y0)
        x1, y1 = mapping(region.x1, region.y1)
        return Line(x0=x0, y0=y0, x1=x1, y1=y1)
    if isinstance(region, Ellipse):
        cx, cy = mapping(region.cx, region.cy)
        return Ellipse(
            cx=cx, cy=cy, rx=region.rx * scale, ry=region.ry * scale, angle_deg=region.angle_deg + angle_deg
        )
    if isinstance(region, Box):
        corners = [
            (region.left, region.top),
            (region.right - 1, region.top),
            (region.right - 1, region.bottom - 1),
            (region.left, region.bottom - 1),
        ]
        mapped = [mapping(x, y) for x, y in corners]
        if abs(angle_deg) <= 0.5:
            xs = [m[0] for m in mapped]
            ys = [m[1] for m in mapped]
            left, top = round(min(xs)), round(min(ys))
            return Box(
                left=left,
                top=top,
                right=max(round(max(xs)) + 1, left + 1),
                bottom=max(round(max(ys)) + 1, top + 1),
            )
        return Polygon(vertices=tuple((float(x), float(y)) for x, y in mapped))
    moved = (mapping(x, y) for x, y in region.vertices)
    return Polygon(vertices=tuple((float(a), float(b)) for a, b in moved))
