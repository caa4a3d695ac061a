"""Group commit of uploads: every upload waiting at the same moment shares one transaction.

An accepted upload must be committed (and its analysis queued) before the API answers
201.  One transaction per upload made the database's commit the server's bottleneck:
on SQLite, writers in one process queue for the write lock by sleeping and polling
(the busy handler sleeps up to 100 ms at a time), and every commit is an fsync of the
database and another of the queue; on PostgreSQL each upload was a connection checkout,
an insert and a commit.  Here one thread per API process records uploads in batches:
it takes whatever is waiting (up to :data:`MAX_BATCH`), inserts the rows in one
transaction (:func:`~irpatrol.store.captures.record_captures`), queues their analyses
in one write, and answers each upload's future.  Under light load a batch is one upload
and nothing waits for a batch to fill; under heavy load the cost of a commit is shared.

Durability is unchanged: no upload is answered before its row is committed, and a
process killed mid-batch answers none of that batch (the clients retry with their keys).
"""

from __future__ import annotations

import logging
import queue
import threading
from concurrent.futures import Future
from typing import TYPE_CHECKING

from irpatrol.store.captures import Accepted, PreparedCapture, record_capture, record_captures

if TYPE_CHECKING:
    from irpatrol.server.runtime import Runtime

log = logging.getLogger("irpatrol.server.group_commit")

MAX_BATCH = 128
"""Most uploads in one transaction (bounds the statement's size and a batch's latency)."""

_STOP = object()


class UploadCommitter:
    """Records prepared uploads in batches on one thread of its own; see the module docstring."""

    def __init__(self, rt: Runtime) -> None:
        self._rt = rt
        self._queue: queue.SimpleQueue[object] = queue.SimpleQueue()
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self._closed = False

    def submit(self, prepared: PreparedCapture) -> Future[Accepted]:
        """Queue ``prepared`` for the next batch; the future gets its :class:`Accepted` or error.

        The error is a :class:`~irpatrol.errors.ParameterError` for a bad point, execution
        or reused key, or the database's exception.
        """
        fut: Future[Accepted] = Future()
        with self._lock:
            if self._closed:
                raise RuntimeError("the upload committer is closed")
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="irpatrol-group-commit", daemon=True)
                self._thread.start()
            self._queue.put((prepared, fut))
        return fut

    def close(self, timeout_s: float = 30.0) -> None:
        """Record what is queued, then stop the thread (waits at most ``timeout_s``)."""
        with self._lock:
            if self._closed:
                return
            self._closed = True
            thread = self._thread
            self._queue.put(_STOP)
        if thread is not None:
            thread.join(timeout_s)

    def _run(self) -> None:
        while True:
            item = self._queue.get()
            if item is _STOP:
                return
            batch = [item]
            stop = False
            while len(batch) < MAX_BATCH:
                try:
                    nxt = self._queue.get_nowait()
                except queue.Empty:
                    break
                if nxt is _STOP:
                    stop = True
                    break
                batch.append(nxt)
            self._commit(batch)  # type: ignore[arg-type]
            if stop:
                return

    def _commit(self, batch: list[tuple[PreparedCapture, Future[Accepted]]]) -> None:
        answers: list[Accepted | BaseException]
        try:
            try:
                with self._rt.sessions() as s:
                    answers = list(record_captures(s, [p for p, _ in batch]))
            except Exception:  # e.g. a key inserted by another process meanwhile: one by one
                log.debug("batch of %d uploads failed; recording them one by one", len(batch), exc_info=True)
                answers = [self._one(p) for p, _ in batch]
            created = [a.id for a in answers if isinstance(a, Accepted) and a.created]
            if created:
                from irpatrol.server.tasks import enqueue_analyses

                try:
                    enqueue_analyses(self._rt, created)
                except Exception:  # the rows are committed: the recovery sweep queues them
                    log.exception("queueing the analysis of %d captures failed", len(created))
        except BaseException as exc:  # never leave an upload without an answer
            answers = [exc] * len(batch)
        for (_, fut), answer in zip(batch, answers, strict=True):
            if isinstance(answer, BaseException):
                fut.set_exception(answer)
            else:
                fut.set_result(answer)

    def _one(self, prepared: PreparedCapture) -> Accepted | BaseException:
        try:
            with self._rt.sessions() as s:
                return record_capture(s, prepared)
        except Exception as exc:
            return exc
