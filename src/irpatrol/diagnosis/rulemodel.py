"""The rule-pack data model: defect grades, criteria, levels, limits, parts and packs.

Frozen dataclasses that :mod:`irpatrol.diagnosis.rulepack` builds from YAML and
:mod:`irpatrol.diagnosis.grading` evaluates; every rule carries its source clause and a
verification mark (V, P, R or ?).  No I/O here.
"""

from __future__ import annotations

import enum
import operator
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, fields
from types import MappingProxyType
from typing import Any

from irpatrol.errors import ParameterError

SCHEMA_VERSION = 1
BUILTIN_PACKS = ("dlt664-2016", "gbt11022", "neta-mts")
VERIFICATION_MARKS: Mapping[str, tuple[str, str]] = {
    "V": ("已在公开资料中核实", "confirmed in the research corpus"),
    "P": ("部分核实，其余凭记忆", "partly confirmed, the rest recalled"),
    "R": ("凭记忆，须对照标准原文核实", "recalled, must be checked against the standard"),
    "?": ("来源不确定或相互矛盾", "uncertain or conflicting sources"),
}
HEATING_TYPES = ("current", "voltage")
QUANTITIES: Mapping[str, tuple[str, str, str]] = {
    # quantity -> (symbol, unit, method)
    "hot_c": ("T1", "°C", "surface-temperature"),
    "delta_t_k": ("ΔT", "K", "temperature-difference"),
    "rise_k": ("T1−T0", "K", "rise-over-ambient"),
    "delta_pct": ("δ", "%", "relative-difference"),
}
OPERATORS: Mapping[str, tuple[str, Callable[[float, float], bool]]] = {
    "gt": (">", operator.gt),
    "ge": ("≥", operator.ge),
    "lt": ("<", operator.lt),
    "le": ("≤", operator.le),
}
ENVIRONMENT_QUANTITIES = ("wind_m_s", "humidity_pct", "raining")


class Grade(enum.IntEnum):
    """Defect grade: 正常 / 一般 / 严重 / 危急 (NETA priorities 4+3 / 2 / 1 map to 1 / 2 / 3)."""

    NORMAL = 0
    GENERAL = 1
    SERIOUS = 2
    CRITICAL = 3

    @property
    def label_zh(self) -> str:
        """Chinese name of the grade."""
        return ("正常", "一般缺陷", "严重缺陷", "危急缺陷")[self.value]

    @property
    def label_en(self) -> str:
        """English name of the grade."""
        return ("normal", "general defect", "serious defect", "critical defect")[self.value]


@dataclass(frozen=True, kw_only=True)
class Text:
    """A bilingual text."""

    zh: str
    en: str

    def get(self, lang: str) -> str:
        """The text in ``lang`` (``zh`` or ``en``)."""
        return self.zh if lang == "zh" else self.en


@dataclass(frozen=True, kw_only=True)
class Criterion:
    """One threshold of a part: ``quantity op value`` reaches ``level``."""

    id: str
    level: str
    quantity: str
    op: str
    value: float
    clause: str
    verification: str

    @property
    def method(self) -> str:
        """The judgment method this threshold belongs to."""
        return QUANTITIES[self.quantity][2]

    def holds(self, x: float) -> bool:
        """Whether the measured quantity ``x`` meets the threshold."""
        return OPERATORS[self.op][1](x, self.value)

    def describe(self) -> str:
        """E.g. ``ΔT > 15 K``."""
        symbol, unit, _ = QUANTITIES[self.quantity]
        return f"{symbol} {OPERATORS[self.op][0]} {self.value:g} {unit}"


@dataclass(frozen=True, kw_only=True)
class Level:
    """A defect class of a pack (e.g. 严重缺陷, NETA priority 2) and its action."""

    id: str
    grade: Grade
    priority: int | None
    name: Text
    clause: str
    verification: str
    action: Text
    action_by_heating: Mapping[str, Text] = field(default_factory=dict)

    def action_for(self, heating: str) -> Text:
        """The recommended action for a part of the given heating type."""
        return self.action_by_heating.get(heating, self.action)


