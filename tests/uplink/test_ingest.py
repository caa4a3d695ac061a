"""The server's MQTT ingest against a real Mosquitto and a real database (SQLite, and PostgreSQL in CI).

Each message is stored once under its key and acknowledged only after the commit;
a duplicate adds nothing and is acknowledged again; a malformed message becomes a dead
letter (acked as ``rejected`` when its key can be read); a result becomes a capture
with the same findings the server's own analysis writes; images come over HTTP,
checked against their SHA-256.
"""

from __future__ import annotations

import hashlib
import json
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import paho.mqtt.client as mqtt
import pytest
from fastapi.testclient import TestClient
from paho.mqtt.enums import CallbackAPIVersion
from sqlalchemy import func, select

from irpatrol.config import load_settings
from irpatrol.protocol import Envelope, topic_for
from irpatrol.server.app import create_app
from irpatrol.server.mqtt_ingest import MqttIngest
from irpatrol.server.runtime import Runtime, open_runtime
from irpatrol.store.models import Capture, EdgeMessage, EdgeReject, Finding
from tests.server.conftest import BACKENDS, _truncate_pg, auth, make_token
from tests.server.conftest import pg_url as pg_url  # the fixture, for the PostgreSQL half
from tests.uplink.conftest import FUSES
from tests.uplink.mosquitto import Broker

ROBOT = "robot-7"
SHA = hashlib.sha256(FUSES.read_bytes()).hexdigest()


@pytest.fixture(params=BACKENDS)
def server_rt(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Runtime]:
    """The server's runtime on a fresh SQLite database, or on the test PostgreSQL (emptied)."""
    if request.param == "postgresql":
        url = request.getfixturevalue("pg_url")
        _truncate_pg(url)
        settings = load_settings(data_dir=tmp_path / "server", database_url=url)
    else:
        settings = load_settings(data_dir=tmp_path / "server")
    rt = open_runtime(settings)
    yield rt
    rt.close()


class FakeAgent:
    """A bare MQTT client publishing envelopes as a robot and collecting the acks it gets."""

    def __init__(self, broker: Broker) -> None:
        self.acks: list[dict[str, Any]] = []
        self.got = threading.Condition()
        self.client = mqtt.Client(callback_api_version=CallbackAPIVersion.VERSION2, client_id="fake-agent")
        self.client.on_message = self._on_message
        subscribed = threading.Event()
        self.client.on_subscribe = lambda *a: subscribed.set()
        self.client.connect("127.0.0.1", broker.port)
        self.client.loop_start()
        self.client.subscribe(topic_for("irpatrol", ROBOT, "ack"), qos=1)
        assert subscribed.wait(5)

    def _on_message(self, _c: Any, _u: Any, msg: mqtt.MQTTMessage) -> None:
        with self.got:
            self.acks.append(json.loads(msg.payload))
            self.got.notify_all()

    def send(self, kind: str, payload: bytes) -> None:
        self.client.publish(topic_for("irpatrol", ROBOT, kind), payload, qos=1).wait_for_publish(5)

    def wait_acks(self, n: int, timeout_s: float = 10.0) -> list[dict[str, Any]]:
        with self.got:
            assert self.got.wait_for(lambda: len(self.acks) >= n, timeout_s), self.acks
            return list(self.acks)

    def close(self) -> None:
        self.client.loop_stop()
        self.client.disconnect()


@pytest.fixture
def ingest(broker: Broker, server_rt: Runtime) -> Iterator[MqttIngest]:
    ing = MqttIngest(server_rt, host="127.0.0.1", port=broker.port, keepalive_s=5)
    ing.start()
    assert ing.connected.wait(10)
    yield ing
    ing.stop()


@pytest.fixture
def agent(broker: Broker, ingest: MqttIngest) -> Iterator[FakeAgent]:
    a = FakeAgent(broker)
    yield a
    a.close()


def result_envelope(inspection: dict[str, Any], key: str, kind: str = "result") -> Envelope:
    return Envelope(
        key=key,
        kind=kind,
        robot=ROBOT,
        created_at="2026-12-02T21:00:00+00:00",
        body={
            "capture": {
                "sha256": SHA,
                "file_name": FUSES.name,
                "taken_at": "2026-12-02T20:59:58+00:00",
                "preset": "P-12",
                "point_code": None,
                "execution_id": "local-3",
                "position": {
                    "lat": 31.24810031,
                    "lon": 121.587420798,
                    "alt_m": 4.0,
                    "quality": 4,
                    "sigma_m": 0.02,
                },
            },
            "inspection": inspection,
        },
    )


