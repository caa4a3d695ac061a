"""Queries over findings shared by the API, the exports and the reports."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

from irpatrol.store.models import Finding


@dataclass(frozen=True, kw_only=True)
class FindingFilter:
    """Which findings: by station, point, capture, grade, status and time taken (UTC)."""

    station_id: int | None = None
    point_id: int | None = None
    capture_id: int | None = None
    grades: tuple[str, ...] = ()
    min_grade: int | None = None
    defect_statuses: tuple[str, ...] = ()
    review_statuses: tuple[str, ...] = ()
    since: datetime | None = None
    until: datetime | None = None


def filter_findings(flt: FindingFilter) -> Select[Finding]:
    """A SELECT of the findings matching ``flt`` (unordered)."""
    q = select(Finding)
    if flt.station_id is not None:
        q = q.where(Finding.station_id == flt.station_id)
    if flt.point_id is not None:
        q = q.where(Finding.point_id == flt.point_id)
    if flt.capture_id is not None:
        q = q.where(Finding.capture_id == flt.capture_id)
    if flt.grades:
        q = q.where(Finding.grade.in_(flt.grades))
    if flt.min_grade is not None:
        q = q.where(Finding.grade_value >= flt.min_grade)
    if flt.defect_statuses:
        q = q.where(Finding.defect_status.in_(flt.defect_statuses))
    if flt.review_statuses:
        q = q.where(Finding.review_status.in_(flt.review_statuses))
    if flt.since is not None:
        q = q.where(Finding.taken_at >= flt.since)
    if flt.until is not None:
        q = q.where(Finding.taken_at < flt.until)
    return q


def count_rows(session: Session, query: Select[Any]) -> int:
    """How many rows ``query`` matches, counted in the database without reading them.

    ``SELECT count(*) FROM t WHERE …`` rather than a count over a subquery of every column:
    SQLite would otherwise read each row's JSON facts just to count it.
    """
    stmt = query.with_only_columns(func.count(), maintain_column_froms=True).order_by(None)
    return int(session.scalar(stmt) or 0)
