"""Administration: users, machine tokens, webhooks and their deliveries, the audit log."""

from __future__ import annotations

import secrets
from datetime import timedelta
from typing import Annotated

from fastapi import APIRouter, Query
from sqlalchemy import select

from irpatrol.server.errors import ApiError, get_or_404, not_found
from irpatrol.server.schemas import (
    AuditOut,
    DeliveryOut,
    Page,
    TokenIn,
    TokenOut,
    UserIn,
    UserOut,
    WebhookIn,
    WebhookOut,
)
from irpatrol.server.security import DB, Admin, audit
from irpatrol.store.accounts import create_token, create_user
from irpatrol.store.findings import count_rows
from irpatrol.store.models import AuditEntry, User, Webhook, WebhookDelivery

router = APIRouter(tags=["admin"])


@router.get("/users", response_model=list[UserOut], summary="List users")
def list_users(db: DB, who: Admin) -> list[UserOut]:
    return [UserOut.model_validate(u) for u in db.scalars(select(User).order_by(User.id))]


@router.post("/users", response_model=UserOut, status_code=201, summary="Add a user")
def add_user(body: UserIn, db: DB, who: Admin) -> UserOut:
    user = create_user(db, body.name, body.role, body.password)
    audit(db, who, "user.create", "user", user.id, name=user.name, role=user.role)
    db.commit()
    return UserOut.model_validate(user)


@router.post("/tokens", response_model=TokenOut, status_code=201, summary="Create a scoped machine token")
def add_token(body: TokenIn, db: DB, who: Admin) -> TokenOut:
    """A bearer token for a robot or another system; the secret is shown only in this answer."""
    user = db.scalar(select(User).where(User.name == body.user))
    if user is None:
        raise not_found("user", body.user)
    lifetime = timedelta(days=body.days) if body.days else None
    secret, row = create_token(db, user, scopes=tuple(body.scopes or ()), name=body.name, lifetime=lifetime)
    audit(db, who, "token.create", "token", row.id, user=user.name, scopes=row.scopes)
    db.commit()
    return TokenOut(
        token=secret, expires_at=row.expires_at, scopes=list(row.scopes), user=user.name, role=user.role
    )


@router.get("/webhooks", response_model=list[WebhookOut], summary="List webhooks")
def list_webhooks(db: DB, who: Admin) -> list[WebhookOut]:
    return [WebhookOut.model_validate(h) for h in db.scalars(select(Webhook).order_by(Webhook.id))]


@router.post("/webhooks", response_model=WebhookOut, status_code=201, summary="Subscribe a webhook")
def add_webhook(body: WebhookIn, db: DB, who: Admin) -> WebhookOut:
    """Deliveries are POSTed as JSON, signed with HMAC-SHA256 of the secret (docs/server.md)."""
    hook = Webhook(url=body.url, secret=body.secret, events=list(dict.fromkeys(body.events)))
    db.add(hook)
    db.flush()
    audit(db, who, "webhook.create", "webhook", hook.id, url=body.url, events=hook.events)
    db.commit()
    return WebhookOut.model_validate(hook)


@router.delete("/webhooks/{webhook_id}", status_code=204, summary="Stop a webhook")
def delete_webhook(webhook_id: int, db: DB, who: Admin) -> None:
    hook = get_or_404(db, Webhook, webhook_id, "webhook")
    hook.active = False
    audit(db, who, "webhook.disable", "webhook", hook.id)
    db.commit()


@router.get(
    "/webhooks/{webhook_id}/deliveries", response_model=Page[DeliveryOut], summary="A webhook's deliveries"
)
def list_deliveries(
    webhook_id: int,
    db: DB,
    who: Admin,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    offset: Annotated[int, Query(ge=0, le=10_000_000)] = 0,
) -> Page[DeliveryOut]:
    q = select(WebhookDelivery).where(WebhookDelivery.webhook_id == webhook_id)
    total = count_rows(db, q)
    rows = db.scalars(q.order_by(WebhookDelivery.id.desc()).limit(limit).offset(offset))
    return Page[DeliveryOut](
        total=total, limit=limit, offset=offset, items=[DeliveryOut.model_validate(d) for d in rows]
    )


@router.get("/audit", response_model=Page[AuditOut], summary="The audit log, newest first")
def list_audit(
    db: DB,
    who: Admin,
    action: str | None = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    offset: Annotated[int, Query(ge=0, le=10_000_000)] = 0,
) -> Page[AuditOut]:
    q = select(AuditEntry)
    if action:
        q = q.where(AuditEntry.action == action)
    total = count_rows(db, q)
    rows = db.scalars(q.order_by(AuditEntry.id.desc()).limit(limit).offset(offset))
    return Page[AuditOut](
        total=total, limit=limit, offset=offset, items=[AuditOut.model_validate(a) for a in rows]
    )


_ = (secrets, ApiError)
