"""Patrol plans and executions: what a robot downloads, and what a run covered and missed."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient

from irpatrol.server.runtime import Runtime
from tests.server.conftest import drain
from tests.server.test_assets import API, import_demo, point_id, send


def make_plan(client: TestClient, headers: dict[str, str], codes: list[str], **extra: Any) -> dict[str, Any]:
    """Create a plan visiting the points with ``codes`` in that order; answer its body."""
    station = client.get(f"{API}/assets", headers=headers).json()[0]["id"]
    body = {
        "name": "例行红外巡视",
        "station_id": station,
        "patrol_type": "infrared",
        "point_ids": [point_id(client, headers, c) for c in codes],
        **extra,
    }
    r = client.post(f"{API}/plans", json=body, headers=headers)
    assert r.status_code == 201, r.text
    plan: dict[str, Any] = r.json()
    return plan


def test_plan_lists_points_in_order_with_what_a_robot_needs(
    client: TestClient, operator: dict[str, str], viewer: dict[str, str]
) -> None:
    import_demo(client, operator)
    plan = make_plan(client, operator, ["P-L1-CT", "P-C3-FUSE", "P-L1-DS-A"])
    got = client.get(f"{API}/plans/{plan['id']}", headers=viewer).json()
    assert got == plan
    assert got["n_points"] == 3
    assert got["patrol_type"] == "infrared"
    assert [p["code"] for p in got["points"]] == ["P-L1-CT", "P-C3-FUSE", "P-L1-DS-A"]
    assert [p["seq"] for p in got["points"]] == [1, 2, 3]
    fuse = got["points"][1]
    assert fuse["preset_id"] == "3"
    assert fuse["part"] == "fuse"
    assert fuse["phase"] == "ABC"
    assert fuse["device"]["name"] == "3号开关柜"
    assert fuse["device"]["device_type"] == "5"
    assert fuse["component"]["code"] == "C-FUSE"
    assert fuse["spec"]["ambient"] == {"box": [316, 180, 330, 260]}
    assert fuse["id"] == fuse["point_id"]
    listing = client.get(f"{API}/plans", headers=viewer).json()
    assert listing["total"] == 1
    assert listing["items"][0]["n_points"] == 3
    other = client.get(f"{API}/plans", params={"station_id": plan["station_id"] + 99}, headers=viewer).json()
    assert other["total"] == 0
    assert client.get(f"{API}/plans/999999", headers=viewer).status_code == 404


def test_plan_refuses_bad_points(client: TestClient, operator: dict[str, str]) -> None:
    import_demo(client, operator)
    station = client.get(f"{API}/assets", headers=operator).json()[0]
    pid = point_id(client, operator, "P-L1-CT")
    cases = [
        {"station_id": station["id"], "point_ids": [pid, pid]},
        {"station_id": station["id"], "point_ids": [999999]},
        {"station_id": station["children"][0]["id"], "point_ids": [pid]},
        {"station_id": station["id"], "point_ids": []},
        {"station_id": station["id"], "point_ids": [pid], "patrol_type": "weekly"},
    ]
    for case in cases:
        r = client.post(f"{API}/plans", json={"name": "x", **case}, headers=operator)
        assert r.status_code == 422, (case, r.text)
        assert r.json()["error"]["code"] == "invalid"
    assert client.get(f"{API}/plans", headers=operator).json()["total"] == 0


def test_execution_with_a_missed_point(
    client: TestClient, rt: Runtime, operator: dict[str, str], viewer: dict[str, str]
) -> None:
    import_demo(client, operator)
    plan = make_plan(client, operator, ["P-C3-FUSE", "P-L1-DS-A", "P-L1-CT"])
    r = client.post(
        f"{API}/plans/{plan['id']}/executions",
        json={"executor": "robot-7", "data_source": "robot"},
        headers=operator,
    )
    assert r.status_code == 201, r.text
    ex = r.json()
    assert ex["status"] == "running"
    assert ex["counts"]["missed"] == 3
    fuse, ct = plan["points"][0]["point_id"], plan["points"][2]["point_id"]
    for pid in (fuse, ct):
        up = send(client, operator, point_id=pid, execution_id=ex["id"], ambient_c=25)
        assert up.status_code == 201, up.text
    pending = client.get(f"{API}/executions/{ex['id']}", headers=viewer).json()
    assert pending["counts"]["pending"] == 2
    assert pending["items"][0]["worst_grade"] is None
    drain(rt)
    done = client.post(f"{API}/executions/{ex['id']}/finish", headers=operator)
    assert done.status_code == 200, done.text
    rep = done.json()
    assert rep["status"] == "finished"
    assert rep["finished_at"] is not None
    assert rep["executor"] == "robot-7"
    assert rep["counts"]["planned"] == 3
    assert rep["counts"]["covered"] == 2
    assert rep["counts"]["missed"] == 1
    assert rep["counts"]["analyzed"] == 2
    assert [m["code"] for m in rep["missed"]] == ["P-L1-DS-A"]
    assert [i["missed"] for i in rep["items"]] == [False, True, False]
    first = rep["items"][0]
    assert len(first["captures"]) == 1
    assert first["captures"][0]["status"] == "analyzed"
    assert first["worst_grade"] in {"normal", "general", "serious", "critical"}
    assert first["worst_grade_value"] >= 0
    assert rep["items"][1]["captures"] == []
    assert rep["extra"] == []
    again = client.post(f"{API}/executions/{ex['id']}/finish", headers=operator).json()
    assert again["finished_at"] == rep["finished_at"]
    assert client.get(f"{API}/executions/{ex['id']}", headers=viewer).json() == rep
    assert client.get(f"{API}/executions/999999", headers=viewer).status_code == 404
    assert client.post(f"{API}/executions/999999/finish", headers=operator).status_code == 404


def test_plans_and_executions_refuse_anonymous_and_wrong_roles(
    client: TestClient, operator: dict[str, str], viewer: dict[str, str]
) -> None:
    import_demo(client, operator)
    station = client.get(f"{API}/assets", headers=operator).json()[0]["id"]
    body = {"name": "x", "station_id": station, "point_ids": [point_id(client, operator, "P-L1-CT")]}
    assert client.post(f"{API}/plans", json=body).status_code == 401
    assert client.post(f"{API}/plans", json=body, headers=viewer).status_code == 403
    plan = client.post(f"{API}/plans", json=body, headers=operator).json()
    assert client.post(f"{API}/plans/{plan['id']}/executions", json={}, headers=viewer).status_code == 403
    ex = client.post(f"{API}/plans/{plan['id']}/executions", json={}, headers=operator).json()
    assert ex["data_source"] == "robot"
    assert client.post(f"{API}/executions/{ex['id']}/finish", headers=viewer).status_code == 403
    for path in (f"/plans/{plan['id']}", "/plans", f"/executions/{ex['id']}"):
        assert client.get(API + path).status_code == 401


def test_executions_are_listed_newest_first_and_filtered(
    client: TestClient, operator: dict[str, str], viewer: dict[str, str]
) -> None:
    import_demo(client, operator)
    plan = make_plan(client, operator, ["P-L1-CT", "P-C3-FUSE"])
    ids = []
    for executor in ("robot-01", "robot-02"):
        r = client.post(f"{API}/plans/{plan['id']}/executions", json={"executor": executor}, headers=operator)
        assert r.status_code == 201, r.text
        ids.append(r.json()["id"])
    client.post(f"{API}/executions/{ids[0]}/finish", headers=operator)
    page = client.get(f"{API}/executions", headers=viewer).json()
    assert page["total"] == 2
    assert [e["id"] for e in page["items"]] == ids[::-1]
    assert page["items"][0]["plan_name"] == plan["name"]
    assert page["items"][0]["station_id"] == plan["station_id"]
    done = client.get(f"{API}/executions", params={"status": "finished"}, headers=viewer).json()
    assert [e["id"] for e in done["items"]] == [ids[0]]
    other = client.get(f"{API}/executions", params={"station_id": plan["station_id"] + 999}, headers=viewer)
    assert other.json()["total"] == 0
    one = client.get(f"{API}/executions", params={"limit": 1, "offset": 1}, headers=viewer).json()
    assert [e["id"] for e in one["items"]] == [ids[0]]
    assert one["total"] == 2
