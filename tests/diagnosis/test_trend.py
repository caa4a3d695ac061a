"""Trend and early warning on constructed series with known answers (issue 11).

Noise is seeded; the stated detection delay (a 0.5 K/patrol drift under varying load,
camera noise 0.5 K, load 60–100 %, warned within 15 patrols of its onset) is checked
here for fixed seeds; ``benchmarks/bench_trend.py`` measures its distribution.
"""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta

import numpy as np
import pytest

from irpatrol.diagnosis.trend import (
    SeriesPoint,
    Threshold,
    TrendParams,
    analyse_trend,
    normalise_to_rated_load,
    theil_sen,
)
from irpatrol.errors import ParameterError

T0 = datetime(2026, 1, 1, 2, 0, tzinfo=UTC)
N_EXP = 2.0
"""Load exponent n of the constructed series."""


def series(values: np.ndarray | list[float], *, every_days: float = 1.0) -> list[SeriesPoint]:
    """Patrols every ``every_days`` days, finding ids 100, 101, ..."""
    return [SeriesPoint(100 + i, T0 + timedelta(days=i * every_days), float(v)) for i, v in enumerate(values)]


def codes(values: np.ndarray | list[float], **kw: object) -> list[str]:
    return [w.code for w in analyse_trend({"rise_k": series(values)}, **kw).warnings]  # type: ignore[arg-type]


def measured(
    true_rated: np.ndarray, load: np.ndarray, rng: np.random.Generator, noise_k: float
) -> np.ndarray:
    """The rise a camera sees: the rated-load rise × load^n plus camera noise (K)."""
    return true_rated * load**N_EXP + rng.normal(0.0, noise_k, true_rated.size)


def normalised(raw: np.ndarray, load: np.ndarray) -> np.ndarray:
    out = [
        normalise_to_rated_load(r, None, load_ratio=x, heating="current", exponent=N_EXP)
        for r, x in zip(raw, load, strict=True)
    ]
    assert all(n.normalised for n in out)
    return np.array([n.rise_k for n in out])


def test_theil_sen_exact_line_and_outlier() -> None:
    slope, intercept, low, high = theil_sen(np.arange(10.0), 3.0 + 0.5 * np.arange(10.0))
    assert (slope, intercept) == (0.5, 3.0)
    assert low == high == 0.5
    y = 3.0 + 0.5 * np.arange(10.0)
    y[4] = 100.0
    assert theil_sen(np.arange(10.0), y)[0] == pytest.approx(0.5)


def test_sen_interval_covers_the_true_slope() -> None:
    rng = np.random.default_rng(3)
    t = np.arange(30.0)
    covered = 0
    for _ in range(400):
        _, _, lo, hi = theil_sen(t, 0.2 * t + rng.normal(0, 1.0, t.size), confidence=0.95)
        covered += lo <= 0.2 <= hi
    assert 0.92 <= covered / 400 <= 0.985


@pytest.mark.parametrize("seed", range(10))
def test_flat_with_noise_gives_no_warning(seed: int) -> None:
    rng = np.random.default_rng(seed)
    assert codes(20.0 + rng.normal(0.0, 1.0, 30)) == []


def test_flat_with_noise_false_warning_rate_per_analysis_below_half_a_percent() -> None:
    """Every patrol's analysis of 100 noise-only series (σ = 1 K, 30 patrols): 2 300 analyses."""
    rng = np.random.default_rng(1000)
    warned = total = 0
    for _ in range(100):
        y = 20.0 + rng.normal(0.0, 1.0, 30)
        for m in range(8, 31):
            total += 1
            warned += bool(codes(y[:m]))
    assert warned / total < 0.005, (warned, total)


@pytest.mark.parametrize("seed", range(10))
def test_drift_under_varying_load_warned_within_15_patrols(seed: int) -> None:
    """0.5 K/patrol on the rated basis from patrol 10; load 60–100 %; camera noise 0.5 K."""
    rng = np.random.default_rng(seed)
    n = 40
    load = rng.uniform(0.6, 1.0, n)
    true = 20.0 + np.r_[np.zeros(10), 0.5 * np.arange(1, n - 9)]
    y = normalised(measured(true, load, rng, 0.5), load)
    first = next((m - 10 for m in range(11, n + 1) if "rising-trend" in codes(y[:m])), None)
    assert first is not None
    assert first <= 15, first
    assert "rising-trend" not in codes(y[:10])


def test_load_change_alone_gives_no_warning_after_normalisation() -> None:
    rng = np.random.default_rng(11)
    load = np.r_[np.full(15, 0.45), np.full(15, 0.95)]  # the load doubles at patrol 15
    raw = measured(np.full(30, 20.0), load, rng, 0.3)
    assert "step-change" in codes(raw[:18])  # raw: the load step looks like a fault
    y = normalised(raw, load)
    for m in range(8, 31):
        assert codes(y[:m]) == [], m


@pytest.mark.parametrize("where", [5, 15, 29])
def test_one_outlier_gives_no_warning(where: int) -> None:
    rng = np.random.default_rng(5)
    y = 20.0 + rng.normal(0.0, 1.0, 30)
    y[where] += 25.0
    for m in range(max(8, where + 1), 31):
        assert codes(y[:m]) == [], m


