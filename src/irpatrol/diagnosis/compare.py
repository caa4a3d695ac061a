"""Comparisons for grading: T1 (hot spot), T2 (normal corresponding point), T0 (ambient).

The quantities of DL/T 664 "relative temperature difference" grading, all from
plain numbers:

* temperature rise ``T1 - T0`` (K),
* temperature difference ``ΔT = T1 - T2`` (K),
* relative temperature difference ``δ = (T1 - T2) / (T1 - T0) × 100 %``.

With configured phase regions the hottest phase gives T1 and the *coolest*
other phase gives T2: the normal phase is the one not heated by the defect, and
comparing against the coolest keeps a second faulty phase from masking the
first.  Every pairwise comparison is kept as well.  Without configuration
:func:`auto_reference` picks T2 from similar warm structures in the frame, or
the frame background, and says which it used.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from irpatrol.diagnosis.hotspots import HotSpot
from irpatrol.errors import ParameterError
from irpatrol.thermal.measure import RegionStats


@dataclass(frozen=True, kw_only=True)
class Comparison:
    """One T1/T2/T0 comparison and the quantities derived from it.

    ``hot_label`` and ``reference_label`` name what T1 and T2 came from (a phase
    id or ``"spot 3"``; ``None`` without T2); ``reference_source`` is ``"phase"``,
    ``"similar-region"`` or ``"none"``; ``ambient_source`` is
    ``"region"``, ``"given"``, ``"background"`` or ``"none"``.  Temperatures °C,
    differences K, ``delta_pct`` per cent; ``None`` where not computable.
    """

    t1_c: float
    t2_c: float | None
    t0_c: float | None
    hot_label: str
    reference_label: str | None
    reference_source: str
    ambient_source: str
    pairs: tuple[tuple[str, str, float | None], ...] = ()
    """``(hot, other, δ %)`` for every other phase."""

    @property
    def rise_k(self) -> float | None:
        """Temperature rise ``T1 - T0`` (K)."""
        return None if self.t0_c is None else self.t1_c - self.t0_c

    @property
    def delta_t_k(self) -> float | None:
        """Temperature difference ``T1 - T2`` (K)."""
        return None if self.t2_c is None else self.t1_c - self.t2_c

    @property
    def delta_pct(self) -> float | None:
        """Relative temperature difference δ (%)."""
        return relative_difference_pct(self.t1_c, self.t2_c, self.t0_c)

    def to_dict(self) -> dict[str, object]:
        """Plain JSON-ready dict."""

        def r(x: float | None) -> float | None:
            return None if x is None else round(x, 2)

        return {
            "t1_c": r(self.t1_c),
            "t2_c": r(self.t2_c),
            "t0_c": r(self.t0_c),
            "rise_k": r(self.rise_k),
            "delta_t_k": r(self.delta_t_k),
            "delta_pct": r(self.delta_pct),
            "hot": self.hot_label,
            "reference": self.reference_label,
            "reference_source": self.reference_source,
            "ambient_source": self.ambient_source,
            "pairs": [{"hot": h, "other": o, "delta_pct": r(d)} for h, o, d in self.pairs],
        }


def relative_difference_pct(t1_c: float, t2_c: float | None, t0_c: float | None) -> float | None:
    """δ = (T1 − T2) / (T1 − T0) × 100 (%); ``None`` if T2/T0 unknown or T1 <= T0.

    >>> relative_difference_pct(80.0, 40.0, 30.0)
    80.0
    """
    if t2_c is None or t0_c is None:
        return None
    rise = t1_c - t0_c
    if not (math.isfinite(rise) and rise > 0):
        return None
    return (t1_c - t2_c) / rise * 100.0


def compare_phases(
    phases: Mapping[str, RegionStats],
    *,
    ambient: RegionStats | None = None,
    ambient_c: float | None = None,
    background_c: float | None = None,
) -> Comparison:
    """Compare phase regions: T1 = hottest phase max, T2 = coolest other phase max.

    Parameters
    ----------
    phases : mapping of phase id to RegionStats
        At least one phase with a valid pixel.  Phases without valid pixels are
        left out of the comparison.
    ambient : RegionStats, optional
        An ambient reference region; its mean is T0 (°C).
    ambient_c : float, optional
        A given ambient temperature (°C), used when ``ambient`` is absent.
    background_c : float, optional
        The frame background (°C), the last resort for T0.
    """
    measured = {k: s.max_c for k, s in phases.items() if s.max_c is not None}
    if not measured:
        raise ParameterError("phases", sorted(phases), "at least one region with a valid pixel")
    t0, t0_source = _ambient(ambient, ambient_c, background_c)
    hot = max(measured, key=lambda k: measured[k])
    t1 = measured[hot]
    others = {k: v for k, v in measured.items() if k != hot}
    if not others:
        return Comparison(
            t1_c=t1,
            t2_c=None,
            t0_c=t0,
            hot_label=hot,
            reference_label=None,
            reference_source="none",
            ambient_source=t0_source,
        )
    ref = min(others, key=lambda k: others[k])
    pairs = tuple((hot, k, relative_difference_pct(t1, v, t0)) for k, v in sorted(others.items()))
    return Comparison(
        t1_c=t1,
        t2_c=others[ref],
        t0_c=t0,
        hot_label=hot,
        reference_label=ref,
        reference_source="phase",
        ambient_source=t0_source,
        pairs=pairs,
    )


def _ambient(
    ambient: RegionStats | None, ambient_c: float | None, background_c: float | None
) -> tuple[float | None, str]:
    if ambient is not None and ambient.mean_c is not None:
        return ambient.mean_c, "region"
    if ambient_c is not None:
        if not math.isfinite(ambient_c):
            raise ParameterError("ambient_c", ambient_c, "a finite temperature (°C)")
        return float(ambient_c), "given"
    if background_c is not None and math.isfinite(background_c):
        return float(background_c), "background"
    return None, "none"


def auto_reference(
    spot: HotSpot,
    spots: Sequence[HotSpot],
    *,
    background_c: float,
    ambient_c: float | None = None,
    size_ratio: float = 2.0,
    aspect_ratio: float = 1.6,
    max_distance: float | None = None,
    max_background_diff_k: float | None = None,
) -> Comparison:
    """Choose T2 for ``spot`` without configuration.

    A *similar region* is another detected warm structure whose area is within a
    factor ``size_ratio`` of the spot's and whose bounding-box aspect ratio is
    within a factor ``aspect_ratio`` — typically the same part on another phase.
    The coolest similar region gives T2 (its peak, °C).  Without one there is no
    T2 (``reference_source`` ``"none"``): a spot's own surroundings are not the
    "normal corresponding point" of DL/T 664 §8.2, so δ is not computed and grading
    falls back to the surface temperature; the spot's excess over its local
    background stays in the hot-spot record.  T0 is ``ambient_c`` when given, else
    the frame background ``background_c`` (°C).

    The reference must be the same kind of structure nearby (the same conductor, the
    parallel phase), not a similar-looking part elsewhere in the frame:
    ``max_distance`` (in spot sizes, the larger side of the spot's box) limits how far
    its centroid may be, and ``max_background_diff_k`` how much its own ring background
    ``background_c`` (the structure it sits on, K) may differ; ``None`` leaves either
    unchecked.  Spots never lie in the sky, so neither does T2.
    """
    if size_ratio < 1 or aspect_ratio < 1:
        raise ParameterError("size_ratio/aspect_ratio", (size_ratio, aspect_ratio), "factors >= 1")
    t0, t0_source = _ambient(None, ambient_c, background_c)

    def aspect(s: HotSpot) -> float:
        return s.width_px / s.height_px

    def near(s: HotSpot) -> bool:
        if max_distance is not None:
            reach = max_distance * max(spot.width_px, spot.height_px, 1)
            dx = s.centroid_xy[0] - spot.centroid_xy[0]
            dy = s.centroid_xy[1] - spot.centroid_xy[1]
            if math.hypot(dx, dy) > reach:
                return False
        return (
            max_background_diff_k is None or abs(s.background_c - spot.background_c) <= max_background_diff_k
        )

    similar = [
        s
        for s in spots
        if s is not spot
        and s.rank != spot.rank
        and s.peak_c <= spot.peak_c
        and 1 / size_ratio <= s.area_px / spot.area_px <= size_ratio
        and 1 / aspect_ratio <= aspect(s) / aspect(spot) <= aspect_ratio
        and near(s)
    ]
    label = f"spot {spot.rank}"
    if similar:
        ref = min(similar, key=lambda s: s.peak_c)
        pairs = tuple(
            (label, f"spot {s.rank}", relative_difference_pct(spot.peak_c, s.peak_c, t0)) for s in similar
        )
        return Comparison(
            t1_c=spot.peak_c,
            t2_c=ref.peak_c,
            t0_c=t0,
            hot_label=label,
            reference_label=f"spot {ref.rank}",
            reference_source="similar-region",
            ambient_source=t0_source,
            pairs=pairs,
        )
    return Comparison(
        t1_c=spot.peak_c,
        t2_c=None,
        t0_c=t0,
        hot_label=label,
        reference_label=None,
        reference_source="none",
        ambient_source=t0_source,
    )
