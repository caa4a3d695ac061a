"""Folder batch through the CLI: images/s with 1 and 2 workers, and peak memory.

Makes a temporary folder of ``--copies`` copies of each FLIR sample (R-JPEG and SEQ),
then times ``irpatrol temps DIR -o OUTDIR --workers N`` as a subprocess, best of
``--repeat`` runs per worker count.  Peak memory is the largest resident set of any
process of the run (``ru_maxrss`` of the waited-for children: the CLI and, through
it, its worker processes).  ``--write`` puts the table into BENCHMARKS.md.
Run through ``benchmarks/run.sh batch``.  Never run by CI.
"""

from __future__ import annotations

import argparse
import os
import resource
import shlex
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_SAMPLES = ROOT.parent / "shared" / "samples" / "thermal"
FILES = [
    "flir_t640_fuses.jpg",
    "dji_zenmuse_xtr.jpg",
    "flir_e40.jpg",
    "flir_sc660_sample.seq",
    "flir_b60_building.jpg",
    "flir_ax8.jpg",
    "flir_c2_afci_breakers.jpg",
]
MARK_BEGIN = "<!-- bench_batch:begin -->"
MARK_END = "<!-- bench_batch:end -->"


def _irpatrol() -> list[str]:
    exe = Path(sys.executable).with_name("irpatrol")
    return [str(exe)] if exe.exists() else [sys.executable, "-m", "irpatrol.cli"]


def run_once(src: Path, out: Path, workers: int) -> tuple[float, int]:
    """Wall time (s) and peak RSS (KiB) of one CLI batch run into a fresh output folder."""
    shutil.rmtree(out, ignore_errors=True)
    cmd = [*_irpatrol(), "temps", str(src), "-o", str(out), "--workers", str(workers)]
    t0 = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, _, ru = os.wait4(proc.pid, 0)
    dt = time.perf_counter() - t0
    err = proc.stderr.read().decode() if proc.stderr else ""
    proc.wait()
    if proc.returncode not in (0, None):
        raise SystemExit(f"bench_batch: {' '.join(cmd)} failed ({proc.returncode}): {err[-500:]}")
    return dt, ru.ru_maxrss


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--samples", type=Path, default=DEFAULT_SAMPLES)
    ap.add_argument("--copies", type=int, default=30, help="copies of each sample in the folder")
    ap.add_argument("--repeat", type=int, default=3, help="runs per worker count (best is kept)")
    ap.add_argument("--workers", default="1,2", help="worker counts to time, comma-separated")
    ap.add_argument("--write", action="store_true", help="update BENCHMARKS.md")
    args = ap.parse_args(argv)
    command = "benchmarks/run.sh batch " + " ".join(
        shlex.quote(a) for a in (argv if argv is not None else sys.argv[1:])
    )
    with tempfile.TemporaryDirectory(prefix="irpatrol-bench-") as tmp:
        src = Path(tmp) / "in"
        src.mkdir()
        for f in FILES:
            data = (args.samples / f).read_bytes()
            stem, ext = os.path.splitext(f)
            for i in range(args.copies):
                (src / f"{stem}_{i:04d}{ext}").write_bytes(data)
        n = len(FILES) * args.copies
        rows = []
        for w in (int(x) for x in args.workers.split(",")):
            runs = [run_once(src, Path(tmp) / "out", w) for _ in range(args.repeat)]
            best = min(t for t, _ in runs)
            peak = max(m for _, m in runs)
            rows.append((w, best, n / best, peak / 1024))
    # the ru_maxrss above is per waited child: report the whole-run maximum too
    children = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    lines = [
        f"Command: `{command.strip()}`",
        "",
        f"`irpatrol temps DIR -o OUTDIR --workers N` (default output: one float32 `.npy` per image) on a "
        f"folder of {n} files ({args.copies} copies of each of {len(FILES)} FLIR samples: "
        f"{', '.join(FILES)}); wall time of the whole command including interpreter start-up, "
        f"best of {args.repeat}. Peak memory: largest resident set of the CLI process tree "
        "(`ru_maxrss` from `wait4`; for a pool it is the largest single process).",
        "",
        "| workers | wall s | images/s | peak RSS MiB |",
        "|---:|---:|---:|---:|",
    ]
    lines += [f"| {w} | {t:.2f} | {ips:.0f} | {mem:.0f} |" for w, t, ips, mem in rows]
    if len(rows) >= 2:
        lines += ["", f"Speed-up {rows[-1][0]} workers over {rows[0][0]}: {rows[0][1] / rows[-1][1]:.2f}×."]
    lines += [
        "",
        f"Machine: nproc {os.cpu_count()}; largest child RSS over the run {children:.0f} MiB; "
        f"Python {sys.version.split()[0]}.",
    ]
    body = "\n".join(lines) + "\n"
    print(body)
    if args.write:
        sys.path.insert(0, str(Path(__file__).parent))
        from bench_read import write_section

        write_section(ROOT / "BENCHMARKS.md", body, MARK_BEGIN, MARK_END, "Batch: a folder through the CLI")
        print("bench_batch: BENCHMARKS.md updated", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