def counts(rt: Runtime) -> tuple[int, int, int, int]:
    with rt.sessions() as s:
        return (
            s.scalar(select(func.count()).select_from(EdgeMessage)) or 0,
            s.scalar(select(func.count()).select_from(Capture)) or 0,
            s.scalar(select(func.count()).select_from(Finding)) or 0,
            s.scalar(select(func.count()).select_from(EdgeReject)) or 0,
        )


def test_result_stored_once_then_acked_duplicates_acked_again(
    agent: FakeAgent, ingest: MqttIngest, server_rt: Runtime, inspection_doc: dict[str, Any]
) -> None:
    env = result_envelope(inspection_doc, f"{ROBOT}:local-3:P-12:1:result:v1")
    agent.send("result", env.to_json())
    [ack] = agent.wait_acks(1)
    assert ack == {"v": 1, "key": env.key, "status": "stored"}
    n_findings = len(inspection_doc["findings"])
    assert counts(server_rt) == (1, 1, n_findings, 0)
    with server_rt.sessions() as s:
        cap = s.scalar(select(Capture))
        assert cap is not None
        assert (cap.status, cap.sha256, cap.filename, cap.fix_quality) == (
            "analyzed",
            SHA,
            FUSES.name,
            "rtk_fixed",
        )
        # an RTK fix is kept to the centimetre (1e-7 deg), not rounded like a temperature
        assert (cap.lat, cap.lon, cap.size_bytes) == (31.24810031, 121.587420798, 0)  # no image yet
        assert cap.max_c == round(inspection_doc["max_c"], 3)
        graded = [f.get("finding") or {} for f in inspection_doc["findings"]]
        assert [f.grade for f in cap.findings] == [g.get("grade", "not_graded") for g in graded]
        opened = ["open" if g.get("grade_value", -1) >= 1 else None for g in graded]
        assert [f.defect_status for f in cap.findings] == opened

    agent.send("result", env.to_json())  # delivered again (a retry, a broker redelivery)
    acks = agent.wait_acks(2)
    assert acks[1] == {"v": 1, "key": env.key, "status": "duplicate"}
    assert counts(server_rt) == (1, 1, n_findings, 0)

    alarm = result_envelope(inspection_doc, f"{ROBOT}:local-3:P-12:1:alarm:v1", kind="alarm")
    agent.send("alarm", alarm.to_json())  # the alarm of the same image: one more message, same capture
    assert agent.wait_acks(3)[2]["status"] == "stored"
    assert counts(server_rt) == (2, 1, n_findings, 0)
    assert (ingest.stats.stored, ingest.stats.duplicates, ingest.stats.rejected) == (2, 1, 0)


def test_malformed_messages_are_dead_letters(
    agent: FakeAgent, ingest: MqttIngest, server_rt: Runtime, inspection_doc: dict[str, Any]
) -> None:
    agent.send("result", b"{not json")  # no key to ack: kept, counted, not acked
    bad = {"v": 1, "key": "r:k:1", "kind": "result", "robot": ROBOT, "created_at": "2026-12-02T21:00:00Z"}
    agent.send("result", json.dumps({**bad, "body": {"capture": {"sha256": "xyz"}}}).encode())
    other = result_envelope(inspection_doc, "r:k:2")
    agent.send("telemetry", other.to_json())  # topic says telemetry, envelope says result
    good = Envelope(key="r:tel:1", kind="telemetry", robot=ROBOT, created_at="2026-12-02T21:00:00+00:00")
    agent.send("telemetry", good.to_json())
    acks = agent.wait_acks(3)
    assert [(a["key"], a["status"]) for a in acks] == [
        ("r:k:1", "rejected"),
        ("r:k:2", "rejected"),
        ("r:tel:1", "stored"),
    ]
    assert "sha256" in acks[0]["reason"]
    assert counts(server_rt) == (1, 0, 0, 3)
    with server_rt.sessions() as s:
        rejects = list(s.scalars(select(EdgeReject).order_by(EdgeReject.id)))
    assert [r.key for r in rejects] == [None, "r:k:1", "r:k:2"]
    assert rejects[0].payload == "{not json"
    assert ingest.stats.rejected == 3


