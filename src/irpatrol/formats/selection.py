"""Which frames of a sequence to read: by index (``START:STOP:STEP``) or by time (``10s:60s:5s``).

Index selections behave as Python slices over frame indices.  Time selections are in
seconds from the first frame's capture time: frames taken at ``START`` ≤ t < ``STOP``, and
at least ``STEP`` seconds after the previous frame kept (a recording at 30 Hz with
``STEP`` 1 s gives about one frame a second).  Frames are picked while they are read,
so nothing is kept between them.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime

from irpatrol.errors import ParameterError
from irpatrol.formats.base import ThermalFrame

EXPECTED = (
    "START:STOP:STEP frame indices (parts optional, none negative), e.g. 0:100:10, "
    "a single index N, or times in seconds from the first frame, e.g. 10s:60s:5s"
)


@dataclass(frozen=True)
class FrameSelection:
    """A selection of frames; ``by_time`` makes the numbers seconds instead of indices."""

    start: float = 0
    stop: float | None = None
    step: float = 1
    by_time: bool = False

    @classmethod
    def parse(cls, text: str, *, option: str = "--frames") -> FrameSelection:
        """``START:STOP:STEP`` or ``N`` (indices), or the same with an ``s`` on every number (seconds)."""
        parts = [p.strip() for p in text.split(":")]
        if len(parts) > 3 or not any(parts):
            raise ParameterError(option, text, EXPECTED)
        by_time = any(p.endswith("s") for p in parts if p)
        if by_time and not all(p.endswith("s") for p in parts if p):
            raise ParameterError(option, text, EXPECTED + " (seconds on every part)")
        try:
            values = [(float(p[:-1]) if by_time else int(p)) if p else None for p in parts]
        except ValueError:
            raise ParameterError(option, text, EXPECTED) from None
        if any(v is not None and (v < 0 or v != v) for v in values):
            raise ParameterError(option, text, EXPECTED)
        if len(values) == 3 and values[2] is not None and (values[2] == 0 and not by_time):
            raise ParameterError(option, text, EXPECTED)
        if len(values) == 1:
            if by_time:
                raise ParameterError(option, text, EXPECTED + " (a time needs START:STOP)")
            assert values[0] is not None
            return cls(values[0], values[0] + 1, 1, False)
        start, stop, step = [*values, None][:3]
        return cls(start or 0, stop, step if step is not None else (0 if by_time else 1), by_time)

    def __str__(self) -> str:
        unit = "s" if self.by_time else ""
        stop = "" if self.stop is None else f"{self.stop:g}{unit}"
        return f"{self.start:g}{unit}:{stop}:{self.step:g}{unit}"

    def pick(self, frames: Iterable[ThermalFrame]) -> Iterator[ThermalFrame]:
        """The selected frames, read one at a time from ``frames`` (in file order)."""
        if not self.by_time:
            stop = None if self.stop is None else int(self.stop)
            yield from itertools.islice(frames, int(self.start), stop, int(self.step))
            return
        first: datetime | None = None
        last_kept: float | None = None
        for frame in frames:
            taken = frame.info.captured_at
            if taken is None:
                raise ParameterError("--frames", str(self), "frame indices: this file's frames carry no time")
            if first is None:
                first = taken
            t = (taken - first).total_seconds()
            if self.stop is not None and t >= self.stop:
                return
            if t < self.start or (last_kept is not None and t - last_kept < self.step):
                continue
            last_kept = t
            yield frame
