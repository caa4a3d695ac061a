"""``irpatrol report``: one-click inspection reports as PDF, DOCX or HTML, in Chinese or English.

From a folder of images (``--files DIR``, optional ``--points``), or from the server's
database (``--patrol ID``, ``--defect ID``, ``--station CODE [--since] [--until]``; the
same ``IRPATROL_DATA_DIR``/``IRPATROL_DATABASE_URL`` as ``irpatrol serve``).  Thin: parse,
call :mod:`irpatrol.report` or :mod:`irpatrol.server.report_data`, write the file.  Files
that could not be read are listed in the report and on stderr, and the exit status is 4.
"""

from __future__ import annotations

import sys
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

import click

from irpatrol.cli.app import ExitStatus, handle_errors
from irpatrol.cli.options import rules_option, setting_or, workers_option
from irpatrol.errors import FileAccessError, ParameterError

if TYPE_CHECKING:
    from irpatrol.report.model import Report
    from irpatrol.report.templates import TemplateSet


def _write(path: Path, data: bytes) -> None:
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
    except OSError as exc:
        raise FileAccessError(path, f"cannot be written ({exc.strerror or exc})") from exc


@click.command("report")
@click.option(
    "--files",
    "folder",
    type=click.Path(exists=True, file_okay=False, path_type=Path),
    help="A folder of thermal images: every file in it (not sub-folders) is inspected.",
)
@click.option(
    "--points", type=click.Path(exists=True, dir_okay=False), help="Inspection points file (--files)."
)
@click.option("--patrol", "execution_id", type=click.IntRange(1), help="A patrol execution id (server data).")
@click.option("--defect", "finding_id", type=click.IntRange(1), help="A finding (defect) id (server data).")
@click.option("--station", help="A station code (server data); with --since/--until.")
@click.option("--since", type=click.DateTime(), help="With --station: captures taken at or after (UTC).")
@click.option("--until", type=click.DateTime(), help="With --station: captures taken before (UTC).")
@click.option(
    "-o",
    "--output",
    required=True,
    type=click.Path(dir_okay=False, path_type=Path),
    help="The report file; .pdf, .docx or .html chooses the format.",
)
@click.option("--lang", type=click.Choice(["zh", "en"]), default="zh", show_default=True)
@click.option(
    "--templates",
    type=click.Path(exists=True, file_okay=False, path_type=Path),
    help="Folder of custom templates over the built-in ones (default IRPATROL_REPORT_TEMPLATES).",
)
@rules_option
@click.option("--ambient", type=float, help="Ambient temperature, °C (--files: for every image).")
@click.option("--humidity", type=float, help="Relative humidity, % (--files).")
@click.option("--wind", type=float, help="Wind speed, m/s (--files).")
@click.option("--load-ratio", type=float, help="Present / rated load (--files).")
@click.option("--station-name", help="Station printed in the header (--files).")
@click.option(
    "--bay", "bays", multiple=True, help="A bay printed in the header (--files; repeat for several)."
)
@click.option("--executor", help="Who inspected: a person or a robot id (--files).")
@click.option("--robot", is_flag=True, help="The images were taken by a robot (--files; default a person).")
@click.option("--weather", help="Weather printed in the header (--files).")
@workers_option
@handle_errors
def report_cmd(
    folder: Path | None,
    points: str | None,
    execution_id: int | None,
    finding_id: int | None,
    station: str | None,
    since: datetime | None,
    until: datetime | None,
    output: Path,
    lang: str,
    templates: Path | None,
    rules: str | None,
    ambient: float | None,
    humidity: float | None,
    wind: float | None,
    load_ratio: float | None,
    station_name: str | None,
    bays: tuple[str, ...],
    executor: str | None,
    robot: bool,
    weather: str | None,
    workers: int,
) -> None:
    """Make a report: 红外热像检测报告 (folder, patrol, station) or 红外热像检测异常报告 (defect).

    \b
    irpatrol report --files DIR [--points FILE] -o report.pdf --lang zh
    irpatrol report --patrol 12 -o patrol12.docx
    irpatrol report --defect 345 -o defect345.pdf --lang en
    irpatrol report --station S-DEMO --since 2026-06-01 --until 2026-07-01 -o june.html
    """
    from irpatrol.report.render import format_from_suffix, render_report
    from irpatrol.report.templates import TemplateSet

    fmt = format_from_suffix(output)
    sources = [folder is not None, execution_id is not None, finding_id is not None, station is not None]
    if sum(sources) != 1:
        raise ParameterError("source", None, "exactly one of --files, --patrol, --defect or --station")
    if (since or until) and station is None:
        raise ParameterError("since/until", since or until, "used with --station only")
    palette: str = setting_or(None, "palette")
    ts = TemplateSet(templates if templates is not None else setting_or(None, "report_templates"))
    if folder is not None:
        report = _folder_report(
            folder, points, ts, lang, rules, ambient, humidity, wind, load_ratio,
            station_name, bays, executor, robot, weather, palette, workers,
        )  # fmt: skip
    else:
        from irpatrol.cli.server_cmds import _runtime
        from irpatrol.server.report_data import ReportRequest, build_report
        from irpatrol.server.trend import trend_params

        request = ReportRequest(
            execution_id=execution_id, finding_id=finding_id, station=station, since=since, until=until
        )
        rt = _runtime(migrate=False)
        try:
            with rt.read_sessions() as s:
                report = build_report(
                    s,
                    rt.blobs,
                    request,
                    lang=lang,
                    templates=ts,
                    palette=palette,
                    trend_params=trend_params(rt.settings),
                    rules=rt.settings.rules,
                )
        finally:
            rt.close()
    _write(output, render_report(report, fmt, templates=ts))
    n_def = len(report.defects())
    click.echo(
        f"{output}: {len(report.captures)} capture(s), {n_def} defect(s), "
        f"{len(report.missed)} missed point(s), {len(report.unreadable)} unreadable file(s)"
    )
    for u in report.unreadable:
        click.echo(
            f"  unreadable: {u.reason if u.reason.startswith(u.name) else f'{u.name}: {u.reason}'}", err=True
        )
    if report.unreadable:  # the report is written and lists them; the exit status says so too
        sys.exit(int(ExitStatus.PARTIAL))


