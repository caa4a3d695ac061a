"""Sky and cold background: where a frame shows no equipment (pure).

Robots and drones looking up at outdoor equipment see the sky in most frames.  The sky
is *cold* (its apparent temperature is far below ambient on a clear day, and its
coldest parts are often below the camera's range), *smooth* (it has no edges, only a
slow gradient towards the horizon) and *large*.  Sky pixels must not take part in the
background a hot spot is judged against (a sun-warmed crossarm is not "+40 K" over the
sky), nor in hot-spot regions or reference (T2) candidates.

How :func:`sky_mask` decides, on a grid of ``block``-px squares:

1. *smooth* blocks: standard deviation of the block's valid pixels at most
   ``max(smooth_k, 4 × the 10th percentile of all block deviations)`` — the sensor's
   own noise floor sets the scale, so a noisy camera is not penalised;
2. *seeds*: smooth blocks colder than ``warm - contrast_k`` (default 15 K), where
   ``warm`` is the larger of the 75th percentile of the block means and the median of
   the textured blocks (so a frame that is mostly sky still compares with its
   structure) or, when the ambient temperature is known, colder than ``ambient_c - 5 K``;
3. the sky is every connected region (4-neighbours) of smooth blocks no warmer than
   the textured blocks' median minus 2 K (without textured blocks: ``warm -
   contrast_k / 2``) that holds a seed;
4. at pixel level, blocks touching the sky (the skyline, where structure and sky
   share a block) give their pixels no warmer than the neighbouring sky plus 2 K to the
   sky as well; pixels flagged invalid whose value is colder than every valid pixel
   (below the camera's range) are sky too.

Indoor frames (panels, cabinets, walls at room temperature) have no block 15 K colder
than their warm part and are left alone.

>>> import numpy as np
>>> t = np.full((64, 64), -20.0, dtype=np.float32)     # clear sky
>>> t[32:, :] = 15.0 + np.tile([0.0, 0.0, 1.5, 1.5], 16)  # a textured structure below
>>> m = sky_mask(t, np.ones(t.shape, dtype=bool))
>>> bool(m[:30].all()), bool(m[34:].any())
(True, False)
"""

from __future__ import annotations

import math

import numpy as np
import numpy.typing as npt
from scipy import ndimage

_FOUR = ndimage.generate_binary_structure(2, 1)
MIN_TEXTURED = 0.05
"""Least share of textured blocks for them to stand for the frame's structure (see step 2)."""


def _block_stats(
    celsius: npt.NDArray[np.floating], valid: npt.NDArray[np.bool_], block: int, ref_c: float
) -> tuple[npt.NDArray[np.float32], npt.NDArray[np.float32], npt.NDArray[np.float32]]:
    """Per block: valid-pixel count, mean (°C) and standard deviation (K); NaN where empty.

    Sums are taken in float32 on ``celsius - ref_c`` so that the squares stay small.
    """
    rows, cols = celsius.shape
    rb, cb = rows // block, cols // block
    t = celsius[: rb * block, : cb * block]
    v = valid[: rb * block, : cb * block]
    tv = np.where(v, t - np.float32(ref_c), np.float32(0.0)).astype(np.float32, copy=False)

    def bsum(a: npt.NDArray[np.float32]) -> npt.NDArray[np.float32]:
        rows_sum = a.reshape(rb, block, cb * block).sum(axis=1, dtype=np.float32)
        out: npt.NDArray[np.float32] = rows_sum.reshape(rb, cb, block).sum(axis=2, dtype=np.float32)
        return out

    n = bsum(v.astype(np.float32))
    s1 = bsum(tv)
    np.multiply(tv, tv, out=tv)
    s2 = bsum(tv)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = s1 / n
        std = np.sqrt(np.maximum(s2 / n - mean * mean, np.float32(0.0)))
    return n, mean + np.float32(ref_c), std


