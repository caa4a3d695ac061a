"""Group commit of uploads: one transaction for every upload waiting, one answer each, no row twice."""

from __future__ import annotations

import threading
from concurrent.futures import Future

import pytest
from sqlalchemy import func, select

from irpatrol.errors import ParameterError
from irpatrol.server import group_commit
from irpatrol.server.group_commit import UploadCommitter
from irpatrol.server.runtime import Runtime
from irpatrol.store.captures import (
    Accepted,
    CaptureFields,
    PreparedCapture,
    prepare_capture,
    record_captures,
)
from irpatrol.store.models import Capture
from tests.server.conftest import E40, FUSES, make_point


def _prepared(rt: Runtime, key: str | None, path: object = E40, **fields: object) -> PreparedCapture:
    data = path.read_bytes()  # type: ignore[attr-defined]
    return prepare_capture(
        rt.blobs,
        data,
        filename=path.name,  # type: ignore[attr-defined]
        fields=CaptureFields(**fields),  # type: ignore[arg-type]
        idempotency_key=key,
        user_id=None,
    )


def _rows(rt: Runtime) -> dict[str | None, int]:
    with rt.sessions() as s:
        counts = s.execute(select(Capture.idempotency_key, func.count()).group_by(Capture.idempotency_key))
        return {row[0]: row[1] for row in counts}


def test_one_batch_answers_each_upload_on_its_own(rt: Runtime) -> None:
    point_id, station_id = make_point(rt, rated_current_a=400.0)
    with rt.sessions() as s:
        [old] = record_captures(s, [_prepared(rt, "old")])
    assert isinstance(old, Accepted)
    assert old.created
    batch = [
        _prepared(rt, "a", point_id=point_id, load_current_a=200.0),  # new, on a point
        _prepared(rt, "b", point_id=point_id + 99),  # a point that does not exist
        _prepared(rt, "a"),  # the same key again in the same batch, same file
        _prepared(rt, "a", FUSES),  # the same key, another file
        _prepared(rt, None),  # no key
        _prepared(rt, "old"),  # a key from an earlier batch, same file
        _prepared(rt, "old", FUSES),  # a key from an earlier batch, another file
    ]
    with rt.sessions() as s:
        answers = record_captures(s, batch)
    assert len(answers) == len(batch)
    new_a, bad_point, again_a, other_a, no_key, again_old, other_old = answers
    assert isinstance(new_a, Accepted)
    assert new_a.created
    assert new_a.status == "pending"
    assert isinstance(bad_point, ParameterError)
    assert bad_point.parameter == "point_id"
    assert again_a == Accepted(new_a.id, new_a.sha256, "pending", created=False)
    assert isinstance(other_a, ParameterError)
    assert other_a.parameter == "Idempotency-Key"
    assert isinstance(no_key, Accepted)
    assert no_key.created
    assert no_key.id not in {new_a.id, old.id}
    assert again_old == Accepted(old.id, old.sha256, "pending", created=False)
    assert isinstance(other_old, ParameterError)
    assert _rows(rt) == {"old": 1, "a": 1, None: 1}
    with rt.sessions() as s:
        cap = s.get(Capture, new_a.id)
        assert cap is not None
        assert cap.station_id == station_id
        assert cap.load_ratio == 0.5
        assert cap.point_id == point_id
        assert cap.received_at is not None


def test_concurrent_uploads_and_retries_are_recorded_once_and_queued_once(rt: Runtime) -> None:
    committer = UploadCommitter(rt)
    prepared = [_prepared(rt, f"k{i}") for i in range(40)]
    futures: list[Future[Accepted]] = []
    lock = threading.Lock()
    start = threading.Barrier(8)

    def client(part: list[PreparedCapture]) -> None:
        start.wait(10)
        for p in part:
            for _ in range(2):  # every upload sent twice: the retry must create nothing
                f = committer.submit(p)
                with lock:
                    futures.append(f)

    threads = [threading.Thread(target=client, args=(prepared[i::8],)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    answers = [f.result(timeout=30) for f in futures]
    committer.close()
    assert len(answers) == 80
    created = [a for a in answers if a.created]
    assert len(created) == 40
    assert len({a.id for a in answers}) == 40
    assert _rows(rt) == {f"k{i}": 1 for i in range(40)}
    assert rt.queue.storage.queue_size() == 40  # each new capture's analysis queued once


def test_a_failed_batch_is_recorded_one_by_one(rt: Runtime, monkeypatch: pytest.MonkeyPatch) -> None:
    calls = []

    def failing(session: object, batch: object) -> None:
        calls.append(batch)
        raise RuntimeError("as if another process had inserted a key meanwhile")

    monkeypatch.setattr(group_commit, "record_captures", failing)
    committer = UploadCommitter(rt)
    first = committer.submit(_prepared(rt, "x")).result(timeout=30)
    again = committer.submit(_prepared(rt, "x")).result(timeout=30)
    clash = committer.submit(_prepared(rt, "x", FUSES))
    with pytest.raises(ParameterError):
        clash.result(timeout=30)
    committer.close()
    assert calls
    assert first.created
    assert again == Accepted(first.id, first.sha256, "pending", created=False)
    assert _rows(rt) == {"x": 1}


def test_close_records_what_is_queued_and_refuses_more(rt: Runtime) -> None:
    committer = UploadCommitter(rt)
    futures = [committer.submit(_prepared(rt, f"c{i}")) for i in range(10)]
    committer.close()
    assert all(f.done() and f.result().created for f in futures)
    with pytest.raises(RuntimeError, match="closed"):
        committer.submit(_prepared(rt, "late"))
    assert len(_rows(rt)) == 10