def _folder_report(
    folder: Path,
    points: str | None,
    ts: TemplateSet,
    lang: str,
    rules: str | None,
    ambient: float | None,
    humidity: float | None,
    wind: float | None,
    load_ratio: float | None,
    station_name: str | None,
    bays: tuple[str, ...],
    executor: str | None,
    robot: bool,
    weather: str | None,
    palette: str,
    workers: int,
) -> Report:
    from irpatrol.cli.analyze_cmd import _load_points
    from irpatrol.cli.batch import default_workers
    from irpatrol.diagnosis.rulepack import load_rule_pack
    from irpatrol.pipeline import Conditions
    from irpatrol.report.folder import FolderHeader, build_folder_report, image_files

    pf = _load_points(points)
    points_path = Path(points) if points is not None else None
    return build_folder_report(
        folder,
        lang=lang,
        pack=load_rule_pack(setting_or(rules, "rules")),
        points=pf.points if pf is not None else (),
        points_dir=points_path.parent if points_path is not None else None,
        conditions=Conditions(ambient_c=ambient, humidity_pct=humidity, wind_ms=wind, load_ratio=load_ratio),
        header=FolderHeader(
            station=station_name,
            bays=bays,
            executor=executor,
            executor_kind="robot" if robot else "person",
            weather=weather,
        ),
        templates=ts,
        palette=palette,
        files=image_files(folder, skip=[points_path] if points_path is not None else []),
        workers=workers or default_workers(),
    )


def register(group: click.Group) -> None:
    """Add ``report`` to the ``irpatrol`` group."""
    group.add_command(report_cmd)
