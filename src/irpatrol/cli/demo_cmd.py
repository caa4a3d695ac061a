"""``irpatrol demo``: the end-to-end job on the bundled demo images, nothing to configure.

For every demo image: read it, convert it to °C, write the temperature array and a
palette rendering, find hot spots, compare the configured regions (a bundled
``<image>.points.yaml`` when there is one, otherwise automatic references), grade
them with the default rule pack, and write an annotated PNG and one JSON document.
"""

from __future__ import annotations

import json
import sys
from importlib import resources
from pathlib import Path

import click

from irpatrol.cli.analyze_cmd import print_table, write_annotated
from irpatrol.cli.app import ExitStatus, cli, handle_errors
from irpatrol.cli.read_cmds import print_summary, summarize
from irpatrol.diagnosis.points import PointsFile, parse_points
from irpatrol.diagnosis.rulepack import load_rule_pack
from irpatrol.errors import FileAccessError, IrpatrolError, ParameterError
from irpatrol.formats.writers import write_temperature_file
from irpatrol.report.thermal_image import render_png
from irpatrol.thermal.palettes import auto_range


def demo_dir() -> Path:
    """Folder of the bundled demo images (inside the installed package)."""
    return Path(str(resources.files("irpatrol") / "demo"))


def demo_files() -> list[Path]:
    """The bundled demo images."""
    return sorted(p for p in demo_dir().iterdir() if p.suffix.lower() in {".jpg", ".seq"})


def _points_for(image: Path) -> PointsFile | None:
    path = image.with_name(f"{image.stem}.points.yaml")
    if not path.exists():
        return None
    return parse_points(path.read_text(encoding="utf-8"), path=str(path))


@cli.command()
@click.option("-o", "--output", type=click.Path(file_okay=False), help="Output folder (default: settings).")
@click.option(
    "--system/--no-system",
    default=True,
    help="Then run the whole system on loopback: edge agent → Mosquitto → server → reports "
    "(needs the server and edge extras and Mosquitto).",
)
@click.option(
    "--serve",
    is_flag=True,
    help="After the whole-system half, keep `irpatrol serve` running on its data for the "
    "dashboard (http://127.0.0.1:8000/ when free) until Ctrl-C.",
)
@handle_errors
def demo(output: str | None, system: bool, serve: bool) -> None:
    """Run the main job on the bundled demo images, then the whole system on them.

    First the library on its own: read, convert to °C, render, find and grade defects.  Then,
    with --system (the default), a robot's patrol through the edge agent, a real MQTT broker
    and the intranet server, ending in the patrol report and a dashboard ready to open (its
    random logins in <output>/system/dashboard-login.txt); --serve keeps that dashboard served.
    """
    if serve and not system:
        raise ParameterError(
            "--no-system", "with --serve", "left out: --serve serves the whole-system half's data"
        )
    from irpatrol.config import load_settings  # pydantic-settings: only this command needs it
    from irpatrol.pipeline import ReferenceFolder, inspect_image  # scipy: only when analysing

    settings = load_settings()
    out = Path(output) if output else settings.output_dir
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise FileAccessError(out, f"cannot create output folder ({exc.strerror or exc})") from exc
    pack = load_rule_pack(settings.rules)
    files = demo_files()
    click.echo(f"irpatrol demo: {len(files)} bundled images, rules {pack.name} -> {out}/\n")
    failures = 0
    results = []
    for path in files:
        try:  # one decode per image: the inspection keeps its thermogram for the .npy and PNGs
            points = _points_for(path)
            inspection = inspect_image(
                path,
                points=points.points if points is not None else (),
                pack=pack,
                reference_loader=ReferenceFolder(path.parent),
            )
            t = inspection.thermogram
            lo, hi = auto_range(t.celsius, t.valid)
            write_temperature_file(out / f"{path.stem}.npy", t.celsius)
            (out / f"{path.stem}.png").write_bytes(
                render_png(t.celsius, palette=settings.palette, vmin=lo, vmax=hi, valid=t.valid)
            )
            annotated = out / f"{path.stem}.annotated.png"
            write_annotated(annotated, inspection)
        except (IrpatrolError, OSError) as exc:
            failures += 1
            click.echo(f"irpatrol: error: {exc}", err=True)
            continue
        cam = inspection.camera
        click.echo(
            f"[{inspection.format_name}, {cam.make} {cam.model}, {inspection.width}x{inspection.height}]"
        )
        result = {**inspection.to_dict(), "annotated": str(annotated)}
        print_summary({"file": path.name, **summarize(t)})
        print_table(result)
        click.echo("")
        results.append(result)
    (out / "analysis.json").write_text(
        json.dumps({"rules": pack.name, "images": results}, indent=2, ensure_ascii=False), encoding="utf-8"
    )
    click.echo(f"wrote {out}/: <image>.npy (°C), <image>.png, <image>.annotated.png, analysis.json")
    if system:
        try:
            import irpatrol.edge.uplink  # noqa: F401  (paho-mqtt: the edge extra)
            from irpatrol.cli.demo_system import run_system_demo, serve_dashboard
        except ImportError as exc:
            click.echo(f"(whole-system half skipped: install irpatrol[all] for it; {exc.name} is missing)")
        else:
            click.echo("\nThe whole system: a robot's patrol of these images, edge agent → MQTT → server:")
            summary = run_system_demo(files, out)
            failures += sum(c["status"] != "analyzed" for c in summary["captures"])
            if serve:
                serve_dashboard(summary["data_dir"], summary["login_file"])
    sys.exit(int(ExitStatus.PARTIAL if failures else ExitStatus.SUCCESS))
