"""Plans and executions against the real server app: download, regions, resume, finish with missed points."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from irpatrol.config import load_settings
from irpatrol.diagnosis.rulepack import load_rule_pack
from irpatrol.edge.agent import Agent
from irpatrol.edge.config import EdgeConfig
from irpatrol.edge.matching import PointMatcher
from irpatrol.edge.outbox import Outbox
from irpatrol.edge.plans import PlanClient, PlanServerError, finish, load_plan, plan_points, resume_or_start
from irpatrol.edge.sources import Capture
from irpatrol.server.app import create_app
from irpatrol.server.runtime import Runtime, open_runtime
from tests.conftest import DEMO
from tests.server.conftest import auth, make_token
from tests.server.test_assets import import_demo
from tests.server.test_plans import make_plan


@pytest.fixture
def server(tmp_path: Path) -> Iterator[tuple[TestClient, str, Runtime]]:
    """The server app on a fresh SQLite database with the demo station, an operator token, the runtime."""
    settings = load_settings(data_dir=tmp_path / "data", login_rate=1000)
    rt = open_runtime(settings)
    try:
        with TestClient(create_app(settings, runtime=rt), raise_server_exceptions=False) as client:
            token = make_token(rt, "robot-07", "operator")
            import_demo(client, auth(token))
            yield client, token, rt
    finally:
        rt.close()


def test_plan_run_on_the_robot(server: tuple[TestClient, str, Runtime], tmp_path: Path) -> None:
    client, token, _ = server
    plan = make_plan(client, auth(token), ["P-C3-FUSE", "P-L1-DS-A", "P-L1-CT"])
    pc = PlanClient("http://testserver", token, http=client)
    state = tmp_path / "state"
    state.mkdir()
    got = load_plan(pc, plan["id"], state)
    assert got == plan
    points = plan_points(got)
    assert [p.code for p in points] == ["P-C3-FUSE", "P-L1-DS-A", "P-L1-CT"]
    fuse = points[0]
    assert fuse.preset == "3"
    assert fuse.point_id == plan["points"][0]["point_id"]
    assert [p.id for p in fuse.regions] == ["P-C3-FUSE"]
    assert [name for name, _ in fuse.regions[0].phases] == ["A", "B", "C"]

    ex = resume_or_start(pc, got, executor="robot-07", state_dir=state)
    assert ex.execution_id is not None
    assert resume_or_start(pc, got, executor="robot-07", state_dir=state).execution_id == ex.execution_id

    # the agent analyses the fuse bank at preset 3 with the plan's regions, inside this run
    with Outbox(tmp_path / "box", byte_budget=64 * 1024**2, reserve_bytes=1024**2) as box:
        agent = Agent(
            EdgeConfig(robot_id="robot-07", outbox_dir=tmp_path / "box"),
            outbox=box,
            matcher=PointMatcher(points, radius_m=5),
            pack=load_rule_pack("dlt664-2016"),
            execution=ex,
        )
        data = (DEMO / "flir_t640_fuses.jpg").read_bytes()
        out = agent.process(Capture(data=data, file_name="IR_p3.jpg", received_at=datetime.now(UTC)))
        _, result = box.get(out.keys[0])  # type: ignore[misc]
        cap = result.payload["capture"]
        assert (cap["point_code"], cap["point_id"], cap["execution_id"]) == (
            "P-C3-FUSE",
            fuse.point_id,
            ex.execution_id,
        )
        assert [f["subject"] for f in result.payload["inspection"]["findings"]] == ["P-C3-FUSE"]

    summary = finish(pc, ex, state)
    assert summary["covered"] == ["P-C3-FUSE"]
    assert summary["missed"] == ["P-L1-DS-A", "P-L1-CT"]
    assert summary["server_missed"] == ["P-C3-FUSE", "P-L1-DS-A", "P-L1-CT"]  # nothing was uploaded here
    assert (
        client.get(f"/api/v1/executions/{ex.execution_id}", headers=auth(token)).json()["status"]
        == "finished"
    )
    assert not (state / "execution.json").exists()

    # offline: the copy kept on the robot
    offline = PlanClient("http://127.0.0.1:9", token, timeout_s=0.5)
    try:
        assert load_plan(offline, plan["id"], state) == plan
        assert load_plan(offline, plan["id"] + 1, state) is None
    finally:
        offline.close()
    with pytest.raises(PlanServerError) as info:
        pc.get_plan(999_999)
    assert info.value.status == 404
    with pytest.raises(PlanServerError) as denied:
        PlanClient("http://testserver", "wrong-token", http=client).get_plan(plan["id"])
    assert denied.value.status == 401


def test_runner_runs_a_downloaded_plan(server: tuple[TestClient, str, Runtime], tmp_path: Path) -> None:
    """``run_from_config`` with ``plan_id`` against the real server over HTTP: covered and missed points."""
    from irpatrol.edge.runner import run_from_config
    from tests.uplink.harness import http_server

    client, token, rt = server
    plan = make_plan(client, auth(token), ["P-C3-FUSE", "P-L1-DS-A"])
    replay = tmp_path / "patrol"
    replay.mkdir()
    (replay / "IR_p3_0001.jpg").write_bytes((DEMO / "flir_t640_fuses.jpg").read_bytes())
    with http_server(rt) as url:
        cfg = EdgeConfig(
            robot_id="robot-07", outbox_dir=tmp_path / "box", source="replay", replay_path=replay,
            replay_rate_hz=100, server_url=url, server_token=token, plan_id=plan["id"],
        )  # fmt: skip
        report = run_from_config(cfg, threading.Event())
    assert report.finished
    assert report.execution is not None
    assert report.execution["covered"] == ["P-C3-FUSE"]
    assert report.execution["missed"] == ["P-L1-DS-A"]
    with Outbox(tmp_path / "box", byte_budget=64 * 1024**2, reserve_bytes=1024**2) as box:
        items = box.claim(100)
    result = next(i for i in items if i.kind == "result")
    assert result.payload["capture"]["point_code"] == "P-C3-FUSE"
    assert result.payload["capture"]["execution_id"] == report.execution["execution_id"]
    finished = next(i for i in items if i.payload.get("event") == "execution-finished")
    assert finished.payload["missed"] == ["P-L1-DS-A"]
    assert (tmp_path / "box" / f"plan-{plan['id']}.json").exists()
