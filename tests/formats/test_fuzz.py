"""Fuzzing the readers: mutated real and synthetic files raise only irpatrol errors.

In CI: hypothesis with a fixed, derandomised budget (well under a minute).  For a
longer local hunt, run ``python -m tests.formats.test_fuzz SECONDS``; any input that
raises something other than an :class:`~irpatrol.errors.IrpatrolError` is saved as
``tests/formats/crash/crash-<sha1>.<ext>`` and then replayed by ``test_crash_corpus``.
"""

from __future__ import annotations

import functools
import hashlib
import random
import sys
import tempfile
import time
import traceback
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from irpatrol.errors import FormatError, IrpatrolError
from irpatrol.formats import open_thermal
from tests.formats.synth import (
    CAMERA_INFO_FIELDS,
    SAMPLES,
    fff_from_rjpeg,
    make_csv,
    make_irg,
    make_npy,
    make_tiff,
    mutate,
    patch_camera_info,
    tiny_jpeg,
)

CRASH_DIR = Path(__file__).parent / "crash"

_REAL = ("flir_e40.jpg", "flir_ax8.jpg", "flir_c2_afci_breakers.jpg", "flir_sc660_sample.seq")


def use(data: bytes, name: str) -> None:
    """Open and use a file the way callers do: every step, even after one fails.

    Metadata is gathered lazily (``frame.info``), pixels on demand: each is its own
    path through the parsers.  The first irpatrol error is raised at the end.
    """
    errors: list[IrpatrolError] = []

    def step(action: Callable[[], object]) -> None:
        try:
            action()
        except IrpatrolError as exc:
            errors.append(exc)

    with open_thermal(data, name=name) as tf:
        frame = tf.first_frame()
        if frame.has_raw:
            step(frame.raw)
        step(frame.thermogram)
        step(lambda: frame.info)
        step(frame.visible_image)
        step(tf.frame_count)
    if errors:
        raise errors[0]


def exercise(data: bytes, name: str) -> None:
    """:func:`use` a file; only irpatrol errors may escape, and format errors must name the file."""
    error: IrpatrolError | None = None
    try:
        use(data, name)
    except IrpatrolError as exc:
        error = exc
    if isinstance(error, FormatError):
        assert error.path == name, f"error names {error.path!r}, not {name!r}"


@functools.cache
def synthetic_seeds() -> tuple[tuple[str, bytes], ...]:
    t = np.linspace(-20.0, 120.0, 48).reshape(6, 8)
    return (
        ("s.irg", make_irg(t, visible=tiny_jpeg())),
        ("o.irg", make_irg(t, variant="other", visible=tiny_jpeg())),
        ("f.tif", make_tiff(t.astype(np.float32))),
        ("u.tif", make_tiff((t * 100 + 27315).astype(np.uint16), description="scale=0.01 offset=-273.15")),
        ("m.csv", make_csv(t, header=True)),
        ("m.csv", make_csv(t, delimiter=";", decimal_comma=True)),
        ("m.npy", make_npy(t.astype(np.float32))),
        ("s.npy", make_npy(np.stack([t, t]))),
    )


@functools.cache
def real_seeds() -> tuple[tuple[str, bytes], ...]:
    out: list[tuple[str, bytes]] = []
    for name in _REAL:
        path = SAMPLES / name
        if path.exists():
            data = path.read_bytes()
            out.append((name, data))
            if name.endswith(".jpg"):
                out.append((name.replace(".jpg", ".fff"), fff_from_rjpeg(data)))
    return tuple(out)


def _suffix(name: str) -> str:
    return Path(name).suffix


@st.composite
def mutated(draw: st.DrawFn, seeds: tuple[tuple[str, bytes], ...]) -> tuple[str, bytes]:
    name, data = draw(st.sampled_from(seeds))
    rand = lambda lo, hi: draw(st.integers(lo, hi))  # noqa: E731
    return f"fuzz{_suffix(name)}", mutate(data, rand)


