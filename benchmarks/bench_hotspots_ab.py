"""A/B timing of the hot-spot detector inside analyze_frame: an older revision against the tree.

Run:  taskset -c 0 .venv/bin/python benchmarks/bench_hotspots_ab.py --before 97756cd [--rounds 200]

The older ``src/irpatrol/diagnosis/hotspots.py`` is taken from git (``git show REV:path``) and
loaded beside the current one; ``analyze_frame`` runs the bench_analysis.py job (Zenmuse XT R
640x512, three phase regions, an ambient region, DL/T 664-2016 grading) with one detector and
then the other, interleaved round by round, so both see the same machine load.  Prints both
medians and minima and the ratios after/before: on a shared machine the ratio and the minimum
(the run least disturbed by other jobs) are the figures to trust.
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import irpatrol.diagnosis.analysis as analysis  # noqa: E402
from irpatrol.diagnosis.hotspots import find_hotspots  # noqa: E402
from irpatrol.diagnosis.points import InspectionPoint  # noqa: E402
from irpatrol.diagnosis.rulepack import load_rule_pack  # noqa: E402
from irpatrol.formats import open_thermal  # noqa: E402
from irpatrol.thermal.measure import Box, Ellipse, Polygon  # noqa: E402

REPO = Path(__file__).resolve().parents[1]
SAMPLE = REPO.parent / "shared" / "samples" / "thermal" / "dji_zenmuse_xtr.jpg"


def _load_old(rev: str) -> Callable[..., Any]:
    """``find_hotspots`` of revision ``rev``, called with the current keyword set."""
    src = subprocess.run(
        ["git", "-C", str(REPO), "show", f"{rev}:src/irpatrol/diagnosis/hotspots.py"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    path = Path(tempfile.mkdtemp()) / "old_hotspots.py"
    path.write_text(src, encoding="utf-8")
    spec = importlib.util.spec_from_file_location("old_hotspots", path)
    assert spec is not None
    assert spec.loader is not None
    mod = importlib.util.module_from_spec(spec)
    sys.modules["old_hotspots"] = mod
    spec.loader.exec_module(mod)
    old: Callable[..., Any] = mod.find_hotspots

    def call(t: Any, *, valid: Any = None, ambient_c: Any = None, **kw: Any) -> Any:
        return old(t, valid=valid, **kw)  # the old detector has no ambient_c

    return call


def main(argv: list[str] | None = None) -> int:
    """Time both detectors, interleaved, and print medians and the ratio."""
    ap = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    ap.add_argument("--before", required=True, help="git revision of the older detector")
    ap.add_argument("--rounds", type=int, default=200)
    args = ap.parse_args(argv)
    if not SAMPLE.exists():
        print(f"sample {SAMPLE} is absent", file=sys.stderr)
        return 2
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})
    old = _load_old(args.before)
    tg = open_thermal(SAMPLE).first_frame().thermogram()
    point = InspectionPoint(
        id="bench",
        device="bench",
        part="connector",
        heating_type="current",
        phases=(
            ("A", Box(left=410, top=165, right=440, bottom=205)),
            ("B", Polygon(vertices=((440.0, 165.0), (478.0, 165.0), (478.0, 205.0), (440.0, 205.0)))),
            ("C", Ellipse(cx=510, cy=190, rx=20, ry=25)),
        ),
        ambient=Box(left=20, top=400, right=120, bottom=480),
    )
    pack = load_rule_pack("dlt664-2016")

    def run(detector: Callable[..., Any]) -> float:
        analysis.find_hotspots = detector  # type: ignore[assignment]
        t0 = time.perf_counter()
        analysis.analyze_frame(tg, points=[point], pack=pack)
        return (time.perf_counter() - t0) * 1000.0

    for _ in range(10):
        run(old)
        run(find_hotspots)
    before: list[float] = []
    after: list[float] = []
    for _ in range(args.rounds):
        before.append(run(old))
        after.append(run(find_hotspots))
    analysis.find_hotspots = find_hotspots
    mb, ma = statistics.median(before), statistics.median(after)
    nb, na = min(before), min(after)
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    print(
        f"analyze_frame 640x512, 1 core, {args.rounds} interleaved rounds, load average {load:.2f}: "
        f"before ({args.before}) median {mb:.2f} ms, after median {ma:.2f} ms, ratio {ma / mb:.2f}; "
        f"min {nb:.2f} -> {na:.2f} ms, ratio {na / nb:.2f}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
