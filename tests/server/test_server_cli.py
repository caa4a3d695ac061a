"""Server CLI commands: db upgrade, user add, token create (token alone on the last line), login."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner
from fastapi.testclient import TestClient

from irpatrol.cli import cli
from irpatrol.config import load_settings
from irpatrol.server.app import create_app
from irpatrol.store.accounts import TOKEN_PREFIX


@pytest.fixture
def env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    data = tmp_path / "data"
    monkeypatch.setenv("IRPATROL_DATA_DIR", str(data))
    monkeypatch.delenv("IRPATROL_DATABASE_URL", raising=False)
    return data


def test_user_token_and_login(env: Path) -> None:
    runner = CliRunner()
    r = runner.invoke(cli, ["db", "upgrade"])
    assert r.exit_code == 0, r.output
    assert (env / "irpatrol.db").is_file()
    r = runner.invoke(
        cli, ["user", "add", "wang", "--role", "operator", "--password-stdin"], input="long enough pw\n"
    )
    assert r.exit_code == 0, r.output
    r = runner.invoke(cli, ["user", "add", "wang", "--role", "viewer"])
    assert r.exit_code == 2
    assert "not taken" in r.output
    r = runner.invoke(
        cli, ["token", "create", "--user", "wang", "--scope", "captures:write", "--name", "robot-7"]
    )
    assert r.exit_code == 0, r.output
    token = r.stdout.strip().splitlines()[-1]
    assert token.startswith(TOKEN_PREFIX)
    assert " " not in token
    r = runner.invoke(cli, ["token", "create", "--user", "wang", "--scope", "admin"])
    assert r.exit_code == 2
    assert "admin" in r.output

    app = create_app(load_settings())
    with TestClient(app) as c:
        me = c.get("/api/v1/me", headers={"Authorization": f"Bearer {token}"}).json()
        assert me == {"user": "wang", "role": "operator", "scopes": ["captures:write"]}
        # the machine token may upload but not read
        assert c.get("/api/v1/captures", headers={"Authorization": f"Bearer {token}"}).status_code == 403
        bad = c.post("/api/v1/auth/login", json={"username": "wang", "password": "wrong password"})
        assert bad.status_code == 401
        assert bad.json()["error"]["code"] == "unauthorized"
        ok = c.post("/api/v1/auth/login", json={"username": "wang", "password": "long enough pw"})
        assert ok.status_code == 200, ok.text
        session = ok.json()["token"]
        assert ok.json()["expires_at"] is not None
        h = {"Authorization": f"Bearer {session}"}
        assert c.get("/api/v1/captures", headers=h).status_code == 200
        assert c.post("/api/v1/auth/logout", headers=h).status_code == 204
        assert c.get("/api/v1/captures", headers=h).status_code == 401


def test_short_password_refused(env: Path) -> None:
    r = CliRunner().invoke(
        cli, ["user", "add", "li", "--role", "viewer", "--password-stdin"], input="short\n"
    )
    assert r.exit_code == 2
    assert "8 characters" in r.output


@pytest.mark.parametrize("processes", [1, 2])
def test_serve_stops_on_sigterm(tmp_path: Path, processes: int) -> None:
    """systemd stops a service with SIGTERM: the server (and its analysis threads) must exit."""
    import os
    import signal
    import socket
    import subprocess
    import sys
    import time

    import httpx

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    env = {**os.environ, "IRPATROL_DATA_DIR": str(tmp_path / "data")}
    env.pop("IRPATROL_DATABASE_URL", None)
    args = [sys.executable, "-m", "irpatrol", "serve", "--port", str(port), "--processes", str(processes)]
    proc = subprocess.Popen(args, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"http://127.0.0.1:{port}/api/v1/health", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                time.sleep(0.2)
        else:
            pytest.fail("the server did not answer within 30 s")
        proc.send_signal(signal.SIGTERM)
        # uvicorn shuts down gracefully, then re-raises the signal it caught (status -15)
        assert proc.wait(timeout=20) in (0, -signal.SIGTERM)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
