"""Edge agent commands: ``irpatrol edge run --config edge.toml`` and ``irpatrol edge status``.

Thin: ``run`` reads the TOML file, installs SIGTERM/SIGINT handlers that ask the agent to
stop after the capture in hand, and calls :func:`irpatrol.edge.runner.run_from_config`;
``status`` reads the outbox's counts without disturbing a running agent.
"""

from __future__ import annotations

import json
import logging
import signal
import threading
from pathlib import Path
from types import FrameType

import click

from irpatrol.cli.app import handle_errors
from irpatrol.errors import ParameterError, SettingsError


@click.group("edge")
def edge_group() -> None:
    """The edge agent on the robot: capture → on-site analysis → durable outbox → uplink."""


def _edge_modules() -> None:
    try:
        import irpatrol.edge.runner  # noqa: F401
    except ImportError as exc:
        raise SettingsError(
            "edge extra",
            f"the edge agent needs its extra packages: pip install 'irpatrol[edge]' ({exc.name})",
        ) from exc


@edge_group.command("run")
@click.option(
    "--config",
    "config_path",
    type=click.Path(dir_okay=False, path_type=Path),
    required=True,
    help="The agent's TOML settings (docs/edge.md; example docs/examples/edge.toml).",
)
@click.option("-v", "--verbose", is_flag=True, help="Log every capture, not only warnings and the summary.")
@handle_errors
def run_cmd(config_path: Path, verbose: bool) -> None:
    """Run the agent until its source ends (a replay) or SIGTERM/SIGINT.

    Every item committed to the outbox survives a crash; a restart resumes where it stopped.
    """
    _edge_modules()
    from irpatrol.edge.config import load_config
    from irpatrol.edge.runner import run_from_config

    cfg = load_config(config_path)
    logging.basicConfig(
        level=logging.DEBUG if verbose else logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    if not verbose:
        logging.getLogger("watchdog").setLevel(logging.WARNING)
    stop = threading.Event()
    received: list[int] = []

    def on_signal(signum: int, frame: FrameType | None) -> None:
        received.append(signum)
        stop.set()
        signal.signal(signum, signal.SIG_DFL)  # a second signal ends the process at once

    old = {s: signal.signal(s, on_signal) for s in (signal.SIGTERM, signal.SIGINT)}
    try:
        report = run_from_config(
            cfg, stop, on_committed=(lambda key: logging.debug("committed %s", key)) if verbose else None
        )
    finally:
        for s, h in old.items():
            signal.signal(s, h)
    st = report.stats
    how = (
        "finished"
        if report.finished
        else f"stopped ({signal.Signals(received[0]).name})"
        if received
        else "stopped"
    )
    click.echo(
        f"edge {cfg.robot_id}: {how}: {st.captures} captures, {st.analysed} analysed, {st.skipped} already "
        f"queued, {st.failed} unreadable, {st.alarms} alarms, {st.unmatched} unmatched",
        err=True,
    )
    if report.execution is not None:
        missed = report.execution["missed"]
        click.echo(
            f"plan {report.execution['plan_id']} execution {report.execution['execution_id']}: "
            f"{len(report.execution['covered'])} points covered, {len(missed)} missed"
            + (f" ({', '.join(missed)})" if missed else ""),
            err=True,
        )


@edge_group.command("status")
@click.option(
    "--config",
    "config_path",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="The agent's TOML settings (its outbox_dir is read).",
)
@click.option(
    "--outbox",
    "outbox_dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="The outbox folder (instead of --config).",
)
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@handle_errors
def status_cmd(config_path: Path | None, outbox_dir: Path | None, as_json: bool) -> None:
    """Outbox items by state (pending, inflight, acked) and bytes on disk; safe while the agent runs."""
    _edge_modules()
    from irpatrol.edge.config import load_config
    from irpatrol.edge.outbox import read_counts

    if (config_path is None) == (outbox_dir is None):
        raise ParameterError("--config/--outbox", None, "one of the two options")
    folder = outbox_dir if outbox_dir is not None else Path(load_config(config_path).outbox_dir)  # type: ignore[arg-type]
    counts = read_counts(folder)
    if as_json:
        click.echo(json.dumps({"outbox": str(folder), **counts}))
        return
    click.echo(
        f"{folder}: {counts['pending']} pending, {counts['inflight']} inflight, {counts['acked']} acked, "
        f"{counts['bytes'] / 1024 / 1024:.1f} MiB"
    )


def register(group: click.Group) -> None:
    """Add ``edge`` to the ``irpatrol`` group."""
    group.add_command(edge_group)
