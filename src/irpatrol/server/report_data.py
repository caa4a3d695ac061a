"""Reports from the server's database: a patrol execution, a station over a time range, one defect.

Assembles :class:`irpatrol.report.model.Report` values from database rows and stored
images (``report`` and ``store`` are siblings and never import each other; this module,
in the layer above both, joins them).  The API route and the ``irpatrol report`` command
both call :func:`build_report`.  The numbers, grades and review states come from the
stored findings (what people reviewed), the pictures from the stored image re-read and
drawn with the stored regions and hot spots; texts are rendered in the report's language.
"""

from __future__ import annotations

import statistics
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from typing import Any, Literal

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from irpatrol.diagnosis.trend import TrendParams
from irpatrol.errors import IrpatrolError, ParameterError, RecordNotFoundError
from irpatrol.pipeline import load_thermogram
from irpatrol.pipeline.trend_texts import history_text, warning_text
from irpatrol.report.annotate import markers_from_doc
from irpatrol.report.figures import photo, rise_chart, thermal_figure, trend_chart
from irpatrol.report.folder import file_extras, finding_entry, marker_labels
from irpatrol.report.model import (
    CaptureEntry,
    Environment,
    FindingEntry,
    Header,
    Instrument,
    MissedPoint,
    PointTrend,
    Report,
    TrendPoint,
    Unreadable,
)
from irpatrol.report.templates import TemplateSet
from irpatrol.store.assets import asset_path, point_trend
from irpatrol.store.blobs import BlobStore
from irpatrol.store.models import Asset, Capture, Execution, Finding, PatrolPlan, Point
from irpatrol.store.plans import execution_report
from irpatrol.store.series import point_trend_analysis

MAX_CAPTURES = 1000
"""Most captures one report takes (a station over a long range: narrow the range)."""

ROBOT_SOURCES = {"robot": "robot", "handheld": "person"}
"""Execution data sources that say who inspected (SGCC data source → robot or person)."""


@dataclass(frozen=True, kw_only=True)
class ReportRequest:
    """What to report on: one of ``execution_id``, ``finding_id`` or ``station`` (code) with a range.

    ``since``/``until`` bound the time taken (received when unknown), ``until`` exclusive.
    """

    execution_id: int | None = None
    finding_id: int | None = None
    station: str | None = None
    since: datetime | None = None
    until: datetime | None = None

    def __post_init__(self) -> None:
        for name in ("since", "until"):  # naive times are UTC, as the database keeps them
            object.__setattr__(self, name, _aware(getattr(self, name)))
        chosen = [x is not None for x in (self.execution_id, self.finding_id, self.station)]
        if sum(chosen) != 1:
            raise ParameterError("report", self, "exactly one of an execution, a finding or a station")
        if self.since is not None and self.until is not None and self.until <= self.since:
            raise ParameterError("until", self.until, f"a time after since ({self.since.isoformat()})")


@dataclass
class _Ctx:
    session: Session
    blobs: BlobStore
    lang: str
    grade_names: dict[str, str]
    axis_label: str
    palette: str
    paths: dict[int, list[Asset]]
    trend_params: TrendParams
    rules: str
    rise_axis: dict[str, str]
    point_trends: dict[tuple[int, bool, datetime | None], PointTrend | None]

    def path(self, asset_id: int) -> list[Asset]:
        if asset_id not in self.paths:
            self.paths[asset_id] = asset_path(self.session, asset_id)
        return self.paths[asset_id]


def _location(ctx: _Ctx, point: Point | None) -> str | None:
    """``area / bay / device / component`` of a point (the station is in the header)."""
    if point is None:
        return None
    names = [a.name for a in ctx.path(point.component_id) if a.kind != "station"]
    return " / ".join(names) or None


def _bay(ctx: _Ctx, point: Point | None) -> str | None:
    if point is None:
        return None
    return next((a.name for a in ctx.path(point.component_id) if a.kind == "bay"), None)


def _aware(t: datetime | None) -> datetime | None:
    return t.replace(tzinfo=UTC) if t is not None and t.tzinfo is None else t


def _trend(ctx: _Ctx, point: Point, until: datetime | None) -> tuple[TrendPoint, ...]:
    series = point_trend(ctx.session, point, until=until)
    out = []
    for e in series:
        value = e["t1_c"] if e["t1_c"] is not None else e["max_c"]
        at = _aware(e["taken_at"])
        if value is not None and at is not None:
            out.append(TrendPoint(at=at, value_c=float(value), grade=e["grade"] or "not_graded"))
    return tuple(out)


