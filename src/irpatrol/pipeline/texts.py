"""Explanation and recommendation texts of a finding, rendered from its facts per language.

Grading (:mod:`irpatrol.diagnosis.grading`) stores facts only: numbers, the deciding rule,
flags and :class:`~irpatrol.diagnosis.grading.Note` codes with parameters, plus the rule
pack's own labels (part name, level name, action, advice).  This module holds the sentences
(:data:`TEMPLATES`, one per note code and language) and assembles them:

* explanation = the part and its numbers (T1, T2, ΔT, T0, rise, δ, load-corrected values),
  the decision, then one sentence per precondition note;
* recommendation = the level's action (or "no action"), the part's advice, a retest at
  higher load and a repeat in acceptable weather where the notes ask for them.

:func:`render_finding_texts` works on the JSON facts of :meth:`Finding.to_dict
<irpatrol.diagnosis.grading.Finding.to_dict>` (what a database stores); :func:`finding_texts`
on a live :class:`~irpatrol.diagnosis.grading.Finding`.  Both give the same strings.

Example:
    >>> from irpatrol.diagnosis.grading import Reading, grade, load_rule_pack
    >>> f = grade(Reading(part="connector", t1_c=95.0, t2_c=40.0, t0_c=30.0, load_ratio=0.8),
    ...           pack=load_rule_pack("dlt664-2016"))
    >>> finding_texts(f, "en")["recommendation"]
    'Arrange treatment soon; strengthen monitoring and reduce the load current if necessary.'
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from typing import Any

from irpatrol.diagnosis.grading import Finding
from irpatrol.diagnosis.rulemodel import OPERATORS, QUANTITIES, VERIFICATION_MARKS
from irpatrol.errors import ParameterError

LANGUAGES = ("zh", "en")
"""Languages texts are rendered in."""

TEMPLATES: Mapping[str, Mapping[str, str]] = {
    # decisions (the first note of every finding)
    "decided-by-rule": {
        "zh": "判定依据 {pack} 规则 {rule_id}：{reached}（{clause}；{mark_text}）→ {level}。",
        "en": "Decided by {pack} rule {rule_id}: {reached} ({clause}; {mark_text}) → {level}.",
    },
    "decided-tentative": {
        "zh": "判定依据 {pack} 规则 {rule_id}：低负荷下温升小、相对温差大，"
        "暂定为{level}并提高负荷复测（{clause}；{mark_text}）。",
        "en": "Decided by {pack} rule {rule_id}: small rise and large δ at low load → tentatively "
        "{level}, retest at higher load ({clause}; {mark_text}).",
    },
    "no-threshold-reached": {
        "zh": "未达到任何缺陷判据（{clause}；{mark_text}）→ 正常。",
        "en": "No threshold of the part is reached ({clause}; {mark_text}) → normal.",
    },
    # preconditions, in the order grading evaluates them
    "no-reference-t2": {
        "zh": "未给出正常对应点温度 T2：温差和相对温差判据未评估。",
        "en": "No normal reference point T2: the ΔT and δ criteria were not evaluated.",
    },
    "no-ambient-t0": {
        "zh": "未给出环境参照体温度 T0：温升和相对温差判据未评估。",
        "en": "No ambient reference T0: the rise and δ criteria were not evaluated.",
    },
    "non-positive-rise": {
        "zh": "热点温升 {rise_k:.1f} K 不为正，相对温差无定义。",
        "en": "Hot-spot rise {rise_k:.1f} K is not positive; δ is undefined.",
    },
    "load-unknown": {
        "zh": "未给出负荷率，无法核对检测负荷条件。",
        "en": "Load not given: the load condition could not be checked.",
    },
    "low-load-tentative": {
        "zh": "负荷率 {load_pct:.0f} % 低于额定负荷的 {limit_pct:g} %（{clause}；{mark_text}）：评级为暂定。",
        "en": "Load {load_pct:.0f} % of rated is below {limit_pct:g} % ({clause}; {mark_text}): "
        "the grade is tentative.",
    },
    "retest-at-higher-load": {"zh": "应在较高负荷下复测。", "en": "Retest at a higher load."},
    "load-correction-not-applicable": {
        "zh": "电压致热型设备不做负荷校正。",
        "en": "Load correction does not apply to voltage-heating equipment.",
    },
    "load-correction-skipped-no-load": {
        "zh": "未给出负荷率，未做负荷校正。",
        "en": "Load correction skipped: the load is not known.",
    },
    "load-correction-skipped-low-load": {
        "zh": "负荷率低于 {limit_pct:g} %，外推不可靠，未做负荷校正。",
        "en": "Load correction skipped: load below {limit_pct:g} %, the extrapolation is not reliable.",
    },
    "load-corrected": {
        "zh": "已按 ΔT·(I额定/I)^n 校正到额定负荷：负荷率 {load_pct:.0f} %，"
        "n = {exponent:g}，系数 {factor:.2f}。",
        "en": "Corrected to rated load with ΔT·(I_rated/I)^n: load {load_pct:.0f} %, n = {exponent:g}, "
        "factor {factor:.2f}.",
    },
    "hot-spot-not-corrected": {
        "zh": "缺少 T0，热点温度未做负荷校正。",
        "en": "Without T0 the hot-spot temperature could not be load-corrected.",
    },
    "rise-below-min-no-delta": {
        "zh": "热点温升 {rise_k:.1f} K 小于 {limit_k:g} K，不按相对温差判断（{clause}；{mark_text}）。",
        "en": "Hot-spot rise {rise_k:.1f} K is below {limit_k:g} K, so δ is not used for grading "
        "({clause}; {mark_text}).",
    },
    "small-rise-large-delta": {
        "zh": "温升小但相对温差大（δ {delta_pct:.1f} % 达到 {criterion}）且负荷偏低或未知。",
        "en": "Small rise but large δ ({delta_pct:.1f} % reaches {criterion}) at low or unknown load.",
    },
    "environment-outside-limits": {
        "zh": "检测环境不符合要求：{what}（{clause}）{suffix}。",
        "en": "Measuring conditions outside limits: {what} ({clause}){suffix}.",
    },
    # measurability (irpatrol.diagnosis.measurability), added after grading
    "below-measurable-size": {
        "zh": "目标{target}小于可准确测温的最小尺寸{minimum}（{spot}）：温度可能偏低，评级为暂定。",
        "en": "The target{target} is smaller than the smallest measurable size{minimum} ({spot}): "
        "the temperature may read low; the grade is tentative.",
    },
    "low-emissivity-material": {
        "zh": "表面为{material}（典型辐射率 {emissivity_min:g}–{emissivity_max:g}），"
        "{used}：读数不可靠{suffix}。",
        "en": "The surface is {material} (typical emissivity {emissivity_min:g}–{emissivity_max:g}), {used}: "
        "the reading is unreliable{suffix}.",
    },
}
"""Sentence templates by note code and language (``str.format`` fields are note parameters
plus the derived ``pack``, ``level``, ``mark_text``, ``reached``, ``criterion``, ``what``,
``suffix`` and, for the measurability notes, ``target``, ``minimum``, ``spot``, ``material``
and ``used``)."""

PHRASES: Mapping[str, Mapping[str, str]] = {
    "part": {"zh": "{name}（{id}）", "en": "{name} ({id})"},
    "numbers": {"zh": "{part}：{numbers}。", "en": "{part}: {numbers}."},
    "list-separator": {"zh": "，", "en": ", "},
    "sentence-separator": {"zh": "", "en": " "},
    "t1": {"zh": "T1 = {v:.1f} °C", "en": "T1 = {v:.1f} °C"},
    "t2": {"zh": "T2 = {v:.1f} °C", "en": "T2 = {v:.1f} °C"},
    "delta-t": {"zh": "温差 ΔT = {v:.1f} K", "en": "ΔT = T1 − T2 = {v:.1f} K"},
    "t0": {"zh": "T0 = {v:.1f} °C", "en": "T0 = {v:.1f} °C"},
    "rise": {"zh": "温升 = {v:.1f} K", "en": "rise = T1 − T0 = {v:.1f} K"},
    "delta-pct": {"zh": "相对温差 δ = {v:.1f} %", "en": "δ = (T1 − T2)/(T1 − T0) = {v:.1f} %"},
    "corrected": {"zh": "校正后 {values}", "en": "at rated load {values}"},
    "mark": {"zh": "核实标记 {mark}：{label}", "en": "verification {mark}: {label}"},
    "tentative-suffix": {"zh": "，评级为暂定", "en": "; the grade is tentative"},
    "no-action": {"zh": "无需处理，按周期检测。", "en": "No action; continue routine inspection."},
    "advice": {"zh": "建议：{advice}。", "en": "Advice: {advice}."},
    "retest": {
        "zh": "在不低于 {limit} 额定负荷（最好高峰负荷）下复测后确定缺陷等级。",
        "en": "Retest at no less than {limit} of rated load (peak load preferred) to confirm the grade.",
    },
    "peak": {"zh": "peak", "en": "peak"},
    "repeat-in-good-weather": {
        "zh": "在符合要求的环境条件下复测。",
        "en": "Repeat the measurement in acceptable weather.",
    },
    "unknown-note": {"zh": "（说明 {code}）", "en": "(note {code})"},
    "target-mm": {"zh": " {mm:.0f} mm ", "en": " {mm:.0f} mm"},
    "target-px": {"zh": " {px:g} 像素", "en": " {px:g} px"},
    "target-mm-px": {"zh": " {mm:.0f} mm（{px:g} 像素）", "en": " {mm:.0f} mm ({px:g} px)"},
    "minimum-mm": {"zh": " {mm:.0f} mm", "en": " {mm:.0f} mm"},
    "minimum-px": {"zh": " {n} 像素", "en": " {n} px"},
    "spot-mm": {
        "zh": "{d:g} m 处每像素覆盖 {mm:.1f} mm，需 {n}×{n} 像素",
        "en": "one pixel covers {mm:.1f} mm at {d:g} m, {n}×{n} px needed",
    },
    "spot-px": {"zh": "需 {n}×{n} 像素", "en": "{n}×{n} px needed"},
    "emissivity-used": {"zh": "测温所用辐射率 {e:g}", "en": "measured with emissivity {e:g}"},
    "emissivity-unknown": {"zh": "测温所用辐射率未知", "en": "emissivity used not recorded"},
    "measure-closer": {
        "zh": "缩短检测距离或换用长焦镜头复测。",
        "en": "Measure closer or with a telephoto lens.",
    },
    "measure-high-emissivity": {
        "zh": "改测同一部件的涂漆或氧化表面，或按同材质各相的温差判断。",
        "en": "Measure a painted or oxidised area of the part, "
        "or judge by ΔT between phases of the same material.",
    },
}
"""Fixed phrases and the pieces the explanation's first sentence is built from."""

