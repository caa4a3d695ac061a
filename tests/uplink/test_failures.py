"""Failure tests of the edge → server link (issue 9), with a real Mosquitto and the real server code.

Each is bounded in count and time and ends the same way: every item committed on the
agent is stored exactly once on the server (:func:`~tests.uplink.harness.assert_exactly_once`).

* broker ``kill -9`` mid-drain, then restarted (it loses what it had PUBACKed);
* a network partition (a TCP proxy that blackholes MQTT and HTTP) while the patrol goes on;
  after it heals, the alarms committed during it arrive before the older backlog;
* a half-open link (the proxy stops forwarding, closing nothing): keepalive notices it;
* the ingest process SIGKILLed between its commit and its ack, then restarted;
* duplicate delivery: the same envelope delivered many times.
"""

from __future__ import annotations

import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import paho.mqtt.client as mqtt
import pytest
from paho.mqtt.enums import CallbackAPIVersion
from sqlalchemy import select

from irpatrol.edge.outbox import Outbox
from irpatrol.edge.uplink import Uplink
from irpatrol.protocol import Envelope, topic_for
from irpatrol.server.mqtt_ingest import MqttIngest
from irpatrol.server.runtime import Runtime
from irpatrol.store.models import EdgeMessage
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
from tests.uplink.proxy import Proxy

pytestmark = pytest.mark.slow

KEEPALIVE_S = 2
TUNING: dict[str, Any] = {
    "window": 16,
    "ack_timeout_s": 2.0,
    "ack_timeout_max_s": 4.0,
    "keepalive_s": KEEPALIVE_S,
    "connect_timeout_s": 2.0,
    "poll_s": 0.05,
}
DRAIN_TIMEOUT_S = 90.0


@pytest.fixture
def outbox(tmp_path: Path) -> Iterator[Outbox]:
    box = Outbox(tmp_path / "outbox")
    yield box
    box.close()


@pytest.fixture
def ingest(broker: Broker, server_rt: Runtime) -> Iterator[MqttIngest]:
    ing = MqttIngest(server_rt, host="127.0.0.1", port=broker.port, keepalive_s=KEEPALIVE_S)
    ing.start()
    assert ing.connected.wait(10)
    yield ing
    ing.stop()


@pytest.fixture
def token(server_rt: Runtime) -> str:
    return make_token(server_rt, "robot", "operator", ("captures:write",))


def uplink(outbox: Outbox, mqtt_port: int, server_url: str | None = None, token: str | None = None) -> Uplink:
    up = Uplink(
        outbox, robot_id=ROBOT, mqtt_host="127.0.0.1", mqtt_port=mqtt_port, server_url=server_url,
        server_token=token, **TUNING,
    )  # fmt: skip
    up.start()
    return up


def test_broker_kill9_mid_drain(
    broker: Broker,
    server_rt: Runtime,
    ingest: MqttIngest,
    outbox: Outbox,
    token: str,
    inspection_doc: dict[str, Any],
) -> None:
    patrol = Patrol(outbox, inspection_doc)
    for i in range(150):
        patrol.capture(alarm=i % 25 == 24)
    with http_server(server_rt) as url:
        up = uplink(outbox, broker.port, url, token)
        try:
            wait_for(lambda: outbox.counts()["acked"] >= 60, 60, "part of the backlog to drain")
            ingest.stop()  # the ingest falls behind: what the broker PUBACKs now waits in its memory
            time.sleep(1.0)
            pubacked_not_stored = set(up.awaiting_ack()) - set(stored_keys(server_rt))
            assert len(pubacked_not_stored) >= TUNING["window"] // 2
            broker.kill()  # ... and is gone: a PUBACK is not durability
            for i in range(20):  # the patrol goes on meanwhile
                patrol.capture(alarm=i == 10)
            time.sleep(1.0)
            broker.start()
            ingest2 = MqttIngest(server_rt, host="127.0.0.1", port=broker.port, keepalive_s=KEEPALIVE_S)
            ingest2.start()
            try:
                wait_for(lambda: drained(outbox), DRAIN_TIMEOUT_S, "the outbox to drain after the restart")
            finally:
                ingest2.stop()
        finally:
            up.stop()
    assert up.stats.connects >= 2
    assert pubacked_not_stored <= set(stored_keys(server_rt))  # sent again by the agent
    assert_exactly_once(outbox, server_rt, patrol)


