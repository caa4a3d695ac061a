"""A point's series over patrols: findings on the rated-load basis, their history, the point's trend.

When a capture's findings are stored (:func:`record_series`, called by the analysis
worker and by the edge ingest), each finding gets its rise over ambient and its ΔT
corrected to rated load, ΔT_rated = ΔT·(I_rated / I)^n (the capture's ``load_ratio`` =
I / I_rated, n from ``IRPATROL_TREND_LOAD_EXPONENT``), with the load and ambient used;
where the load is unknown or too low the raw values are kept and ``normalised`` is
false.  The point's own finding (its subject is the point's code) also gets
``facts["history"]``: the comparison with the point's last healthy (graded normal)
reading and, for points with a reference image, the re-registration offset and quality.

:func:`point_series` reads a point's series (one entry per analysed capture) with column
queries only, and :func:`point_trend_analysis` adds the trend analysis of
:mod:`irpatrol.diagnosis.trend` and the chart data (``docs/trend.md``).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any

from sqlalchemy import and_, func, or_, select
from sqlalchemy.orm import Session, aliased

from irpatrol.diagnosis.rulepack import RulePack
from irpatrol.diagnosis.trend import (
    SeriesPoint,
    Threshold,
    TrendParams,
    analyse_trend,
    normalise_to_rated_load,
)
from irpatrol.errors import IrpatrolError
from irpatrol.store.models import Capture, Finding, Point, UTCDateTime

__all__ = [
    "SeriesParams",
    "find_point",
    "point_series",
    "point_trend_analysis",
    "record_series",
    "series_finding",
]

NORMAL = 0
"""``grade_value`` of a healthy (graded normal) finding."""


@dataclass(frozen=True, kw_only=True)
class SeriesParams:
    """How stored findings are normalised: n of (I_rated / I)^n and the least load ratio it is applied at."""

    load_exponent: float = 2.0
    min_load_ratio: float = 0.30


def _r(x: float | None, nd: int = 3) -> float | None:
    return round(x, nd) if x is not None and math.isfinite(x) else None


def _utc(t: datetime) -> datetime:
    return t if t.tzinfo is not None else t.replace(tzinfo=UTC)


def series_finding(findings: Sequence[Finding], code: str) -> Finding | None:
    """The finding that stands for the point in a capture: its subject is ``code``, else the worst one."""
    for f in findings:
        if f.subject == code:
            return f
    return max(findings, key=lambda f: (f.grade_value, f.t1_c or -math.inf), default=None)


def normalise_row(row: Finding, cap: Capture, params: SeriesParams) -> None:
    """Set ``row``'s rated-load rise and ΔT (K), load ratio and ambient (°C) from its capture."""
    ambient = row.t0_c if row.t0_c is not None else cap.ambient_c
    rise = row.rise_k
    if rise is None and row.t1_c is not None and ambient is not None:
        rise = row.t1_c - ambient
    n = normalise_to_rated_load(
        rise,
        row.delta_t_k,
        load_ratio=cap.load_ratio,
        heating=row.heating_type,
        exponent=params.load_exponent,
        min_load_ratio=params.min_load_ratio,
    )
    row.load_ratio = cap.load_ratio
    row.ambient_c = _r(ambient)
    row.norm_rise_k = _r(n.rise_k)
    row.norm_delta_t_k = _r(n.delta_t_k)
    row.normalised = n.normalised


def record_series(session: Session, cap: Capture, rows: Sequence[Finding], params: SeriesParams) -> None:
    """Normalise every new finding of ``cap`` and give the point's finding its history facts.

    Call before the rows are flushed or after; the history only reads earlier captures of
    the same point (taken before this one).
    """
    for row in rows:
        normalise_row(row, cap, params)
    if cap.point_id is None:
        return
    point = session.get(Point, cap.point_id)
    if point is None:
        return
    own = series_finding(list(rows), point.code)
    if own is None:
        return
    when = _utc(own.taken_at or cap.taken_at or cap.received_at)
    history = _history(session, point, cap.id, when, own)
    if history is not None:
        own.facts = {**(own.facts or {}), "history": history}


_ANY = aliased(Finding)
"""Any finding of a capture (the series query joins the point's own one as ``Finding``)."""
HISTORY_BATCH = 64
"""Earlier patrols read at a time, newest first, looking for the last healthy one."""


def _before(point: Point, capture_id: int, when: datetime) -> list[Any]:
    return [
        Capture.point_id == point.id,
        Capture.status == "analyzed",
        Capture.id != capture_id,
        when > _WHEN,
        select(_ANY.id).where(_ANY.capture_id == Capture.id).correlate(Capture).exists(),
    ]