ENVIRONMENT_LABELS: Mapping[str, Mapping[str, str]] = {
    "wind_m_s": {"zh": "风速", "en": "wind", "unit": "m/s"},
    "humidity_pct": {"zh": "相对湿度", "en": "humidity", "unit": "%"},
    "raining": {"zh": "降雨", "en": "rain", "unit": ""},
}
"""Names and units of the environment quantities a rule pack may limit."""


def _check_lang(lang: str) -> None:
    if lang not in LANGUAGES:
        raise ParameterError("lang", lang, f"one of {', '.join(LANGUAGES)}")


def _phrase(key: str, lang: str, **fields: Any) -> str:
    return PHRASES[key][lang].format(**fields)


def _text(value: Any, lang: str) -> str:
    """A stored bilingual label (``{"zh": ..., "en": ...}``) in ``lang``; '' when absent."""
    return str(value.get(lang, "")) if isinstance(value, Mapping) else ""


def _mark_text(mark: Any, lang: str) -> str:
    labels = VERIFICATION_MARKS.get(str(mark), ("?", "?"))
    return _phrase("mark", lang, mark=mark, label=labels[0 if lang == "zh" else 1])


def _criterion(quantity: Any, op: Any, threshold: Any) -> str:
    symbol, unit, _ = QUANTITIES[str(quantity)]
    return f"{symbol} {OPERATORS[str(op)][0]} {threshold:g} {unit}"


