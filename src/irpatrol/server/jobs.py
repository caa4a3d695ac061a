"""Background jobs: analyse a capture, deliver a webhook, recover work a dead worker left.

The database is the truth and the queue a hint.  A capture is ``pending`` until a
worker *claims* it (a conditional update that only one worker wins), analyses it
with the shared pipeline and writes measurements, findings and status in one
transaction.  A worker killed mid-job leaves a stale claim that the recovery sweep
hands out again, so every accepted capture is analysed, and analysed once: a
second delivery of the same job finds nothing to claim.

Failures are told apart (:func:`irpatrol.errors.failure_kind`): a bad file fails
at once with its message; a transient error (storage, database) and a bug are
retried with backoff up to ``analysis_attempts`` times, then fail, and a bug is
logged with its traceback for someone to look at.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import timedelta
from functools import lru_cache
from typing import TYPE_CHECKING, Any

import yaml
from sqlalchemy import and_, or_, select, update

from irpatrol.errors import failure_kind
from irpatrol.server.trend import series_params
from irpatrol.store.models import Capture, Finding, Point, utcnow
from irpatrol.store.results import apply_inspection, finding_rows
from irpatrol.store.series import record_series

if TYPE_CHECKING:
    from irpatrol.diagnosis.points import InspectionPoint
    from irpatrol.diagnosis.rulepack import RulePack
    from irpatrol.server.runtime import Runtime
    from irpatrol.thermal.radiometry import Thermogram

log = logging.getLogger("irpatrol.server.jobs")

CLAIM_LEASE = timedelta(minutes=2)
"""A claim older than this belongs to a dead worker and may be taken again."""

SERIOUS = 2
"""Grade value from which a new defect is pushed to webhooks (serious, critical)."""


class RetryLater(Exception):
    """Raised by a job that should run again after ``delay`` seconds."""

    def __init__(self, delay: float, reason: str) -> None:
        self.delay = delay
        super().__init__(reason)


@dataclass(frozen=True)
class JobOutcome:
    """What a job did: ``analyzed``, ``failed``, ``skipped`` (nothing to claim)."""

    status: str
    detail: str = ""


@lru_cache(maxsize=32)
def _pack(name: str) -> RulePack:
    from irpatrol.diagnosis.rulepack import load_rule_pack

    return load_rule_pack(name)


def point_inspection_points(point: Point) -> tuple[InspectionPoint, ...]:
    """The configured regions of a stored point as pipeline input; none means automatic mode."""
    from irpatrol.diagnosis.points import parse_points

    spec = dict(point.spec or {})
    if not spec.get("phases"):
        return ()
    spec.setdefault("id", point.code)
    spec.setdefault("device", point.name)
    spec.setdefault("part", point.part)
    spec.setdefault("heating_type", point.heating_type)
    spec.pop("images", None)
    text = yaml.safe_dump({"points": [spec]}, allow_unicode=True)
    return parse_points(text, path=f"point {point.code}").points


def _claim(rt: Runtime, capture_id: int) -> bool:
    now = utcnow()
    with rt.sessions() as s, s.begin():
        res = s.execute(
            update(Capture)
            .where(
                Capture.id == capture_id,
                Capture.status == "pending",
                or_(Capture.claimed_at.is_(None), Capture.claimed_at < now - CLAIM_LEASE),
            )
            .values(claimed_at=now, attempts=Capture.attempts + 1)
        )
        return bool(res.rowcount)  # type: ignore[attr-defined]


def _reference_loader(rt: Runtime) -> Any:
    """Resolve a point's ``reference_image``: ``sha256:<hex>`` or ``capture:<id>`` of stored images."""
    from irpatrol.errors import AnalysisError
    from irpatrol.formats import open_thermal

    def load(name: str) -> Thermogram:
        sha = None
        if name.startswith("sha256:"):
            sha = name.removeprefix("sha256:")
        elif name.startswith("capture:") and name.removeprefix("capture:").isdigit():
            with rt.sessions() as s:
                sha = s.scalar(select(Capture.sha256).where(Capture.id == int(name[8:])))
        if sha is None or not rt.blobs.exists(sha):
            raise AnalysisError(f"reference image {name!r} is not stored on the server")
        with open_thermal(rt.blobs.get(sha), name=name) as tf:
            return tf.first_frame().thermogram()

    return load


