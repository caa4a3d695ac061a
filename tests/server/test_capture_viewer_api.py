"""The capture viewer's endpoints (#7): recompute through the matrix, file parameters, visible photo.

Run on SQLite and PostgreSQL (``settings`` fixture).  Temperatures are compared with the
library called directly on the same file: the server must not have its own formula.
"""

from __future__ import annotations

import numpy as np
import pytest
from fastapi.testclient import TestClient

from irpatrol.formats import open_thermal
from irpatrol.thermal.radiometry import KELVIN_OFFSET
from tests.server.conftest import E40, FUSES, drain, upload


def _capture(client: TestClient, headers: dict[str, str], path: object = FUSES) -> int:
    r = upload(client, headers, path)  # type: ignore[arg-type]
    assert r.status_code == 201, r.text  # type: ignore[attr-defined]
    return int(r.json()["id"])  # type: ignore[attr-defined]


def _matrix(client: TestClient, headers: dict[str, str], cid: int, **params: object) -> bytes:
    r = client.get(f"/api/v1/captures/{cid}/matrix", params=params, headers=headers)
    assert r.status_code == 200, r.text
    return r.content


def _celsius(body: bytes, shape: tuple[int, int]) -> np.ndarray:
    return np.frombuffer(body, dtype="<f4").reshape(shape)


def test_emissivity_recompute_matches_the_library(
    client: TestClient, operator: dict[str, str], viewer: dict[str, str]
) -> None:
    cid = _capture(client, operator)
    with open_thermal(FUSES) as tf:
        frame = tf.first_frame()
        own = frame.thermogram().celsius
        lib = frame.thermogram(emissivity=0.5).celsius
    first = _celsius(_matrix(client, viewer, cid), own.shape)
    y, x = np.unravel_index(int(np.nanargmax(first)), first.shape)
    recomputed = _celsius(_matrix(client, viewer, cid, emissivity=0.5), own.shape)
    # a hot pixel reads hotter at lower emissivity (less of its radiance is its own), by the library's amount
    assert recomputed[y, x] > first[y, x] + 10.0
    assert recomputed[y, x] == lib[y, x]
    np.testing.assert_array_equal(recomputed, lib)


def test_every_parameter_goes_to_the_library(client: TestClient, operator: dict[str, str]) -> None:
    cid = _capture(client, operator)
    got = _celsius(
        _matrix(client, operator, cid, distance_m=30, reflected_c=-10, atmospheric_c=35, humidity=0.9),
        (480, 640),
    )
    with open_thermal(FUSES) as tf:
        lib = tf.first_frame().thermogram(
            distance_m=30.0,
            reflected_temp_k=-10.0 + KELVIN_OFFSET,
            atmospheric_temp_k=35.0 + KELVIN_OFFSET,
            relative_humidity=0.9,
        )
    np.testing.assert_array_equal(got, np.where(lib.valid, lib.celsius, np.nan))


def test_the_files_own_parameters_give_the_same_bytes(client: TestClient, operator: dict[str, str]) -> None:
    cid = _capture(client, operator, E40)  # E40: float32 values such as 20.99 °C and 0.49
    r = client.get(f"/api/v1/captures/{cid}/radiometry", headers=operator)
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["adjustable"] is True
    params = body["parameters"]
    assert params == {
        "emissivity": 0.95,
        "distance_m": 2.0,
        "reflected_c": 20.99,
        "atmospheric_c": 13.99,
        "humidity": 0.49,
    }
    assert _matrix(client, operator, cid, **params) == _matrix(client, operator, cid)
    assert _matrix(client, operator, cid, emissivity=0.9) != _matrix(client, operator, cid)


