"""Rule packs: grading tables as versioned YAML data, read and validated into the model.

The model (frozen dataclasses) is :mod:`irpatrol.diagnosis.rulemodel`; its names are
re-exported here.

A pack is a YAML file (``schema_version: 1``) with ``levels`` (defect classes, each mapped to a
:class:`Grade`), ``preconditions`` (minimum hot-spot rise for δ in K, minimum load ratio,
load-correction validity, environment limits in m/s, % and rain), an optional
``relative_difference`` table (δ thresholds in %) and ``parts`` whose ``criteria`` give
thresholds per level: ``hot_c`` (hot-spot temperature, °C), ``delta_t_k`` (T1 − T2, K),
``rise_k`` (T1 − T0, K) and ``delta_pct`` (δ, %), each suffixed by ``_gt``, ``_ge``, ``_lt`` or
``_le``.  Every rule carries its source clause and a verification mark (V, P, R or ?).

``load_rule_pack`` takes a built-in name (``dlt664-2016``, ``gbt11022``, ``neta-mts``) or a path.
A pack may ``extends:`` another (name or path relative to itself); the extending file's keys
override the base's mapping by mapping, a level's thresholds under ``criteria`` are replaced
as a whole, and a key set to ``null`` removes it.  Errors are :class:`RulePackError` naming
the file, the 1-based line (from the YAML node marks) and the field.
"""

from __future__ import annotations

import hashlib
import json
from functools import cache
from importlib import resources
from pathlib import Path
from types import MappingProxyType
from typing import Any, NoReturn

import yaml

from irpatrol.diagnosis.rulemodel import (
    BUILTIN_PACKS,
    ENVIRONMENT_QUANTITIES,
    HEATING_TYPES,
    OPERATORS,
    QUANTITIES,
    SCHEMA_VERSION,
    VERIFICATION_MARKS,
    Criterion,
    EnvironmentLimit,
    Grade,
    Level,
    Limit,
    Part,
    Preconditions,
    RulePack,
    Text,
)
from irpatrol.errors import FileAccessError, ParameterError, RulePackError

__all__ = [
    "BUILTIN_PACKS",
    "ENVIRONMENT_QUANTITIES",
    "HEATING_TYPES",
    "OPERATORS",
    "QUANTITIES",
    "SCHEMA_VERSION",
    "VERIFICATION_MARKS",
    "Criterion",
    "EnvironmentLimit",
    "Grade",
    "Level",
    "Limit",
    "Part",
    "Preconditions",
    "RulePack",
    "Text",
    "list_parts",
    "load_rule_pack",
]

# --------------------------------------------------------------------------- reading YAML

_Key = tuple[str | int, ...]
_Locs = dict[_Key, tuple[str, int]]


def _compose(source: str, text: str) -> tuple[Any, _Locs]:
    """Parse YAML text into plain data plus the (file, line) of every key path."""
    locs: _Locs = {}
    loader = yaml.SafeLoader(text)
    try:
        node = loader.get_single_node()
        if node is None:
            raise RulePackError(source, "empty rule pack", line=1)
        locs[()] = (source, node.start_mark.line + 1)
        return _to_data(loader, node, (), locs, source), locs
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark is not None else None
        msg = f"malformed YAML: {exc.problem or exc.context}"
        if exc.problem and exc.context and exc.context_mark is not None:
            msg += f" ({exc.context} at line {exc.context_mark.line + 1})"
        raise RulePackError(source, msg, line=line) from exc
    except yaml.YAMLError as exc:
        msg = f"malformed YAML: {exc}"
        raise RulePackError(source, msg) from exc
    finally:
        loader.dispose()


def _to_data(loader: yaml.SafeLoader, node: yaml.Node, key: _Key, locs: _Locs, source: str) -> Any:
    if isinstance(node, yaml.MappingNode):
        loader.flatten_mapping(node)
        out: dict[str, Any] = {}
        for knode, vnode in node.value:
            k = loader.construct_object(knode, deep=True)
            line = knode.start_mark.line + 1
            if not isinstance(k, str):
                msg = f"keys must be strings, got {k!r}"
                raise RulePackError(source, msg, line=line, field=_dotted(key))
            if k in out:
                msg = "duplicate key"
                raise RulePackError(source, msg, line=line, field=_dotted((*key, k)))
            locs[(*key, k)] = (source, line)
            out[k] = _to_data(loader, vnode, (*key, k), locs, source)
        return out
    if isinstance(node, yaml.SequenceNode):
        items = []
        for i, item in enumerate(node.value):
            locs[(*key, i)] = (source, item.start_mark.line + 1)
            items.append(_to_data(loader, item, (*key, i), locs, source))
        return items
    return loader.construct_object(node, deep=True)


