"""FLIR Tools / Thermal Studio (Report Studio) CSV exports: metadata header lines, then °C matrices.

What FLIR's desktop tools write when an image or a sequence is exported as CSV:

.. code-block:: text

    File:,C:\\Users\\me\\FLIR0123.jpg          <- the exported file
                                               <- an empty line
    Parameters:,Emissivity:,0.95               <- optional: the measurement parameters,
    ,Reflected temperature:,20 °C               one per line, "Key:" then its value
    ,Distance:,1.0 m
    ...
    Frame 1,21.3,21.4,21.6,...                 <- the first row of a frame is labelled
    ,21.2,21.3,21.5,...                        <- the other rows leave the label cell empty
    Frame 2,...                                <- a sequence export: frames back to back

Cells are separated by ``,`` (or ``;``/tab in locales with a decimal comma: ``21,3``); rows
may end with a separator.  Values are temperatures in the export's unit: °C, or °F when
the parameters say so (then converted to °C, with a warning in ``info.warnings``).  The
header's ``Key: value`` pairs go into ``info.extra`` as ``csv_<key>`` (lower case, spaces
to ``_``).  The layout comes from exports described in public code that reads them; no
FLIR code or document was used.
"""

from __future__ import annotations

import mmap
import re
from collections.abc import Iterator
from functools import partial

import numpy as np
import numpy.typing as npt

from irpatrol.errors import CorruptFileError
from irpatrol.formats.base import FrameInfo, ThermalFile, ThermalFrame, check_dimensions
from irpatrol.formats.matrix import _is_number, _text, _to_float

_FILE_LINE = re.compile(r"\s*\"?File:\"?\s*([,;\t])", re.IGNORECASE)
_FRAME_LABEL = re.compile(r"\"?Frame\s*(\d+)\"?", re.IGNORECASE)
_KEY = re.compile(r"\"?([^\"]{1,64}):\"?")
_FAHRENHEIT = re.compile(r"°\s*F\b|\bdeg(?:rees)?\s*F\b", re.IGNORECASE)


def _split(line: str, delim: str) -> list[str]:
    return [c.strip().strip('"').strip() for c in line.split(delim)]


def _header_pairs(cells: list[str]) -> list[tuple[str, str]]:
    """``Key:`` cells and the value cell after each (a key followed by a key is a section label)."""
    out = []
    for i, cell in enumerate(cells):
        m = _KEY.fullmatch(cell)
        if not m:
            continue
        value = cells[i + 1] if i + 1 < len(cells) else ""
        if _KEY.fullmatch(value):
            continue  # "Parameters:" before "Emissivity:"
        out.append((m.group(1).strip(), value))
    return out


