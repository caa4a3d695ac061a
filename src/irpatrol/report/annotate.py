"""Annotated thermal image: palette rendering with regions, hot spots and grades drawn on.

Returns PNG bytes; the caller writes them.  Regions are outlined in white with
their phase name, hot spots marked with a cross and their rank and peak (°C),
and each graded inspection point labelled with its grade.
"""

from __future__ import annotations

import io

import numpy as np
from PIL import Image, ImageDraw, ImageFont

from irpatrol.diagnosis.analysis import FrameAnalysis
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
    t, v = thermogram.celsius, thermogram.valid
    lo, hi = auto_range(t, v)
    rgb = apply_palette(t, palette=palette, vmin=lo, vmax=hi, valid=v)
    s = max(1, -(-320 // t.shape[1]))
    img = Image.fromarray(rgb, mode="RGB")
    if s > 1:
        img = img.resize((t.shape[1] * s, t.shape[0] * s), Image.Resampling.NEAREST)
    draw = ImageDraw.Draw(img)
    font = ImageFont.load_default()
    white = (255, 255, 255)
    for r in analysis.regions:
        _draw_region(draw, r.region, s, white)
        left, top, _, _ = r.region.bbox()
        draw.text((left * s + 2, max(top * s - 11, 0)), r.name, fill=white, font=font)
    for spot in analysis.hotspots.spots[:max_spots]:
        x, y = (spot.peak_xy[0] + 0.5) * s, (spot.peak_xy[1] + 0.5) * s
        draw.line([(x - 5, y), (x + 5, y)], fill=(0, 255, 255), width=2)
        draw.line([(x, y - 5), (x, y + 5)], fill=(0, 255, 255), width=2)
        draw.text((x + 6, y + 2), f"{spot.rank}: {spot.peak_c:.1f}°C", fill=(0, 255, 255), font=font)
    y_text = 2
    for a in analysis.assessments:
        label = a.finding.grade.name.lower() if a.finding is not None else "not graded"
        delta = a.comparison.delta_pct if a.comparison is not None else None
        text = f"{a.subject}: {label}" + (f"  delta={delta:.0f}%" if delta is not None else "")
        colour = GRADE_COLOURS.get(label, white)
        draw.rectangle([2, y_text, 8 + 7 * len(text), y_text + 12], fill=(0, 0, 0))
        draw.text((5, y_text), text, fill=colour, font=font)
        y_text += 14
    buf = io.BytesIO()
    img.save(buf, format="PNG")
    return buf.getvalue()
