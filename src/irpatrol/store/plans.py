"""Patrol plans (巡视任务) a robot downloads, their executions, and what each execution covered or missed.

A plan is an ordered list of inspection points of one station.  An execution is one
run of it; the captures uploaded with its id say which points were covered.  Plan
points with no capture in the execution are *missed* (SGCC status 4 漏检).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from irpatrol.errors import ParameterError
from irpatrol.store.assets import point_brief
from irpatrol.store.models import (
    PATROL_TYPES,
    Asset,
    Capture,
    Execution,
    PatrolPlan,
    PlanPoint,
    Point,
    utcnow,
)
from irpatrol.store.sgcc import DATA_SOURCE_CODES

DATA_SOURCES = tuple(DATA_SOURCE_CODES)
"""Where an execution's captures come from: camera, robot, drone, acoustic, online, handheld."""

MAX_PLAN_POINTS = 5000


def create_plan(
    session: Session, *, name: str, station_id: int, patrol_type: str, point_ids: Sequence[int]
) -> PatrolPlan:
    """Add a plan visiting ``point_ids`` in that order; all must be points of the station.

    Raises :class:`ParameterError` for an unknown station, an unknown or foreign point or
    a point listed twice.  Flushes, does not commit.
    """
    station = session.get(Asset, station_id)
    if station is None or station.kind != "station":
        raise ParameterError("station_id", station_id, "the id of a station")
    if patrol_type not in PATROL_TYPES:
        raise ParameterError("patrol_type", patrol_type, f"one of {', '.join(PATROL_TYPES)}")
    if not point_ids:
        raise ParameterError("point_ids", [], "at least one point id")
    if len(point_ids) > MAX_PLAN_POINTS:
        raise ParameterError("point_ids", len(point_ids), f"at most {MAX_PLAN_POINTS} points")
    dup = next((p for i, p in enumerate(point_ids) if p in point_ids[:i]), None)
    if dup is not None:
        raise ParameterError("point_ids", dup, "each point once (it is listed twice)")
    found = {p.id: p for p in session.scalars(select(Point).where(Point.id.in_(point_ids)))}
    for pid in point_ids:
        p = found.get(pid)
        if p is None:
            raise ParameterError("point_ids", pid, "ids of existing inspection points")
        if p.station_id != station_id:
            raise ParameterError(
                "point_ids", pid, f"points of station {station_id} (it belongs to {p.station_id})"
            )
    plan = PatrolPlan(name=name, station_id=station_id, patrol_type=patrol_type)
    plan.items = [PlanPoint(seq=i + 1, point_id=pid) for i, pid in enumerate(point_ids)]
    session.add(plan)
    session.flush()
    return plan


def plan_summary(plan: PatrolPlan) -> dict[str, Any]:
    """A plan's own fields and its number of points."""
    return {
        "id": plan.id,
        "name": plan.name,
        "station_id": plan.station_id,
        "patrol_type": plan.patrol_type,
        "created_at": plan.created_at,
        "n_points": len(plan.items),
    }


def plan_points(session: Session, plan: PatrolPlan) -> list[dict[str, Any]]:
    """The plan's points in order with what a robot needs: preset, part, phase, device and regions."""
    ids = [it.point_id for it in plan.items]
    points = {p.id: p for p in session.scalars(select(Point).where(Point.id.in_(ids)))} if ids else {}
    comp_ids = {p.component_id for p in points.values()}
    comps = (
        {a.id: a for a in session.scalars(select(Asset).where(Asset.id.in_(comp_ids)))} if comp_ids else {}
    )
    dev_ids = {a.parent_id for a in comps.values() if a.parent_id is not None}
    devs = {a.id: a for a in session.scalars(select(Asset).where(Asset.id.in_(dev_ids)))} if dev_ids else {}
    out = []
    for it in plan.items:
        p = points[it.point_id]
        comp = comps.get(p.component_id)
        dev = devs.get(comp.parent_id) if comp is not None and comp.parent_id is not None else None
        out.append(
            {
                "seq": it.seq,
                **point_brief(p),
                "point_id": p.id,
                "rated_current_a": p.rated_current_a,
                "rule_pack": p.rule_pack,
                "device_type": p.device_type,
                "component": _ref(comp),
                "device": _ref(dev),
                "spec": p.spec,
            }
        )
    return out


