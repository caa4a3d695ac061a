"""Review, defect lifecycle, audit log and signed webhooks delivered to a real HTTP receiver."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select, update

from irpatrol.server import webhooks
from irpatrol.server.runtime import Runtime
from irpatrol.store.models import Finding, WebhookDelivery, utcnow
from tests.server.conftest import FUSES, drain, upload

SECRET = "s3cret-for-tests-0123456789"


class Receiver:
    """A loopback HTTP server that records POSTs and answers with scripted status codes."""

    def __init__(self, codes: list[int]) -> None:
        self.codes = codes
        self.received: list[dict[str, Any]] = []
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                code = outer.codes.pop(0) if outer.codes else 200
                outer.received.append({"headers": dict(self.headers), "body": body, "answered": code})
                self.send_response(code)
                self.end_headers()

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    r = Receiver(codes=[500])  # the first delivery fails: it must be retried
    yield r
    r.close()


def _analysed_capture(
    client: TestClient, rt: Runtime, headers: dict[str, str], **fields: object
) -> dict[str, Any]:
    r = upload(client, headers, FUSES, key="wh-1", **fields)
    assert r.status_code == 201, r.text
    drain(rt)
    got = client.get(f"/api/v1/captures/{r.json()['id']}", headers=headers).json()
    assert got["status"] == "analyzed", got
    return got


def _make_serious(rt: Runtime) -> Finding:
    """Promote the top finding to serious as if the grader had said so, and queue its event."""
    with rt.sessions() as s, s.begin():
        f = s.scalars(select(Finding).order_by(Finding.id)).first()
        assert f is not None
        f.grade, f.grade_value, f.defect_status = "serious", 2, "open"
        s.flush()
        webhooks.queue_defect_events(s, "defect.created", [f])
        return f


def test_review_and_lifecycle_are_audited(
    client: TestClient, rt: Runtime, operator: dict[str, str], viewer: dict[str, str], admin: dict[str, str]
) -> None:
    cap = _analysed_capture(client, rt, operator)
    defect = next((f for f in cap["findings"] if f["defect_status"] == "open"), None)
    defect_id = _make_serious(rt).id if defect is None else defect["id"]
    # a viewer may read but not review
    assert (
        client.post(
            f"/api/v1/findings/{defect_id}/review", json={"verdict": "confirmed"}, headers=viewer
        ).status_code
        == 403
    )
    r = client.post(
        f"/api/v1/findings/{defect_id}/review",
        json={"verdict": "corrected", "corrected_value_c": 51.5, "note": "re-measured with a telephoto lens"},
        headers=operator,
    )
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["review_status"] == "corrected"
    assert body["corrected_value_c"] == 51.5
    assert body["reviewed_by"] == "operator"
    # lifecycle: open -> in_repair -> closed; closed -> in_repair is refused
    for status in ("in_repair", "closed"):
        r = client.post(f"/api/v1/findings/{defect_id}/status", json={"status": status}, headers=operator)
        assert r.status_code == 200
        assert r.json()["defect_status"] == status
    r = client.post(f"/api/v1/findings/{defect_id}/status", json={"status": "in_repair"}, headers=operator)
    assert r.status_code == 409
    assert r.json()["error"]["code"] == "conflict"
    log = client.get("/api/v1/audit", headers=admin).json()
    actions = [e["action"] for e in log["items"]]
    assert actions.count("defect.status") == 2
    assert "finding.review" in actions
    first_status = next(e for e in reversed(log["items"]) if e["action"] == "defect.status")
    assert first_status["actor"] == "operator"
    assert first_status["detail"]["after"] == "in_repair"
    # filters
    closed = client.get("/api/v1/findings", params={"defect_status": "closed"}, headers=viewer).json()
    assert [f["id"] for f in closed["items"]] == [defect_id]


def test_texts_follow_the_language(client: TestClient, rt: Runtime, operator: dict[str, str]) -> None:
    cap = _analysed_capture(client, rt, operator)
    graded = [f for f in cap["findings"] if f["grade"] != "not_graded"]
    assert graded
    fid = graded[0]["id"]
    zh = client.get(f"/api/v1/findings/{fid}", params={"lang": "zh"}, headers=operator).json()
    en = client.get(f"/api/v1/findings/{fid}", params={"lang": "en"}, headers=operator).json()
    assert zh["explanation"]
    assert en["explanation"]
    assert zh["explanation"] != en["explanation"]
    assert any("\u4e00" <= ch <= "\u9fff" for ch in zh["explanation"])
    # English prose (the rule pack's clause title is quoted as the standard names it, in Chinese)
    assert sum(ch.isascii() and ch.isalpha() for ch in en["explanation"]) > 20


def test_webhook_signed_retried_and_deduplicable(
    client: TestClient, rt: Runtime, admin: dict[str, str], operator: dict[str, str], receiver: Receiver
) -> None:
    _analysed_capture(client, rt, operator)  # before the subscription: its own defects are not sent
    r = client.post(
        "/api/v1/webhooks",
        json={"url": receiver.url, "secret": SECRET, "events": ["defect.created", "defect.closed"]},
        headers=admin,
    )
    assert r.status_code == 201, r.text
    hook_id = r.json()["id"]
    assert "secret" not in r.json()
    f = _make_serious(rt)
    drain(rt)
    webhooks.deliver_due(rt)  # first try: the receiver answers 500
    assert [x["answered"] for x in receiver.received] == [500]
    with rt.sessions() as s, s.begin():  # the backoff has passed
        s.execute(update(WebhookDelivery).values(next_attempt_at=utcnow()))
    webhooks.deliver_due(rt)
    assert [x["answered"] for x in receiver.received] == [500, 200]
    first, second = receiver.received
    assert first["headers"]["X-Irpatrol-Event-Id"] == second["headers"]["X-Irpatrol-Event-Id"]
    assert first["body"] == second["body"]
    for got in receiver.received:
        assert webhooks.verify_signature(SECRET, got["headers"]["X-Irpatrol-Signature"], got["body"])
        assert not webhooks.verify_signature(
            "wrong-secret-0123456789", got["headers"]["X-Irpatrol-Signature"], got["body"]
        )
    event = json.loads(second["body"])
    assert event["type"] == "defect.created"
    assert event["data"]["finding_id"] == f.id
    assert event["data"]["grade"] == "serious"
    deliveries = client.get(f"/api/v1/webhooks/{hook_id}/deliveries", headers=admin).json()
    assert deliveries["items"][0]["status"] == "delivered"
    assert deliveries["items"][0]["attempts"] == 2
    # closing the defect pushes defect.closed
    assert (
        client.post(
            f"/api/v1/findings/{f.id}/status", json={"status": "closed"}, headers=operator
        ).status_code
        == 200
    )
    drain(rt)
    assert json.loads(receiver.received[-1]["body"])["type"] == "defect.closed"


def test_dead_after_the_configured_attempts(rt: Runtime, receiver: Receiver) -> None:
    from irpatrol.store.models import Webhook

    receiver.codes = [503] * 20
    with rt.sessions() as s, s.begin():
        hook = Webhook(url=receiver.url, secret=SECRET, events=["defect.created"])
        s.add(hook)
        s.flush()
        s.add(
            WebhookDelivery(
                event_id="e-1", webhook_id=hook.id, event_type="defect.created", payload={"id": "e-1"}
            )
        )
    for _ in range(rt.settings.webhook_attempts + 2):
        with rt.sessions() as s, s.begin():
            s.execute(
                update(WebhookDelivery)
                .where(WebhookDelivery.status == "pending")
                .values(next_attempt_at=utcnow())
            )
        webhooks.deliver_due(rt)
    with rt.sessions() as s:
        d = s.scalars(select(WebhookDelivery)).one()
    assert d.status == "dead"
    assert d.attempts == rt.settings.webhook_attempts
    assert d.last_status_code == 503


def test_backoff_grows_and_is_capped() -> None:
    assert [webhooks.backoff_s(n) for n in (1, 2, 3)] == [2.0, 4.0, 8.0]
    assert webhooks.backoff_s(40) == webhooks.MAX_BACKOFF_S
