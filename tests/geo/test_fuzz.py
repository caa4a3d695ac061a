"""Fuzzing the NMEA input: random bytes, mutated real lines, truncation, binary noise between lines.

The reader must never raise on content (every rejected span is counted), must
resynchronise at the next sentence, and must not lose a sentence because noise
came before it.  The whole chain (reader → assembler → track → summary) may raise
only the documented :class:`~irpatrol.errors.GnssError` (a stream with no valid
sentence).  Checksum-valid sentences with random fields reach pynmeagps and the
assembler, which the checksum would otherwise keep away from random input.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import functools
import itertools
import re
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from irpatrol.errors import GnssError
from irpatrol.geo import EpochAssembler, GnssTrack, NmeaReader
from irpatrol.geo.nmea import with_checksum
from irpatrol.geo.summary import summarize

DATA = Path(__file__).resolve().parents[1] / "data" / "nmea"
GGA = b"$GNGGA,115739.00,4002.1039,N,11618.3526,E,4,13,0.7,69.0,M,-8.0,M,1.0,0000*7F"

_BUDGET = settings(
    max_examples=300,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


@functools.cache
def real_logs() -> tuple[bytes, ...]:
    return tuple(p.read_bytes() for p in sorted(DATA.glob("*.log")))


@functools.cache
def real_lines() -> tuple[bytes, ...]:
    return tuple(line for data in real_logs() for line in data.splitlines(keepends=True) if line.strip())


def run(data: bytes, cuts: list[int]) -> tuple[list[bytes], NmeaReader]:
    """Feed ``data`` cut at ``cuts`` (positions), returning the sentences' raw bytes and the reader."""
    reader = NmeaReader()
    bounds = sorted({0, len(data), *(c % (len(data) + 1) for c in cuts)})
    chunks = [data[a:b] for a, b in itertools.pairwise(bounds)]
    out = [s.raw for s in reader.read(chunks)]
    assert reader.stats.messages == len(out)
    assert all(v >= 0 for v in reader.stats.skipped.values())
    return out, reader


def chain(data: bytes) -> None:
    """Reader → assembler → track → summary: only GnssError may escape."""
    asm = EpochAssembler(date=dt.date(2026, 1, 1))
    track = GnssTrack()
    for sentence in NmeaReader().read([data]):
        track.extend(asm.push(sentence))
    track.extend(asm.flush())
    for e in track.epochs:
        assert e.time is not None
        track.position_at(e.time + dt.timedelta(seconds=0.3))
    with contextlib.suppress(GnssError):
        summarize([data], source="<fuzz>").to_dict()


cuts = st.lists(st.integers(0, 1 << 16), max_size=8)


@pytest.mark.slow
@_BUDGET
@given(st.binary(max_size=3000), cuts)
def test_random_bytes(data: bytes, positions: list[int]) -> None:
    run(data, positions)
    chain(data)


@st.composite
def mutated_line(draw: st.DrawFn) -> bytes:
    line = bytearray(draw(st.sampled_from(real_lines())))
    for _ in range(draw(st.integers(1, 4))):
        op = draw(st.sampled_from(["flip", "insert", "delete", "truncate"]))
        pos = draw(st.integers(0, max(0, len(line) - 1)))
        if op == "flip" and line:
            line[pos] ^= 1 << draw(st.integers(0, 7))
        elif op == "insert":
            line[pos:pos] = draw(st.binary(min_size=1, max_size=8))
        elif op == "delete" and line:
            del line[pos : pos + draw(st.integers(1, 8))]
        else:
            del line[pos:]
    return bytes(line)


@pytest.mark.slow
@_BUDGET
@given(st.lists(mutated_line(), min_size=1, max_size=6), cuts)
def test_mutated_real_lines_then_resync(lines: list[bytes], positions: list[int]) -> None:
    """Whatever the damage, a good sentence on the next line is read."""
    data = b"".join(lines) + b"\r\n" + GGA + b"\r\n"
    out, _ = run(data, positions)
    assert out[-1] == GGA
    chain(data)


def _hides_next_line(noise: bytes) -> bool:
    """Noise whose last line would turn the next sentence's line into a printable comment/gpsd line."""
    tail = noise.rsplit(b"\n", 1)[-1].lstrip(b" \t\r")
    return tail[:1] in (b"#", b"{") and re.search(rb"[^\t\x20-\x7e]", tail) is None


noise_st = st.binary(min_size=1, max_size=200).filter(lambda n: not _hides_next_line(n))


@pytest.mark.slow
@_BUDGET
@given(st.sampled_from(range(8)), st.lists(st.tuples(st.integers(0, 1 << 16), noise_st), max_size=10), cuts)
def test_binary_noise_before_lines_loses_nothing(
    which: int, inserts: list[tuple[int, bytes]], positions: list[int]
) -> None:
    """UBX/RTCM-like bytes glued in front of lines of a real log: every sentence is still read."""
    logs = real_logs()
    lines = logs[which % len(logs)].splitlines(keepends=True)
    clean, _ = run(b"".join(lines), [])
    for pos, noise in inserts:
        i = pos % (len(lines) + 1)
        lines[i:i] = [noise]  # before line i: glued to its start (or to the end of the stream)
    noisy = b"".join(lines)
    # noise glued after a line that had no line ending (the stream's last) can damage that line
    if not logs[which % len(logs)].endswith(b"\n"):
        return
    got, _ = run(noisy, positions)
    assert got == clean


@pytest.mark.slow
@_BUDGET
@given(st.sampled_from(range(8)), st.integers(0, 1 << 16))
def test_truncation_keeps_a_prefix(which: int, cut: int) -> None:
    logs = real_logs()
    data = logs[which % len(logs)]
    full, _ = run(data, [])
    part, _ = run(data[: cut % (len(data) + 1)], [])
    assert part == full[: len(part)]


_TYPES = [
    "GNGGA",
    "GPGGA",
    "BDGGA",
    "GNRMC",
    "GNGNS",
    "GNGST",
    "GNZDA",
    "GNHDT",
    "GNTHS",
    "GNGLL",
    "GNHPR",
    "GNGGAH",
]
_FIELD = st.text(alphabet="0123456789.,-+NSEWAVDFRT ", max_size=20)


@pytest.mark.slow
@_BUDGET
@given(st.lists(st.tuples(st.sampled_from(_TYPES), st.lists(_FIELD, max_size=16)), min_size=1, max_size=20))
def test_checksum_valid_garbage_fields(sentences: list[tuple[str, list[str]]]) -> None:
    data = b"".join(with_checksum(",".join([kind, *fields])).encode() + b"\r\n" for kind, fields in sentences)
    chain(data)


@pytest.mark.parametrize("data", [b"", b"\n\n\r\n", b"#only a comment\n", b"\xb5b" * 100])
def test_nothing_valid_is_a_gnss_error(data: bytes) -> None:
    with pytest.raises(GnssError, match="no valid NMEA 0183 sentence"):
        summarize([data], source="<test>")
