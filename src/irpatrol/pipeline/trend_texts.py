"""Texts of a point's trend warnings and of its comparison with earlier patrols, per language.

The trend analysis (:mod:`irpatrol.diagnosis.trend`) and the stored history facts
(``facts["history"]`` of a finding, :mod:`irpatrol.store.series`) hold numbers only; the
sentences are rendered here where they are shown, so a stored warning can be explained
later in any language.

Example:
    >>> w = {"code": "step-change", "quantity": "rise_k", "unit": "K", "change": 8.1,
    ...      "since": "2026-01-21T02:00:00+00:00", "points": [{}] * 14,
    ...      "details": {"deviations": 11.6}}
    >>> warning_text(w, "en")[:60]
    'Step change: rise over ambient (rated load) changed by +8.1 '
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from irpatrol.errors import ParameterError

LANGUAGES = ("zh", "en")
"""Languages texts are rendered in."""

QUANTITY_NAMES: Mapping[str, Mapping[str, str]] = {
    "rise_k": {"zh": "温升（折算至额定负荷）", "en": "rise over ambient (rated load)"},
    "delta_t_k": {"zh": "温差ΔT（折算至额定负荷）", "en": "ΔT (rated load)"},
    "delta_pct": {"zh": "相对温差δ", "en": "relative difference δ"},
    "hot_c": {"zh": "热点温度", "en": "hot-spot temperature"},
}

TEMPLATES: Mapping[str, Mapping[str, str]] = {
    "rising-trend": {
        "zh": "上升趋势：{quantity}较历史中位数高 {change:+.1f} {unit}，斜率 {slope:+.2f} {unit}/次巡视"
        "（{conf:.0f}% 置信区间下限 {low:+.3f} {unit}/天 > 0），自 {since} 起（{n} 次巡视）。",
        "en": "Rising trend: {quantity} is {change:+.1f} {unit} above its history's median, slope "
        "{slope:+.2f} {unit}/patrol ({conf:.0f} % CI lower bound {low:+.3f} {unit}/day > 0), since {since} "
        "({n} patrols).",
    },
    "step-change": {
        "zh": "突变：{quantity}自 {since} 起变化 {change:+.1f} {unit}"
        "（{dev:.1f} 个稳健标准差），{n} 次巡视。",
        "en": "Step change: {quantity} changed by {change:+.1f} {unit} ({dev:.1f} robust σ) since {since} "
        "({n} patrols).",
    },
    "projected-threshold": {
        "zh": "预计约 {days:.0f} 天（{early:.0f}–{late:.0f} 天）后{quantity}达到{level}阈值"
        " {op} {threshold:g} {unit}（规则 {rule_id}），目前仍为正常；依据自 {since} 起 {n} 次巡视。",
        "en": "{quantity} is projected to reach the {level} threshold {op} {threshold:g} {unit} "
        "(rule {rule_id}) in about {days:.0f} days ({early:.0f}–{late:.0f}) while still graded normal; "
        "from {n} patrols since {since}.",
    },
    "healthy": {
        "zh": "与上次正常读数（{when}，发现 #{fid}）相比：{parts}。",
        "en": "Against the last healthy reading ({when}, finding #{fid}): {parts}.",
    },
    "no-healthy": {
        "zh": "此前 {n} 次巡视中没有正常读数可比。",
        "en": "No healthy reading among the {n} earlier patrols to compare with.",
    },
    "frame": {
        "zh": "已与参考图像重新配准：偏移 ({dx:+.1f}, {dy:+.1f}) px，旋转 {rot:+.1f}°，"
        "相关系数 {ncc:.2f}{ok}。",
        "en": "Re-registered to the reference frame: offset ({dx:+.1f}, {dy:+.1f}) px, rotation {rot:+.1f}°, "
        "NCC {ncc:.2f}{ok}.",
    },
}
_OPS = {"gt": ">", "ge": "≥", "lt": "<", "le": "≤"}
_LEVELS = {
    "general": {"zh": "一般缺陷", "en": "general-defect"},
    "serious": {"zh": "严重缺陷", "en": "serious-defect"},
    "critical": {"zh": "危急缺陷", "en": "critical-defect"},
}


def _check(lang: str) -> None:
    if lang not in LANGUAGES:
        raise ParameterError("lang", lang, f"one of {', '.join(LANGUAGES)}")


def _num(x: Any, default: float = float("nan")) -> float:
    return float(x) if isinstance(x, int | float) and not isinstance(x, bool) else default


def warning_text(warning: Mapping[str, Any], lang: str) -> str:
    """One sentence for a warning (:meth:`irpatrol.diagnosis.trend.TrendWarning.to_dict` output)."""
    _check(lang)
    code = str(warning.get("code"))
    d = warning.get("details") or {}
    template = TEMPLATES.get(code)
    if template is None:
        return code
    q = str(warning.get("quantity"))
    fields = {
        "quantity": QUANTITY_NAMES.get(q, {}).get(lang, q),
        "unit": warning.get("unit", ""),
        "change": _num(warning.get("change")),
        "since": str(warning.get("since", ""))[:10],
        "n": len(warning.get("points") or ()),
        "slope": _num(d.get("slope_per_patrol")),
        "low": _num(d.get("ci_low_per_day")),
        "conf": 100 * _num(d.get("confidence"), 0.95),
        "dev": _num(d.get("deviations")),
        "days": _num(d.get("days_to_threshold")),
        "early": _num(d.get("days_earliest")),
        "late": _num(d.get("days_latest")),
        "threshold": _num(d.get("threshold")),
        "op": _OPS.get(str(d.get("op")), ""),
        "level": _LEVELS.get(str(d.get("level")), {}).get(lang, str(d.get("level"))),
        "rule_id": d.get("rule_id", ""),
    }
    return template[lang].format(**fields)


def history_text(history: Mapping[str, Any] | None, lang: str) -> str | None:
    """The comparison with the last healthy reading and the reference frame (``facts["history"]``)."""
    _check(lang)
    if not history:
        return None
    out = []
    healthy = history.get("last_healthy")
    delta = history.get("delta_vs_healthy") or {}
    if healthy:
        labels = {
            "rise_k": ("温升", "rise"),
            "delta_t_k": ("ΔT", "ΔT"),
            "t1_c": ("T1", "T1"),
        }
        parts = []
        for key, (zh, en) in labels.items():
            v = delta.get(key)
            if isinstance(v, int | float):
                unit = "°C" if key == "t1_c" else "K"
                parts.append(f"{zh if lang == 'zh' else en} {v:+.1f} {unit}")
        if delta.get("basis") == "rated-load":
            parts.append("折算至额定负荷" if lang == "zh" else "at rated load")
        elif delta.get("basis") == "mixed":
            parts.append("负荷折算口径不同，仅比较T1" if lang == "zh" else "load bases differ: T1 only")
        out.append(
            TEMPLATES["healthy"][lang].format(
                when=str(healthy.get("taken_at", ""))[:10],
                fid=healthy.get("finding_id"),
                parts=("，" if lang == "zh" else ", ").join(parts) or "—",
            )
        )
    else:
        out.append(TEMPLATES["no-healthy"][lang].format(n=history.get("n_before", 0)))
    frame = history.get("frame")
    if isinstance(frame, Mapping):
        ok = ""
        if frame.get("ok") is False:
            ok = "（配准失败）" if lang == "zh" else " (alignment failed)"
        out.append(
            TEMPLATES["frame"][lang].format(
                dx=_num(frame.get("dx"), 0.0),
                dy=_num(frame.get("dy"), 0.0),
                rot=_num(frame.get("rotation_deg"), 0.0),
                ncc=_num(frame.get("ncc")),
                ok=ok,
            )
        )
    return ("" if lang == "zh" else " ").join(out)