@dataclass(frozen=True, kw_only=True)
class Limit:
    """A precondition value with its source (``applies_to`` lists heating types; empty = all)."""

    value: float
    clause: str
    verification: str
    applies_to: tuple[str, ...] = ()

    def applies(self, heating: str) -> bool:
        """Whether the limit applies to a part of this heating type."""
        return not self.applies_to or heating in self.applies_to


@dataclass(frozen=True, kw_only=True)
class EnvironmentLimit:
    """An environment condition: ``quantity`` above ``max`` (or rain) raises ``flag``."""

    id: str
    quantity: str
    max: float | None
    flag: str
    tentative: bool
    clause: str
    verification: str


@dataclass(frozen=True, kw_only=True)
class Preconditions:
    """Conditions evaluated before grading; all optional."""

    min_rise_for_delta_k: Limit | None = None
    min_load_ratio: Limit | None = None
    load_correction: Limit | None = None
    environment: tuple[EnvironmentLimit, ...] = ()


@dataclass(frozen=True, kw_only=True)
class Part:
    """A device part with its thresholds (criteria ordered as written, δ-table rows last)."""

    id: str
    heating: str
    name: Text
    clause: str
    verification: str
    criteria: tuple[Criterion, ...]
    fault: Text | None = None
    advice: Text | None = None
    note: Text | None = None
    delta_class: str | None = None
    aliases: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, object]:
        """JSON-ready description (used by ``irpatrol rules list --json``)."""
        return {
            "id": self.id,
            "aliases": list(self.aliases),
            "heating": self.heating,
            "name_zh": self.name.zh,
            "name_en": self.name.en,
            "fault_zh": self.fault.zh if self.fault else None,
            "fault_en": self.fault.en if self.fault else None,
            "clause": self.clause,
            "verification": self.verification,
            "delta_class": self.delta_class,
            "criteria": [
                {
                    "id": c.id,
                    "level": c.level,
                    "quantity": c.quantity,
                    "op": c.op,
                    "value": c.value,
                    "text": c.describe(),
                    "method": c.method,
                    "clause": c.clause,
                    "verification": c.verification,
                }
                for c in self.criteria
            ],
            "advice_zh": self.advice.zh if self.advice else None,
            "advice_en": self.advice.en if self.advice else None,
            "note_zh": self.note.zh if self.note else None,
            "note_en": self.note.en if self.note else None,
        }


@dataclass(frozen=True, kw_only=True)
class RulePack:
    """A validated rule pack.  ``levels`` run from least to most severe."""

    name: str
    version: str
    standard: str
    title: Text
    sources: tuple[str, ...]
    digest: str
    levels: tuple[Level, ...]
    preconditions: Preconditions
    parts: Mapping[str, Part]
    default_part: str | None = None

    def __reduce__(self) -> tuple[Any, ...]:
        """Pickle support (worker processes, distributed engines); ``parts`` travels as a dict."""
        state = {f.name: getattr(self, f.name) for f in fields(self)}
        state["parts"] = dict(self.parts)
        return (_rebuild_pack, (state,))

    def level(self, level_id: str) -> Level:
        """The level called ``level_id``."""
        for lvl in self.levels:
            if lvl.id == level_id:
                return lvl
        raise ParameterError("level", level_id, f"a level of rule pack {self.name}")

    def rank(self, level_id: str) -> int:
        """Severity rank of a level (0 = least severe)."""
        return [lvl.id for lvl in self.levels].index(level_id)

    def part(self, part_id: str) -> Part:
        """The part called ``part_id`` (or one of its aliases, or the pack's default part)."""
        if part_id in self.parts:
            return self.parts[part_id]
        for p in self.parts.values():
            if part_id in p.aliases:
                return p
        if self.default_part is not None:
            return self.parts[self.default_part]
        raise ParameterError(
            "part", part_id, f"a part of rule pack {self.name} ({', '.join(sorted(self.parts))})"
        )


def _rebuild_pack(state: dict[str, Any]) -> RulePack:
    """Unpickle a :class:`RulePack` (its parts mapping read-only again)."""
    return RulePack(**{**state, "parts": MappingProxyType(state["parts"])})
