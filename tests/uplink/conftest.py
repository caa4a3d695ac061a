"""Fixtures for the uplink and ingest tests: a real Mosquitto, a real server database, an inspection.

Where Mosquitto is not installed these tests skip with the reason; in CI (``CI`` set) they
fail instead, so a missing broker can never pass silently (as the server tests do for
PostgreSQL).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from irpatrol.config import load_settings
from irpatrol.server.runtime import Runtime, open_runtime
from tests.conftest import DEMO
from tests.uplink.mosquitto import MOSQUITTO, Broker

FUSES = DEMO / "flir_t640_fuses.jpg"
"""A real FLIR T640 R-JPEG (MIT) shipped with the package: fuse bank, phase B hot."""


def need_mosquitto() -> None:
    """Skip (fail in CI) when the Mosquitto binary is absent."""
    if MOSQUITTO.exists():
        return
    msg = f"{MOSQUITTO} is not installed (apt-get install mosquitto; scripts/test.sh does)"
    if os.environ.get("CI"):
        pytest.fail(f"{msg}: the uplink tests cannot run in CI")
    pytest.skip(msg)


@pytest.fixture
def broker(tmp_path: Path) -> Iterator[Broker]:
    """A running Mosquitto on a free loopback port, persistence in the test's folder; killed after."""
    need_mosquitto()
    b = Broker(tmp_path / "broker")
    b.start()
    yield b
    b.kill()


@pytest.fixture
def server_rt(tmp_path: Path) -> Iterator[Runtime]:
    """The server's runtime on a fresh SQLite database and image folder."""
    rt = open_runtime(load_settings(data_dir=tmp_path / "server"))
    yield rt
    rt.close()


@pytest.fixture(scope="session")
def inspection_doc() -> dict[str, Any]:
    """The pipeline's dict of a real image (as the agent sends it: both languages)."""
    from irpatrol.diagnosis.rulepack import load_rule_pack
    from irpatrol.pipeline import inspect_image

    pack = load_rule_pack("dlt664-2016")
    return inspect_image(FUSES.read_bytes(), name=FUSES.name, pack=pack).to_dict(lang=None)
