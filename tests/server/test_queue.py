"""The task queue on PostgreSQL: built by many processes at once, one round trip per enqueue."""

from __future__ import annotations

import threading
from typing import Any

import pytest
from sqlalchemy import text

from irpatrol.config import load_settings
from irpatrol.server.runtime import open_runtime
from irpatrol.server.tasks import _make_huey, enqueue_analyses
from irpatrol.store.db import make_engine


@pytest.mark.postgres
def test_queue_tables_created_by_many_at_once(pg_url: str, tmp_path: Any) -> None:
    """Every API process and worker builds its queue on first use; racing creators must not fail.

    Plain ``CREATE TABLE IF NOT EXISTS`` from two connections at once fails one of them
    with a unique violation in ``pg_type``: this was a real 500 on an upload under load.
    """
    engine = make_engine(pg_url)
    settings = load_settings(data_dir=tmp_path / "data", database_url=pg_url)
    rt = open_runtime(settings)
    errors: list[BaseException] = []
    try:
        for _ in range(5):  # bounded: five rounds of eight racing creators
            with engine.begin() as conn:
                conn.execute(
                    text("DROP TABLE IF EXISTS huey_kv, huey_schedule, huey_task, huey_counter CASCADE")
                )
            barrier = threading.Barrier(8, timeout=30)

            def build(barrier: threading.Barrier = barrier) -> None:
                try:
                    barrier.wait()
                    _make_huey(rt).storage.close()
                except BaseException as exc:  # collected and re-raised in the test thread
                    errors.append(exc)

            threads = [threading.Thread(target=build) for _ in range(8)]
            for t in threads:
                t.start()
            for t in threads:
                t.join(timeout=60)
            assert not errors, errors[0]
        with engine.connect() as conn:
            tables = set(
                conn.scalars(text("SELECT tablename FROM pg_tables WHERE tablename LIKE 'huey%'")).all()
            )
        assert {"huey_kv", "huey_schedule", "huey_task", "huey_counter"} <= tables
    finally:
        rt.close()
        engine.dispose()


@pytest.mark.postgres
def test_enqueue_is_one_statement_and_wakes_a_listener(
    pg_url: str, tmp_path: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    import psycopg

    settings = load_settings(data_dir=tmp_path / "data", database_url=pg_url)
    rt = open_runtime(settings)
    try:
        rt.queue.flush()
        with psycopg.connect(pg_url.replace("postgresql+psycopg", "postgresql"), autocommit=True) as listener:
            listener.execute(f'LISTEN "{rt.queue.storage.channel}"')
            executed: list[str] = []
            execute = psycopg.Cursor.execute

            def logged(self: psycopg.Cursor[Any], query: Any, *a: Any, **k: Any) -> Any:
                executed.append(str(query))
                return execute(self, query, *a, **k)

            monkeypatch.setattr(psycopg.Cursor, "execute", logged)
            enqueue_analyses(rt, [4242])
            monkeypatch.undo()
            assert len(executed) == 1, executed
            assert rt.queue.pending_count() == 1
            assert len(list(listener.notifies(timeout=5, stop_after=1))) == 1
    finally:
        rt.queue.flush()
        rt.close()
