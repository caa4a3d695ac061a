"""Who is calling and what they may do: bearer tokens, scopes, the login rate limit and the audit log.

Every endpoint but ``/api/v1/health`` depends on :func:`require` with a scope.
A missing or unknown token answers 401, a token without the scope 403.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Awaitable, Callable
from typing import Annotated, Any

from fastapi import Depends, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy import Engine
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from irpatrol.server.errors import ApiError
from irpatrol.server.runtime import Runtime
from irpatrol.store.accounts import Principal, resolve_token
from irpatrol.store.models import AuditEntry

bearer = HTTPBearer(
    auto_error=False, description="A token from POST /api/v1/auth/login or `irpatrol token create`"
)


def runtime(request: Request) -> Runtime:
    """The server's runtime (set by :func:`~irpatrol.server.app.create_app`)."""
    rt: Runtime = request.app.state.runtime
    return rt


def db_session(request: Request, rt: Annotated[Runtime, Depends(runtime)]) -> Any:
    """A database session for one request; the route commits what it changes.

    GET and HEAD requests only read: their session takes no write lock on SQLite.
    """
    with (rt.read_sessions if request.method in {"GET", "HEAD"} else rt.sessions)() as s:
        yield s


async def principal(
    creds: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)],
    rt: Annotated[Runtime, Depends(runtime)],
) -> Principal:
    """The caller behind the bearer token; 401 when there is none or it is not valid.

    On SQLite the lookup runs on the event loop (:attr:`Runtime.lookup_inline`),
    elsewhere in the thread pool.
    """
    if creds is None or creds.scheme.lower() != "bearer":
        raise ApiError(401, "unauthorized", "a bearer token is required", {"WWW-Authenticate": "Bearer"})
    if rt.lookup_inline:
        who = _lookup(rt.lookup_engine, creds.credentials)
    else:
        who = await run_in_threadpool(_lookup, rt.lookup_engine, creds.credentials)
    if who is None:
        raise ApiError(
            401, "unauthorized", "the token is unknown, revoked or expired", {"WWW-Authenticate": "Bearer"}
        )
    return who


def _lookup(engine: Engine, token: str) -> Principal | None:
    try:
        with engine.connect() as conn:
            return resolve_token(conn, token)
    except DBAPIError as exc:
        if not exc.connection_invalidated:
            raise
    with engine.connect() as conn:  # a pooled connection had dropped (database restarted): once more
        return resolve_token(conn, token)


def require(scope: str) -> Callable[..., Awaitable[Principal]]:
    """A dependency: the caller, who must hold ``scope`` (403 otherwise)."""

    async def check(who: Annotated[Principal, Depends(principal)]) -> Principal:  # no I/O: no thread hop
        if not who.can(scope):
            raise ApiError(403, "forbidden", f"this call needs the {scope!r} scope, which the token lacks")
        return who

    check.__name__ = f"require_{scope.replace(':', '_')}"
    return check


Reader = Annotated[Principal, Depends(require("read"))]
Uploader = Annotated[Principal, Depends(require("captures:write"))]
Reviewer = Annotated[Principal, Depends(require("review"))]
AssetEditor = Annotated[Principal, Depends(require("assets:write"))]
Admin = Annotated[Principal, Depends(require("admin"))]
DB = Annotated[Session, Depends(db_session)]
RT = Annotated[Runtime, Depends(runtime)]


class RateLimiter:
    """At most ``limit`` events per key in a sliding ``window_s`` (per process, in memory).

    Used for logins: per user name and per client address, so guessing one
    account's password and spraying many accounts from one address are both slowed.
    """

    def __init__(self, limit: int, window_s: float = 60.0) -> None:
        self.limit = limit
        self.window_s = window_s
        self._events: dict[str, deque[float]] = {}
        self._lock = threading.Lock()

    def hit(self, key: str) -> float | None:
        """Count one event; ``None`` if allowed, else seconds until the next is allowed."""
        now = time.monotonic()
        with self._lock:
            q = self._events.setdefault(key, deque())
            while q and q[0] <= now - self.window_s:
                q.popleft()
            if len(q) >= self.limit:
                return q[0] + self.window_s - now
            q.append(now)
            if len(self._events) > 100_000:  # bound memory under a spray of keys
                self._events = {k: v for k, v in self._events.items() if v and v[-1] > now - self.window_s}
            return None


def audit(
    session: Session, who: Principal | str, action: str, target_type: str, target_id: object, **detail: Any
) -> None:
    """Record an action in the audit log (in the caller's transaction)."""
    session.add(
        AuditEntry(
            actor=who if isinstance(who, str) else who.name,
            action=action,
            target_type=target_type,
            target_id=str(target_id),
            detail=detail or None,
        )
    )
