"""Benchmark: sustained frames/s through read → analyse → outbox, one core, 640×512 radiometric frames.

Run:  taskset -c 0 .venv/bin/python benchmarks/bench_edge.py [--frames 300] [--rate 30]
Target: ≥ 30 frames/s sustained.  Prints the figures and markdown table rows.

The frames are real: the FFF block inside ``src/irpatrol/demo/dji_zenmuse_xtr.jpg`` (DJI
Zenmuse XT R, a FLIR core: 640×512 raw counts, bare uint16, with its Planck and atmosphere
constants; CC0, provenance in the demo README) is taken out of its JPEG APP1 segments.
Each benchmark frame ``k`` is that block with its raw counts shifted ``k`` columns (``np.roll``,
as a camera panning slowly would see it), so every frame has its own bytes, SHA-256 and keys;
nothing else in the block changes.  The frames are written back to back into one SEQ file
(a SEQ *is* FFF blocks back to back), and the agent replays that file from disk through
:class:`irpatrol.edge.sources.ReplaySource`, which splits it into standalone FFF frames.

Per frame the agent hashes it, matches it (no points: automatic mode, hot spots), runs the
shared pipeline (read → raw counts → °C with the full radiometric model → hot spots →
DL/T 664-2016 grading), and commits a ``result`` item and, with images on, a ``file``
item holding the frame (655 KiB, fsynced before its row; SQLite WAL ``synchronous=FULL``),
in a real outbox on the machine's disk.

Two kinds of run: *unpaced* (the replay as fast as the agent takes frames: the sustained
maximum) and *paced* at ``--rate`` (a live camera; the figure is how far behind schedule the
last frame was committed: bounded lag means the agent keeps up).
"""

from __future__ import annotations

import os

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import argparse  # noqa: E402
import logging  # noqa: E402
import statistics  # noqa: E402
import sys  # noqa: E402
import tempfile  # noqa: E402
import threading  # noqa: E402
import time  # noqa: E402
from collections.abc import Iterator  # noqa: E402
from pathlib import Path  # noqa: E402
from typing import Any  # noqa: E402

import numpy as np  # noqa: E402

import irpatrol.edge.agent as agent_module  # noqa: E402
from irpatrol.diagnosis.rulepack import load_rule_pack  # noqa: E402
from irpatrol.edge.agent import Agent  # noqa: E402
from irpatrol.edge.config import EdgeConfig  # noqa: E402
from irpatrol.edge.matching import PointMatcher  # noqa: E402
from irpatrol.edge.outbox import Outbox  # noqa: E402
from irpatrol.edge.sources import Capture, ReplaySource  # noqa: E402
from irpatrol.formats import fff  # noqa: E402
from irpatrol.formats.flir import assemble_fff, flir_chunks  # noqa: E402
from irpatrol.formats.jpeg import walk_jpeg  # noqa: E402
from irpatrol.pipeline import inspect_image  # noqa: E402

REPO = Path(__file__).resolve().parents[1]
XTR = REPO / "src" / "irpatrol" / "demo" / "dji_zenmuse_xtr.jpg"
TARGET_FPS = 30.0


def xtr_block() -> tuple[bytes, int, int, int]:
    """The XT R's FFF block, and the offset, width and height of its raw counts."""
    data = XTR.read_bytes()
    block = assemble_fff(flir_chunks(walk_jpeg(data, path=str(XTR))), path=str(XTR))
    parsed = fff.parse_block(block, 0, path=str(XTR))
    raw = parsed.find(fff.REC_RAW)
    assert raw is not None
    enc, width, height = fff.raw_encoding(block[raw.offset :], raw, path=str(XTR))
    assert enc == "uint16-le", enc
    return block, raw.offset + 32, width, height


def write_seq(path: Path, frames: int) -> tuple[int, int]:
    """Write ``frames`` panned copies of the XT R block into a SEQ file; answers (width, height)."""
    block, pix, width, height = xtr_block()
    counts = np.frombuffer(block, dtype="<u2", count=width * height, offset=pix).reshape(height, width)
    head, tail = block[:pix], block[pix + width * height * 2 :]
    with path.open("wb") as f:
        for k in range(frames):
            f.write(head)
            f.write(np.roll(counts, k, axis=1).astype("<u2").tobytes())
            f.write(tail)
    return width, height


class Timed:
    """Accumulates wall time spent in a wrapped function (per call list)."""

    def __init__(self, fn: Any) -> None:
        self.fn = fn
        self.times: list[float] = []

    def __call__(self, *a: Any, **kw: Any) -> Any:
        t = time.perf_counter()
        try:
            return self.fn(*a, **kw)
        finally:
            self.times.append(time.perf_counter() - t)


