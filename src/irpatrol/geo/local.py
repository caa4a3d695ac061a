"""Local plane coordinates around a station, and the fit of a layout image to them.

A substation is a few hundred metres across, so an equirectangular projection around a
reference point (east = Δlon·R·cos lat0, north = Δlat·R) is within centimetres of the
true local tangent plane there; no map projection library is needed.  A station's
layout image (a site plan in pixels, y downwards) is tied to the ground by two or more
control points, (lat, lon) ↔ (x, y) pixel pairs: :func:`fit_layout` fits a similarity
(two points: scale, rotation, shift) or an affine map (three or more points, least
squares) from local metres to pixels.

Units: degrees for lat/lon (WGS-84/CGCS2000), metres for east/north, pixels for x/y.
Standard library only (a core module).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from irpatrol.errors import ParameterError

EARTH_RADIUS_M = 6_371_008.8
"""Mean Earth radius, m (IUGG), the same as :mod:`irpatrol.edge.matching` uses."""


def local_en(lat: float, lon: float, lat0: float, lon0: float) -> tuple[float, float]:
    """East and north of (lat, lon) from the reference (lat0, lon0), in metres.

    >>> e, n = local_en(30.0001, 114.0, 30.0, 114.0)
    >>> round(e, 3), round(n, 2)
    (0.0, 11.12)
    """
    east = math.radians(lon - lon0) * EARTH_RADIUS_M * math.cos(math.radians(lat0))
    north = math.radians(lat - lat0) * EARTH_RADIUS_M
    return east, north


@dataclass(frozen=True)
class LayoutFit:
    """Local metres → image pixels: ``x = a·E + b·N + c``, ``y = d·E + e·N + f``.

    ``E``, ``N`` are metres east and north of (``origin_lat``, ``origin_lon``) from
    :func:`local_en`.  ``kind`` is ``similarity`` or ``affine``; ``rms_px`` the root
    mean square distance between the control points' pixels and where the fit puts
    them; ``m_per_px`` the mean ground size of one pixel.
    """

    kind: str
    origin_lat: float
    origin_lon: float
    a: float
    b: float
    c: float
    d: float
    e: float
    f: float
    rms_px: float
    m_per_px: float

    def to_pixel(self, lat: float, lon: float) -> tuple[float, float]:
        """Pixel (x, y) of a position."""
        east, north = local_en(lat, lon, self.origin_lat, self.origin_lon)
        return self.a * east + self.b * north + self.c, self.d * east + self.e * north + self.f


def fit_layout(lat_lon: Sequence[tuple[float, float]], xy: Sequence[tuple[float, float]]) -> LayoutFit:
    """Fit pixel = map(local metres) through control points ``lat_lon[i]`` ↔ ``xy[i]``.

    Two points give a similarity without mirroring (image y points south); three or
    more not on one line an affine least-squares fit; on one line, a similarity.
    Raises :class:`ParameterError` for fewer than two points, lengths that differ, or
    points less than 0.1 m (or 1 px) apart.

    >>> fit = fit_layout([(30.0, 114.0), (30.001, 114.001)], [(100.0, 500.0), (196.3, 388.8)])
    >>> x, y = fit.to_pixel(30.0005, 114.0005)
    >>> round(x, 1), round(y, 1), fit.kind
    (148.2, 444.4, 'similarity')
    """
    if len(lat_lon) != len(xy):
        raise ParameterError("control_points", len(xy), f"as many pixels as positions ({len(lat_lon)})")
    if len(lat_lon) < 2:
        raise ParameterError("control_points", len(lat_lon), "at least two (lat, lon) ↔ (x, y) pairs")
    lat0 = sum(p[0] for p in lat_lon) / len(lat_lon)
    lon0 = sum(p[1] for p in lat_lon) / len(lat_lon)
    en = [local_en(lat, lon, lat0, lon0) for lat, lon in lat_lon]
    spread_m = max(math.dist(p, q) for p in en for q in en)
    spread_px = max(math.dist(p, q) for p in xy for q in xy)
    if spread_m < 0.1 or spread_px < 1.0:
        raise ParameterError("control_points", len(xy), "points at least 0.1 m and 1 pixel apart")
    coef = _affine(en, xy) if len(en) >= 3 else None
    kind = "affine" if coef is not None else "similarity"
    if coef is None:
        coef = _similarity(en, xy)
    a, b, c, d, e, f = coef
    sq = [
        (a * u + b * v + c - x) ** 2 + (d * u + e * v + f - y) ** 2
        for (u, v), (x, y) in zip(en, xy, strict=True)
    ]
    px_per_m = math.sqrt(abs(a * e - b * d))
    return LayoutFit(
        kind=kind,
        origin_lat=lat0,
        origin_lon=lon0,
        a=a,
        b=b,
        c=c,
        d=d,
        e=e,
        f=f,
        rms_px=math.sqrt(sum(sq) / len(sq)),
        m_per_px=1.0 / px_per_m if px_per_m > 0 else math.inf,
    )


def _means(pts: Sequence[tuple[float, float]]) -> tuple[float, float]:
    return sum(p[0] for p in pts) / len(pts), sum(p[1] for p in pts) / len(pts)


def _similarity(
    en: Sequence[tuple[float, float]], xy: Sequence[tuple[float, float]]
) -> tuple[float, float, float, float, float, float]:
    # with u = E, v = -N (south, like image y): x = p·u - q·v + tx, y = q·u + p·v + ty (Procrustes)
    mu, mv = _means([(u, -v) for u, v in en])
    mx, my = _means(xy)
    s = num_p = num_q = 0.0
    for (u, n), (x, y) in zip(en, xy, strict=True):
        du, dv, dx, dy = u - mu, -n - mv, x - mx, y - my
        s += du * du + dv * dv
        num_p += du * dx + dv * dy
        num_q += du * dy - dv * dx
    p, q = num_p / s, num_q / s
    tx = mx - p * mu + q * mv
    ty = my - q * mu - p * mv
    # back to E, N: x = p·E + q·N + tx, y = q·E - p·N + ty
    return p, q, tx, q, -p, ty


def _affine(
    en: Sequence[tuple[float, float]], xy: Sequence[tuple[float, float]]
) -> tuple[float, float, float, float, float, float] | None:
    """Least-squares affine map, or ``None`` when the points lie (nearly) on one line."""
    me, mn = _means(en)
    mx, my = _means(xy)
    see = snn = sen = sex = snx = sey = sny = 0.0
    for (u, v), (x, y) in zip(en, xy, strict=True):
        du, dv, dx, dy = u - me, v - mn, x - mx, y - my
        see += du * du
        snn += dv * dv
        sen += du * dv
        sex += du * dx
        snx += dv * dx
        sey += du * dy
        sny += dv * dy
    det = see * snn - sen * sen
    if det <= 1e-6 * (see + snn) ** 2:
        return None
    a = (sex * snn - snx * sen) / det
    b = (snx * see - sex * sen) / det
    d = (sey * snn - sny * sen) / det
    e = (sny * see - sey * sen) / det
    return a, b, mx - a * me - b * mn, d, e, my - d * me - e * mn