def _point_trend(ctx: _Ctx, point: Point, *, chart: bool, current: datetime | None) -> PointTrend | None:
    """The point's trend analysis as ``GET /points/{id}/trend`` makes it, texts in the report's language.

    The history is judged as it stood when the reported capture was taken (``current``, UTC;
    readings up to and including it), so a report over a past range says what was known
    then.  ``None`` when the point has fewer than two graded readings by then (no history).
    A patrol report asks once per point (its last capture; a few queries each) and a defect
    report once; the chart only for the defect report, so a 100-capture report stays quick.
    """
    until = current + timedelta(seconds=1) if current is not None else None
    key = (point.id, chart, until)
    if key in ctx.point_trends:
        return ctx.point_trends[key]
    doc = point_trend_analysis(
        ctx.session, point, params=ctx.trend_params, default_rules=ctx.rules, until=until
    )
    graded = [e for e in doc["items"] if e["finding_id"] is not None]
    result = None
    if len(graded) >= 2:
        warnings = doc["analysis"]["warnings"]
        png = None
        if chart:
            rated = doc["basis"] == "rated-load"
            readings = []
            for e in graded:
                value = e["norm_rise_k"] if rated or e["norm_rise_k"] is not None else e["rise_k"]
                at = _aware(e["taken_at"])
                if (e["normalised"] or not rated) and value is not None and at is not None:
                    readings.append((at, float(value), str(e["grade"] or "not_graded")))
            axis = ctx.rise_axis.get(doc["basis"], "Rise over ambient (K)")
            png = rise_chart(readings, axis_label=axis, current=current)
        result = PointTrend(
            point=f"{point.code} {point.name}" if point.name and point.name != point.code else point.code,
            basis=doc["basis"],
            chart_png=png,
            warnings=tuple(warning_text(w, ctx.lang) for w in warnings),
            warning_codes=tuple(str(w["code"]) for w in warnings),
            comparison=history_text(doc["comparison"], ctx.lang),
        )
    ctx.point_trends[key] = result
    return result


def _finding(ctx: _Ctx, f: Finding, location: str | None) -> FindingEntry:
    grade = f.corrected_grade or f.grade
    stored = f.facts or {}  # the assessment as the analysis stored it: comparison and graded finding
    numbers = {k: getattr(f, k) for k in ("t1_c", "t2_c", "t0_c", "delta_t_k", "rise_k", "delta_pct")}
    entry = finding_entry(
        subject=f.subject,
        device=None if f.device == "(unconfigured)" else f.device,
        part=f.part,
        comparison={
            **(stored.get("comparison") or {}),
            **{k: v for k, v in numbers.items() if v is not None},
        },
        facts=stored.get("finding") or None,
        lang=ctx.lang,
        id=f.id,
        location=location,
        defect_status=f.defect_status,
        review_status=f.review_status,
        automatic=f.device == "(unconfigured)",
    )
    if grade != entry.grade:  # a reviewer corrected the grade: print theirs
        entry = replace(entry, grade=grade, grade_label=None)
    return entry


def _capture(
    ctx: _Ctx,
    cap: Capture,
    findings: Sequence[Finding],
    *,
    trend: bool,
    analyse: bool = True,
    trend_chart_png: bool = False,
) -> CaptureEntry:
    """One capture of the report; ``analyse`` judges its point's history (``trend`` draws T1's)."""
    point = ctx.session.get(Point, cap.point_id) if cap.point_id is not None else None
    location = _location(ctx, point)
    entries = tuple(_finding(ctx, f, location) for f in findings)
    result: dict[str, Any] = cap.result or {}
    thermal = visible = None
    range_c = None
    try:
        data = ctx.blobs.get(cap.sha256)
        visible, range_c = file_extras(data, name=cap.filename)
        thermogram = load_thermogram(data, name=cap.filename)
        markers = markers_from_doc(result, labels=marker_labels(entries, ctx.grade_names))
        thermal = thermal_figure(thermogram, markers, palette=ctx.palette)
    except IrpatrolError:  # the image is gone or unreadable: the numbers still stand
        thermal = None
    taken = _aware(cap.taken_at) or _aware(cap.received_at)
    trend_png = None
    points: tuple[TrendPoint, ...] = ()
    analysis = None
    if trend and point is not None:
        points = _trend(ctx, point, until=None)
        trend_png = trend_chart(points, axis_label=ctx.axis_label, current=taken)
        if analyse:
            analysis = _point_trend(ctx, point, chart=trend_chart_png, current=taken)
    cond = result.get("conditions") or {}
    return CaptureEntry(
        name=cap.filename,
        taken_at=taken,
        location=location,
        point=(f"{point.code} {point.name}" if point.name and point.name != point.code else point.code)
        if point is not None
        else None,
        camera=Instrument(
            make=cap.camera_make, model=cap.camera_model, serial=cap.camera_serial, range_c=range_c
        ),
        thermal_image=thermal,
        visible_jpeg=photo(visible),
        trend_png=trend_png,
        trend=points,
        point_trend=analysis,
        emissivity=result.get("emissivity"),
        distance_m=result.get("distance_m"),
        min_c=cap.min_c,
        max_c=cap.max_c,
        environment=Environment(
            ambient_c=cap.ambient_c if cap.ambient_c is not None else cond.get("ambient_c"),
            humidity_pct=cap.humidity if cap.humidity is not None else cond.get("humidity_pct"),
            wind_ms=cap.wind_ms if cap.wind_ms is not None else cond.get("wind_ms"),
        ),
        load_ratio=cap.load_ratio,
        findings=entries,
    )


