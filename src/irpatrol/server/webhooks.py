"""Signed webhooks from a durable outbox: at-least-once delivery with an event id.

An event (a new serious or critical defect, a closed defect) is written to
``webhook_deliveries`` in the same transaction as the change that caused it, one
row per subscribed webhook, so no event is lost between the database and the
network.  Deliveries are sent by the task queue and retried with exponential
backoff (2, 4, 8 … s, at most an hour apart) until the receiver answers 2xx or
``webhook_attempts`` are spent (then ``dead``, visible in the API).

Each POST carries::

    X-Irpatrol-Event: defect.created
    X-Irpatrol-Event-Id: <uuid>            (the same on every retry: receivers drop duplicates)
    X-Irpatrol-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>.<body>")>

Receivers verify with :func:`verify_signature` (or the same three lines in any language).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import time
import uuid
from collections.abc import Sequence
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from irpatrol.store.models import Capture, Finding, Webhook, WebhookDelivery, utcnow

if TYPE_CHECKING:
    from irpatrol.server.runtime import Runtime

log = logging.getLogger("irpatrol.server.webhooks")

EVENTS = ("defect.created", "defect.closed")
"""Events a webhook may subscribe to."""

MAX_BACKOFF_S = 3600.0


def sign(secret: str, timestamp: int, body: bytes) -> str:
    """The ``X-Irpatrol-Signature`` header value for ``body`` sent at ``timestamp`` (unix s)."""
    mac = hmac.new(secret.encode("utf-8"), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={mac}"


def verify_signature(secret: str, header: str, body: bytes, *, tolerance_s: float = 300.0) -> bool:
    """True if ``header`` signs ``body`` with ``secret`` and is at most ``tolerance_s`` old."""
    try:
        parts = dict(p.split("=", 1) for p in header.split(","))
        ts = int(parts["t"])
    except (ValueError, KeyError):
        return False
    if abs(time.time() - ts) > tolerance_s:
        return False
    return hmac.compare_digest(sign(secret, ts, body), f"t={ts},v1={parts.get('v1', '')}")


def backoff_s(attempts: int) -> float:
    """Wait before the next try after ``attempts`` failed ones: 2^attempts s, at most an hour."""
    return float(min(2.0**attempts, MAX_BACKOFF_S))


def finding_payload(f: Finding, cap: Capture | None) -> dict[str, Any]:
    """The defect as pushed to other systems: ids, grade, numbers, rule, status, where and when."""
    return {
        "finding_id": f.id,
        "capture_id": f.capture_id,
        "point_id": f.point_id,
        "station_id": f.station_id,
        "subject": f.subject,
        "device": f.device,
        "part": f.part,
        "grade": f.grade,
        "grade_value": f.grade_value,
        "rule_pack": f.rule_pack,
        "rule_id": f.rule_id,
        "clause": f.clause,
        "t1_c": f.t1_c,
        "t2_c": f.t2_c,
        "t0_c": f.t0_c,
        "delta_t_k": f.delta_t_k,
        "delta_pct": f.delta_pct,
        "flags": f.flags,
        "defect_status": f.defect_status,
        "taken_at": f.taken_at.isoformat() if f.taken_at else None,
        "sha256": cap.sha256 if cap else None,
        "lat": cap.lat if cap else None,
        "lon": cap.lon if cap else None,
    }


def queue_defect_events(
    session: Session, event_type: str, findings: Sequence[Finding], capture: Capture | None = None
) -> int:
    """Write one delivery per (finding, subscribed webhook) in the caller's transaction; return how many."""
    hooks = [
        h for h in session.scalars(select(Webhook).where(Webhook.active)) if event_type in (h.events or [])
    ]
    n = 0
    for f in findings:
        # the same occurrence always gets the same id (a reopened and closed again defect is a new one)
        occurrence = (
            f.status_changed_at.isoformat() if event_type == "defect.closed" and f.status_changed_at else ""
        )
        event_id = str(
            uuid.uuid5(uuid.NAMESPACE_URL, f"irpatrol:{event_type}:{f.id}:{f.capture_id}:{occurrence}")
        )
        queued = set(
            session.scalars(select(WebhookDelivery.webhook_id).where(WebhookDelivery.event_id == event_id))
        )
        cap = capture if capture is not None else session.get(Capture, f.capture_id)
        payload = {
            "id": event_id,
            "type": event_type,
            "created_at": utcnow().isoformat(),
            "data": finding_payload(f, cap),
        }
        for h in hooks:
            if h.id in queued:  # already in the outbox: an event is queued once per subscriber
                continue
            session.add(
                WebhookDelivery(event_id=event_id, webhook_id=h.id, event_type=event_type, payload=payload)
            )
            n += 1
    return n


