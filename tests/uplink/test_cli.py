"""``irpatrol serve`` with IRPATROL_MQTT_HOST runs the ingest; ``irpatrol mqtt-ingest`` runs it alone.

Both as real processes against a real Mosquitto: a message is acked after it is stored,
and SIGTERM ends the process (an ingest stopped anywhere loses nothing: what it had not
acked is delivered again).
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
from pathlib import Path

import paho.mqtt.client as mqtt
import pytest
from paho.mqtt.enums import CallbackAPIVersion

from irpatrol.protocol import Envelope, topic_for
from tests.uplink.mosquitto import Broker, free_port

IRPATROL = Path(sys.executable).with_name("irpatrol")


def _ack_for(broker: Broker, env: Envelope, timeout_s: float = 30.0) -> dict[str, object]:
    """Publish ``env`` until an ack for it comes back (the ingest may still be starting)."""
    got: list[dict[str, object]] = []
    done = threading.Event()
    client = mqtt.Client(callback_api_version=CallbackAPIVersion.VERSION2, client_id="cli-test-agent")

    def on_message(_c: object, _u: object, msg: mqtt.MQTTMessage) -> None:
        got.append(json.loads(msg.payload))
        done.set()

    client.on_message = on_message
    client.connect("127.0.0.1", broker.port)
    client.loop_start()
    client.subscribe(topic_for("irpatrol", env.robot, "ack"), qos=1)
    try:
        for _ in range(int(timeout_s)):
            client.publish(topic_for("irpatrol", env.robot, env.kind), env.to_json(), qos=1)
            if done.wait(1.0):
                return got[0]
    finally:
        client.loop_stop()
        client.disconnect()
    raise AssertionError("no ack")


@pytest.mark.parametrize("command", ["serve", "mqtt-ingest"])
def test_commands_run_the_ingest(command: str, broker: Broker, tmp_path: Path) -> None:
    env = {
        **os.environ,
        "IRPATROL_DATA_DIR": str(tmp_path / "data"),
        "IRPATROL_MQTT_HOST": "127.0.0.1",
        "IRPATROL_MQTT_PORT": str(broker.port),
        "IRPATROL_WORKERS": "0",
        "IRPATROL_PORT": str(free_port()),
    }
    proc = subprocess.Popen([str(IRPATROL), command], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        msg = Envelope(key="r1:tel:1", kind="telemetry", robot="r1", created_at="2026-12-02T21:00:00+00:00")
        ack = _ack_for(broker, msg)
        assert ack["key"] == "r1:tel:1"
        assert ack["status"] in {"stored", "duplicate"}
    finally:
        proc.send_signal(signal.SIGTERM)
        out, err = proc.communicate(timeout=30)
    # uvicorn (serve) shuts down gracefully, then re-raises the signal it caught (status -15)
    assert proc.returncode in ((0, -signal.SIGTERM) if command == "serve" else (0,)), err.decode()
    assert b"127.0.0.1:" in out
