"""Grading against the built-in rule packs: hand-worked cases plus input validation."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import pytest
import yaml

from irpatrol.diagnosis.grading import Finding, Grade, Note, Reading, grade, list_parts, load_rule_pack
from irpatrol.errors import ParameterError
from irpatrol.pipeline.texts import finding_texts, render_finding_texts

CASES: list[dict[str, Any]] = yaml.safe_load(
    (Path(__file__).with_name("grading_cases.yaml")).read_text(encoding="utf-8")
)
NUMBER_FIELDS = (
    "delta_t_k", "rise_k", "delta_pct", "load_factor", "delta_t_rated_k", "rise_rated_k", "t1_rated_c",
)  # fmt: skip


class _Texts:
    """A finding's texts in both languages, rendered from its facts."""

    def __init__(self, f: Finding) -> None:
        zh, en = finding_texts(f, "zh"), finding_texts(f, "en")
        self.explanation_zh, self.recommendation_zh = zh["explanation"], zh["recommendation"]
        self.explanation_en, self.recommendation_en = en["explanation"], en["recommendation"]


def _grade_case(case: dict[str, Any]) -> Finding:
    pack = load_rule_pack(case.get("pack", "dlt664-2016"))
    return grade(Reading(**case["reading"]), pack=pack, **case.get("options", {}))


def test_case_table_is_large_and_unique() -> None:
    ids = [c["id"] for c in CASES]
    assert len(ids) >= 40
    assert len(set(ids)) == len(ids)


def test_case_table_covers_every_part_of_dlt664() -> None:
    pack = load_rule_pack("dlt664-2016")
    graded = {
        pack.part(c["reading"]["part"]).id for c in CASES if c.get("pack", "dlt664-2016") == "dlt664-2016"
    }
    assert graded == set(pack.parts)


@pytest.mark.parametrize("case", CASES, ids=[c["id"] for c in CASES])
def test_case_texts_render_from_stored_facts(case: dict[str, Any]) -> None:
    """Texts from JSON round-tripped facts equal texts from the live finding, in zh and en."""
    f = _grade_case(case)
    stored = json.loads(json.dumps(f.to_dict(), ensure_ascii=False))
    assert Finding.from_dict(stored) == f
    for lang in ("zh", "en"):
        live = finding_texts(f, lang)
        assert render_finding_texts(stored, lang) == live
        assert live["explanation"].count(f.rule_pack) <= 1
        assert live["recommendation"]


@pytest.mark.parametrize("case", CASES, ids=[c["id"] for c in CASES])
def test_hand_worked_case(case: dict[str, Any]) -> None:
    f = _grade_case(case)
    exp = case["expect"]
    assert f.grade == Grade[exp["grade"]]
    assert f.rule_id == exp["rule_id"]
    assert list(f.flags) == exp.get("flags", [])
    assert f.tentative is exp.get("tentative", False)
    if "method" in exp:
        assert f.method == exp["method"]
    if "verification" in exp:
        assert f.verification == exp["verification"]
    if "priority" in exp:
        assert f.priority == exp["priority"]
    for name in NUMBER_FIELDS:
        if name in exp:
            value = getattr(f, name)
            assert value is not None, name
            assert value == pytest.approx(exp[name], abs=0.05), name
    assert f.part == case["reading"]["part"]


def test_explanation_quotes_numbers_rule_clause_and_mark() -> None:
    r = Reading(part="connector", t1_c=95.0, t2_c=40.0, t0_c=30.0, load_ratio=0.8)
    f = grade(r, pack=load_rule_pack("dlt664-2016"))
    t = _Texts(f)
    for text in (t.explanation_en, t.explanation_zh):
        assert "95.0 °C" in text
        assert "55.0 K" in text
        assert "84.6 %" in text
        assert "connector.serious.hot_c_gt" in text
        assert "附录H" in text
        assert "P" in text
    assert "T1 95.0 °C > 80 °C" in t.explanation_en
    assert "serious defect" in t.explanation_en
    assert "严重缺陷" in t.explanation_zh
    assert t.recommendation_en.startswith("Arrange treatment soon")
    assert t.recommendation_zh.startswith("尽快安排处理")
    assert f.clause.startswith("DL/T 664-2016")
    assert f.rule_pack == "dlt664-2016"
    assert f.rule_pack_version == "1.0.0"
    assert f.level == "serious"


def test_voltage_heating_uses_its_own_action_and_advice() -> None:
    f = grade(
        Reading(part="zno-arrester", t1_c=21.0, t2_c=20.2, t0_c=18.0), pack=load_rule_pack("dlt664-2016")
    )
    assert f.grade is Grade.SERIOUS
    t = _Texts(f)
    assert "further electrical tests" in t.recommendation_en
    assert "Advice: run DC and AC tests." in t.recommendation_en
    assert "直流和交流试验" in t.recommendation_zh


def test_low_load_recommends_retest() -> None:
    r = Reading(part="connector", t1_c=40.0, t2_c=35.0, t0_c=20.0, load_ratio=0.1)
    t = _Texts(grade(r, pack=load_rule_pack("dlt664-2016")))
    assert "Retest at no less than 30 % of rated load" in t.recommendation_en
    assert "Load 10 % of rated is below 30 %" in t.explanation_en
    assert "30 %" in t.recommendation_zh


def test_neta_action_text_and_priority() -> None:
    f = grade(Reading(part="busbar", t1_c=70.0, t0_c=25.0, load_ratio=0.9), pack=load_rule_pack("neta-mts"))
    assert (f.grade, f.priority, f.level) == (Grade.CRITICAL, 1, "priority-1")
    t = _Texts(f)
    assert t.recommendation_en == "Major discrepancy; repair immediately."
    assert f.verification == "V"
    assert "T1−T0 45.0 K > 40 K" in t.explanation_en


