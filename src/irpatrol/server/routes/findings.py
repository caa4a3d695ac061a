"""Findings and defects: list and filter, read one, review, move through the lifecycle."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Query
from fastapi.responses import Response
from sqlalchemy.orm import defer

from irpatrol.server.errors import ApiError, get_or_404
from irpatrol.server.filters import FindingQuery
from irpatrol.server.schemas import FindingOut, Page, ReviewIn, StatusIn
from irpatrol.server.security import DB, RT, Reader, Reviewer, audit
from irpatrol.server.views import finding_out, json_response
from irpatrol.store.findings import count_rows, filter_findings
from irpatrol.store.models import Finding, utcnow

router = APIRouter(tags=["findings"])


TRANSITIONS = {
    "open": {"in_repair", "closed"},
    "in_repair": {"open", "closed"},
    "closed": {"open"},
}
"""Allowed defect status changes (a closed defect may be reopened)."""


@router.get("/findings", response_model=Page[FindingOut], summary="List findings and defects")
def list_findings(
    db: DB,
    who: Reader,
    flt: FindingQuery,
    lang: Literal["zh", "en"] = "zh",
    texts: bool = False,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    offset: Annotated[int, Query(ge=0, le=10_000_000)] = 0,
) -> Response:
    """Newest first; filter by station, point, grade, defect and review status and time taken.

    List items carry the numbers, grade and states; ``texts=true`` adds the explanation and
    recommendation in ``lang`` (one finding's full facts: ``GET /findings/{id}``).
    """
    q = filter_findings(flt)
    total = count_rows(db, q)
    q = q.order_by(Finding.id.desc()).limit(limit).offset(offset)
    if not texts:  # the facts (a few kB each) are only needed to render texts
        q = q.options(defer(Finding.facts))
    rows = db.scalars(q).all()
    page = Page[FindingOut](
        total=total,
        limit=limit,
        offset=offset,
        items=[finding_out(f, lang=lang, with_facts=False, with_texts=texts) for f in rows],
    )
    return json_response(page)


@router.get("/findings/{finding_id}", response_model=FindingOut, summary="One finding with all its facts")
def get_finding(finding_id: int, db: DB, who: Reader, lang: Literal["zh", "en"] = "zh") -> FindingOut:
    f = get_or_404(db, Finding, finding_id, "finding")
    return finding_out(f, lang=lang)


@router.post("/findings/{finding_id}/review", response_model=FindingOut, summary="Review a finding")
def review_finding(finding_id: int, body: ReviewIn, db: DB, who: Reviewer) -> FindingOut:
    """Confirm it, call it a false alarm, or correct the value or grade; recorded in the audit log."""
    f = get_or_404(db, Finding, finding_id, "finding")
    if body.verdict == "corrected" and body.corrected_value_c is None and body.corrected_grade is None:
        raise ApiError(422, "invalid", "a correction needs corrected_value_c or corrected_grade")
    before = {"review_status": f.review_status, "corrected_value_c": f.corrected_value_c}
    f.review_status = body.verdict
    f.corrected_value_c = body.corrected_value_c if body.verdict == "corrected" else None
    f.corrected_grade = body.corrected_grade if body.verdict == "corrected" else None
    f.review_note = body.note
    f.reviewed_by = who.name
    f.reviewed_at = utcnow()
    if body.verdict == "false_alarm" and f.defect_status in {"open", "in_repair"}:
        f.defect_status = "closed"
        f.status_changed_at = utcnow()
    audit(
        db,
        who,
        "finding.review",
        "finding",
        f.id,
        before=before,
        verdict=body.verdict,
        note=body.note,
        corrected_value_c=body.corrected_value_c,
        corrected_grade=body.corrected_grade,
    )
    db.commit()
    return finding_out(f)


@router.post("/findings/{finding_id}/status", response_model=FindingOut, summary="Change a defect's status")
def change_status(finding_id: int, body: StatusIn, db: DB, rt: RT, who: Reviewer) -> FindingOut:
    """open → in_repair → closed (closed may be reopened); a closed serious/critical defect is pushed."""
    f = get_or_404(db, Finding, finding_id, "finding")
    if f.defect_status is None:
        raise ApiError(409, "conflict", f"finding {f.id} is graded {f.grade}: it is not a defect")
    if body.status == f.defect_status:
        return finding_out(f)
    if body.status not in TRANSITIONS[f.defect_status]:
        raise ApiError(409, "conflict", f"a defect cannot go from {f.defect_status} to {body.status}")
    before = f.defect_status
    f.defect_status = body.status
    f.status_changed_at = utcnow()
    audit(db, who, "defect.status", "finding", f.id, before=before, after=body.status, note=body.note)
    pushed = 0
    if body.status == "closed":
        from irpatrol.server.webhooks import queue_defect_events

        pushed = queue_defect_events(db, "defect.closed", [f])
    db.commit()
    if pushed:
        from irpatrol.server.tasks import kick_webhooks

        kick_webhooks(rt)
    return finding_out(f)