def _mean(values: Iterable[float | None]) -> float | None:
    vs = [v for v in values if v is not None]
    return round(statistics.fmean(vs), 1) if vs else None


def _unreadable(cap: Capture) -> Unreadable:
    if cap.status == "pending":
        reason = "pending analysis" if cap.error is None else f"pending analysis (last error: {cap.error})"
    else:
        reason = cap.error or cap.status
    return Unreadable(name=f"{cap.filename} (capture {cap.id})", reason=reason)


def _header(
    ctx: _Ctx,
    caps: Sequence[Capture],
    entries: Sequence[CaptureEntry],
    *,
    station: Asset | None,
    started: datetime | None,
    finished: datetime | None,
    source: str,
    execution: Execution | None = None,
    plan: PatrolPlan | None = None,
) -> Header:
    points = [ctx.session.get(Point, c.point_id) for c in caps if c.point_id is not None]
    bays = tuple(dict.fromkeys(b for b in (_bay(ctx, p) for p in points) if b))
    cams: dict[tuple[str | None, str | None, str | None], Instrument] = {}
    for e in entries:
        key = (e.camera.make, e.camera.model, e.camera.serial)
        if any(key) and key not in cams:
            cams[key] = e.camera
    packs = {c.rule_pack for c in caps if c.rule_pack}
    versions = {
        str((c.result or {}).get("rule_pack_version"))
        for c in caps
        if (c.result or {}).get("rule_pack_version")
    }
    times = [e.taken_at for e in entries if e.taken_at is not None]
    kind: Literal["robot", "person"] | None = None
    if execution is not None:
        mapped = ROBOT_SOURCES.get(execution.data_source)
        kind = "robot" if mapped == "robot" else "person" if mapped == "person" else None
    return Header(
        station=station.name if station is not None else None,
        bays=bays,
        started_at=started or (min(times) if times else None),
        finished_at=finished or (max(times) if times else None),
        patrol_type=plan.patrol_type if plan is not None else None,
        instruments=tuple(cams.values()),
        environment=Environment(
            ambient_c=_mean(e.environment.ambient_c for e in entries),
            humidity_pct=_mean(e.environment.humidity_pct for e in entries),
            wind_ms=_mean(e.environment.wind_ms for e in entries),
        ),
        load_ratio=_mean(c.load_ratio for c in caps),
        load_current_a=_mean(c.load_current_a for c in caps),
        executor=execution.executor if execution is not None else None,
        executor_kind=kind,
        rule_pack=", ".join(sorted(packs)) or None,
        rule_pack_version=", ".join(sorted(versions)) or None,
        source=source,
    )


def _patrol(ctx: _Ctx, caps: Sequence[Capture]) -> tuple[list[Capture], list[CaptureEntry], list[Unreadable]]:
    analysed = [c for c in caps if c.status == "analyzed"]
    # the early warnings of a point are judged once, as of its last capture in the report
    last = {c.point_id: c.id for c in analysed if c.point_id is not None}
    latest = set(last.values())
    entries = [_capture(ctx, c, c.findings, trend=True, analyse=c.id in latest) for c in analysed]
    return analysed, entries, [_unreadable(c) for c in caps if c.status != "analyzed"]


def _by_time(caps: Iterable[Capture]) -> list[Capture]:
    return sorted(
        caps,
        key=lambda c: (_aware(c.taken_at) or _aware(c.received_at) or datetime.min.replace(tzinfo=UTC), c.id),
    )


