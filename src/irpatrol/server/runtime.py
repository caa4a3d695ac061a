"""What every part of a running server shares: settings, database, image store and task queue.

One :class:`Runtime` is built per process from :class:`~irpatrol.config.Settings`
(:func:`open_runtime`); the API, the workers and the CLI's server commands all use it,
so they agree on where the data is.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from typing import TYPE_CHECKING

from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from irpatrol.config import Settings
from irpatrol.store.blobs import BlobStore
from irpatrol.store.db import has_schema, make_engine, read_only, session_factory, upgrade

if TYPE_CHECKING:
    from huey import Huey

    from irpatrol.server.group_commit import UploadCommitter


@dataclass
class Runtime:
    """Shared server state for one process."""

    settings: Settings
    engine: Engine
    sessions: sessionmaker[Session]
    blobs: BlobStore
    _queue: Huey | None = field(default=None, repr=False)
    _extra_engines: list[Engine] = field(default_factory=list, repr=False)

    @cached_property
    def queue(self) -> Huey:
        """The task queue (created on first use), with irpatrol's tasks registered."""
        from irpatrol.server.tasks import build_queue

        return build_queue(self)

    @cached_property
    def committer(self) -> UploadCommitter:
        """Records this process's uploads in batches (created on first use)."""
        from irpatrol.server.group_commit import UploadCommitter

        return UploadCommitter(self)

    @cached_property
    def read_sessions(self) -> sessionmaker[Session]:
        """Sessions for lookups only: on SQLite their transactions take no write lock."""
        return session_factory(read_only(self.engine))

    @property
    def lookup_inline(self) -> bool:
        """Whether :attr:`lookup_engine` may be used on the event loop itself (SQLite)."""
        return self.engine.dialect.name == "sqlite"

    @cached_property
    def lookup_engine(self) -> Engine:
        """For single-statement lookups (the bearer token on every call).

        * SQLite: read-only connections, one of the calling thread's own.  A lookup by key
          in WAL mode is a local read that neither waits for nor blocks a writer (tens of
          microseconds), so the API runs it on the event loop (:attr:`lookup_inline`): one
          thread hop less on every call.
        * PostgreSQL, where every query is a network round trip and goes through the thread
          pool: a pool of its own, in autocommit (one statement needs no transaction, which
          would cost two more round trips, ``BEGIN`` and ``ROLLBACK``) and without the
          pre-ping round trip: the caller retries once on a dropped connection instead
          (:func:`irpatrol.server.security.principal`).
        """
        url = self.settings.resolved_database_url()
        if self.lookup_inline:
            engine = make_engine(url, per_thread=True)
            self._extra_engines.append(engine)
            return read_only(engine)
        engine = make_engine(url, pool_size=5, pre_ping=False)
        self._extra_engines.append(engine)
        return engine.execution_options(isolation_level="AUTOCOMMIT")

    def close(self) -> None:
        """Release database connections, the task queue's included (PostgreSQL keeps one open).

        Uploads already handed to the committer are recorded first.
        """
        if "committer" in self.__dict__:
            self.committer.close()
        if "queue" in self.__dict__:  # built on first use only
            self.queue.storage.close()
        for engine in self._extra_engines:
            engine.dispose()
        self.engine.dispose()


def open_runtime(settings: Settings, *, migrate: bool = True) -> Runtime:
    """Open the database (migrating it to the current schema when ``migrate``) and the image store."""
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    engine = make_engine(settings.resolved_database_url())
    if migrate:
        upgrade(engine)
    elif not has_schema(engine):
        from irpatrol.errors import SettingsError

        raise SettingsError(
            "IRPATROL_DATABASE_URL", "the database has no irpatrol schema: run `irpatrol db upgrade`"
        )
    return Runtime(
        settings=settings,
        engine=engine,
        sessions=session_factory(engine),
        blobs=BlobStore(settings.data_dir / "images"),
    )