@pytest.mark.parametrize(
    "query",
    [
        {"emissivity": "0"},
        {"emissivity": "1.5"},
        {"emissivity": "nan"},
        {"emissivity": "hot"},
        {"distance_m": "-1"},
        {"distance_m": "1e9"},
        {"reflected_c": "inf"},
        {"atmospheric_c": "-300"},
        {"humidity": "50"},
    ],
)
def test_bad_parameters_are_422_json(
    client: TestClient, operator: dict[str, str], query: dict[str, str]
) -> None:
    cid = _capture(client, operator)
    r = client.get(f"/api/v1/captures/{cid}/matrix", params=query, headers=operator)
    assert r.status_code == 422
    err = r.json()["error"]
    assert err["code"] == "invalid"
    assert next(iter(query)) in err["message"]


def test_viewer_endpoints_of_a_missing_capture_are_404(client: TestClient, viewer: dict[str, str]) -> None:
    for tail in ("radiometry", "visible", "matrix?emissivity=0.5"):
        r = client.get(f"/api/v1/captures/999999/{tail}", headers=viewer)
        assert r.status_code == 404
        assert r.json()["error"]["code"] == "not_found"


def test_visible_photo(client: TestClient, operator: dict[str, str], rt: object) -> None:
    fuses = _capture(client, operator)
    e40 = _capture(client, operator, E40)
    drain(rt)  # type: ignore[arg-type]
    with open_thermal(FUSES) as tf:
        photo = tf.first_frame().visible_image()
    assert photo
    r = client.get(f"/api/v1/captures/{fuses}/visible", headers=operator)
    assert r.status_code == 200
    assert r.headers["content-type"] == "image/jpeg"
    assert r.content == bytes(photo)
    assert client.get(f"/api/v1/captures/{fuses}/radiometry", headers=operator).json()["has_visible"] is True

    r = client.get(f"/api/v1/captures/{e40}/visible", headers=operator)  # this E40 file has none
    assert r.status_code == 404
    assert r.json()["error"]["code"] == "not_found"
    assert client.get(f"/api/v1/captures/{e40}/radiometry", headers=operator).json()["has_visible"] is False


def test_viewer_endpoints_need_a_login(client: TestClient, operator: dict[str, str]) -> None:
    cid = _capture(client, operator)
    for tail in ("radiometry", "visible", "matrix?emissivity=0.5"):
        r = client.get(f"/api/v1/captures/{cid}/{tail}")
        assert r.status_code == 401
        assert "error" in r.json()


def test_the_dashboards_palettes_are_the_librarys() -> None:
    """static/palettes.json is generated from irpatrol.thermal.palettes; regenerate it when they differ."""
    import json
    import runpy

    from irpatrol.thermal.palettes import INVALID_RGB, PALETTES
    from tests.conftest import REPO

    committed = REPO / "src/irpatrol/server/web/static/palettes.json"
    doc = json.loads(committed.read_text(encoding="utf-8"))
    assert doc["invalid_rgb"] == INVALID_RGB.tolist()
    assert set(doc["palettes"]) == set(PALETTES)
    for name, table in PALETTES.items():
        assert doc["palettes"][name] == table.reshape(-1).tolist(), f"{name}: run scripts/export_palettes.py"
    script = runpy.run_path(str(REPO / "scripts/export_palettes.py"))
    assert committed.read_text(encoding="utf-8") == script["render"]()