def _note_text(note: Mapping[str, Any], facts: Mapping[str, Any], lang: str) -> str:
    code = str(note.get("code", ""))
    params: dict[str, Any] = dict(note.get("params") or {})
    template = TEMPLATES.get(code)
    if template is None:  # stored by a newer version: say which note, never fail
        return _phrase("unknown-note", lang, code=code)
    fields: dict[str, Any] = {
        **params,
        "pack": facts.get("rule_pack", ""),
        "level": _text(facts.get("level_name"), lang),
    }
    if "mark" in params:
        fields["mark_text"] = _mark_text(params["mark"], lang)
    if code == "decided-by-rule":
        symbol, unit, _ = QUANTITIES[str(params["quantity"])]
        if params.get("corrected") and params["quantity"] != "delta_pct":
            symbol += "(rated)"
        op = OPERATORS[str(params["op"])][0]
        fields["reached"] = f"{symbol} {params['value']:.1f} {unit} {op} {params['threshold']:g} {unit}"
    elif code == "small-rise-large-delta":
        fields["criterion"] = _criterion(params["quantity"], params["op"], params["threshold"])
    elif code == "environment-outside-limits":
        label = ENVIRONMENT_LABELS[str(params["quantity"])]
        unit, limit = label["unit"], params.get("max")
        observed = params.get("observed")
        fields["what"] = (
            label[lang] if limit is None else f"{label[lang]} {observed:g} {unit} > {limit:g} {unit}"
        )
        fields["suffix"] = _phrase("tentative-suffix", lang) if params.get("tentative") else ""
    elif code == "below-measurable-size":
        fields.update(_size_fields(params, lang))
    elif code == "low-emissivity-material":
        fields["material"] = str(params.get(f"name_{lang}") or params.get("material", ""))
        e = params.get("emissivity")
        fields["used"] = (
            _phrase("emissivity-used", lang, e=e) if e is not None else _phrase("emissivity-unknown", lang)
        )
        fields["suffix"] = _phrase("tentative-suffix", lang) if params.get("tentative") else ""
    return template[lang].format(**fields)


