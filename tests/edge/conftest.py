"""Edge test helpers: small °C matrices that grade as wanted, and a ready agent on a temporary outbox."""

from __future__ import annotations

import io

import numpy as np


def hot_npy(
    peak_c: float, *, seed: int = 0, shape: tuple[int, int] = (120, 160), at: tuple[int, int] | None = None
) -> bytes:
    """A °C matrix (NPY) at about 25 °C with one hot spot peaking at ``peak_c``.

    The spot has a Gaussian profile (σ 6 px), as a real hot joint has: the hot-spot detector
    looks for local excess over the structure around it, and a flat plateau is not one.
    With DL/T 664-2016 in automatic mode a 200 °C spot grades critical, a 60 °C one normal.
    ``seed`` varies the background (and, without ``at``, the spot's place: row, column) so
    that equal peaks still give different files.
    """
    rng = np.random.default_rng(seed)
    rows, cols = shape
    a = rng.normal(25.0, 0.3, size=shape)
    y, x = at if at is not None else (int(rng.integers(20, rows - 20)), int(rng.integers(20, cols - 20)))
    yy, xx = np.mgrid[:rows, :cols]
    a += (peak_c - 25.0) * np.exp(-((yy - y) ** 2 + (xx - x) ** 2) / (2 * 6.0**2))
    buf = io.BytesIO()
    np.save(buf, a.astype(np.float32))
    return buf.getvalue()
