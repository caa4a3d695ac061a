"""The uplink against a real Mosquitto and the real server (ingest + HTTP app on SQLite), no faults.

Everything committed to the outbox ends on the server once, alarms first; an item is
acked on the agent only after the server's ack (never on the broker's PUBACK alone).
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from irpatrol.edge.outbox import Outbox
from irpatrol.edge.uplink import Uplink, start_uplink
from irpatrol.server.mqtt_ingest import MqttIngest
from irpatrol.server.runtime import Runtime
from tests.server.conftest import make_token
from tests.uplink.harness import (
    ROBOT,
    Patrol,
    assert_exactly_once,
    drained,
    http_server,
    stored_keys,
    wait_for,
)
from tests.uplink.mosquitto import Broker


@pytest.fixture
def outbox(tmp_path: Path) -> Iterator[Outbox]:
    box = Outbox(tmp_path / "outbox")
    yield box
    box.close()


@pytest.fixture
def ingest(broker: Broker, server_rt: Runtime) -> Iterator[MqttIngest]:
    ing = MqttIngest(server_rt, host="127.0.0.1", port=broker.port, keepalive_s=5)
    ing.start()
    assert ing.connected.wait(10)
    yield ing
    ing.stop()


def test_drains_everything_once_alarms_first(
    broker: Broker, server_rt: Runtime, ingest: MqttIngest, outbox: Outbox, inspection_doc: dict[str, Any]
) -> None:
    patrol = Patrol(outbox, inspection_doc)
    for i in range(30):
        patrol.capture(alarm=i % 10 == 9)
        if i % 5 == 0:
            patrol.telemetry()
    token = make_token(server_rt, "robot", "operator", ("captures:write",))
    with http_server(server_rt) as url:
        up = Uplink(
            outbox, robot_id=ROBOT, mqtt_host="127.0.0.1", mqtt_port=broker.port, server_url=url,
            server_token=token, window=8, ack_timeout_s=5,
        )  # fmt: skip
        up.start()
        try:
            wait_for(lambda: drained(outbox), 60, "the outbox to drain")
        finally:
            up.stop()
    assert_exactly_once(outbox, server_rt, patrol)
    order = [patrol.keys[k] for k in stored_keys(server_rt)]
    assert order[:3] == ["alarm"] * 3  # the newest alarms before the older results
    # images last: the file lane is claimed only once every record is claimed, so at most a
    # window's worth of records (sent, awaiting their ack) can be stored after the first image
    records = sum(k != "file" for k in order)
    assert order.index("file") >= records - 8, order
    assert up.stats.acked == len(patrol.keys)
    assert up.stats.files_sent == 30
    assert (up.stats.timeouts, up.stats.rejected) == (0, 0)


def test_nothing_acked_without_the_servers_ack(
    broker: Broker, outbox: Outbox, inspection_doc: dict[str, Any]
) -> None:
    """No ingest: the broker PUBACKs everything, the outbox keeps everything (then re-sends it)."""
    patrol = Patrol(outbox, inspection_doc, images=False)
    for _ in range(10):
        patrol.capture()
    up = Uplink(outbox, robot_id=ROBOT, mqtt_host="127.0.0.1", mqtt_port=broker.port, ack_timeout_s=0.5)
    up.start()
    try:
        wait_for(lambda: up.stats.timeouts >= 10, 10, "a round of ack timeouts")
        wait_for(lambda: up.stats.published >= 20, 10, "the items to be sent again")
        assert outbox.counts()["acked"] == 0
    finally:
        up.stop()
    assert outbox.counts() == {"pending": 10, "inflight": 0, "acked": 0}  # stop puts inflight back


def test_start_uplink_from_agent_config(broker: Broker, outbox: Outbox) -> None:
    class Cfg:
        robot_id = ROBOT
        mqtt_host = "127.0.0.1"
        mqtt_port = broker.port
        mqtt_topic_prefix = "irpatrol"
        server_url = None
        server_token = None

    stop = threading.Event()
    up = start_uplink(Cfg(), outbox, stop)
    try:
        assert up.connected.wait(10)
        stop.set()  # the runner's stop event ends it too
        wait_for(lambda: up._thread is not None and not up._thread.is_alive(), 10, "the uplink to stop")
    finally:
        up.stop()


def test_an_unexpected_error_does_not_end_the_uplink(
    broker: Broker,
    server_rt: Runtime,
    ingest: MqttIngest,
    outbox: Outbox,
    inspection_doc: dict[str, Any],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    patrol = Patrol(outbox, inspection_doc, images=False)
    for _ in range(5):
        patrol.capture()
    real_claim = outbox.claim
    calls: list[int] = []

    def flaky_claim(limit: int = 100) -> Any:
        calls.append(limit)
        if len(calls) == 1:
            raise RuntimeError("a bug")
        return real_claim(limit)

    monkeypatch.setattr(outbox, "claim", flaky_claim)
    up = Uplink(outbox, robot_id=ROBOT, mqtt_host="127.0.0.1", mqtt_port=broker.port, ack_timeout_s=5)
    up.start()
    try:
        wait_for(lambda: drained(outbox), 30, "the outbox to drain after the error")
    finally:
        up.stop()
    assert up.stats.connects == 2  # dropped the connection and came back
    assert_exactly_once(outbox, server_rt, patrol)
