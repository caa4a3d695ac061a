"""The agent's contract: keys, alarm → result → file, payloads the protocol accepts, skips, back-pressure."""

from __future__ import annotations

import hashlib
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from irpatrol.diagnosis.points import parse_points
from irpatrol.diagnosis.rulepack import load_rule_pack
from irpatrol.edge.agent import Agent, item_key
from irpatrol.edge.config import EdgeConfig
from irpatrol.edge.matching import PointMatcher, SitePoint
from irpatrol.edge.outbox import Lane, Outbox
from irpatrol.edge.plans import strip_images
from irpatrol.edge.sources import Capture, ReplaySource
from irpatrol.geo import FixQuality, PositionFix
from irpatrol.protocol import Envelope, parse_envelope
from tests.conftest import DEMO
from tests.edge.conftest import hot_npy

MiB = 1024 * 1024
PACK = load_rule_pack("dlt664-2016")


def capture(data: bytes, name: str = "c.npy", **kw: object) -> Capture:
    return Capture(data=data, file_name=name, received_at=datetime.now(UTC), **kw)  # type: ignore[arg-type]


def make_agent(box: Outbox, points: list[SitePoint] | None = None, **cfg: object) -> Agent:
    config = EdgeConfig(robot_id="r1", outbox_dir=box.directory, **cfg)  # type: ignore[arg-type]
    return Agent(config, outbox=box, matcher=PointMatcher(points or [], radius_m=5.0), pack=PACK)


def envelope_ok(box: Outbox, key: str) -> None:
    """The item as the uplink would send it passes the server's protocol checks."""
    got = box.get(key)
    assert got is not None
    _, item = got
    env = Envelope(
        key=key, kind=item.kind, robot="r1", created_at=item.created_at.isoformat(), body=item.payload
    )
    assert parse_envelope(env.to_json()).key == key


def test_critical_capture_queues_alarm_result_and_file(tmp_path: Path) -> None:
    data = hot_npy(200.0)
    sha = hashlib.sha256(data).hexdigest()
    with Outbox(tmp_path / "box", byte_budget=64 * MiB, reserve_bytes=MiB) as box:
        agent = make_agent(box)
        out = agent.process(capture(data))
        assert out.critical
        keys = [item_key("r1", k, sha, 0) for k in ("alarm", "result", "file")]
        assert list(out.keys) == keys
        assert [i.key for i in box.claim(10)] == keys  # lane order: alarm, result, file
        for k in keys:
            envelope_ok(box, k)
        _, alarm = box.get(keys[0])  # type: ignore[misc]
        cap = alarm.payload["capture"]
        assert cap["sha256"] == sha
        assert cap["file_name"] == "c.npy"
        assert cap["point_code"] is None
        assert cap["position"] is None
        assert set(cap) >= {
            "sha256",
            "file_name",
            "taken_at",
            "preset",
            "point_code",
            "execution_id",
            "position",
        }
        grades = [f["finding"]["grade"] for f in alarm.payload["inspection"]["findings"] if f.get("finding")]
        assert "critical" in grades
        _, f = box.get(keys[2])  # type: ignore[misc]
        assert f.payload == {"sha256": sha, "file_name": "c.npy", "size": len(data)}
        assert f.blob_path is not None
        assert f.blob_path.read_bytes() == data
        assert agent.stats.alarms == 1


def test_normal_capture_has_no_alarm_and_a_repeat_is_skipped(tmp_path: Path) -> None:
    data = hot_npy(60.0)
    with Outbox(tmp_path / "box", byte_budget=64 * MiB, reserve_bytes=MiB) as box:
        agent = make_agent(box)
        first = agent.process(capture(data))
        assert not first.critical
        assert [k.split(":")[1] for k in first.keys] == ["result", "file"]
        again = agent.process(capture(data, "renamed.npy"))  # same bytes: same keys
        assert again.skipped
        assert box.counts()["pending"] == 2
        assert agent.stats.skipped == 1


def test_unreadable_capture_becomes_an_event(tmp_path: Path) -> None:
    with Outbox(tmp_path / "box", byte_budget=64 * MiB, reserve_bytes=MiB) as box:
        agent = make_agent(box)
        out = agent.process(capture(b"not a thermal image at all", "x.jpg"))
        assert out.failed
        (item,) = box.claim(10)
        assert item.kind == "telemetry"
        assert item.payload["event"] == "capture-failed"
        assert item.payload["error"]["kind"] == "bad-input"
        assert agent.stats.failed == 1


def test_alarm_overtakes_an_older_backlog(tmp_path: Path) -> None:
    with Outbox(tmp_path / "box", byte_budget=64 * MiB, reserve_bytes=MiB) as box:
        agent = make_agent(box)
        for i in range(8):
            agent.process(capture(hot_npy(60.0, seed=i), f"n{i}.npy"))
        agent.process(capture(hot_npy(200.0, seed=99), "late-critical.npy"))
        first = box.claim(1)
        assert first[0].kind == "alarm"
        assert first[0].payload["capture"]["file_name"] == "late-critical.npy"
        rest = box.claim(100)
        assert [i.kind for i in rest] == ["result"] * 9 + ["file"] * 9


