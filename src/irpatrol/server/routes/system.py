"""Health (the one anonymous endpoint), login, and who am I."""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated

from fastapi import APIRouter, Depends, Request
from sqlalchemy import select, text

from irpatrol import __version__
from irpatrol.server.errors import ApiError
from irpatrol.server.schemas import Health, LoginIn, TokenOut
from irpatrol.server.security import DB, RT, audit, principal
from irpatrol.store.accounts import Principal, create_token, verify_password
from irpatrol.store.models import ApiToken, User

router = APIRouter()


@router.get("/health", response_model=Health, tags=["system"], summary="Liveness and database check")
def health(rt: RT) -> Health:
    """Anonymous: ``ok`` when the database answers."""
    try:
        with rt.engine.connect() as conn:
            conn.execute(text("SELECT 1"))
    except Exception as exc:
        raise ApiError(503, "unavailable", f"database unavailable: {type(exc).__name__}") from None
    return Health(status="ok", version=__version__, database=rt.engine.dialect.name)


@router.post("/auth/login", response_model=TokenOut, tags=["auth"], summary="Log in: a session token")
def login(body: LoginIn, request: Request, db: DB, rt: RT) -> TokenOut:
    """Exchange a user name and password for a bearer token valid ``session_hours``.

    Attempts are limited per user name and per client address; a refused login
    says nothing about whether the user exists.
    """
    limiter = request.app.state.login_limiter
    client = request.client.host if request.client else "?"
    for key in (f"user:{body.username.lower()}", f"addr:{client}"):
        wait = limiter.hit(key)
        if wait is not None:
            raise ApiError(
                429,
                "rate_limited",
                f"too many login attempts; try again in {wait:.0f} s",
                {"Retry-After": str(max(1, int(wait)))},
            )
    user = db.scalar(select(User).where(User.name == body.username))
    ok = verify_password(user.password_hash if user else None, body.password)
    if user is None or not ok or not user.active:
        audit(db, body.username[:128], "auth.login_failed", "user", body.username[:64], client=client)
        db.commit()
        raise ApiError(401, "unauthorized", "wrong user name or password")
    lifetime = timedelta(hours=rt.settings.session_hours)
    secret, row = create_token(db, user, kind="session", name=f"login from {client}", lifetime=lifetime)
    db.commit()
    return TokenOut(
        token=secret, expires_at=row.expires_at, scopes=list(row.scopes), user=user.name, role=user.role
    )


@router.post("/auth/logout", status_code=204, tags=["auth"], summary="Revoke the calling token")
def logout(db: DB, who: Annotated[Principal, Depends(principal)]) -> None:
    row = db.get(ApiToken, who.token_id)
    if row is not None:
        row.revoked = True
        db.commit()


@router.get("/me", tags=["auth"], summary="Who the token belongs to and what it may do")
def me(who: Annotated[Principal, Depends(principal)]) -> dict[str, object]:
    return {"user": who.name, "role": who.role, "scopes": sorted(who.scopes)}