def _size_fields(params: Mapping[str, Any], lang: str) -> dict[str, str]:
    """``target``, ``minimum`` and ``spot`` of a below-measurable-size note (mm where known)."""
    mm, px, n = params.get("target_mm"), params.get("target_px"), params.get("min_pixels", 3)
    pixel, minimum, d = params.get("pixel_mm"), params.get("min_measurable_mm"), params.get("distance_m")
    if mm is not None and px is not None and params.get("target_source") == "image":
        target = _phrase("target-mm-px", lang, mm=mm, px=px)
    elif mm is not None:
        target = _phrase("target-mm", lang, mm=mm)
    else:
        target = _phrase("target-px", lang, px=px)
    if pixel is not None and minimum is not None and d is not None:
        return {
            "target": target,
            "minimum": _phrase("minimum-mm", lang, mm=minimum),
            "spot": _phrase("spot-mm", lang, mm=pixel, d=d, n=n),
        }
    return {
        "target": target,
        "minimum": _phrase("minimum-px", lang, n=n),
        "spot": _phrase("spot-px", lang, n=n),
    }


def _numbers(facts: Mapping[str, Any], lang: str) -> str:
    t1, t2, t0 = facts.get("t1_c"), facts.get("t2_c"), facts.get("t0_c")
    dt, rise, delta = facts.get("delta_t_k"), facts.get("rise_k"), facts.get("delta_pct")
    nums = [_phrase("t1", lang, v=t1)]
    if t2 is not None and dt is not None:
        nums += [_phrase("t2", lang, v=t2), _phrase("delta-t", lang, v=dt)]
    if t0 is not None and rise is not None:
        nums += [_phrase("t0", lang, v=t0), _phrase("rise", lang, v=rise)]
    if delta is not None:
        nums.append(_phrase("delta-pct", lang, v=delta))
    if facts.get("load_factor") is not None:
        rated = (
            ("ΔT", facts.get("delta_t_rated_k")),
            ("T1−T0", facts.get("rise_rated_k")),
            ("T1", facts.get("t1_rated_c")),
        )
        values = ", ".join(f"{s} {x:.1f}" for s, x in rated if x is not None)
        nums.append(_phrase("corrected", lang, values=values))
    part = _phrase("part", lang, name=_text(facts.get("part_name"), lang), id=facts.get("part_id", ""))
    return _phrase("numbers", lang, part=part, numbers=_phrase("list-separator", lang).join(nums))