@pytest.mark.samples
def test_dji_parameters_and_ranges_are_djis(
    client: TestClient, operator: dict[str, str], tmp_path_factory: pytest.TempPathFactory
) -> None:
    """A DJI H20T (dirp): parameters from its APP4 block, DJI's ranges, recompute through the back-end."""
    from irpatrol.formats.dji_backends import use_tsdk_library
    from tests.conftest import sample_path
    from tests.formats.test_dji_backend import build_stub_tsdk

    path = sample_path("dji_h20t_rooftop.jpg")
    use_tsdk_library(str(build_stub_tsdk(tmp_path_factory.mktemp("tsdk"))))
    try:
        cid = _capture(client, operator, path)
        body = client.get(f"/api/v1/captures/{cid}/radiometry", headers=operator).json()
        assert body["adjustable"] is True
        assert body["parameters"] == {
            "emissivity": 1.0,
            "distance_m": 5.0,
            "reflected_c": 23.0,
            "atmospheric_c": None,  # dirp does not take it
            "humidity": 0.7,
        }
        assert body["ranges"] == {
            "emissivity": [0.1, 1.0],
            "distance_m": [1.0, 25.0],
            "reflected_c": [-40.0, 500.0],
            "humidity": [0.2, 1.0],
        }
        assert body["has_visible"] is False
        r = client.get(f"/api/v1/captures/{cid}/matrix", params={"distance_m": 100}, headers=operator)
        assert r.status_code == 422  # inside the API's range, outside DJI's for this camera
        assert "25" in r.json()["error"]["message"]
        got = _matrix(client, operator, cid, emissivity=0.5)
        with open_thermal(path) as tf:
            lib = tf.first_frame().thermogram(emissivity=0.5)
        expected = np.where(lib.valid, lib.celsius, np.nan)
        np.testing.assert_array_equal(_celsius(got, expected.shape), expected)
    finally:
        use_tsdk_library(None)


def test_every_viewer_label_is_in_both_dictionaries() -> None:
    """Each ``t("capture.…")`` key of the viewer's scripts has a Chinese and an English text."""
    import json
    import re

    from irpatrol.thermal.palettes import PALETTES
    from tests.conftest import REPO

    static = REPO / "src/irpatrol/server/web/static"
    code = "\n".join(
        p.read_text(encoding="utf-8") for p in [static / "pages/capture.js", *static.glob("viewer/*.js")]
    )
    keys = set(re.findall(r'\bt\(\s*"(capture\.[a-z0-9_.]+)"', code))
    templated = {  # keys built as t(`capture.x_${…}`)
        "col": ["name", "where", "max", "min", "mean", "max_at"],
        "kind": ["spot", "box", "line"],
        "layer": ["hotspots", "regions", "reference", "measurements"],
        "palette": list(PALETTES),
        "param": ["emissivity", "distance_m", "reflected_c", "atmospheric_c", "humidity"],
        "status": ["pending", "analyzed", "failed"],
        "tool": ["read", "spot", "box", "line"],
        "flag": ["below_measurable_size", "low_emissivity_material"],  # findingMarks(f, t, "capture")
    }
    for prefix, names in templated.items():
        keys |= {f"capture.{prefix}_{n}" for n in names}
    keys |= {f"capture.tool_{n}_help" for n in templated["tool"]}
    keys.add("capture.tentative")
    assert len(keys) > 80
    for lang in ("zh", "en"):
        texts = json.loads((static / f"i18n/capture.{lang}.json").read_text(encoding="utf-8"))
        assert not keys - set(texts), f"missing in capture.{lang}.json"
        assert all(isinstance(v, str) and v for v in texts.values())


def test_the_defects_page_labels_tentative_and_flags_in_both_languages() -> None:
    """``findingMarks(f, t, "defects")`` (ui.js) reads these keys from the shell dictionaries."""
    import json

    from tests.conftest import REPO

    static = REPO / "src/irpatrol/server/web/static"
    assert 'findingMarks(f, t, "defects")' in (static / "pages/defects.js").read_text(encoding="utf-8")
    assert 'findingMarks(f, t, "capture")' in (static / "pages/capture.js").read_text(encoding="utf-8")
    expected = {
        "zh": {"tentative": "暂定", "flag_below_measurable_size": "低于可测尺寸",
               "flag_low_emissivity_material": "低发射率材料"},
        "en": {"tentative": "tentative", "flag_below_measurable_size": "below measurable size",
               "flag_low_emissivity_material": "low-emissivity material"},
    }  # fmt: skip
    for lang, labels in expected.items():
        shell = json.loads((static / f"i18n/{lang}.json").read_text(encoding="utf-8"))
        page = json.loads((static / f"i18n/capture.{lang}.json").read_text(encoding="utf-8"))
        for key, text in labels.items():
            assert shell[f"defects.{key}"] == text
            assert page[f"capture.{key}"] == text
