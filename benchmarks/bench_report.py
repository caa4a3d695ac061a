"""One-click report of 100 captures through the CLI, per format: wall time, size, pages, memory.

Makes a temporary folder of ``--copies`` copies of each of the four bundled demo images
(FLIR T640 fuse bank, E40, AX8, Zenmuse XT R: 100 captures by default; the fuse bank's
copies match the demo points file, so each is graded and printed with its details), then
times ``irpatrol report --files DIR --points POINTS -o report.<fmt>`` as a subprocess for
PDF, DOCX and HTML, best of ``--repeat`` runs.  Wall time includes interpreter start-up,
inspecting every image, drawing the figures and printing.  Peak memory is the resident
set of the command (``ru_maxrss`` from ``wait4``).  ``--write`` puts the table into
BENCHMARKS.md; ``--check`` exits 1 when a format takes longer than ``--target`` seconds
(issue 8: 15 s).  Run through ``benchmarks/run.sh report``.  Never run by CI.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DEMO = ROOT / "src" / "irpatrol" / "demo"
POINTS = DEMO / "flir_t640_fuses.points.yaml"
FORMATS = ("pdf", "docx", "html")
MARK_BEGIN = "<!-- bench_report:begin -->"
MARK_END = "<!-- bench_report:end -->"


def _irpatrol() -> list[str]:
    exe = Path(sys.executable).with_name("irpatrol")
    return [str(exe)] if exe.exists() else [sys.executable, "-m", "irpatrol.cli"]


def _run(args: list[str]) -> tuple[float, int, float]:
    """Wall seconds, peak RSS (MiB) and CPU seconds (user + system) of one command."""
    t0 = time.perf_counter()
    proc = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - t0
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode != 0:
        err = proc.stderr.read().decode() if proc.stderr else ""
        raise SystemExit(f"{' '.join(args)} failed ({proc.returncode}): {err}")
    if proc.stderr:
        proc.stderr.close()
    return wall, usage.ru_maxrss // 1024, usage.ru_utime + usage.ru_stime


def _pages(pdf: Path) -> str:
    tool = shutil.which("pdfinfo")
    if tool is None:
        return "-"
    out = subprocess.run([tool, str(pdf)], capture_output=True, text=True, check=True).stdout
    return next((ln.split()[-1] for ln in out.splitlines() if ln.startswith("Pages:")), "-")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--copies", type=int, default=25, help="copies of each of the 4 demo images (25: 100)")
    ap.add_argument("--repeat", type=int, default=3, help="runs per format; the best is kept")
    ap.add_argument("--lang", choices=("zh", "en"), default="zh")
    ap.add_argument("--target", type=float, default=15.0, help="seconds allowed per format (--check)")
    ap.add_argument("--check", action="store_true", help="exit 1 when a format misses --target")
    ap.add_argument("--write", action="store_true", help="write the table into BENCHMARKS.md")
    opts = ap.parse_args()

    load_before = " / ".join(f"{x:.2f}" for x in os.getloadavg())
    images = sorted(DEMO.glob("*.jpg"))
    rows = []
    with tempfile.TemporaryDirectory(prefix="irpatrol-bench-report-") as tmp:
        folder = Path(tmp) / "patrol"
        folder.mkdir()
        for k in range(1, opts.copies + 1):
            for img in images:
                shutil.copy(img, folder / f"{img.stem}_{k:03d}{img.suffix}")
        n = len(list(folder.iterdir()))
        for fmt in FORMATS:
            out = Path(tmp) / f"report.{fmt}"
            cmd = [*_irpatrol(), "report", "--files", str(folder), "--points", str(POINTS), "-o", str(out)]
            cmd += ["--lang", opts.lang]
            runs = [_run(cmd) for _ in range(opts.repeat)]
            best = min(r[0] for r in runs)
            rss = max(r[1] for r in runs)
            cpu = min(r[2] for r in runs)
            size = out.stat().st_size / 1e6
            pages = _pages(out) if fmt == "pdf" else "-"
            rows.append((fmt, best, sorted(r[0] for r in runs)[len(runs) // 2], cpu, size, pages, rss))
            print(
                f"{fmt}: best {best:.2f} s of {opts.repeat}, {size:.1f} MB, pages {pages}, peak RSS {rss} MiB"
            )

    cmd_text = "benchmarks/run.sh report --write"
    table = [
        f"Command: `{cmd_text}`",
        "",
        "`irpatrol report --files DIR --points flir_t640_fuses.points.yaml -o report.<fmt> "
        f"--lang {opts.lang}` "
        f"on a folder of {n} captures ({opts.copies} copies of each of the 4 bundled demo images: "
        f"{', '.join(p.name for p in images)}; the fuse bank's copies are graded with the demo points "
        f"file, {opts.copies} general defects); wall time of the whole command including interpreter "
        f"start-up, inspection of every image, figures and printing, best of {opts.repeat}. "
        "CPU s: user + system time of the command (best run; what the work costs whatever else the "
        "machine is doing). Peak RSS: `ru_maxrss` of the command from `wait4`. "
        f"Load average before the runs: {load_before}.",
        "",
        "| format | wall s (best) | wall s (median) | CPU s | size MB | pages | peak RSS MiB | target s |",
        "|---|---:|---:|---:|---:|---:|---:|---:|",
        *(
            f"| {fmt} | {best:.2f} | {median:.2f} | {cpu:.2f} | {size:.1f} | {pages} | {rss} "
            f"| {opts.target:g} |"
            for fmt, best, median, cpu, size, pages, rss in rows
        ),
        "",
        f"Machine: nproc {os.cpu_count()}; Python {sys.version.split()[0]}.",
    ]
    text = "\n".join(table)
    print()
    print(text)
    if opts.write:
        path = ROOT / "BENCHMARKS.md"
        doc = path.read_text(encoding="utf-8")
        if MARK_BEGIN in doc and MARK_END in doc:
            head, rest = doc.split(MARK_BEGIN, 1)
            _, tail = rest.split(MARK_END, 1)
            doc = f"{head}{MARK_BEGIN}\n{text}\n{MARK_END}{tail}"
        else:
            doc = (
                doc.rstrip("\n")
                + f"\n\n## Reports: 100 captures, one click (issue 8)\n\n{MARK_BEGIN}\n{text}\n{MARK_END}\n"
            )
        path.write_text(doc, encoding="utf-8")
    missed = [r[0] for r in rows if r[1] > opts.target]
    if opts.check and missed:
        print(f"missed the {opts.target:g} s target: {', '.join(missed)}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
