"""Edge test helpers: small °C matrices that grade as wanted, and a ready agent on a temporary outbox."""

from __future__ import annotations

import io

import numpy as np


def hot_npy(peak_c: float, *, seed: int = 0, shape: tuple[int, int] = (120, 160)) -> bytes:
    """A °C matrix (NPY) at about 25 °C with one 10×10 spot at ``peak_c``.

    With DL/T 664-2016 in automatic mode a 200 °C spot grades critical, a 60 °C one normal.
    ``seed`` varies the background so that equal peaks still give different files.
    """
    rng = np.random.default_rng(seed)
    a = rng.normal(25.0, 0.3, size=shape).astype(np.float32)
    a[50:60, 70:80] = peak_c
    buf = io.BytesIO()
    np.save(buf, a)
    return buf.getvalue()
