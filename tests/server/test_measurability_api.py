"""The measurability flags through the server: a point's material, size and distance, the API's finding."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient

from irpatrol.server.runtime import Runtime
from tests.server.conftest import drain, upload
from tests.server.test_assets import YAML_FILE, import_file, point_id

API = "/api/v1"


def test_flags_facts_and_texts_in_the_api(client: TestClient, rt: Runtime, operator: dict[str, str]) -> None:
    text = YAML_FILE.read_text(encoding="utf-8")
    text = text.replace(
        "                          ambient: {box: [316, 180, 330, 260]}\n",
        "                          ambient: {box: [316, 180, 330, 260]}\n"
        "                          material: bare_metal\n"
        "                          target_mm: 6\n"
        "                          distance_m: 12\n",
        1,
    )
    assert "target_mm: 6" in text
    r = import_file(client, operator, text, "station.assets.yaml")
    assert r.status_code == 200, r.text
    pid = point_id(client, operator, "P-C3-FUSE")
    r = upload(client, operator, point_id=pid)
    assert r.status_code == 201, r.text  # type: ignore[attr-defined]
    drain(rt)
    cid = r.json()["id"]  # type: ignore[attr-defined]
    capture: dict[str, Any] = client.get(
        f"{API}/captures/{cid}", params={"lang": "en"}, headers=operator
    ).json()
    (finding,) = capture["findings"]
    assert {"below-measurable-size", "low-emissivity-material"} <= set(finding["flags"])
    assert finding["tentative"] is True
    one = client.get(f"{API}/findings/{finding['id']}", params={"lang": "en"}, headers=operator).json()
    assert "one pixel covers 8.2 mm at 12 m" in one["explanation"]
    assert "Measure closer or with a telephoto lens." in one["recommendation"]
    notes = {n["code"]: n["params"] for n in one["facts"]["finding"]["notes"]}
    assert notes["below-measurable-size"]["target_mm"] == 6.0
    assert notes["below-measurable-size"]["distance_source"] == "point"
    assert notes["low-emissivity-material"]["material"] == "bare_metal"
    schema = client.get("/openapi.json").json()["components"]["schemas"]["FindingOut"]["properties"]
    assert "below-measurable-size" in schema["flags"]["description"]


def test_the_uploaded_distance_is_stored_and_judges_the_spot_size(
    client: TestClient, rt: Runtime, operator: dict[str, str]
) -> None:
    ambient = "                          ambient: {box: [316, 180, 330, 260]}\n"
    target = "                          target_mm: 6\n"
    # a 6 mm target and no distance of the point's own: the robot's measured one decides
    text = YAML_FILE.read_text(encoding="utf-8").replace(ambient, ambient + target, 1)
    assert import_file(client, operator, text, "station.assets.yaml").status_code == 200
    pid = point_id(client, operator, "P-C3-FUSE")
    near = upload(client, operator, key="near", point_id=pid, distance_m=1.5)
    far = upload(client, operator, key="far", point_id=pid, distance_m=12)
    assert near.status_code == far.status_code == 201  # type: ignore[attr-defined]
    drain(rt)
    flags: dict[str, set[str]] = {}
    for name, r in (("near", near), ("far", far)):
        got = client.get(f"{API}/captures/{r.json()['id']}", headers=operator).json()  # type: ignore[attr-defined]
        assert got["distance_m"] == (1.5 if name == "near" else 12.0)
        (finding,) = got["findings"]
        flags[name] = set(finding["flags"])
        one = client.get(f"{API}/findings/{finding['id']}", headers=operator).json()
        notes = {n["code"]: n["params"] for n in one["facts"]["finding"]["notes"]}
        if name == "far":
            assert notes["below-measurable-size"]["distance_m"] == 12.0
            assert notes["below-measurable-size"]["distance_source"] == "conditions"
    assert "below-measurable-size" not in flags["near"]  # 1.5 m: a pixel is 1.0 mm, 6 mm is 6 px
    assert "below-measurable-size" in flags["far"]  # 12 m: a pixel is 8.2 mm
    for bad in ("0", "-3", "1001", "nan"):
        r = upload(client, operator, key=f"bad-{bad}", point_id=pid, distance_m=bad)
        assert r.status_code == 422, (bad, r.text)  # type: ignore[attr-defined]
        assert "distance_m" in r.json()["error"]["message"]  # type: ignore[attr-defined]
