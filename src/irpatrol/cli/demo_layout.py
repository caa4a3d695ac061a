"""The demo station's layout image: a schematic site plan of S-DEMO, drawn at demo time.

The dashboard's positions page draws capture positions on a station's own site plan
(``PUT /stations/{code}/layout``).  The demo has no surveyed plan, so it draws one with
Pillow around where its captures are: the bounding box of the capture positions the
bundled BeiDou log gives (interpolated exactly as the edge agent does), plus a margin.
The plan is north-up at a fixed scale, so four corner control points tie it to the
ground; the equipment is placed next to the robot stops that see it.  It is a
schematic for the demo (bays, bus lines, the plan's points, a north arrow and a metre
scale), not a survey.
"""

from __future__ import annotations

import io
import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from PIL import Image, ImageDraw

from irpatrol.errors import FileAccessError
from irpatrol.geo.local import EARTH_RADIUS_M, local_en
from irpatrol.geo.sources import read_track
from irpatrol.report.figures import image_font

MARGIN_M = 16.0
"""Ground around the captures' bounding box on each side, metres."""

PX_PER_M = 16.0
"""Plan scale, pixels per metre."""

_PAPER = (248, 246, 238)
_INK = (40, 44, 52)
_MUTED = (110, 116, 126)
_ROAD = (218, 216, 208)
_BAY = (226, 236, 246)
_ROOM = (240, 232, 218)
_BUS = (176, 60, 40)
_EQUIP = (54, 96, 150)


@dataclass(frozen=True)
class Stop:
    """A robot stop of the demo patrol: the point it is for and where the log places it."""

    point: str
    lat: float
    lon: float


@dataclass(frozen=True)
class StationPlan:
    """The plan as PNG bytes, its size, and its control points for the layout upload."""

    png: bytes
    width: int
    height: int
    control_points: list[dict[str, float]]
    """``{"lat", "lon", "x", "y"}`` at the image's four corners (x right, y down)."""


def capture_positions(nmea_log: Path, times: Sequence[str]) -> list[tuple[float, float]]:
    """(lat, lon) of each ISO 8601 instant in ``times``, interpolated in the log's track.

    The same track and interpolation the edge agent uses for ``nmea_source = "file"``.
    """
    track = read_track(nmea_log)
    out = []
    for when in times:
        fix = track.position_at(datetime.fromisoformat(when.replace("Z", "+00:00")))
        if fix is None:
            raise FileAccessError(nmea_log, f"gives no position at {when}")
        out.append((fix.lat, fix.lon))
    return out


