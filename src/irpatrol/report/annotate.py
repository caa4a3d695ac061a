"""Annotated thermal image: palette rendering with regions, hot spots and grades drawn on.

Returns PNG bytes (or a Pillow image); the caller writes them.  Regions are outlined
in white with their phase name, hot spots marked with a cross and their rank and peak
(°C), and each graded inspection point labelled with its grade.  What is drawn is a
:class:`Markers` value, built from a live analysis (:func:`markers_from_analysis`) or
from its JSON form as the server stores it (:func:`markers_from_doc`), so the reports
draw stored captures exactly like fresh ones.
"""

from __future__ import annotations

import io
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from PIL import Image, ImageDraw, ImageFont

from irpatrol.diagnosis.analysis import FrameAnalysis
from irpatrol.errors import ParameterError
from irpatrol.thermal.measure import Box, Ellipse, Line, Polygon, Region, Spot
from irpatrol.thermal.palettes import apply_palette, auto_range
from irpatrol.thermal.radiometry import Thermogram

GRADE_COLOURS = {
    "normal": (80, 200, 80),
    "general": (255, 220, 0),
    "serious": (255, 140, 0),
    "critical": (255, 40, 40),
}


def _draw_region(draw: ImageDraw.ImageDraw, region: Region, s: int, colour: tuple[int, int, int]) -> None:
    if isinstance(region, Box):
        draw.rectangle(
            [region.left * s, region.top * s, region.right * s - 1, region.bottom * s - 1], outline=colour
        )
    elif isinstance(region, Polygon):
        draw.polygon([((x + 0.5) * s, (y + 0.5) * s) for x, y in region.vertices], outline=colour)
    elif isinstance(region, Ellipse):
        a = np.linspace(0, 2 * np.pi, 48, endpoint=False)
        cos_t, sin_t = np.cos(np.radians(region.angle_deg)), np.sin(np.radians(region.angle_deg))
        u, v = region.rx * np.cos(a), region.ry * np.sin(a)
        xs = (region.cx + u * cos_t - v * sin_t + 0.5) * s
        ys = (region.cy + u * sin_t + v * cos_t + 0.5) * s
        pts = [(float(x), float(y)) for x, y in zip(xs, ys, strict=True)]
        draw.polygon(pts, outline=colour)
    elif isinstance(region, Line):
        draw.line(
            [
                ((region.x0 + 0.5) * s, (region.y0 + 0.5) * s),
                ((region.x1 + 0.5) * s, (region.y1 + 0.5) * s),
            ],
            fill=colour,
        )
    elif isinstance(region, Spot):
        draw.rectangle([region.x * s, region.y * s, (region.x + 1) * s, (region.y + 1) * s], outline=colour)


Font = ImageFont.ImageFont | ImageFont.FreeTypeFont


@dataclass(frozen=True, kw_only=True)
class Markers:
    """What to draw on a thermal image, in frame pixels.

    ``regions``: (name, shape) pairs; ``spots``: (rank, x, y, peak °C) of hot spots;
    ``labels``: (text, grade) lines written top left, coloured by grade
    (``normal``, ``general``, ``serious``, ``critical``; anything else in white).
    """

    regions: tuple[tuple[str, Region], ...] = ()
    spots: tuple[tuple[int, float, float, float], ...] = ()
    labels: tuple[tuple[str, str], ...] = ()


def markers_from_analysis(analysis: FrameAnalysis, *, max_spots: int = 5) -> Markers:
    """The markers :func:`annotate_png` draws for a live analysis (labels in ASCII)."""
    labels = []
    for a in analysis.assessments:
        label = a.finding.grade.name.lower() if a.finding is not None else "not graded"
        delta = a.comparison.delta_pct if a.comparison is not None else None
        text = f"{a.subject}: {label}" + (f"  delta={delta:.0f}%" if delta is not None else "")
        labels.append((text, label))
    return Markers(
        regions=tuple((r.name, r.region) for r in analysis.regions),
        spots=tuple(
            (s.rank, float(s.peak_xy[0]), float(s.peak_xy[1]), float(s.peak_c))
            for s in analysis.hotspots.spots[:max_spots]
        ),
        labels=tuple(labels),
    )


def region_from_dict(shape: Mapping[str, Any]) -> Region:
    """A region from its JSON form ``{"type": "box", "left": …}`` (inverse of ``region_to_dict``).

    Raises :class:`~irpatrol.errors.ParameterError` for an unknown type or missing coordinates.
    """
    kind = shape.get("type")
    fields = {k: v for k, v in shape.items() if k != "type"}
    try:
        if kind == "box":
            return Box(**{k: int(v) for k, v in fields.items()})
        if kind == "spot":
            return Spot(**{k: int(v) for k, v in fields.items()})
        if kind == "polygon":
            return Polygon(vertices=tuple((float(x), float(y)) for x, y in fields["vertices"]))
        if kind == "ellipse":
            return Ellipse(**{k: float(v) for k, v in fields.items()})
        if kind == "line":
            return Line(**{k: float(v) for k, v in fields.items()})
    except (TypeError, KeyError, ValueError) as exc:
        raise ParameterError("shape", dict(shape), f"a valid {kind} region ({exc})") from exc
    raise ParameterError("shape", dict(shape), "a region of type box, spot, polygon, ellipse or line")