def _earlier(
    session: Session, point: Point, capture_id: int, when: datetime
) -> tuple[int, _Row | None, _Row | None]:
    """How many earlier patrols (with findings) the point has, the latest one and the latest healthy one."""
    conds = _before(point, capture_id, when)
    n = session.connection().execute(select(func.count()).select_from(Capture).where(*conds)).scalar_one()
    latest: _Row | None = None
    for skip in range(0, n, HISTORY_BATCH):
        batch = _series_rows(session, point, where=conds, newest=HISTORY_BATCH, skip=skip)
        if latest is None and batch:
            latest = batch[-1]
        healthy = next((r for r in reversed(batch) if r.grade_value == NORMAL), None)
        if healthy is not None:
            return n, latest, healthy
    return n, latest, None


def _history(
    session: Session, point: Point, capture_id: int, when: datetime, own: Finding
) -> dict[str, Any] | None:
    n_before, prev, healthy = _earlier(session, point, capture_id, when)
    if prev is None:
        return None
    out: dict[str, Any] = {
        "n_before": n_before,
        "previous": {
            "finding_id": prev.finding_id,
            "taken_at": prev.taken_at.isoformat(),
            "grade": prev.grade,
        },
        "last_healthy": None,
        "delta_vs_healthy": None,
        "frame": None,
    }
    if healthy is not None:
        same_basis = bool(own.normalised) == bool(healthy.normalised)
        out["last_healthy"] = {
            "finding_id": healthy.finding_id,
            "taken_at": healthy.taken_at.isoformat(),
            "norm_rise_k": healthy.norm_rise_k,
            "norm_delta_t_k": healthy.norm_delta_t_k,
            "t1_c": healthy.t1_c,
            "normalised": healthy.normalised,
        }

        def diff(a: float | None, b: float | None) -> float | None:
            return _r(a - b) if a is not None and b is not None else None

        out["delta_vs_healthy"] = {
            "basis": ("rated-load" if own.normalised else "raw") if same_basis else "mixed",
            "rise_k": diff(own.norm_rise_k, healthy.norm_rise_k) if same_basis else None,
            "delta_t_k": diff(own.norm_delta_t_k, healthy.norm_delta_t_k) if same_basis else None,
            "t1_c": diff(own.t1_c, healthy.t1_c),
            "days": _r((when - healthy.taken_at).total_seconds() / 86400.0, 2),
        }
    alignment = (own.facts or {}).get("alignment")
    if isinstance(alignment, dict):
        frame = {"reference_image": (point.spec or {}).get("reference_image"), **alignment}
        if healthy is not None:
            old = session.scalar(select(Finding.facts).where(Finding.id == healthy.finding_id)) or {}
            prior = old.get("alignment") if isinstance(old, dict) else None
            if isinstance(prior, dict) and {"dx", "dy"} <= prior.keys() and {"dx", "dy"} <= alignment.keys():
                frame["shift_vs_healthy_px"] = _r(
                    math.hypot(alignment["dx"] - prior["dx"], alignment["dy"] - prior["dy"]), 2
                )
        out["frame"] = frame
    return out


@dataclass
class _Row:
    capture_id: int
    taken_at: datetime
    max_c: float | None
    cap_ambient_c: float | None
    cap_load_ratio: float | None
    finding_id: int | None = None
    subject: str | None = None
    grade: str | None = None
    grade_value: int | None = None
    t1_c: float | None = None
    t2_c: float | None = None
    t0_c: float | None = None
    delta_t_k: float | None = None
    rise_k: float | None = None
    delta_pct: float | None = None
    review_status: str | None = None
    norm_rise_k: float | None = None
    norm_delta_t_k: float | None = None
    normalised: bool | None = None


_WHEN = func.coalesce(Capture.taken_at, Capture.received_at, type_=UTCDateTime)
"""When a capture was taken, else received."""
_CAPTURE_COLS = (
    Capture.id,
    _WHEN,
    Capture.max_c,
    Capture.ambient_c,
    Capture.load_ratio,
)
_FINDING_COLS = (
    Finding.id,
    Finding.subject,
    Finding.grade,
    Finding.grade_value,
    Finding.t1_c,
    Finding.t2_c,
    Finding.t0_c,
    Finding.delta_t_k,
    Finding.rise_k,
    Finding.delta_pct,
    Finding.review_status,
    Finding.norm_rise_k,
    Finding.norm_delta_t_k,
    Finding.normalised,
)


