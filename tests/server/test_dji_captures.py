"""DJI R-JPEGs through the server: accepted, analysed by the worker, findings stored.

The conversion goes through DJI's Thermal SDK interface (ctypes) against the stand-in
``libdirp`` the DJI back-end tests compile (its temperatures are synthetic: a ramp of
0.01 K a column, one pixel without a temperature); what is tested here is the server's
path, which is the same for every back-end.  Without a back-end a DJI upload is stored and
the worker fails it with the one line that says how to enable DJI support.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from irpatrol.formats.dji_backends import use_tsdk_library
from irpatrol.server.runtime import Runtime
from tests.conftest import sample_path
from tests.formats.test_dji_backend import build_stub_tsdk
from tests.server.conftest import drain, upload

pytestmark = pytest.mark.samples


@pytest.fixture(scope="module")
def stub_library(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_stub_tsdk(tmp_path_factory.mktemp("tsdk"))


@pytest.fixture
def tsdk(stub_library: Path) -> Iterator[Path]:
    use_tsdk_library(str(stub_library))
    yield stub_library
    use_tsdk_library(None)


def test_dji_upload_is_analysed_with_a_backend(
    client: TestClient, rt: Runtime, operator: dict[str, str], tsdk: Path
) -> None:
    path = sample_path("dji_h20t_rooftop.jpg")
    r = upload(client, operator, path, key="dji-1")
    assert r.status_code == 201, r.text  # type: ignore[attr-defined]
    cid = r.json()["id"]  # type: ignore[attr-defined]
    assert drain(rt) >= 1
    cap = client.get(f"/api/v1/captures/{cid}", headers=operator).json()
    assert cap["status"] == "analyzed", cap
    assert cap["max_c"] == pytest.approx(10.0 + 639 / 100, abs=0.01)  # the stand-in's ramp
    assert cap["min_c"] == pytest.approx(10.0, abs=0.01)  # its pixel without temperature is left out


def test_dji_upload_without_a_backend_is_kept_and_failed_with_the_reason(
    client: TestClient, rt: Runtime, operator: dict[str, str]
) -> None:
    """The file is a valid DJI R-JPEG (its headers read natively), so it is stored; the worker
    cannot convert it and fails it for good with the line that says how to enable DJI."""
    use_tsdk_library(None)
    try:
        import dji_thermal_cli  # noqa: F401
    except ImportError:
        pass
    else:
        pytest.skip("dji-thermal-cli is installed here: DJI files convert without the SDK")
    r = upload(client, operator, sample_path("dji_h20t_rooftop.jpg"), key="dji-2")
    assert r.status_code == 201, r.text  # type: ignore[attr-defined]
    drain(rt)
    cap = client.get(f"/api/v1/captures/{r.json()['id']}", headers=operator).json()  # type: ignore[attr-defined]
    assert cap["status"] == "failed", cap
    assert "DJI" in (cap.get("error") or ""), cap