def _dotted(key: _Key) -> str:
    return ".".join(str(k) for k in key)


def _is_path(ref: str | Path) -> bool:
    return isinstance(ref, Path) or "/" in ref or "\\" in ref or ref.endswith((".yaml", ".yml"))


def _read(ref: str | Path, *, relative_to: Path | None = None) -> tuple[str, Path | None, str]:
    """(source label, path or None for a built-in, text) of a pack reference."""
    if not _is_path(ref):
        name = str(ref)
        if name not in BUILTIN_PACKS:
            expected = f"a built-in rule pack ({', '.join(BUILTIN_PACKS)}) or a path to a YAML file"
            raise ParameterError("rules", name, expected)
        text = resources.files("irpatrol.diagnosis.rules").joinpath(f"{name}.yaml").read_text("utf-8")
        return f"<builtin>/{name}.yaml", None, text
    path = Path(ref)
    if relative_to is not None and not path.is_absolute():
        path = relative_to / path
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise RulePackError(path, "not UTF-8 text") from exc
    except OSError as exc:
        raise FileAccessError(path, f"cannot read rule pack: {exc.strerror or exc}") from exc
    return str(path), path, text


def _replace_whole(key: _Key) -> bool:
    """Keys whose value an extending pack replaces rather than merges (a level's thresholds)."""
    return len(key) == 4 and key[0] == "parts" and key[2] == "criteria"


def _merge(base: Any, over: Any, key: _Key) -> Any:
    if not isinstance(base, dict) or not isinstance(over, dict) or _replace_whole(key):
        return over
    out = dict(base)
    for k, v in over.items():
        if v is None:
            out.pop(k, None)
        elif k in out:
            out[k] = _merge(out[k], v, (*key, k))
        else:
            out[k] = v
    return out


def _load_raw(
    ref: str | Path, *, relative_to: Path | None = None, chain: tuple[str, ...] = ()
) -> tuple[dict[str, Any], _Locs, tuple[str, ...]]:
    """Read a pack and, recursively, what it extends; returns merged data, locations, sources."""
    source, path, text = _read(ref, relative_to=relative_to)
    ident = str(path.resolve()) if path is not None else source
    if ident in chain:
        msg = f"`extends` forms a cycle: {' -> '.join((*chain, ident))}"
        raise RulePackError(source, msg, field="extends")
    data, locs = _compose(source, text)
    if not isinstance(data, dict):
        raise RulePackError(source, "a rule pack must be a YAML mapping", line=locs[()][1])
    version = data.get("schema_version")
    if version != SCHEMA_VERSION or isinstance(version, bool):
        line = locs.get(("schema_version",), locs[()])[1]
        msg = f"schema_version must be {SCHEMA_VERSION}, got {version!r}"
        raise RulePackError(source, msg, line=line, field="schema_version")
    parent = data.pop("extends", None)
    if parent is None:
        return data, locs, (source,)
    if not isinstance(parent, str):
        line = locs[("extends",)][1]
        msg = f"must be a built-in pack name or a path, got {parent!r}"
        raise RulePackError(source, msg, line=line, field="extends")
    base, base_locs, base_sources = _load_raw(
        parent, relative_to=path.parent if path is not None else None, chain=(*chain, ident)
    )
    return _merge(base, data, ()), {**base_locs, **locs}, (*base_sources, source)


# --------------------------------------------------------------------------- validation


