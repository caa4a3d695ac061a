"""Preset re-registration: find where a reference frame's regions lie in a new frame.

A fixed camera or a robot returning to a preset never points exactly the same
way twice.  :func:`register_frames` estimates the similarity transform (shift,
small rotation and scale) that carries reference-frame pixel coordinates to the
new frame:

1. both frames are filled where invalid, averaged 2×2 (frames wider than 256 px)
   and turned into gradient-magnitude images, which ignore the overall
   temperature level (load and weather change it between visits);
2. for each candidate rotation and scale on a small grid the reference gradient
   image is warped and phase-correlated (numpy FFT, Hann window) with the new
   one; the candidate with the sharpest correlation peak wins, and its peak gives
   the shift;
3. the quality is the normalized cross-correlation (NCC, -1..1) of the two
   full-resolution gradient images over their overlap after alignment.

An alignment whose NCC is below ``min_ncc`` or whose overlap is too small is
marked failed; :func:`require_alignment` turns that into
:class:`~irpatrol.errors.AnalysisError`, so regions are never graded where they
may not be.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
from scipy import ndimage

from irpatrol.errors import AnalysisError, ParameterError
from irpatrol.thermal.measure import Region, transform_region

F32 = npt.NDArray[np.float32]


@dataclass(frozen=True, kw_only=True)
class Alignment:
    """A similarity transform from reference to new-frame pixel coordinates, and its quality.

    ``new = scale · R(rotation_deg) · (p − centre) + centre + (dx, dy)`` with ``p``
    and ``centre`` in (x, y) px; ``ncc`` is the gradient NCC after alignment
    (1 = identical structure), ``overlap`` the fraction of the frame both cover.
    ``ok`` is False with a ``reason`` when the alignment must not be trusted.
    """

    dx: float
    dy: float
    rotation_deg: float
    scale: float
    ncc: float
    overlap: float
    ok: bool
    reason: str
    centre: tuple[float, float]

    def map_point(self, x: float, y: float) -> tuple[float, float]:
        """Reference (x, y) px → new-frame (x, y) px."""
        cx, cy = self.centre
        a = math.radians(self.rotation_deg)
        u, v = x - cx, y - cy
        return (
            self.scale * (math.cos(a) * u - math.sin(a) * v) + cx + self.dx,
            self.scale * (math.sin(a) * u + math.cos(a) * v) + cy + self.dy,
        )

    def apply(self, region: Region) -> Region:
        """The region moved into the new frame."""
        return transform_region(region, self.map_point, scale=self.scale, angle_deg=self.rotation_deg)

    def to_dict(self) -> dict[str, object]:
        """Plain JSON-ready dict."""
        return {
            "dx": round(self.dx, 2),
            "dy": round(self.dy, 2),
            "rotation_deg": round(self.rotation_deg, 2),
            "scale": round(self.scale, 4),
            "ncc": round(self.ncc, 3),
            "overlap": round(self.overlap, 3),
            "ok": self.ok,
            "reason": self.reason,
        }


def _prepare(celsius: npt.ArrayLike, valid: npt.ArrayLike | None, factor: int) -> F32:
    t = np.asarray(celsius, dtype=np.float32)
    v = np.isfinite(t) if valid is None else (np.asarray(valid, dtype=bool) & np.isfinite(t))
    fill = float(np.median(t[v])) if v.any() else 0.0
    t = np.where(v, t, np.float32(fill))
    if factor > 1:
        rows, cols = (t.shape[0] // factor) * factor, (t.shape[1] // factor) * factor
        t = t[:rows, :cols].reshape(rows // factor, factor, cols // factor, factor).mean(axis=(1, 3))
    t = ndimage.gaussian_filter(t, 1.0)
    gy, gx = np.gradient(t)
    g: F32 = np.hypot(gx, gy).astype(np.float32)
    return g


def _warp(img: F32, *, angle_deg: float, scale: float, shift: tuple[float, float] = (0.0, 0.0)) -> F32:
    """Sample ``img`` so that output(p) = img(inverse transform of p); (row, col) internally."""
    a = math.radians(angle_deg)
    c = np.array([(img.shape[0] - 1) / 2.0, (img.shape[1] - 1) / 2.0])
    # forward in (x, y): [[cos, -sin], [sin, cos]]; in (row, col) = (y, x): [[cos, sin], [-sin, cos]]
    fwd = scale * np.array([[math.cos(a), math.sin(a)], [-math.sin(a), math.cos(a)]])
    inv = np.linalg.inv(fwd)
    d = np.array([shift[1], shift[0]])
    offset = c - inv @ (c + d)
    out: F32 = ndimage.affine_transform(img, inv, offset=offset, order=1, mode="constant", cval=0.0)
    return out


def _phase_correlate(a: F32, b: F32, window: F32) -> tuple[float, float, float]:
    """Shift (dx, dy) px that moves ``a`` onto ``b`` and the correlation peak height."""
    fa = np.fft.rfft2((a - a.mean()) * window)
    fb = np.fft.rfft2((b - b.mean()) * window)
    cross = fb * np.conj(fa)
    cross /= np.abs(cross) + 1e-12
    r = np.fft.irfft2(cross, s=a.shape)
    iy, ix = np.unravel_index(int(np.argmax(r)), r.shape)
    peak = float(r[iy, ix])

    def sub(c_m: float, c_0: float, c_p: float) -> float:
        den = c_m - 2 * c_0 + c_p
        return 0.0 if den == 0 else 0.5 * (c_m - c_p) / den

    ny, nx = r.shape
    fy = sub(r[(iy - 1) % ny, ix], r[iy, ix], r[(iy + 1) % ny, ix])
    fx = sub(r[iy, (ix - 1) % nx], r[iy, ix], r[iy, (ix + 1) % nx])
    dy = iy + fy
    dx = ix + fx
    if dy > ny / 2:
        dy -= ny
    if dx > nx / 2:
        dx -= nx
    return float(dx), float(dy), peak


def _ncc(a: F32, b: F32, mask: npt.NDArray[np.bool_]) -> float:
    if np.count_nonzero(mask) < 16:
        return 0.0
    x = a[mask].astype(np.float64)
    y = b[mask].astype(np.float64)
    x -= x.mean()
    y -= y.mean()
    den = math.sqrt(float(x @ x) * float(y @ y))
    return 0.0 if den == 0 else float(x @ y) / den


def _grid(limit: float, step: float) -> list[float]:
    if limit <= 0 or step <= 0:
        return [0.0]
    n = math.floor(limit / step + 1e-9)
    return [i * step for i in range(-n, n + 1)]


def register_frames(
    reference: npt.ArrayLike,
    moving: npt.ArrayLike,
    *,
    reference_valid: npt.ArrayLike | None = None,
    moving_valid: npt.ArrayLike | None = None,
    max_rotation_deg: float = 3.0,
    rotation_step_deg: float = 1.0,
    max_scale_change: float = 0.05,
    scale_step: float = 0.025,
    min_ncc: float = 0.5,
    min_overlap: float = 0.5,
) -> Alignment:
    """Estimate the transform carrying ``reference`` pixel coordinates onto ``moving``.

    Parameters
    ----------
    reference, moving : ndarray of shape (M, N)
        Temperatures (°C) of the reference frame and of the new frame; same shape.
    reference_valid, moving_valid : ndarray of bool, optional
        Validity masks.
    max_rotation_deg, rotation_step_deg : float
        Rotations searched: ``-max..max`` in steps (degrees).  Default ±3° by 1°.
    max_scale_change, scale_step : float
        Scales searched: ``1 ± max`` in steps.  Default ±5 % by 2.5 %.
    min_ncc : float
        Least gradient NCC after alignment for ``ok`` (default 0.5).
    min_overlap : float
        Least fraction of the frame both images cover (default 0.5).

    Returns
    -------
    Alignment
        Never raises for dissimilar frames: ``ok`` is False with a reason.
    """
    ref = np.asarray(reference, dtype=np.float32)
    mov = np.asarray(moving, dtype=np.float32)
    if ref.ndim != 2 or ref.size == 0:
        raise ParameterError("reference", ref.shape, "a non-empty 2-D temperature array (°C)")
    if mov.ndim != 2 or mov.size == 0:
        raise ParameterError("moving", mov.shape, "a non-empty 2-D temperature array (°C)")
    if not (0 <= max_rotation_deg <= 45):
        raise ParameterError("max_rotation_deg", max_rotation_deg, "between 0 and 45 degrees")
    if not (0 <= max_scale_change < 0.5):
        raise ParameterError("max_scale_change", max_scale_change, "between 0 and 0.5")
    if not (-1 <= min_ncc <= 1):
        raise ParameterError("min_ncc", min_ncc, "between -1 and 1")
    centre = ((ref.shape[1] - 1) / 2.0, (ref.shape[0] - 1) / 2.0)
    if ref.shape != mov.shape:
        return Alignment(
            dx=0.0,
            dy=0.0,
            rotation_deg=0.0,
            scale=1.0,
            ncc=0.0,
            overlap=0.0,
            ok=False,
            reason=f"frame sizes differ: {ref.shape[1]}x{ref.shape[0]} vs {mov.shape[1]}x{mov.shape[0]}",
            centre=centre,
        )
    factor = 2 if min(ref.shape) >= 128 and max(ref.shape) > 256 else 1
    g_ref = _prepare(ref, reference_valid, factor)
    g_mov = _prepare(mov, moving_valid, factor)
    window = np.outer(np.hanning(g_ref.shape[0]), np.hanning(g_ref.shape[1])).astype(np.float32)

    best = (-math.inf, 0.0, 0.0, 0.0, 1.0)
    for angle in _grid(max_rotation_deg, rotation_step_deg):
        for ds in _grid(max_scale_change, scale_step):
            warped = g_ref if angle == 0 and ds == 0 else _warp(g_ref, angle_deg=angle, scale=1.0 + ds)
            dx, dy, peak = _phase_correlate(warped, g_mov, window)
            if peak > best[0]:
                best = (peak, dx, dy, angle, 1.0 + ds)
    _, dx, dy, angle, scale = best
    dx *= factor
    dy *= factor

    full_ref = _prepare(ref, reference_valid, 1)
    full_mov = _prepare(mov, moving_valid, 1)
    aligned = _warp(full_ref, angle_deg=angle, scale=scale, shift=(dx, dy))
    coverage = _warp(np.ones_like(full_ref), angle_deg=angle, scale=scale, shift=(dx, dy)) > 0.99
    border = 3
    coverage[:border] = coverage[-border:] = False
    coverage[:, :border] = coverage[:, -border:] = False
    overlap = float(np.count_nonzero(coverage)) / coverage.size
    ncc = _ncc(aligned, full_mov, coverage)
    ok = ncc >= min_ncc and overlap >= min_overlap
    if ok:
        reason = ""
    elif overlap < min_overlap:
        reason = f"frames overlap only {overlap:.0%} after alignment (need {min_overlap:.0%})"
    else:
        reason = f"frames do not match: gradient NCC {ncc:.2f} < {min_ncc:.2f}"
    return Alignment(
        dx=dx,
        dy=dy,
        rotation_deg=angle,
        scale=scale,
        ncc=ncc,
        overlap=overlap,
        ok=ok,
        reason=reason,
        centre=centre,
    )


def require_alignment(alignment: Alignment) -> Alignment:
    """Return ``alignment`` if it succeeded; raise :class:`AnalysisError` otherwise."""
    if not alignment.ok:
        msg = f"cannot re-register the preset: {alignment.reason}"
        raise AnalysisError(msg)
    return alignment