def test_preset_match_uses_the_points_regions_and_the_position(tmp_path: Path) -> None:
    spec = (DEMO / "flir_t640_fuses.points.yaml").read_text(encoding="utf-8")
    regions = strip_images(parse_points(spec).points)
    point = SitePoint(code="cabinet-3-fuses", preset="3", x_m=1.0, y_m=2.0, point_id=17, regions=regions)
    t = datetime(2026, 12, 2, 10, 0, tzinfo=UTC)

    class Fixed:
        def position_at(self, when: datetime) -> PositionFix:
            return PositionFix(
                lat=31.2, lon=121.4, alt_m=12.0, quality=FixQuality.RTK_FIXED, sigma_m=0.02,
                heading_deg=90.0, time=when, age_s=0.1, flags=("interpolated",),
            )  # fmt: skip

    with Outbox(tmp_path / "box", byte_budget=64 * MiB, reserve_bytes=MiB) as box:
        agent = make_agent(box, [point])
        agent.positions = Fixed()
        data = (DEMO / "flir_t640_fuses.jpg").read_bytes()
        agent.process(capture(data, "IR_0001.jpg", preset="3", taken_at=t, execution_id=5))
        result = next(i for i in box.claim(10) if i.kind == "result")
        cap = result.payload["capture"]
        assert cap["point_code"] == "cabinet-3-fuses"
        assert cap["point_id"] == 17
        assert cap["match"] == {"method": "preset", "distance_m": None}
        assert cap["taken_at"] == t.isoformat()
        assert cap["execution_id"] == 5
        assert cap["position"] == {
            "lat": 31.2, "lon": 121.4, "alt_m": 12.0, "quality": "rtk_fixed", "sigma_m": 0.02,
            "heading_deg": 90.0, "age_s": 0.1, "flags": ["interpolated"],
        }  # fmt: skip
        findings = result.payload["inspection"]["findings"]
        assert [f["subject"] for f in findings] == ["cabinet-3-fuses"]  # the point's regions, not hot spots
        by_name = make_agent(box, [point]).process(capture(data + b"\0", "bay_p3_0002.jpg"))
        _, r2 = box.get(by_name.keys[0])  # type: ignore[misc]
        assert r2.payload["capture"]["preset"] == "3"  # from the file name
        assert r2.payload["capture"]["point_code"] == "cabinet-3-fuses"


def test_full_outbox_blocks_then_resumes(tmp_path: Path) -> None:
    """Back-pressure: with the budget full the loop waits; as the uplink acks, every capture gets in."""
    replay = tmp_path / "replay"
    replay.mkdir()
    for i in range(12):
        (replay / f"c{i:02d}.npy").write_bytes(hot_npy(60.0, seed=i, shape=(256, 320)))
    with Outbox(tmp_path / "box", byte_budget=2 * MiB, reserve_bytes=MiB) as box:
        agent = make_agent(box, full_retry_s=0.05, telemetry_interval_s=60)
        committed: set[str] = set()
        agent.on_committed = committed.add
        stop = threading.Event()
        acked: list[str] = []

        def uplink() -> None:
            deadline = time.monotonic() + 30
            while not stop.is_set() and time.monotonic() < deadline:
                time.sleep(0.1)
                for it in box.claim(2):
                    box.ack(it.key)
                    acked.append(it.key)

        t = threading.Thread(target=uplink)
        t.start()
        try:
            finished = agent.run(ReplaySource(replay, rate_hz=1000, patterns=["*.npy"]), stop)
        finally:
            stop.set()
            t.join(timeout=10)
        assert finished
        assert agent.stats.full_waits > 0
        assert agent.stats.analysed >= 12  # a capture whose file was refused is analysed again
        assert len([k for k in committed if ":file:" in k]) == 12
        assert len([k for k in committed if ":result:" in k]) == 12
        assert {k for k, _ in box.states()} | set(acked) == committed  # acked rows were purged for room


def test_telemetry_item(tmp_path: Path) -> None:
    with Outbox(tmp_path / "box", byte_budget=64 * MiB, reserve_bytes=MiB) as box:
        agent = make_agent(box)
        k1, k2 = agent.telemetry(), agent.telemetry()
        assert k1 != k2
        _, item = box.get(k1)  # type: ignore[misc]
        assert item.lane == Lane.TELEMETRY
        assert item.payload["outbox"]["pending"] == 0
        assert item.payload["position"] is None
        envelope_ok(box, k1)


@pytest.mark.parametrize("offset_s", [0.0, 30.0])
def test_stale_position_is_not_used_for_matching(tmp_path: Path, offset_s: float) -> None:
    point = SitePoint(code="P1", lat=31.2, lon=121.4)

    class Fixed:
        def position_at(self, when: datetime) -> PositionFix:
            return PositionFix(
                lat=31.2, lon=121.4, alt_m=None, quality=FixQuality.RTK_FIXED, sigma_m=None, heading_deg=None,
                time=when, age_s=offset_s, flags=("stale",) if offset_s > 2 else (),
            )  # fmt: skip

    with Outbox(tmp_path / "box", byte_budget=64 * MiB, reserve_bytes=MiB) as box:
        agent = make_agent(box, [point])
        agent.positions = Fixed()
        out = agent.process(capture(hot_npy(60.0), taken_at=datetime.now(UTC) - timedelta(seconds=1)))
        _, r = box.get(out.keys[0])  # type: ignore[misc]
        assert r.payload["capture"]["point_code"] == (None if offset_s else "P1")


def test_a_failing_outbox_database_stops_the_run(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Not a full disk but a broken database: the agent stops with the error (systemd restarts it)."""
    import sqlite3

    replay = tmp_path / "replay"
    replay.mkdir()
    for i in range(3):
        (replay / f"c{i}.npy").write_bytes(hot_npy(60.0, seed=i))
    with Outbox(tmp_path / "box", byte_budget=64 * MiB, reserve_bytes=MiB) as box:
        agent = make_agent(box, telemetry_interval_s=60)

        def broken(*a: object, **kw: object) -> bool:
            raise sqlite3.OperationalError("disk I/O error")

        monkeypatch.setattr(box, "put", broken)
        with pytest.raises(sqlite3.OperationalError, match="disk I/O"):
            agent.run(ReplaySource(replay, rate_hz=1000, patterns=["*.npy"]), threading.Event())
