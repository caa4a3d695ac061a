"""The asset tree 站→区域→间隔→设备→部件→点位: bulk import from CSV or YAML, tree views, point trends.

Import files
------------
Two formats describe the same thing (``docs/examples/station.assets.csv`` and
``src/irpatrol/demo/station.assets.yaml`` are twins):

* **YAML**, nested: ``stations`` → ``areas`` → ``bays`` → ``devices`` → ``components`` →
  ``points``; every node has ``code`` and ``name``, devices a ``device_type`` (SGCC code or
  name), points the fields below and ``regions`` (one points-file entry without its id:
  ``phases``, ``ambient``, ``ambient_c``, ``reference_image``; see ``docs/points.md``).
* **CSV**, flat, one row per point (or per asset without points), UTF-8 (a BOM is fine;
  GB18030 from a Chinese Excel is accepted too) with the header
  ``station_code, station_name, area_code, area_name, bay_code, bay_name, device_code,
  device_name, device_type, component_code, component_name, point_code, point_name, part,
  phase, preset_id, heating_type, rated_current_a, rule_pack[, regions]``; ``regions``
  holds the same mapping as JSON.

Codes identify: a node is found by its parent and code, a point by its station and code,
so importing the same file twice creates nothing the second time, and a changed name is
an update.  A blank name keeps the stored one (a new node is named by its code).  Point
fields are taken as the file says (a blank ``preset_id`` clears it).

The whole file is checked before anything is written: a problem raises
:class:`~irpatrol.errors.DataFileError` naming the file, the line and the field, and
the caller's transaction is left for it to roll back (the API and the CLI commit only
after a successful import).  Part ids are checked against the point's rule pack (its
``rule_pack`` or the server default), regions with the points-file parser.
"""

from __future__ import annotations

import csv
import io
import json
import math
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime
from functools import lru_cache
from typing import TYPE_CHECKING, Any

import yaml
from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from irpatrol.errors import DataFileError, IrpatrolError, PointsFileError
from irpatrol.store.models import ASSET_KINDS, Asset, Point
from irpatrol.store.series import point_series

if TYPE_CHECKING:
    from irpatrol.diagnosis.rulemodel import RulePack

DEFAULT_RULES = "dlt664-2016"
"""The rule pack that checks part ids when neither the point nor the caller names one."""

CHILDREN = {"station": "areas", "area": "bays", "bay": "devices", "device": "components"}
"""YAML key of each level's children (components hold ``points``)."""

PLURAL = {
    "station": "stations",
    "area": "areas",
    "bay": "bays",
    "device": "devices",
    "component": "components",
    "point": "points",
}

CSV_COLUMNS = (
    "station_code",
    "station_name",
    "area_code",
    "area_name",
    "bay_code",
    "bay_name",
    "device_code",
    "device_name",
    "device_type",
    "component_code",
    "component_name",
    "point_code",
    "point_name",
    "part",
    "phase",
    "preset_id",
    "heating_type",
    "rated_current_a",
    "rule_pack",
    "regions",
)
"""Columns of an asset CSV; ``station_code`` is required, the others may be absent or blank."""

POINT_FIELDS = (
    "name",
    "part",
    "phase",
    "preset_id",
    "heating_type",
    "rated_current_a",
    "rule_pack",
    "regions",
)
REGION_KEYS = ("phases", "ambient", "ambient_c", "reference_image", "material", "target_mm", "distance_m")
"""What a point's ``regions`` may hold: a points-file entry without the fields the point row gives
(the last three feed the measurability checks, see ``docs/measurability.md``)."""

PHASES = {"A": "A", "B": "B", "C": "C", "ABC": "ABC", "A相": "A", "B相": "B", "C相": "C", "三相": "ABC"}
HEATING = {"current": "current", "voltage": "voltage", "电流致热型": "current", "电压致热型": "voltage"}
MAX_CODE, MAX_NAME, MAX_SHORT = 128, 256, 64

Locate = Callable[[tuple[str, ...]], int | None]
"""Line (1-based) of a field path inside a node or row, for error messages."""


