"""Which inspection point a capture shows: by what the robot reports, else by where it stood.

The order is fixed and each step is exact or refuses:

1. the point code the robot reports (a sidecar's ``point``), when it is a known point;
2. the preset id the robot reports (a sidecar's ``preset``, else found in the file name by
   the configured pattern), when a point has that preset;
3. the nearest point by the robot's position in the station map (``x_m``, ``y_m``, metres),
   if within the radius;
4. the nearest point by GNSS position (lat/lon, great-circle distance), if within the radius.

Otherwise the capture is unmatched and analysed in automatic mode (hot spots only).
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Literal

from irpatrol.diagnosis.points import InspectionPoint
from irpatrol.errors import ParameterError

EARTH_RADIUS_M = 6_371_008.8
"""Mean Earth radius (m), IUGG; the great-circle error against the ellipsoid is below 0.5 %."""

MatchMethod = Literal["point", "preset", "local", "gnss"]


@dataclass(frozen=True, kw_only=True)
class SitePoint:
    """An inspection point as the agent knows it.

    ``code`` identifies it (server and points file); ``preset`` is the robot's preset id;
    ``x_m``/``y_m`` its parking position in the station map (m); ``lat``/``lon`` its surveyed
    position (degrees); ``point_id`` the server's id (from a downloaded plan); ``regions`` the
    pipeline's point definitions for it (empty: automatic mode).
    """

    code: str
    preset: str | None = None
    x_m: float | None = None
    y_m: float | None = None
    lat: float | None = None
    lon: float | None = None
    point_id: int | None = None
    regions: tuple[InspectionPoint, ...] = ()


@dataclass(frozen=True)
class Match:
    """A matched point, how (``method``) and, for a position match, how far away (m)."""

    point: SitePoint
    method: MatchMethod
    distance_m: float | None = None


def great_circle_m(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Haversine distance in metres between two positions in decimal degrees.

    >>> round(great_circle_m(0.0, 0.0, 0.0, 1.0))
    111195
    """
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp = p2 - p1
    dl = math.radians(lon2 - lon1)
    h = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * EARTH_RADIUS_M * math.asin(min(1.0, math.sqrt(h)))


def preset_from_name(file_name: str, pattern: str | re.Pattern[str]) -> str | None:
    """The preset id a file name carries (the ``preset`` group of ``pattern``), or ``None``.

    Leading zeros are dropped, so ``p007`` is preset ``"7"``.

    >>> from irpatrol.edge.config import DEFAULT_PRESET_PATTERN
    >>> preset_from_name("IR_preset12_0001.jpg", DEFAULT_PRESET_PATTERN)
    '12'
    >>> preset_from_name("bay3-p07.jpg", DEFAULT_PRESET_PATTERN)
    '7'
    >>> preset_from_name("IR_0001.jpg", DEFAULT_PRESET_PATTERN) is None
    True
    """
    rx = re.compile(pattern) if isinstance(pattern, str) else pattern
    m = rx.search(file_name.rsplit("/", 1)[-1])
    if m is None or m.group("preset") is None:
        return None
    text = m.group("preset")
    if text.isdigit():
        return text.lstrip("0") or "0"
    return text


def _finite(*values: float | None) -> bool:
    return all(v is not None and math.isfinite(v) for v in values)


class PointMatcher:
    """Matches captures to ``points`` (codes and presets unique) within ``radius_m`` metres."""

    def __init__(self, points: Iterable[SitePoint], *, radius_m: float) -> None:
        if not (math.isfinite(radius_m) and radius_m > 0):
            raise ParameterError("radius_m", radius_m, "a positive number of metres")
        self.points: tuple[SitePoint, ...] = tuple(points)
        self.radius_m = radius_m
        self._by_code: dict[str, SitePoint] = {}
        self._by_preset: dict[str, SitePoint] = {}
        for p in self.points:
            if p.code in self._by_code:
                raise ParameterError("points", p.code, "unique point codes")
            self._by_code[p.code] = p
            if p.preset is not None:
                if p.preset in self._by_preset:
                    raise ParameterError("points", p.preset, f"unique presets (also at {p.code})")
                self._by_preset[p.preset] = p

    def by_code(self, code: str) -> SitePoint | None:
        """The point with this code, or ``None``."""
        return self._by_code.get(code)

    def match(
        self,
        *,
        point_code: str | None = None,
        preset: str | None = None,
        local_xy: tuple[float, float] | None = None,
        latlon: tuple[float, float] | None = None,
    ) -> Match | None:
        """The point a capture shows (see the module's order), or ``None`` when nothing fits."""
        if point_code is not None and point_code in self._by_code:
            return Match(self._by_code[point_code], "point")
        if preset is not None and preset in self._by_preset:
            return Match(self._by_preset[preset], "preset")
        if local_xy is not None and _finite(*local_xy):
            x, y = local_xy
            near = self._nearest(
                (p, math.hypot(p.x_m - x, p.y_m - y))  # type: ignore[operator]
                for p in self.points
                if _finite(p.x_m, p.y_m)
            )
            if near is not None:
                return Match(near[0], "local", near[1])
        if latlon is not None and _finite(*latlon):
            lat, lon = latlon
            near = self._nearest(
                (p, great_circle_m(lat, lon, p.lat, p.lon))  # type: ignore[arg-type]
                for p in self.points
                if _finite(p.lat, p.lon)
            )
            if near is not None:
                return Match(near[0], "gnss", near[1])
        return None

    def _nearest(self, candidates: Iterable[tuple[SitePoint, float]]) -> tuple[SitePoint, float] | None:
        """The closest candidate within the radius; the first listed wins a tie."""
        best: tuple[SitePoint, float] | None = None
        for p, d in candidates:
            if d <= self.radius_m and (best is None or d < best[1]):
                best = (p, d)
        return best


def merge_points(local: Sequence[SitePoint], plan: Sequence[SitePoint]) -> list[SitePoint]:
    """A plan's points (server ids, presets, regions) completed with local positions, by code.

    Local points the plan does not list are kept after the plan's, so captures at them are
    still matched (the server records them as outside the plan).
    """
    by_code = {p.code: p for p in local}
    out: list[SitePoint] = []
    for p in plan:
        loc = by_code.pop(p.code, None)
        if loc is None:
            out.append(p)
            continue
        out.append(
            SitePoint(
                code=p.code,
                preset=p.preset if p.preset is not None else loc.preset,
                x_m=loc.x_m,
                y_m=loc.y_m,
                lat=loc.lat,
                lon=loc.lon,
                point_id=p.point_id,
                regions=p.regions or loc.regions,
            )
        )
    out.extend(by_code.values())
    return out


__all__ = [
    "EARTH_RADIUS_M",
    "Match",
    "MatchMethod",
    "PointMatcher",
    "SitePoint",
    "great_circle_m",
    "merge_points",
    "preset_from_name",
]
