"""Colour palettes as data: 256×3 uint8 arrays built from control points.

Each palette is a table of (position 0..1, R, G, B) control points, linearly
interpolated to 256 entries once at import.  ``apply_palette`` maps °C to RGB.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from irpatrol.errors import ParameterError

_CONTROL_POINTS: dict[str, tuple[tuple[float, int, int, int], ...]] = {
    # dark blue-black → purple → red → orange → yellow → white, the familiar "iron" look
    "iron": (
        (0.00, 0, 0, 0),
        (0.10, 32, 0, 96),
        (0.25, 110, 0, 150),
        (0.40, 190, 20, 120),
        (0.55, 235, 70, 40),
        (0.70, 250, 140, 0),
        (0.85, 255, 210, 40),
        (1.00, 255, 255, 235),
    ),
    "rainbow": (
        (0.00, 0, 0, 128),
        (0.15, 0, 0, 255),
        (0.35, 0, 200, 255),
        (0.50, 0, 220, 0),
        (0.65, 255, 255, 0),
        (0.82, 255, 128, 0),
        (1.00, 255, 0, 0),
    ),
    "gray": ((0.0, 0, 0, 0), (1.0, 255, 255, 255)),
}


def _build(points: tuple[tuple[float, int, int, int], ...]) -> npt.NDArray[np.uint8]:
    pos = np.array([p[0] for p in points])
    x = np.linspace(0.0, 1.0, 256)
    channels = [np.interp(x, pos, np.array([p[c] for p in points], dtype=float)) for c in (1, 2, 3)]
    return np.round(np.stack(channels, axis=1)).astype(np.uint8)


PALETTES: dict[str, npt.NDArray[np.uint8]] = {name: _build(pts) for name, pts in _CONTROL_POINTS.items()}
"""Palette name → (256, 3) uint8 RGB table, low temperatures first."""

INVALID_RGB = np.array([0, 255, 0], dtype=np.uint8)
"""Colour drawn for invalid pixels (NaN or outside the calibrated range): green."""


def palette_table(name: str) -> npt.NDArray[np.uint8]:
    """The (256, 3) RGB table of a named palette."""
    try:
        return PALETTES[name]
    except KeyError:
        raise ParameterError("palette", name, f"one of {sorted(PALETTES)}") from None


def auto_range(
    temps_c: npt.NDArray[np.floating], valid: npt.NDArray[np.bool_] | None = None
) -> tuple[float, float]:
    """Display span (°C): the 0.5th–99.5th percentile of valid pixels, at least 1 K wide."""
    values = temps_c[valid] if valid is not None else temps_c[np.isfinite(temps_c)]
    values = values[np.isfinite(values)]
    if values.size == 0:
        return 0.0, 1.0
    lo, hi = (float(v) for v in np.percentile(values, [0.5, 99.5]))
    if hi - lo < 1.0:
        mid = (hi + lo) / 2.0
        lo, hi = mid - 0.5, mid + 0.5
    return lo, hi


def apply_palette(
    temps_c: npt.NDArray[np.floating],
    *,
    palette: str = "iron",
    vmin: float,
    vmax: float,
    valid: npt.NDArray[np.bool_] | None = None,
) -> npt.NDArray[np.uint8]:
    """Map temperatures (°C) in [vmin, vmax] to an RGB image (rows, cols, 3) uint8.

    Values outside the span are clipped to its ends; invalid pixels are drawn in
    :data:`INVALID_RGB` so they are never mistaken for a measurement.
    """
    if not vmax > vmin:
        raise ParameterError("vmax", vmax, f"greater than vmin={vmin}")
    table = palette_table(palette)
    scaled = (np.asarray(temps_c, dtype=np.float32) - np.float32(vmin)) * np.float32(255.0 / (vmax - vmin))
    index = np.clip(np.nan_to_num(scaled, nan=0.0), 0, 255).astype(np.uint8)
    rgb = table[index]
    bad = ~np.isfinite(temps_c) if valid is None else ~valid
    if bad.any():
        rgb[bad] = INVALID_RGB
    return rgb
