"""Judgment over time for one inspection point: robust trend, step change and projection.

The automated form of DL/T 664-2008's 档案分析判断法 (compare the same equipment
across periods) and of the continuous-monitoring idea of DL/T 664-2016 §8.6: a point's
load-normalised temperature rise (K over ambient, corrected to rated load) is followed
patrol by patrol and a warning is raised *before* a grading threshold is reached.

Pure functions on plain data (numpy only, no I/O).  The methods, all robust to one
outlier:

* **Theil–Sen slope** (median of pairwise slopes, K/day) over the last ``window``
  patrols, with **Sen's nonparametric confidence interval**: with N pairwise slopes
  and Var(S) = [n(n−1)(2n+5) − Σ t(t−1)(2t+5)]/18 (Kendall's S, ties t),
  C = z₁₋α/₂·√Var(S), the bounds are the ((N − C)/2)-th and ((N + C)/2 + 1)-th
  ordered slopes (Sen 1968; Gilbert 1987, §16.5).
* **Robust noise** σ = 1.4826·MAD of the residuals about the Theil–Sen line
  (at least ``noise_floor_k``).
* ``rising-trend``: the slope's CI lies above 0, the fitted rise over the window is at
  least ``min_change_k``, and the last value exceeds the window's earlier values by more
  than ``band_k``·σ (median + band).
* ``step-change``: a level shift between consecutive patrols of more than ``step_k``
  robust deviations (σ from the MAD of the baseline's patrol-to-patrol differences / √2),
  confirmed by ``step_confirm`` patrols that all stay beyond half that distance, after at
  least ``min_history`` patrols of baseline; one outlier is never a step.
* ``projected-threshold``: while the point is still graded normal, the fitted line
  (slope CI above 0) reaches a threshold of the next grade (ΔT, rise, δ, or T1 = the
  latest ambient + rise) within ``horizon_days`` (or ``horizon_patrols`` × the median
  patrol interval).

Every warning carries by how much, since when and the findings it used.

Example:
    >>> from datetime import datetime, timedelta, UTC
    >>> t0 = datetime(2026, 1, 1, tzinfo=UTC)
    >>> pts = [SeriesPoint(i, t0 + timedelta(days=i), 10.0 + 0.5 * i) for i in range(12)]
    >>> a = analyse_trend({"rise_k": pts})
    >>> [w.code for w in a.warnings], round(a.trends["rise_k"].slope_per_day, 2)
    (['rising-trend'], 0.5)
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from itertools import pairwise
from statistics import NormalDist
from typing import Any

import numpy as np
import numpy.typing as npt

from irpatrol.diagnosis.grading import rated_load_factor
from irpatrol.errors import ParameterError

__all__ = [
    "Normalised",
    "QuantityTrend",
    "SeriesPoint",
    "Threshold",
    "TrendAnalysis",
    "TrendParams",
    "TrendWarning",
    "analyse_trend",
    "normalise_to_rated_load",
    "robust_sigma",
    "theil_sen",
]

MAD_TO_SIGMA = 1.4826
"""MAD × this = σ for normally distributed noise."""
QUANTITY_UNITS = {"rise_k": "K", "delta_t_k": "K", "delta_pct": "%", "hot_c": "°C"}
"""Quantities a series or a threshold can be of, and their units."""
F64 = npt.NDArray[np.float64]


@dataclass(frozen=True, kw_only=True)
class TrendParams:
    """Parameters of the analysis (documented defaults; the server reads ``IRPATROL_TREND_*``).

    ``window`` patrols are fitted (the latest ones); ``min_history`` patrols are needed before
    any warning; ``confidence`` is the two-sided level of Sen's slope interval; ``band_k``,
    ``step_k`` are multiples of the robust σ (K); ``step_confirm`` patrols confirm a step;
    ``noise_floor_k`` (K) bounds σ from below (a camera's patrol-to-patrol repeatability);
    ``min_change_k`` (K) is the least fitted rise over the window worth a warning;
    ``horizon_days`` (days) or, when set, ``horizon_patrols`` (× the median interval) is how
    far ahead a threshold crossing is warned.
    """

    window: int = 12
    min_history: int = 8
    confidence: float = 0.95
    band_k: float = 3.0
    step_k: float = 5.0
    step_confirm: int = 2
    noise_floor_k: float = 0.5
    min_change_k: float = 1.0
    horizon_days: float = 30.0
    horizon_patrols: int | None = None

    def __post_init__(self) -> None:
        if self.min_history < 3:
            raise ParameterError("min_history", self.min_history, "an integer ≥ 3 (patrols)")
        if self.window < self.min_history:
            raise ParameterError("window", self.window, f"an integer ≥ min_history ({self.min_history})")
        if not 0.5 <= self.confidence < 1.0:
            raise ParameterError("confidence", self.confidence, "a level in [0.5, 1)")
        if self.step_confirm < 1:
            raise ParameterError("step_confirm", self.step_confirm, "an integer ≥ 1 (patrols)")
        for name in ("band_k", "step_k", "noise_floor_k", "horizon_days"):
            v = getattr(self, name)
            if not (math.isfinite(v) and v > 0):
                raise ParameterError(name, v, "a finite number > 0")
        if not (math.isfinite(self.min_change_k) and self.min_change_k >= 0):
            raise ParameterError("min_change_k", self.min_change_k, "a finite number ≥ 0 (K)")
        if self.horizon_patrols is not None and self.horizon_patrols < 1:
            raise ParameterError("horizon_patrols", self.horizon_patrols, "None or an integer ≥ 1")


@dataclass(frozen=True)
class SeriesPoint:
    """One patrol's value of a quantity: the finding it came from, when, and the value."""

    finding_id: int
    taken_at: datetime
    value: float


@dataclass(frozen=True, kw_only=True)
class Threshold:
    """A threshold of the next grade: ``quantity op value`` reaches ``level`` (rule ``rule_id``)."""

    quantity: str
    op: str
    value: float
    level: str
    rule_id: str


@dataclass(frozen=True, kw_only=True)
class QuantityTrend:
    """The Theil–Sen fit of one quantity over the window.

    Slopes in the quantity's unit per day and per patrol (× the median patrol interval);
    ``ci_low``/``ci_high`` bound the slope per day (``-inf``/``inf`` when the window is too
    short for the interval); ``fitted_last`` is the line at the last patrol; ``sigma`` the
    robust noise; ``change`` = slope × the window's span; ``first``/``last`` the window ends.
    """

    quantity: str
    n: int
    slope_per_day: float
    slope_per_patrol: float
    ci_low: float
    ci_high: float
    fitted_last: float
    sigma: float
    change: float
    interval_days: float
    first: SeriesPoint
    last: SeriesPoint

    @property
    def rising(self) -> bool:
        """Whether the slope's confidence interval lies above 0."""
        return self.ci_low > 0

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready (non-finite bounds as ``None``)."""

        def fin(x: float) -> float | None:
            return round(x, 5) if math.isfinite(x) else None

        return {
            "quantity": self.quantity,
            "unit": QUANTITY_UNITS.get(self.quantity, ""),
            "n": self.n,
            "slope_per_day": fin(self.slope_per_day),
            "slope_per_patrol": fin(self.slope_per_patrol),
            "ci_low_per_day": fin(self.ci_low),
            "ci_high_per_day": fin(self.ci_high),
            "fitted_last": fin(self.fitted_last),
            "sigma": fin(self.sigma),
            "change": fin(self.change),
            "interval_days": fin(self.interval_days),
            "since": self.first.taken_at.isoformat(),
            "since_finding_id": self.first.finding_id,
        }


@dataclass(frozen=True, kw_only=True)
class TrendWarning:
    """One early warning: ``code``, the quantity, by how much (``change``), since when, and evidence.

    ``points`` are the (finding id, time) of the patrols it used; ``details`` the numbers
    behind it (slope, interval, band, threshold, days to crossing ...), in the units their
    names say.
    """

    code: str
    quantity: str
    change: float
    since: datetime
    since_finding_id: int
    points: tuple[SeriesPoint, ...]
    details: Mapping[str, float | int | str | None] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready."""
        return {
            "code": self.code,
            "quantity": self.quantity,
            "unit": QUANTITY_UNITS.get(self.quantity, ""),
            "change": round(self.change, 3),
            "since": self.since.isoformat(),
            "since_finding_id": self.since_finding_id,
            "points": [{"finding_id": p.finding_id, "taken_at": p.taken_at.isoformat()} for p in self.points],
            "details": {k: (round(v, 4) if isinstance(v, float) else v) for k, v in self.details.items()},
        }


@dataclass(frozen=True, kw_only=True)
class TrendAnalysis:
    """Fits per quantity and the warnings; ``status`` ``"ok"`` or ``"insufficient-history"``."""

    status: str
    n: int
    min_history: int
    trends: Mapping[str, QuantityTrend]
    warnings: tuple[TrendWarning, ...]

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready."""
        return {
            "status": self.status,
            "n": self.n,
            "min_history": self.min_history,
            "trends": {q: t.to_dict() for q, t in self.trends.items()},
            "warnings": [w.to_dict() for w in self.warnings],
        }


@dataclass(frozen=True)
class Normalised:
    """A rise and ΔT on the rated-load basis (K), the factor used and whether it was applied.

    ``normalised`` is False where the load was unknown or below the minimum: the raw
    values are kept (not comparable with normalised ones).  Voltage-heating parts do not
    depend on load: their values are on the rated basis as measured (factor 1).
    """

    rise_k: float | None
    delta_t_k: float | None
    factor: float | None
    normalised: bool


def normalise_to_rated_load(
    rise_k: float | None,
    delta_t_k: float | None,
    *,
    load_ratio: float | None,
    heating: str | None,
    exponent: float = 2.0,
    min_load_ratio: float = 0.30,
) -> Normalised:
    """Correct a rise and ΔT (K) measured at ``load_ratio`` = I / I_rated to rated load.

    Current-heating (and unknown) parts: × (I_rated / I)^``exponent``
    (:func:`~irpatrol.diagnosis.grading.rated_load_factor`), only when the load is known and
    at least ``min_load_ratio`` (below it the factor amplifies noise and DL/T 664 asks for a
    retest).  Voltage-heating parts: unchanged, factor 1.

    >>> normalise_to_rated_load(5.0, 2.0, load_ratio=0.5, heating="current")
    Normalised(rise_k=20.0, delta_t_k=8.0, factor=4.0, normalised=True)
    >>> normalise_to_rated_load(5.0, 2.0, load_ratio=None, heating="current").normalised
    False
    """
    if heating == "voltage":
        return Normalised(rise_k, delta_t_k, 1.0, True)
    if load_ratio is None or not math.isfinite(load_ratio) or load_ratio < min_load_ratio or load_ratio <= 0:
        return Normalised(rise_k, delta_t_k, None, False)
    f = rated_load_factor(load_ratio, exponent)
    return Normalised(
        rise_k * f if rise_k is not None else None, delta_t_k * f if delta_t_k is not None else None, f, True
    )


def robust_sigma(x: npt.ArrayLike) -> float:
    """1.4826 × the median absolute deviation from the median (σ for normal noise; 0 for < 2 values)."""
    a = np.asarray(x, dtype=np.float64)
    if a.size < 2:
        return 0.0
    return float(MAD_TO_SIGMA * np.median(np.abs(a - np.median(a))))


def theil_sen(
    t: npt.ArrayLike, y: npt.ArrayLike, *, confidence: float = 0.95
) -> tuple[float, float, float, float]:
    """Theil–Sen slope and intercept of ``y`` over ``t`` with Sen's confidence interval.

    Returns ``(slope, intercept, low, high)``: ``y ≈ intercept + slope·t`` (intercept the
    median of ``y − slope·t``); ``low``/``high`` bound the slope at ``confidence`` (two-sided),
    ``-inf``/``inf`` where too few pairs exist.  Pairs with equal ``t`` are skipped.

    >>> s, b, lo, hi = theil_sen([0, 1, 2, 3, 4, 5, 6, 7], [1, 2, 3, 4, 50, 6, 7, 8])
    >>> s, b, lo > 0
    (1.0, 1.0, True)
    """
    tt = np.asarray(t, dtype=np.float64)
    yy = np.asarray(y, dtype=np.float64)
    n = tt.size
    if n != yy.size or n < 2:
        raise ParameterError("t, y", (tt.size, yy.size), "two sequences of the same length ≥ 2")
    i, j = np.triu_indices(n, k=1)
    dt = tt[j] - tt[i]
    keep = dt != 0
    if not keep.any():
        raise ParameterError("t", "all equal", "at least two different times")
    slopes = np.sort((yy[j] - yy[i])[keep] / dt[keep])
    slope = float(np.median(slopes))
    intercept = float(np.median(yy - slope * tt))
    n_pairs = slopes.size
    _, counts = np.unique(yy, return_counts=True)
    ties = float(np.sum(counts * (counts - 1) * (2 * counts + 5)))
    var_s = (n * (n - 1) * (2 * n + 5) - ties) / 18.0
    c = NormalDist().inv_cdf(0.5 + confidence / 2) * math.sqrt(max(var_s, 0.0))
    lo_rank, hi_rank = (n_pairs - c) / 2.0, (n_pairs + c) / 2.0 + 1.0  # 1-based ranks
    positions = np.arange(1, n_pairs + 1, dtype=np.float64)
    low = float(np.interp(lo_rank, positions, slopes)) if lo_rank >= 1 else -math.inf
    high = float(np.interp(hi_rank, positions, slopes)) if hi_rank <= n_pairs else math.inf
    return slope, intercept, low, high


def _days(points: Sequence[SeriesPoint]) -> F64:
    ref = points[0].taken_at
    return np.array([(p.taken_at - ref).total_seconds() / 86400.0 for p in points], dtype=np.float64)


def _fit(
    quantity: str, window: Sequence[SeriesPoint], params: TrendParams, history: Sequence[SeriesPoint]
) -> QuantityTrend:
    t = _days(window)
    y = np.array([p.value for p in window], dtype=np.float64)
    slope, intercept, low, high = theil_sen(t, y, confidence=params.confidence)
    resid = y - (intercept + slope * t)
    # the noise: residual MAD of the window, or (steadier on short windows) the MAD of the
    # patrol-to-patrol differences over up to 3 windows / √2, whichever is larger
    longer = np.array([p.value for p in history[-3 * params.window :]], dtype=np.float64)
    sigma = max(
        robust_sigma(resid),
        robust_sigma(np.diff(longer)) / math.sqrt(2.0),
        params.noise_floor_k if quantity != "delta_pct" else 0.0,
    )
    steps = np.diff(t)
    interval = float(np.median(steps[steps > 0])) if (steps > 0).any() else 0.0
    return QuantityTrend(
        quantity=quantity,
        n=len(window),
        slope_per_day=slope,
        slope_per_patrol=slope * interval,
        ci_low=low,
        ci_high=high,
        fitted_last=float(intercept + slope * t[-1]),
        sigma=sigma,
        change=float(slope * (t[-1] - t[0])),
        interval_days=interval,
        first=window[0],
        last=window[-1],
    )


def _rising(fit: QuantityTrend, window: Sequence[SeriesPoint], params: TrendParams) -> TrendWarning | None:
    earlier = np.array([p.value for p in window[:-1]], dtype=np.float64)
    centre = float(np.median(earlier))
    band = centre + params.band_k * fit.sigma
    last = window[-1].value
    if not (fit.rising and fit.change >= params.min_change_k and last > band):
        return None
    return TrendWarning(
        code="rising-trend",
        quantity=fit.quantity,
        change=last - centre,
        since=window[0].taken_at,
        since_finding_id=window[0].finding_id,
        points=tuple(window),
        details={
            "slope_per_day": fit.slope_per_day,
            "slope_per_patrol": fit.slope_per_patrol,
            "ci_low_per_day": fit.ci_low,
            "ci_high_per_day": fit.ci_high if math.isfinite(fit.ci_high) else None,
            "confidence": params.confidence,
            "fitted_change": fit.change,
            "history_median": centre,
            "band_high": band,
            "sigma": fit.sigma,
            "last": last,
        },
    )


def _step(quantity: str, points: Sequence[SeriesPoint], params: TrendParams) -> TrendWarning | None:
    y = np.array([p.value for p in points], dtype=np.float64)
    n = y.size
    best: tuple[float, int, float, float] | None = None  # (|change|, s, centre, sigma)
    for s in range(n - params.step_confirm, max(params.min_history, n - params.window) - 1, -1):
        base = y[max(0, s - params.window) : s]
        if base.size < params.min_history:
            continue
        floor = params.noise_floor_k if quantity != "delta_pct" else 0.0
        sigma = max(robust_sigma(np.diff(base)) / math.sqrt(2.0), floor)
        centre = float(np.median(base))
        post = y[s:]
        change = float(np.median(post)) - centre
        sign = 1.0 if change > 0 else -1.0
        if abs(change) <= params.step_k * sigma:
            continue
        if not np.all(sign * (post - centre) > params.step_k * sigma / 2):
            continue
        if sign * (y[s] - y[s - 1]) <= params.step_k * sigma / 2:
            continue
        if best is None or abs(change) >= best[0]:
            best = (abs(change), s, centre, sigma)
    if best is None:
        return None
    _, s, centre, sigma = best
    post_median = float(np.median(y[s:]))
    lo = max(0, s - params.window)
    return TrendWarning(
        code="step-change",
        quantity=quantity,
        change=post_median - centre,
        since=points[s].taken_at,
        since_finding_id=points[s].finding_id,
        points=tuple(points[lo:]),
        details={
            "before_median": centre,
            "after_median": post_median,
            "sigma": sigma,
            "deviations": (post_median - centre) / sigma,
            "step_k": params.step_k,
            "patrols_after": n - s,
            "previous_finding_id": points[s - 1].finding_id,
        },
    )


def _projection(
    fit: QuantityTrend,
    threshold: Threshold,
    window: Sequence[SeriesPoint],
    params: TrendParams,
    offset: float,
) -> TrendWarning | None:
    if not fit.rising or threshold.op not in ("gt", "ge"):
        return None
    now = fit.fitted_last + offset
    last = window[-1].value + offset
    if now >= threshold.value or last >= threshold.value:
        return None  # already there: the grade says so, not the trend
    horizon = params.horizon_days
    if params.horizon_patrols is not None and fit.interval_days > 0:
        horizon = params.horizon_patrols * fit.interval_days
    days = (threshold.value - now) / fit.slope_per_day
    if days > horizon:
        return None
    earliest = (threshold.value - now) / fit.ci_high if math.isfinite(fit.ci_high) else 0.0
    latest = (threshold.value - now) / fit.ci_low
    return TrendWarning(
        code="projected-threshold",
        quantity=threshold.quantity,
        change=threshold.value - now,
        since=window[0].taken_at,
        since_finding_id=window[0].finding_id,
        points=tuple(window),
        details={
            "threshold": threshold.value,
            "op": threshold.op,
            "level": threshold.level,
            "rule_id": threshold.rule_id,
            "fitted_now": now,
            "days_to_threshold": days,
            "days_earliest": earliest,
            "days_latest": latest,
            "patrols_to_threshold": days / fit.interval_days if fit.interval_days > 0 else None,
            "horizon_days": horizon,
            "slope_per_day": fit.slope_per_day,
            "ci_low_per_day": fit.ci_low,
            "offset": offset,
        },
    )


def analyse_trend(
    series: Mapping[str, Sequence[SeriesPoint]],
    *,
    thresholds: Sequence[Threshold] = (),
    graded_normal: bool = True,
    ambient_c: float | None = None,
    params: TrendParams | None = None,
) -> TrendAnalysis:
    """Analyse a point's history: ``series`` maps a quantity to its patrols, oldest first.

    Quantities: ``rise_k`` (load-normalised rise over ambient, K; the primary series for
    ``rising-trend`` and ``step-change``), ``delta_t_k`` (normalised ΔT, K; the primary
    series when there is no rise), ``delta_pct`` (δ, %).  ``thresholds`` are the next
    grade's (``hot_c`` ones are projected as ``ambient_c`` + rise); ``graded_normal`` says
    whether the latest patrol was graded normal (projections are warned only then).
    """
    p = params or TrendParams()
    for q, pts in series.items():
        if q not in QUANTITY_UNITS or q == "hot_c":
            raise ParameterError("series", q, "rise_k, delta_t_k or delta_pct")
        if any(b.taken_at < a.taken_at for a, b in pairwise(pts)):
            raise ParameterError("series", q, "points oldest first")
    usable = {q: list(pts) for q, pts in series.items() if len(pts) >= 2}
    primary = "rise_k" if len(usable.get("rise_k", ())) >= p.min_history else "delta_t_k"
    n = len(series.get(primary, ()))
    trends: dict[str, QuantityTrend] = {}
    for q, pts in usable.items():
        window = pts[-p.window :]
        if len({pt.taken_at for pt in window}) >= 2:
            trends[q] = _fit(q, window, p, pts)
    if n < p.min_history:
        return TrendAnalysis(status="insufficient-history", n=n, min_history=p.min_history,
                             trends=trends, warnings=())  # fmt: skip
    warnings: list[TrendWarning] = []
    pts = usable[primary]
    window = pts[-p.window :]
    if primary in trends:
        w = _rising(trends[primary], window, p)
        if w is not None:
            warnings.append(w)
    w = _step(primary, pts, p)
    if w is not None:
        warnings.append(w)
    if graded_normal:
        for th in thresholds:
            q, offset = th.quantity, 0.0
            if q == "hot_c":
                if ambient_c is None:
                    continue
                q, offset = "rise_k", ambient_c
            if q not in trends or len(usable[q]) < p.min_history:
                continue
            w = _projection(trends[q], th, usable[q][-p.window :], p, offset)
            if w is not None:
                warnings.append(w)
    return TrendAnalysis(status="ok", n=n, min_history=p.min_history, trends=trends, warnings=tuple(warnings))