def render_finding_texts(finding_facts: Mapping[str, Any], lang: str) -> dict[str, str]:
    """``{"explanation": ..., "recommendation": ...}`` in ``lang`` (``"zh"`` or ``"en"``).

    ``finding_facts`` is :meth:`Finding.to_dict() <irpatrol.diagnosis.grading.Finding.to_dict>`,
    as is or read back from JSON; extra keys are ignored and an unknown note code (stored by
    a newer version) is named rather than failing.  Raises :class:`ParameterError` for another
    language.
    """
    _check_lang(lang)
    notes = [n for n in finding_facts.get("notes") or () if isinstance(n, Mapping)]
    explanation = " ".join(
        [_numbers(finding_facts, lang), *(_note_text(n, finding_facts, lang) for n in notes)]
    )
    codes = {str(n.get("code")) for n in notes}
    action = finding_facts.get("action")
    if finding_facts.get("level") is None or not isinstance(action, Mapping):
        rec = [_phrase("no-action", lang)]
    else:
        rec = [_text(action, lang)]
        advice = finding_facts.get("advice")
        if isinstance(advice, Mapping):
            rec.append(_phrase("advice", lang, advice=_text(advice, lang)))
    if "retest-at-higher-load" in codes:
        limit_pct = next(
            (n["params"].get("limit_pct") for n in notes if n.get("code") == "retest-at-higher-load"), None
        )
        limit = f"{limit_pct:g} %" if limit_pct is not None else _phrase("peak", lang)
        rec.append(_phrase("retest", lang, limit=limit))
    if any(
        n.get("code") == "environment-outside-limits" and (n.get("params") or {}).get("tentative")
        for n in notes
    ):
        rec.append(_phrase("repeat-in-good-weather", lang))
    if "below-measurable-size" in codes:
        rec.append(_phrase("measure-closer", lang))
    if "low-emissivity-material" in codes:
        rec.append(_phrase("measure-high-emissivity", lang))
    return {"explanation": explanation, "recommendation": _phrase("sentence-separator", lang).join(rec)}


def note_texts(
    finding_facts: Mapping[str, Any], lang: str, codes: Collection[str] | None = None
) -> list[str]:
    """The sentences of the finding's notes in ``lang``, only those with a code in ``codes`` if given.

    >>> facts = {"notes": [{"code": "below-measurable-size",
    ...          "params": {"target_source": "image", "target_px": 2, "min_pixels": 3}}]}
    >>> print(note_texts(facts, "en")[0])  # doctest: +NORMALIZE_WHITESPACE
    The target 2 px is smaller than the smallest measurable size 3 px (3×3 px needed):
    the temperature may read low; the grade is tentative.
    """
    _check_lang(lang)
    notes = [n for n in finding_facts.get("notes") or () if isinstance(n, Mapping)]
    return [_note_text(n, finding_facts, lang) for n in notes if codes is None or str(n.get("code")) in codes]


def finding_texts(finding: Finding, lang: str) -> dict[str, str]:
    """:func:`render_finding_texts` for a live :class:`~irpatrol.diagnosis.grading.Finding`."""
    return render_finding_texts(finding.to_dict(), lang)


def bilingual_texts(finding_facts: Mapping[str, Any]) -> dict[str, str]:
    """``explanation_zh``, ``explanation_en``, ``recommendation_zh``, ``recommendation_en``."""
    out: dict[str, str] = {}
    for lang in LANGUAGES:
        texts = render_finding_texts(finding_facts, lang)
        out[f"explanation_{lang}"] = texts["explanation"]
        out[f"recommendation_{lang}"] = texts["recommendation"]
    return out


__all__ = [
    "ENVIRONMENT_LABELS",
    "LANGUAGES",
    "PHRASES",
    "TEMPLATES",
    "bilingual_texts",
    "finding_texts",
    "note_texts",
    "render_finding_texts",
]