class _Checker:
    """Typed access to the merged data; every failure names file, line and field."""

    def __init__(self, locs: _Locs, default_source: str) -> None:
        self.locs = locs
        self.default_source = default_source

    def fail(self, key: _Key, detail: str) -> NoReturn:
        k = key
        while k not in self.locs and k:
            k = k[:-1]
        source, line = self.locs.get(k, (self.default_source, 1))
        raise RulePackError(source, detail, line=line, field=_dotted(key) or None)

    def mapping(self, value: Any, key: _Key, allowed: tuple[str, ...] | None = None) -> dict[str, Any]:
        if not isinstance(value, dict):
            self.fail(key, f"must be a mapping, got {type(value).__name__}")
        if allowed is not None:
            for k in value:
                if k not in allowed:
                    self.fail((*key, k), f"unknown field (expected one of: {', '.join(allowed)})")
        return value

    def required(self, m: dict[str, Any], key: _Key, name: str) -> Any:
        if name not in m or m[name] is None:
            self.fail((*key, name), "required field is missing")
        return m[name]

    def string(self, m: dict[str, Any], key: _Key, name: str) -> str:
        value = self.required(m, key, name)
        if not isinstance(value, str) or not value.strip():
            self.fail((*key, name), f"must be a non-empty string, got {value!r}")
        return value

    def opt_string(self, m: dict[str, Any], key: _Key, name: str) -> str | None:
        return None if m.get(name) is None else self.string(m, key, name)

    def number(self, value: Any, key: _Key) -> float:
        if isinstance(value, bool) or not isinstance(value, int | float) or value != value:
            self.fail(key, f"must be a number, got {value!r}")
        return float(value)

    def choice(self, m: dict[str, Any], key: _Key, name: str, options: tuple[str, ...]) -> str:
        value = self.required(m, key, name)
        if value not in options:
            self.fail((*key, name), f"must be one of {', '.join(options)}; got {value!r}")
        return str(value)

    def text(self, m: dict[str, Any], key: _Key, name: str) -> Text:
        t = self.mapping(self.required(m, key, name), (*key, name), ("zh", "en"))
        return Text(zh=self.string(t, (*key, name), "zh"), en=self.string(t, (*key, name), "en"))

    def opt_text(self, m: dict[str, Any], key: _Key, name: str) -> Text | None:
        return None if m.get(name) is None else self.text(m, key, name)

    def mark(self, m: dict[str, Any], key: _Key) -> str:
        return self.choice(m, key, "verification", tuple(VERIFICATION_MARKS))


_TOP = (
    "schema_version", "pack", "version", "standard", "title", "default_part",
    "levels", "preconditions", "relative_difference", "parts",
)  # fmt: skip
_LEVEL = ("grade", "priority", "name", "clause", "verification", "action", "action_by_heating")
_LIMIT = ("value", "applies_to", "clause", "verification")
_ENV = ("quantity", "max", "flag", "tentative", "clause", "verification")
_PART = (
    "heating", "name", "fault", "clause", "verification", "aliases", "delta_class",
    "advice", "note", "criteria",
)  # fmt: skip


def _levels(c: _Checker, raw: Any) -> tuple[Level, ...]:
    key: _Key = ("levels",)
    m = c.mapping(raw, key)
    if not m:
        c.fail(key, "at least one level is required")
    levels = []
    for lid, lraw in m.items():
        k = (*key, lid)
        lm = c.mapping(lraw, k, _LEVEL)
        grade_name = c.choice(lm, k, "grade", ("general", "serious", "critical"))
        priority = lm.get("priority")
        if priority is not None and (isinstance(priority, bool) or not isinstance(priority, int)):
            c.fail((*k, "priority"), f"must be an integer, got {priority!r}")
        by_heating = {}
        if lm.get("action_by_heating") is not None:
            hm = c.mapping(lm["action_by_heating"], (*k, "action_by_heating"), HEATING_TYPES)
            by_heating = {h: c.text(hm, (*k, "action_by_heating"), h) for h in hm}
        levels.append(
            Level(
                id=lid,
                grade=Grade[grade_name.upper()],
                priority=priority,
                name=c.text(lm, k, "name"),
                clause=c.string(lm, k, "clause"),
                verification=c.mark(lm, k),
                action=c.text(lm, k, "action"),
                action_by_heating=by_heating,
            )
        )
    # least severe first: by grade, then higher NETA priority number first, then as written
    order = {lvl.id: i for i, lvl in enumerate(levels)}
    levels.sort(key=lambda lvl: (lvl.grade, -(lvl.priority or 0), order[lvl.id]))
    return tuple(levels)


