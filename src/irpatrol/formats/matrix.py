"""Temperature matrices: CSV text and NumPy ``.npy`` files holding °C per cell.

CSV: one image row per line, cells separated by comma, semicolon or tab (the first
data line decides), an optional header line of column names, blank lines ignored.
With ``;`` or tab separators a decimal comma (``21,5``) is accepted.  ``open`` only
counts lines and the first row's cells; every cell is parsed on first use, and a
ragged row or a non-number is reported with its line and column.

NPY: a 2-D float array is one frame of °C; a 3-D float array ``(frames, rows,
cols)`` is a sequence.  The header is read without unpickling (object arrays are
refused, never loaded); integer arrays are refused because raw counts without a
calibration cannot be turned into temperature.
"""

from __future__ import annotations

import ast
import mmap
import re
import struct
from collections.abc import Iterator
from functools import partial

import numpy as np
import numpy.typing as npt

from irpatrol.errors import CorruptFileError, UnsupportedFormatError
from irpatrol.formats.base import FrameInfo, ThermalFile, ThermalFrame, check_dimensions

# --------------------------------------------------------------------------- CSV

_DELIMS = (";", "\t", ",")
_NUMBER = re.compile(r"[-+]?(?:\d+(?:[.,]\d*)?|[.,]\d+)(?:[eE][-+]?\d+)?|[-+]?(?:nan|inf)", re.IGNORECASE)
_HEADER_CELL = re.compile(r"[\"']?[\w .°()\[\]/#%-]{0,64}[\"']?")


def _delimiter(line: str) -> str | None:
    for d in _DELIMS:
        if d in line:
            return d
    return None


def _cells(line: str, delim: str | None, *, trailing: bool = False) -> list[str]:
    cells = line.split(delim) if delim else [line]
    if trailing and len(cells) > 1 and cells[-1].strip() == "":
        cells.pop()  # every row ends with a separator: not an empty last column
    return [c.strip() for c in cells]


def _is_number(cell: str, decimal_comma: bool) -> bool:
    """A number, or an empty cell (a missing value, read as NaN)."""
    if cell == "":
        return True
    if not decimal_comma and "," in cell:
        return False
    return _NUMBER.fullmatch(cell) is not None


def _to_float(cell: str, decimal_comma: bool) -> float:
    if cell == "":
        return float("nan")
    return float(cell.replace(",", ".")) if decimal_comma else float(cell)


def _numeric_line(line: str, *, partial: bool) -> bool:
    """Every complete cell is a number or empty, and at least one is a number."""
    delim = _delimiter(line)
    cells = _cells(line, delim)
    if partial and len(cells) > 1:
        cells = cells[:-1]  # the prefix may cut the last cell
    comma = delim in (";", "\t")
    return any(cells) and all(_is_number(c, comma) for c in cells)


def _text(prefix: bytes) -> str | None:
    if b"\0" in prefix:
        return None
    if prefix.startswith(b"\xef\xbb\xbf"):
        prefix = prefix[3:]
    try:
        text = prefix.decode("utf-8")
    except UnicodeDecodeError as exc:
        if exc.start < len(prefix) - 3:
            return None
        text = prefix[: exc.start].decode("utf-8")
    if any(ord(ch) < 32 and ch not in "\t\r\n" for ch in text):
        return None
    return text


