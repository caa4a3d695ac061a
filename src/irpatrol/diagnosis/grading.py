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

Example:
    >>> from irpatrol.diagnosis.grading import Reading, grade, load_rule_pack
    >>> f = grade(Reading(part="connector", t1_c=95.0, t2_c=40.0, t0_c=30.0, load_ratio=0.8),
    ...           pack=load_rule_pack("dlt664-2016"))
    >>> f.grade.name, f.rule_id, round(f.delta_pct or 0.0, 1)
    ('SERIOUS', 'connector.serious.hot_c_gt', 84.6)
"""

from __future__ import annotations

import math
from dataclasses import dataclass, fields

from irpatrol.diagnosis.rulepack import (
    OPERATORS,
    QUANTITIES,
    VERIFICATION_MARKS,
    Criterion,
    Grade,
    Part,
    RulePack,
    list_parts,
    load_rule_pack,
)
from irpatrol.errors import ParameterError

__all__ = ["Finding", "Grade", "Reading", "grade", "list_parts", "load_rule_pack"]

ABSOLUTE_ZERO_C = -273.15
"""0 K in °C."""

_ENV_LABELS = {
    "wind_m_s": ("风速", "wind", "m/s"),
    "humidity_pct": ("相对湿度", "humidity", "%"),
    "raining": ("降雨", "rain", ""),
}


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
    explanation_zh: str
    explanation_en: str
    recommendation_zh: str
    recommendation_en: str

    def to_dict(self) -> dict[str, object]:
        """JSON-ready dict: ``grade`` as its lower-case name, plus ``grade_value`` and labels."""
        out: dict[str, object] = {f.name: getattr(self, f.name) for f in fields(self)}
        out["grade"] = self.grade.name.lower()
        out["grade_value"] = int(self.grade)
        out["grade_label_zh"] = self.grade.label_zh
        out["grade_label_en"] = self.grade.label_en
        out["flags"] = list(self.flags)
        return out


class _Notes:
    """Flags plus the bilingual sentences that explain them."""

    def __init__(self) -> None:
        self.flags: list[str] = []
        self.zh: list[str] = []
        self.en: list[str] = []

    def add(self, flag: str, zh: str, en: str) -> None:
        if flag not in self.flags:
            self.flags.append(flag)
            self.zh.append(zh)
            self.en.append(en)


def _k(x: float) -> str:
    return f"{x:.1f} K"


def _c(x: float) -> str:
    return f"{x:.1f} °C"


def _mark(mark: str) -> tuple[str, str]:
    zh, en = VERIFICATION_MARKS[mark]
    return f"核实标记 {mark}：{zh}", f"verification {mark}: {en}"


def _quantity_text(c: Criterion, value: float, *, corrected: bool) -> str:
    symbol, unit, _ = QUANTITIES[c.quantity]
    if corrected and c.quantity != "delta_pct":
        symbol += "(rated)"
    return f"{symbol} {value:.1f} {unit} {OPERATORS[c.op][0]} {c.value:g} {unit}"


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
        n.add("no-reference-t2", "未给出正常对应点温度 T2：温差和相对温差判据未评估。",
              "No normal reference point T2: the ΔT and δ criteria were not evaluated.")  # fmt: skip
    if t0 is None and needs & {"rise_k", "delta_pct"}:
        n.add("no-ambient-t0", "未给出环境参照体温度 T0：温升和相对温差判据未评估。",
              "No ambient reference T0: the rise and δ criteria were not evaluated.")  # fmt: skip
    if rise is not None and rise <= 0:
        n.add("non-positive-rise", f"热点温升 {_k(rise)} 不为正，相对温差无定义。",
              f"Hot-spot rise {_k(rise)} is not positive; δ is undefined.")  # fmt: skip

    # load (current-heating only: voltage-heating losses do not depend on load)
    min_load = pre.min_load_ratio if pre.min_load_ratio and pre.min_load_ratio.applies(part.heating) else None
    low_load = False
    if part.heating == "current":
        if ratio is None:
            low_load = min_load is not None
            n.add("load-unknown", "未给出负荷率，无法核对检测负荷条件。",
                  "Load not given: the load condition could not be checked.")  # fmt: skip
        elif min_load is not None and ratio < min_load.value:
            low_load = tentative = True
            lim = f"{min_load.value * 100:g} %"
            mark_zh, mark_en = _mark(min_load.verification)
            n.add("low-load-tentative",
                  f"负荷率 {ratio * 100:.0f} % 低于额定负荷的 {lim}"
                  f"（{min_load.clause}；{mark_zh}）：评级为暂定。",
                  f"Load {ratio * 100:.0f} % of rated is below {lim} ({min_load.clause}; {mark_en}): "
                  "the grade is tentative.")  # fmt: skip
            n.add("retest-at-higher-load", "应在较高负荷下复测。", "Retest at a higher load.")

    factor = None
    if load_correction:
        lc = pre.load_correction
        if part.heating != "current":
            n.add("load-correction-not-applicable", "电压致热型设备不做负荷校正。",
                  "Load correction does not apply to voltage-heating equipment.")  # fmt: skip
        elif ratio is None:
            n.add("load-correction-skipped", "未给出负荷率，未做负荷校正。",
                  "Load correction skipped: the load is not known.")  # fmt: skip
        elif ratio <= 0 or (lc is not None and ratio < lc.value):
            lim = f"{lc.value * 100:g} %" if lc is not None else "0 %"
            n.add("load-correction-skipped", f"负荷率低于 {lim}，外推不可靠，未做负荷校正。",
                  f"Load correction skipped: load below {lim}, "
                  "the extrapolation is not reliable.")  # fmt: skip
        else:
            factor = (1.0 / ratio) ** load_exponent
            n.add("load-corrected",
                  f"已按 ΔT·(I额定/I)^n 校正到额定负荷：负荷率 {ratio * 100:.0f} %，n = {load_exponent:g}，"
                  f"系数 {factor:.2f}。",
                  f"Corrected to rated load with ΔT·(I_rated/I)^n: load {ratio * 100:.0f} %, "
                  f"n = {load_exponent:g}, factor {factor:.2f}.")  # fmt: skip
    dt_rated = dt * factor if factor is not None and dt is not None else None
    rise_rated = rise * factor if factor is not None and rise is not None else None
    t1_rated = t0 + rise_rated if t0 is not None and rise_rated is not None else None
    if factor is not None and t0 is None:
        n.add("hot-spot-not-corrected", "缺少 T0，热点温度未做负荷校正。",
              "Without T0 the hot-spot temperature could not be load-corrected.")  # fmt: skip

    # δ needs a sufficient hot-spot rise (current-heating)
    mr = pre.min_rise_for_delta_k
    small_rise = (
        mr is not None and mr.applies(part.heating) and delta is not None
        and rise is not None and rise < mr.value
    )  # fmt: skip
    if small_rise:
        assert mr is not None
        assert rise is not None
        mark_zh, mark_en = _mark(mr.verification)
        n.add(f"rise-below-{mr.value:g}K-no-delta",
              f"热点温升 {_k(rise)} 小于 {mr.value:g} K，不按相对温差判断（{mr.clause}；{mark_zh}）。",
              f"Hot-spot rise {_k(rise)} is below {mr.value:g} K, so δ is not used for grading "
              f"({mr.clause}; {mark_en}).")  # fmt: skip

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
    decision_zh = decision_en = ""
    if deciding is not None and level is not None:
        v = values[deciding.quantity]
        assert v is not None
        mark_zh, mark_en = _mark(deciding.verification)
        reached = _quantity_text(deciding, v, corrected=factor is not None)
        decision_zh = (f"判定依据 {pack.name} 规则 {deciding.id}：{reached}"
                       f"（{deciding.clause}；{mark_zh}）→ {level.name.zh}。")  # fmt: skip
        decision_en = (f"Decided by {pack.name} rule {deciding.id}: {reached} "
                       f"({deciding.clause}; {mark_en}) → {level.name.en}.")  # fmt: skip

    # low (or unknown) load, small rise but large δ → tentative 一般缺陷 and retest (DL/T 664)
    if small_rise and low_load and delta is not None and mr is not None:
        would = [c for c in part.criteria if c.quantity == "delta_pct" and c.holds(delta)]
        general = next((lvl for lvl in pack.levels if lvl.grade == Grade.GENERAL), None)
        if would and general is not None:
            tentative = True
            n.add("small-rise-large-delta",
                  f"温升小但相对温差大（δ {delta:.1f} % 达到 {would[0].describe()}）且负荷偏低或未知。",
                  f"Small rise but large δ ({delta:.1f} % reaches {would[0].describe()}) at low or "
                  "unknown load.")  # fmt: skip
            n.add("retest-at-higher-load", "应在较高负荷下复测。", "Retest at a higher load.")
            if level is None or pack.rank(level.id) < pack.rank(general.id):
                level, rule_id, method = general, f"{part.id}.tentative-{general.id}", "relative-difference"
                clause, verification = mr.clause, mr.verification
                mark_zh, mark_en = _mark(verification)
                decision_zh = (f"判定依据 {pack.name} 规则 {rule_id}：低负荷下温升小、相对温差大，"
                               f"暂定为{general.name.zh}并提高负荷复测（{clause}；{mark_zh}）。")  # fmt: skip
                decision_en = (f"Decided by {pack.name} rule {rule_id}: small rise and large δ at low "
                               f"load → tentatively {general.name.en}, retest at higher load "
                               f"({clause}; {mark_en}).")  # fmt: skip

    for env in pre.environment:
        observed = getattr(reading, env.quantity)
        exceeded = bool(observed) if env.max is None else observed is not None and observed > env.max
        if not exceeded:
            continue
        tentative = tentative or env.tentative
        label_zh, label_en, unit = _ENV_LABELS[env.quantity]
        what_zh = label_zh if env.max is None else f"{label_zh} {observed:g} {unit} > {env.max:g} {unit}"
        what_en = label_en if env.max is None else f"{label_en} {observed:g} {unit} > {env.max:g} {unit}"
        suffix_zh = "，评级为暂定" if env.tentative else ""
        suffix_en = "; the grade is tentative" if env.tentative else ""
        n.add(env.flag, f"检测环境不符合要求：{what_zh}（{env.clause}）{suffix_zh}。",
              f"Measuring conditions outside limits: {what_en} ({env.clause}){suffix_en}.")  # fmt: skip

    grade_ = level.grade if level is not None else Grade.NORMAL
    name_zh, name_en = f"{part.name.zh}（{part.id}）", f"{part.name.en} ({part.id})"
    nums_zh, nums_en = [f"T1 = {_c(t1)}"], [f"T1 = {_c(t1)}"]
    if t2 is not None and dt is not None:
        nums_zh += [f"T2 = {_c(t2)}", f"温差 ΔT = {_k(dt)}"]
        nums_en += [f"T2 = {_c(t2)}", f"ΔT = T1 − T2 = {_k(dt)}"]
    if t0 is not None and rise is not None:
        nums_zh += [f"T0 = {_c(t0)}", f"温升 = {_k(rise)}"]
        nums_en += [f"T0 = {_c(t0)}", f"rise = T1 − T0 = {_k(rise)}"]
    if delta is not None:
        nums_zh.append(f"相对温差 δ = {delta:.1f} %")
        nums_en.append(f"δ = (T1 − T2)/(T1 − T0) = {delta:.1f} %")
    if factor is not None:
        corr = [f"{s} {x:.1f}" for s, x in (("ΔT", dt_rated), ("T1−T0", rise_rated), ("T1", t1_rated))
                if x is not None]  # fmt: skip
        nums_zh.append("校正后 " + ", ".join(corr))
        nums_en.append("at rated load " + ", ".join(corr))
    if level is None:
        mark_zh, mark_en = _mark(part.verification)
        decision_zh = f"未达到任何缺陷判据（{part.clause}；{mark_zh}）→ 正常。"
        decision_en = f"No threshold of the part is reached ({part.clause}; {mark_en}) → normal."
    explanation_zh = " ".join([f"{name_zh}：{'，'.join(nums_zh)}。", decision_zh, *n.zh])
    explanation_en = " ".join([f"{name_en}: {', '.join(nums_en)}.", decision_en, *n.en])

    if level is None:
        rec_zh, rec_en = ["无需处理，按周期检测。"], ["No action; continue routine inspection."]
    else:
        action = level.action_for(part.heating)
        rec_zh, rec_en = [action.zh], [action.en]
        if part.advice is not None:
            rec_zh.append(f"建议：{part.advice.zh}。")
            rec_en.append(f"Advice: {part.advice.en}.")
    if "retest-at-higher-load" in n.flags:
        lim = f"{min_load.value * 100:g} %" if min_load is not None else "peak"
        rec_zh.append(f"在不低于 {lim} 额定负荷（最好高峰负荷）下复测后确定缺陷等级。")
        rec_en.append(
            f"Retest at no less than {lim} of rated load (peak load preferred) to confirm the grade."
        )
    if any(env.tentative and env.flag in n.flags for env in pre.environment):
        rec_zh.append("在符合要求的环境条件下复测。")
        rec_en.append("Repeat the measurement in acceptable weather.")

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
        explanation_zh=explanation_zh,
        explanation_en=explanation_en,
        recommendation_zh="".join(rec_zh),
        recommendation_en=" ".join(rec_en),
    )