class FlirCsvReader:
    """A FLIR Tools / Thermal Studio CSV export (``File:`` line, parameters, ``Frame N`` matrices)."""

    name = "flir-csv"
    extensions: tuple[str, ...] = (".csv",)

    def accept(self, prefix: bytes) -> bool:
        """Text whose first line is ``File:`` and a separator, or whose first cell is ``Frame 1``."""
        text = _text(prefix)
        if text is None:
            return False
        first = next((ln for ln in text.splitlines() if ln.strip()), "")
        if _FILE_LINE.match(first):
            return True
        head = re.split(r"[,;\t]", first, maxsplit=1)[0].strip()
        return _FRAME_LABEL.fullmatch(head) is not None and head.strip('"').lower().endswith(" 1")

    def open(self, data: bytes | mmap.mmap, *, path: str) -> ThermalFile:
        """Read the header lines now and find the frames; cells are parsed when a frame is decoded."""
        try:
            text = bytes(data).decode("utf-8-sig")
        except UnicodeDecodeError:
            text = bytes(data).decode("latin-1")  # FLIR Tools on Windows writes the ANSI code page
        lines = text.splitlines()
        first = next((ln for ln in lines if ln.strip()), "")
        m = _FILE_LINE.match(first)
        found = m or re.search(r"[,;\t]", first)
        if found is None:
            raise CorruptFileError(path, "FLIR CSV export without a separator on its first line")
        delim = m.group(1) if m else found.group(0)
        decimal_comma = delim in (";", "\t")
        meta: dict[str, str] = {}
        data_start = None
        labelled = True
        for i, line in enumerate(lines):
            if not line.strip():
                continue
            cells = _split(line, delim)
            numeric = any(cells[1:]) and all(_is_number(c, decimal_comma) for c in cells[1:])
            if _FRAME_LABEL.fullmatch(cells[0]) or (cells[0] == "" and numeric):
                data_start = i
                break
            if cells[0] != "" and numeric and _is_number(cells[0], decimal_comma):
                data_start, labelled = i, False  # no label column: every cell is a value
                break
            for key, value in _header_pairs(cells):
                meta[key] = value
        if data_start is None:
            raise CorruptFileError(path, "FLIR CSV export has header lines but no temperature rows")
        skip = 1 if labelled else 0
        frames = self._frames(lines, data_start, delim, skip, path=path)
        height = frames[0][2] - frames[0][1]
        width = frames[0][3]
        check_dimensions(path, width, height, what="FLIR CSV frame")
        for index, start, end, w in frames:
            if (end - start, w) != (height, width):
                raise CorruptFileError(
                    path,
                    f"FLIR CSV frame {index} (line {start + 1}) is {w}x{end - start}, "
                    f"the first is {width}x{height}",
                )
        fahrenheit = any(_FAHRENHEIT.search(v) for v in meta.values())
        extra: dict[str, float | int | str] = {"csv_delimiter": {"\t": "tab"}.get(delim, delim)}
        for key, value in meta.items():
            name = "csv_" + re.sub(r"\W+", "_", key.lower()).strip("_")
            number = re.match(r"[-+]?\d+(?:[.,]\d+)?", value)
            extra[name] = (
                float(number.group(0).replace(",", "."))
                if number and number.group(0) == value.strip()
                else value
            )
        warnings = ("values exported in °F, converted to °C",) if fahrenheit else ()

        def loader(start: int, end: int) -> npt.NDArray[np.float32]:
            out = np.empty((end - start, width), dtype=np.float32)
            for r, line_no in enumerate(range(start, end)):
                cells = _split(lines[line_no], delim)[skip:]
                while cells and cells[-1] == "":  # a row's trailing separator (FLIR writes no empty cells)
                    cells.pop()
                if len(cells) != width:
                    raise CorruptFileError(
                        path, f"FLIR CSV line {line_no + 1} has {len(cells)} values, expected {width}"
                    )
                for c, cell in enumerate(cells):
                    if not _is_number(cell, decimal_comma):
                        raise CorruptFileError(
                            path,
                            f"FLIR CSV line {line_no + 1}, column {c + 2}: {cell[:40]!r} is not a number",
                        )
                    out[r, c] = _to_float(cell, decimal_comma)
            if fahrenheit:
                out -= 32.0
                out *= 5.0 / 9.0
            return out

        def iterate() -> Iterator[ThermalFrame]:
            for i, (_, start, end, _w) in enumerate(frames):
                info = FrameInfo(
                    width=width, height=height, raw_encoding=None, extra=extra, warnings=warnings
                )
                yield ThermalFrame(source=path, index=i, info=info, temp_loader=partial(loader, start, end))

        return ThermalFile(path=path, format_name="flir-csv", frames=iterate)

    @staticmethod
    def _frames(
        lines: list[str], start: int, delim: str, skip: int, *, path: str
    ) -> list[tuple[int, int, int, int]]:
        """(frame number, first line, end line, values per row) of each frame, from the label cells.

        ``skip`` is 1 when the first column holds the ``Frame N`` labels, 0 when there is none.
        """
        frames: list[tuple[int, int, int, int]] = []
        current: list[int] | None = None
        end = start
        for i in range(start, len(lines)):
            line = lines[i]
            if not line.strip():
                continue
            cells = _split(line, delim)
            label = _FRAME_LABEL.fullmatch(cells[0]) if skip else None
            if skip and label is None and cells[0] != "":
                raise CorruptFileError(
                    path, f"FLIR CSV line {i + 1}: {cells[0][:40]!r} is neither a value nor a frame label"
                )
            values = cells[skip:]
            while values and values[-1] == "":
                values.pop()
            if label is not None or current is None:
                if current is not None:
                    frames.append((current[0], current[1], end, current[2]))
                current = [int(label.group(1)) if label else 1, i, len(values)]
            elif i != end:  # a blank line inside a frame
                raise CorruptFileError(
                    path, f"FLIR CSV line {end + 1}: an empty line inside frame {current[0]}"
                )
            end = i + 1
        assert current is not None
        frames.append((current[0], current[1], end, current[2]))
        return frames