_BUDGET = settings(
    max_examples=1500,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.large_base_example],
    database=None,
)


@pytest.mark.slow
@_BUDGET
@given(mutated(synthetic_seeds()))
def test_fuzz_synthetic_files(case: tuple[str, bytes]) -> None:
    exercise(case[1], case[0])


@pytest.mark.slow
@pytest.mark.samples
@_BUDGET
@given(st.deferred(lambda: mutated(real_seeds() or synthetic_seeds())))
def test_fuzz_real_files(case: tuple[str, bytes]) -> None:
    if not real_seeds():
        pytest.skip(f"shared samples under {SAMPLES} are absent")
    exercise(case[1], case[0])


@pytest.mark.slow
@pytest.mark.samples
@_BUDGET
@given(
    st.lists(
        st.tuples(st.sampled_from(sorted(CAMERA_INFO_FIELDS)), st.floats(width=32)),
        min_size=1,
        max_size=4,
    )
)
def test_fuzz_calibration_constants(patches: list[tuple[str, float]]) -> None:
    """Any float32 in CameraInfo's constants: temperatures or a CalibrationError, nothing else."""
    path = SAMPLES / "flir_e40.jpg"
    if not path.exists():
        pytest.skip(f"{path} is absent")
    blob = _e40_fff()
    for field, value in patches:
        blob = patch_camera_info(blob, field, value)
    exercise(blob, "constants.fff")


@functools.cache
def _e40_fff() -> bytes:
    return fff_from_rjpeg((SAMPLES / "flir_e40.jpg").read_bytes())


def crash_files() -> list[Path]:
    return sorted(CRASH_DIR.glob("crash-*"))


@pytest.mark.parametrize("path", crash_files(), ids=lambda p: p.name)
def test_crash_corpus(path: Path) -> None:
    """Every input the fuzzer once crashed on now fails cleanly with an irpatrol error."""
    data = path.read_bytes()
    with pytest.raises(IrpatrolError):
        use(data, path.name)


def _hunt(seconds: float) -> int:  # pragma: no cover - local tool
    """Random mutation loop; saves inputs that escape the error hierarchy."""
    import faulthandler
    import logging
    import warnings

    warnings.simplefilter("error")
    logging.getLogger("tifffile").setLevel(logging.CRITICAL)
    rng = random.Random(int(time.time()))
    seeds = real_seeds() + synthetic_seeds()
    end = time.monotonic() + seconds
    runs = found = 0
    while time.monotonic() < end:
        name, data = rng.choice(seeds)
        case = mutate(data, rng.randint)
        label = f"fuzz{_suffix(name)}"
        runs += 1
        started = time.monotonic()
        digest = hashlib.sha1(case).hexdigest()
        pending = Path(tempfile.gettempdir()) / f"irpatrol-hang-{digest}{_suffix(name)}"
        pending.write_bytes(case)  # kept only if the process dies or hangs on it
        faulthandler.dump_traceback_later(30, exit=True)
        try:
            exercise(case, label)
            slow = time.monotonic() - started > 2.0
            if slow:
                print(f"slow case from {name}: {time.monotonic() - started:.1f} s", file=sys.stderr)
                raise TimeoutError(name)
        except Exception:
            pending.unlink()
            out = CRASH_DIR / f"crash-{digest}{_suffix(name)}"
            if not out.exists():
                out.write_bytes(case)
                found += 1
                print(f"--- {out.name} ({len(case)} bytes)", file=sys.stderr)
                traceback.print_exc(limit=6)
        else:
            pending.unlink()
    faulthandler.cancel_dump_traceback_later()
    print(f"{runs} runs, {found} new crash inputs", file=sys.stderr)
    return 1 if found else 0


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(_hunt(float(sys.argv[1]) if len(sys.argv) > 1 else 60.0))
