"""The one place errors become messages: library errors, bugs, bugs inside a batch, closed pipes."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from irpatrol.cli import ExitStatus, cli, options, read_cmds
from tests.conftest import DEMO


def _explode(*_args: object, **_kwargs: object) -> object:
    raise ZeroDivisionError("simulated bug")


def test_a_bug_is_one_line_and_exit_1(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(read_cmds, "expand_inputs", _explode)
    r = CliRunner().invoke(cli, ["info", str(DEMO / "flir_e40.jpg")])
    assert r.exit_code == ExitStatus.ERROR
    assert r.stderr.strip().splitlines() == [
        "irpatrol: internal error, please report it: ZeroDivisionError: simulated bug "
        "(IRPATROL_DEBUG=1 shows the traceback)"
    ]


def test_debug_setting_shows_the_traceback(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(read_cmds, "expand_inputs", _explode)
    monkeypatch.setenv("IRPATROL_DEBUG", "1")
    r = CliRunner().invoke(cli, ["info", str(DEMO / "flir_e40.jpg")])
    assert isinstance(r.exception, ZeroDivisionError)


def test_a_bug_in_one_file_of_a_batch_is_listed_and_the_batch_goes_on(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    real = options.open_thermal

    def flaky(path: object) -> object:
        if str(path).endswith("flir_ax8.jpg"):
            raise ZeroDivisionError("simulated bug")
        return real(path)  # type: ignore[arg-type]

    monkeypatch.setattr(options, "open_thermal", flaky)
    r = CliRunner().invoke(cli, ["temps", str(DEMO), "-o", str(tmp_path), "--workers", "1"])
    assert r.exit_code == ExitStatus.PARTIAL
    assert "flir_ax8.jpg: internal error, please report it: ZeroDivisionError: simulated bug" in r.stderr
    assert (tmp_path / "flir_t640_fuses.npy").exists()


_FLOOD = """
import click
from irpatrol.cli.app import handle_errors

@click.command()
@handle_errors
def flood() -> None:
    for i in range(200_000):
        click.echo(f"line {i} " + "x" * 60)

flood()
"""


def test_a_closed_stdout_pipe_ends_quietly() -> None:
    """``irpatrol analyze DIR | head``: no 'internal error', no BrokenPipeError at exit."""
    proc = subprocess.Popen([sys.executable, "-c", _FLOOD], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    assert proc.stdout is not None
    assert proc.stderr is not None
    first = proc.stdout.readline()
    proc.stdout.close()  # the reader goes away, as `head -1` does
    err = proc.stderr.read().decode()
    proc.stderr.close()
    assert proc.wait(timeout=60) == ExitStatus.ERROR
    assert first.startswith(b"line 0 ")
    assert err == ""


@pytest.mark.samples
def test_analyze_json_names_the_default_rule_pack(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("IRPATROL_RULES", raising=False)
    r = CliRunner().invoke(cli, ["analyze", str(DEMO / "flir_e40.jpg"), "--json"])
    assert r.exit_code == 0, r.output
    doc = json.loads(r.output)
    assert doc["rule_pack"] == "dlt664-2016"
    assert doc["rule_pack_version"]
