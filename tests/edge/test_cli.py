"""``irpatrol edge run`` and ``irpatrol edge status``: clean stop on SIGTERM, one-line errors, counts."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from click.testing import CliRunner

from irpatrol.cli import cli
from tests.edge.conftest import hot_npy

EXE = [sys.executable, "-m", "irpatrol"]


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
def test_run_stops_cleanly_on_a_signal(tmp_path: Path, sig: signal.Signals) -> None:
    cam = tmp_path / "cam"
    cam.mkdir()
    (cam / "a.npy").write_bytes(hot_npy(200.0))
    toml = tmp_path / "edge.toml"
    toml.write_text('watch_dir = "cam"\nsettle_s = 0.1\nwatch_patterns = ["*.npy"]\n', encoding="utf-8")
    proc = subprocess.Popen(
        [*EXE, "edge", "run", "--config", str(toml)], cwd=tmp_path, stderr=subprocess.PIPE, text=True
    )
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:  # until the file present at start is queued
            r = subprocess.run(
                [*EXE, "edge", "status", "--config", str(toml), "--json"],
                capture_output=True,
                text=True,
                timeout=30,
                check=False,
            )
            if r.returncode == 0 and json.loads(r.stdout)["pending"] >= 3:
                break
            time.sleep(0.2)
        proc.send_signal(sig)
        _, err = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 0, err
    assert f"stopped ({sig.name})" in err
    assert "1 alarms" in err
    status = CliRunner().invoke(cli, ["edge", "status", "--outbox", str(tmp_path / "edge-outbox")])
    assert status.exit_code == 0
    assert "3 pending, 0 inflight, 0 acked" in status.output


def test_bad_config_is_one_line_and_exit_5(tmp_path: Path) -> None:
    toml = tmp_path / "edge.toml"
    toml.write_text('robot_id = "a b"\n', encoding="utf-8")
    r = CliRunner().invoke(cli, ["edge", "run", "--config", str(toml)])
    assert r.exit_code == 5
    lines = r.output.strip().splitlines()
    assert len(lines) == 1
    assert lines[0].startswith(f"irpatrol: error: {toml}:1: field `robot_id`")


def test_status_needs_an_outbox(tmp_path: Path) -> None:
    r = CliRunner().invoke(cli, ["edge", "status", "--outbox", str(tmp_path)])
    assert r.exit_code == 3
    assert "no outbox here" in r.output
    r = CliRunner().invoke(cli, ["edge", "status"])
    assert r.exit_code == 2
    assert "--config/--outbox" in r.output
