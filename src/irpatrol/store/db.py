"""Engines, sessions and migrations for the server database.

SQLite (the zero-configuration default, a file in the data folder) runs in WAL
mode with ``synchronous=FULL`` and a busy timeout, so readers never block the
writer and a committed upload survives a killed process or a power cut.
PostgreSQL is used through any ``postgresql+psycopg://`` URL.  The schema is
created and changed only by Alembic migrations (:func:`upgrade`), on both.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event, inspect
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.pool import SingletonThreadPool

from irpatrol.errors import SettingsError

MIGRATIONS = Path(__file__).with_name("migrations")


def _sqlite_pragmas(dbapi_conn: sqlite3.Connection, _record: Any) -> None:
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA synchronous=FULL")
    cur.execute("PRAGMA foreign_keys=ON")
    cur.execute("PRAGMA busy_timeout=30000")
    cur.close()


READ_ONLY = "irpatrol_read_only"
"""Execution option marking a connection's transactions as read-only (see :func:`read_only`)."""


def _sqlite_begin(conn: Any) -> None:
    conn.exec_driver_sql("BEGIN" if conn.get_execution_options().get(READ_ONLY) else "BEGIN IMMEDIATE")


def read_only(engine: Engine) -> Engine:
    """``engine`` for transactions that only read: on SQLite they take no write lock.

    Writing in such a transaction may fail with "database is locked" under
    concurrency; use it for lookups only.  No effect on PostgreSQL.
    """
    return engine.execution_options(**{READ_ONLY: True})


def make_engine(url: str, *, pool_size: int = 10, per_thread: bool = False, pre_ping: bool = True) -> Engine:
    """An engine for ``url``; SQLite gets WAL, full sync, foreign keys and a 30 s busy timeout.

    ``per_thread`` (SQLite only): one connection per thread, kept open, never shared
    (for short reads on an event loop's own thread, :attr:`Runtime.lookup_engine`).
    ``pre_ping`` (PostgreSQL): test each connection with a round trip when it is taken
    from the pool; a caller that retries once on a dropped connection may turn it off.

    Raises :class:`~irpatrol.errors.SettingsError` for a URL SQLAlchemy cannot parse
    or a dialect that is not SQLite or PostgreSQL.
    """
    try:
        parsed = make_url(url)
    except ArgumentError as exc:
        raise SettingsError("IRPATROL_DATABASE_URL", f"not a database URL: {url!r}") from exc
    backend = parsed.get_backend_name()
    if backend == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        extra: dict[str, Any] = {"poolclass": SingletonThreadPool, "pool_size": 4} if per_thread else {}
        engine = create_engine(url, connect_args={"timeout": 30, "check_same_thread": False}, **extra)
        event.listen(engine, "connect", _sqlite_pragmas)
        # let SQLAlchemy, not pysqlite, decide where transactions begin: BEGIN IMMEDIATE (the write
        # lock, taken at once so a transaction never fails upgrading to it), but a plain BEGIN for
        # read-only work (:func:`read_only`), which in WAL mode neither waits for nor blocks anyone
        event.listen(engine, "begin", _sqlite_begin)

        @event.listens_for(engine, "connect")
        def _no_pysqlite_tx(dbapi_conn: sqlite3.Connection, _record: Any) -> None:
            dbapi_conn.isolation_level = None

        return engine
    if backend == "postgresql":
        return create_engine(url, pool_size=pool_size, max_overflow=pool_size, pool_pre_ping=pre_ping)
    raise SettingsError(
        "IRPATROL_DATABASE_URL", f"database {backend!r} is not supported (sqlite, postgresql)"
    )


def session_factory(engine: Engine) -> sessionmaker[Session]:
    """Sessions that keep loaded objects usable after commit (responses are built after it)."""
    return sessionmaker(engine, expire_on_commit=False)


@contextmanager
def transaction(factory: sessionmaker[Session]) -> Iterator[Session]:
    """A session whose work is committed on success and rolled back on any error."""
    with factory() as session, session.begin():
        yield session


def _alembic_config(engine: Engine) -> Any:
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.attributes["engine"] = engine
    return cfg


def upgrade(engine: Engine, revision: str = "head") -> None:
    """Create or migrate the schema to ``revision`` (idempotent; safe on every start)."""
    from alembic import command

    command.upgrade(_alembic_config(engine), revision)


def current_revision(engine: Engine) -> str | None:
    """The schema's Alembic revision, ``None`` for an empty database."""
    from alembic.runtime.migration import MigrationContext

    with engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


def has_schema(engine: Engine) -> bool:
    """True once the tables exist."""
    return inspect(engine).has_table("captures")