def analyze_capture(rt: Runtime, capture_id: int) -> JobOutcome:
    """Claim and analyse one capture; write its results or its failure.

    Raises :class:`RetryLater` when a transient error or a bug leaves attempts.
    """
    if not _claim(rt, capture_id):
        return JobOutcome("skipped", "not pending or claimed by another worker")
    with rt.sessions() as s:
        cap = s.get(Capture, capture_id)
        assert cap is not None  # claimed just now
        point = s.get(Point, cap.point_id) if cap.point_id is not None else None
    try:
        from irpatrol.pipeline import Conditions, inspect_image

        data = rt.blobs.get(cap.sha256)
        pack_name = (point.rule_pack if point and point.rule_pack else None) or rt.settings.rules
        pack = _pack(pack_name)
        points = point_inspection_points(point) if point is not None else ()
        inspection = inspect_image(
            data,
            name=cap.filename,
            points=points,
            pack=pack,
            conditions=Conditions(
                ambient_c=cap.ambient_c,
                load_ratio=cap.load_ratio,
                humidity_pct=cap.humidity,
                wind_ms=cap.wind_ms,
                distance_m=cap.distance_m,
            ),
            reference_loader=_reference_loader(rt),
        )
        doc = inspection.to_dict()
    except Exception as exc:
        return _fail_or_retry(rt, cap, exc)
    _store_result(rt, capture_id, doc, pack.name)
    return JobOutcome("analyzed")


def _store_result(rt: Runtime, capture_id: int, doc: dict[str, Any], pack: str) -> None:
    from irpatrol.server.webhooks import queue_defect_events

    new_defects: list[Finding] = []
    with rt.sessions() as s, s.begin():
        cap = s.get(Capture, capture_id)
        assert cap is not None
        if cap.status != "pending":  # another worker finished it after our claim went stale
            return
        for old in list(cap.findings):
            s.delete(old)
        s.flush()
        apply_inspection(cap, doc, rule_pack=pack)
        rows = finding_rows(cap, doc)
        record_series(s, cap, rows, series_params(rt.settings))
        s.add_all(rows)
        s.flush()
        new_defects = [f for f in rows if f.grade_value >= SERIOUS]
        if new_defects:
            queue_defect_events(s, "defect.created", new_defects, cap)
    if new_defects:
        from irpatrol.server.tasks import kick_webhooks

        kick_webhooks(rt)


def _fail_or_retry(rt: Runtime, cap: Capture, exc: Exception) -> JobOutcome:
    kind = failure_kind(exc)
    message = f"{type(exc).__name__}: {exc}" if kind == "bug" else str(exc)
    if kind == "bug":
        log.error("analysis of capture %s hit a bug", cap.id, exc_info=exc)
    retry = kind != "bad-input" and cap.attempts < rt.settings.analysis_attempts
    with rt.sessions() as s, s.begin():
        s.execute(
            update(Capture)
            .where(Capture.id == cap.id, Capture.status == "pending")
            .values(
                claimed_at=None,
                error=message[:2000],
                error_kind=kind,
                **({} if retry else {"status": "failed"}),
            )
        )
    if retry:
        raise RetryLater(min(2.0**cap.attempts, 60.0), message)
    return JobOutcome("failed", message)


def recoverable_captures(rt: Runtime, *, everything: bool) -> list[int]:
    """Pending captures whose job may be lost: all unclaimed ones (``everything``, at worker start)
    or only those with a stale claim or left waiting long (periodic sweep)."""
    now = utcnow()
    stale = Capture.claimed_at < now - CLAIM_LEASE
    if everything:
        cond = or_(Capture.claimed_at.is_(None), stale)
    else:
        cond = or_(
            stale, and_(Capture.claimed_at.is_(None), Capture.received_at < now - timedelta(minutes=10))
        )
    with rt.sessions() as s:
        return list(
            s.scalars(select(Capture.id).where(Capture.status == "pending", cond).order_by(Capture.id))
        )
