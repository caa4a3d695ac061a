"""``irpatrol analyze``: hot spots, configured regions, comparisons and grades per image."""

from __future__ import annotations

import csv
import io
import json
import tempfile
from collections.abc import Iterable, Iterator
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from irpatrol.cli.app import handle_errors
from irpatrol.cli.batch import frame_bar, report_failures, run_batch
from irpatrol.cli.options import (
    InputOptions,
    expand_inputs,
    input_options,
    json_option,
    rules_option,
    setting_or,
    workers_option,
)
from irpatrol.diagnosis.measurability import MATERIAL_FLAG, SIZE_FLAG
from irpatrol.diagnosis.points import PointsFile, parse_points
from irpatrol.diagnosis.rulepack import RulePack, load_rule_pack
from irpatrol.errors import FileAccessError, ParameterError
from irpatrol.formats.base import read_source
from irpatrol.formats.selection import FrameSelection
from irpatrol.pipeline.texts import note_texts

if TYPE_CHECKING:
    from irpatrol.pipeline import Conditions, Inspection

COMPARISON_COLUMNS = (
    "t1_c",
    "t2_c",
    "t0_c",
    "delta_t_k",
    "rise_k",
    "delta_pct",
    "hot",
    "reference",
    "reference_source",
)
"""Comparison fields copied into each CSV row."""

MEASURABILITY_FLAGS = (SIZE_FLAG, MATERIAL_FLAG)
"""Notes whose sentences the text output prints under their finding."""

CSV_COLUMNS = ("file", "subject", "device", "part", "grade", "rule_id", *COMPARISON_COLUMNS, "flags")


def _load_points(path: str | None) -> PointsFile | None:
    if path is None:
        return None
    text = read_source(path).decode("utf-8", errors="replace")
    return parse_points(text, path=path)


def _annotate_target(annotate: str | None, image: Path, many: bool) -> Path | None:
    if annotate is None:
        return None
    target = Path(annotate)
    if many or target.is_dir() or annotate.endswith(("/", "\\")):
        return target / f"{image.stem}.annotated.png"
    return target


def write_annotated(target: Path, inspection: Inspection) -> None:
    """Write the annotated PNG of an inspection, translating OS errors."""
    # imported here, not at module level: Pillow is not needed by every command
    from irpatrol.report.annotate import annotate_png

    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(annotate_png(inspection.thermogram, inspection.analysis))
    except OSError as exc:
        raise FileAccessError(target, f"cannot be written ({exc.strerror or exc})") from exc


def analyze_file(
    path: Path,
    *,
    points: PointsFile | None,
    points_dir: Path | None,
    pack: RulePack,
    conditions: Conditions | None = None,
    annotate: str | None,
    many: bool,
    inputs: InputOptions = InputOptions(),  # noqa: B008  (frozen, immutable default)
    frames: FrameSelection | None = None,
    progress: bool = False,
    spool_dir: Path | None = None,
) -> dict[str, Any]:
    """One image's JSON for ``analyze``: :func:`~irpatrol.pipeline.inspect_image`, then the PNG.

    A picklable batch job (with :func:`functools.partial`); ``points_dir`` is where a
    point's relative ``reference_image`` is looked up (the points file's folder).  With
    ``frames`` (start, stop, step) a sequence is analysed frame by frame
    (:func:`analyze_frames`), with a bar over the frames when ``progress``, its per-frame
    results spooled to ``spool_dir`` when given.
    """
    if frames is not None:
        return analyze_frames(path, points=points, points_dir=points_dir, pack=pack, conditions=conditions,
                              frames=frames, progress=progress, spool_dir=spool_dir)  # fmt: skip
    # imported here, not at module level: scipy makes `irpatrol --help`/`temps` start slower
    from irpatrol.pipeline import Conditions, ReferenceFolder, inspect_image

    inspection = inspect_image(
        path,
        name=str(path),
        points=points.points if points is not None else (),
        pack=pack,
        conditions=conditions or Conditions(),
        reference_loader=ReferenceFolder(points_dir or Path(), inputs.tiff_scale, inputs.tiff_offset_c),
        tiff_scale=inputs.tiff_scale,
        tiff_offset_c=inputs.tiff_offset_c,
    )
    out = inspection.to_dict()
    target = _annotate_target(annotate, path, many)
    if target is not None:
        write_annotated(target, inspection)
        out["annotated"] = str(target)
    return out