class CsvReader:
    """A temperature matrix in delimited text, °C per cell."""

    name: str = "csv"
    extensions: tuple[str, ...] = (".csv", ".txt", ".tsv")

    def accept(self, prefix: bytes) -> bool:
        """Text whose first line (or second, after a header line) is a row of numbers."""
        text = _text(prefix)
        if text is None:
            return False
        lines = [ln for ln in text.splitlines() if ln.strip()]
        if not lines:
            return False
        complete = text.endswith(("\n", "\r"))
        first_partial = len(lines) == 1 and not complete
        if _numeric_line(lines[0], partial=first_partial):
            return True
        delim = _delimiter(lines[0])
        header_like = all(_HEADER_CELL.fullmatch(c) for c in _cells(lines[0], delim))
        if not header_like:
            return False
        if len(lines) == 1:  # a long header line filled the whole prefix
            return delim is not None and not complete
        return _numeric_line(lines[1], partial=len(lines) == 2 and not complete)

    def open(self, data: bytes | mmap.mmap, *, path: str) -> ThermalFile:
        """Count rows and the first row's columns; cells are parsed on first use."""
        try:
            text = bytes(data).decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            raise CorruptFileError(path, "CSV is not UTF-8 text", offset=exc.start) from exc
        numbered = [(i + 1, ln) for i, ln in enumerate(text.splitlines()) if ln.strip()]
        if not numbered:
            raise CorruptFileError(path, "CSV holds no rows")
        first_no, first = numbered[0]
        delim = _delimiter(first)
        if not _numeric_line(first, partial=False):
            if len(numbered) < 2:
                raise CorruptFileError(path, f"CSV has a header (line {first_no}) but no data rows")
            numbered = numbered[1:]
            delim = _delimiter(numbered[0][1]) or delim
        rows = numbered
        height = len(rows)
        trailing = delim is not None and all(ln.rstrip().endswith(delim) for _, ln in rows)
        width = len(_cells(rows[0][1], delim, trailing=trailing))
        check_dimensions(path, width, height, what="CSV matrix")
        decimal_comma = delim in (";", "\t")

        def temps() -> npt.NDArray[np.float32]:
            out = np.empty((height, width), dtype=np.float32)
            with np.errstate(over="ignore"):  # a cell beyond float32 becomes ±inf, masked invalid
                _fill(out)
            return out

        def _fill(out: npt.NDArray[np.float32]) -> None:
            for r, (line_no, line) in enumerate(rows):
                cells = _cells(line, delim, trailing=trailing)
                if len(cells) != width:
                    raise CorruptFileError(
                        path,
                        f"CSV line {line_no} has {len(cells)} values, line {rows[0][0]} has {width}: "
                        "ragged rows",
                    )
                for c, cell in enumerate(cells):
                    if not _is_number(cell, decimal_comma):
                        raise CorruptFileError(
                            path, f"CSV line {line_no}, column {c + 1}: {cell[:40]!r} is not a number"
                        )
                    out[r, c] = _to_float(cell, decimal_comma)

        info = FrameInfo(
            width=width,
            height=height,
            raw_encoding=None,
            extra={"csv_delimiter": {"\t": "tab"}.get(delim or "", delim or "none")},
        )
        frame = ThermalFrame(source=path, index=0, info=info, temp_loader=temps)
        closer = data.close if isinstance(data, mmap.mmap) else None
        return ThermalFile(path=path, format_name="csv", frames=lambda: iter((frame,)), closer=closer)


# --------------------------------------------------------------------------- NPY

NPY_MAGIC = b"\x93NUMPY"
_MAX_NPY_HEADER = 65_536


def _npy_header(
    data: bytes | mmap.mmap, *, path: str
) -> tuple[np.dtype[np.generic], tuple[int, ...], bool, int]:
    """Parse the ``.npy`` header: dtype, shape, Fortran order, data offset.  Never unpickles."""
    if len(data) < 10:
        raise CorruptFileError(path, "NPY header truncated")
    major = data[6]
    if major == 1:
        (hlen,) = struct.unpack_from("<H", data, 8)
        start = 10
    elif major in (2, 3):
        if len(data) < 12:
            raise CorruptFileError(path, "NPY header truncated")
        (hlen,) = struct.unpack_from("<I", data, 8)
        start = 12
    else:
        raise UnsupportedFormatError(path, f"NPY format version {major} is not known")
    if hlen > _MAX_NPY_HEADER or start + hlen > len(data):
        raise CorruptFileError(path, f"NPY header of {hlen} bytes runs past the end of the file", offset=8)
    raw = bytes(data[start : start + hlen]).decode("latin-1" if major < 3 else "utf-8")
    try:
        header = ast.literal_eval(raw)
    except (ValueError, SyntaxError, MemoryError, RecursionError) as exc:
        raise CorruptFileError(path, "NPY header is not a Python literal", offset=start) from exc
    if not isinstance(header, dict) or not {"descr", "fortran_order", "shape"} <= set(header):
        raise CorruptFileError(path, "NPY header lacks descr/fortran_order/shape", offset=start)
    descr, fortran, shape = header["descr"], header["fortran_order"], header["shape"]
    if not isinstance(shape, tuple) or not all(isinstance(n, int) and n >= 0 for n in shape):
        raise CorruptFileError(path, f"NPY shape {shape!r} is not a tuple of sizes", offset=start)
    if not isinstance(fortran, bool):
        raise CorruptFileError(path, f"NPY fortran_order {fortran!r} is not a boolean", offset=start)
    if descr in ("|O", "O", "<O", ">O") or not isinstance(descr, str):
        raise UnsupportedFormatError(
            path, f"NPY holds Python objects (dtype {descr!r}); refused: loading it would run pickle"
        )
    try:
        dtype = np.dtype(descr)
    except (TypeError, ValueError, SyntaxError) as exc:  # numpy parses a damaged descr with ast
        raise CorruptFileError(path, f"NPY dtype {descr!r} is not valid", offset=start) from exc
    return dtype, shape, fortran, start + hlen


