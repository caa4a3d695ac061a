"""Benchmark (issue 11): trend warnings — false warnings, detection delay, a point's history on the server.

Run:  .venv/bin/python benchmarks/bench_trend.py [--series 1000] [--pg-url postgresql+psycopg://...]

1. False warnings: ``--series`` seeded noise-only series of 30 patrols (flat rated-load rise
   20 K, σ = 1 K), every patrol's analysis from the 8th on (as the server would answer after
   each patrol); the share of analyses and of series with any warning.
2. Detection delay: the same number of series, 10 flat patrols then a drift of 0.25 / 0.5 /
   1.0 K/patrol at rated load, measured under a load drawn from 60–100 % with 0.5 K camera
   noise, normalised with n = 2; patrols from the drift's onset to the first ``rising-trend``
   (median, 90th percentile, share detected within 40 patrols).
3. Server path: :func:`irpatrol.store.series.point_trend_analysis` (column query + analysis +
   chart data) for one point with 1 000 findings, in a fresh SQLite database (and PostgreSQL
   with ``--pg-url``: the database is emptied and migrated!).  Target < 50 ms (median).
Defaults of :class:`~irpatrol.diagnosis.trend.TrendParams` throughout.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np

from irpatrol.diagnosis.trend import SeriesPoint, TrendParams, analyse_trend, normalise_to_rated_load

T0 = datetime(2026, 1, 1, 2, 0, tzinfo=UTC)
TARGET_MS = 50.0
N_FINDINGS = 1000


def _series(values: np.ndarray) -> list[SeriesPoint]:
    return [SeriesPoint(i, T0 + timedelta(days=i), float(v)) for i, v in enumerate(values)]


def false_warnings(n_series: int, params: TrendParams) -> tuple[float, float, int]:
    rng = np.random.default_rng(20261203)
    analyses = warned = warned_series = 0
    for _ in range(n_series):
        y = 20.0 + rng.normal(0.0, 1.0, 30)
        hit = False
        for m in range(params.min_history, 31):
            analyses += 1
            if analyse_trend({"rise_k": _series(y[:m])}, params=params).warnings:
                warned += 1
                hit = True
        warned_series += hit
    return warned / analyses, warned_series / n_series, analyses


def detection_delay(n_series: int, rate: float, params: TrendParams) -> tuple[float, float, float]:
    rng = np.random.default_rng(int(rate * 1000) + 7)
    n, onset = 50, 10
    delays = []
    for _ in range(n_series):
        load = rng.uniform(0.6, 1.0, n)
        true = 20.0 + np.r_[np.zeros(onset), rate * np.arange(1, n - onset + 1)]
        raw = true * load**2 + rng.normal(0.0, 0.5, n)
        y = np.array(
            [
                normalise_to_rated_load(r, None, load_ratio=x, heating="current").rise_k
                for r, x in zip(raw, load, strict=True)
            ]
        )
        d = None
        for m in range(onset + 1, n + 1):
            if any(
                w.code == "rising-trend"
                for w in analyse_trend({"rise_k": _series(y[:m])}, params=params).warnings
            ):
                d = m - onset
                break
        delays.append(d if d is not None else 10_000)
    found = [d for d in delays if d < 10_000]
    return (
        float(np.median(delays)),
        float(np.percentile(delays, 90)),
        len(found) / n_series,
    )


def server_path(url: str, reset_pg: bool) -> tuple[float, float]:
    """Median and p95 (ms) of point_trend_analysis over a point with 1 000 findings."""
    from sqlalchemy import text

    from irpatrol.store.db import make_engine, session_factory, upgrade
    from irpatrol.store.models import Asset, Capture, Point
    from irpatrol.store.results import finding_rows
    from irpatrol.store.series import SeriesParams, point_trend_analysis, record_series

    engine = make_engine(url)
    if reset_pg:
        with engine.begin() as conn:
            conn.execute(text("DROP SCHEMA IF EXISTS public CASCADE"))
            conn.execute(text("CREATE SCHEMA public"))
    upgrade(engine)
    sessions = session_factory(engine)
    rng = np.random.default_rng(1)
    with sessions() as s, s.begin():
        station = Asset(kind="station", code="S", name="S")
        s.add(station)
        s.flush()
        comp = Asset(kind="component", code="C", name="C", parent_id=station.id, station_id=station.id)
        s.add(comp)
        s.flush()
        point = Point(code="P", name="P", component_id=comp.id, station_id=station.id, part="connector")
        s.add(point)
        s.flush()
        for i in range(N_FINDINGS):
            x = float(rng.uniform(0.4, 1.0))
            t2 = 25.0 + 5.0 * x**2
            t1 = t2 + (3.0 + rng.normal(0, 0.5)) * x**2
            cap = Capture(sha256=f"{i:064x}", filename="f.jpg", size_bytes=1, point_id=point.id,
                          station_id=station.id, taken_at=T0 + timedelta(hours=12 * i), ambient_c=25.0,
                          load_ratio=x, status="analyzed", max_c=t1, result={"hotspots": []})  # fmt: skip
            s.add(cap)
            s.flush()
            comparison = {"t1_c": t1, "t2_c": t2, "t0_c": 25.0, "delta_t_k": t1 - t2, "rise_k": t1 - 25.0}
            graded = {"grade": "normal", "grade_value": 0}
            finding = {"subject": "P", "part": "connector", "heating_type": "current",
                       "comparison": comparison, "finding": graded}  # fmt: skip
            spots = [{"subject": f"hotspot-{k}", "part": "connector", "heating_type": "current",
                      "comparison": comparison, "finding": graded}
                     for k in range(2)]  # fmt: skip
            rows = finding_rows(cap, {"findings": [finding, *spots]})
            record_series(s, cap, rows, SeriesParams())
            s.add_all(rows)
        pid = point.id
    times = []
    for _ in range(30):
        with sessions() as s:
            p = s.get(Point, pid)
            assert p is not None
            t = time.perf_counter()
            doc = point_trend_analysis(s, p, params=TrendParams(), default_rules="dlt664-2016")
            times.append((time.perf_counter() - t) * 1000)
            assert len(doc["items"]) == N_FINDINGS
    engine.dispose()
    times.sort()
    return statistics.median(times), times[int(0.95 * (len(times) - 1))]


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--series", type=int, default=1000)
    ap.add_argument(
        "--pg-url", default=None, help="PostgreSQL URL (emptied and migrated) for the server path"
    )
    args = ap.parse_args()
    params = TrendParams()
    t = time.perf_counter()
    per_analysis, per_series, analyses = false_warnings(args.series, params)
    print(f"false warnings: {per_analysis:.4%} of {analyses} analyses, {per_series:.2%} of {args.series} "
          f"noise-only series of 30 patrols ({time.perf_counter() - t:.0f} s)")  # fmt: skip
    print("| drift K/patrol | median delay (patrols) | p90 | detected within 40 |")
    for rate in (0.25, 0.5, 1.0):
        med, p90, share = detection_delay(args.series, rate, params)
        print(f"| {rate} | {med:.0f} | {p90:.0f} | {share:.1%} |")
    with tempfile.TemporaryDirectory() as d:
        med, p95 = server_path(f"sqlite:///{Path(d) / 'bench.db'}", reset_pg=False)
    ok = med < TARGET_MS
    print(f"server path, SQLite, {N_FINDINGS} findings: median {med:.1f} ms, p95 {p95:.1f} ms "
          f"(target < {TARGET_MS:.0f} ms: {'met' if ok else 'NOT met'})")  # fmt: skip
    if args.pg_url:
        med_pg, p95_pg = server_path(args.pg_url, reset_pg=True)
        print(f"server path, PostgreSQL, {N_FINDINGS} findings: median {med_pg:.1f} ms, p95 {p95_pg:.1f} ms")
        ok = ok and med_pg < TARGET_MS
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