def _ref(a: Asset | None) -> dict[str, Any] | None:
    if a is None:
        return None
    return {"id": a.id, "code": a.code, "name": a.name, "device_type": a.device_type}


def start_execution(
    session: Session, plan: PatrolPlan, *, executor: str | None, data_source: str
) -> Execution:
    """Record the start of a run of ``plan`` (flushes, does not commit)."""
    if data_source not in DATA_SOURCES:
        raise ParameterError("data_source", data_source, f"one of {', '.join(DATA_SOURCES)}")
    ex = Execution(plan_id=plan.id, executor=executor, data_source=data_source, status="running")
    session.add(ex)
    session.flush()
    return ex


def finish_execution(ex: Execution) -> bool:
    """Mark a run finished now; ``False`` (and nothing changed) if it already was."""
    if ex.status == "finished":
        return False
    ex.status = "finished"
    ex.finished_at = utcnow()
    return True


def execution_report(session: Session, ex: Execution) -> dict[str, Any]:
    """Every plan point with its captures in this run and its worst grade, the missed points and counts.

    A point's worst grade is the highest graded finding of its captures (``None`` before
    analysis).  Captures of the run at points outside the plan are listed as ``extra``.
    """
    plan = session.get(PatrolPlan, ex.plan_id)
    assert plan is not None  # foreign key
    caps = list(session.scalars(select(Capture).where(Capture.execution_id == ex.id).order_by(Capture.id)))
    by_point: dict[int | None, list[Capture]] = {}
    for c in caps:
        by_point.setdefault(c.point_id, []).append(c)
    items = []
    missed = []
    counts = {
        "planned": len(plan.items),
        "covered": 0,
        "missed": 0,
        "captures": len(caps),
        "pending": 0,
        "analyzed": 0,
        "failed": 0,
        "defects": 0,
    }
    for c in caps:
        counts[c.status] = counts.get(c.status, 0) + 1
        counts["defects"] += sum(1 for f in c.findings if f.grade_value >= 1)
    planned = set()
    for row in plan_points(session, plan):
        pid = row["point_id"]
        planned.add(pid)
        here = by_point.get(pid, [])
        worst = _worst(here)
        entry = {
            "seq": row["seq"],
            "point_id": pid,
            "code": row["code"],
            "name": row["name"],
            "preset_id": row["preset_id"],
            "captures": [_capture_brief(c) for c in here],
            "worst_grade": worst[0],
            "worst_grade_value": worst[1],
            "missed": not here,
        }
        items.append(entry)
        if not here:
            missed.append({k: entry[k] for k in ("seq", "point_id", "code", "name", "preset_id")})
    counts["covered"] = len(items) - len(missed)
    counts["missed"] = len(missed)
    extra = [_capture_brief(c) for c in caps if c.point_id not in planned]
    return {
        "id": ex.id,
        "plan_id": ex.plan_id,
        "plan_name": plan.name,
        "station_id": plan.station_id,
        "executor": ex.executor,
        "data_source": ex.data_source,
        "status": ex.status,
        "started_at": ex.started_at,
        "finished_at": ex.finished_at,
        "counts": counts,
        "items": items,
        "missed": missed,
        "extra": extra,
    }


def _worst(caps: list[Capture]) -> tuple[str | None, int | None]:
    best: tuple[str | None, int | None] = (None, None)
    for c in caps:
        for f in c.findings:
            if best[1] is None or f.grade_value > best[1]:
                best = (f.grade, f.grade_value)
    return best


def _capture_brief(c: Capture) -> dict[str, Any]:
    worst = _worst([c])
    return {
        "id": c.id,
        "point_id": c.point_id,
        "status": c.status,
        "taken_at": c.taken_at,
        "received_at": c.received_at,
        "max_c": c.max_c,
        "worst_grade": worst[0],
        "worst_grade_value": worst[1],
    }
