"""Uploading captures: idempotent, durable, analysed in the background."""

from __future__ import annotations

from fastapi.testclient import TestClient

from irpatrol.server.runtime import Runtime
from tests.server.conftest import E40, FUSES, drain, make_point, upload


def test_upload_answers_201_pending_then_analyzed(
    client: TestClient, rt: Runtime, operator: dict[str, str]
) -> None:
    r = upload(client, operator, FUSES, key="k-1", ambient_c=20, load_ratio=0.8)
    assert r.status_code == 201, r.text
    body = r.json()
    assert body["status"] == "pending"
    assert len(body["sha256"]) == 64
    got = client.get(f"/api/v1/captures/{body['id']}", headers=operator).json()
    assert got["status"] == "pending"
    assert got["findings"] == []
    assert drain(rt) >= 1
    got = client.get(f"/api/v1/captures/{body['id']}", headers=operator).json()
    assert got["status"] == "analyzed", got
    assert got["width"] == 640
    assert got["height"] == 480
    assert got["findings"], got
    assert all("grade" in f for f in got["findings"])
    assert got["ambient_c"] == 20
    assert got["load_ratio"] == 0.8


def test_same_key_same_row(client: TestClient, rt: Runtime, operator: dict[str, str]) -> None:
    first = upload(client, operator, E40, key="robot1:exec7:p3:1:ir:v1")
    again = upload(client, operator, E40, key="robot1:exec7:p3:1:ir:v1")
    assert first.status_code == 201
    assert again.status_code == 200
    assert first.json()["id"] == again.json()["id"]
    listing = client.get("/api/v1/captures", headers=operator).json()
    assert listing["total"] == 1
    assert len(listing["items"]) == 1
    other = upload(client, operator, FUSES, key="robot1:exec7:p3:1:ir:v1")
    assert other.status_code == 409, other.text
    assert other.json()["error"]["code"] == "conflict"


def test_load_current_gives_the_load_ratio_from_the_points_rated_current(
    client: TestClient, rt: Runtime, operator: dict[str, str]
) -> None:
    point_id, station_id = make_point(rt, rated_current_a=630.0)
    r = upload(client, operator, E40, key="lc-1", point_id=point_id, load_current_a=315)
    assert r.status_code == 201, r.text
    got = client.get(f"/api/v1/captures/{r.json()['id']}", headers=operator).json()
    assert got["load_current_a"] == 315
    assert got["load_ratio"] == 0.5
    assert got["station_id"] == station_id
    bad = upload(client, operator, E40, key="lc-2", load_current_a=-3)
    assert bad.status_code == 422
    assert "load_current_a" in bad.json()["error"]["message"]
