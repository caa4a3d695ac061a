"""Peak memory and frames/s of ``irpatrol temps --all-frames`` over a long generated SEQ.

Run as ``python -m tests.cli.sequence_probe --frames 5000`` (from the repository root);
the test in ``test_sequence_memory.py`` uses the same functions.  The sequence repeats
one small frame: a 64x48 crop of the SC660 sample's first frame with its real CameraInfo
(a synthetic frame when the shared samples are absent).  Each measurement runs in a
fresh interpreter; the mmap threshold is lowered to 1 MB so that the small file is read
the way a long recording (larger than the 32 MB threshold) is.  Peak memory is the
interpreter's high-water RSS (``VmHWM``; ``ru_maxrss`` where there is no ``/proc``) and,
with ``trace``, the peak of tracemalloc (Python and NumPy allocations).
"""

from __future__ import annotations

import argparse
import json
import struct
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

import numpy as np

from tests.formats.fff_builder import camera_info, fff_block, raw_record

ROOT = Path(__file__).resolve().parents[2]
SAMPLE = ROOT.parent / "shared" / "samples" / "thermal" / "flir_sc660_sample.seq"
WIDTH, HEIGHT = 64, 48

_MEASURE = """
import json, resource, sys, time, tracemalloc
import irpatrol.formats.registry as registry
registry.MMAP_THRESHOLD = 1 << 20
from irpatrol.cli import cli
from irpatrol.cli.allocator import keep_freed_memory
keep_freed_memory()
seq, out, trace, command = sys.argv[1], sys.argv[2], sys.argv[3] == "1", sys.argv[4]
stdout = sys.stdout
if command == "analyze":  # the JSON document goes to OUT
    args = ["analyze", seq, "--all-frames", "--json"]
    sys.stdout = open(out, "w", encoding="utf-8")
else:
    args = ["temps", seq, "--all-frames", "-o", out]
if trace:
    tracemalloc.start()
start = time.perf_counter()
try:
    cli.main(args, prog_name="irpatrol")
except SystemExit as exc:
    code = exc.code
elapsed = time.perf_counter() - start
if sys.stdout is not stdout:
    sys.stdout.close()
    sys.stdout = stdout
peak = tracemalloc.get_traced_memory()[1] if trace else None
rss_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # Linux keeps the parent's across exec
try:  # the high-water mark of this interpreter alone
    with open("/proc/self/status") as fh:
        rss_kb = next(int(line.split()[1]) for line in fh if line.startswith("VmHWM:"))
except (OSError, StopIteration):
    pass
print(json.dumps({"exit": code, "seconds": elapsed, "maxrss_kb": rss_kb, "traced_peak": peak}))
"""


def one_frame() -> bytes:
    """One FFF block of 64x48: a crop of a real SC660 frame when the sample is present."""
    if SAMPLE.exists():
        from irpatrol.formats import fff, open_thermal

        data = SAMPLE.read_bytes()
        block = fff.parse_block(data, 0, path=str(SAMPLE))
        info = block.find(fff.REC_CAMERA_INFO)
        assert info is not None
        record = bytearray(data[info.offset : info.offset + info.length])
        struct.pack_into("<HHH", record, 0, 2, WIDTH, HEIGHT)  # the SC660 writes little-endian records
        with open_thermal(SAMPLE) as tf:
            raw = tf.first_frame().raw()[200 : 200 + HEIGHT, 300 : 300 + WIDTH]
        return fff_block([(32, 1, bytes(record)), (1, 2, raw_record(raw, subtype=2))], creator=b"FLIR")
    raw = (np.arange(WIDTH * HEIGHT, dtype=np.uint16).reshape(HEIGHT, WIDTH) % 4000) + 14000
    return fff_block([(32, 1, camera_info(WIDTH, HEIGHT)), (1, 2, raw_record(raw, subtype=2))])


def write_sequence(path: Path, frames: int) -> Path:
    """A SEQ of ``frames`` copies of :func:`one_frame`."""
    block = one_frame()
    with path.open("wb") as fh:
        for _ in range(frames):
            fh.write(block)
    return path


def measure(seq: Path, out: Path, *, trace: bool = False, command: str = "temps") -> dict[str, Any]:
    """Run ``irpatrol temps SEQ --all-frames -o OUT`` in a fresh interpreter; its figures.

    With ``command="analyze"``: ``irpatrol analyze SEQ --all-frames --json`` with the JSON
    document written to OUT.
    """
    proc = subprocess.run(
        [sys.executable, "-c", _MEASURE, str(seq), str(out), "1" if trace else "0", command],
        capture_output=True,
        text=True,
        check=True,
        cwd=ROOT,
    )
    result: dict[str, Any] = json.loads(proc.stdout.strip().splitlines()[-1])
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--frames", type=int, default=5000)
    parser.add_argument("--command", choices=("temps", "analyze"), default="temps")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        for n in (10, args.frames):
            seq = write_sequence(Path(tmp) / f"s{n}.seq", n)
            fig = measure(seq, Path(tmp) / f"out{n}", command=args.command)
            traced = measure(seq, Path(tmp) / f"traced{n}", trace=True, command=args.command)
            print(
                f"{args.command}: {n} frames ({seq.stat().st_size / 1e6:.1f} MB): "
                f"max RSS {fig['maxrss_kb'] / 1024:.1f} MiB, "
                f"traced peak {traced['traced_peak'] / 2**20:.2f} MiB, {n / fig['seconds']:.0f} frames/s"
            )


if __name__ == "__main__":
    main()
