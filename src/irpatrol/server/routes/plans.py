"""Patrol plans a robot downloads, and executions: start a run, finish it, see what it covered and missed."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query
from sqlalchemy import select

from irpatrol.errors import ParameterError
from irpatrol.server.asset_schemas import (
    ExecutionBrief,
    ExecutionIn,
    ExecutionOut,
    PlanDetail,
    PlanIn,
    PlanOut,
)
from irpatrol.server.errors import ApiError, get_or_404
from irpatrol.server.schemas import Page
from irpatrol.server.security import DB, AssetEditor, Reader, Uploader, audit
from irpatrol.store.findings import count_rows
from irpatrol.store.models import Execution, PatrolPlan
from irpatrol.store.plans import (
    create_plan,
    execution_report,
    finish_execution,
    plan_points,
    plan_summary,
    start_execution,
)

router = APIRouter(tags=["plans"])


def _plan(db: Any, plan_id: int) -> PatrolPlan:
    plan = get_or_404(db, PatrolPlan, plan_id, "plan")
    return plan


def _execution(db: Any, execution_id: int) -> Execution:
    ex = get_or_404(db, Execution, execution_id, "execution")
    return ex


def _detail(db: Any, plan: PatrolPlan) -> PlanDetail:
    return PlanDetail.model_validate({**plan_summary(plan), "points": plan_points(db, plan)})


@router.post("/plans", status_code=201, response_model=PlanDetail, summary="Create a patrol plan")
def post_plan(body: PlanIn, db: DB, who: AssetEditor) -> PlanDetail:
    """The points (all of the station, each once) are visited in the order given."""
    try:
        plan = create_plan(
            db,
            name=body.name,
            station_id=body.station_id,
            patrol_type=body.patrol_type,
            point_ids=body.point_ids,
        )
    except ParameterError as exc:
        raise ApiError(422, "invalid", str(exc)) from None
    audit(db, who, "plan.create", "plan", plan.id, name=plan.name, points=len(body.point_ids))
    db.commit()
    return _detail(db, plan)


@router.get("/plans", response_model=Page[PlanOut], summary="List patrol plans")
def list_plans(
    db: DB,
    who: Reader,
    station_id: int | None = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    offset: Annotated[int, Query(ge=0, le=10_000_000)] = 0,
) -> Page[PlanOut]:
    """Newest first; filter by station."""
    q = select(PatrolPlan)
    if station_id is not None:
        q = q.where(PatrolPlan.station_id == station_id)
    total = count_rows(db, q)
    rows = db.scalars(q.order_by(PatrolPlan.id.desc()).limit(limit).offset(offset)).all()
    return Page[PlanOut](
        total=total, limit=limit, offset=offset, items=[PlanOut.model_validate(plan_summary(p)) for p in rows]
    )


@router.get("/plans/{plan_id}", response_model=PlanDetail, summary="A plan with its ordered points")
def get_plan(plan_id: int, db: DB, who: Reader) -> PlanDetail:
    """What a robot downloads: per point its id, code, name, preset, part, phase, device and regions."""
    return _detail(db, _plan(db, plan_id))


@router.post(
    "/plans/{plan_id}/executions",
    status_code=201,
    response_model=ExecutionOut,
    summary="Start a run of a plan",
)
def post_execution(plan_id: int, body: ExecutionIn, db: DB, who: Uploader) -> ExecutionOut:
    """Answers the execution's ``id``: send it as ``execution_id`` with each capture of the run."""
    plan = _plan(db, plan_id)
    ex = start_execution(db, plan, executor=body.executor, data_source=body.data_source)
    audit(db, who, "execution.start", "execution", ex.id, plan_id=plan.id, executor=body.executor)
    db.commit()
    return ExecutionOut.model_validate(execution_report(db, ex))


@router.post("/executions/{execution_id}/finish", response_model=ExecutionOut, summary="Finish a run")
def post_finish(execution_id: int, db: DB, who: Uploader) -> ExecutionOut:
    """Mark the run finished (again is harmless); the answer lists the points it missed."""
    ex = _execution(db, execution_id)
    if finish_execution(ex):
        audit(db, who, "execution.finish", "execution", ex.id)
        db.commit()
    return ExecutionOut.model_validate(execution_report(db, ex))


@router.get("/executions", response_model=Page[ExecutionBrief], summary="List patrol executions")
def list_executions(
    db: DB,
    who: Reader,
    station_id: int | None = None,
    plan_id: int | None = None,
    status: Literal["running", "finished"] | None = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    offset: Annotated[int, Query(ge=0, le=10_000_000)] = 0,
) -> Page[ExecutionBrief]:
    """Newest first; filter by station, plan and status.  Per-point coverage: ``GET /executions/{id}``."""
    q = select(Execution).join(PatrolPlan, PatrolPlan.id == Execution.plan_id)
    if station_id is not None:
        q = q.where(PatrolPlan.station_id == station_id)
    if plan_id is not None:
        q = q.where(Execution.plan_id == plan_id)
    if status is not None:
        q = q.where(Execution.status == status)
    total = count_rows(db, q)
    rows = db.execute(
        q.add_columns(PatrolPlan).order_by(Execution.id.desc()).limit(limit).offset(offset)
    ).all()
    items = [
        ExecutionBrief(
            id=ex.id,
            plan_id=plan.id,
            plan_name=plan.name,
            station_id=plan.station_id,
            executor=ex.executor,
            data_source=ex.data_source,
            status=ex.status,
            started_at=ex.started_at,
            finished_at=ex.finished_at,
        )
        for ex, plan in rows
    ]
    return Page[ExecutionBrief](total=total, limit=limit, offset=offset, items=items)


@router.get(
    "/executions/{execution_id}", response_model=ExecutionOut, summary="A run: covered and missed points"
)
def get_execution(execution_id: int, db: DB, who: Reader) -> ExecutionOut:
    """Every plan point with its captures in this run and worst grade; missed points; counts."""
    return ExecutionOut.model_validate(execution_report(db, _execution(db, execution_id)))
