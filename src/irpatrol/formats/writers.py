"""Writing temperature arrays to files: CSV, NPY or 32-bit float TIFF (°C)."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import numpy.typing as npt

from irpatrol.errors import FileAccessError, ParameterError

TEMPERATURE_FORMATS = ("csv", "npy", "tiff")


def temperature_bytes(celsius: npt.NDArray[np.floating], fmt: str) -> bytes:
    """Encode a °C array as ``csv`` (3 decimals, NaN as empty), ``npy`` or ``tiff`` (float32)."""
    arr = np.asarray(celsius, dtype=np.float32)
    if fmt == "npy":
        buf = io.BytesIO()
        np.save(buf, arr, allow_pickle=False)
        return buf.getvalue()
    if fmt == "csv":
        rows = [",".join("" if not np.isfinite(v) else f"{v:.3f}" for v in row) for row in arr.tolist()]
        return ("\n".join(rows) + "\n").encode("ascii")
    if fmt == "tiff":
        import tifffile

        buf = io.BytesIO()
        tifffile.imwrite(buf, arr, description="irpatrol temperatures, float32, degrees Celsius")
        return buf.getvalue()
    raise ParameterError("fmt", fmt, f"one of {TEMPERATURE_FORMATS}")


def format_for_path(path: str | Path) -> str:
    """The temperature format implied by a file name's extension."""
    suffix = Path(path).suffix.lower().lstrip(".")
    fmt = {"tif": "tiff"}.get(suffix, suffix)
    if fmt not in TEMPERATURE_FORMATS:
        raise ParameterError("output", str(path), "a file name ending in .csv, .npy, .tif or .tiff")
    return fmt


def write_temperature_file(path: str | Path, celsius: npt.NDArray[np.floating]) -> None:
    """Write a °C array to ``path``; the format follows the extension."""
    data = temperature_bytes(celsius, format_for_path(path))
    try:
        Path(path).write_bytes(data)
    except OSError as exc:
        raise FileAccessError(path, f"cannot be written ({exc.strerror or exc})") from exc
