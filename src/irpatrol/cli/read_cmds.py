"""``irpatrol info``, ``temps`` and ``render``: read files, convert to °C, draw palette images."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from dataclasses import asdict
from functools import partial
from pathlib import Path
from typing import Any

import click
import numpy as np

from irpatrol.cli.app import cli, handle_errors
from irpatrol.cli.batch import JobResult, frame_bar, report_failures, run_batch
from irpatrol.cli.options import (
    InputOptions,
    expand_inputs,
    frame_overrides,
    input_options,
    json_option,
    override_options,
    overrides_from,
    setting_or,
    workers_option,
)
from irpatrol.errors import CorruptFileError, DamagedFrameError, FileAccessError, ParameterError
from irpatrol.formats import ThermalFile, ThermalFrame
from irpatrol.formats.base import FrameInfo
from irpatrol.formats.selection import FrameSelection
from irpatrol.formats.writers import TEMPERATURE_FORMATS, format_for_path, write_temperature_file
from irpatrol.report.thermal_image import render_png
from irpatrol.thermal.palettes import PALETTES, auto_range
from irpatrol.thermal.radiometry import KELVIN_OFFSET, Thermogram


def info_to_dict(info: FrameInfo) -> dict[str, Any]:
    """JSON-ready frame header: temperatures in °C, humidity in %, distance in m."""
    out: dict[str, Any] = {
        "width": info.width,
        "height": info.height,
        "raw_encoding": info.raw_encoding,
        "camera": asdict(info.camera),
        "captured_at": info.captured_at.isoformat() if info.captured_at else None,
        "gps": asdict(info.gps) if info.gps else None,
        "has_visible_image": info.has_visible_image,
        "extra": info.extra,
        "warnings": list(info.warnings),
        "calibration": None,
    }
    cal = info.calibration
    if cal is not None:
        p = cal.params
        out["calibration"] = {
            "planck": asdict(cal.planck),
            "atmosphere": asdict(cal.atmosphere),
            "emissivity": p.emissivity,
            "object_distance_m": p.distance_m,
            "reflected_temp_c": p.reflected_temp_k - KELVIN_OFFSET,
            "atmospheric_temp_c": p.atmospheric_temp_k - KELVIN_OFFSET,
            "ir_window_temp_c": p.window_temp_k - KELVIN_OFFSET,
            "ir_window_transmission": p.window_transmission,
            "relative_humidity_pct": p.relative_humidity * 100.0,
            "camera_range_c": [t - KELVIN_OFFSET for t in cal.temp_range_k] if cal.temp_range_k else None,
            "raw_range": list(cal.raw_range) if cal.raw_range else None,
        }
    return out


def summarize(thermogram: Thermogram) -> dict[str, Any]:
    """Min/max/mean °C over valid pixels, the hottest valid pixel (x, y) and invalid counts."""
    t = thermogram
    out: dict[str, Any] = {
        "invalid_pixels": t.n_invalid,
        "undefined_pixels": t.n_undefined,
        "below_range_pixels": t.n_below_range,
        "above_range_pixels": t.n_above_range,
        "min_c": None,
        "max_c": None,
        "mean_c": None,
        "hottest_xy": None,
    }
    if t.n_invalid < t.valid.size:
        masked = np.where(t.valid, t.celsius, -np.inf)
        flat = int(np.argmax(masked))
        y, x = divmod(flat, t.celsius.shape[1])
        vals = t.celsius[t.valid]
        out.update(
            min_c=round(float(vals.min()), 3),
            max_c=round(float(vals.max()), 3),
            mean_c=round(float(vals.mean()), 3),
            hottest_xy=[x, y],
        )
    return out


def damage_to_dict(exc: DamagedFrameError) -> dict[str, Any]:
    """JSON-ready account of a damaged frame: which, where it starts, where it breaks."""
    return {
        "frame": exc.frame_index,
        "frame_offset": exc.frame_offset,
        "offset": exc.offset,
        "data_size": exc.data_size,
        "error": str(exc),
    }


def _count_frames(tf: ThermalFile) -> tuple[int, dict[str, Any] | None]:
    """Readable frames (headers only) and the damaged frame that ends them, if any."""
    n = 0
    try:
        for _ in tf.frames():
            n += 1
    except DamagedFrameError as exc:
        return n, damage_to_dict(exc)
    return n, None


def _file_info(path: Path, *, inputs: InputOptions) -> dict[str, Any]:
    with inputs.open(path) as tf:
        frame = tf.first_frame()
        count, damaged = _count_frames(tf)
        out = {"file": str(path), "format": tf.format_name, "frames": count, **info_to_dict(frame.info)}
        if damaged is not None:
            out["damaged"] = [damaged]
        return out


@cli.command()
@click.argument("files", nargs=-1, required=True)
@json_option
@input_options
@handle_errors
def info(
    files: tuple[str, ...], as_json: bool, tiff_scale: float | None, tiff_offset_c: float | None
) -> None:
    """Camera, calibration constants and sizes of thermal FILES (folders are searched)."""
    paths, _ = expand_inputs(files)
    job = partial(_file_info, inputs=InputOptions(tiff_scale, tiff_offset_c))
    results = run_batch(job, paths, workers=1, desc="info")
    if as_json:
        click.echo(json.dumps([r.data for r in results if r.ok], indent=2, ensure_ascii=False))
    else:
        for r in results:
            if r.data is not None:
                _print_info(r.data)
    sys.exit(report_failures(results))


def _print_info(d: dict[str, Any]) -> None:
    cam = d["camera"]
    click.echo(f"{d['file']}")
    n = d["frames"]
    readable = " readable" if d.get("damaged") else ""
    click.echo(f"  format        {d['format']} ({n} frame{'s' if n != 1 else ''}{readable})")
    for dmg in d.get("damaged", ()):
        click.echo(
            f"  damaged       frame {dmg['frame']} (from byte {dmg['frame_offset']}) breaks at byte"
            f" {dmg['offset']}; the data ends at byte {dmg['data_size']}"
        )
    click.echo(
        f"  camera        {cam['make'] or '?'} {cam['model'] or '?'}  serial {cam['serial'] or '-'}"
        f"  lens {cam['lens'] or '-'}"
    )
    click.echo(f"  size          {d['width']}x{d['height']}  raw {d['raw_encoding'] or 'temperatures'}")
    click.echo(f"  captured      {d['captured_at'] or '-'}")
    if d["gps"]:
        g = d["gps"]
        click.echo(
            f"  gps           {g['latitude_deg']:.7f}, {g['longitude_deg']:.7f}"
            + (f"  {g['altitude_m']:.1f} m" if g["altitude_m"] is not None else "")
        )
    cal = d["calibration"]
    if cal:
        pl = cal["planck"]
        click.echo(
            f"  planck        R1={pl['r1']:.6g} R2={pl['r2']:.6g} B={pl['b']:.6g}"
            f" F={pl['f']:.6g} O={pl['o']:.6g}"
        )
        click.echo(
            f"  object        emissivity {cal['emissivity']:.3f}  distance {cal['object_distance_m']:.2f} m"
            f"  reflected {cal['reflected_temp_c']:.2f} °C"
        )
        click.echo(
            f"  atmosphere    {cal['atmospheric_temp_c']:.2f} °C  RH {cal['relative_humidity_pct']:.1f} %"
            f"  window {cal['ir_window_temp_c']:.2f} °C x {cal['ir_window_transmission']:.3f}"
        )
        a = cal["atmosphere"]
        click.echo(
            f"  atm. model    a1={a['alpha1']:.6g} a2={a['alpha2']:.6g} b1={a['beta1']:.6g}"
            f" b2={a['beta2']:.6g} X={a['x']:.6g}"
        )
        if cal["camera_range_c"]:
            lo, hi = cal["camera_range_c"]
            click.echo(f"  camera range  {lo:.1f} .. {hi:.1f} °C  raw {cal['raw_range']}")
    click.echo(f"  visible photo {'yes' if d['has_visible_image'] else 'no'}")
    dji = {k[4:]: v for k, v in d["extra"].items() if k.startswith("dji_")}
    if dji:
        click.echo(f"  dji plugin    {dji.get('plugin', '?')}  back-end {dji.get('backend', 'none')}")
        names = ("emissivity", "distance_m", "humidity_pct", "reflected_c", "ambient_c")
        click.echo(
            "  dji params    "
            + "  ".join(f"{n} {dji[n]:g} [{dji.get(n + '_range', '?')}]" for n in names if n in dji)
        )
        if "lrf_distance_m" in d["extra"]:
            click.echo(
                f"  rangefinder   {d['extra']['lrf_distance_m']:g} m ({d['extra'].get('lrf_status', '?')})"
            )
    for w in d["warnings"]:
        click.echo(f"  warning       {w}")


def parse_frames(text: str) -> FrameSelection:
    """``START:STOP:STEP`` frame indices, one index ``N``, or seconds (``10s:60s:5s``)."""
    return FrameSelection.parse(text)


def _frames(tf: ThermalFile, selection: FrameSelection | None) -> Iterator[ThermalFrame]:
    """The first frame, or the selected frames one at a time (nothing kept between them)."""
    if selection is None:
        yield tf.first_frame()
        return
    yield from selection.pick(tf.frames())


def _readable_frames(
    tf: ThermalFile,
    selection: FrameSelection | None,
    *,
    written: list[str],
    damaged: list[dict[str, Any]],
) -> Iterator[ThermalFrame]:
    """The selected frames up to a damaged one, which is recorded in ``damaged`` and ends them.

    A damaged frame before anything was ``written`` is the file's failure and is raised.
    """
    frames = _frames(tf, selection)
    while True:
        try:
            frame = next(frames, None)
        except DamagedFrameError as exc:
            if not written:
                raise
            damaged.append(damage_to_dict(exc))
            return
        if frame is None:
            return
        yield frame


def _temps_job(
    path: Path,
    *,
    out: Path,
    fmt: str | None,
    selection: FrameSelection | None,
    overrides: dict[str, float | None],
    inputs: InputOptions,
    progress: bool = False,
) -> dict[str, Any]:
    """Write each frame's °C as it is decoded: memory stays one frame whatever the length.

    A damaged frame is reported under ``damaged`` and costs only itself (or, when the
    sequence breaks there, the frames after it, which cannot be found); the job fails
    only when no frame could be written.
    """
    written: list[str] = []
    damaged: list[dict[str, Any]] = []
    summary: dict[str, Any] = {}
    with inputs.open(path) as tf, frame_bar(path, progress and selection is not None) as bar:
        for frame in _readable_frames(tf, selection, written=written, damaged=damaged):
            try:
                t = frame.thermogram(
                    **frame_overrides(frame, overrides)
                )  # a temperature format refuses overrides, by name
            except CorruptFileError as exc:  # pixels damaged, headers whole: the next frame is fine
                if selection is None:
                    raise
                damaged.append({"frame": frame.index, "offset": exc.offset, "error": str(exc)})
                continue
            suffix = "" if selection is None else f"_f{frame.index:04d}"
            target = out if fmt is None else out / f"{path.stem}{suffix}.{fmt}"
            write_temperature_file(target, t.celsius)
            written.append(str(target))
            summary = summarize(t)
            bar.update()
    if not written:
        if damaged:
            raise CorruptFileError(path, f"no frame could be read: {damaged[0]['error']}")
        raise ParameterError(
            "--frames", str(selection or FrameSelection()), f"a selection of the frames {path} holds"
        )
    out_data: dict[str, Any] = {"file": str(path), "outputs": written, **summary}
    if damaged:
        out_data["damaged"] = damaged
    return out_data


def print_summary(d: dict[str, Any]) -> None:
    if d.get("max_c") is None:
        click.echo(f"{d['file']}: no valid pixel ({d['invalid_pixels']} invalid)")
        return
    inv = f", {d['invalid_pixels']} invalid px" if d["invalid_pixels"] else ""
    click.echo(
        f"{d['file']}: min {d['min_c']:.2f} °C  max {d['max_c']:.2f} °C  mean {d['mean_c']:.2f} °C"
        f"  hottest at x={d['hottest_xy'][0]} y={d['hottest_xy'][1]}{inv}"
    )


def _output_target(
    out: str, batch: bool, fmt: str | None, allowed: tuple[str, ...]
) -> tuple[Path, str | None]:
    target = Path(out)
    if batch:
        try:
            target.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise FileAccessError(target, f"cannot create output folder ({exc.strerror or exc})") from exc
        return target, fmt or allowed[0]
    return target, None


@cli.command()
@click.argument("inputs", nargs=-1, required=True)
@click.option("-o", "--output", required=True, help="Output file (.csv/.npy/.tiff), or a folder for batches.")
@click.option(
    "--format", "fmt", type=click.Choice(TEMPERATURE_FORMATS), help="Format in a batch (default npy)."
)
@click.option("--all-frames", is_flag=True, help="Every frame of a sequence (SEQ/CSQ), not just the first.")
@click.option(
    "--frames",
    "frames_text",
    metavar="START:STOP:STEP",
    help="Frames of a sequence to write: indices (parts optional, e.g. 0:1000:10) or seconds from the "
    "first frame (e.g. 10s:60s:5s); implies --all-frames.",
)
@workers_option
@json_option
@input_options
@override_options
@handle_errors
def temps(
    inputs: tuple[str, ...],
    output: str,
    fmt: str | None,
    all_frames: bool,
    frames_text: str | None,
    workers: int,
    as_json: bool,
    tiff_scale: float | None,
    tiff_offset_c: float | None,
    **opts: Any,
) -> None:
    """Convert INPUTS to float32 °C arrays (CSV, NPY or TIFF), with optional parameter overrides."""
    selection = parse_frames(frames_text) if frames_text is not None else None
    if all_frames and selection is None:
        selection = FrameSelection()
    paths, any_dir = expand_inputs(inputs)
    batch = any_dir or len(paths) > 1 or selection is not None
    if not batch:
        format_for_path(output)
    out, batch_fmt = _output_target(output, batch, fmt, ("npy", "csv", "tiff"))
    job = partial(
        _temps_job,
        out=out,
        fmt=batch_fmt,
        selection=selection,
        overrides=overrides_from(**opts),
        inputs=InputOptions(tiff_scale, tiff_offset_c),
        progress=len(paths) == 1,
    )
    results = run_batch(job, paths, workers=workers, desc="temps")
    _emit(results, as_json)


def _emit(results: list[JobResult], as_json: bool) -> None:
    if as_json:
        click.echo(
            json.dumps(
                {
                    "images": [r.data for r in results if r.ok],
                    "failed": [{"file": r.path, "error": r.error} for r in results if not r.ok],
                },
                indent=2,
                ensure_ascii=False,
            )
        )
    else:
        for r in results:
            if r.data is not None:
                print_summary(r.data)
    sys.exit(report_failures(results))


def parse_range(text: str) -> tuple[float, float] | None:
    """``auto`` → None; ``MIN:MAX`` (°C) → (min, max)."""
    if text == "auto":
        return None
    try:
        lo_s, hi_s = text.split(":")
        lo, hi = float(lo_s), float(hi_s)
    except ValueError:
        raise ParameterError("--range", text, "'auto' or MIN:MAX in °C, e.g. 20:80") from None
    if not hi > lo:
        raise ParameterError("--range", text, "MIN:MAX with MAX greater than MIN")
    return lo, hi


def _render_job(
    path: Path,
    *,
    out: Path,
    batch: bool,
    palette: str,
    span: tuple[float, float] | None,
    overrides: dict[str, float | None],
    inputs: InputOptions,
    selection: FrameSelection | None = None,
    progress: bool = False,
) -> dict[str, Any]:
    """One PNG per selected frame (the first frame without a selection), one frame in memory.

    ``progress`` shows a bar over the frames (one input file with a selection).
    """
    written: list[str] = []
    damaged: list[dict[str, Any]] = []
    summary: dict[str, Any] = {}
    ranges: list[tuple[float, float]] = []
    with inputs.open(path) as tf, frame_bar(path, progress and selection is not None) as bar:
        for frame in _readable_frames(tf, selection, written=written, damaged=damaged):
            t = frame.thermogram(
                **frame_overrides(frame, overrides)
            )  # a temperature format refuses overrides, by name
            lo, hi = span if span is not None else auto_range(t.celsius, t.valid)
            suffix = "" if selection is None else f"_f{frame.index:04d}"
            target = out / f"{path.stem}{suffix}.png" if batch else out
            data = render_png(t.celsius, palette=palette, vmin=lo, vmax=hi, valid=t.valid)
            try:
                target.write_bytes(data)
            except OSError as exc:
                raise FileAccessError(target, f"cannot be written ({exc.strerror or exc})") from exc
            written.append(str(target))
            ranges.append((lo, hi))
            summary = summarize(t)
            bar.update()
    if not written:
        raise ParameterError(
            "--frames", str(selection or FrameSelection()), f"a selection of the frames {path} holds"
        )
    out_data: dict[str, Any] = {"file": str(path), "outputs": written, "range_c": list(ranges[-1]), **summary}
    if damaged:
        out_data["damaged"] = damaged
    return out_data


@cli.command()
@click.argument("inputs", nargs=-1, required=True)
@click.option("-o", "--output", required=True, help="Output .png, or a folder for batches.")
@click.option(
    "--palette", type=click.Choice(sorted(PALETTES)), help="Palette (default: IRPATROL_PALETTE, else iron)."
)
@click.option("--range", "range_text", default="auto", show_default=True, help="'auto' or MIN:MAX in °C.")
@click.option("--all-frames", is_flag=True, help="A PNG for every frame of a sequence (SEQ/CSQ).")
@click.option(
    "--frames",
    "frames_text",
    metavar="START:STOP:STEP",
    help="Frames of a sequence to render (indices or seconds, as for temps); implies --all-frames.",
)
@workers_option
@json_option
@input_options
@override_options
@handle_errors
def render(
    inputs: tuple[str, ...],
    output: str,
    palette: str | None,
    range_text: str,
    all_frames: bool,
    frames_text: str | None,
    workers: int,
    as_json: bool,
    tiff_scale: float | None,
    tiff_offset_c: float | None,
    **opts: Any,
) -> None:
    """Render INPUTS as palette PNG images with a colour scale bar (one per frame with --frames)."""
    span = parse_range(range_text)
    selection = parse_frames(frames_text) if frames_text is not None else None
    if all_frames and selection is None:
        selection = FrameSelection()
    paths, any_dir = expand_inputs(inputs)
    batch = any_dir or len(paths) > 1 or selection is not None
    if not batch and Path(output).suffix.lower() != ".png":
        raise ParameterError("--output", output, "a .png file name (or a folder for batches)")
    out, _ = _output_target(output, batch, None, ("png",))
    job = partial(
        _render_job,
        out=out,
        batch=batch,
        palette=setting_or(palette, "palette"),
        span=span,
        overrides=overrides_from(**opts),
        inputs=InputOptions(tiff_scale, tiff_offset_c),
        selection=selection,
        progress=len(paths) == 1,
    )
    results = run_batch(job, paths, workers=workers, desc="render")
    _emit(results, as_json)