# --------------------------------------------------------------------------- parsed file


@dataclass
class _PointIn:
    code: str
    name: str | None
    part: str
    phase: str | None
    preset_id: str | None
    heating_type: str
    rated_current_a: float | None
    rule_pack: str | None
    spec: dict[str, Any] | None
    line: int | None


@dataclass
class _NodeIn:
    kind: str
    code: str
    name: str | None
    line: int | None
    device_type: str | None = None
    children: dict[str, _NodeIn] = field(default_factory=dict)
    points: dict[str, _PointIn] = field(default_factory=dict)


class _Ctx:
    """Error reporting and shared checks for one import file."""

    def __init__(self, path: str, default_rules: str) -> None:
        self.path = path
        self.default_rules = default_rules
        self.station_points: dict[str, dict[str, int | None]] = {}

    def fail(self, line: int | None, fld: str | None, detail: str) -> DataFileError:
        return DataFileError(self.path, detail, line=line, field=fld)

    def text(
        self, value: Any, line: int | None, fld: str, *, limit: int, required: bool = False
    ) -> str | None:
        """A trimmed text value (numbers are taken as written), ``None`` when blank."""
        if value is None:
            v = ""
        elif isinstance(value, (bool, dict, list)):
            raise self.fail(line, fld, "expected a text value")
        else:
            v = str(value).strip()
        if not v:
            if required:
                raise self.fail(line, fld, "missing required value")
            return None
        if len(v) > limit:
            raise self.fail(line, fld, f"longer than {limit} characters")
        if any(ord(ch) < 32 for ch in v):
            raise self.fail(line, fld, "control characters are not allowed")
        return v

    def merge_node(
        self,
        siblings: dict[str, _NodeIn],
        kind: str,
        code: str,
        name: str | None,
        line: int | None,
        fld: str,
        *,
        device_type: str | None = None,
        repeat_ok: bool,
    ) -> _NodeIn:
        """Add a node under its parent, or (CSV) meet it again: names must then agree."""
        node = siblings.get(code)
        if node is None:
            node = _NodeIn(kind=kind, code=code, name=name, line=line, device_type=device_type)
            siblings[code] = node
            return node
        if not repeat_ok:
            raise self.fail(
                line, f"{fld}.code", f"duplicate {kind} code {code!r} (first at line {node.line})"
            )
        for attr, value in (("name", name), ("device_type", device_type)):
            old = getattr(node, attr)
            if value is not None and old is not None and value != old:
                raise self.fail(
                    line,
                    f"{kind}_{attr}" if attr == "name" else attr,
                    f"{kind} {code!r} is {old!r} at line {node.line} but {value!r} here",
                )
            if old is None:
                setattr(node, attr, value)
        return node

    def point(
        self, station: str, values: dict[str, Any], code: str, line: int | None, where: str, locate: Locate
    ) -> _PointIn:
        """Check one point's fields (part against its rule pack, regions with the points parser)."""
        seen = self.station_points.setdefault(station, {})
        if code in seen:
            raise self.fail(
                line,
                _fld(where, "code"),
                f"duplicate point code {code!r} in station {station!r} (first at line {seen[code]})",
            )
        seen[code] = line

        def loc(*keys: str) -> int | None:
            return locate(keys) or line

        name = self.text(values.get("name"), loc("name"), _fld(where, "name"), limit=MAX_NAME)
        part = self.text(values.get("part"), loc("part"), _fld(where, "part"), limit=MAX_SHORT, required=True)
        assert part is not None
        rule_pack = self.text(values.get("rule_pack"), loc("rule_pack"), _fld(where, "rule_pack"), limit=256)
        pack = self._pack(rule_pack, loc("rule_pack"), _fld(where, "rule_pack"))
        if not _part_known(pack, part):
            known = ", ".join(pack.parts)
            raise self.fail(
                loc("part"),
                _fld(where, "part"),
                f"unknown part {part!r} for rule pack {pack.name}; expected one of {known}",
            )
        phase_raw = self.text(values.get("phase"), loc("phase"), _fld(where, "phase"), limit=8)
        phase = None
        if phase_raw is not None:
            phase = PHASES.get(phase_raw.upper() if phase_raw.isascii() else phase_raw)
            if phase is None:
                raise self.fail(
                    loc("phase"), _fld(where, "phase"), f"expected A, B, C or ABC, got {phase_raw!r}"
                )
        heating_raw = self.text(
            values.get("heating_type"), loc("heating_type"), _fld(where, "heating_type"), limit=16
        )
        if heating_raw is None:
            heating = _part_heating(pack, part)
        else:
            heating = HEATING.get(heating_raw.lower() if heating_raw.isascii() else heating_raw, "")
            if not heating:
                raise self.fail(
                    loc("heating_type"),
                    _fld(where, "heating_type"),
                    f"expected current or voltage, got {heating_raw!r}",
                )
        preset = self.text(
            values.get("preset_id"), loc("preset_id"), _fld(where, "preset_id"), limit=MAX_SHORT
        )
        rated = self._positive(
            values.get("rated_current_a"), loc("rated_current_a"), _fld(where, "rated_current_a")
        )
        spec = self._regions(values.get("regions"), code, part, heating, where, line, locate)
        return _PointIn(
            code=code,
            name=name,
            part=part,
            phase=phase,
            preset_id=preset,
            heating_type=heating,
            rated_current_a=rated,
            rule_pack=rule_pack,
            spec=spec,
            line=line,
        )

    def _pack(self, name: str | None, line: int | None, fld: str) -> RulePack:
        from irpatrol.diagnosis.rulepack import BUILTIN_PACKS

        if name is not None and name not in BUILTIN_PACKS and name != self.default_rules:
            raise self.fail(
                line, fld, f"unknown rule pack {name!r}; expected one of {', '.join(BUILTIN_PACKS)}"
            )
        return _load_pack(name or self.default_rules)

    def _positive(self, value: Any, line: int | None, fld: str) -> float | None:
        if value is None or (isinstance(value, str) and not value.strip()):
            return None
        try:
            x = float(value)
        except (TypeError, ValueError):
            raise self.fail(line, fld, f"expected a number of amperes, got {value!r}") from None
        if not math.isfinite(x) or x <= 0:
            raise self.fail(line, fld, f"expected a positive number of amperes, got {value!r}")
        return x

    def _regions(
        self, raw: Any, code: str, part: str, heating: str, where: str, line: int | None, locate: Locate
    ) -> dict[str, Any] | None:
        from irpatrol.diagnosis.points import parse_points

        if raw is None or raw == {}:
            return None
        fld = _fld(where, "regions")
        if not isinstance(raw, dict):
            raise self.fail(
                locate(("regions",)) or line,
                fld,
                "expected a mapping of phases, ambient, ambient_c, reference_image",
            )
        for key in raw:
            if key not in REGION_KEYS:
                raise self.fail(
                    locate(("regions", str(key))) or line,
                    f"{fld}.{key}",
                    f"unknown key; regions hold {', '.join(REGION_KEYS)} (other point fields are columns)",
                )
        entry = {"id": code, "part": part, "heating_type": heating, **raw}
        try:
            parse_points(
                yaml.safe_dump({"version": 1, "points": [entry]}, allow_unicode=True), path=self.path
            )
        except PointsFileError as exc:
            sub = re.sub(r"^points\[[^\]]*\]\.?", "", exc.field or "")
            keys = tuple(k for k in sub.split(".") if k)
            raise self.fail(
                locate(("regions", *keys)) or line, f"{fld}.{sub}" if sub else fld, exc.detail
            ) from None
        return dict(raw)


