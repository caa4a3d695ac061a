"""Grade one hot-spot reading against a rule pack: pure functions on plain data.

Quantities (DL/T 664): T1 hot spot, T2 the normal corresponding point (same part of a healthy
phase or same-type unit), T0 the ambient reference body, all °C; ΔT = T1 − T2 (K); temperature
rise T1 − T0 (K); relative temperature difference δ = (T1 − T2) / (T1 − T0) × 100 (%).

Every threshold of the part is evaluated and the most severe match decides (the surface-
temperature, temperature-difference and relative-difference methods combined, worst of).
Preconditions are evaluated first and reported as ``flags``:

* hot-spot rise below the pack's minimum (10 K in DL/T 664): δ is not used; if δ would reach a
  threshold while the load is low or unknown, the reading is tentatively 一般缺陷 and a retest at
  higher load is recommended;
* load below the pack's minimum (30 % of rated): the grade is tentative, retest at higher load;
* optional load correction to rated current: ΔT and rise × (I_rated / I)^n (n default 2), the
  hot-spot temperature becomes T0 + corrected rise; δ is unchanged by construction;
* environment (wind m/s, relative humidity %, rain) outside the pack's limits.

A :class:`Finding` holds facts only: the numbers, the deciding rule, the flags and a tuple of
:class:`Note` (a code plus its parameters: why the decision was made, which precondition
applied).  The bilingual explanation and recommendation are rendered from those facts where
they are shown (:mod:`irpatrol.pipeline.texts`), so a stored finding can be explained later,
in any language, by a newer version.

Example:
    >>> from irpatrol.diagnosis.grading import Reading, grade, load_rule_pack
    >>> f = grade(Reading(part="connector", t1_c=95.0, t2_c=40.0, t0_c=30.0, load_ratio=0.8),
    ...           pack=load_rule_pack("dlt664-2016"))
    >>> f.grade.name, f.rule_id, round(f.delta_pct or 0.0, 1)
    ('SERIOUS', 'connector.serious.hot_c_gt', 84.6)
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, fields
from typing import Any

from irpatrol.diagnosis.rulepack import (
    Criterion,
    Grade,
    Part,
    RulePack,
    Text,
    list_parts,
    load_rule_pack,
)
from irpatrol.errors import ParameterError

__all__ = [
    "Finding",
    "Grade",
    "Note",
    "Reading",
    "grade",
    "list_parts",
    "load_rule_pack",
    "rated_load_factor",
]

ABSOLUTE_ZERO_C = -273.15
"""0 K in °C."""

NoteValue = float | int | str | bool | None
"""A note parameter: a number (°C, K, %, a ratio), a rule id, a clause, a verification mark."""


def _check_float(name: str, value: object, *, minimum: float | None = None,
                 maximum: float | None = None, unit: str = "") -> None:  # fmt: skip
    ok = isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)
    if ok and minimum is not None and value < minimum:  # type: ignore[operator]
        ok = False
    if ok and maximum is not None and value > maximum:  # type: ignore[operator]
        ok = False
    if not ok:
        bounds = ""
        if minimum is not None:
            bounds += f" ≥ {minimum:g}"
        if maximum is not None:
            bounds += f" and ≤ {maximum:g}" if bounds else f" ≤ {maximum:g}"
        raise ParameterError(name, value, f"a finite number{bounds}{unit}")


@dataclass(frozen=True, kw_only=True)
class Reading:
    """One hot-spot measurement to grade (temperatures °C, load as I / I_rated, wind m/s, RH %)."""

    part: str
    t1_c: float
    t2_c: float | None = None
    t0_c: float | None = None
    load_ratio: float | None = None
    wind_m_s: float | None = None
    humidity_pct: float | None = None
    raining: bool | None = None

    def __post_init__(self) -> None:
        if not isinstance(self.part, str) or not self.part:
            raise ParameterError("part", self.part, "a part id of the rule pack")
        _check_float("t1_c", self.t1_c, minimum=ABSOLUTE_ZERO_C, unit=" °C")
        for name in ("t2_c", "t0_c"):
            if getattr(self, name) is not None:
                _check_float(name, getattr(self, name), minimum=ABSOLUTE_ZERO_C, unit=" °C")
        if self.load_ratio is not None:
            _check_float("load_ratio", self.load_ratio, minimum=0.0, unit=" (I / I_rated)")
        if self.wind_m_s is not None:
            _check_float("wind_m_s", self.wind_m_s, minimum=0.0, unit=" m/s")
        if self.humidity_pct is not None:
            _check_float("humidity_pct", self.humidity_pct, minimum=0.0, maximum=100.0, unit=" %")
        if self.raining is not None and not isinstance(self.raining, bool):
            raise ParameterError("raining", self.raining, "True, False or None")


@dataclass(frozen=True, kw_only=True)
class Finding:
    """The graded result of one reading, with the numbers, the deciding rule and its source.

    ``t1_c``/``t2_c``/``t0_c`` are the measured °C, ``delta_t_k`` = T1 − T2 and ``rise_k`` =
    T1 − T0 in K, ``delta_pct`` = δ in %.  When load correction was applied, ``load_factor`` is
    (I_rated / I)^n and the ``*_rated`` fields hold the corrected values used for grading.
    ``level`` is the pack's defect class (``None`` when normal) and ``priority`` its NETA priority.

    ``notes`` are the structured reasons (decision first, then one per precondition flag);
    ``part_id``/``part_name``, ``level_name``, ``action`` and ``advice`` are the pack's own
    labels, copied so that texts can be rendered from a stored finding without the pack.
    Render texts with :func:`irpatrol.pipeline.texts.finding_texts`.
    """

    grade: Grade
    rule_pack: str
    rule_pack_version: str
    rule_id: str
    part: str
    level: str | None
    priority: int | None
    t1_c: float | None
    t2_c: float | None
    t0_c: float | None
    delta_t_k: float | None
    rise_k: float | None
    delta_pct: float | None
    load_ratio: float | None
    load_factor: float | None
    delta_t_rated_k: float | None
    rise_rated_k: float | None
    t1_rated_c: float | None
    method: str
    flags: tuple[str, ...]
    tentative: bool
    verification: str
    clause: str
    notes: tuple[Note, ...] = ()
    part_id: str = ""
    part_name: Text | None = None
    level_name: Text | None = None
    action: Text | None = None
    advice: Text | None = None

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready facts: ``grade`` as its lower-case name, plus ``grade_value`` and labels.

        Texts are not included (see :mod:`irpatrol.pipeline.texts`); :meth:`from_dict`
        reads this back.
        """
        out: dict[str, Any] = {f.name: getattr(self, f.name) for f in fields(self)}
        out["grade"] = self.grade.name.lower()
        out["grade_value"] = int(self.grade)
        out["grade_label_zh"] = self.grade.label_zh
        out["grade_label_en"] = self.grade.label_en
        out["flags"] = list(self.flags)
        out["notes"] = [n.to_dict() for n in self.notes]
        for name in ("part_name", "level_name", "action", "advice"):
            text = getattr(self, name)
            out[name] = {"zh": text.zh, "en": text.en} if text is not None else None
        return out

    @classmethod
    def from_dict(cls, facts: Mapping[str, Any]) -> Finding:
        """Rebuild a finding from :meth:`to_dict` output (e.g. read back from JSON).

        Unknown keys (texts rendered into the same dict, newer fields) are ignored.
        Raises :class:`ParameterError` when a required fact is missing or malformed.
        """
        names = {f.name for f in fields(cls)}
        kwargs = {k: v for k, v in facts.items() if k in names}
        try:
            kwargs["grade"] = Grade(int(facts["grade_value"]))
            kwargs["flags"] = tuple(facts.get("flags", ()))
            kwargs["notes"] = tuple(Note.from_dict(n) for n in facts.get("notes", ()))
            for name in ("part_name", "level_name", "action", "advice"):
                text = facts.get(name)
                kwargs[name] = Text(zh=str(text["zh"]), en=str(text["en"])) if text else None
            return cls(**kwargs)
        except (KeyError, TypeError, ValueError) as exc:
            raise ParameterError(
                "facts", type(exc).__name__, f"the facts of a Finding.to_dict() ({exc})"
            ) from exc


