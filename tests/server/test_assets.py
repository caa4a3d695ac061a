"""The asset tree: import from YAML and CSV (idempotent, all or nothing), the tree, points and trends."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from irpatrol.server.runtime import Runtime
from tests.conftest import DEMO
from tests.server.conftest import FUSES, drain, upload

API = "/api/v1"
YAML_FILE = DEMO / "station.assets.yaml"
CSV_FILE = Path(__file__).resolve().parents[2] / "docs" / "examples" / "station.assets.csv"
LEVELS = {"stations": 1, "areas": 2, "bays": 2, "devices": 3, "components": 3, "points": 4}
NODES = sum(LEVELS.values())


def import_file(
    client: TestClient,
    headers: dict[str, str],
    data: bytes | str,
    name: str,
    ctype: str = "application/octet-stream",
) -> Any:
    """POST an asset file to /assets/import."""
    raw = data.encode("utf-8") if isinstance(data, str) else data
    return client.post(f"{API}/assets/import", files={"file": (name, raw, ctype)}, headers=headers)


def import_demo(client: TestClient, headers: dict[str, str]) -> dict[str, Any]:
    """Import the demo station and answer the import result."""
    r = import_file(client, headers, YAML_FILE.read_bytes(), YAML_FILE.name)
    assert r.status_code == 200, r.text
    body: dict[str, Any] = r.json()
    return body


def point_id(client: TestClient, headers: dict[str, str], code: str) -> int:
    """The id of the point with ``code``."""
    page = client.get(f"{API}/points", params={"code": code}, headers=headers).json()
    assert page["total"] == 1, page
    return int(page["items"][0]["id"])


def send(client: TestClient, headers: dict[str, str], **fields: object) -> Any:
    """Upload the FLIR fuse-bank demo image with form ``fields`` (typed for the checks)."""
    return upload(client, headers, FUSES, None, **fields)


def _line_of(text: str, needle: str) -> int:
    return next(i for i, ln in enumerate(text.splitlines(), start=1) if needle in ln)


def test_import_yaml_then_again_then_csv_twin_creates_nothing_twice(
    client: TestClient, operator: dict[str, str]
) -> None:
    first = import_demo(client, operator)
    assert first == {"format": "yaml", **LEVELS, "created": NODES, "updated": 0, "unchanged": 0}
    again = import_demo(client, operator)
    assert again == {"format": "yaml", **LEVELS, "created": 0, "updated": 0, "unchanged": NODES}
    twin = import_file(client, operator, CSV_FILE.read_bytes(), CSV_FILE.name)
    assert twin.status_code == 200, twin.text
    assert twin.json() == {"format": "csv", **LEVELS, "created": 0, "updated": 0, "unchanged": NODES}
    assert client.get(f"{API}/points", headers=operator).json()["total"] == 4


def test_reimport_updates_names_and_fields(client: TestClient, operator: dict[str, str]) -> None:
    import_demo(client, operator)
    text = (
        CSV_FILE.read_text("utf-8")
        .replace("3号开关柜间隔", "3号柜间隔（改）")
        .replace(",A,11,,1250,", ",A,21,,2000,")
    )
    r = import_file(client, operator, text, "renamed.csv")
    assert r.status_code == 200, r.text
    assert (r.json()["created"], r.json()["updated"]) == (0, 2), r.json()
    tree = client.get(f"{API}/assets", headers=operator).json()
    bays = [b["name"] for st in tree for a in st["children"] for b in a["children"]]
    assert "3号柜间隔（改）" in bays
    p = client.get(f"{API}/points/{point_id(client, operator, 'P-L1-DS-A')}", headers=operator).json()
    assert p["preset_id"] == "21"
    assert p["rated_current_a"] == 2000


def test_csv_with_bom_and_gb18030(client: TestClient, operator: dict[str, str]) -> None:
    text = CSV_FILE.read_text("utf-8")
    assert import_file(client, operator, "\ufeff" + text, "a.csv").status_code == 200
    r = import_file(client, operator, text.encode("gb18030"), "b.csv")
    assert r.status_code == 200, r.text
    assert r.json()["created"] == 0


def test_format_from_content_type_when_name_says_nothing(
    client: TestClient, operator: dict[str, str]
) -> None:
    r = import_file(client, operator, CSV_FILE.read_bytes(), "upload", "text/csv")
    assert r.status_code == 200, r.text
    assert r.json()["format"] == "csv"


def test_malformed_yaml_answers_line_and_field_and_imports_nothing(
    client: TestClient, operator: dict[str, str]
) -> None:
    text = YAML_FILE.read_text("utf-8").replace("part: connector", "part: no-such-part")
    r = import_file(client, operator, text, "bad.assets.yaml")
    assert r.status_code == 422, r.text
    err = r.json()["error"]
    assert err["code"] == "bad_data_file"
    assert err["file"] == "bad.assets.yaml"
    assert err["line"] == _line_of(text, "no-such-part")
    assert err["field"].endswith("points[P-L1-CT].part")
    assert "no-such-part" in err["message"]
    assert "dlt664-2016" in err["message"]
    # the stations, areas … before the bad point were valid, yet nothing was written
    assert client.get(f"{API}/assets", headers=operator).json() == []
    assert client.get(f"{API}/points", headers=operator).json()["total"] == 0


@pytest.mark.parametrize(
    ("old", "new", "field", "line"),
    [
        ("[334, 170, 359, 268]", "[334, 170, 359]", "regions.phases.C.box", 2),
        ('{""phases""', '{""phasez""', "regions.phasez", 2),
        ('""phases"": {', '""phases"": {{', "regions", 2),
        (",A,11,", ",D,11,", "phase", 3),
        (",1250,,\n", ",-5,,\n", "rated_current_a", 3),
        (",connector,", ",no-such-part,", "part", 5),
    ],
)
def test_malformed_csv_names_the_row_and_column(
    client: TestClient, operator: dict[str, str], old: str, new: str, field: str, line: int
) -> None:
    text = CSV_FILE.read_text("utf-8")
    assert old in text
    bad = text.replace(old, new, 1)
    r = import_file(client, operator, bad, "site.csv")
    assert r.status_code == 422, r.text
    err = r.json()["error"]
    assert err["field"] == field, err
    assert err["line"] == line, err
    assert err["message"].startswith(f"site.csv:{err['line']}: field `{field}`")
    assert client.get(f"{API}/assets", headers=operator).json() == []


def test_csv_unknown_column_and_missing_parent(client: TestClient, operator: dict[str, str]) -> None:
    r = import_file(client, operator, "station_code,colour\nS1,red\n", "a.csv")
    assert r.status_code == 422
    assert r.json()["error"]["field"] == "colour"
    assert r.json()["error"]["line"] == 1
    r = import_file(client, operator, "station_code,station_name,bay_code\nS1,One,B1\n", "a.csv")
    assert (r.status_code, r.json()["error"]["field"]) == (422, "area_code"), r.text
    r = import_file(client, operator, "station_code,station_name\nS1,One\nS1,Two\n", "a.csv")
    assert (r.status_code, r.json()["error"]["line"]) == (422, 3), r.text


def test_yaml_duplicate_and_not_yaml(client: TestClient, operator: dict[str, str]) -> None:
    dup = "stations:\n  - {code: S1, name: A}\n  - {code: S1, name: B}\n"
    r = import_file(client, operator, dup, "d.yaml")
    assert (r.status_code, r.json()["error"]["line"]) == (422, 3), r.text
    r = import_file(client, operator, "stations: [\n", "d.yaml")
    assert r.status_code == 422
    assert r.json()["error"]["code"] == "bad_data_file"


def test_tree_shape(client: TestClient, operator: dict[str, str], viewer: dict[str, str]) -> None:
    import_demo(client, operator)
    tree = client.get(f"{API}/assets", headers=viewer).json()
    assert [s["code"] for s in tree] == ["S-DEMO"]
    st = tree[0]
    assert st["kind"] == "station"
    assert st["name"] == "示范110kV变电站"
    assert st["station_id"] == st["id"]
    assert [a["code"] for a in st["children"]] == ["A-10KV", "A-110KV"]
    bay = st["children"][1]["children"][0]
    assert bay["kind"] == "bay"
    assert [d["kind"] for d in bay["children"]] == ["device", "device"]
    dev = bay["children"][0]
    assert dev["device_type"] == "隔离开关"
    comp = dev["children"][0]
    assert comp["kind"] == "component"
    assert comp["children"] == []
    assert [p["code"] for p in comp["points"]] == ["P-L1-DS-A", "P-L1-DS-B"]
    assert comp["points"][0]["phase"] == "A"
    assert comp["points"][0]["heating_type"] == "current"

    assert client.get(f"{API}/assets", params={"station_id": st["id"]}, headers=viewer).json() == tree
    assert client.get(f"{API}/assets", params={"station_id": dev["id"]}, headers=viewer).status_code == 404
    one = client.get(f"{API}/assets/{dev['id']}", headers=viewer).json()
    assert [x["kind"] for x in one["path"]] == ["station", "area", "bay"]
    assert one["children"][0]["points"][1]["code"] == "P-L1-DS-B"
    missing = client.get(f"{API}/assets/999999", headers=viewer)
    assert missing.status_code == 404
    assert missing.json()["error"]["code"] == "not_found"


def test_points_list_and_one(client: TestClient, operator: dict[str, str], viewer: dict[str, str]) -> None:
    import_demo(client, operator)
    page = client.get(f"{API}/points", params={"limit": 2}, headers=viewer).json()
    assert page["total"] == 4
    assert len(page["items"]) == 2
    assert page["limit"] == 2
    st = client.get(f"{API}/assets", headers=viewer).json()[0]["id"]
    assert client.get(f"{API}/points", params={"station_id": st}, headers=viewer).json()["total"] == 4
    assert client.get(f"{API}/points", params={"station_id": st + 999}, headers=viewer).json()["total"] == 0
    p = client.get(f"{API}/points/{point_id(client, viewer, 'P-C3-FUSE')}", headers=viewer).json()
    assert p["part"] == "fuse"
    assert p["phase"] == "ABC"
    assert p["device_type"] == "5"
    assert p["rated_current_a"] == 200
    assert p["spec"]["phases"]["B"] == {"box": [286, 170, 311, 268]}
    assert [x["code"] for x in p["path"]] == ["S-DEMO", "A-10KV", "B-C3", "D-C3", "C-FUSE"]
    assert client.get(f"{API}/points/999999", headers=viewer).status_code == 404


def test_trend_in_time_order(client: TestClient, rt: Runtime, operator: dict[str, str]) -> None:
    import_demo(client, operator)
    pid = point_id(client, operator, "P-C3-FUSE")
    other = point_id(client, operator, "P-L1-CT")
    times = ["2024-06-03T10:00:00+00:00", "2024-06-01T10:00:00+00:00", "2024-06-02T10:00:00+00:00"]
    for i, t in enumerate(times):
        r = send(client, operator, point_id=pid, taken_at=t, ambient_c=30 + i, load_ratio=0.5 + i / 10)
        assert r.status_code == 201, r.text
    assert send(client, operator, point_id=other).status_code == 201
    drain(rt)
    trend = client.get(f"{API}/points/{pid}/trend", headers=operator).json()
    assert trend["point_id"] == pid
    assert trend["code"] == "P-C3-FUSE"
    items = trend["items"]
    assert [e["taken_at"][:10] for e in items] == ["2024-06-01", "2024-06-02", "2024-06-03"]
    assert [e["ambient_c"] for e in items] == [31, 32, 30]
    assert [e["load_ratio"] for e in items] == [0.6, 0.7, 0.5]
    for e in items:
        assert e["grade"] in {"normal", "general", "serious", "critical"}, e
        assert e["t1_c"] is not None
        assert e["t2_c"] is not None
        assert e["max_c"] >= e["t1_c"]
        assert e["delta_t_k"] == pytest.approx(e["t1_c"] - e["t2_c"], abs=0.05)
    since = client.get(
        f"{API}/points/{pid}/trend",
        params={"since": "2024-06-02T00:00:00Z", "until": "2024-06-03T00:00:00Z"},
        headers=operator,
    ).json()
    assert [e["taken_at"][:10] for e in since["items"]] == ["2024-06-02"]
    assert client.get(f"{API}/points/999999/trend", headers=operator).status_code == 404


def test_import_refuses_anonymous_viewer_and_non_multipart(
    client: TestClient, viewer: dict[str, str], operator: dict[str, str]
) -> None:
    data = YAML_FILE.read_bytes()
    anon = client.post(f"{API}/assets/import", files={"file": ("a.yaml", data)})
    assert anon.status_code == 401
    assert anon.json()["error"]["code"] == "unauthorized"
    denied = import_file(client, viewer, data, "a.yaml")
    assert denied.status_code == 403
    assert denied.json()["error"]["code"] == "forbidden"
    raw = client.post(
        f"{API}/assets/import", content=data, headers={**operator, "Content-Type": "application/yaml"}
    )
    assert raw.status_code == 415
    for path in ("/assets", "/points", "/assets/1", "/points/1", "/points/1/trend"):
        assert client.get(API + path).status_code == 401
    assert client.get(f"{API}/assets", headers=viewer).json() == []
