"""Diagnostics for bench_recall.py: record every trial's spot list, print the misses.

Run:  .venv/bin/python benchmarks/recall_probe.py record --seed 13 --out /tmp/probe/s13.pkl
      .venv/bin/python benchmarks/recall_probe.py misses /tmp/probe/s13.pkl [--min-amp 10]

The trials are the same as bench_recall.py's (same RNG order, same injection, same rank
rule); ``record`` stores each trial's parameters and the reported spots, so rankings can be
studied offline without running the detector again.
"""

from __future__ import annotations

import argparse
import pickle
import sys
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_recall import MAX_SPOTS, load_frames, one_trial
from irpatrol.diagnosis.hotspots import find_hotspots


def record(seed: int, trials: int, dji_refs: bool, out: Path) -> None:
    """Run the trials of bench_recall.py and pickle them (parameters, spots, clean spots)."""
    frames, _ = load_frames(dji_refs=dji_refs)
    sets: dict[str, list[Any]] = {"own": [], "refs": []}
    for group in ("own", "refs"):
        rng = np.random.RandomState(seed)
        for fr in frames:
            if ("(ref" in fr.label) != (group == "refs"):
                continue
            res = find_hotspots(fr.celsius, valid=fr.valid, max_spots=MAX_SPOTS)
            clean = [s.to_dict() for s in res.spots]
            for _ in range(trials):
                tr = one_trial(fr, res.spots, rng)
                sets[group].append(
                    {
                        "frame": fr.label,
                        "cy": tr.cy,
                        "cx": tr.cx,
                        "amp": tr.amp,
                        "sigma": tr.sigma,
                        "rank": tr.rank,
                        "spots": [s.to_dict() for s in tr.spots],
                        "clean": clean,
                        "stronger": tr.stronger,
                    }
                )
    out.write_bytes(pickle.dumps(sets))


def misses(path: Path, min_amp: float, group: str) -> None:
    """Print the trials not in the top 3 with amplitude >= ``min_amp`` K."""
    sets = pickle.loads(path.read_bytes())
    for tr in sets[group]:
        if tr["amp"] < min_amp or (tr["rank"] is not None and tr["rank"] <= 3):
            continue
        print(
            f"{tr['frame']} y={tr['cy']} x={tr['cx']} A={tr['amp']:.1f} s={tr['sigma']:.1f} rank={tr['rank']}"
        )
        r2 = (2 * tr["sigma"] + 1) ** 2
        for s in tr["spots"]:
            d2 = (s["x"] - tr["cx"]) ** 2 + (s["y"] - tr["cy"]) ** 2
            strong = any((s["x"] - a) ** 2 + (s["y"] - b) ** 2 <= 25 for a, b in tr["stronger"])
            if strong and d2 > r2:
                continue
            mark = "*DEF*" if d2 <= r2 else ""
            print(
                f"   ({s['x']:4d},{s['y']:4d}) key={s.get('contrast_k') or 0:6.2f} "
                f"loc={s['local_excess_k']:6.2f} exc={s['excess_k']:6.2f} "
                f"peak={s['peak_c']:6.2f} area={s['area_px']:5d} d={d2**0.5:6.1f} {mark}"
            )
            if mark:
                break


def main(argv: list[str] | None = None) -> int:
    """Command line."""
    ap = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    sub = ap.add_subparsers(dest="cmd", required=True)
    r = sub.add_parser("record")
    r.add_argument("--seed", type=int, default=13)
    r.add_argument("--trials", type=int, default=200)
    r.add_argument("--dji-refs", action="store_true")
    r.add_argument("--out", type=Path, required=True)
    m = sub.add_parser("misses")
    m.add_argument("path", type=Path)
    m.add_argument("--min-amp", type=float, default=10.0)
    m.add_argument("--group", default="own")
    args = ap.parse_args(argv)
    if args.cmd == "record":
        record(args.seed, args.trials, args.dji_refs, args.out)
    else:
        misses(args.path, args.min_amp, args.group)
    return 0


if __name__ == "__main__":
    sys.exit(main())