def _limit(c: _Checker, raw: Any, key: _Key) -> Limit:
    m = c.mapping(raw, key, _LIMIT)
    value = c.number(c.required(m, key, "value"), (*key, "value"))
    if value < 0:
        c.fail((*key, "value"), f"must be ≥ 0, got {value:g}")
    applies = m.get("applies_to") or []
    if not isinstance(applies, list) or any(a not in HEATING_TYPES for a in applies):
        c.fail((*key, "applies_to"), f"must be a list of {', '.join(HEATING_TYPES)}; got {applies!r}")
    return Limit(
        value=value,
        clause=c.string(m, key, "clause"),
        verification=c.mark(m, key),
        applies_to=tuple(applies),
    )


def _preconditions(c: _Checker, raw: Any) -> Preconditions:
    key: _Key = ("preconditions",)
    if raw is None:
        return Preconditions()
    names = ("min_rise_for_delta_k", "min_load_ratio", "load_correction", "environment")
    m = c.mapping(raw, key, names)
    limits = {n: _limit(c, m[n], (*key, n)) for n in names[:3] if m.get(n) is not None}
    env = []
    if m.get("environment") is not None:
        ekey = (*key, "environment")
        for eid, eraw in c.mapping(m["environment"], ekey).items():
            k = (*ekey, eid)
            em = c.mapping(eraw, k, _ENV)
            quantity = c.choice(em, k, "quantity", ENVIRONMENT_QUANTITIES)
            maximum = None
            if quantity == "raining":
                if em.get("max") is not None:
                    c.fail((*k, "max"), "not allowed for quantity `raining` (rain is yes/no)")
            else:
                maximum = c.number(c.required(em, k, "max"), (*k, "max"))
            tentative = em.get("tentative", False)
            if not isinstance(tentative, bool):
                c.fail((*k, "tentative"), f"must be true or false, got {tentative!r}")
            env.append(
                EnvironmentLimit(
                    id=eid,
                    quantity=quantity,
                    max=maximum,
                    flag=c.string(em, k, "flag"),
                    tentative=tentative,
                    clause=c.string(em, k, "clause"),
                    verification=c.mark(em, k),
                )
            )
    return Preconditions(environment=tuple(env), **limits)


def _criteria(c: _Checker, raw: Any, key: _Key, part_id: str, level_ids: tuple[str, ...], *,
              clause: str, verification: str) -> list[Criterion]:  # fmt: skip
    out = []
    for lid, traw in c.mapping(raw, key, level_ids).items():
        k = (*key, lid)
        thresholds = c.mapping(traw, k)
        if not thresholds:
            c.fail(k, "at least one threshold is required (or remove the level)")
        for tkey, value in thresholds.items():
            quantity, _, op = tkey.rpartition("_")
            if quantity not in QUANTITIES or op not in OPERATORS:
                expected = f"<{'|'.join(QUANTITIES)}>_<{'|'.join(OPERATORS)}>"
                c.fail((*k, tkey), f"unknown threshold (expected {expected})")
            out.append(
                Criterion(
                    id=f"{part_id}.{lid}.{tkey}",
                    level=lid,
                    quantity=quantity,
                    op=op,
                    value=c.number(value, (*k, tkey)),
                    clause=clause,
                    verification=verification,
                )
            )
    return out