def test_partition_while_patrol_goes_on_alarms_first_after_heal(
    broker: Broker,
    server_rt: Runtime,
    ingest: MqttIngest,
    outbox: Outbox,
    token: str,
    inspection_doc: dict[str, Any],
) -> None:
    patrol = Patrol(outbox, inspection_doc)
    mqtt_link = Proxy(broker.port)
    with http_server(server_rt) as url:
        http_link = Proxy(int(url.rsplit(":", 1)[1]))
        up = uplink(outbox, mqtt_link.port, f"http://127.0.0.1:{http_link.port}", token)
        try:
            for _ in range(40):
                patrol.capture()
            wait_for(lambda: drained(outbox), 60, "the first items to drain")
            mqtt_link.blackhole()
            http_link.blackhole()
            cut = time.monotonic()
            backlog = [k for _ in range(40) for k in patrol.capture()]  # the patrol goes on
            wait_for(
                lambda: not up.connected.is_set(), 3 * KEEPALIVE_S + 2, "the uplink to see the partition"
            )
            backlog += [k for _ in range(20) for k in patrol.capture()]
            alarms = [k for _ in range(5) for k in patrol.capture(alarm=True) if patrol.keys[k] == "alarm"]
            waiting = outbox.counts()
            assert waiting["pending"] + waiting["inflight"] >= len(backlog) + 15  # kept, within budget
            assert outbox.used_bytes() < outbox.byte_budget - outbox.reserve_bytes
            time.sleep(max(0.0, cut + 8 - time.monotonic()))  # an 8 s outage
            with server_rt.sessions() as s:
                last_before = s.scalar(select(EdgeMessage.id).order_by(EdgeMessage.id.desc()).limit(1)) or 0
            mqtt_link.heal()
            http_link.heal()
            heal = time.monotonic()
            drain_s = wait_for(
                lambda: drained(outbox), DRAIN_TIMEOUT_S, "the backlog to drain after the heal"
            )
        finally:
            up.stop()
            http_link.close()
            mqtt_link.close()
    assert_exactly_once(outbox, server_rt, patrol)
    with server_rt.sessions() as s:
        after = list(s.execute(select(EdgeMessage.id, EdgeMessage.key).where(EdgeMessage.id > last_before)))
    arrival = {key: ident for ident, key in after}
    assert set(backlog) | set(alarms) <= set(arrival)  # nothing of the outage had got through
    older_results = [k for k in backlog if patrol.keys[k] == "result"]
    assert max(arrival[k] for k in alarms) < min(arrival[k] for k in older_results)
    print(
        f"partition: {len(after)} items drained in {drain_s:.1f} s after the heal ({heal - cut:.1f} s outage)"
    )


def test_half_open_link_detected_by_keepalive(
    broker: Broker, server_rt: Runtime, ingest: MqttIngest, outbox: Outbox, inspection_doc: dict[str, Any]
) -> None:
    patrol = Patrol(outbox, inspection_doc, images=False)
    link = Proxy(broker.port)
    stop = threading.Event()
    lock = threading.Lock()

    def patrol_loop() -> None:  # 25 captures a second, 300 at most
        while not stop.is_set() and patrol.n < 300:
            with lock:
                patrol.capture(alarm=patrol.n % 30 == 29)
            stop.wait(0.04)

    producer = threading.Thread(target=patrol_loop)
    up = uplink(outbox, link.port)
    producer.start()
    try:
        assert up.connected.wait(10)
        time.sleep(1.0)
        link.blackhole()  # the link dies silently: no FIN, no RST, bytes vanish
        detected = wait_for(lambda: not up.connected.is_set(), 2 * KEEPALIVE_S + 3, "keepalive to notice")
        assert detected <= 2 * KEEPALIVE_S + 1.0
        assert outbox.counts()["inflight"] <= TUNING["window"]  # bounded while the link is dead
        time.sleep(1.0)
        link.heal()
        time.sleep(1.0)
        stop.set()
        producer.join(10)
        wait_for(lambda: drained(outbox), DRAIN_TIMEOUT_S, "the outbox to drain after the heal")
    finally:
        stop.set()
        producer.join(10)
        up.stop()
        link.close()
    assert up.stats.drops >= 1
    assert_exactly_once(outbox, server_rt, patrol)
    print(f"half-open link noticed after {detected:.2f} s (keepalive {KEEPALIVE_S} s)")


def _start_ingest_process(data_dir: Path, port: int, die_after: int = 0) -> subprocess.Popen[bytes]:
    cmd = [sys.executable, "-m", "tests.uplink.ingest_proc", str(data_dir), str(port)]
    if die_after:
        cmd += ["--die-after", str(die_after)]
    return subprocess.Popen(cmd, cwd=Path(__file__).resolve().parents[2])