SERIES_FIELDS = ("t1_c", "t2_c", "t0_c", "delta_t_k", "rise_k", "delta_pct")
"""Comparison numbers followed over the frames of a sequence, per configured point."""


def analyze_frames(
    path: Path,
    *,
    points: PointsFile | None,
    points_dir: Path | None,
    pack: RulePack,
    conditions: Conditions | None,
    frames: FrameSelection,
    progress: bool = False,
    spool_dir: Path | None = None,
) -> dict[str, Any]:
    """A sequence analysed frame by frame, one frame in memory at a time.

    Returns ``{"file", "frames": [per-frame results], "series": {point: [...]}, "damaged": [...]}``:
    the series follow each configured point's T1/T2/T0, ΔT, rise and δ (and grade) over
    the frames, the data DL/T 664's real-time analysis (实时分析判断法) watches.  A damaged
    frame ends the sequence; the frames before it are kept and the damage is reported.
    ``progress`` shows a bar over the frames on a terminal.

    With ``spool_dir`` the per-frame results and series entries are not kept: each is
    written as one JSON line to a file there as soon as it is made, and the result names
    the files instead (``"frames_spool"``, ``"series_spool"``, ``"frame_count"``), so a
    recording of any length is analysed in bounded memory (:class:`FrameSpool` reads them).
    """
    from irpatrol.errors import DamagedFrameError
    from irpatrol.pipeline import Conditions, ReferenceFolder, inspect_frames

    spool = FrameSpool.create(spool_dir) if spool_dir is not None else None
    results: list[dict[str, Any]] = []
    series: dict[str, list[dict[str, Any]]] = {}
    damaged: list[dict[str, Any]] = []
    count = 0
    configured = {p.id for p in points.points} if points is not None else set()
    with frame_bar(path, progress) as bar:
        try:
            for inspection in inspect_frames(
                path,
                frames=frames,
                name=str(path),
                points=points.points if points is not None else (),
                pack=pack,
                conditions=conditions or Conditions(),
                reference_loader=ReferenceFolder(points_dir or Path()),
            ):
                doc = inspection.to_dict()
                count += 1
                bar.update()
                for f in doc["findings"]:
                    if f["subject"] not in configured:
                        continue
                    c = f["comparison"] or {}
                    g = f["finding"] or {}
                    entry = {
                        "frame": doc["frame"],
                        "max_c": doc["max_c"],
                        **{k: c.get(k) for k in SERIES_FIELDS},
                        "grade": g.get("grade", "not graded"),
                    }
                    if spool is not None:
                        spool.add_series(f["subject"], entry)
                    else:
                        series.setdefault(f["subject"], []).append(entry)
                if spool is not None:
                    spool.add_frame(doc)
                else:
                    results.append(doc)
        except DamagedFrameError as exc:
            if not count:
                if spool is not None:
                    spool.discard()
                raise
            damaged.append({"file": str(path), "frame": exc.frame_index, "error": str(exc)})
        finally:
            if spool is not None:
                spool.close()
    if spool is not None:
        return {"file": str(path), **spool.names(), "frame_count": count, "damaged": damaged}
    return {"file": str(path), "frames": results, "series": series, "damaged": damaged}