def build_report(
    session: Session,
    blobs: BlobStore,
    request: ReportRequest,
    *,
    lang: str,
    templates: TemplateSet | None = None,
    palette: str = "iron",
    trend_params: TrendParams | None = None,
    rules: str = "dlt664-2016",
) -> Report:
    """The report ``request`` asks for, from the database and the image store.

    ``trend_params`` and ``rules`` (the default rule pack) judge each reported point's
    history as ``GET /points/{id}/trend`` does (defaults: :class:`TrendParams`' own).

    Raises :class:`~irpatrol.errors.RecordNotFoundError` when the execution, finding or
    station does not exist, :class:`~irpatrol.errors.ParameterError` when a station's
    range holds more than :data:`MAX_CAPTURES` captures.
    """
    labels = (templates or TemplateSet()).labels(lang)
    ctx = _Ctx(
        session=session,
        blobs=blobs,
        lang=lang,
        grade_names=dict(labels.get("grades") or {}),
        axis_label=str(labels.get("trend_axis", "T1 (°C)")),
        palette=palette,
        paths={},
        trend_params=trend_params or TrendParams(),
        rules=rules,
        rise_axis={str(k): str(v) for k, v in (labels.get("trend_rise_axis") or {}).items()},
        point_trends={},
    )
    now = datetime.now(UTC)
    if request.execution_id is not None:
        return _execution_report(ctx, request.execution_id, now)
    if request.finding_id is not None:
        return _defect_report(ctx, request.finding_id, now)
    assert request.station is not None  # ReportRequest checks one is given
    return _station_report(ctx, request.station, request.since, request.until, now)


def _execution_report(ctx: _Ctx, execution_id: int, now: datetime) -> Report:
    ex = ctx.session.get(Execution, execution_id)
    if ex is None:
        raise RecordNotFoundError("execution", execution_id)
    plan = ctx.session.get(PatrolPlan, ex.plan_id)
    station = ctx.session.get(Asset, plan.station_id) if plan is not None else None
    caps = _by_time(ctx.session.scalars(select(Capture).where(Capture.execution_id == ex.id)))
    _check_count(len(caps))
    analysed, entries, unreadable = _patrol(ctx, caps)
    missed = []
    for m in execution_report(ctx.session, ex)["missed"]:
        point = ctx.session.get(Point, m["point_id"])
        missed.append(MissedPoint(code=m["code"], name=m["name"], location=_location(ctx, point)))
    header = _header(
        ctx,
        analysed,
        entries,
        station=station,
        started=_aware(ex.started_at),
        finished=_aware(ex.finished_at),
        source=f"execution {ex.id}" + (f" ({plan.name})" if plan is not None else ""),
        execution=ex,
        plan=plan,
    )
    return Report(
        kind="patrol",
        lang=ctx.lang,
        header=header,
        captures=tuple(entries),
        unreadable=tuple(unreadable),
        missed=tuple(missed),
        generated_at=now,
    )


def _check_count(n: int) -> None:
    if n > MAX_CAPTURES:
        raise ParameterError(
            "range", n, f"at most {MAX_CAPTURES} captures in one report: narrow the time range"
        )


def _station_report(
    ctx: _Ctx, code: str, since: datetime | None, until: datetime | None, now: datetime
) -> Report:
    station = ctx.session.scalar(select(Asset).where(Asset.kind == "station", Asset.code == code))
    if station is None:
        raise RecordNotFoundError("station", code)
    when = Capture.taken_at
    q = select(Capture).where(Capture.station_id == station.id)
    if since is not None:
        q = q.where(or_(when >= since, (when.is_(None)) & (Capture.received_at >= since)))
    if until is not None:
        q = q.where(or_(when < until, (when.is_(None)) & (Capture.received_at < until)))
    caps = _by_time(ctx.session.scalars(q.limit(MAX_CAPTURES + 1)))
    _check_count(len(caps))
    analysed, entries, unreadable = _patrol(ctx, caps)
    header = _header(
        ctx,
        analysed,
        entries,
        station=station,
        started=_aware(since),
        finished=_aware(until),
        source=f"station {station.code}",
    )
    return Report(
        kind="patrol",
        lang=ctx.lang,
        header=header,
        captures=tuple(entries),
        unreadable=tuple(unreadable),
        generated_at=now,
    )


def _defect_report(ctx: _Ctx, finding_id: int, now: datetime) -> Report:
    f = ctx.session.get(Finding, finding_id)
    if f is None:
        raise RecordNotFoundError("finding", finding_id)
    cap = f.capture
    ex = ctx.session.get(Execution, cap.execution_id) if cap.execution_id is not None else None
    plan = ctx.session.get(PatrolPlan, ex.plan_id) if ex is not None else None
    station = ctx.session.get(Asset, cap.station_id) if cap.station_id is not None else None
    entry = _capture(ctx, cap, [f], trend=True, trend_chart_png=True)
    header = _header(
        ctx,
        [cap],
        [entry],
        station=station,
        started=None,
        finished=None,
        source=f"finding {f.id}, capture {cap.id}",
        execution=ex,
        plan=plan,
    )
    return Report(kind="defect", lang=ctx.lang, header=header, captures=(entry,), generated_at=now)