def _series_rows(
    session: Session,
    point: Point,
    *,
    since: datetime | None = None,
    until: datetime | None = None,
    where: Sequence[Any] = (),
    newest: int | None = None,
    skip: int = 0,
) -> list[_Row]:
    """One row per analysed capture at ``point`` with its series finding, oldest first (columns only).

    The point's own finding (subject = its code) is joined in SQL; only captures without one
    (analysed without regions) are asked for all their findings, and give their worst
    (grade, then T1).  ``where`` adds conditions; ``newest`` keeps only that many of the
    latest captures after skipping ``skip`` of them.
    """
    when = Capture.taken_at
    q = (
        select(*_CAPTURE_COLS, *_FINDING_COLS)
        .select_from(Capture)
        .outerjoin(Finding, and_(Finding.capture_id == Capture.id, Finding.subject == point.code))
        .where(Capture.point_id == point.id, Capture.status == "analyzed", *where)
    )
    if newest is not None:
        q = q.order_by(_WHEN.desc(), Capture.id.desc(), Finding.seq).limit(newest).offset(skip)
    else:
        q = q.order_by(Capture.id, Finding.seq)
    if since is not None:
        q = q.where(or_(when >= since, (when.is_(None)) & (Capture.received_at >= since)))
    if until is not None:
        q = q.where(or_(when < until, (when.is_(None)) & (Capture.received_at < until)))
    by_capture: dict[int, _Row] = {}
    conn = session.connection()  # Core rows: no ORM loading for a thousand of them
    for r in conn.execute(q).all():
        cid = r[0]
        if cid in by_capture:  # two findings with the point's code: the first (by seq) stands
            continue
        row = by_capture[cid] = _Row(cid, _utc(r[1]), r[2], r[3], r[4])
        if r[5] is not None:
            _fill(row, r[5:])
    lacking = [cid for cid, row in by_capture.items() if row.finding_id is None]
    for k in range(0, len(lacking), 500):
        chunk = lacking[k : k + 500]
        fq = select(Finding.capture_id, *_FINDING_COLS).where(Finding.capture_id.in_(chunk))
        best: dict[int, tuple[int, float]] = {}
        for f in conn.execute(fq.order_by(Finding.capture_id, Finding.seq)).all():
            key = (f[4] if f[4] is not None else -1, f[5] if f[5] is not None else -math.inf)
            if f[0] in best and key <= best[f[0]]:
                continue
            best[f[0]] = key
            _fill(by_capture[f[0]], f[1:])
    rows = list(by_capture.values())
    rows.sort(key=lambda e: (e.taken_at, e.capture_id))
    return rows


def _fill(row: _Row, values: Sequence[Any]) -> None:
    (row.finding_id, row.subject, row.grade, row.grade_value, row.t1_c, row.t2_c, row.t0_c, row.delta_t_k,
     row.rise_k, row.delta_pct, row.review_status, row.norm_rise_k, row.norm_delta_t_k,
     row.normalised) = values  # fmt: skip
    if row.normalised is not None:
        row.normalised = bool(row.normalised)


def point_series(
    session: Session, point: Point, *, since: datetime | None = None, until: datetime | None = None
) -> list[dict[str, Any]]:
    """One entry per analysed capture at ``point``, oldest first (time taken, else received).

    The numbers come from the point's finding (its subject is the point's code; else the
    capture's worst).  ``max_c`` is the capture's maximum (°C), else T1; ``ambient_c`` the
    capture's, else T0.  ``rise_k`` = T1 − T0 (K) as measured; ``norm_rise_k`` and
    ``norm_delta_t_k`` on the rated-load basis (K) where ``normalised``, else the raw values.
    """
    out = []
    for r in _series_rows(session, point, since=since, until=until):
        out.append(
            {
                "capture_id": r.capture_id,
                "finding_id": r.finding_id,
                "taken_at": r.taken_at,
                "max_c": r.max_c if r.max_c is not None else r.t1_c,
                "t1_c": r.t1_c,
                "t2_c": r.t2_c,
                "t0_c": r.t0_c,
                "delta_t_k": r.delta_t_k,
                "delta_pct": r.delta_pct,
                "grade": r.grade,
                "grade_value": r.grade_value,
                "review_status": r.review_status,
                "ambient_c": r.cap_ambient_c if r.cap_ambient_c is not None else r.t0_c,
                "load_ratio": r.cap_load_ratio,
                "rise_k": r.rise_k,
                "norm_rise_k": r.norm_rise_k,
                "norm_delta_t_k": r.norm_delta_t_k,
                "normalised": r.normalised,
            }
        )
    return out


