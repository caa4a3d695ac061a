"""The demo's second half: the same images through a real running server, end to end.

Starts ``irpatrol serve`` as its own process on a free loopback port with a fresh
data folder, creates an operator and a token, imports the demo station's asset
tree, uploads every demo image over HTTP with an idempotency key, waits for the
background analysis, lists the findings through the API and exports them as CSV
with the State Grid field codes, then stops the server.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Sequence
from importlib import resources
from pathlib import Path
from typing import Any

import click

from irpatrol.errors import FileAccessError

STARTUP_TIMEOUT_S = 30.0
ANALYSIS_TIMEOUT_S = 120.0


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _bootstrap(data_dir: Path) -> tuple[str, int | None]:
    """Create the database, an operator with a token, and the demo assets; return (token, point id)."""
    from sqlalchemy import select

    from irpatrol.config import load_settings
    from irpatrol.server.runtime import open_runtime
    from irpatrol.store.accounts import create_token, create_user
    from irpatrol.store.models import Point

    rt = open_runtime(load_settings(data_dir=data_dir, database_url=None))
    try:
        with rt.sessions() as s:
            user = create_user(s, "demo-operator", "operator", None)
            token, _ = create_token(s, user, name="demo")
            s.commit()
        assets = Path(str(resources.files("irpatrol") / "demo" / "station.assets.yaml"))
        point_id = None
        if assets.is_file():
            from irpatrol.store.assets import import_assets

            with rt.sessions() as s:
                import_assets(s, assets.read_bytes(), path=str(assets), default_rules=rt.settings.rules)
                s.commit()
                point = s.scalar(select(Point).where(Point.spec.is_not(None)).order_by(Point.id))
                point_id = point.id if point is not None else None
        return token, point_id
    finally:
        rt.close()


def run_server_demo(files: Sequence[Path], out: Path) -> dict[str, Any]:
    """Run the demo images through a real server; return what it found (also printed)."""
    import httpx

    data_dir = out / "server-data"
    shutil.rmtree(data_dir, ignore_errors=True)
    token, fuse_point = _bootstrap(data_dir)
    port = _free_port()
    env = {
        **os.environ,
        "IRPATROL_DATA_DIR": str(data_dir),
        "IRPATROL_HOST": "127.0.0.1",
        "IRPATROL_PORT": str(port),
        "IRPATROL_WORKERS": "2",
    }
    env.pop("IRPATROL_DATABASE_URL", None)
    log_path = out / "server.log"
    base = f"http://127.0.0.1:{port}/api/v1"
    headers = {"Authorization": f"Bearer {token}"}
    with log_path.open("wb") as log:
        proc = subprocess.Popen(
            [sys.executable, "-m", "irpatrol", "serve"], env=env, stdout=log, stderr=subprocess.STDOUT
        )
        try:
            with httpx.Client(base_url=base, timeout=30.0) as http:
                _wait_healthy(http, proc, log_path)
                click.echo(f"server: irpatrol serve on {base} (data {data_dir})")
                ids = []
                for path in files:
                    fields = {"point_id": str(fuse_point)} if fuse_point and "fuses" in path.name else {}
                    with path.open("rb") as fh:
                        r = http.post(
                            "/captures",
                            files={"file": (path.name, fh, "application/octet-stream")},
                            data={**fields, "ambient_c": "25"},
                            headers={**headers, "Idempotency-Key": f"demo:{path.name}"},
                        )
                    r.raise_for_status()
                    ids.append(r.json()["id"])
                    click.echo(f"  uploaded {path.name}: capture {r.json()['id']} ({r.status_code}, pending)")
                captures = _wait_analysed(http, headers, ids)
                for c in captures:
                    grades = ", ".join(f"{f['subject']} {f['grade']}" for f in c["findings"]) or "no findings"
                    click.echo(f"  capture {c['id']} {c['filename']}: {c['status']}; {grades}")
                defects = http.get("/findings", params={"min_grade": 1}, headers=headers).json()
                click.echo(f"  defects on the server: {defects['total']}")
                export = http.get("/exports/findings.csv", headers=headers)
                if export.status_code == 200:
                    (out / "findings.csv").write_bytes(export.content)
                    click.echo(f"  exported {out / 'findings.csv'} (with State Grid field codes)")
        finally:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
    return {"captures": captures, "defects": defects["total"]}


def _wait_healthy(http: Any, proc: subprocess.Popen[bytes], log_path: Path) -> None:
    import httpx

    deadline = time.monotonic() + STARTUP_TIMEOUT_S
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise FileAccessError(log_path, f"the server exited ({proc.returncode}); see its log")
        try:
            if http.get("/health").status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.2)
    raise FileAccessError(log_path, "the server did not answer within 30 s; see its log")


def _wait_analysed(http: Any, headers: dict[str, str], ids: list[int]) -> list[dict[str, Any]]:
    deadline = time.monotonic() + ANALYSIS_TIMEOUT_S
    while True:
        got = [http.get(f"/captures/{i}", headers=headers).json() for i in ids]
        if all(c["status"] != "pending" for c in got) or time.monotonic() > deadline:
            return got
        time.sleep(0.3)
