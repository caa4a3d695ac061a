"""GNSS positions for captures: a recorded log, and a live TCP receiver fed in the background."""

from __future__ import annotations

import socket
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from irpatrol.diagnosis.rulepack import load_rule_pack
from irpatrol.edge.agent import Agent
from irpatrol.edge.config import EdgeConfig
from irpatrol.edge.matching import PointMatcher, SitePoint
from irpatrol.edge.outbox import Outbox
from irpatrol.edge.positions import start_positions
from irpatrol.edge.sources import Capture
from irpatrol.geo.sources import read_track
from tests.edge.conftest import hot_npy

REPO = Path(__file__).resolve().parents[2]
RTK_LOG = REPO / "tests" / "data" / "nmea" / "gpsd-nmea-rtk.log"
"""Trimble 10 Hz, real (gpsd test data, BSD-2; provenance in tests/data/nmea/README.md)."""


def test_capture_positioned_and_matched_from_a_recorded_log(tmp_path: Path) -> None:
    first = read_track(RTK_LOG).first
    assert first is not None
    assert first.time is not None
    assert first.lat is not None
    assert first.lon is not None
    cfg = EdgeConfig(robot_id="g1", outbox_dir=tmp_path / "box", nmea_source="file", nmea_file=RTK_LOG)
    stop = threading.Event()
    positions = start_positions(cfg, stop)
    assert positions is not None
    near = SitePoint(code="P-NEAR", lat=first.lat + 1e-5, lon=first.lon)  # 1.1 m north
    with Outbox(cfg.outbox_dir, byte_budget=64 * 1024**2, reserve_bytes=1024**2) as box:
        agent = Agent(
            cfg, outbox=box, matcher=PointMatcher([near], radius_m=3), pack=load_rule_pack("dlt664-2016"),
            positions=positions,
        )  # fmt: skip
        when = first.time + timedelta(seconds=0.05)
        out = agent.process(
            Capture(data=hot_npy(60.0), file_name="g.npy", received_at=datetime.now(UTC), taken_at=when)
        )
        _, result = box.get(out.keys[0])  # type: ignore[misc]
    cap = result.payload["capture"]
    pos = cap["position"]
    assert pos["quality"] == "dgps"
    assert pos["flags"] == ["interpolated"]
    assert abs(pos["lat"] - first.lat) < 1e-6
    assert pos["age_s"] == 0.05
    assert cap["time_source"] == "robot"
    assert cap["point_code"] == "P-NEAR"
    assert cap["match"]["method"] == "gnss"
    assert 1.0 < cap["match"]["distance_m"] < 1.3


def test_live_tcp_receiver_feeds_the_track_in_the_background(tmp_path: Path) -> None:
    data = RTK_LOG.read_bytes()
    srv = socket.create_server(("127.0.0.1", 0))
    port = srv.getsockname()[1]
    served = threading.Event()

    def serve() -> None:
        srv.settimeout(10)
        conn, _ = srv.accept()
        with conn:
            conn.sendall(data)
        served.set()

    t = threading.Thread(target=serve, daemon=True)
    t.start()
    cfg = EdgeConfig(outbox_dir=tmp_path / "box", nmea_source="tcp", nmea_host="127.0.0.1", nmea_port=port)
    stop = threading.Event()
    try:
        positions = start_positions(cfg, stop)
        assert positions is not None
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and len(positions.track) < 100:
            time.sleep(0.05)
        assert len(positions.track) == len(read_track(RTK_LOG))
        last = positions.track.last
        assert last is not None
        assert last.time is not None
        fix = positions.position_at(last.time)
        assert fix is not None
        assert fix.age_s == 0.0
    finally:
        stop.set()
        srv.close()
        t.join(timeout=10)
    assert served.is_set()