class FrameSpool:
    """Per-frame results of one sequence on disk, one JSON document a line.

    ``<stem>.frames.jsonl`` holds the frames' results in order; ``<stem>.series.jsonl``
    holds ``[point, entry]`` pairs.  Written by a batch job (possibly in another process),
    read back by the command while it prints, so neither side holds the whole sequence.
    """

    def __init__(self, frames_path: Path, series_path: Path) -> None:
        self.frames_path = frames_path
        self.series_path = series_path
        self._frames: io.TextIOWrapper | None = None
        self._series: io.TextIOWrapper | None = None

    @classmethod
    def create(cls, directory: Path) -> FrameSpool:
        """A new spool with unique file names in ``directory``, open for writing."""
        import tempfile

        fd, name = tempfile.mkstemp(suffix=".frames.jsonl", dir=directory)
        stem = name[: -len(".frames.jsonl")]
        spool = cls(Path(name), Path(stem + ".series.jsonl"))
        try:
            spool._frames = open(fd, "w", encoding="utf-8")  # noqa: SIM115  (closed by close())
            spool._series = spool.series_path.open("w", encoding="utf-8")
        except OSError as exc:
            raise FileAccessError(
                directory, f"cannot hold the frames' results ({exc.strerror or exc})"
            ) from exc
        return spool

    @classmethod
    def from_result(cls, data: dict[str, Any]) -> FrameSpool:
        """The spool an :func:`analyze_frames` result names."""
        return cls(Path(data["frames_spool"]), Path(data["series_spool"]))

    def names(self) -> dict[str, str]:
        """The file names, for the job's result."""
        return {"frames_spool": str(self.frames_path), "series_spool": str(self.series_path)}

    def add_frame(self, doc: dict[str, Any]) -> None:
        assert self._frames is not None
        self._frames.write(json.dumps(doc, ensure_ascii=False) + "\n")

    def add_series(self, point: str, entry: dict[str, Any]) -> None:
        assert self._series is not None
        self._series.write(json.dumps([point, entry], ensure_ascii=False) + "\n")

    def close(self) -> None:
        for fh in (self._frames, self._series):
            if fh is not None:
                fh.close()

    def discard(self) -> None:
        """Close and delete the files (the job failed: nothing to report from them)."""
        self.close()
        self.frames_path.unlink(missing_ok=True)
        self.series_path.unlink(missing_ok=True)

    def frame_lines(self) -> Iterator[str]:
        """Each frame's result as its JSON text, in order."""
        with self.frames_path.open(encoding="utf-8") as fh:
            for line in fh:
                yield line.rstrip("\n")

    def frames(self) -> Iterator[dict[str, Any]]:
        """Each frame's result, in order."""
        for line in self.frame_lines():
            yield json.loads(line)

    def points(self) -> list[str]:
        """The configured points with a series, in order of first appearance."""
        seen: dict[str, None] = {}
        with self.series_path.open(encoding="utf-8") as fh:
            for line in fh:
                seen.setdefault(json.loads(line)[0], None)
        return list(seen)

    def series(self, point: str) -> Iterator[dict[str, Any]]:
        """The series entries of ``point``, in frame order."""
        with self.series_path.open(encoding="utf-8") as fh:
            for line in fh:
                name, entry = json.loads(line)
                if name == point:
                    yield entry


def _csv_rows(results: list[dict[str, Any]]) -> list[dict[str, Any]]:
    rows = []
    for r in results:
        for f in r["findings"]:
            c = f["comparison"] or {}
            g = f["finding"] or {}
            rows.append(
                {
                    "file": r["file"],
                    "subject": f["subject"],
                    "device": f["device"],
                    "part": f["part"],
                    "grade": g.get("grade", "not graded"),
                    "rule_id": g.get("rule_id", ""),
                    **{k: c.get(k) for k in COMPARISON_COLUMNS},
                    "flags": ";".join([*f["flags"], *g.get("flags", [])]),
                }
            )
    return rows


def _fmt(x: Any, spec: str = ".1f") -> str:
    return "-" if x is None else format(x, spec)


def _versus(c: dict[str, Any]) -> str:
    """What T1 was compared with, e.g. ``B vs C (phase)``."""
    if c.get("reference") is None:
        return f"{c.get('hot', '-')}: no corresponding point"
    return f"{c.get('hot', '-')} vs {c['reference']} ({c.get('reference_source', '-')})"