def _fld(where: str, key: str) -> str:
    """A point field's name in messages: ``<yaml path>.key``, or the CSV column (``where`` empty)."""
    if where:
        return f"{where}.{key}"
    return {"name": "point_name", "code": "point_code"}.get(key, key)


@lru_cache(maxsize=16)
def _load_pack(name: str) -> RulePack:
    from irpatrol.diagnosis.rulepack import load_rule_pack

    return load_rule_pack(name)


def _part_known(pack: RulePack, part: str) -> bool:
    if pack.default_part is not None or part in pack.parts:
        return True
    return any(part in p.aliases for p in pack.parts.values())


def _part_heating(pack: RulePack, part: str) -> str:
    try:
        heating = pack.part(part).heating
    except IrpatrolError:
        return "current"
    return heating if heating in ("current", "voltage") else "current"


# --------------------------------------------------------------------------- YAML


def _decode(data: bytes, path: str) -> str:
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        pass
    try:
        return data.decode("gb18030")
    except UnicodeDecodeError:
        raise DataFileError(path, "not UTF-8 (or GB18030) text") from None


def _line(node: yaml.Node | None) -> int | None:
    return node.start_mark.line + 1 if node is not None else None


def _mapping(
    ctx: _Ctx, node: yaml.Node, fld: str, allowed: Iterable[str]
) -> dict[str, tuple[yaml.Node, yaml.Node]]:
    if not isinstance(node, yaml.MappingNode):
        raise ctx.fail(_line(node), fld, "expected a mapping (key: value)")
    allowed = tuple(allowed)
    out: dict[str, tuple[yaml.Node, yaml.Node]] = {}
    for k, v in node.value:
        if not isinstance(k, yaml.ScalarNode):
            raise ctx.fail(_line(k), fld, "keys must be plain names")
        if k.value in out:
            raise ctx.fail(_line(k), f"{fld}.{k.value}", "duplicate key")
        if k.value not in allowed:
            raise ctx.fail(_line(k), f"{fld}.{k.value}", f"unknown key; expected one of {', '.join(allowed)}")
        out[k.value] = (k, v)
    return out