@dataclass(frozen=True)
class Note:
    """One structured reason behind a finding: a ``code`` and its parameters.

    ``params`` are (name, value) pairs: numbers in the units their names say (``rise_k`` K,
    ``load_pct`` and ``limit_pct`` % of rated load, ``delta_pct`` %), rule ids, clauses and
    verification marks.  See :data:`irpatrol.pipeline.texts.TEMPLATES` for every code.
    """

    code: str
    params: tuple[tuple[str, NoteValue], ...] = ()

    @classmethod
    def of(cls, code: str, **params: NoteValue) -> Note:
        """A note with keyword parameters."""
        return cls(code, tuple(params.items()))

    def param(self, name: str) -> NoteValue:
        """The value of parameter ``name`` (``None`` when absent)."""
        return dict(self.params).get(name)

    def to_dict(self) -> dict[str, Any]:
        """``{"code": ..., "params": {...}}``, JSON-ready."""
        return {"code": self.code, "params": dict(self.params)}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Note:
        """Read back :meth:`to_dict` output."""
        return cls(str(data["code"]), tuple(dict(data.get("params") or {}).items()))


class _Notes:
    """Flags in order, each with the note that explains it (the first note for a flag wins)."""

    def __init__(self) -> None:
        self.flags: list[str] = []
        self.notes: list[Note] = []

    def add(self, flag: str, code: str | None = None, **params: NoteValue) -> None:
        if flag not in self.flags:
            self.flags.append(flag)
            self.notes.append(Note.of(code or flag, **params))


