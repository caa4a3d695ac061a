"""The library path at the floor (issue 10 item 5): in-process file → °C with and without the tuned allocator.

    .venv/bin/python benchmarks/bench_library.py --before COMMIT --write

A program using irpatrol as a library (the server, the edge agent) calls
``open_thermal(path).first_frame().thermogram()`` in a loop without the CLI's allocator
tuning (``irpatrol.cli.allocator``, glibc ``mallopt``).  Each configuration runs in a fresh
interpreter: 3 warm-up calls per file, then the median of ``--repeat`` calls and the page
faults per call.  Configurations: this checkout, default allocator (the library path) and
tuned (the floor); with ``--before COMMIT``, the same two for that commit's ``src/``, unpacked
with ``git archive`` into a temporary folder.  Target: default within 1.5× of tuned on the 640-wide uint16
R-JPEG; the PNG-raw R-JPEG within 1.5× of a bare libpng decode of its PNG (same process).
``--write`` puts the table into BENCHMARKS.md between the ``bench_library`` markers.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SAMPLES = ROOT.parent / "shared" / "samples" / "thermal"
FILES = ["dji_zenmuse_xtr.jpg", "flir_t640_fuses.jpg", "flir_sc660_sample.seq"]
"""640x512 uint16 R-JPEG (the target), 640x480 PNG-raw R-JPEG, 640x480 uint16 SEQ (not a JPEG)."""
MAX_RATIO = 1.5
MARK_BEGIN = "<!-- bench_library:begin -->"
MARK_END = "<!-- bench_library:end -->"

_CHILD = r"""
import json, resource, statistics, sys, time
if sys.argv[1] == "tuned":
    from irpatrol.cli.allocator import keep_freed_memory
    keep_freed_memory()
from irpatrol.formats import open_thermal
repeat = int(sys.argv[2])
out = {}
for p in sys.argv[3:]:
    f = lambda: open_thermal(p).first_frame().thermogram()
    for _ in range(3):
        f()
    t = []
    n0 = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
    for _ in range(repeat):
        t0 = time.perf_counter(); f(); t.append(time.perf_counter() - t0)
    n1 = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
    out[p.rsplit("/", 1)[-1]] = [statistics.median(t) * 1e3, (n1 - n0) / repeat]
if sys.argv[1] == "default":  # a bare libpng decode of the T640's PNG, same process and heap
    import imagecodecs
    from irpatrol.formats import fff, flir, jpeg
    p = [a for a in sys.argv[3:] if a.endswith("flir_t640_fuses.jpg")][0]
    data = open(p, "rb").read()
    buf = flir.assemble_fff(flir.flir_chunks(jpeg.walk_jpeg(data, path=p)), path=p)
    rec = fff.parse_block(buf, 0, path=p).find(fff.REC_RAW)
    png = bytes(buf[rec.offset + 32 : rec.offset + rec.length])
    for _ in range(3):
        imagecodecs.png_decode(png)
    t = []
    for _ in range(repeat):
        t0 = time.perf_counter(); imagecodecs.png_decode(png); t.append(time.perf_counter() - t0)
    out["libpng"] = [statistics.median(t) * 1e3, 0.0]
print(json.dumps(out))
"""


def _run(src: Path, mode: str, repeat: int) -> dict[str, list[float]]:
    env = {**os.environ, "PYTHONPATH": str(src)}
    paths = [str(SAMPLES / f) for f in FILES]
    res = subprocess.run(
        [sys.executable, "-c", _CHILD, mode, str(repeat), *paths],
        capture_output=True,
        text=True,
        check=True,
        env=env,
    )
    result: dict[str, list[float]] = json.loads(res.stdout)
    return result


def main() -> int:
    """Run every configuration, print the table, optionally write it."""
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--repeat", type=int, default=50)
    ap.add_argument("--before", help="a commit to compare with (checked out in a temporary worktree)")
    ap.add_argument("--write", action="store_true")
    args = ap.parse_args()

    configs: list[tuple[str, Path]] = [("this checkout", ROOT / "src")]
    tmp = None
    if args.before:
        tmp = tempfile.mkdtemp(prefix="irpatrol-before-")
        archive = subprocess.run(
            ["git", "-C", str(ROOT), "archive", args.before, "src"], capture_output=True, check=True
        ).stdout
        subprocess.run(["tar", "-x", "-C", tmp], input=archive, check=True)
        configs.insert(0, (f"before ({args.before})", Path(tmp) / "src"))
    try:
        results = {
            (label, mode): _run(src, mode, args.repeat)
            for label, src in configs
            for mode in ("default", "tuned")
        }
    finally:
        if tmp is not None:
            shutil.rmtree(tmp)

    rows = []
    for label, _ in configs:
        d, t = results[(label, "default")], results[(label, "tuned")]
        for f in FILES:
            ratio = d[f][0] / t[f][0]
            target = "≤1.5× tuned" if f == "dji_zenmuse_xtr.jpg" else "—"
            if f == "flir_t640_fuses.jpg":
                lib = d["libpng"][0]
                target = f"≤1.5× libpng ({lib:.2f} ms): {d[f][0] / lib:.2f}×"
            met = "—"
            if f == "dji_zenmuse_xtr.jpg":
                met = "✓" if ratio <= MAX_RATIO else "✗"
            elif f == "flir_t640_fuses.jpg":
                met = "✓" if d[f][0] / d["libpng"][0] <= MAX_RATIO else "✗"
            rows.append(
                f"| {label} | `{f}` | {d[f][0]:.2f} | {d[f][1]:.0f} | {t[f][0]:.2f} | {t[f][1]:.0f} | "
                f"{ratio:.2f}× | {target} | {met} |"
            )
    cmd = "benchmarks/bench_library.py --repeat {} {}--write".format(
        args.repeat, f"--before {args.before} " if args.before else ""
    )
    text = "\n".join(
        [
            MARK_BEGIN,
            f"Command: `.venv/bin/python {cmd}`",
            "",
            "In-process `open_thermal(path).first_frame().thermogram()`, each configuration in a fresh "
            f"interpreter: 3 warm-up calls, then the median of {args.repeat}; faults = minor page faults "
            "per call. *default*: glibc as it comes (a library user's process); *tuned*: "
            "`irpatrol.cli.allocator.keep_freed_memory()` first (what the CLI does).",
            "",
            "| code | file | default ms | faults | tuned ms | faults | default / tuned | target | met |",
            "|---|---|---:|---:|---:|---:|---:|---|---|",
            *rows,
            MARK_END,
        ]
    )
    print(text)
    if args.write:
        doc = ROOT / "BENCHMARKS.md"
        body = doc.read_text(encoding="utf-8")
        if MARK_BEGIN in body:
            head, rest = body.split(MARK_BEGIN, 1)
            body = head + text + rest.split(MARK_END, 1)[1]
        else:
            body = body.rstrip("\n") + "\n\n## The library path at the floor (issue 10)\n\n" + text + "\n"
        doc.write_text(body, encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