def _seq(ctx: _Ctx, node: yaml.Node, fld: str) -> list[yaml.Node]:
    if isinstance(node, yaml.ScalarNode) and node.tag.endswith(":null"):
        return []
    if not isinstance(node, yaml.SequenceNode):
        raise ctx.fail(_line(node), fld, "expected a list")
    return list(node.value)


def _scalar(ctx: _Ctx, node: yaml.Node | None, fld: str) -> str | None:
    if node is None or (isinstance(node, yaml.ScalarNode) and node.tag.endswith(":null")):
        return None
    if not isinstance(node, yaml.ScalarNode):
        raise ctx.fail(_line(node), fld, "expected a single value, not a list or mapping")
    return str(node.value)


def _walk(node: yaml.Node | None, keys: tuple[str, ...]) -> yaml.Node | None:
    """The deepest node along ``keys`` (mapping keys or list indexes) under ``node``."""
    best = node
    for key in keys:
        if isinstance(best, yaml.MappingNode):
            nxt = next((v for k, v in best.value if isinstance(k, yaml.ScalarNode) and k.value == key), None)
        elif isinstance(best, yaml.SequenceNode) and key.isdigit() and int(key) < len(best.value):
            nxt = best.value[int(key)]
        else:
            nxt = None
        if nxt is None:
            break
        best = nxt
    return best


def _parse_yaml(ctx: _Ctx, text: str) -> dict[str, _NodeIn]:
    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark
        raise ctx.fail(mark.line + 1 if mark else None, None, f"not valid YAML: {exc.problem}") from None
    except yaml.YAMLError as exc:
        raise ctx.fail(None, None, f"not valid YAML: {exc}") from None
    if root is None:
        raise ctx.fail(None, "stations", "the file is empty")
    top = _mapping(ctx, root, "<top>", ("version", "stations"))
    if "version" in top and _scalar(ctx, top["version"][1], "version") not in ("1", "1.0"):
        raise ctx.fail(_line(top["version"][1]), "version", "unsupported version; expected 1")
    if "stations" not in top:
        raise ctx.fail(_line(root), "stations", "missing required field")
    stations: dict[str, _NodeIn] = {}
    for i, n in enumerate(_seq(ctx, top["stations"][1], "stations")):
        _yaml_node(ctx, n, "station", i, stations, None)
    return stations