def test_ingest_killed_between_store_and_ack(
    broker: Broker, server_rt: Runtime, outbox: Outbox, inspection_doc: dict[str, Any]
) -> None:
    patrol = Patrol(outbox, inspection_doc, images=False)
    for i in range(60):
        patrol.capture(alarm=i % 20 == 19)
    data_dir = server_rt.settings.data_dir
    proc = _start_ingest_process(data_dir, broker.port, die_after=25)
    up = uplink(outbox, broker.port)
    try:
        assert proc.wait(60) == -9  # SIGKILLed itself right after the 25th commit
        died_at = (data_dir / "died-at").read_text()
        assert stored_keys(server_rt).count(died_at) == 1  # committed ...
        state = outbox.get(died_at)
        assert state is not None
        assert state[0] != "acked"  # ... but never acknowledged
        time.sleep(3.0)  # the agent re-sends meanwhile (ack timeout 2 s); they wait at the broker
        proc = _start_ingest_process(data_dir, broker.port)
        wait_for(lambda: drained(outbox), DRAIN_TIMEOUT_S, "the outbox to drain after the restart")
    finally:
        up.stop()
        proc.terminate()
        proc.wait(10)
    assert stored_keys(server_rt).count(died_at) == 1
    assert_exactly_once(outbox, server_rt, patrol)


def test_duplicate_delivery(
    broker: Broker, server_rt: Runtime, outbox: Outbox, inspection_doc: dict[str, Any]
) -> None:
    """The ingest is away while the agent re-sends every item many times; then it gets them all."""
    ingest = MqttIngest(server_rt, host="127.0.0.1", port=broker.port, keepalive_s=KEEPALIVE_S)
    ingest.start()
    assert ingest.connected.wait(10)
    ingest.stop()  # its session (subscriptions, queued messages) stays at the broker
    patrol = Patrol(outbox, inspection_doc, images=False)
    for i in range(20):
        patrol.capture(alarm=i % 10 == 9)
    n_items = len(patrol.keys)
    up = Uplink(outbox, robot_id=ROBOT, mqtt_host="127.0.0.1", mqtt_port=broker.port, ack_timeout_s=0.3,
                ack_timeout_max_s=0.3, poll_s=0.05)  # fmt: skip
    up.start()
    try:
        wait_for(lambda: up.stats.published >= 3 * n_items, 30, "three copies of every item")
        first = next(iter(patrol.keys))
        state = outbox.get(first)
        assert state is not None
        raw = Envelope(key=first, kind=state[1].kind, robot=ROBOT, created_at=state[1].created_at.isoformat(),
                       body=state[1].payload).to_json()  # fmt: skip
        extra = mqtt.Client(callback_api_version=CallbackAPIVersion.VERSION2)
        extra.connect("127.0.0.1", broker.port)
        extra.loop_start()
        for _ in range(2):  # the very same envelope, published twice more by someone else
            extra.publish(topic_for("irpatrol", ROBOT, state[1].kind), raw, qos=1).wait_for_publish(5)
        extra.loop_stop()
        extra.disconnect()
        ingest = MqttIngest(server_rt, host="127.0.0.1", port=broker.port, keepalive_s=KEEPALIVE_S)
        ingest.start()
        wait_for(lambda: drained(outbox), DRAIN_TIMEOUT_S, "the outbox to drain")
        wait_for(lambda: ingest.stats.received >= 3 * n_items + 2, 30, "the queued copies to be consumed")
    finally:
        up.stop()
        ingest.stop()
    assert ingest.stats.stored == n_items
    assert ingest.stats.duplicates == ingest.stats.received - n_items >= 2 * n_items + 2
    assert_exactly_once(outbox, server_rt, patrol)


def test_broker_graceful_restart_mid_drain(
    broker: Broker, server_rt: Runtime, ingest: MqttIngest, outbox: Outbox, inspection_doc: dict[str, Any]
) -> None:
    """SIGTERM: the broker saves its state (the test checks it really did) and the drain resumes."""
    patrol = Patrol(outbox, inspection_doc, images=False)
    for i in range(150):
        patrol.capture(alarm=i % 25 == 24)
    up = uplink(outbox, broker.port)
    try:
        wait_for(lambda: outbox.counts()["acked"] >= 60, 60, "part of the backlog to drain")
        broker.stop()
        assert (broker.data / "mosquitto.db").stat().st_size > 0  # it could write its persistence file
        broker.start()
        wait_for(lambda: drained(outbox), DRAIN_TIMEOUT_S, "the outbox to drain after the restart")
    finally:
        up.stop()
    assert up.stats.connects >= 2
    assert_exactly_once(outbox, server_rt, patrol)