def test_step_is_flagged_with_size_time_and_evidence() -> None:
    rng = np.random.default_rng(2)
    y = 20.0 + rng.normal(0.0, 0.7, 30)
    y[20:] += 8.0
    assert codes(y[:21]) == []  # one patrol above: not yet confirmed (could be an outlier)
    pts = series(y[:22])
    a = analyse_trend({"rise_k": pts})
    (w,) = [w for w in a.warnings if w.code == "step-change"]
    assert w.change == pytest.approx(8.0, abs=1.5)
    assert w.since == pts[20].taken_at
    assert w.since_finding_id == 120
    assert w.details["previous_finding_id"] == 119
    assert [p.finding_id for p in w.points][-2:] == [120, 121]
    d = w.to_dict()
    assert d["unit"] == "K"
    assert d["since"].startswith("2026-01-21")


def test_rising_trend_says_by_how_much_and_since_when() -> None:
    y = 20.0 + 0.5 * np.arange(20) + np.tile([0.3, -0.3], 10)
    a = analyse_trend({"rise_k": series(y, every_days=7.0)})
    (w,) = [w for w in a.warnings if w.code == "rising-trend"]
    fit = a.trends["rise_k"]
    assert fit.slope_per_patrol == pytest.approx(0.5, abs=0.1)
    assert fit.slope_per_day == pytest.approx(0.5 / 7, abs=0.02)
    assert fit.ci_low > 0
    assert w.since_finding_id == 108  # the first of the 12-patrol window
    assert len(w.points) == 12
    assert w.change > 2.0


def test_projected_threshold_only_while_normal_and_within_horizon() -> None:
    y = 8.0 + 0.3 * np.arange(16) + np.tile([0.2, -0.2], 8)  # ΔT 8 → 12.5 K, general at > 15 K
    th = Threshold(
        quantity="delta_t_k", op="gt", value=15.0, level="general", rule_id="connector.general.delta_t_k_gt"
    )
    pts = series(y)
    a = analyse_trend({"delta_t_k": pts}, thresholds=[th])
    (w,) = [w for w in a.warnings if w.code == "projected-threshold"]
    assert w.details["days_to_threshold"] == pytest.approx((15.0 - 12.5) / 0.3, abs=3.0)
    d = {k: float(v) for k, v in w.details.items() if isinstance(v, float)}
    assert d["days_earliest"] <= d["days_to_threshold"] <= d["days_latest"]
    assert w.details["level"] == "general"
    assert not [w for w in analyse_trend({"delta_t_k": pts}, thresholds=[th], graded_normal=False).warnings
                if w.code == "projected-threshold"]  # fmt: skip
    short = TrendParams(horizon_days=3.0)
    assert "projected-threshold" not in [
        w.code for w in analyse_trend({"delta_t_k": pts}, thresholds=[th], params=short).warnings
    ]
    by_patrols = TrendParams(horizon_days=1.0, horizon_patrols=10)
    assert "projected-threshold" in [
        w.code for w in analyse_trend({"delta_t_k": pts}, thresholds=[th], params=by_patrols).warnings
    ]


def test_hot_spot_threshold_projects_ambient_plus_rise() -> None:
    y = 40.0 + 0.5 * np.arange(16)  # rise 40 → 47.5 K; T1 = 30 °C + rise, serious at > 80 °C
    th = Threshold(quantity="hot_c", op="gt", value=80.0, level="serious", rule_id="x")
    a = analyse_trend({"rise_k": series(y)}, thresholds=[th], ambient_c=30.0)
    (w,) = [w for w in a.warnings if w.code == "projected-threshold"]
    assert w.details["fitted_now"] == pytest.approx(77.5)
    assert w.details["days_to_threshold"] == pytest.approx(5.0)


def test_short_history_is_insufficient() -> None:
    a = analyse_trend({"rise_k": series([20, 21, 40, 60, 80])})
    assert a.status == "insufficient-history"
    assert a.warnings == ()
    assert a.to_dict()["min_history"] == 8


def test_normalisation_rules() -> None:
    n = normalise_to_rated_load(5.0, 2.0, load_ratio=0.2, heating="current")
    assert (n.rise_k, n.normalised) == (5.0, False)  # below 30 %: raw kept
    v = normalise_to_rated_load(5.0, 2.0, load_ratio=0.2, heating="voltage")
    assert (v.rise_k, v.factor, v.normalised) == (5.0, 1.0, True)
    assert normalise_to_rated_load(
        5.0, None, load_ratio=0.8, heating="current", exponent=1.6
    ).rise_k == pytest.approx(5.0 * (1 / 0.8) ** 1.6)


def test_bad_parameters_and_order() -> None:
    with pytest.raises(ParameterError):
        TrendParams(window=4)
    with pytest.raises(ParameterError):
        TrendParams(confidence=1.0)
    pts = series([1.0, 2.0, 3.0])
    with pytest.raises(ParameterError):
        analyse_trend({"rise_k": pts[::-1]})
    with pytest.raises(ParameterError):
        analyse_trend({"hot_c": pts})
    assert math.isinf(theil_sen([0, 1], [0, 1])[2])
