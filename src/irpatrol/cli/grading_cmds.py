"""``irpatrol grade`` and ``irpatrol rules list|show``: grade one reading, inspect rule packs.

Temperatures are °C, the load is I / I_rated, wind m/s and relative humidity %.  ``--rules``
takes a built-in pack name (``dlt664-2016``, ``gbt11022``, ``neta-mts``) or a YAML path.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import asdict
from typing import Any

import click

from irpatrol.cli.app import handle_errors
from irpatrol.cli.options import json_option, rules_option, setting_or
from irpatrol.diagnosis.grading import Finding, Reading, grade, list_parts, load_rule_pack
from irpatrol.diagnosis.rulepack import Part, RulePack
from irpatrol.pipeline.texts import bilingual_texts, finding_texts

F = Callable[..., Any]


def _lang_option(func: F) -> F:
    return click.option(
        "--lang", type=click.Choice(["zh", "en"]), default="en", show_default=True, help="Language of texts."
    )(func)


def _echo_json(doc: object) -> None:
    click.echo(json.dumps(doc, ensure_ascii=False, indent=2))


def _num(value: float | None, unit: str) -> str:
    return "-" if value is None else f"{value:.1f} {unit}"


def format_finding(finding: Finding, *, lang: str) -> str:
    """A finding as a few readable lines."""
    zh = lang == "zh"
    texts = finding_texts(finding, "zh" if zh else "en")
    label = finding.grade.label_zh if zh else finding.grade.label_en
    if finding.tentative:
        label += "（暂定）" if zh else " (tentative)"
    if finding.priority is not None:
        label += f"  [NETA priority {finding.priority}]"
    lines = [
        f"{finding.grade.name}  {label}",
        f"  part      {finding.part}",
        f"  pack      {finding.rule_pack} {finding.rule_pack_version}",
        "  readings  "
        + "  ".join(
            [
                f"T1 {_num(finding.t1_c, '°C')}",
                f"T2 {_num(finding.t2_c, '°C')}",
                f"T0 {_num(finding.t0_c, '°C')}",
                f"ΔT {_num(finding.delta_t_k, 'K')}",
                f"rise {_num(finding.rise_k, 'K')}",
                f"δ {_num(finding.delta_pct, '%')}",
            ]
        ),
        f"  rule      {finding.rule_id} ({finding.method}, verification {finding.verification})",
        f"  flags     {', '.join(finding.flags) or '-'}",
        "",
        texts["explanation"],
        "",
        ("处理建议：" if zh else "Recommendation: ") + texts["recommendation"],
    ]
    return "\n".join(lines)


@click.command("grade")
@click.option("--part", required=True, help="Device part id of the pack (see `irpatrol rules list`).")
@click.option("--t1", type=float, required=True, help="Hot-spot temperature T1, °C.")
@click.option("--t2", type=float, help="Normal corresponding point T2 (healthy phase / same-type unit), °C.")
@click.option("--t0", type=float, help="Ambient reference body T0, °C.")
@click.option("--load-ratio", type=float, help="Present load / rated load (e.g. 0.6).")
@click.option("--load-exponent", type=float, default=2.0, show_default=True, help="n in ΔT·(I_rated/I)^n.")
@click.option("--load-correction", is_flag=True, help="Correct ΔT and rise to rated load before grading.")
@click.option("--wind", type=float, help="Wind speed, m/s.")
@click.option("--humidity", type=float, help="Relative humidity, %.")
@click.option("--rain/--no-rain", default=None, help="It was raining (or not) during the measurement.")
@rules_option
@json_option
@_lang_option
@handle_errors
def grade_cmd(
    *,
    part: str,
    t1: float,
    t2: float | None,
    t0: float | None,
    load_ratio: float | None,
    load_exponent: float,
    load_correction: bool,
    wind: float | None,
    humidity: float | None,
    rain: bool | None,
    rules: str | None,
    as_json: bool,
    lang: str,
) -> None:
    """Grade one hot-spot reading (DL/T 664 by default) and explain the decision."""
    pack = load_rule_pack(setting_or(rules, "rules"))
    reading = Reading(
        part=part,
        t1_c=t1,
        t2_c=t2,
        t0_c=t0,
        load_ratio=load_ratio,
        wind_m_s=wind,
        humidity_pct=humidity,
        raining=rain,
    )
    finding = grade(reading, pack=pack, load_exponent=load_exponent, load_correction=load_correction)
    if as_json:
        _echo_json({**finding.to_dict(), **bilingual_texts(finding.to_dict())})
    else:
        click.echo(format_finding(finding, lang=lang))


def pack_to_dict(pack: RulePack) -> dict[str, object]:
    """JSON-ready description of a pack: header, levels, preconditions and parts."""
    return {
        "pack": pack.name,
        "version": pack.version,
        "standard": pack.standard,
        "title": asdict(pack.title),
        "sources": list(pack.sources),
        "digest": pack.digest,
        "default_part": pack.default_part,
        "levels": [{**asdict(lvl), "grade": lvl.grade.name.lower()} for lvl in pack.levels],
        "preconditions": asdict(pack.preconditions),
        "parts": [p.to_dict() for p in list_parts(pack)],
    }


def _part_lines(pack: RulePack, part: Part, *, lang: str, detail: bool) -> list[str]:
    aliases = f" (= {', '.join(part.aliases)})" if part.aliases else ""
    lines = [f"{part.id}{aliases}  [{part.heating}, {part.verification}]  {part.name.get(lang)}"]
    if detail:
        lines.append(f"    clause    {part.clause}")
        for label, text in (("fault", part.fault), ("advice", part.advice), ("note", part.note)):
            if text is not None:
                lines.append(f"    {label:<9} {text.get(lang)}")
    for lvl in pack.levels:
        shown: list[str] = []
        for c in part.criteria:
            item = f"{c.describe()} [{c.verification}]"
            if c.level == lvl.id and item not in shown:
                shown.append(item)
                if detail and c.clause != part.clause:
                    shown[-1] += f" ({c.clause})"
        if shown:
            lines.append(f"    {lvl.id:<11} {'; '.join(shown)}")
    return lines


@click.group("rules")
def rules_group() -> None:
    """Inspect rule packs: parts, thresholds, sources and verification marks."""


@rules_group.command("list")
@rules_option
@json_option
@_lang_option
@handle_errors
def rules_list(*, rules: str | None, as_json: bool, lang: str) -> None:
    """List the parts of a pack with their thresholds and verification marks (V/P/R/?)."""
    pack = load_rule_pack(setting_or(rules, "rules"))
    if as_json:
        _echo_json(pack_to_dict(pack))
        return
    out = [
        f"{pack.name} {pack.version}: {pack.title.get(lang)}",
        f"standard: {pack.standard}",
        "levels: " + ", ".join(f"{lvl.id} = {lvl.grade.name.lower()}" for lvl in pack.levels),
        "marks: V confirmed in corpus, P partly, R recalled (check the standard), ? uncertain",
        "",
    ]
    for part in list_parts(pack):
        out.extend(_part_lines(pack, part, lang=lang, detail=False))
    click.echo("\n".join(out))


@rules_group.command("show")
@click.argument("part")
@rules_option
@json_option
@_lang_option
@handle_errors
def rules_show(*, part: str, rules: str | None, as_json: bool, lang: str) -> None:
    """Show one part of a pack with clauses, fault, advice and thresholds."""
    pack = load_rule_pack(setting_or(rules, "rules"))
    found = pack.part(part)
    if as_json:
        _echo_json(found.to_dict())
        return
    click.echo("\n".join(_part_lines(pack, found, lang=lang, detail=True)))


def register(group: click.Group) -> None:
    """Add ``grade`` and ``rules`` to the ``irpatrol`` group."""
    group.add_command(grade_cmd)
    group.add_command(rules_group)