def draw_station_plan(stops: Sequence[Stop], *, title: str) -> StationPlan:
    """The schematic plan around ``stops`` (at least one) with its four corner control points.

    Local metres are taken about the stops' bounding-box centre; the image spans that box
    plus :data:`MARGIN_M` on every side at :data:`PX_PER_M`, north up.
    """
    lats = [s.lat for s in stops]
    lons = [s.lon for s in stops]
    lat0 = (min(lats) + max(lats)) / 2
    lon0 = (min(lons) + max(lons)) / 2
    pts = [local_en(s.lat, s.lon, lat0, lon0) for s in stops]
    en: dict[str, tuple[float, float]] = {}
    for s, p in zip(stops, pts, strict=True):
        en.setdefault(s.point, p)  # a point's first stop places its equipment
    half_e = max(abs(e) for e, _ in pts) + MARGIN_M
    half_n = max(abs(n) for _, n in pts) + MARGIN_M
    width = round(2 * half_e * PX_PER_M)
    height = round(2 * half_n * PX_PER_M)

    def px(e: float, n: float) -> tuple[float, float]:
        return (e + half_e) * PX_PER_M, (half_n - n) * PX_PER_M

    def box(e0: float, n0: float, e1: float, n1: float) -> tuple[float, float, float, float]:
        (x0, y0), (x1, y1) = px(min(e0, e1), max(n0, n1)), px(max(e0, e1), min(n0, n1))
        return x0, y0, x1, y1

    img = Image.new("RGB", (width, height), _PAPER)
    d = ImageDraw.Draw(img)
    small, label, big = image_font(12), image_font(14), image_font(17)

    # fence, 1 m inside the image
    d.rectangle(box(-half_e + 1, -half_n + 1, half_e - 1, half_n - 1), outline=_MUTED, width=2)

    road_e = sum(e for e, _ in pts) / len(pts)
    south = min(n for _, n in pts)
    north = max(n for _, n in pts)
    fuse_n = en["P-C3-FUSE"][1] if "P-C3-FUSE" in en else south

    # 10 kV switchgear room around the fuse stop: a row of six cabinets, No. 3 before the robot
    room = (road_e - 8, fuse_n - 6, road_e + 8, fuse_n + 4.5)
    d.rectangle(box(*room), fill=_ROOM, outline=_INK, width=2)
    for k in range(1, 7):
        ce = en.get("P-C3-FUSE", (road_e, 0.0))[0] + (k - 3) * 1.6
        fill = _EQUIP if k == 3 else (200, 200, 196)
        d.rectangle(box(ce - 0.7, fuse_n + 1.8, ce + 0.7, fuse_n + 3.4), fill=fill, outline=_INK)
        d.text(
            px(ce, fuse_n + 2.6), str(k), font=small, fill=(255, 255, 255) if k == 3 else _INK, anchor="mm"
        )
    d.text(px(road_e - 7.5, fuse_n - 5.4), "A-10KV 10kV配电室", font=label, fill=_INK, anchor="ls")
    d.text(px(road_e + 0.6, fuse_n + 0.9), "P-C3-FUSE", font=label, fill=_EQUIP, anchor="ls")

    # patrol road from the room's door to the north fence
    d.rectangle(box(road_e - 1.5, room[3], road_e + 1.5, half_n - 1), fill=_ROAD)
    n = room[3] + 1.0
    while n < half_n - 2:
        d.line([px(road_e, n), px(road_e, n + 1.0)], fill=(255, 255, 255), width=2)
        n += 2.0
    d.text(px(road_e - 1.9, room[3] + 1.5), "巡检通道 patrol road", font=small, fill=_MUTED, anchor="rs")

    # 110 kV line bay B-L1 east of the road: phases A, B, C north to south at the DS stops
    pitch = 2.4  # phase spacing, m
    a_n = en.get("P-L1-DS-A", (road_e, north))[1]
    phases = {"A": a_n, "B": a_n - pitch, "C": a_n - 2 * pitch}
    bay_e0, bay_e1 = road_e + 2.5, half_e - 1.8
    bay = (bay_e0, phases["C"] - 3.5, bay_e1, phases["A"] + 4.5)
    d.rectangle(box(*bay), fill=_BAY, outline=_EQUIP, width=1)
    d.text(px(bay_e0 + 0.4, bay[3] - 0.5), "B-L1 110kV 1号进线", font=label, fill=_INK, anchor="lt")
    bus = (bay_e1 - 1.8, bay_e1 - 0.8)
    for be in bus:
        d.line([px(be, bay[1] - 2), px(be, bay[3] + 6)], fill=_BUS, width=3)
    d.text(px(bus[1] + 0.3, bay[3] + 6.4), "110kV 母线 bus", font=small, fill=_BUS, anchor="rs")
    ds_e, ct_e = road_e + 4.5, road_e + 10.5
    for ph, pn in phases.items():
        d.line([px(road_e + 2.5, pn), px(bus[0], pn)], fill=_INK, width=1)
        d.ellipse(box(bus[0] - 0.25, pn - 0.25, bus[0] + 0.25, pn + 0.25), fill=_BUS)
        d.rectangle(box(ds_e - 0.6, pn - 0.4, ds_e + 0.6, pn + 0.4), fill=_EQUIP)
        d.ellipse(box(ct_e - 0.5, pn - 0.5, ct_e + 0.5, pn + 0.5), fill=_PAPER, outline=_EQUIP, width=2)
        d.text(px(road_e + 2.9, pn + 0.35), ph, font=small, fill=_MUTED, anchor="ls")
    d.text(px(ds_e + 0.9, phases["A"] + 0.3), "P-L1-DS-A", font=label, fill=_EQUIP, anchor="ls")
    d.text(px(ds_e + 0.9, phases["B"] + 0.3), "P-L1-DS-B", font=label, fill=_EQUIP, anchor="ls")
    d.text(px(ct_e, phases["C"] - 0.8), "P-L1-CT", font=label, fill=_EQUIP, anchor="mt")

    # title, north arrow, metre scale
    d.text(px(-half_e + 1.8, half_n - 1.6), title, font=big, fill=_INK, anchor="lt")
    d.text(
        px(-half_e + 1.8, half_n - 3.3), "demo schematic, not a survey", font=small, fill=_MUTED, anchor="lt"
    )
    ax, ay = px(-half_e + 4.0, half_n - 10.0)
    d.polygon([(ax, ay - 30), (ax - 9, ay), (ax, ay - 7), (ax + 9, ay)], fill=_INK)
    d.text((ax, ay - 34), "N 北", font=label, fill=_INK, anchor="mb")
    sx, sy = px(-half_e + 2.5, -half_n + 3.0)
    step = 5 * PX_PER_M
    for k in range(2):
        d.rectangle(
            (sx + k * step, sy, sx + (k + 1) * step, sy + 6), fill=_INK if k == 0 else _PAPER, outline=_INK
        )
    for k, text in enumerate(("0", "5", "10 m")):
        d.text((sx + k * step, sy - 3), text, font=small, fill=_INK, anchor="mb")

    buf = io.BytesIO()
    img.save(buf, format="PNG", optimize=True)
    corners = []
    for x, y in ((0, 0), (width, 0), (width, height), (0, height)):
        e = x / PX_PER_M - half_e
        n = half_n - y / PX_PER_M
        lat = lat0 + math.degrees(n / EARTH_RADIUS_M)
        lon = lon0 + math.degrees(e / (EARTH_RADIUS_M * math.cos(math.radians(lat0))))
        corners.append({"lat": round(lat, 9), "lon": round(lon, 9), "x": float(x), "y": float(y)})
    return StationPlan(png=buf.getvalue(), width=width, height=height, control_points=corners)