def print_table(r: dict[str, Any]) -> None:
    frame = f" frame {r['frame']}" if r.get("frame") else ""
    click.echo(
        f"{r['file']}{frame}  {r['width']}x{r['height']}  background {r['background_c']:.1f} °C"
        + (f"  excluded {r['n_excluded']} px" if r["n_excluded"] else "")
    )
    m = r.get("measurability") or {}
    if m.get("pixel_mm") is not None:
        click.echo(
            f"  IFOV {m['ifov_mrad']:.2f} mrad ({m['fov_source']}), at {m['distance_m']:g} m "
            f"({m['distance_source']}) one pixel covers {m['pixel_mm']:.1f} mm, "
            f"smallest measurable target {m['min_measurable_mm']:.0f} mm"
        )
    for s in r["hotspots"][:5]:
        click.echo(
            f"  hot spot {s['rank']:>2}  ({s['x']:>4}, {s['y']:>4})  {s['peak_c']:6.1f} °C  "
            f"+{s['excess_k']:.1f} K  {s['area_px']} px"
        )
    for f in r["findings"]:
        c = f["comparison"] or {}
        g = f["finding"] or {}
        click.echo(
            f"  {f['subject']:<20} {g.get('grade', 'not graded'):<10} T1 {_fmt(c.get('t1_c'))} "
            f"T2 {_fmt(c.get('t2_c'))} T0 {_fmt(c.get('t0_c'))} °C  ΔT {_fmt(c.get('delta_t_k'))} K  "
            f"δ {_fmt(c.get('delta_pct'), '.0f')} %  [{_versus(c)}]"
            + (
                f"  flags: {', '.join([*f['flags'], *g.get('flags', [])])}"
                if f["flags"] or g.get("flags")
                else ""
            )
        )
        for sentence in note_texts(g, "en", MEASURABILITY_FLAGS):
            click.echo(f"    {sentence}")


def _images(done: list[dict[str, Any]]) -> Iterator[dict[str, Any]]:
    """Every analysed image or frame, in input order (frames read back from their spools)."""
    for data in done:
        if "frames_spool" in data:
            yield from FrameSpool.from_result(data).frames()
        else:
            yield data


def _write_json(pack: RulePack, done: list[dict[str, Any]], results: list[Any], sequences: bool) -> None:
    """The ``--json`` document, written piece by piece: a frame's result is never held twice.

    Images and frames are one compact JSON object a line inside ``"images"``.
    """
    out = partial(click.echo, nl=False)
    out("{\n")
    out(f'  "rule_pack": {json.dumps(pack.name)},\n  "rule_pack_version": {json.dumps(pack.version)},\n')
    out('  "images": [')
    first = True
    for data in done:
        texts = (
            FrameSpool.from_result(data).frame_lines()
            if "frames_spool" in data
            else iter([json.dumps(data, ensure_ascii=False)])
        )
        for text in texts:
            out(("\n    " if first else ",\n    ") + text)
            first = False
    out("\n  ],\n")
    if sequences:
        out('  "series": {')
        for i, data in enumerate(done):
            out(("\n" if i == 0 else ",\n") + f"    {json.dumps(data['file'], ensure_ascii=False)}: {{")
            if "series_spool" in data:
                spool = FrameSpool.from_result(data)
                for j, point in enumerate(spool.points()):
                    out(("\n" if j == 0 else ",\n") + f"      {json.dumps(point, ensure_ascii=False)}: [")
                    for k, entry in enumerate(spool.series(point)):
                        out(("\n" if k == 0 else ",\n") + "        " + json.dumps(entry, ensure_ascii=False))
                    out("\n      ]")
            out("}")
        out("\n  },\n")
        damaged = [d for data in done for d in data.get("damaged", [])]
        out(f'  "damaged": {json.dumps(damaged, ensure_ascii=False)},\n')
    failed = [{"file": r.path, "error": r.error} for r in results if not r.ok]
    out(f'  "failed": {json.dumps(failed, ensure_ascii=False)}\n}}\n')


def _write_csv(path: Path, images: Iterable[dict[str, Any]]) -> None:
    """One row per finding, written as the images are read."""
    try:
        with path.open("w", encoding="utf-8", newline="") as fh:
            writer = csv.DictWriter(fh, fieldnames=CSV_COLUMNS)
            writer.writeheader()
            for image in images:
                writer.writerows(_csv_rows([image]))
    except OSError as exc:
        raise FileAccessError(path, f"cannot be written ({exc.strerror or exc})") from exc


