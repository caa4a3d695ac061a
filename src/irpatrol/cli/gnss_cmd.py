"""``irpatrol gnss FILE``: what an NMEA 0183 log holds (talkers, fix qualities, first/last fix, σ, skips).

A thin shell over :func:`irpatrol.geo.summary.summarize_log`; ``--json`` prints
:meth:`~irpatrol.geo.summary.LogSummary.to_dict` (fields documented there and in
``docs/gnss.md``).  A file that cannot be read or holds no valid sentence is one
line on stderr and exit status 3.
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import click

from irpatrol.cli.app import handle_errors
from irpatrol.cli.options import json_option
from irpatrol.geo.summary import summarize_log


def _hemi(value: float, pos: str, neg: str) -> str:
    return f"{abs(value):.7f}° {pos if value >= 0 else neg}"


def _fix_line(fix: dict[str, Any] | None) -> str:
    if fix is None:
        return "-"
    parts = [
        fix["time"] or "(no date)",
        _hemi(fix["lat"], "N", "S"),
        _hemi(fix["lon"], "E", "W"),
    ]
    if fix["alt_m"] is not None:
        parts.append(f"{fix['alt_m']:.1f} m")
    parts.append(fix["quality"])
    if fix["sigma_m"] is not None:
        parts.append(f"σ {fix['sigma_m']:.2f} m")
    if fix["heading_deg"] is not None:
        parts.append(f"heading {fix['heading_deg']:.1f}°")
    return "  ".join(parts)


def format_summary(doc: dict[str, Any]) -> str:
    """The human-readable summary of a :meth:`LogSummary.to_dict` document."""
    skipped = ", ".join(f"{k} {n}" for k, n in doc["skipped"].items() if n)
    gga = ", ".join(f"{q}: {n}" for q, n in doc["gga_quality_counts"].items()) or "none"
    qualities = ", ".join(f"{q} {n}" for q, n in doc["quality_counts"].items()) or "-"
    talkers = ", ".join(doc["talkers"]) or "-"
    if doc["other_talkers"]:
        talkers += f"  (non-standard: {', '.join(doc['other_talkers'])})"
    span = f" over {doc['span_s']:.1f} s" if doc["span_s"] is not None else ""
    lines = [
        doc["source"],
        f"  sentences  {doc['messages']} valid, {doc['skipped_total']} skipped"
        + (f" ({skipped})" if skipped else ""),
        f"  talkers    {talkers}",
        f"  GGA        quality {gga}",
        f"  epochs     {doc['epochs']} ({doc['epochs_with_fix']} with a fix){span}: {qualities}",
        f"  first fix  {_fix_line(doc['first_fix'])}",
        f"  last fix   {_fix_line(doc['last_fix'])}",
    ]
    if doc["sigma_m"] is not None:
        lines.append(
            f"  σ (GST)    median {doc['sigma_m']:.3f} m, last {doc['sigma_m_last']:.3f} m "
            f"({doc['gst_epochs']} epochs)"
        )
    if doc["proprietary"]:
        lines.append(f"  proprietary {', '.join(doc['proprietary'])}")
    if doc["undated_epochs"]:
        lines.append(f"  note       {doc['undated_epochs']} epochs have no date (no RMC/ZDA; use --date)")
    return "\n".join(lines)


@click.command("gnss")
@click.argument("file", type=click.Path(path_type=Path))
@click.option(
    "--date",
    "date_",
    type=click.DateTime(formats=["%Y-%m-%d"]),
    default=None,
    help="UTC date of the log for epochs before any RMC/ZDA (YYYY-MM-DD).",
)
@json_option
@handle_errors
def gnss(file: Path, date_: dt.datetime | None, as_json: bool) -> None:
    """Summarise an NMEA 0183 log: talkers, GGA fix qualities, first and last fix, σ from GST, skips."""
    summary = summarize_log(file, date=date_.date() if date_ is not None else None)
    doc = summary.to_dict()
    if as_json:
        click.echo(json.dumps(doc, ensure_ascii=False, indent=2))
    else:
        click.echo(format_summary(doc))


def register(group: click.Group) -> None:
    """Add ``gnss`` to the command group."""
    group.add_command(gnss)


__all__ = ["format_summary", "gnss", "register"]
