"""Hot-spot detection that needs no configuration.

The background is modelled robustly from the frame itself: its median temperature
and a noise scale from the median absolute deviation (MAD, scaled to a standard
deviation).  Pixels warmer than ``median + max(min_excess_k, k_sigma * noise)``, or
standing out as much from a large-window median background (so a warm part on
a warm object is seen), form candidate regions (8-connected); regions smaller than ``min_area_px`` are
noise.  Each region's excess is its peak minus the median of a ring of
surrounding cooler pixels (its *local* background), so a warm object on a warm
wall is judged against the wall, not the whole frame.  Regions whose excess is
below ``min_excess_k`` are dropped; the rest are ranked by peak temperature, then
by excess.

NaN and invalid pixels never take part, and their number is reported.

>>> import numpy as np
>>> t = np.full((20, 20), 20.0, dtype=np.float32)
>>> t[5:8, 10:13] = 35.0
>>> r = find_hotspots(t)
>>> [(s.peak_xy, s.peak_c, s.area_px) for s in r.spots]
[((10, 5), 35.0, 9)]
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt
from scipy import ndimage

from irpatrol.errors import ParameterError

MAD_TO_SIGMA = 1.4826
"""Scale from the median absolute deviation to a Gaussian standard deviation."""

_SAMPLE_TARGET = 20_000
_EIGHT = np.ones((3, 3), dtype=bool)


@dataclass(frozen=True, kw_only=True)
class HotSpot:
    """One connected warm region.

    ``peak_xy`` and ``centroid_xy`` are ``(x, y)`` px; ``bbox`` is ``(left, top,
    right, bottom)`` px, right/bottom exclusive.  ``excess_k`` is peak minus the
    local background ``background_c``.
    """

    rank: int
    peak_c: float
    peak_xy: tuple[int, int]
    mean_c: float
    area_px: int
    excess_k: float
    background_c: float
    bbox: tuple[int, int, int, int]
    centroid_xy: tuple[float, float]

    @property
    def width_px(self) -> int:
        """Width of the bounding box (px)."""
        return self.bbox[2] - self.bbox[0]

    @property
    def height_px(self) -> int:
        """Height of the bounding box (px)."""
        return self.bbox[3] - self.bbox[1]

    def to_dict(self) -> dict[str, object]:
        """Plain JSON-ready dict."""
        return {
            "rank": self.rank,
            "peak_c": round(self.peak_c, 2),
            "x": self.peak_xy[0],
            "y": self.peak_xy[1],
            "mean_c": round(self.mean_c, 2),
            "area_px": self.area_px,
            "excess_k": round(self.excess_k, 2),
            "background_c": round(self.background_c, 2),
            "bbox": list(self.bbox),
        }


@dataclass(frozen=True, kw_only=True)
class HotSpotResult:
    """The detected spots (best first) and the background model used (°C, K)."""

    spots: tuple[HotSpot, ...]
    background_c: float
    noise_k: float
    threshold_c: float
    n_excluded: int
    labels: npt.NDArray[np.int32] = field(repr=False)
    """Label image: 0 background, ``k`` the pixels of candidate region ``k`` (not the rank)."""
    spot_labels: tuple[int, ...] = ()
    """For each spot, its label in :attr:`labels`."""


def _validate_positive(name: str, value: float, *, allow_zero: bool = False) -> None:
    ok = math.isfinite(value) and (value >= 0 if allow_zero else value > 0)
    if not ok:
        raise ParameterError(name, value, "a finite number " + (">= 0" if allow_zero else "> 0"))


def background_model(celsius: npt.NDArray[np.floating], valid: npt.NDArray[np.bool_]) -> tuple[float, float]:
    """Robust ``(median °C, noise K)`` of the valid pixels (noise = 1.4826 MAD).

    Large frames are sampled on a regular grid of at most 20 000 pixels, which
    changes the median by far less than the sensor noise.
    """
    stride = max(1, math.ceil(math.sqrt(celsius.size / _SAMPLE_TARGET)))
    sub = celsius[::stride, ::stride]
    vals = sub[valid[::stride, ::stride]]
    vals = vals[np.isfinite(vals)]
    if vals.size == 0:
        vals = celsius[valid & np.isfinite(celsius)]
    if vals.size == 0:
        return math.nan, math.nan
    med = float(np.median(vals))
    mad = float(np.median(np.abs(vals - med)))
    return med, MAD_TO_SIGMA * mad


def local_background(
    celsius: npt.NDArray[np.floating],
    valid: npt.NDArray[np.bool_],
    *,
    window_px: int,
    fill_c: float,
) -> tuple[npt.NDArray[np.float32], int]:
    """A large-scale background (°C) on a coarse grid, and the grid's block size (px).

    The frame is averaged in square blocks (a power of two near ``window_px / 7``
    px), and the block means are median-filtered over 7 blocks.  Pixel ``(r, c)``
    has background ``grid[r // block, c // block]``.  Invalid pixels count as
    ``fill_c``.
    """
    rows, cols = celsius.shape
    block = 1 << max(0, int(math.log2(max(1, window_px // 7))))
    size = max(3, min(7, (window_px // block) | 1))
    filled = np.where(valid, celsius, np.float32(fill_c)).astype(np.float32, copy=False)
    rb, cb = -(-rows // block), -(-cols // block)
    if rb * block != rows or cb * block != cols:
        filled = np.pad(filled, ((0, rb * block - rows), (0, cb * block - cols)), mode="edge")
    small = filled.reshape(rb, block, cb, block).mean(axis=(1, 3), dtype=np.float32)
    grid: npt.NDArray[np.float32] = ndimage.median_filter(small, size=size, mode="nearest")
    return grid, block


def _exceeds_local(
    celsius: npt.NDArray[np.floating], grid: npt.NDArray[np.float32], block: int, limit_k: float
) -> npt.NDArray[np.bool_]:
    """``celsius - background > limit_k`` at full resolution without expanding the grid."""
    rows, cols = celsius.shape
    rb, cb = grid.shape
    out = np.zeros((rb * block, cb * block), dtype=bool)
    full_r, full_c = rows // block, cols // block
    view = out[: full_r * block, : full_c * block].reshape(full_r, block, full_c, block)
    src = celsius[: full_r * block, : full_c * block].reshape(full_r, block, full_c, block)
    np.greater(src, grid[:full_r, None, :full_c, None] + np.float32(limit_k), out=view)
    # ragged right and bottom edges, if any
    if full_c * block < cols:
        bg = np.repeat(grid[:, full_c:], block, axis=0)[:rows]
        bg = np.repeat(bg, block, axis=1)[:, : cols - full_c * block]
        out[:rows, full_c * block : cols] = celsius[:, full_c * block :] > bg + limit_k
    if full_r * block < rows:
        bg = np.repeat(grid[full_r:, :], block, axis=1)[:, :cols]
        bg = np.repeat(bg, block, axis=0)[: rows - full_r * block]
        out[full_r * block : rows, :cols] = celsius[full_r * block :, :] > bg + limit_k
    result: npt.NDArray[np.bool_] = out[:rows, :cols]
    return result


def find_hotspots(
    celsius: npt.ArrayLike,
    *,
    valid: npt.ArrayLike | None = None,
    min_excess_k: float = 2.0,
    k_sigma: float = 3.0,
    min_area_px: int = 4,
    ring_px: int = 4,
    max_spots: int = 10,
    window_px: int | None = None,
) -> HotSpotResult:
    """Find warm regions that stand out from the background, best first.

    Parameters
    ----------
    celsius : ndarray of shape (M, N)
        Temperatures, °C.
    valid : ndarray of bool, optional
        Validity mask; NaN pixels are excluded as well.
    min_excess_k : float
        Least excess (K) over the frame median to be a candidate and over the
        local background to be kept.  Default 2 K, well above the NETD of any
        inspection camera.
    k_sigma : float
        Candidates must also exceed the median by ``k_sigma`` robust noise
        standard deviations (default 3).
    min_area_px : int
        Smaller regions are discarded as noise or dead pixels (default 4 px).
    ring_px : int
        Width (px) of the ring around a region whose median is its local background.
    max_spots : int
        At most this many spots are returned.
    window_px : int, optional
        Size (px) of the local-background median window; default a quarter of
        the shorter image side, at least 15 px.  Pixels exceeding the local
        background by ``max(min_excess_k, k_sigma * local noise)`` are candidates
        too, so small warm parts on a large warm object are found.
    """
    _validate_positive("min_excess_k", min_excess_k, allow_zero=True)
    _validate_positive("k_sigma", k_sigma, allow_zero=True)
    if not isinstance(min_area_px, int) or min_area_px < 1:
        raise ParameterError("min_area_px", min_area_px, "an integer >= 1 (px)")
    if not isinstance(ring_px, int) or ring_px < 1:
        raise ParameterError("ring_px", ring_px, "an integer >= 1 (px)")
    if not isinstance(max_spots, int) or max_spots < 1:
        raise ParameterError("max_spots", max_spots, "an integer >= 1")
    t = np.asarray(celsius)
    if t.ndim != 2 or t.size == 0:
        raise ParameterError("celsius", t.shape, "a non-empty 2-D temperature array (°C)")
    finite = np.isfinite(t)
    v = finite if valid is None else (np.asarray(valid, dtype=bool) & finite)
    if v.shape != t.shape:
        raise ParameterError("valid", v.shape, f"a bool mask of the image's shape {t.shape}")
    n_excluded = int(v.size - np.count_nonzero(v))

    med, noise = background_model(t, v)
    empty = np.zeros(t.shape, dtype=np.int32)
    if not math.isfinite(med):
        return HotSpotResult(
            spots=(),
            background_c=med,
            noise_k=noise,
            threshold_c=math.nan,
            n_excluded=n_excluded,
            labels=empty,
        )
    threshold = med + max(min_excess_k, k_sigma * noise)
    window = window_px if window_px is not None else max(15, min(t.shape) // 4)
    grid, block = local_background(t, v, window_px=window, fill_c=med)
    stride = max(1, math.ceil(math.sqrt(t.size / _SAMPLE_TARGET)))
    rs = np.arange(0, t.shape[0], stride)
    cs = np.arange(0, t.shape[1], stride)
    resid = t[np.ix_(rs, cs)] - grid[np.ix_(rs // block, cs // block)]
    rv = v[np.ix_(rs, cs)]
    _, local_noise = background_model(resid, rv)
    local_thr = max(min_excess_k, k_sigma * local_noise) if math.isfinite(local_noise) else min_excess_k
    with np.errstate(invalid="ignore"):
        hot = _exceeds_local(t, grid, block, local_thr)
        hot |= t > threshold
        hot &= v
    raw_labels, n = ndimage.label(hot, structure=_EIGHT)
    labels: npt.NDArray[np.int32] = np.asarray(raw_labels, dtype=np.int32)
    if n == 0:
        return HotSpotResult(
            spots=(),
            background_c=med,
            noise_k=noise,
            threshold_c=threshold,
            n_excluded=n_excluded,
            labels=labels,
        )
    sizes = np.bincount(labels.ravel(), minlength=n + 1)
    objects = ndimage.find_objects(labels)
    candidates: list[tuple[float, int]] = []
    for k in range(1, n + 1):
        if sizes[k] < min_area_px:
            continue
        sl = objects[k - 1]
        if sl is None:
            continue
        sub = t[sl]
        peak = float(sub[labels[sl] == k].max())
        candidates.append((peak, k))
    candidates.sort(reverse=True)

    spots: list[HotSpot] = []
    spot_labels: list[int] = []
    rows_n, cols_n = t.shape
    for peak, k in candidates:
        if len(spots) >= max_spots:
            break
        sl = objects[k - 1]
        assert sl is not None
        r0 = max(sl[0].start - ring_px, 0)
        r1 = min(sl[0].stop + ring_px, rows_n)
        c0 = max(sl[1].start - ring_px, 0)
        c1 = min(sl[1].stop + ring_px, cols_n)
        lab = labels[r0:r1, c0:c1]
        sub = t[r0:r1, c0:c1]
        own = lab == k
        grown = ndimage.binary_dilation(own, structure=_EIGHT, iterations=ring_px)
        ring = grown & ~hot[r0:r1, c0:c1] & v[r0:r1, c0:c1]
        local_bg = float(np.median(sub[ring])) if ring.any() else med
        excess = peak - local_bg
        if excess < min_excess_k:
            continue
        vals = sub[own]
        idx = int(np.argmax(vals))
        rr, cc = np.nonzero(own)
        spots.append(
            HotSpot(
                rank=0,
                peak_c=peak,
                peak_xy=(int(cc[idx]) + c0, int(rr[idx]) + r0),
                mean_c=float(vals.mean(dtype=np.float64)),
                area_px=int(vals.size),
                excess_k=excess,
                background_c=local_bg,
                bbox=(sl[1].start, sl[0].start, sl[1].stop, sl[0].stop),
                centroid_xy=(float(cc.mean()) + c0, float(rr.mean()) + r0),
            )
        )
        spot_labels.append(k)
    order = sorted(range(len(spots)), key=lambda i: (-spots[i].peak_c, -spots[i].excess_k))
    ranked = tuple(HotSpot(**{**spots[i].__dict__, "rank": rank}) for rank, i in enumerate(order, start=1))
    return HotSpotResult(
        spots=ranked,
        background_c=med,
        noise_k=noise,
        threshold_c=threshold,
        n_excluded=n_excluded,
        labels=labels,
        spot_labels=tuple(spot_labels[i] for i in order),
    )