def test_to_dict_is_json_ready() -> None:
    r = Reading(part="connector", t1_c=60.0, t2_c=28.0, t0_c=20.0, load_ratio=0.29)
    d = grade(r, pack=load_rule_pack("dlt664-2016")).to_dict()
    back = json.loads(json.dumps(d, ensure_ascii=False))
    assert back["grade"] == "serious"
    assert back["grade_value"] == 2
    assert back["grade_label_zh"] == "严重缺陷"
    assert back["delta_pct"] == pytest.approx(80.0)
    assert back["flags"] == ["low-load-tentative", "retest-at-higher-load"]
    assert back["tentative"] is True
    assert back["load_factor"] is None


def test_grade_labels() -> None:
    assert [g.label_zh for g in Grade] == ["正常", "一般缺陷", "严重缺陷", "危急缺陷"]
    assert Grade.CRITICAL > Grade.SERIOUS > Grade.GENERAL > Grade.NORMAL


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("t1_c", math.nan),
        ("t1_c", math.inf),
        ("t2_c", math.nan),
        ("t0_c", -math.inf),
        ("t0_c", -300.0),
        ("load_ratio", math.nan),
        ("load_ratio", -0.1),
        ("wind_m_s", math.nan),
        ("humidity_pct", 101.0),
        ("t1_c", True),
    ],
)
def test_bad_reading_raises_naming_the_field(field: str, value: object) -> None:
    kwargs: dict[str, Any] = {"part": "connector", "t1_c": 50.0, "t2_c": 40.0, "t0_c": 20.0}
    kwargs[field] = value
    with pytest.raises(ParameterError) as info:
        Reading(**kwargs)
    assert info.value.parameter == field
    assert f"`{field}`" in str(info.value)


def test_unknown_part_raises() -> None:
    with pytest.raises(ParameterError, match="no-such-part") as info:
        grade(Reading(part="no-such-part", t1_c=50.0), pack=load_rule_pack("dlt664-2016"))
    assert info.value.parameter == "part"
    assert "connector" in str(info.value)


@pytest.mark.parametrize("n", [math.nan, 0.0, -2.0, 10.0])
def test_bad_load_exponent_raises(n: float) -> None:
    r = Reading(part="connector", t1_c=50.0, t2_c=35.0, t0_c=30.0, load_ratio=0.5)
    with pytest.raises(ParameterError) as info:
        grade(r, pack=load_rule_pack("dlt664-2016"), load_exponent=n, load_correction=True)
    assert info.value.parameter == "load_exponent"


def test_load_correction_leaves_delta_unchanged() -> None:
    pack = load_rule_pack("dlt664-2016")
    r = Reading(part="connector", t1_c=50.0, t2_c=35.0, t0_c=30.0, load_ratio=0.5)
    plain, corrected = grade(r, pack=pack), grade(r, pack=pack, load_correction=True)
    assert plain.delta_pct == corrected.delta_pct == pytest.approx(75.0)
    assert plain.load_factor is None
    assert corrected.load_factor == pytest.approx(4.0)
    assert "T1(rated) 110.0 °C > 80 °C" in _Texts(corrected).explanation_en


def test_list_parts_rows() -> None:
    parts = list_parts(load_rule_pack("dlt664-2016"))
    assert parts[0].id == "connector"
    row = parts[0].to_dict()
    texts = [c["text"] for c in row["criteria"]]  # type: ignore[union-attr]
    assert texts == [
        "ΔT > 15 K",
        "T1 > 80 °C",
        "δ ≥ 80 %",
        "T1 > 110 °C",
        "δ ≥ 95 %",
        "δ ≥ 35 %",
        "δ ≥ 80 %",
        "δ ≥ 95 %",
    ]
    assert row["verification"] == "P"
    assert json.loads(json.dumps(row, ensure_ascii=False)) == row


def test_finding_holds_facts_not_prose() -> None:
    r = Reading(part="connector", t1_c=40.0, t2_c=35.0, t0_c=20.0, load_ratio=0.1)
    f = grade(r, pack=load_rule_pack("dlt664-2016"))
    assert not any("explanation" in k or "recommendation" in k for k in f.to_dict())
    assert [n.code for n in f.notes] == [
        "no-threshold-reached",
        "low-load-tentative",
        "retest-at-higher-load",
    ]
    low = f.notes[1]
    assert low.param("load_pct") == pytest.approx(10.0)
    assert low.param("limit_pct") == pytest.approx(30.0)
    assert low.param("mark") in {"V", "P", "R", "?"}
    assert Note.from_dict(low.to_dict()) == low


def test_unknown_note_code_is_named_not_fatal() -> None:
    f = grade(Reading(part="connector", t1_c=40.0, t2_c=35.0, t0_c=20.0), pack=load_rule_pack("dlt664-2016"))
    facts = f.to_dict()
    facts["notes"].append({"code": "from-the-future", "params": {"x": 1}})
    assert render_finding_texts(facts, "en")["explanation"].endswith("(note from-the-future)")


def test_render_refuses_other_languages() -> None:
    f = grade(Reading(part="connector", t1_c=40.0), pack=load_rule_pack("dlt664-2016"))
    with pytest.raises(ParameterError) as info:
        finding_texts(f, "fr")
    assert info.value.parameter == "lang"


def test_from_dict_refuses_malformed_facts() -> None:
    with pytest.raises(ParameterError) as info:
        Finding.from_dict({"grade": "normal"})
    assert info.value.parameter == "facts"
