"""Benchmark: full analysis of one 640x512 frame (hot spots + 3 regions + grading), one core.

Run:  OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 .venv/bin/python benchmarks/bench_analysis.py
Target: median <= 10 ms.  Prints the figures and a markdown table row.
"""

from __future__ import annotations

import os

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import statistics  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

from irpatrol.diagnosis.analysis import analyze_frame  # noqa: E402
from irpatrol.diagnosis.points import InspectionPoint  # noqa: E402
from irpatrol.diagnosis.rulepack import load_rule_pack  # noqa: E402
from irpatrol.formats import open_thermal  # noqa: E402
from irpatrol.thermal.measure import Box, Ellipse, Polygon  # noqa: E402

SAMPLE = Path(__file__).resolve().parents[1].parent / "shared" / "samples" / "thermal" / "dji_zenmuse_xtr.jpg"
TARGET_MS = 10.0
ROUNDS = 200


def main() -> int:
    if not SAMPLE.exists():
        print(f"sample {SAMPLE} is absent", file=sys.stderr)
        return 2
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})
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
    for _ in range(10):
        analyze_frame(tg, points=[point], pack=pack)
    times = []
    for _ in range(ROUNDS):
        t0 = time.perf_counter()
        result = analyze_frame(tg, points=[point], pack=pack)
        times.append((time.perf_counter() - t0) * 1000.0)
    med = statistics.median(times)
    p90 = sorted(times)[int(0.9 * len(times))]
    grade = result.assessments[0].finding.grade.name if result.assessments[0].finding else "-"
    shape = tg.celsius.shape
    print(
        f"analyze_frame {shape[1]}x{shape[0]}: median {med:.2f} ms, p90 {p90:.2f} ms over {ROUNDS} runs "
        f"(1 core; {len(result.hotspots.spots)} hot spots, grade {grade}); target <= {TARGET_MS} ms: "
        + ("met" if med <= TARGET_MS else "NOT met")
    )
    print()
    print("| benchmark | frame | median ms | p90 ms | target ms |")
    print("|---|---|---|---|---|")
    print(
        f"| analyze_frame (hot spots + 3 regions + grading) | {shape[1]}x{shape[0]} | {med:.2f} | {p90:.2f} "
        f"| {TARGET_MS:.0f} |"
    )
    return 0 if med <= TARGET_MS else 1


if __name__ == "__main__":
    sys.exit(main())
