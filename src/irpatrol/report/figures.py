"""Pictures in a report: the marked thermogram with its scale bar, the visible photo, the trend chart.

All return JPEG or PNG bytes sized for an A4 page (about 480 px wide), so a 100-capture
report stays a few megabytes.  Text drawn into images uses a CJK font when the system has
one (Debian's fonts-noto-cjk), so Chinese point names, δ and °C show as real glyphs.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from datetime import datetime
from functools import cache
from pathlib import Path

from PIL import Image, ImageDraw, ImageFont, UnidentifiedImageError

from irpatrol.report.annotate import GRADE_COLOURS, Markers, annotate_image
from irpatrol.report.model import TrendPoint
from irpatrol.report.thermal_image import add_scale_bar
from irpatrol.thermal.radiometry import Thermogram

FONT_CANDIDATES = (
    ("/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc", 2),  # Debian fonts-noto-cjk; face 2 = SC
    ("/usr/share/fonts/noto-cjk/NotoSansCJK-Regular.ttc", 2),  # Fedora, Arch
    ("/usr/share/fonts/truetype/wqy/wqy-microhei.ttc", 0),
    ("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf", 0),  # no CJK, but δ and °C
)
"""Fonts tried for text inside images, best first: (path, face index of a collection)."""

FIGURE_WIDTH = 480
"""Width (px) thermal figures and photos are scaled to."""

Font = ImageFont.ImageFont | ImageFont.FreeTypeFont


@cache
def image_font(size: int) -> Font:
    """A font for text inside images at ``size`` px: the first of :data:`FONT_CANDIDATES` found."""
    for path, index in FONT_CANDIDATES:
        if Path(path).is_file():
            try:
                return ImageFont.truetype(path, size=size, index=index)
            except OSError:
                continue
    return ImageFont.load_default(size=size)


def _jpeg(img: Image.Image, quality: int = 85) -> bytes:
    buf = io.BytesIO()
    img.convert("RGB").save(buf, format="JPEG", quality=quality, optimize=False)
    return buf.getvalue()


def thermal_figure(thermogram: Thermogram, markers: Markers, *, palette: str = "iron") -> bytes:
    """JPEG: the frame in ``palette`` with ``markers`` and a °C scale bar, ~:data:`FIGURE_WIDTH` px wide.

    Small frames are enlarged (nearest neighbour) before the markers are drawn, large ones
    drawn at their size and then reduced, so labels stay readable either way.
    """
    width = thermogram.celsius.shape[1]
    font = image_font(13 if width <= FIGURE_WIDTH else max(13, round(13 * width / FIGURE_WIDTH)))
    img, lo, hi = annotate_image(thermogram, markers, palette=palette, min_width=FIGURE_WIDTH, font=font)
    if img.width > FIGURE_WIDTH:
        h = round(img.height * FIGURE_WIDTH / img.width)
        img = img.resize((FIGURE_WIDTH, h), Image.Resampling.BILINEAR, reducing_gap=2.0)
    framed = add_scale_bar(img, palette=palette, vmin=lo, vmax=hi, font=image_font(12))
    return _jpeg(framed, quality=88)


def photo(jpeg: bytes | None, *, width: int = FIGURE_WIDTH) -> bytes | None:
    """The visible photo reduced to ``width`` px (JPEG), or ``None`` when absent or not decodable."""
    if not jpeg:
        return None
    try:
        with Image.open(io.BytesIO(jpeg)) as im:
            im.draft("RGB", (width, width))  # JPEG: decode at a reduced scale, much faster
            img = im.convert("RGB")
    except (UnidentifiedImageError, OSError, ValueError, Image.DecompressionBombError):
        return None
    if img.width > width:
        size = (width, max(1, round(img.height * width / img.width)))
        img = img.resize(size, Image.Resampling.BILINEAR, reducing_gap=2.0)
    return _jpeg(img, quality=80)


def trend_chart(
    points: Sequence[TrendPoint],
    *,
    axis_label: str,
    current: datetime | None = None,
    size: tuple[int, int] = (640, 200),
) -> bytes | None:
    """PNG bytes: T1 (°C) over time, each reading coloured by its grade; ``None`` below two readings.

    ``current`` rings the reading of the capture the chart belongs to.
    """
    pts = sorted(points, key=lambda p: p.at)
    if len(pts) < 2:
        return None
    w, h = size
    img = Image.new("RGB", size, (255, 255, 255))
    draw = ImageDraw.Draw(img)
    font = image_font(12)
    left, right, top, bottom = 58, 14, 22, 34
    t0, t1 = pts[0].at.timestamp(), pts[-1].at.timestamp()
    vals = [p.value_c for p in pts]
    lo, hi = min(vals), max(vals)
    pad = max((hi - lo) * 0.1, 1.0)
    lo, hi = lo - pad, hi + pad
    span_t = max(t1 - t0, 1.0)

    def xy(p: TrendPoint) -> tuple[float, float]:
        x = left + (p.at.timestamp() - t0) / span_t * (w - left - right)
        y = top + (hi - p.value_c) / (hi - lo) * (h - top - bottom)
        return x, y

    grey, black = (200, 200, 200), (0, 0, 0)
    for k in range(5):
        v = lo + k * (hi - lo) / 4
        y = top + (hi - v) / (hi - lo) * (h - top - bottom)
        draw.line([(left, y), (w - right, y)], fill=grey)
        draw.text((4, y - 7), f"{v:.1f}", fill=black, font=font)
    draw.rectangle([left, top, w - right, h - bottom], outline=black)
    draw.text((left, 3), axis_label, fill=black, font=font)
    for p, anchor in ((pts[0], "la"), (pts[-1], "ra")):
        tx = left if anchor == "la" else w - right
        draw.text((tx, h - bottom + 6), p.at.strftime("%Y-%m-%d"), fill=black, font=font, anchor=anchor)
    coords = [xy(p) for p in pts]
    draw.line(coords, fill=(60, 60, 160), width=2)
    for p, (x, y) in zip(pts, coords, strict=True):
        colour = GRADE_COLOURS.get(p.grade, (120, 120, 120))
        draw.ellipse([x - 4, y - 4, x + 4, y + 4], fill=colour, outline=black)
        if current is not None and p.at == current:
            draw.ellipse([x - 8, y - 8, x + 8, y + 8], outline=(200, 0, 0), width=2)
    buf = io.BytesIO()
    img.save(buf, format="PNG")
    return buf.getvalue()


def rise_chart(
    readings: Sequence[tuple[datetime, float, str]],
    *,
    axis_label: str,
    current: datetime | None = None,
    size: tuple[int, int] = (640, 200),
) -> bytes | None:
    """PNG bytes: a point's rise over ambient (K) per patrol, coloured by grade; ``None`` below two.

    ``readings`` are (time taken, rise in K, grade); drawn like :func:`trend_chart` so the
    report's history figures look alike.  ``current`` rings the reading the report is about.
    """
    points = [TrendPoint(at=at, value_c=value, grade=g) for at, value, g in readings]
    return trend_chart(points, axis_label=axis_label, current=current, size=size)