def sky_mask(
    celsius: npt.ArrayLike,
    valid: npt.ArrayLike,
    *,
    ambient_c: float | None = None,
    block: int | None = None,
    contrast_k: float = 15.0,
    smooth_k: float = 0.5,
) -> npt.NDArray[np.bool_]:
    """Pixels showing the sky (or another cold, smooth, featureless background).

    Parameters
    ----------
    celsius : ndarray of shape (M, N)
        Temperatures, °C (invalid pixels may hold any value, NaN included).
    valid : ndarray of bool, shape (M, N)
        Validity mask (False where NaN or outside the camera's calibrated range).
    ambient_c : float, optional
        Air temperature (°C); smooth areas more than 5 K below it seed the sky.
    block : int, optional
        Grid size (px); default 8 px for frames of 200 px or more (short side), else 4.
    contrast_k : float
        How much colder (K) than the frame's warm part (75th percentile of block
        means) a smooth block must be to seed the sky without an ambient value.
    smooth_k : float
        Least texture threshold (K, block standard deviation) for "smooth".

    Returns
    -------
    ndarray of bool, shape (M, N)
        True where the pixel is sky.  See the module docstring for the method.
    """
    t = np.asarray(celsius)
    v = np.asarray(valid, dtype=bool) & np.isfinite(t)
    out = np.zeros(t.shape, dtype=bool)
    if not v.any():
        return out
    # below the camera's range: invalid but finite and colder than every valid pixel
    all_valid = bool(v.all())
    vmin = float(t.min()) if all_valid else float(np.min(t, where=v, initial=np.inf))
    if not all_valid:
        with np.errstate(invalid="ignore"):
            out |= ~v & np.isfinite(t) & (t < vmin)
    b = block if block is not None else (8 if min(t.shape) >= 200 else 4)
    rows, cols = t.shape
    if rows < 3 * b or cols < 3 * b:
        return out
    # block statistics from every other row and column: 16 samples per 8-px block
    # estimate the texture well enough and cost a quarter
    sb = 2 if b >= 4 else 1
    n, mean, std = _block_stats(t[::sb, ::sb], v[::sb, ::sb], b // sb, vmin)
    rb, cb = rows // b, cols // b
    n, mean, std = n[:rb, :cb], mean[:rb, :cb], std[:rb, :cb]
    ok = n >= 0.5 * (b // sb) ** 2
    if np.count_nonzero(ok) < 9:
        return out
    floor = float(np.percentile(std[ok], 10))
    smooth = ok & (std <= max(smooth_k, 4.0 * floor))
    textured = ok & ~smooth
    # the warm part of the frame; the median of its textured (structure) blocks too, so
    # that a frame that is mostly sky still has a structure to compare with
    warm = float(np.percentile(mean[ok], 75))
    # the textured blocks speak for a structure only when there are enough of them: the
    # rim of one hot object on a uniform wall is textured too, and must not turn the wall
    # into "sky" (that hid a 210 °C plateau on a 25 °C background entirely)
    structure_like = textured if np.count_nonzero(textured) >= MIN_TEXTURED * np.count_nonzero(ok) else None
    if structure_like is not None:
        warm = max(warm, float(np.median(mean[structure_like])))
    seed_c = warm - contrast_k
    if ambient_c is not None and math.isfinite(ambient_c):
        seed_c = max(seed_c, ambient_c - 5.0)
    with np.errstate(invalid="ignore"):
        seeds = smooth & (mean < seed_c)
    if not seeds.any():
        return out
    ceiling = (
        float(np.median(mean[structure_like])) - 2.0 if structure_like is not None else warm - contrast_k / 2
    )
    with np.errstate(invalid="ignore"):
        cand = smooth & (mean <= max(ceiling, seed_c))
    lab, _ = ndimage.label(cand, structure=_FOUR)
    keep = np.unique(lab[seeds & cand])
    keep = keep[keep > 0]
    if keep.size == 0:
        return out
    sky_blocks = np.isin(lab, keep)
    # skyline: blocks next to sky keep their pixels no warmer than the nearby sky + 2 K
    sky_mean = np.where(sky_blocks, mean, -np.inf).astype(np.float32)
    limit = ndimage.maximum_filter(sky_mean, size=3, mode="constant", cval=-np.inf) + np.float32(2.0)
    limit[sky_blocks] = np.inf
    sub = np.zeros((rb * b, cb * b), dtype=bool)
    view = sub.reshape(rb, b, cb, b)
    tt = t[: rb * b, : cb * b].reshape(rb, b, cb, b)
    vv = v[: rb * b, : cb * b].reshape(rb, b, cb, b)
    with np.errstate(invalid="ignore"):
        np.less_equal(tt, limit[:, None, :, None], out=view)
    view &= vv
    out[: rb * b, : cb * b] |= sub
    return out