def _parts(c: _Checker, raw: Any, rd: Any, level_ids: tuple[str, ...]) -> dict[str, Part]:
    key: _Key = ("parts",)
    classes: dict[str, Any] = {}
    rd_clause = rd_mark = ""
    if rd is not None:
        rkey: _Key = ("relative_difference",)
        rm = c.mapping(rd, rkey, ("clause", "verification", "classes"))
        rd_clause, rd_mark = c.string(rm, rkey, "clause"), c.mark(rm, rkey)
        classes = c.mapping(c.required(rm, rkey, "classes"), (*rkey, "classes"))
        for cid, craw in classes.items():
            ck = (*rkey, "classes", cid)
            cm = c.mapping(craw, ck, ("name", *level_ids))
            c.text(cm, ck, "name")
            for lid in level_ids:
                if lid in cm:
                    c.number(cm[lid], (*ck, lid))
    m = c.mapping(raw, key)
    if not m:
        c.fail(key, "at least one part is required")
    parts = {}
    for pid, praw in m.items():
        k = (*key, pid)
        pm = c.mapping(praw, k, _PART)
        clause, mark = c.string(pm, k, "clause"), c.mark(pm, k)
        criteria = _criteria(c, c.required(pm, k, "criteria"), (*k, "criteria"), pid, level_ids,
                             clause=clause, verification=mark)  # fmt: skip
        delta_class = c.opt_string(pm, k, "delta_class")
        if delta_class is not None:
            if delta_class not in classes:
                c.fail((*k, "delta_class"), f"no such row in relative_difference.classes: {delta_class!r}")
            for lid in level_ids:
                if lid in classes[delta_class]:
                    criteria.append(
                        Criterion(
                            id=f"{pid}.{lid}.delta_pct_ge[{delta_class}]",
                            level=lid,
                            quantity="delta_pct",
                            op="ge",
                            value=float(classes[delta_class][lid]),
                            clause=f"{rd_clause} ({delta_class})",
                            verification=rd_mark,
                        )
                    )
        aliases = pm.get("aliases") or []
        if not isinstance(aliases, list) or not all(isinstance(a, str) for a in aliases):
            c.fail((*k, "aliases"), f"must be a list of strings, got {aliases!r}")
        parts[pid] = Part(
            id=pid,
            heating=c.choice(pm, k, "heating", HEATING_TYPES),
            name=c.text(pm, k, "name"),
            clause=clause,
            verification=mark,
            criteria=tuple(criteria),
            fault=c.opt_text(pm, k, "fault"),
            advice=c.opt_text(pm, k, "advice"),
            note=c.opt_text(pm, k, "note"),
            delta_class=delta_class,
            aliases=tuple(aliases),
        )
    seen: dict[str, str] = {}
    for p in parts.values():
        for name in (p.id, *p.aliases):
            if name in seen and seen[name] != p.id:
                c.fail(("parts", p.id, "aliases"), f"name {name!r} is already used by part {seen[name]!r}")
            seen[name] = p.id
    return parts


def _build(data: dict[str, Any], locs: _Locs, sources: tuple[str, ...]) -> RulePack:
    c = _Checker(locs, sources[-1])
    c.mapping(data, (), _TOP)
    levels = _levels(c, c.required(data, (), "levels"))
    level_ids = tuple(lvl.id for lvl in levels)
    parts = _parts(c, c.required(data, (), "parts"), data.get("relative_difference"), level_ids)
    default_part = c.opt_string(data, (), "default_part")
    if default_part is not None and default_part not in parts:
        c.fail(("default_part",), f"no such part: {default_part!r}")
    canonical = json.dumps(data, sort_keys=True, ensure_ascii=False, default=str)
    return RulePack(
        name=c.string(data, (), "pack"),
        version=str(c.required(data, (), "version")),
        standard=c.string(data, (), "standard"),
        title=c.text(data, (), "title"),
        sources=sources,
        digest=hashlib.sha256(canonical.encode("utf-8")).hexdigest(),
        levels=levels,
        preconditions=_preconditions(c, data.get("preconditions")),
        parts=MappingProxyType(parts),
        default_part=default_part,
    )


@cache
def _load_builtin(name: str) -> RulePack:
    return _build(*_load_raw(name))


def load_rule_pack(name_or_path: str | Path) -> RulePack:
    """Load a built-in pack by name (``dlt664-2016``, ``gbt11022``, ``neta-mts``) or a YAML file.

    Raises :class:`RulePackError` (file, line, field) for a malformed pack,
    :class:`FileAccessError` for an unreadable file and :class:`ParameterError` for an unknown name.
    """
    if not _is_path(name_or_path):
        return _load_builtin(str(name_or_path))
    return _build(*_load_raw(name_or_path))


def list_parts(pack: RulePack) -> tuple[Part, ...]:
    """The parts of a pack in the order written (``Part.to_dict()`` gives a JSON row)."""
    return tuple(pack.parts.values())
