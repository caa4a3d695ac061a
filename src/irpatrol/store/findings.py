"""Queries over findings shared by the API, the exports and the reports."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Select, select

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