class NpyReader:
    """A NumPy ``.npy`` array of °C (2-D, or 3-D for several frames)."""

    name: str = "npy"
    extensions: tuple[str, ...] = (".npy",)

    def accept(self, prefix: bytes) -> bool:
        """The NPY magic ``\\x93NUMPY``."""
        return prefix[:6] == NPY_MAGIC

    def open(self, data: bytes | mmap.mmap, *, path: str) -> ThermalFile:
        """Check dtype, shape and size from the header; the array is read on first use."""
        dtype, shape, fortran, offset = _npy_header(data, path=path)
        if dtype.hasobject or dtype.names is not None or dtype.subdtype is not None:
            raise UnsupportedFormatError(path, f"NPY dtype {dtype} is not a plain number array")
        if dtype.kind in "iub":
            raise UnsupportedFormatError(
                path,
                f"NPY holds {dtype.name} values: integer arrays are raw counts or renders with no "
                "calibration; save temperatures in °C as float32",
            )
        if dtype.kind != "f":
            raise UnsupportedFormatError(path, f"NPY dtype {dtype.name} is not a float temperature array")
        if len(shape) == 2:
            n_frames, (height, width) = 1, shape
        elif len(shape) == 3:
            n_frames, height, width = shape
        else:
            raise UnsupportedFormatError(
                path, f"NPY array has shape {shape}: expected (rows, cols) or (frames, rows, cols)"
            )
        check_dimensions(path, width, height, what="NPY matrix")
        if n_frames == 0:
            raise CorruptFileError(path, "NPY array holds no frames")
        frame_bytes = width * height * dtype.itemsize
        need = offset + n_frames * frame_bytes
        if need > len(data):
            raise CorruptFileError(
                path, f"NPY data is truncated: shape {shape} needs {need} bytes, file has {len(data)}"
            )
        if fortran and n_frames > 1:
            raise UnsupportedFormatError(path, "Fortran-ordered 3-D NPY arrays are not supported")

        def loader(i: int) -> npt.NDArray[np.float32]:
            flat = np.frombuffer(data, dtype=dtype, count=width * height, offset=offset + i * frame_bytes)
            frame = flat.reshape((height, width), order="F" if fortran else "C")
            with np.errstate(over="ignore", invalid="ignore"):  # beyond float32: ±inf, masked invalid
                return frame.astype(np.float32)

        info = FrameInfo(width=width, height=height, raw_encoding=None, extra={"npy_dtype": dtype.str})

        def frames() -> Iterator[ThermalFrame]:
            for i in range(n_frames):
                yield ThermalFrame(source=path, index=i, info=info, temp_loader=partial(loader, i))

        closer = data.close if isinstance(data, mmap.mmap) else None
        fmt = "npy" if n_frames == 1 else "npy-stack"
        return ThermalFile(path=path, format_name=fmt, frames=frames, closer=closer)