def run(seq: Path, *, frames: int, rate: float | None, images: bool, workdir: Path) -> dict[str, Any]:
    """One run; answers its figures."""
    box_dir = workdir / f"box-{'img' if images else 'noimg'}-{rate or 0}"
    cfg = EdgeConfig(
        robot_id="bench",
        outbox_dir=box_dir,
        send_images=images,
        telemetry_interval_s=3600,
        outbox_budget_mb=4096,
    )
    analysis = Timed(inspect_image)
    agent_module.inspect_image = analysis  # type: ignore[assignment]
    committed_at: list[float] = []
    try:
        with Outbox(
            box_dir, byte_budget=cfg.outbox_budget_bytes, reserve_bytes=cfg.outbox_reserve_bytes
        ) as box:
            put = Timed(box.put)
            box.put = put  # type: ignore[method-assign]
            agent = Agent(
                cfg, outbox=box, matcher=PointMatcher([], radius_m=5), pack=load_rule_pack("dlt664-2016")
            )
            source = ReplaySource(seq, rate_hz=rate or 1e6, limit=frames)
            yielded: list[float] = []
            inner = source.captures

            def captures(stop: threading.Event) -> Iterator[Capture]:
                for c in inner(stop):
                    yielded.append(time.perf_counter())
                    yield c

            source.captures = captures  # type: ignore[method-assign]
            agent.on_committed = lambda key: (
                committed_at.append(time.perf_counter()) if ":result:" in key else None
            )
            cpu0, t0 = time.process_time(), time.perf_counter()
            agent.run(source, threading.Event())
            wall, cpu = time.perf_counter() - t0, time.process_time() - cpu0
            counts = box.counts()
    finally:
        agent_module.inspect_image = analysis.fn
    assert agent.stats.analysed == frames, agent.stats
    per_frame = [c - y for c, y in zip(committed_at, yielded, strict=False)]
    lag = (yielded[-1] - yielded[0]) - (frames - 1) / rate if rate else None
    return {
        "frames": frames,
        "rate": rate,
        "images": images,
        "wall_s": wall,
        "fps": frames / wall,
        "cpu_s": cpu,
        "fps_per_cpu_s": frames / cpu,
        "analysis_ms": 1000 * statistics.median(analysis.times),
        "put_ms": 1000 * statistics.median(put.times),
        "puts_per_frame": len(put.times) / frames,
        "latency_p50_ms": 1000 * statistics.median(per_frame),
        "latency_p95_ms": 1000 * sorted(per_frame)[int(0.95 * (len(per_frame) - 1))],
        "lag_s": lag,
        "pending": counts["pending"],
    }


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    ap.add_argument("--frames", type=int, default=300, help="frames per run (default 300)")
    ap.add_argument("--rate", type=float, default=30.0, help="rate of the paced runs, frames/s (default 30)")
    ap.add_argument(
        "--workdir", type=Path, default=None, help="where the SEQ and outboxes go (default /var/tmp)"
    )
    args = ap.parse_args()
    logging.basicConfig(level=logging.WARNING)
    cores = os.sched_getaffinity(0) if hasattr(os, "sched_getaffinity") else {0}
    if len(cores) != 1:
        print(f"note: {len(cores)} cores allowed; pinning to core {min(cores)} (or run under taskset -c 0)")
        os.sched_setaffinity(0, {min(cores)})
    base = args.workdir or Path("/var/tmp")
    with tempfile.TemporaryDirectory(prefix="bench-edge-", dir=base) as tmp:
        work = Path(tmp)
        seq = work / "xtr-640x512.seq"
        width, height = write_seq(seq, args.frames)
        size_mb = seq.stat().st_size / 1e6
        print(
            f"{args.frames} frames {width}x{height} in {seq} ({size_mb:.0f} MB), on {os.sched_getaffinity(0)}"
        )
        rows = []
        for rate, images in ((None, True), (None, False), (args.rate, True)):
            r = run(seq, frames=args.frames, rate=rate, images=images, workdir=work)
            rows.append(r)
            lag = f", last frame {r['lag_s'] * 1000:.0f} ms behind schedule" if r["lag_s"] is not None else ""
            print(
                f"{f'paced {rate:g}/s' if rate else 'unpaced':>12} images={'on ' if images else 'off'}: "
                f"{r['fps']:.1f} frames/s ({r['cpu_s'] / r['wall_s'] * 100:.0f} % CPU, "
                f"{r['fps_per_cpu_s']:.1f} frames per CPU second), analysis "
                f"{r['analysis_ms']:.1f} ms, put {r['put_ms']:.2f} ms x {r['puts_per_frame']:.1f}, "
                f"capture→committed p50 {r['latency_p50_ms']:.1f} ms p95 {r['latency_p95_ms']:.1f} ms{lag}"
            )
        print()
        print(
            "| run | images | frames/s | frames/CPU-s | analysis ms p50 | capture → committed p50 / p95 ms |"
        )
        print("|---|---|---|---|---|---|")
        for r in rows:
            name = f"paced at {r['rate']:g}/s" if r["rate"] else "unpaced (sustained maximum)"
            print(
                f"| {name} | {'result + 655 KiB file' if r['images'] else 'result only'} | {r['fps']:.1f} | "
                f"{r['fps_per_cpu_s']:.1f} | {r['analysis_ms']:.1f} | "
                f"{r['latency_p50_ms']:.0f} / {r['latency_p95_ms']:.0f} |"
            )
    unpaced = rows[0]["fps"]
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    print(f"\nsustained with images: {unpaced:.1f} frames/s (target {TARGET_FPS:g}); load average {load:.2f}")
    return 0 if unpaced >= TARGET_FPS else 1


if __name__ == "__main__":
    sys.exit(main())