def _decide(part: Part, pack: RulePack, values: dict[str, float | None], *,
            skip_delta: bool) -> Criterion | None:  # fmt: skip
    best: Criterion | None = None
    for c in part.criteria:
        v = values[c.quantity]
        if v is None or (skip_delta and c.quantity == "delta_pct") or not c.holds(v):
            continue
        if best is None or pack.rank(c.level) > pack.rank(best.level):
            best = c
    return best


def rated_load_factor(load_ratio: float, exponent: float) -> float:
    """(I_rated / I)^n: multiplies a current-heating ΔT or rise (K) measured at ``load_ratio`` = I / I_rated.

    The load correction of DL/T 664 practice, ΔT_rated = ΔT·(I_rated / I)^n with n 1.6–2.0
    (heating power ∝ I²; ``domain.md`` ``load_normalised_dT``).  ``load_ratio`` must be > 0.

    >>> rated_load_factor(0.5, 2.0)
    4.0
    """
    _check_float("load_ratio", load_ratio, unit=" (I / I_rated)")
    if load_ratio <= 0:
        raise ParameterError("load_ratio", load_ratio, "a ratio > 0 (I / I_rated)")
    return float((1.0 / load_ratio) ** exponent)


def grade(
    reading: Reading, *, pack: RulePack, load_exponent: float = 2.0, load_correction: bool = False
) -> Finding:
    """Grade ``reading`` against ``pack``; see the module docstring for the method.

    ``load_exponent`` is n in ΔT·(I_rated/I)^n (1.6–2.0 in practice); the correction is applied
    only when ``load_correction`` is true and the load ratio is known and valid.
    Raises :class:`ParameterError` for an unknown part or a bad exponent.
    """
    _check_float("load_exponent", load_exponent, minimum=0.1, maximum=4.0)
    part = pack.part(reading.part)
    pre = pack.preconditions
    t1, t2, t0, ratio = reading.t1_c, reading.t2_c, reading.t0_c, reading.load_ratio
    dt = t1 - t2 if t2 is not None else None
    rise = t1 - t0 if t0 is not None else None
    delta = 100.0 * dt / rise if dt is not None and rise is not None and rise > 0 else None
    n = _Notes()
    tentative = False

    needs = {c.quantity for c in part.criteria}
    if t2 is None and needs & {"delta_t_k", "delta_pct"}:
        n.add("no-reference-t2")
    if t0 is None and needs & {"rise_k", "delta_pct"}:
        n.add("no-ambient-t0")
    if rise is not None and rise <= 0:
        n.add("non-positive-rise", rise_k=rise)

    # load (current-heating only: voltage-heating losses do not depend on load)
    min_load = pre.min_load_ratio if pre.min_load_ratio and pre.min_load_ratio.applies(part.heating) else None
    low_load = False
    retest_pct = min_load.value * 100 if min_load is not None else None  # % of rated load
    if part.heating == "current":
        if ratio is None:
            low_load = min_load is not None
            n.add("load-unknown")
        elif min_load is not None and ratio < min_load.value:
            low_load = tentative = True
            n.add("low-load-tentative", load_pct=ratio * 100, limit_pct=retest_pct,
                  clause=min_load.clause, mark=min_load.verification)  # fmt: skip
            n.add("retest-at-higher-load", limit_pct=retest_pct)

    factor = None
    if load_correction:
        lc = pre.load_correction
        if part.heating != "current":
            n.add("load-correction-not-applicable")
        elif ratio is None:
            n.add("load-correction-skipped", "load-correction-skipped-no-load")
        elif ratio <= 0 or (lc is not None and ratio < lc.value):
            lim = lc.value * 100 if lc is not None else 0.0
            n.add("load-correction-skipped", "load-correction-skipped-low-load", limit_pct=lim)
        else:
            factor = rated_load_factor(ratio, load_exponent)
            n.add("load-corrected", load_pct=ratio * 100, exponent=load_exponent, factor=factor)
    dt_rated = dt * factor if factor is not None and dt is not None else None
    rise_rated = rise * factor if factor is not None and rise is not None else None
    t1_rated = t0 + rise_rated if t0 is not None and rise_rated is not None else None
    if factor is not None and t0 is None:
        n.add("hot-spot-not-corrected")

    # δ needs a sufficient hot-spot rise (current-heating)
    mr = pre.min_rise_for_delta_k
    small_rise = (
        mr is not None and mr.applies(part.heating) and delta is not None
        and rise is not None and rise < mr.value
    )  # fmt: skip
    if small_rise:
        assert mr is not None
        assert rise is not None
        n.add(f"rise-below-{mr.value:g}K-no-delta", "rise-below-min-no-delta",
              rise_k=rise, limit_k=mr.value, clause=mr.clause, mark=mr.verification)  # fmt: skip

    values: dict[str, float | None] = {
        "hot_c": t1_rated if t1_rated is not None else t1,
        "delta_t_k": dt_rated if dt_rated is not None else dt,
        "rise_k": rise_rated if rise_rated is not None else rise,
        "delta_pct": delta,
    }
    deciding = _decide(part, pack, values, skip_delta=small_rise)
    level = pack.level(deciding.level) if deciding is not None else None
    rule_id = deciding.id if deciding is not None else f"{part.id}.normal"
    method = deciding.method if deciding is not None else "none"
    clause = deciding.clause if deciding is not None else part.clause
    verification = deciding.verification if deciding is not None else part.verification
    decision: Note | None = None
    if deciding is not None and level is not None:
        v = values[deciding.quantity]
        assert v is not None
        decision = Note.of("decided-by-rule", rule_id=deciding.id, quantity=deciding.quantity,
                           op=deciding.op, threshold=deciding.value, value=v,
                           corrected=factor is not None, clause=deciding.clause,
                           mark=deciding.verification)  # fmt: skip

    # low (or unknown) load, small rise but large δ → tentative 一般缺陷 and retest (DL/T 664)
    if small_rise and low_load and delta is not None and mr is not None:
        would = [c for c in part.criteria if c.quantity == "delta_pct" and c.holds(delta)]
        general = next((lvl for lvl in pack.levels if lvl.grade == Grade.GENERAL), None)
        if would and general is not None:
            tentative = True
            c = would[0]
            n.add("small-rise-large-delta", delta_pct=delta, quantity=c.quantity, op=c.op, threshold=c.value)
            n.add("retest-at-higher-load", limit_pct=retest_pct)
            if level is None or pack.rank(level.id) < pack.rank(general.id):
                level, rule_id, method = general, f"{part.id}.tentative-{general.id}", "relative-difference"
                clause, verification = mr.clause, mr.verification
                decision = Note.of("decided-tentative", rule_id=rule_id, clause=clause, mark=verification)

    for env in pre.environment:
        observed = getattr(reading, env.quantity)
        exceeded = bool(observed) if env.max is None else observed is not None and observed > env.max
        if not exceeded:
            continue
        tentative = tentative or env.tentative
        n.add(env.flag, "environment-outside-limits", quantity=env.quantity, observed=observed,
              max=env.max, clause=env.clause, tentative=env.tentative)  # fmt: skip

    grade_ = level.grade if level is not None else Grade.NORMAL
    if level is None:
        decision = Note.of("no-threshold-reached", clause=part.clause, mark=part.verification)
    assert decision is not None
    return Finding(
        grade=grade_,
        rule_pack=pack.name,
        rule_pack_version=pack.version,
        rule_id=rule_id,
        part=reading.part,
        level=level.id if level is not None else None,
        priority=level.priority if level is not None else None,
        t1_c=t1,
        t2_c=t2,
        t0_c=t0,
        delta_t_k=dt,
        rise_k=rise,
        delta_pct=delta,
        load_ratio=ratio,
        load_factor=factor,
        delta_t_rated_k=dt_rated,
        rise_rated_k=rise_rated,
        t1_rated_c=t1_rated,
        method=method,
        flags=tuple(n.flags),
        tentative=tentative,
        verification=verification,
        clause=clause,
        notes=(decision, *n.notes),
        part_id=part.id,
        part_name=part.name,
        level_name=level.name if level is not None else None,
        action=level.action_for(part.heating) if level is not None else None,
        advice=part.advice if level is not None else None,
    )
