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
