"""DJI R-JPEG file → °C per image: irpatrol (dji-thermal-cli back-end) vs dji-thermal-cli directly.

Run with the Python 3.12 venv that has the ``dji`` extra (``bash scripts/test-dji.sh`` makes it)::

    .venv312/bin/python benchmarks/bench_dji.py --repeat 15 --write

Both sides start from the path: irpatrol ``open_thermal(path).first_frame().celsius()``
(file read, JPEG walk, EXIF, native parameters, then the back-end), the peer
``tsdk.open(Path(path).read_bytes()).measure_temperature_c()`` (its own parse and
measurement).  Interleaved call by call in one process after one warm-up each; the median
of ``--repeat`` calls.  Overhead = irpatrol median / peer median − 1; issue 10 asks ≤ 10 %.
``--write`` puts the table into BENCHMARKS.md between the ``bench_dji`` markers.  Never
run by CI.
"""

from __future__ import annotations

import argparse
import platform
import statistics
import sys
import time
from collections.abc import Callable
from importlib import metadata
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
SAMPLES = ROOT.parent / "shared" / "samples" / "thermal"
FILES = ["dji_h20t_rooftop.jpg", "dji_m2ea_substation.jpg", "dji_m30t_640.jpg", "dji_m4t_tower.jpg"]
MAX_OVERHEAD = 0.10
MARK_BEGIN = "<!-- bench_dji:begin -->"
MARK_END = "<!-- bench_dji:end -->"


def _timed(fn: Callable[[], object]) -> float:
    t0 = time.perf_counter()
    fn()
    return (time.perf_counter() - t0) * 1000.0


def main() -> int:
    """Time both, print (and optionally write) the table; exit 1 with ``--check`` when over 10 %."""
    from dji_thermal_cli import tsdk

    from irpatrol.formats import open_thermal
    from irpatrol.formats.dji import _flag_invalid

    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--repeat", type=int, default=15)
    ap.add_argument("--write", action="store_true")
    ap.add_argument("--check", action="store_true")
    args = ap.parse_args()

    rows = []
    worst = 0.0
    for name in FILES:
        path = SAMPLES / name

        def ours(p: Path = path) -> np.ndarray:
            with open_thermal(p) as tf:
                return tf.first_frame().celsius()

        def peer(p: Path = path) -> np.ndarray:
            return np.asarray(tsdk.open(p.read_bytes()).measure_temperature_c())

        ref = np.load(SAMPLES / "refs" / f"{name}.temp_c.npy")
        delta = float(np.nanmax(np.abs(ours() - ref)))
        plugin = open_thermal(path).format_name.rsplit("-", 1)[1]
        peer()
        t_ours, t_peer = [], []
        for i in range(args.repeat):
            first, second = (ours, peer) if i % 2 == 0 else (peer, ours)
            a, b = _timed(first), _timed(second)
            t_ours.append(a if first is ours else b)
            t_peer.append(b if first is ours else a)
        m_ours, m_peer = statistics.median(t_ours), statistics.median(t_peer)
        overhead = statistics.median(o / p for o, p in zip(t_ours, t_peer, strict=True)) - 1.0
        celsius = peer()
        own = statistics.median(
            _timed(lambda p=path, c=celsius: (open_thermal(p).first_frame(), _flag_invalid(c)))
            for _ in range(50)
        )
        worst = max(worst, overhead)
        rows.append(
            f"| `{name}` | {plugin} | {m_ours:.1f} | {m_peer:.1f} | {overhead * 100:+.1f} % | {own:.2f} | "
            f"{delta:.4f} | {'✓' if overhead <= MAX_OVERHEAD else '✗'} |"
        )
    cmd = f".venv312/bin/python benchmarks/bench_dji.py --repeat {args.repeat} --write"
    text = "\n".join(
        [
            MARK_BEGIN,
            f"Command: `{cmd}` (Python {platform.python_version()}, "
            f"dji-thermal-cli {metadata.version('dji-thermal-cli')}, numpy {np.__version__})",
            "",
            "Per image, from the path, in one process after one warm-up each: "
            f"{args.repeat} pairs of calls, alternating which goes first; medians. Overhead = median "
            "of the per-pair ratios − 1 (robust to load drifting on a shared machine); target ≤ "
            f"{MAX_OVERHEAD * 100:.0f} %. *irpatrol's own ms*: what irpatrol adds around the "
            "back-end (file read, JPEG walk, EXIF, native parameters, validity mask), timed alone.",
            "",
            r"| file | plugin | irpatrol ms | dji-thermal-cli ms | overhead | irpatrol's own ms "
            r"| max \|Δ\| vs ref °C | met |",
            "|---|---|---:|---:|---:|---:|---:|---|",
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
            body = (
                body.rstrip("\n")
                + "\n\n## DJI R-JPEG: file → °C through a back-end (issue 10)\n\n"
                + text
                + "\n"
            )
        doc.write_text(body, encoding="utf-8")
    return 1 if args.check and worst > MAX_OVERHEAD else 0


if __name__ == "__main__":
    sys.exit(main())
