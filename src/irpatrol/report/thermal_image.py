"""A palette rendering of a thermogram with a labelled colour scale bar, as PNG bytes."""

from __future__ import annotations

import io

import numpy as np
import numpy.typing as npt
from PIL import Image, ImageDraw, ImageFont

from irpatrol.thermal.palettes import apply_palette, palette_table

_BAR_WIDTH = 18
_MARGIN = 8
_TICKS = 6


def _font(size: int) -> ImageFont.ImageFont | ImageFont.FreeTypeFont:
    try:
        return ImageFont.load_default(size=size)
    except (TypeError, OSError):  # Pillow without FreeType: bitmap default font
        return ImageFont.load_default()


def render_image(
    temps_c: npt.NDArray[np.floating],
    *,
    palette: str,
    vmin: float,
    vmax: float,
    valid: npt.NDArray[np.bool_] | None = None,
    scale: int | None = None,
) -> Image.Image:
    """The palette image of ``temps_c`` (°C) with a scale bar on the right, as a Pillow image.

    Small frames are enlarged by an integer factor (nearest neighbour) so that the
    rendering is at least about 480 px tall; ``scale`` forces the factor.
    """
    rgb = apply_palette(temps_c, palette=palette, vmin=vmin, vmax=vmax, valid=valid)
    h, w = rgb.shape[:2]
    factor = scale if scale is not None else max(1, 480 // max(h, 1))
    img = Image.fromarray(rgb, "RGB")
    if factor > 1:
        img = img.resize((w * factor, h * factor), Image.Resampling.NEAREST)
    return add_scale_bar(img, palette=palette, vmin=vmin, vmax=vmax)


def add_scale_bar(
    img: Image.Image,
    *,
    palette: str,
    vmin: float,
    vmax: float,
    font: ImageFont.ImageFont | ImageFont.FreeTypeFont | None = None,
) -> Image.Image:
    """``img`` (a palette rendering of vmin..vmax °C) on white with a labelled scale bar at its right."""
    font = font or _font(max(11, img.height // 36))
    label_w = int(font.getlength("-000.0 °C")) + 4
    canvas = Image.new("RGB", (img.width + 3 * _MARGIN + _BAR_WIDTH + label_w, img.height), (255, 255, 255))
    canvas.paste(img, (0, 0))
    bar_x = img.width + _MARGIN
    bar_h = img.height - 2 * _MARGIN
    table = palette_table(palette)
    ramp = table[np.linspace(255, 0, bar_h).round().astype(np.intp)]
    bar = np.repeat(ramp[:, None, :], _BAR_WIDTH, axis=1)
    canvas.paste(Image.fromarray(bar, "RGB"), (bar_x, _MARGIN))
    draw = ImageDraw.Draw(canvas)
    draw.rectangle((bar_x - 1, _MARGIN - 1, bar_x + _BAR_WIDTH, _MARGIN + bar_h), outline=(0, 0, 0))
    for k in range(_TICKS):
        frac = k / (_TICKS - 1)
        y = _MARGIN + round((1.0 - frac) * (bar_h - 1))
        value = vmin + frac * (vmax - vmin)
        draw.line((bar_x + _BAR_WIDTH, y, bar_x + _BAR_WIDTH + 4, y), fill=(0, 0, 0))
        text_y = min(max(y - font.size // 2 if hasattr(font, "size") else y - 5, 0), canvas.height - 12)
        draw.text((bar_x + _BAR_WIDTH + 6, text_y), f"{value:.1f} °C", fill=(0, 0, 0), font=font)
    return canvas


def render_png(
    temps_c: npt.NDArray[np.floating],
    *,
    palette: str,
    vmin: float,
    vmax: float,
    valid: npt.NDArray[np.bool_] | None = None,
) -> bytes:
    """PNG bytes of :func:`render_image`."""
    buf = io.BytesIO()
    render_image(temps_c, palette=palette, vmin=vmin, vmax=vmax, valid=valid).save(buf, format="PNG")
    return buf.getvalue()