def _yaml_node(
    ctx: _Ctx,
    node: yaml.Node,
    kind: str,
    index: int,
    siblings: dict[str, _NodeIn],
    station: str | None,
    parent_where: str = "",
) -> None:
    child_key = CHILDREN.get(kind, "points")
    allowed = ["code", "name", child_key] + (["device_type"] if kind == "device" else [])
    prefix = f"{parent_where}." if parent_where else ""
    where = f"{prefix}{PLURAL[kind]}[{index}]"
    m = _mapping(ctx, node, where, allowed)
    if "code" not in m:
        raise ctx.fail(_line(node), f"{where}.code", "missing required field")
    code_node = m["code"][1]
    code = ctx.text(
        _scalar(ctx, code_node, f"{where}.code"),
        _line(code_node),
        f"{where}.code",
        limit=MAX_CODE,
        required=True,
    )
    assert code is not None
    where = f"{prefix}{PLURAL[kind]}[{code}]"
    name = None
    if "name" in m:
        nn = m["name"][1]
        name = ctx.text(_scalar(ctx, nn, f"{where}.name"), _line(nn), f"{where}.name", limit=MAX_NAME)
    dtype = None
    if "device_type" in m:
        dn = m["device_type"][1]
        dtype = _device_type(ctx, _scalar(ctx, dn, f"{where}.device_type"), _line(dn), f"{where}.device_type")
    me = ctx.merge_node(siblings, kind, code, name, _line(node), where, device_type=dtype, repeat_ok=False)
    station = station or code
    if child_key not in m:
        return
    items = _seq(ctx, m[child_key][1], f"{where}.{child_key}")
    if kind == "component":
        for i, pn in enumerate(items):
            _yaml_point(ctx, pn, i, where, me, station)
        return
    child_kind = ASSET_KINDS[ASSET_KINDS.index(kind) + 1]
    for i, cn in enumerate(items):
        _yaml_node(ctx, cn, child_kind, i, me.children, station, where)


def _yaml_point(
    ctx: _Ctx, node: yaml.Node, index: int, parent_where: str, component: _NodeIn, station: str
) -> None:
    where = f"{parent_where}.points[{index}]"
    m = _mapping(ctx, node, where, ("code", *POINT_FIELDS))
    if "code" not in m:
        raise ctx.fail(_line(node), f"{where}.code", "missing required field")
    code = ctx.text(
        _scalar(ctx, m["code"][1], f"{where}.code"),
        _line(m["code"][1]),
        f"{where}.code",
        limit=MAX_CODE,
        required=True,
    )
    assert code is not None
    where = f"{parent_where}.points[{code}]"
    values: dict[str, Any] = {}
    for key, (_, vnode) in m.items():
        if key == "code":
            continue
        if key == "regions":
            values[key] = (
                yaml.safe_load(yaml.serialize(vnode))
                if not isinstance(vnode, yaml.ScalarNode)
                else _scalar(ctx, vnode, f"{where}.regions")
            )
        else:
            values[key] = _scalar(ctx, vnode, f"{where}.{key}")

    def locate(keys: tuple[str, ...]) -> int | None:
        return _line(_walk(node, keys))

    component.points[code] = ctx.point(station, values, code, _line(node), where, locate)


def _device_type(ctx: _Ctx, value: str | None, line: int | None, fld: str) -> str | None:
    from irpatrol.store.sgcc import DEVICE_TYPE_MAX

    v = ctx.text(value, line, fld, limit=MAX_SHORT)
    if v is not None and v.isdigit() and not 1 <= int(v) <= DEVICE_TYPE_MAX:
        raise ctx.fail(line, fld, f"an SGCC device-type code is 1 to {DEVICE_TYPE_MAX}, got {v}")
    return v


# --------------------------------------------------------------------------- CSV