def test_not_acked_before_commit(broker: Broker, server_rt: Runtime, inspection_doc: dict[str, Any]) -> None:
    """Between the commit and the ack (the hook) the row is visible to others and no ack has gone out."""
    seen: list[tuple[int, int]] = []
    env = result_envelope(inspection_doc, "r:order:1")
    agent = FakeAgent(broker)

    def between(key: str) -> None:
        time.sleep(0.3)  # an ack sent before this point would have reached the agent by now
        seen.append((counts(server_rt)[0], len(agent.acks)))

    ing = MqttIngest(server_rt, host="127.0.0.1", port=broker.port, after_store=between)
    ing.start()
    try:
        assert ing.connected.wait(10)
        agent.send("result", env.to_json())
        [ack] = agent.wait_acks(1)
    finally:
        ing.stop()
        agent.close()
    assert ack["status"] == "stored"
    assert seen == [(1, 0)]


def test_file_upload_checks_hash_and_is_idempotent(
    server_rt: Runtime, inspection_doc: dict[str, Any]
) -> None:
    data = FUSES.read_bytes()
    headers = auth(make_token(server_rt, "robot-7", "operator"))
    from irpatrol.store.edge import store_envelope

    with server_rt.sessions() as s, s.begin():  # the result came first, over MQTT
        store_envelope(s, result_envelope(inspection_doc, "r:res:1"))
    url = f"/api/v1/edge/{ROBOT}/files/{SHA}"
    with TestClient(create_app(server_rt.settings, runtime=server_rt)) as c:
        bad = c.put(url, content=data[:-1], headers={**headers, "Idempotency-Key": "r:file:1"})
        assert bad.status_code == 422, bad.text
        assert not server_rt.blobs.exists(SHA)
        first = c.put(url, content=data, headers={**headers, "Idempotency-Key": "r:file:1"})
        assert (first.status_code, first.json()["status"]) == (201, "stored")
        again = c.put(url, content=data, headers={**headers, "Idempotency-Key": "r:file:1"})
        assert (again.status_code, again.json()["status"]) == (200, "duplicate")
        assert c.put(url, content=data, headers=headers).status_code == 422  # the key is required
    assert server_rt.blobs.get(SHA) == data
    with server_rt.sessions() as s:
        assert s.scalar(select(Capture.size_bytes)) == len(data)
        kinds = sorted(s.scalars(select(EdgeMessage.kind)))
    assert kinds == ["file", "result"]


def test_ingest_comes_back_after_broker_restart(agent: FakeAgent, broker: Broker, ingest: MqttIngest) -> None:
    broker.restart(crash=True)
    deadline = time.monotonic() + 15
    while ingest.stats.connects < 2 and time.monotonic() < deadline:
        time.sleep(0.05)
    assert ingest.stats.connects == 2
    assert ingest.connected.is_set()


def test_a_lost_race_on_a_key_is_a_duplicate(server_rt: Runtime, monkeypatch: pytest.MonkeyPatch) -> None:
    """Another ingest committed a key of this batch first: the unique key refuses the batch, which
    is stored again one message at a time; the lost key answers ``duplicate``, the rest is stored."""
    from irpatrol.store import edge
    from irpatrol.store.edge import store_envelope

    def tel(key: str) -> Envelope:
        return Envelope(key=key, kind="telemetry", robot=ROBOT, created_at="2026-12-02T21:00:00+00:00")

    with server_rt.sessions() as s, s.begin():
        store_envelope(s, tel("r:race:2"))  # the other ingest's commit
    monkeypatch.setattr(edge, "find_message", lambda session, key: None)  # it happened after our look-up
    ing = MqttIngest(server_rt, host="127.0.0.1")
    messages = [
        (topic_for("irpatrol", ROBOT, "telemetry"), tel(k).to_json()) for k in ("r:race:1", "r:race:2")
    ]
    answers = ing.handle_batch(messages)
    assert [(a.key, a.status) for a, _ in answers if a is not None] == [
        ("r:race:1", "stored"),
        ("r:race:2", "duplicate"),
    ]
    assert sorted(stored_keys_of(server_rt)) == ["r:race:1", "r:race:2"]


def stored_keys_of(rt: Runtime) -> list[str]:
    with rt.sessions() as s:
        return list(s.scalars(select(EdgeMessage.key)))
