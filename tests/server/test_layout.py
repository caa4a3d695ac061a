"""A station's layout image with its georeference: upload (admin), read back, errors; both backends."""

from __future__ import annotations

import io
import json
from typing import Any

from fastapi.testclient import TestClient
from PIL import Image

from irpatrol.geo.local import local_en
from tests.server.test_assets import API, import_demo

LAT0, LON0 = 30.5, 114.3


def png(width: int = 400, height: int = 300) -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", (width, height), (230, 230, 220)).save(buf, format="PNG")
    return buf.getvalue()


def pixel(lat: float, lon: float) -> tuple[float, float]:
    """The test plan: north up, 2 px per metre, (LAT0, LON0) at pixel (200, 150)."""
    e, n = local_en(lat, lon, LAT0, LON0)
    return 200 + 2 * e, 150 - 2 * n


def control(*positions: tuple[float, float]) -> str:
    return json.dumps(
        [
            dict(zip(("lat", "lon"), p, strict=True)) | dict(zip("xy", pixel(*p), strict=True))
            for p in positions
        ]
    )


def station_code(client: TestClient, headers: dict[str, str]) -> str:
    code: str = client.get(f"{API}/assets", headers=headers).json()[0]["code"]
    return code


def put(client: TestClient, headers: dict[str, str], code: str, image: bytes, points: str) -> Any:
    return client.put(
        f"{API}/stations/{code}/layout",
        files={"image": ("plan.png", image, "image/png")},
        data={"control_points": points},
        headers=headers,
    )


def test_layout_round_trip_and_fit(client: TestClient, admin: dict[str, str], viewer: dict[str, str]) -> None:
    import_demo(client, admin)
    code = station_code(client, admin)
    assert client.get(f"{API}/stations/{code}/layout", headers=viewer).status_code == 404
    image = png()
    pts = control((LAT0, LON0), (LAT0 + 0.0003, LON0 + 0.0002), (LAT0 - 0.0002, LON0 + 0.0004))
    r = put(client, admin, code, image, pts)
    assert r.status_code == 200, r.text
    body = r.json()
    assert (body["width"], body["height"], body["media_type"]) == (400, 300, "image/png")
    assert body["transform"]["kind"] == "affine"
    assert body["transform"]["rms_px"] < 1e-6
    assert abs(body["transform"]["m_per_px"] - 0.5) < 1e-4
    got = client.get(f"{API}/stations/{code}/layout", headers=viewer)
    assert got.status_code == 200
    assert got.json() == body
    # the transform puts a position where the plan shows it
    tr = body["transform"]
    e, n = local_en(LAT0 + 0.0001, LON0 + 0.0001, tr["origin_lat"], tr["origin_lon"])
    x, y = tr["a"] * e + tr["b"] * n + tr["c"], tr["d"] * e + tr["e"] * n + tr["f"]
    want = pixel(LAT0 + 0.0001, LON0 + 0.0001)
    assert abs(x - want[0]) < 0.05
    assert abs(y - want[1]) < 0.05
    img = client.get(f"{API}/stations/{code}/layout/image", headers=viewer)
    assert img.status_code == 200
    assert img.content == image
    assert img.headers["content-type"] == "image/png"
    again = client.get(
        f"{API}/stations/{code}/layout/image", headers={**viewer, "If-None-Match": img.headers["etag"]}
    )
    assert again.status_code == 304
    # replacing it with two points: a similarity
    r2 = put(client, admin, code, png(401, 300), control((LAT0, LON0), (LAT0 + 0.0001, LON0 + 0.0001)))
    assert r2.status_code == 200, r2.text
    assert r2.json()["transform"]["kind"] == "similarity"
    assert client.get(f"{API}/stations/{code}/layout", headers=viewer).json()["width"] == 401


def test_layout_needs_admin_a_station_an_image_and_good_points(
    client: TestClient, admin: dict[str, str], operator: dict[str, str]
) -> None:
    import_demo(client, admin)
    code = station_code(client, admin)
    good = control((LAT0, LON0), (LAT0 + 0.0003, LON0 + 0.0002))
    assert put(client, operator, code, png(), good).status_code == 403
    missing = put(client, admin, "NO-SUCH-STATION", png(), good)
    assert missing.status_code == 404
    assert missing.json()["error"]["code"] == "not_found"
    cases = {
        "not an image": (b"not an image", good),
        "one point": (png(), control((LAT0, LON0))),
        "bad json": (png(), "[{"),
        "same point twice": (png(), control((LAT0, LON0), (LAT0, LON0))),
        "outside": (png(50, 50), good),
        "bad lat": (
            png(),
            json.dumps([{"lat": 95, "lon": 1, "x": 1, "y": 1}, {"lat": 1, "lon": 1, "x": 2, "y": 2}]),
        ),
    }
    for what, (image, pts) in cases.items():
        r = put(client, admin, code, image, pts)
        assert r.status_code == 422, (what, r.text)
        assert r.json()["error"]["code"] == "invalid", what
    r = client.put(f"{API}/stations/{code}/layout", json={"x": 1}, headers=admin)
    assert r.status_code == 415
    assert client.get(f"{API}/stations/{code}/layout/image", headers=admin).status_code == 404


def test_dashboard_is_served_outside_the_api(client: TestClient) -> None:
    index = client.get("/")
    assert index.status_code == 200
    assert index.headers["content-type"].startswith("text/html")
    assert '<main id="main"' in index.text
    assert index.headers["cache-control"] == "no-cache"
    js = client.get("/static/app.js")
    assert js.status_code == 200
    assert "javascript" in js.headers["content-type"]
    assert js.headers["cache-control"] == "no-cache"
    assert client.get("/static/app.js", headers={"If-None-Match": js.headers["etag"]}).status_code == 304
    for lang in ("zh", "en"):
        assert client.get(f"/static/i18n/{lang}.json").json()["app.title"]
    assert client.get("/static/i18n/nothing.zh.json").json() == {}  # optional page dictionary
    missing = client.get("/static/nothing.js")
    assert missing.status_code == 404
    assert missing.json()["error"]["code"] == "not_found"
    paths = client.app.openapi()["paths"]  # type: ignore[attr-defined]
    assert all(p.startswith("/api/v1/") for p in paths), sorted(paths)
    # the API keeps its JSON errors
    assert client.get("/api/v1/nothing").json()["error"]["code"] == "not_found"
