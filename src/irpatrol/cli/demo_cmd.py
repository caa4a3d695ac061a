"""``irpatrol demo``: the end-to-end job on the bundled demo images, nothing to configure.

Reads every demo image, converts it to °C, writes the temperature array and a
palette rendering, and prints a per-image temperature summary.
"""

from __future__ import annotations

import sys
from importlib import resources
from pathlib import Path

import click

from irpatrol.cli.app import ExitStatus, cli, handle_errors
from irpatrol.cli.read_cmds import _print_summary, summarize
from irpatrol.config import load_settings
from irpatrol.errors import FileAccessError, IrpatrolError
from irpatrol.formats import open_thermal
from irpatrol.formats.writers import write_temperature_file
from irpatrol.report.thermal_image import render_png
from irpatrol.thermal.palettes import auto_range


def demo_files() -> list[Path]:
    """The bundled demo images (in the installed package)."""
    root = Path(str(resources.files("irpatrol") / "demo"))
    return sorted(p for p in root.iterdir() if p.suffix.lower() in {".jpg", ".seq"})


@cli.command()
@click.option("-o", "--output", type=click.Path(file_okay=False), help="Output folder (default: settings).")
@handle_errors
def demo(output: str | None) -> None:
    """Run the main job on the bundled demo images: read, convert, render, summarise."""
    settings = load_settings()
    out = Path(output) if output else settings.output_dir
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise FileAccessError(out, f"cannot create output folder ({exc.strerror or exc})") from exc
    failures = 0
    click.echo(f"irpatrol demo: {len(demo_files())} bundled images -> {out}/")
    for path in demo_files():
        try:
            with open_thermal(path) as tf:
                frame = tf.first_frame()
                t = frame.thermogram()
                cam = frame.info.camera
                lo, hi = auto_range(t.celsius, t.valid)
                write_temperature_file(out / f"{path.stem}.npy", t.celsius)
                (out / f"{path.stem}.png").write_bytes(
                    render_png(t.celsius, palette=settings.palette, vmin=lo, vmax=hi, valid=t.valid)
                )
        except IrpatrolError as exc:
            failures += 1
            click.echo(f"irpatrol: error: {exc}", err=True)
            continue
        click.echo(f"[{tf.format_name}, {cam.make} {cam.model}, {frame.info.width}x{frame.info.height}]")
        _print_summary({"file": path.name, **summarize(t)})
    sys.exit(int(ExitStatus.PARTIAL if failures else ExitStatus.SUCCESS))