@lru_cache(maxsize=16)
def _pack(name: str) -> RulePack:
    from irpatrol.diagnosis.rulepack import load_rule_pack

    return load_rule_pack(name)


def next_grade_thresholds(point: Point, default_rules: str) -> list[Threshold]:
    """The thresholds of the least severe defect level for the point's part.

    From the point's rule pack, else ``default_rules``; none when the part is unknown.
    """
    try:
        pack = _pack(point.rule_pack or default_rules)
        part = pack.part(point.part)
    except IrpatrolError:
        return []
    if not pack.levels:
        return []
    first = pack.levels[0].id
    return [
        Threshold(quantity=c.quantity, op=c.op, value=c.value, level=c.level, rule_id=c.id)
        for c in part.criteria
        if c.level == first
    ]


def point_trend_analysis(
    session: Session,
    point: Point,
    *,
    params: TrendParams,
    default_rules: str,
    since: datetime | None = None,
    until: datetime | None = None,
) -> dict[str, Any]:
    """The point's series, its trend analysis and chart data (the API's and the CLI's answer).

    The analysis uses the rated-load values of the normalised findings; when none is
    normalised (no load recorded) the raw values, said by ``basis``.  Times are UTC.
    """
    items = point_series(session, point, since=since, until=until)
    graded = [e for e in items if e["finding_id"] is not None]
    normalised = [e for e in graded if e["normalised"]]
    basis = "rated-load" if normalised else "raw"
    used = normalised if normalised else graded
    kept = {e["finding_id"] for e in used}
    excluded = [e["finding_id"] for e in graded if e["finding_id"] not in kept]

    def pts(key: str, raw: str) -> list[SeriesPoint]:
        # findings stored before migration 0003 have no rated-load values: their raw ones (basis raw)
        out = []
        for e in used:
            v = e[key] if e[key] is not None or e["normalised"] else e[raw]
            if v is not None:
                out.append(SeriesPoint(e["finding_id"], e["taken_at"], float(v)))
        return out

    series = {
        "rise_k": pts("norm_rise_k", "rise_k"),
        "delta_t_k": pts("norm_delta_t_k", "delta_t_k"),
        "delta_pct": pts("delta_pct", "delta_pct"),
    }
    latest = graded[-1] if graded else None
    thresholds = next_grade_thresholds(point, default_rules)
    analysis = analyse_trend(
        series,
        thresholds=thresholds,
        graded_normal=latest is not None and latest["grade_value"] == NORMAL,
        ambient_c=latest["ambient_c"] if latest is not None else None,
        params=params,
    )
    comparison = None
    if latest is not None:
        facts = session.scalar(select(Finding.facts).where(Finding.id == latest["finding_id"])) or {}
        comparison = facts.get("history") if isinstance(facts, dict) else None
    fits = {}
    for q, fit in analysis.trends.items():
        t_first = fit.first.taken_at
        span = (fit.last.taken_at - t_first).total_seconds() / 86400.0
        fits[q] = {
            "x": [t_first.isoformat(), fit.last.taken_at.isoformat()],
            "y": [_r(fit.fitted_last - fit.slope_per_day * span), _r(fit.fitted_last)],
        }
    chart = {
        "x": [e["taken_at"].isoformat() for e in items],
        "series": {
            key: [e[key] for e in items]
            for key in (
                "norm_rise_k",
                "norm_delta_t_k",
                "rise_k",
                "delta_t_k",
                "delta_pct",
                "load_ratio",
                "ambient_c",
            )
        },
        "normalised": [e["normalised"] for e in items],
        "fit": fits,
        "thresholds": [
            {"quantity": t.quantity, "op": t.op, "value": t.value, "level": t.level, "rule_id": t.rule_id}
            for t in thresholds
        ],
    }
    return {
        "point_id": point.id,
        "code": point.code,
        "name": point.name,
        "items": items,
        "basis": basis,
        "excluded_finding_ids": excluded,
        "analysis": analysis.to_dict(),
        "comparison": comparison,
        "chart": chart,
    }


def find_point(session: Session, ident: str | int) -> Point | None:
    """A point by its numeric id or, failing that, its code (``None``: unknown, or the code is ambiguous)."""
    text = str(ident).strip()
    if text.isdigit():
        p = session.get(Point, int(text))
        if p is not None:
            return p
    found = list(session.scalars(select(Point).where(Point.code == text).limit(2)))
    return found[0] if len(found) == 1 else None