def markers_from_doc(
    doc: Mapping[str, Any], *, labels: Sequence[tuple[str, str]] = (), max_spots: int = 3
) -> Markers:
    """Markers from an inspection's JSON (``Inspection.to_dict()`` or a capture's stored result).

    Regions whose shape cannot be read are left out (a drawing is no reason to fail a report).
    """
    regions: list[tuple[str, Region]] = []
    for r in doc.get("regions") or ():
        try:
            regions.append((str(r.get("name", "")), region_from_dict(r.get("shape") or {})))
        except ParameterError:
            continue
    spots = tuple(
        (int(s["rank"]), float(s["x"]), float(s["y"]), float(s["peak_c"]))
        for s in (doc.get("hotspots") or ())[:max_spots]
        if all(k in s for k in ("rank", "x", "y", "peak_c"))
    )
    return Markers(regions=tuple(regions), spots=spots, labels=tuple(labels))


def _free_spot(
    draw: ImageDraw.ImageDraw,
    xy: tuple[float, float],
    text: str,
    font: Font,
    taken: list[tuple[float, ...]],
    step: int,
) -> tuple[float, float]:
    """``xy``, moved down a line at a time (at most 6) until ``text`` there overlaps no earlier label."""
    x, y = xy
    for _ in range(6):
        box = draw.textbbox((x, y), text, font=font)
        if not any(box[0] < b[2] and b[0] < box[2] and box[1] < b[3] and b[1] < box[3] for b in taken):
            break
        y += step
    taken.append(tuple(draw.textbbox((x, y), text, font=font)))
    return x, y


def draw_markers(img: Image.Image, scale: int, markers: Markers, *, font: Font | None = None) -> None:
    """Draw ``markers`` on ``img``, a rendering enlarged ``scale`` times from the frame.

    Labels that would overlap an earlier one are moved down, so close hot spots stay legible.
    """
    draw = ImageDraw.Draw(img)
    font = font or ImageFont.load_default()
    white = (255, 255, 255)
    line_h = int(draw.textbbox((0, 0), "Ag国", font=font)[3]) + 2
    taken: list[tuple[float, ...]] = []
    y_text = 2
    for text, grade in markers.labels:  # first: the grade lines top left are never moved
        colour = GRADE_COLOURS.get(grade, white)
        box = draw.textbbox((5, y_text), text, font=font)
        draw.rectangle([2, y_text, box[2] + 3, y_text + line_h], fill=(0, 0, 0))
        draw.text((5, y_text), text, fill=colour, font=font)
        taken.append((2, y_text, box[2] + 3, y_text + line_h))
        y_text += line_h + 2
    for _, region in markers.regions:
        _draw_region(draw, region, scale, white)
    for name, region in markers.regions:
        left, top, _, _ = region.bbox()
        xy = _free_spot(draw, (left * scale + 2, max(top * scale - line_h, 0)), name, font, taken, line_h)
        draw.text(xy, name, fill=white, font=font, stroke_width=1, stroke_fill=(0, 0, 0))
    cyan = (0, 255, 255)
    for _, px, py, _ in markers.spots:
        x, y = (px + 0.5) * scale, (py + 0.5) * scale
        draw.line([(x - 5, y), (x + 5, y)], fill=cyan, width=2)
        draw.line([(x, y - 5), (x, y + 5)], fill=cyan, width=2)
    for rank, px, py, peak in markers.spots:
        x, y = (px + 0.5) * scale, (py + 0.5) * scale
        text = f"{rank}: {peak:.1f}°C"
        width = draw.textlength(text, font=font)
        tx = x + 6 if x + 6 + width < img.width else x - 6 - width
        xy = _free_spot(draw, (tx, y + 2), text, font, taken, line_h)
        draw.text(xy, text, fill=cyan, font=font, stroke_width=1, stroke_fill=(0, 0, 0))  # legible on white


def annotate_image(
    thermogram: Thermogram,
    markers: Markers,
    *,
    palette: str = "iron",
    min_width: int = 320,
    font: Font | None = None,
) -> tuple[Image.Image, float, float]:
    """The frame in ``palette`` with ``markers`` drawn, and the colour range (°C low, high).

    Small frames are enlarged (nearest neighbour) to at least ``min_width`` px wide so
    the labels stay readable; the range is :func:`~irpatrol.thermal.palettes.auto_range`.
    """
    t, v = thermogram.celsius, thermogram.valid
    lo, hi = auto_range(t, v)
    rgb = apply_palette(t, palette=palette, vmin=lo, vmax=hi, valid=v)
    s = max(1, -(-min_width // t.shape[1]))
    img = Image.fromarray(rgb, mode="RGB")
    if s > 1:
        img = img.resize((t.shape[1] * s, t.shape[0] * s), Image.Resampling.NEAREST)
    draw_markers(img, s, markers, font=font)
    return img, float(lo), float(hi)


def annotate_png(
    thermogram: Thermogram,
    analysis: FrameAnalysis,
    *,
    palette: str = "iron",
    max_spots: int = 5,
) -> bytes:
    """PNG bytes of the frame in ``palette`` with the analysis drawn on.

    Small frames are enlarged (nearest neighbour) to at least 320 px wide so the
    labels stay readable.
    """
    img, _, _ = annotate_image(
        thermogram, markers_from_analysis(analysis, max_spots=max_spots), palette=palette
    )
    buf = io.BytesIO()
    img.save(buf, format="PNG")
    return buf.getvalue()