@click.command("analyze")
@click.argument("inputs", nargs=-1, required=True)
@click.option("--points", "points_path", type=str, default=None, help="Inspection-points YAML file.")
@rules_option
@click.option("--ambient", "ambient_c", type=float, default=None, help="Ambient temperature, °C.")
@click.option("--load-ratio", type=float, default=None, help="Present load / rated load (0..).")
@click.option(
    "--distance",
    "distance_m",
    type=float,
    default=None,
    help="Camera-to-target distance, m, for the measurability check (default: the file's).",
)
@json_option
@click.option("--csv", "csv_path", type=str, default=None, help="Write one row per finding to this CSV.")
@click.option("--annotate", type=str, default=None, help="Annotated PNG file (one image) or folder.")
@click.option(
    "--all-frames", is_flag=True, help="Analyse every frame of sequences (SEQ, CSQ), not the first."
)
@click.option(
    "--frames",
    "frames_text",
    default=None,
    metavar="START:STOP:STEP",
    help="Analyse these frames of sequences (implies --all-frames): indices 0:100:10 or seconds 10s:60s:5s.",
)
@workers_option
@input_options
@handle_errors
def analyze(
    inputs: tuple[str, ...],
    points_path: str | None,
    rules: str | None,
    ambient_c: float | None,
    load_ratio: float | None,
    distance_m: float | None,
    as_json: bool,
    csv_path: str | None,
    annotate: str | None,
    all_frames: bool,
    frames_text: str | None,
    workers: int,
    tiff_scale: float | None,
    tiff_offset_c: float | None,
) -> None:
    """Find hot spots, measure configured regions, compare phases and grade defects.

    Over a sequence with --all-frames or --frames, every selected frame is analysed and the
    JSON has, per file, the series of each configured point's T1/ΔT/δ over the frames.
    """
    from irpatrol.cli.read_cmds import parse_frames
    from irpatrol.pipeline import Conditions

    frames = parse_frames(frames_text) if frames_text is not None else None
    if all_frames and frames is None:
        frames = FrameSelection()
    if frames is not None and annotate is not None:
        raise ParameterError("--annotate", annotate, "left out when frames are selected (one PNG per image)")

    if load_ratio is not None and not load_ratio > 0:
        raise ParameterError("--load-ratio", load_ratio, "a ratio > 0")
    if distance_m is not None and not distance_m > 0:
        raise ParameterError("--distance", distance_m, "a distance > 0 m")
    conditions = Conditions(ambient_c=ambient_c, load_ratio=load_ratio, distance_m=distance_m)
    pack = load_rule_pack(setting_or(rules, "rules"))
    points = _load_points(points_path)
    files, any_dir = expand_inputs(inputs)
    many = any_dir or len(files) > 1
    with tempfile.TemporaryDirectory(prefix="irpatrol-analyze-") as spool_dir:
        job = partial(
            analyze_file,
            points=points,
            points_dir=Path(points_path).parent if points_path else None,
            pack=pack,
            conditions=conditions,
            annotate=annotate,
            many=many,
            inputs=InputOptions(tiff_scale, tiff_offset_c),
            frames=frames,
            progress=not many,
            spool_dir=Path(spool_dir) if frames is not None else None,
        )
        results = run_batch(job, files, workers=workers if many else 1, desc="analyze")
        done = [r.data for r in results if r.ok and r.data is not None]
        if as_json:
            _write_json(pack, done, results, frames is not None)
        else:
            for image in _images(done):
                print_table(image)
        if csv_path is not None:
            _write_csv(Path(csv_path), _images(done))
    raise SystemExit(report_failures(results))  # damaged frames make it "partial"


def register(group: click.Group) -> None:
    """Add ``analyze`` to the command group."""
    group.add_command(analyze)


__all__ = ["analyze", "analyze_file", "analyze_frames", "print_table", "register", "write_annotated"]