def _parse_csv(ctx: _Ctx, text: str) -> dict[str, _NodeIn]:
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        header = next(reader)
    except StopIteration:
        raise ctx.fail(None, "station_code", "the file is empty") from None
    except csv.Error as exc:
        raise ctx.fail(1, None, f"not valid CSV: {exc}") from None
    cols = [h.strip().lower() for h in header]
    for h in cols:
        if h not in CSV_COLUMNS:
            raise ctx.fail(1, h or "<blank column>", f"unknown column; expected {', '.join(CSV_COLUMNS)}")
    if "station_code" not in cols:
        raise ctx.fail(1, "station_code", "the required column is missing")
    if len(set(cols)) != len(cols):
        dup = next(c for c in cols if cols.count(c) > 1)
        raise ctx.fail(1, dup, "the column appears twice")
    stations: dict[str, _NodeIn] = {}
    end = reader.line_num
    while True:
        start = end + 1
        try:
            row = next(reader)
        except StopIteration:
            break
        except csv.Error as exc:
            raise ctx.fail(start, None, f"not valid CSV: {exc}") from None
        end = reader.line_num
        if not any(c.strip() for c in row) or row[0].lstrip().startswith("#"):
            continue
        if len(row) > len(cols):
            raise ctx.fail(start, None, f"{len(row)} values but the header has {len(cols)} columns")
        _csv_row(ctx, dict(zip(cols, (c.strip() for c in row), strict=False)), start, stations)
    return stations


def _csv_row(ctx: _Ctx, row: dict[str, str], line: int, stations: dict[str, _NodeIn]) -> None:
    siblings = stations
    parent: _NodeIn | None = None
    station = ""
    missing_from: str | None = None
    for kind in ASSET_KINDS:
        code = ctx.text(row.get(f"{kind}_code"), line, f"{kind}_code", limit=MAX_CODE)
        if code is None:
            missing_from = missing_from or kind
            continue
        if missing_from is not None:
            raise ctx.fail(line, f"{missing_from}_code", f"needed because {kind}_code is given")
        name = ctx.text(row.get(f"{kind}_name"), line, f"{kind}_name", limit=MAX_NAME)
        dtype = _device_type(ctx, row.get("device_type"), line, "device_type") if kind == "device" else None
        parent = ctx.merge_node(siblings, kind, code, name, line, kind, device_type=dtype, repeat_ok=True)
        siblings = parent.children
        station = station or code
    point_code = ctx.text(row.get("point_code"), line, "point_code", limit=MAX_CODE)
    if point_code is None:
        given = [k for k in ("point_name", *POINT_FIELDS[1:]) if row.get(k)]
        if given:
            raise ctx.fail(line, "point_code", f"needed because {given[0]} is given")
        return
    if missing_from is not None or parent is None:
        raise ctx.fail(
            line,
            f"{missing_from or 'station'}_code",
            "a point needs its station, area, bay, device and component codes",
        )
    values: dict[str, Any] = {k: row.get(k) for k in POINT_FIELDS if k != "name"}
    values["name"] = row.get("point_name")
    raw = (row.get("regions") or "").strip()
    if raw:
        try:
            values["regions"] = json.loads(raw)
        except json.JSONDecodeError as exc:
            raise ctx.fail(line, "regions", f"not valid JSON: {exc.msg} (character {exc.pos + 1})") from None
    else:
        values["regions"] = None
    parent.points[point_code] = ctx.point(station, values, point_code, line, "", lambda keys: line)


# --------------------------------------------------------------------------- apply


def detect_format(data_text: str, path: str, fmt: str | None = None) -> str:
    """``csv`` or ``yaml``: ``fmt`` if given, else by ``path``'s suffix, else by the first line."""
    if fmt is not None:
        if fmt not in ("csv", "yaml"):
            raise DataFileError(path, f"unknown format {fmt!r}; expected csv or yaml")
        return fmt
    low = path.lower()
    if low.endswith(".csv"):
        return "csv"
    if low.endswith((".yaml", ".yml", ".json")):
        return "yaml"
    first = next((ln for ln in data_text.splitlines() if ln.strip()), "")
    return "csv" if "station_code" in first and "," in first else "yaml"


