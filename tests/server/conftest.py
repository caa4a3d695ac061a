"""Server test fixtures: the same tests run on SQLite and on a real PostgreSQL.

``IRPATROL_TEST_DATABASE_URL`` names the PostgreSQL database (``scripts/test.sh``
starts a throwaway server on a loopback port and sets it).  Where it is unset the
PostgreSQL half skips with that reason; in CI (``CI`` set) it fails instead, so a
missing server can never pass silently.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text

from irpatrol.config import Settings, load_settings
from irpatrol.server.app import create_app
from irpatrol.server.runtime import Runtime, open_runtime
from irpatrol.store.accounts import create_token, create_user
from irpatrol.store.db import make_engine, upgrade
from tests.conftest import DEMO

PG_URL = os.environ.get("IRPATROL_TEST_DATABASE_URL")

BACKENDS = ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)]

FUSES = DEMO / "flir_t640_fuses.jpg"
"""A real FLIR T640 R-JPEG (MIT) shipped with the package: fuse bank, phase B hot."""
E40 = DEMO / "flir_e40.jpg"


@pytest.fixture(scope="session")
def pg_url() -> str:
    """The test PostgreSQL URL, migrated once per session."""
    if not PG_URL:
        if os.environ.get("CI"):
            pytest.fail("IRPATROL_TEST_DATABASE_URL is not set in CI: the PostgreSQL half cannot run")
        pytest.skip("IRPATROL_TEST_DATABASE_URL is unset (scripts/test.sh starts a PostgreSQL server)")
    engine = make_engine(PG_URL)
    with engine.begin() as conn:
        conn.execute(text("DROP SCHEMA IF EXISTS public CASCADE"))
        conn.execute(text("CREATE SCHEMA public"))
    upgrade(engine)
    engine.dispose()
    return PG_URL


def _truncate_pg(url: str) -> None:
    engine = make_engine(url)
    with engine.begin() as conn:
        tables = [
            r[0]
            for r in conn.execute(
                text(
                    "SELECT tablename FROM pg_tables "
                    "WHERE schemaname='public' AND tablename <> 'alembic_version'"
                )
            )
        ]
        if tables:
            conn.execute(text(f"TRUNCATE {', '.join(tables)} RESTART IDENTITY CASCADE"))
    engine.dispose()


@pytest.fixture(params=BACKENDS)
def settings(request: pytest.FixtureRequest, tmp_path: Path) -> Settings:
    """Settings with a fresh data folder and an empty database of the parametrised backend."""
    if request.param == "postgresql":
        url = request.getfixturevalue("pg_url")
        _truncate_pg(url)
        return load_settings(data_dir=tmp_path / "data", database_url=url, login_rate=1000)
    return load_settings(data_dir=tmp_path / "data", login_rate=1000)


@pytest.fixture
def rt(settings: Settings) -> Iterator[Runtime]:
    """An open runtime on the test database."""
    runtime = open_runtime(settings)
    yield runtime
    runtime.close()


@pytest.fixture
def client(settings: Settings, rt: Runtime) -> Iterator[TestClient]:
    """A test client of the app (no in-process worker: tests drain the queue with :func:`drain`)."""
    app = create_app(settings, runtime=rt)
    with TestClient(app, raise_server_exceptions=False) as c:
        yield c


def make_token(rt: Runtime, name: str, role: str, scopes: tuple[str, ...] | None = None) -> str:
    """A user with ``role`` (created if new) and a bearer token for it."""
    from sqlalchemy import select

    from irpatrol.store.models import User

    with rt.sessions() as s:
        u = s.scalar(select(User).where(User.name == name)) or create_user(
            s, name, role, "correct horse battery"
        )
        secret, _ = create_token(s, u, scopes=scopes)
        s.commit()
    return secret


def make_point(rt: Runtime, rated_current_a: float | None = None) -> tuple[int, int]:
    """A station S1 with one component and one inspection point P1; ``(point id, station id)``."""
    from irpatrol.store.models import Asset, Point

    with rt.sessions() as s, s.begin():
        station = Asset(kind="station", code="S1", name="110kV 测试站")
        s.add(station)
        s.flush()
        station.station_id = station.id
        comp = Asset(
            kind="component", code="C1", name="刀闸触头", parent_id=station.id, station_id=station.id
        )
        s.add(comp)
        s.flush()
        point = Point(
            code="P1", name="A相触头", component_id=comp.id, station_id=station.id, part="connector",
            rated_current_a=rated_current_a,
        )  # fmt: skip
        s.add(point)
        s.flush()
        return point.id, station.id


def auth(token: str) -> dict[str, str]:
    """The Authorization header for a token."""
    return {"Authorization": f"Bearer {token}"}


@pytest.fixture
def admin(rt: Runtime) -> dict[str, str]:
    return auth(make_token(rt, "admin", "admin"))


@pytest.fixture
def operator(rt: Runtime) -> dict[str, str]:
    return auth(make_token(rt, "operator", "operator"))


@pytest.fixture
def viewer(rt: Runtime) -> dict[str, str]:
    return auth(make_token(rt, "viewer", "viewer"))


def drain(rt: Runtime, limit: int = 200) -> int:
    """Run queued tasks in this thread until the queue is empty (at most ``limit``); return how many ran."""
    huey = rt.queue
    n = 0
    while n < limit:
        task = huey.dequeue()
        if task is None:
            break
        huey.execute(task)
        n += 1
    return n


def upload(
    client: TestClient, headers: dict[str, str], path: Path = FUSES, key: str | None = None, **fields: object
) -> object:
    """POST a file to /api/v1/captures."""
    h = dict(headers)
    if key is not None:
        h["Idempotency-Key"] = key
    with path.open("rb") as fh:
        return client.post(
            "/api/v1/captures",
            files={"file": (path.name, fh, "image/jpeg")},
            data={k: str(v) for k, v in fields.items()},
            headers=h,
        )
