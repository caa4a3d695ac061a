"""File → °C array, in-process, per image: irpatrol against flyr and flirextractor.

Run through ``benchmarks/run.sh read [--check] [--write]`` (it makes the venv with the
peers).  Every reader is timed in this one process, interleaved run by run, on every
file it can read: warm-up calls first, then the median of ``--repeat`` single calls.
flirextractor keeps one ``exiftool -stay_open`` process running for all its calls.

Also measured: where irpatrol's time goes (file read, JPEG segment walk, EXIF, chunk
assembly, FFF parse, raw decode, LUT build, gather) and, for PNG raw, a plain decode
of the same extracted PNG bytes by libpng (imagecodecs.png_decode), libspng, Pillow
and OpenCV (when installed).

``--write`` puts the tables into BENCHMARKS.md between the ``bench_read`` markers;
``--check`` exits 1 when a target of issue 2 is missed.  Never run by CI.
"""

from __future__ import annotations

import argparse
import contextlib
import functools
import io
import json
import os
import platform
import resource
import shlex
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_SAMPLES = ROOT.parent / "shared" / "samples" / "thermal"

BARE = ["dji_zenmuse_xtr.jpg", "flir_e40.jpg", "flir_sc660_sample.seq"]
"""Files whose raw frame is bare uint16: the ×30 (flyr) and ×5 (flirextractor) targets."""
PNG = ["flir_t640_fuses.jpg"]
"""PNG raw: within 1.5× of a plain libpng decode of the same PNG."""
EXTRA = ["flir_b60_building.jpg", "flir_ax8.jpg", "flir_c2_afci_breakers.jpg"]
"""Small PNG-raw files: reported, no target."""

FLYR_MIN_RATIO = 30.0
FLIREXTRACTOR_MIN_RATIO = 5.0
PNG_MAX_RATIO = 1.5

MARK_BEGIN = "<!-- bench_read:begin -->"
MARK_END = "<!-- bench_read:end -->"


# ---------------------------------------------------------------- timing helpers


def _timed(fn: Callable[[], object]) -> float:
    t0 = time.perf_counter()
    fn()
    return time.perf_counter() - t0


def _minflt() -> int:
    return resource.getrusage(resource.RUSAGE_SELF).ru_minflt


@dataclass
class Reader:
    """One way of turning a file into a °C array."""

    name: str
    call: Callable[[str], Any]
    times: dict[str, list[float]] = field(default_factory=dict)
    errors: dict[str, str] = field(default_factory=dict)
    maxdiff: dict[str, float] = field(default_factory=dict)

    def median_ms(self, f: str) -> float | None:
        t = self.times.get(f)
        return statistics.median(t) * 1e3 if t else None


def _celsius_irpatrol(path: str) -> Any:
    from irpatrol.formats import open_thermal

    return open_thermal(path).first_frame().celsius()


@contextlib.contextmanager
def _peers() -> Iterator[list[Reader]]:
    """flyr and flirextractor readers, with one exiftool process kept running."""
    readers: list[Reader] = []
    with contextlib.ExitStack() as stack:
        try:
            import flyr

            readers.append(Reader("flyr", lambda p: flyr.unpack(p).celsius))
        except ImportError as exc:
            print(f"bench_read: flyr not importable ({exc}); use benchmarks/run.sh", file=sys.stderr)
        try:
            from flirextractor import FlirExtractor

            fx = stack.enter_context(FlirExtractor())  # starts `exiftool -stay_open True`
            readers.append(Reader("flirextractor", fx.get_thermal))
        except Exception as exc:  # ImportError, or exiftool missing
            print(f"bench_read: flirextractor unavailable ({exc}); use benchmarks/run.sh", file=sys.stderr)
        yield readers


