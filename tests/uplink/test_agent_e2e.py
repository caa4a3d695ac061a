"""The whole path with the real agent: replayed demo images → analysis → outbox → uplink →
Mosquitto → ingest → server database and image store; every committed item stored once."""

from __future__ import annotations

import threading
from pathlib import Path

from sqlalchemy import select

from irpatrol.edge.config import EdgeConfig
from irpatrol.edge.outbox import Outbox
from irpatrol.edge.runner import run_from_config
from irpatrol.server.mqtt_ingest import MqttIngest
from irpatrol.server.runtime import Runtime
from irpatrol.store.models import Capture, EdgeMessage
from tests.conftest import DEMO
from tests.server.conftest import make_token
from tests.uplink.harness import http_server
from tests.uplink.mosquitto import Broker


def test_agent_to_server_exactly_once(broker: Broker, server_rt: Runtime, tmp_path: Path) -> None:
    ingest = MqttIngest(server_rt, host="127.0.0.1", port=broker.port)
    ingest.start()
    token = make_token(server_rt, "robot", "operator", ("captures:write",))
    try:
        assert ingest.connected.wait(10)
        with http_server(server_rt) as url:
            cfg = EdgeConfig(
                robot_id="robot-01", outbox_dir=tmp_path / "outbox", source="replay", replay_path=DEMO,
                replay_rate_hz=20, mqtt_host="127.0.0.1", mqtt_port=broker.port, server_url=url,
                server_token=token,
            )  # fmt: skip
            report = run_from_config(cfg, threading.Event())
    finally:
        ingest.stop()
    assert report.finished
    with Outbox(tmp_path / "outbox") as box:
        agent = dict(box.states())
    assert agent
    assert set(agent.values()) == {"acked"}
    with server_rt.sessions() as s:
        keys = list(s.scalars(select(EdgeMessage.key)))
        captures = list(s.scalars(select(Capture)))
    assert sorted(keys) == sorted(agent)
    images = sorted(p.name for p in DEMO.iterdir() if p.suffix == ".jpg")
    assert sorted(c.filename for c in captures) == images
    for cap in captures:  # the image arrived after its result, and is the file the robot read
        assert cap.size_bytes == (DEMO / cap.filename).stat().st_size
        assert server_rt.blobs.get(cap.sha256) == (DEMO / cap.filename).read_bytes()
        assert cap.status == "analyzed"