def import_assets(
    session: Session,
    data: bytes,
    *,
    path: str = "<assets>",
    fmt: str | None = None,
    default_rules: str = DEFAULT_RULES,
) -> dict[str, int]:
    """Create or update stations, areas, bays, devices, components and points from a CSV or YAML file.

    ``fmt`` is ``csv`` or ``yaml``; by default it is taken from ``path``'s suffix, else
    sniffed from the first line.  ``default_rules`` is the rule pack that checks the part
    of points that name none (the server's ``rules`` setting).  Nothing is committed:
    the caller commits, or rolls back when this raises.

    Returns the number of each level in the file (``stations`` … ``points``) and how many
    rows were ``created``, ``updated`` and left ``unchanged``.

    Raises
    ------
    DataFileError
        With ``path``, ``line`` and ``field`` of the first problem; nothing was written.
    """
    text = _decode(data, path)
    ctx = _Ctx(path, default_rules)
    kind = detect_format(text, path, fmt)
    tree = _parse_csv(ctx, text) if kind == "csv" else _parse_yaml(ctx, text)
    if not tree:
        raise ctx.fail(None, "station_code" if kind == "csv" else "stations", "the file describes no station")
    counts = {PLURAL[k]: 0 for k in (*ASSET_KINDS, "point")}
    counts.update(created=0, updated=0, unchanged=0)
    for station in tree.values():
        _apply_station(ctx, session, station, counts)
    session.flush()
    return counts


def _bump(counts: dict[str, int], outcome: str) -> None:
    counts[outcome] += 1


def _apply_station(ctx: _Ctx, session: Session, node: _NodeIn, counts: dict[str, int]) -> None:
    row = session.scalar(
        select(Asset).where(Asset.parent_id.is_(None), Asset.kind == "station", Asset.code == node.code)
    )
    if row is None:
        row = Asset(kind="station", code=node.code, name=node.name or node.code, parent_id=None)
        session.add(row)
        session.flush()
        row.station_id = row.id
        _bump(counts, "created")
    else:
        _bump(counts, _set(row, name=node.name or row.name))
    counts["stations"] += 1
    existing = {
        (a.parent_id, a.code): a for a in session.scalars(select(Asset).where(Asset.station_id == row.id))
    }
    points = {p.code: p for p in session.scalars(select(Point).where(Point.station_id == row.id))}
    for child in node.children.values():
        _apply_node(ctx, session, child, row, row.id, existing, points, counts)


def _apply_node(
    ctx: _Ctx,
    session: Session,
    node: _NodeIn,
    parent: Asset,
    station_id: int,
    existing: dict[tuple[int | None, str], Asset],
    points: dict[str, Point],
    counts: dict[str, int],
) -> None:
    row = existing.get((parent.id, node.code))
    if row is not None and row.kind != node.kind:
        raise ctx.fail(
            node.line,
            f"{node.kind}_code",
            f"code {node.code!r} under {parent.code!r} is a {row.kind} in the database, not a {node.kind}",
        )
    if row is None:
        row = Asset(
            parent_id=parent.id,
            kind=node.kind,
            code=node.code,
            name=node.name or node.code,
            device_type=node.device_type,
            station_id=station_id,
        )
        session.add(row)
        session.flush()
        existing[(parent.id, node.code)] = row
        _bump(counts, "created")
    else:
        changes: dict[str, Any] = {"name": node.name or row.name}
        if node.kind == "device" and node.device_type is not None:
            changes["device_type"] = node.device_type
        _bump(counts, _set(row, **changes))
    counts[PLURAL[node.kind]] += 1
    for child in node.children.values():
        _apply_node(ctx, session, child, row, station_id, existing, points, counts)
    if node.points:
        device_type = _device_type_of(row, existing)
        for p in node.points.values():
            _apply_point(session, p, row, station_id, device_type, points, counts)


def _device_type_of(component: Asset, existing: dict[tuple[int | None, str], Asset]) -> str | None:
    by_id = {a.id: a for a in existing.values()}
    device = by_id.get(component.parent_id) if component.parent_id is not None else None
    return device.device_type if device is not None else None