def _claim_due(rt: Runtime, limit: int = 50) -> list[int]:
    now = utcnow()
    lease = now + timedelta(seconds=rt.settings.webhook_timeout_s * 3)
    claimed = []
    with rt.sessions() as s, s.begin():
        ids = list(
            s.scalars(
                select(WebhookDelivery.id)
                .where(WebhookDelivery.status == "pending", WebhookDelivery.next_attempt_at <= now)
                .order_by(WebhookDelivery.id)
                .limit(limit)
            )
        )
        for i in ids:
            res = s.execute(
                update(WebhookDelivery)
                .where(
                    WebhookDelivery.id == i,
                    WebhookDelivery.status == "pending",
                    WebhookDelivery.next_attempt_at <= now,
                )
                .values(next_attempt_at=lease)
            )
            if res.rowcount:  # type: ignore[attr-defined]
                claimed.append(i)
    return claimed


def deliver_one(rt: Runtime, delivery_id: int) -> bool:
    """POST one claimed delivery; record the outcome.  True when the receiver took it (2xx)."""
    import httpx

    with rt.sessions() as s:
        d = s.get(WebhookDelivery, delivery_id)
        hook = s.get(Webhook, d.webhook_id) if d else None
    if d is None or hook is None:
        return False
    body = json.dumps(d.payload, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
    headers = {
        "Content-Type": "application/json",
        "User-Agent": "irpatrol-webhook/1",
        "X-Irpatrol-Event": d.event_type,
        "X-Irpatrol-Event-Id": d.event_id,
        "X-Irpatrol-Signature": sign(hook.secret, int(time.time()), body),
    }
    code: int | None = None
    error: str | None = None
    try:
        r = httpx.post(hook.url, content=body, headers=headers, timeout=rt.settings.webhook_timeout_s)
        code = r.status_code
        if not 200 <= code < 300:
            error = f"receiver answered HTTP {code}"
    except httpx.HTTPError as exc:
        error = f"{type(exc).__name__}: {exc}"
    now = utcnow()
    attempts = d.attempts + 1
    values: dict[str, Any] = {"attempts": attempts, "last_status_code": code, "last_error": error}
    if error is None:
        values |= {"status": "delivered", "delivered_at": now}
    elif attempts >= rt.settings.webhook_attempts:
        values |= {"status": "dead"}
        log.warning(
            "webhook delivery %s to %s is dead after %d attempts: %s", d.id, hook.url, attempts, error
        )
    else:
        values |= {"next_attempt_at": now + timedelta(seconds=backoff_s(attempts))}
    with rt.sessions() as s, s.begin():
        s.execute(update(WebhookDelivery).where(WebhookDelivery.id == d.id).values(**values))
    return error is None


def deliver_due(rt: Runtime) -> float | None:
    """Send every due delivery; return seconds until the next pending one is due (``None``: none)."""
    while True:
        ids = _claim_due(rt)
        if not ids:
            break
        for i in ids:
            deliver_one(rt, i)
    with rt.sessions() as s:
        nxt = s.scalar(
            select(WebhookDelivery.next_attempt_at)
            .where(WebhookDelivery.status == "pending")
            .order_by(WebhookDelivery.next_attempt_at)
            .limit(1)
        )
    if nxt is None:
        return None
    return max(0.5, (nxt - utcnow()).total_seconds())
