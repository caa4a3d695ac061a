"""Query parameters shared by several routes, parsed once into the store's filter objects."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from fastapi import Depends, Query

from irpatrol.store.findings import FindingFilter

GradeName = Literal["normal", "general", "serious", "critical", "not_graded"]


def finding_filter(
    station_id: int | None = None,
    point_id: int | None = None,
    capture_id: int | None = None,
    grade: Annotated[list[GradeName] | None, Query()] = None,
    min_grade: Annotated[int | None, Query(ge=0, le=3)] = None,
    defect_status: Annotated[list[Literal["open", "in_repair", "closed"]] | None, Query()] = None,
    review_status: Annotated[
        list[Literal["unreviewed", "confirmed", "false_alarm", "corrected"]] | None, Query()
    ] = None,
    since: datetime | None = None,
    until: datetime | None = None,
) -> FindingFilter:
    """Which findings: by station, point, capture, grade (names or a minimum value 0–3),
    defect and review status, and time taken (``since`` ≤ taken_at < ``until``)."""
    return FindingFilter(
        station_id=station_id,
        point_id=point_id,
        capture_id=capture_id,
        grades=tuple(grade or ()),
        min_grade=min_grade,
        defect_statuses=tuple(defect_status or ()),
        review_statuses=tuple(review_status or ()),
        since=since,
        until=until,
    )


FindingQuery = Annotated[FindingFilter, Depends(finding_filter)]
"""A route parameter: the findings filter from the query string."""