def measure_readers(
    readers: list[Reader], files: list[str], samples: Path, *, repeat: int, warmup: int, rounds: int = 3
) -> None:
    """Per file: check each reader once against refs, then time it in blocks.

    A block is ``warmup`` untimed then ``repeat // rounds`` timed consecutive calls of
    one reader (as a folder batch calls it); blocks rotate over the readers
    ``rounds`` times, so drift during the run hits every reader alike.
    """
    for f in files:
        path = str(samples / f)
        ref = np.load(samples / "refs" / f"{f}.temp_c.npy")
        ok: list[Reader] = []
        for r in readers:
            try:
                out = np.asarray(r.call(path))
            except Exception as exc:  # a peer that cannot read the file: record why
                r.errors[f] = f"{type(exc).__name__}: {str(exc).splitlines()[0][:90]}"
                continue
            if out.shape != ref.shape:
                r.errors[f] = f"wrong shape {out.shape}, expected {ref.shape}"
                continue
            r.maxdiff[f] = float(np.nanmax(np.abs(out.astype(np.float64) - ref)))
            r.times[f] = []
            ok.append(r)
        per_block = max(1, repeat // rounds)
        for _ in range(rounds):
            for r in ok:
                for _ in range(warmup):
                    r.call(path)
                r.times[f] += [_timed(lambda r=r, p=path: r.call(p)) for _ in range(per_block)]


FAULTS: dict[tuple[tuple[str, str], ...], dict[str, float]] = {}
"""Minor page faults per image of the fresh-interpreter runs, by the extra environment."""
MALLOC_TUNED = {"MALLOC_MMAP_THRESHOLD_": str(64 << 20), "MALLOC_TRIM_THRESHOLD_": str(128 << 20)}
"""glibc settings that keep freed buffers mapped between images (no fresh pages per image)."""


def irpatrol_fresh_process(
    files: list[str], samples: Path, *, repeat: int, warmup: int, env: dict[str, str] | None = None
) -> dict[str, float]:
    """Median ms per file of irpatrol alone in a new interpreter (no peer loaded, fresh heap)."""
    code = (
        "import json,resource,statistics,sys,time\n"
        "from irpatrol.formats import open_thermal\n"
        "out={}\n"
        "for p in sys.argv[3:]:\n"
        "    f=lambda: open_thermal(p).first_frame().celsius()\n"
        "    [f() for _ in range(int(sys.argv[2]))]\n"
        "    t=[]\n"
        "    n0=resource.getrusage(resource.RUSAGE_SELF).ru_minflt\n"
        "    for _ in range(int(sys.argv[1])):\n"
        "        t0=time.perf_counter(); f(); t.append(time.perf_counter()-t0)\n"
        "    n1=resource.getrusage(resource.RUSAGE_SELF).ru_minflt\n"
        "    out[p]=[statistics.median(t)*1e3,(n1-n0)/len(t)]\n"
        "print(json.dumps(out))\n"
    )
    paths = [str(samples / f) for f in files]
    res = subprocess.run(
        [sys.executable, "-c", code, str(repeat), str(warmup), *paths],
        capture_output=True,
        text=True,
        check=True,
        env={**os.environ, **(env or {})},
    )
    got = json.loads(res.stdout)
    FAULTS[tuple(sorted((env or {}).items()))] = {f: got[str(samples / f)][1] for f in files}
    return {f: got[str(samples / f)][0] for f in files}


# ---------------------------------------------------------------- breakdown


def breakdown(path: Path, *, repeat: int) -> dict[str, float]:
    """Median ms per stage of irpatrol's pipeline, each stage run in pipeline order.

    Uses irpatrol internals (names may move); the stages are those a
    ``open_thermal(path).first_frame().celsius()`` call runs, in its order, so their
    sum is close to the end-to-end time (the rest is call overhead).
    """
    import imagecodecs

    from irpatrol.formats import fff, flir, jpeg
    from irpatrol.formats.base import read_source
    from irpatrol.formats.registry import MMAP_THRESHOLD
    from irpatrol.thermal import radiometry as rad

    acc: dict[str, list[float]] = {}
    faults: dict[str, list[int]] = {}

    @contextlib.contextmanager
    def stage(label: str) -> Iterator[None]:
        f0 = _minflt()
        t0 = time.perf_counter()
        yield
        acc.setdefault(label, []).append(time.perf_counter() - t0)
        faults.setdefault(label, []).append(_minflt() - f0)

    name = str(path)
    for _ in range(repeat + 3):
        with stage("file read"):
            data = read_source(path, mmap_above=MMAP_THRESHOLD)
        if path.suffix.lower() == ".jpg":
            with stage("JPEG segment walk"):
                layout = jpeg.walk_jpeg(bytes(data), path=name)
            with stage("FLIR chunks (ordered, not joined)"):
                blob = flir.ChunkedFff(flir.ordered_chunks(flir.flir_chunks(layout), path=name))
            del layout
            read = blob.span
            with stage("FFF parse"):
                head = blob.span(0, 4096)
                need = fff.directory_end(head, path=name)
                if need > len(head):
                    head = blob.span(0, need)
                block = fff.parse_block(head, 0, path=name, size=blob.size)
                frame = flir.frame_from_block(read, block, path=name, index=0)
        else:
            read = functools.partial(fff.read_span, data)
            with stage("FFF parse"):
                block = fff.parse_block(data, 0, path=name)
                frame = flir.frame_from_block(read, block, path=name, index=0)
        rec = block.find(fff.REC_RAW)
        assert rec is not None
        enc, w, h = fff.raw_encoding(read(rec.offset, rec.offset + 32), rec, path=name)
        with stage("raw record bytes (join of its chunks)"):
            rec_bytes = read(rec.offset, rec.offset + rec.length)
        if enc.startswith("png"):
            with stage("PNG decode (libpng)"):
                raw = imagecodecs.png_decode(rec_bytes[32:])
            if enc == "png":
                with stage("byte swap"):
                    raw.byteswap(inplace=True)
        else:
            with stage("raw copy (uint16)"):
                raw = fff.decode_raw(rec_bytes, rec, enc, w, h, path=name)
        assert frame.calibration is not None
        cal = frame.calibration.with_params()
        lo, hi = int(raw.min()), int(raw.max())
        with stage("LUT build"):
            kelvin, _ = rad._kelvin_span(lo, hi, cal)
        with stage("gather (+ mask)"):
            lut = np.empty(hi + 1, dtype=np.float32)
            np.subtract(kelvin, rad.KELVIN_OFFSET, out=lut[lo:], casting="same_kind")
            out = (rad._gather(lut, raw), np.ones(raw.shape, dtype=bool))
        del data, read, rec_bytes, frame, raw, out, kelvin, lut
    res = {k: statistics.median(v[3:]) * 1e3 for k, v in acc.items()}
    res["_faults"] = float(sum(statistics.median(v[3:]) for v in faults.values()))
    return res


def png_decoders(path: Path, *, repeat: int) -> tuple[dict[str, float], dict[str, str]]:
    """Median ms to decode the file's raw PNG (extracted bytes) with plain decoders."""
    import imagecodecs

    from irpatrol.formats import fff, open_thermal

    frame = open_thermal(path).first_frame()
    expected = frame.raw()
    # the same extraction the reader does (the PNG is inside the assembled FFF block)
    from irpatrol.formats import flir, jpeg

    buf = flir.assemble_fff(
        flir.flir_chunks(jpeg.walk_jpeg(path.read_bytes(), path=str(path))), path=str(path)
    )
    rec = fff.parse_block(buf, 0, path=str(path)).find(fff.REC_RAW)
    png = bytes(buf[rec.offset + 32 : rec.offset + rec.length])
    swap = frame.info.raw_encoding == "png"

    def check(arr: Any) -> bool:
        a = np.asarray(arr)
        if a.dtype != np.uint16:
            a = a.astype(np.uint16)
        return bool(np.array_equal(a.byteswap() if swap else a, expected))

    candidates: dict[str, Callable[[], Any]] = {
        "libpng (imagecodecs.png_decode)": lambda: imagecodecs.png_decode(png)
    }
    if hasattr(imagecodecs, "spng_decode"):
        candidates["libspng (imagecodecs.spng_decode)"] = lambda: imagecodecs.spng_decode(png)
    from PIL import Image

    candidates["Pillow (own decoder, zlib)"] = lambda: np.asarray(Image.open(io.BytesIO(png)))
    try:
        import cv2  # only if already installed: not a dependency

        candidates["OpenCV cv2.imdecode"] = lambda: cv2.imdecode(
            np.frombuffer(png, np.uint8), cv2.IMREAD_UNCHANGED
        )
    except ImportError:
        pass
    times: dict[str, float] = {}
    notes: dict[str, str] = {}
    for label, fn in candidates.items():
        try:
            if not check(fn()):
                notes[label] = "decodes to different values"
                continue
        except Exception as exc:
            notes[label] = f"fails: {type(exc).__name__}: {str(exc)[:80]}"
            continue
        for _ in range(3):
            fn()
        times[label] = statistics.median(_timed(fn) for _ in range(repeat)) * 1e3
    notes["_png_bytes"] = str(len(png))
    # anatomy: libpng = inflate (zlib) + undo the per-row filters; time the inflate alone
    import struct
    import zlib

    pos, idat, width = 8, [], 0
    while pos + 8 <= len(png):
        (n,) = struct.unpack_from(">I", png, pos)
        kind = png[pos + 4 : pos + 8]
        if kind == b"IHDR":
            (width,) = struct.unpack_from(">I", png, pos + 8)
        elif kind == b"IDAT":
            idat.append(png[pos + 8 : pos + 8 + n])
        pos += 12 + n
    z = b"".join(idat)
    inflated = zlib.decompress(z)
    filters = np.bincount(np.frombuffer(inflated, np.uint8)[:: width * 2 + 1], minlength=5)
    notes["_filters"] = ", ".join(
        f"{name} {int(c)}" for name, c in zip(("None", "Sub", "Up", "Average", "Paeth"), filters, strict=True)
    )
    inflaters: dict[str, Callable[[], Any]] = {
        "inflate only: zlib (Python's zlib module)": lambda: zlib.decompress(z)
    }
    if hasattr(imagecodecs, "deflate_decode"):
        inflaters["inflate only: libdeflate (imagecodecs.deflate_decode)"] = lambda: (
            imagecodecs.deflate_decode(z, out=len(inflated))
        )
    for label, fn in inflaters.items():
        if bytes(fn()) == inflated:
            times[label] = statistics.median(_timed(fn) for _ in range(repeat)) * 1e3
    return times, notes


# ---------------------------------------------------------------- report


def _version(mod: str) -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version(mod)
    except PackageNotFoundError:
        return "not installed"


def environment() -> dict[str, str]:
    cpu = platform.processor() or "?"
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    exiftool = "not found"
    with contextlib.suppress(OSError, subprocess.SubprocessError):
        exiftool = subprocess.run(
            ["exiftool", "-ver"], capture_output=True, text=True, check=True
        ).stdout.strip()
    return {
        "nproc": str(os.cpu_count()),
        "CPU": cpu,
        "Python": platform.python_version(),
        "numpy": np.__version__,
        "imagecodecs": _version("imagecodecs"),
        "Pillow": _version("pillow"),
        "flyr": _version("flyr"),
        "flirextractor": _version("flirextractor"),
        "exiftool": exiftool,
        "OPENBLAS_CORETYPE": os.environ.get("OPENBLAS_CORETYPE", "(unset)"),
        "glibc malloc tuning (MALLOC_*)": " ".join(
            f"{k}={v}" for k, v in os.environ.items() if k.startswith("MALLOC_")
        )
        or "none",
    }


def _fmt(ms: float | None) -> str:
    if ms is None:
        return "—"
    return f"{ms:.3f}" if ms < 1 else f"{ms:.2f}" if ms < 10 else f"{ms:.1f}"


def render(
    ours: Reader,
    fresh: dict[str, float],
    tuned: dict[str, float],
    peers: list[Reader],
    files: list[str],
    stages: dict[str, dict[str, float]],
    png: dict[str, tuple[dict[str, float], dict[str, str]]],
    command: str,
    args: argparse.Namespace,
) -> tuple[str, list[str]]:
    """Markdown for BENCHMARKS.md and the list of missed targets."""
    missed: list[str] = []
    lines = [
        f"Command: `{command}`",
        "",
        f"In-process, per image: `open_thermal(path).first_frame().celsius()` against "
        f"`flyr.unpack(path).celsius` and flirextractor's `FlirExtractor().get_thermal(path)` "
        f"(one exiftool `-stay_open` process for all calls), all in one process: per file, blocks of "
        f"{args.warmup} warm-up then {max(1, args.repeat // 3)} timed consecutive calls, rotating over "
        f"the readers 3 times; median of the {3 * max(1, args.repeat // 3)} timed calls. irpatrol is "
        "also timed alone in a fresh interpreter in the same run (`alone`, for information): there glibc "
        "returns each image's freed buffers to the kernel and the next image pays fresh-page faults (see "
        "below; the CLI turns this off). **Ratios compare like with like: irpatrol beside the peers, in "
        "the same process and heap state as them.** Ratio = peer median / irpatrol median.",
        "",
        "| file | raw | irpatrol ms beside peers | irpatrol ms alone | flyr ms | ×flyr | flirextractor ms "
        "| ×flirextractor | target | met |",
        "|---|---|---:|---:|---:|---:|---:|---:|---|---|",
    ]
    by = {r.name: r for r in peers}
    for f in files:
        t_in = ours.median_ms(f)
        t_ours = t_in
        cells = [f"`{f}`", "PNG" if f in PNG or f in EXTRA else "uint16", _fmt(t_in), _fmt(fresh.get(f))]
        verdicts: list[str] = []
        for pname, need in (("flyr", FLYR_MIN_RATIO), ("flirextractor", FLIREXTRACTOR_MIN_RATIO)):
            r = by.get(pname)
            t = r.median_ms(f) if r else None
            if r is None:
                cells += ["not installed", "—"]
            elif t is None:
                cells += [f"fails ({r.errors.get(f, '?')})", "—"]
            else:
                ratio = t / t_ours if t_ours else float("nan")
                cells += [_fmt(t), f"{ratio:.1f}×"]
                if f in BARE:
                    ok = ratio >= need
                    verdicts.append(f"{'✓' if ok else '✗'} {pname} ≥{need:g}×")
                    if not ok:
                        missed.append(f"{f}: {ratio:.1f}× {pname}, target ≥{need:g}×")
        target = ""
        if f in BARE:
            target = (
                f"≥{FLYR_MIN_RATIO:g}× flyr, ≥{FLIREXTRACTOR_MIN_RATIO:g}× flirextractor (where each reads)"
            )
        elif f in png:
            times, _ = png[f]
            lib = times.get("libpng (imagecodecs.png_decode)")
            if lib and t_ours:
                ok = t_ours <= PNG_MAX_RATIO * lib
                target = f"≤{PNG_MAX_RATIO:g}× libpng decode ({_fmt(lib)} ms): {t_ours / lib:.2f}×"
                verdicts.append("✓" if ok else "✗")
                if not ok:
                    missed.append(f"{f}: {t_ours / lib:.2f}× libpng decode, target ≤{PNG_MAX_RATIO:g}×")
        cells += [target or "—", " ".join(verdicts) or "—"]
        lines.append("| " + " | ".join(cells) + " |")
    lines += ["", "Accuracy of each reader on these files (max |Δ| from the reference, °C):", ""]
    lines += ["| file | " + " | ".join([ours.name] + [r.name for r in peers]) + " |"]
    lines += ["|---|" + "---:|" * (1 + len(peers))]
    for f in files:
        row = [f"`{f}`"]
        for r in [ours, *peers]:
            row.append(f"{r.maxdiff[f]:.4f}" if f in r.maxdiff else "fails")
        lines.append("| " + " | ".join(row) + " |")
    fails = [(r.name, f, e) for r in peers for f, e in r.errors.items()]
    if fails:
        lines += ["", "Peer failures (recorded, not worked around):", ""]
        lines += [f"* {n} on `{f}`: `{e}`" for n, f, e in fails]

    lines += [
        "",
        "### Where irpatrol's time goes",
        "",
        "Each stage of the reader run in pipeline order (median ms; irpatrol internals, "
        "see `breakdown()` in the script), in the benchmark process after the peers ran. Page "
        "faults are minor faults per image: fresh pages the kernel maps (and zeroes) for new "
        "buffers. In a fresh interpreter glibc returns freed buffers to the kernel after each "
        "image (its trim/mmap thresholds are still low), so every image faults its buffers in "
        "again; after the peers' large buffers the thresholds have grown and nothing faults.",
        "",
    ]
    stage_names: list[str] = []
    for s in stages.values():
        for k in s:
            if not k.startswith("_") and k not in stage_names:
                stage_names.append(k)
    lines.append("| stage | " + " | ".join(f"`{f}`" for f in stages) + " |")
    lines.append("|---|" + "---:|" * len(stages))
    for k in stage_names:
        lines.append(f"| {k} | " + " | ".join(_fmt(s.get(k)) for s in stages.values()) + " |")
    lines.append(
        "| **sum of stages** | "
        + " | ".join(_fmt(sum(v for k, v in s.items() if not k.startswith("_"))) for s in stages.values())
        + " |"
    )
    lines.append("| end to end, beside peers | " + " | ".join(_fmt(ours.median_ms(f)) for f in stages) + " |")
    lines.append("| end to end, alone | " + " | ".join(_fmt(fresh.get(f)) for f in stages) + " |")
    lines.append(
        "| end to end, alone, glibc tuned¹ | " + " | ".join(_fmt(tuned.get(f)) for f in stages) + " |"
    )
    lines.append(
        "| page faults per image, stages | "
        + " | ".join(f"{s['_faults']:.0f}" for s in stages.values())
        + " |"
    )
    alone_faults = FAULTS.get((), {})
    lines.append(
        "| page faults per image, alone | "
        + " | ".join(f"{alone_faults.get(f, 0):.0f}" for f in stages)
        + " |"
    )

    lines += [
        "",
        "¹ the same fresh-interpreter run with "
        + " ".join(f"`{k}={v}`" for k, v in MALLOC_TUNED.items())
        + ": freed buffers stay mapped, so no image pays for fresh pages (figure not used in any ratio).",
    ]
    for f, (times, notes) in png.items():
        lines += [
            "",
            f"### PNG raw: `{f}` ({notes.get('_png_bytes', '?')} bytes of 16-bit PNG) against plain decoders",
            "",
            f"Row filters in this PNG: {notes.get('_filters', '?')}.",
            "",
            "| decoder of the extracted PNG bytes | ms | irpatrol end to end ÷ this |",
            "|---|---:|---:|",
        ]
        t_ours = ours.median_ms(f)  # same process as the decoders it is compared with
        for label, ms in times.items():
            ratio = f"{t_ours / ms:.2f}×" if t_ours and not label.startswith("inflate") else "—"
            lines.append(f"| {label} | {_fmt(ms)} | {ratio} |")
        for label, note in notes.items():
            if not label.startswith("_"):
                lines.append(f"| {label} | {note} | — |")
    env = environment()
    lines += ["", "Machine: " + "; ".join(f"{k} {v}" for k, v in env.items()) + "."]
    return "\n".join(lines) + "\n", missed


def write_section(md: Path, body: str, begin: str, end: str, title: str) -> None:
    text = md.read_text() if md.exists() else "# Benchmarks\n"
    block = f"{begin}\n{body}{end}"
    if begin in text and end in text:
        head, rest = text.split(begin, 1)
        _, tail = rest.split(end, 1)
        text = head + block + tail
    else:
        text = text.rstrip("\n") + f"\n\n## {title}\n\n{block}\n"
    md.write_text(text)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--samples", type=Path, default=DEFAULT_SAMPLES, help="folder of the sample files")
    ap.add_argument("--repeat", type=int, default=30, help="timed calls per reader and file")
    ap.add_argument("--warmup", type=int, default=3, help="untimed calls first")
    ap.add_argument("--extra", action="store_true", help="also the small PNG-raw files (no targets)")
    ap.add_argument("--write", action="store_true", help="update BENCHMARKS.md")
    ap.add_argument("--check", action="store_true", help="exit 1 when a target is missed")
    ap.add_argument("--json", type=Path, help="also write the raw figures here")
    args = ap.parse_args(argv)
    samples: Path = args.samples
    files = BARE + PNG + (EXTRA if args.extra else [])
    missing = [f for f in files if not (samples / f).is_file()]
    if missing:
        print(f"bench_read: sample files missing under {samples}: {missing}", file=sys.stderr)
        return 2
    command = "benchmarks/run.sh read " + " ".join(
        shlex.quote(a) for a in (argv if argv is not None else sys.argv[1:])
    )

    ours = Reader("irpatrol", _celsius_irpatrol)
    fresh = irpatrol_fresh_process(files, samples, repeat=args.repeat, warmup=args.warmup)
    tuned = irpatrol_fresh_process(files, samples, repeat=args.repeat, warmup=args.warmup, env=MALLOC_TUNED)
    with _peers() as peers:
        measure_readers([ours, *peers], files, samples, repeat=args.repeat, warmup=args.warmup)
    stages = {f: breakdown(samples / f, repeat=args.repeat) for f in BARE + PNG}
    png = {f: png_decoders(samples / f, repeat=args.repeat) for f in PNG}
    body, missed = render(ours, fresh, tuned, peers, files, stages, png, command.strip(), args)
    print(body)
    if args.write:
        write_section(
            ROOT / "BENCHMARKS.md", body, MARK_BEGIN, MARK_END, "Reading: file → °C array, per image"
        )
        print("bench_read: BENCHMARKS.md updated", file=sys.stderr)
    if args.json:
        args.json.write_text(
            json.dumps(
                {
                    "median_ms": {r.name: {f: r.median_ms(f) for f in r.times} for r in [ours, *peers]},
                    "irpatrol_alone_ms": fresh,
                    "irpatrol_alone_malloc_tuned_ms": tuned,
                    "errors": {r.name: r.errors for r in peers},
                    "stages_ms": stages,
                    "png_decoders_ms": {f: v[0] for f, v in png.items()},
                    "environment": environment(),
                    "missed": missed,
                },
                indent=2,
            )
        )
    if missed:
        print("bench_read: targets missed:\n  " + "\n  ".join(missed), file=sys.stderr)
        return 1 if args.check else 0
    return 0


if __name__ == "__main__":
    sys.exit(main())
