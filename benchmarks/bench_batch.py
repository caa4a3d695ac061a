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


def _startup() -> float:
    """Seconds for ``irpatrol --version``: interpreter start and the CLI's imports."""
    t0 = time.perf_counter()
    subprocess.run([*_irpatrol(), "--version"], check=True, capture_output=True)
    return time.perf_counter() - t0


def _tree_rss_kib(pid: int) -> int:
    """Resident set (KiB) of a process and all its descendants, from /proc (0 if gone)."""
    total = 0
    todo = [pid]
    while todo:
        p = todo.pop()
        try:
            for line in Path(f"/proc/{p}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1])
            for task in Path(f"/proc/{p}/task").iterdir():
                todo += [int(c) for c in (task / "children").read_text().split()]
        except (OSError, ValueError):
            continue
    return total


def run_once(src: Path, out: Path, workers: int, *, sample: bool = False) -> tuple[float, int, int]:
    """Wall time (s), peak RSS of one process and peak summed RSS of the tree (KiB).

    The tree is sampled (every 10 ms) only when ``sample``: sampling takes CPU from the
    run, so timed runs do not sample.
    """
    shutil.rmtree(out, ignore_errors=True)
    cmd = [*_irpatrol(), "temps", str(src), "-o", str(out), "--workers", str(workers)]
    t0 = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    tree_peak = 0
    if sample:
        while True:
            pid, _, ru = os.wait4(proc.pid, os.WNOHANG)
            if pid:
                break
            tree_peak = max(tree_peak, _tree_rss_kib(proc.pid))
            time.sleep(0.01)
    else:
        _, _, ru = os.wait4(proc.pid, 0)
    dt = time.perf_counter() - t0
    err = proc.stderr.read().decode() if proc.stderr else ""
    proc.wait()
    if proc.returncode not in (0, None):
        raise SystemExit(f"bench_batch: {' '.join(cmd)} failed ({proc.returncode}): {err[-500:]}")
    return dt, ru.ru_maxrss, tree_peak


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--samples", type=Path, default=DEFAULT_SAMPLES)
    ap.add_argument("--copies", type=int, default=100, help="copies of each sample in the folder")
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
        startup = min(_startup() for _ in range(3))
        rows = []
        for w in (int(x) for x in args.workers.split(",")):
            runs = [run_once(src, Path(tmp) / "out", w) for _ in range(args.repeat)]
            runs.append((float("inf"), *run_once(src, Path(tmp) / "out", w, sample=True)[1:]))
            best = min(r[0] for r in runs)
            peak = max(r[1] for r in runs)
            tree = max(r[2] for r in runs)
            rows.append((w, best, n / best, n / max(best - startup, 1e-9), peak / 1024, tree / 1024))
    # the ru_maxrss above is per waited child: report the whole-run maximum too
    children = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    lines = [
        f"Command: `{command.strip()}`",
        "",
        f"`irpatrol temps DIR -o OUTDIR --workers N` (default output: one float32 `.npy` per image) on a "
        f"folder of {n} files ({args.copies} copies of each of {len(FILES)} FLIR samples: "
        f"{', '.join(FILES)}); wall time of the whole command including interpreter start-up, "
        f"best of {args.repeat}. Peak memory: the largest resident set of any one process of the run "
        "(`ru_maxrss` from `wait4`), and the peak of the summed RSS of the CLI and its workers "
        "(`/proc` sampled every 10 ms; shared pages of forked workers count once per process).",
        "",
        f"`irpatrol --version` alone takes {startup:.2f} s (interpreter and imports); the "
        '"without start-up" column takes it off the wall time.',
        "",
        "| workers | wall s | images/s | images/s without start-up | peak RSS, one process MiB "
        "| peak RSS, all processes MiB |",
        "|---:|---:|---:|---:|---:|---:|",
    ]
    lines += [
        f"| {w} | {t:.2f} | {ips:.0f} | {ips2:.0f} | {mem:.0f} | {tree:.0f} |"
        for w, t, ips, ips2, mem, tree in rows
    ]
    if len(rows) >= 2:
        lines += ["", f"Speed-up {rows[-1][0]} workers over {rows[0][0]}: {rows[0][1] / rows[-1][1]:.2f}×."]
    lines += [
        "",
        f"Machine: nproc {os.cpu_count()}; largest child RSS over the run {children:.0f} MiB; "
        f"Python {sys.version.split()[0]}; glibc malloc tuning: "
        + (" ".join(f"{k}={v}" for k, v in os.environ.items() if k.startswith("MALLOC_")) or "none")
        + ".",
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
