"""The task queue: huey, on the same database family the server uses.

* SQLite (default): :class:`huey.SqliteHuey`, a file ``queue.db`` beside the
  database — no extra server, survives restarts.
* PostgreSQL: :class:`huey.PostgresHuey` in the same database (``huey_*`` tables,
  ``FOR UPDATE SKIP LOCKED`` and LISTEN/NOTIFY), so any number of ``irpatrol worker``
  processes on any number of machines share one queue.

Why huey and not a home-made loop, procrastinate or Celery: ``docs/server.md``.
Tasks are thin: they call :mod:`irpatrol.server.jobs` and
:mod:`irpatrol.server.webhooks`, which hold the logic and keep the database the
truth.  ``recover`` re-enqueues what a killed worker may have lost; it runs when a
consumer starts and every minute.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from huey import Huey, PostgresHuey, SqliteHuey, crontab
from huey.exceptions import RetryTask
from huey.storage import PostgresStorage, SqliteStorage
from sqlalchemy.engine import make_url

if TYPE_CHECKING:
    from huey.consumer import Consumer

    from irpatrol.server.runtime import Runtime

log = logging.getLogger("irpatrol.server.tasks")

QUEUE_NAME = "irpatrol"


_SCHEMA_LOCK = 0x69727061  # "irpa": the advisory lock key serialising huey's table creation


class _OneTripPostgresStorage(PostgresStorage):
    """huey's PostgreSQL storage, safe to create from many processes at once, enqueueing in one trip.

    * Creating the tables: ``CREATE TABLE IF NOT EXISTS`` is not safe against itself on
      PostgreSQL (two processes creating the same table at once: one fails with a unique
      violation in ``pg_type``), and every API process and worker builds its queue on first
      use.  The creation runs under a transaction-scoped advisory lock.
    * Enqueueing: huey's own runs ``begin``, the insert, ``pg_notify`` and ``commit`` under a
      per-process lock.  One statement on the autocommit connection is atomic by itself:
      the task row and the wake-up notification commit together or not at all.  Every upload
      enqueues, so this is on the server's hottest path.
    """

    def initialize_schema(self) -> None:
        with self.db(commit=True, close=True) as curs:
            curs.execute("SELECT pg_advisory_xact_lock(%s)", (_SCHEMA_LOCK,))
            for sql in self.ddl:
                curs.execute(sql)

    def enqueue(self, data: bytes, priority: int | None = None) -> None:
        self.enqueue_many([data], priority)

    def enqueue_many(self, datas: list[bytes], priority: int | None = None) -> None:
        """Enqueue many tasks in one statement: their rows and one wake-up commit together."""
        values = ", ".join(["(%s, %s, %s)"] * len(datas))
        params: list[object] = []
        for data in datas:
            params += [self.name, data, priority or 0]
        with self.db() as curs:
            curs.execute(
                f"WITH t AS (INSERT INTO {self.table_task} (queue, data, priority) VALUES {values} "
                "RETURNING id) SELECT pg_notify(%s, '') FROM (SELECT count(*) FROM t) AS n",
                (*params, self.channel),
            )


class _BatchSqliteStorage(SqliteStorage):
    """huey's SQLite storage with :meth:`enqueue_many`: one transaction (one fsync) for many tasks."""

    def enqueue_many(self, datas: list[bytes]) -> None:
        """Enqueue many tasks in one transaction."""
        with self.db(commit=True) as curs:
            curs.executemany(
                "insert into task (queue, data, priority) values (?, ?, 0)",
                [(self.name, self.to_blob(d)) for d in datas],
            )


class _PostgresHuey(PostgresHuey):
    storage_class = _OneTripPostgresStorage


class _SqliteHuey(SqliteHuey):
    storage_class = _BatchSqliteStorage


def _make_huey(rt: Runtime) -> Huey:
    url = make_url(rt.settings.resolved_database_url())
    common = {"results": False, "utc": True}
    if url.get_backend_name() == "postgresql":
        dsn = url.set(drivername="postgresql").render_as_string(hide_password=False)
        return _PostgresHuey(QUEUE_NAME, dsn=dsn, **common)
    return _SqliteHuey(QUEUE_NAME, filename=str(rt.settings.data_dir / "queue.db"), fsync=True, **common)


