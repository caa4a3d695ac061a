"""The replaceable files of a report: Jinja2 layout, stylesheet, labels per language, logo, Word base.

The defaults live in ``irpatrol/report/templates/``.  A utility points
``--templates DIR`` (or ``IRPATROL_REPORT_TEMPLATES``) at a folder of its own; each file
found there wins over the default of the same name, so a folder holding only
``logo.png`` changes only the logo.  Files:

* ``report.html.j2``: the HTML layout (also printed to PDF); ``report.css`` its style;
* ``labels.zh.yaml``, ``labels.en.yaml``: titles, field names, grade names; a custom
  file may hold only the keys it changes (the rest come from the default);
* ``logo.png`` (or ``logo.svg`` for HTML/PDF): printed top left;
* ``report.docx`` (optional): a Word document whose styles, page set-up and header the
  DOCX report starts from.

Also the value formatting shared by every output: a missing value is printed as the
language's "not recorded" (未记录), never as an empty cell.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from functools import cached_property
from pathlib import Path
from typing import Any

import yaml

from irpatrol.errors import DataFileError, FileAccessError, ParameterError

DEFAULT_DIR = Path(__file__).with_name("templates")
LANGUAGES = ("zh", "en")


def _merge(base: dict[str, Any], over: Mapping[str, Any]) -> dict[str, Any]:
    out = dict(base)
    for k, v in over.items():
        out[k] = _merge(out[k], v) if isinstance(v, Mapping) and isinstance(out.get(k), dict) else v
    return out


def _read_yaml(path: Path) -> dict[str, Any]:
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise FileAccessError(path, f"cannot be read ({exc.strerror or exc})") from exc
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 1 if mark is not None else None
        raise DataFileError(path, f"not valid YAML ({exc})", line=line) from exc
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise DataFileError(path, "must be a mapping of label names to texts")
    return data


@dataclass(frozen=True)
class TemplateSet:
    """The report files in force: ``folder`` (custom, may be ``None``) over the defaults."""

    folder: Path | None = None

    def __post_init__(self) -> None:
        if self.folder is not None and not self.folder.is_dir():
            raise ParameterError("templates", str(self.folder), "an existing folder of report templates")

    def find(self, name: str) -> Path | None:
        """The custom file ``name`` if the folder has it, else the default one (``None``: neither)."""
        for base in (self.folder, DEFAULT_DIR):
            if base is not None and (base / name).is_file():
                return base / name
        return None

    def labels(self, lang: str) -> dict[str, Any]:
        """The label mapping for ``lang``: the default file with the custom one laid over it."""
        if lang not in LANGUAGES:
            raise ParameterError("lang", lang, "zh or en")
        out = _read_yaml(DEFAULT_DIR / f"labels.{lang}.yaml")
        if self.folder is not None and (self.folder / f"labels.{lang}.yaml").is_file():
            out = _merge(out, _read_yaml(self.folder / f"labels.{lang}.yaml"))
        return out

    def logo(self) -> tuple[bytes, str] | None:
        """The logo's bytes and MIME type (a custom SVG or PNG before the default PNG)."""
        for base in (self.folder, DEFAULT_DIR):
            if base is None:
                continue
            for name, mime in (("logo.svg", "image/svg+xml"), ("logo.png", "image/png")):
                if (base / name).is_file():
                    return (base / name).read_bytes(), mime
        return None

    @cached_property
    def search_path(self) -> list[str]:
        """Folders Jinja2 looks templates up in, custom first."""
        return [str(p) for p in (self.folder, DEFAULT_DIR) if p is not None]


class Formatter:
    """Prints values for one language: numbers with units, times, grades; ``None`` as "not recorded"."""

    def __init__(self, labels: Mapping[str, Any]) -> None:
        self.labels = labels
        self.missing = str(labels.get("not_recorded", "not recorded"))

    def num(self, value: float | None, unit: str = "", digits: int = 1) -> str:
        """``value`` with ``digits`` decimals and its unit, or the missing text."""
        if value is None:
            return self.missing
        text = f"{value:.{digits}f}"
        return f"{text} {unit}" if unit else text

    def text(self, value: object) -> str:
        """A text, or the missing text for ``None`` or blank."""
        if value is None or (isinstance(value, str) and not value.strip()):
            return self.missing
        return str(value)

    def time(self, value: datetime | None) -> str:
        """``YYYY-MM-DD HH:MM:SS`` (with the zone offset when known), or the missing text."""
        if value is None:
            return self.missing
        out = value.strftime("%Y-%m-%d %H:%M:%S")
        if value.utcoffset() is not None:
            out += value.strftime(" %z")
        return out

    def span(self, start: datetime | None, end: datetime | None) -> str:
        """A time range; one time when both ends are equal or one is missing."""
        if start is None or end is None or start == end:
            return self.time(start or end)
        return f"{self.time(start)} — {self.time(end)}"

    def pick(self, table: str, key: str | None) -> str:
        """The label of ``key`` in the label table ``table`` (the key itself when unknown)."""
        if key is None:
            return self.missing
        entries = self.labels.get(table) or {}
        return str(entries.get(key, key))

    def grade(self, grade: str, tentative: bool = False) -> str:
        """The grade's name, with the tentative mark."""
        return self.pick("grades", grade) + (str(self.labels.get("tentative", "")) if tentative else "")

    def pair(self, a: str, b: str) -> str:
        """Two printed values side by side; the missing text once when both are missing."""
        if a == self.missing and b == self.missing:
            return self.missing
        return f"{a} / {b}"

    def range_c(self, rng: tuple[float, float] | None) -> str:
        """A calibrated range ``low … high °C``."""
        if rng is None:
            return self.missing
        return f"{rng[0]:.0f} … {rng[1]:.0f} °C"

    def load(self, current_a: float | None, ratio: float | None) -> str:
        """Load as current (A) and ratio (% of rated)."""
        cur = self.num(current_a, "A", 0)
        pct = self.num(ratio * 100.0 if ratio is not None else None, "%", 0)
        return self.pair(cur, pct)
