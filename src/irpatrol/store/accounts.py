"""Users, roles, scopes and bearer tokens.

Passwords are kept as argon2id hashes (argon2-cffi's defaults, RFC 9106).  Tokens
are 256-bit random strings shown once; only their SHA-256 is stored, so a stolen
database does not yield usable tokens.  A token's scopes are a subset of what its
user's role allows, and the role is checked again on every use, so demoting a
user narrows the tokens they already hold.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import Connection, bindparam, select
from sqlalchemy.orm import Session

from irpatrol.errors import ParameterError
from irpatrol.store.models import ROLES, ApiToken, User, utcnow

SCOPES = ("read", "captures:write", "review", "assets:write", "admin")
"""What a token may do: read everything; upload captures and run patrols; review findings and
move defects through their lifecycle; edit assets and plans; manage users, tokens and webhooks."""

ROLE_SCOPES: dict[str, tuple[str, ...]] = {
    "viewer": ("read",),
    "operator": ("read", "captures:write", "review", "assets:write"),
    "admin": SCOPES,
}

TOKEN_PREFIX = "irp_"
_hasher = PasswordHasher()


@dataclass(frozen=True)
class Principal:
    """Who is calling: the user, the role, and the scopes this call may use."""

    user_id: int
    name: str
    role: str
    scopes: frozenset[str]
    token_id: int

    def can(self, scope: str) -> bool:
        """True if the call may use ``scope``."""
        return scope in self.scopes


def hash_password(password: str) -> str:
    """argon2id hash of ``password`` (at least 8 characters)."""
    if len(password) < 8:
        raise ParameterError("password", "<hidden>", "at least 8 characters")
    return _hasher.hash(password)


def verify_password(stored_hash: str | None, password: str) -> bool:
    """True if ``password`` matches; a user without a password never matches."""
    if stored_hash is None:
        _hasher.hash("timing-equaliser")  # spend the same time as a real check
        return False
    try:
        return _hasher.verify(stored_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def token_digest(token: str) -> str:
    """SHA-256 hex of a token: what is stored and looked up."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def create_user(session: Session, name: str, role: str, password: str | None) -> User:
    """Add a user; the name must be new and the role one of :data:`ROLES`."""
    name = name.strip()
    if not name or len(name) > 128:
        raise ParameterError("name", name, "a user name of 1 to 128 characters")
    if role not in ROLES:
        raise ParameterError("role", role, f"one of {', '.join(ROLES)}")
    if session.scalar(select(User).where(User.name == name)) is not None:
        raise ParameterError("name", name, "a user name that is not taken")
    user = User(name=name, role=role, password_hash=hash_password(password) if password else None)
    session.add(user)
    session.flush()
    return user


def create_token(
    session: Session,
    user: User,
    *,
    scopes: tuple[str, ...] | None = None,
    kind: str = "api",
    name: str | None = None,
    lifetime: timedelta | None = None,
) -> tuple[str, ApiToken]:
    """A new bearer token for ``user``: returns the secret (shown once) and its row.

    ``scopes`` default to everything the user's role allows and may not exceed it.
    """
    allowed = ROLE_SCOPES[user.role]
    wanted = tuple(dict.fromkeys(scopes)) if scopes else allowed
    bad = [s for s in wanted if s not in allowed]
    if bad:
        raise ParameterError(
            "scope", ",".join(bad), f"scopes the role {user.role!r} allows ({', '.join(allowed)})"
        )
    secret = TOKEN_PREFIX + secrets.token_urlsafe(32)
    row = ApiToken(
        user_id=user.id,
        token_hash=token_digest(secret),
        prefix=secret[:10],
        kind=kind,
        name=name,
        scopes=list(wanted),
        expires_at=utcnow() + lifetime if lifetime else None,
    )
    session.add(row)
    session.flush()
    return secret, row


_TOKEN_ROW = (
    select(
        ApiToken.id, ApiToken.revoked, ApiToken.expires_at, ApiToken.scopes,
        User.id, User.name, User.role, User.active,
    )
    .join(User, User.id == ApiToken.user_id)
    .where(ApiToken.token_hash == bindparam("token_hash"))
)  # fmt: skip
"""Every API call runs this: columns, not entities (one joined row of plain values costs a
fraction of loading two ORM objects), and built once (its compiled form is cached)."""


def resolve_token(conn: Session | Connection, token: str, *, now: datetime | None = None) -> Principal | None:
    """The principal a bearer token stands for, or ``None`` if unknown, revoked, expired or inactive."""
    if not token.startswith(TOKEN_PREFIX) or len(token) > 200:
        return None
    row = conn.execute(_TOKEN_ROW, {"token_hash": token_digest(token)}).first()
    if row is None:
        return None
    token_id, revoked, expires_at, scopes, user_id, name, role, active = row
    if revoked or not active:
        return None
    if expires_at is not None and expires_at <= (now or utcnow()):
        return None
    allowed = set(ROLE_SCOPES.get(role, ()))
    return Principal(
        user_id=user_id,
        name=name,
        role=role,
        scopes=frozenset(s for s in scopes or () if s in allowed),
        token_id=token_id,
    )