def build_queue(rt: Runtime) -> Huey:
    """A huey instance for ``rt`` with irpatrol's tasks registered on it."""
    from irpatrol.server import jobs, webhooks

    huey = _make_huey(rt)

    @huey.task(name="analyze_capture")
    def analyze_capture(capture_id: int) -> None:
        try:
            outcome = jobs.analyze_capture(rt, capture_id)
        except jobs.RetryLater as exc:
            raise RetryTask(delay=exc.delay) from exc
        log.info("capture %s: %s %s", capture_id, outcome.status, outcome.detail)

    @huey.task(name="deliver_webhooks")
    def deliver_webhooks() -> None:
        delay = webhooks.deliver_due(rt)
        if delay is not None:  # something is waiting for its backoff: come back then
            deliver_webhooks.schedule(delay=delay)

    @huey.task(name="recover")
    def recover(everything: bool = False) -> None:
        ids = jobs.recoverable_captures(rt, everything=everything)
        for cid in ids:
            analyze_capture(cid)
        if ids:
            log.info("re-enqueued %d pending captures", len(ids))
        webhooks.deliver_due(rt)

    @huey.periodic_task(crontab(minute="*"), name="recover_periodic")
    def recover_periodic() -> None:
        recover.call_local(False)

    huey.irpatrol_tasks = {
        "analyze_capture": analyze_capture,
        "deliver_webhooks": deliver_webhooks,
        "recover": recover,
    }
    return huey


def enqueue_analyses(rt: Runtime, capture_ids: list[int]) -> None:
    """Queue the analysis of captures (their rows committed first): one queue write for all.

    Both queue storages (:func:`_make_huey`) have ``enqueue_many``.
    """
    if not capture_ids:
        return
    huey = rt.queue
    task = huey.irpatrol_tasks["analyze_capture"]
    huey.storage.enqueue_many([huey.serialize_task(task.s(cid)) for cid in capture_ids])


def kick_webhooks(rt: Runtime) -> None:
    """Queue a delivery run of the webhook outbox."""
    rt.queue.irpatrol_tasks["deliver_webhooks"]()


def _consumer(rt: Runtime, workers: int, worker_type: str) -> Consumer:
    """A consumer polling every 50 ms to 1 s, with the periodic recovery sweep, after one
    sweep now that re-enqueues every pending capture whose job may have been lost."""
    rt.queue.irpatrol_tasks["recover"](True)
    return rt.queue.create_consumer(
        workers=workers,
        worker_type=worker_type,
        periodic=True,
        initial_delay=0.05,
        backoff=1.5,
        max_delay=1.0,
    )


def start_consumer(rt: Runtime, *, workers: int, worker_type: str = "thread") -> Consumer:
    """Start a consumer's worker threads without taking over signals (for ``serve``)."""
    import signal
    import threading

    consumer = _consumer(rt, workers, worker_type)
    if threading.current_thread() is not threading.main_thread():
        consumer.start()  # no signal handlers can be set off the main thread: nothing to keep
        return consumer
    # huey's start() installs its own SIGINT/SIGTERM/SIGHUP handlers for a consumer that owns
    # the process; here uvicorn owns it, so its handlers (graceful shutdown) are put back.
    kept = {sig: signal.getsignal(sig) for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)}
    try:
        consumer.start()
    finally:
        for sig, handler in kept.items():
            signal.signal(sig, handler)
    return consumer


def run_consumer(rt: Runtime, *, workers: int, worker_type: str = "process") -> None:
    """Run a consumer in the foreground until SIGINT/SIGTERM (``irpatrol worker``)."""
    if worker_type == "process":
        # Forked workers must not share the parent's pooled database connections (two processes
        # on one PostgreSQL connection corrupt its protocol state; SQLite forbids it): each child
        # forgets them without closing them and opens its own.
        import os

        os.register_at_fork(after_in_child=lambda: rt.engine.dispose(close=False))
    _consumer(rt, workers, worker_type).run()