def _apply_point(
    session: Session,
    p: _PointIn,
    component: Asset,
    station_id: int,
    device_type: str | None,
    points: dict[str, Point],
    counts: dict[str, int],
) -> None:
    values: dict[str, Any] = {
        "component_id": component.id,
        "preset_id": p.preset_id,
        "device_type": device_type,
        "part": p.part,
        "phase": p.phase,
        "heating_type": p.heating_type,
        "rated_current_a": p.rated_current_a,
        "rule_pack": p.rule_pack,
        "spec": p.spec,
    }
    row = points.get(p.code)
    if row is None:
        row = Point(code=p.code, name=p.name or p.code, station_id=station_id, **values)
        session.add(row)
        points[p.code] = row
        _bump(counts, "created")
    else:
        _bump(counts, _set(row, name=p.name or row.name, **values))
    counts["points"] += 1


def _set(row: Any, **values: Any) -> str:
    """Set attributes that differ; ``updated`` if any did, else ``unchanged``."""
    changed = False
    for k, v in values.items():
        if getattr(row, k) != v:
            setattr(row, k, v)
            changed = True
    return "updated" if changed else "unchanged"


# --------------------------------------------------------------------------- views


def asset_dict(a: Asset) -> dict[str, Any]:
    """One asset as JSON-ready fields (no children)."""
    return {
        "id": a.id,
        "kind": a.kind,
        "code": a.code,
        "name": a.name,
        "parent_id": a.parent_id,
        "station_id": a.station_id,
        "device_type": a.device_type,
    }


def point_brief(p: Point) -> dict[str, Any]:
    """The fields of a point shown in trees and plans."""
    return {
        "id": p.id,
        "code": p.code,
        "name": p.name,
        "part": p.part,
        "phase": p.phase,
        "preset_id": p.preset_id,
        "heating_type": p.heating_type,
    }


def asset_tree(
    session: Session, *, station_id: int | None = None, root_id: int | None = None
) -> list[dict[str, Any]]:
    """Nested ``children`` (and ``points`` under components) of every station, or of one station or subtree.

    Two queries whatever the size: all assets and points of the station(s), then the
    tree is assembled in memory.
    """
    aq = select(Asset)
    pq = select(Point)
    if station_id is not None:
        aq = aq.where(or_(Asset.station_id == station_id, Asset.id == station_id))
        pq = pq.where(Point.station_id == station_id)
    assets = list(session.scalars(aq.order_by(Asset.id)))
    nodes = {a.id: {**asset_dict(a), "children": [], "points": []} for a in assets}
    for p in session.scalars(pq.order_by(Point.id)):
        if p.component_id in nodes:
            nodes[p.component_id]["points"].append(point_brief(p))
    roots = []
    for a in assets:
        node = nodes[a.id]
        if a.parent_id is not None and a.parent_id in nodes:
            nodes[a.parent_id]["children"].append(node)
        elif a.parent_id is None:
            roots.append(node)
    if root_id is not None:
        return [nodes[root_id]] if root_id in nodes else []
    return roots


def asset_path(session: Session, asset_id: int | None) -> list[Asset]:
    """The asset and its ancestors, station first (at most five rows)."""
    out: list[Asset] = []
    seen: set[int] = set()
    while asset_id is not None and asset_id not in seen:
        seen.add(asset_id)
        a = session.get(Asset, asset_id)
        if a is None:
            break
        out.append(a)
        asset_id = a.parent_id
    return out[::-1]


def point_path(session: Session, point: Point) -> dict[str, Asset]:
    """The point's station, area, bay, device and component by kind."""
    return {a.kind: a for a in asset_path(session, point.component_id)}


def point_trend(
    session: Session, point: Point, *, since: datetime | None = None, until: datetime | None = None
) -> list[dict[str, Any]]:
    """One entry per analysed capture at ``point``, oldest first (time taken, else received).

    The entry's numbers come from the finding of the configured point (its subject is the
    point's code); a capture analysed without regions contributes its worst finding.
    ``max_c`` is the capture's maximum (°C), else T1.  Temperatures °C, differences K,
    δ in %, ``load_ratio`` = measured / rated current; also the rated-load values
    (:func:`irpatrol.store.series.point_series`).
    """
    return point_series(session, point, since=since, until=until)
