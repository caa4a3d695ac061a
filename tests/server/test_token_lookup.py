"""The bearer-token lookup on every call: immediate revocation, and a dropped connection retried once."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text, update

from irpatrol.server.runtime import Runtime
from irpatrol.store.models import ApiToken
from tests.server.conftest import auth, make_token


def test_a_revoked_token_is_refused_on_the_next_call(client: TestClient, rt: Runtime) -> None:
    token = make_token(rt, "robot", "operator")
    assert client.get("/api/v1/me", headers=auth(token)).status_code == 200
    with rt.sessions() as s, s.begin():
        s.execute(update(ApiToken).values(revoked=True))
    r = client.get("/api/v1/me", headers=auth(token))
    assert r.status_code == 401
    assert r.json()["error"]["code"] == "unauthorized"


def test_a_dropped_database_connection_costs_no_failed_call(client: TestClient, rt: Runtime) -> None:
    if rt.engine.dialect.name != "postgresql":
        pytest.skip("SQLite has no connection to drop: the lookup reads the file on the event loop")
    token = make_token(rt, "robot", "operator")
    for _ in range(3):  # the lookup pool now holds open connections
        assert client.get("/api/v1/me", headers=auth(token)).status_code == 200
    with rt.engine.connect() as conn:  # as if the database had restarted under the server
        killed = conn.execute(
            text(
                "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                "WHERE datname = current_database() AND pid <> pg_backend_pid()"
            )
        ).scalar_one()
    assert killed >= 1
    r = client.get("/api/v1/me", headers=auth(token))
    assert r.status_code == 200, r.text
    assert r.json()["user"] == "robot"
