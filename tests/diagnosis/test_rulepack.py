"""Rule-pack loading: built-ins, validation errors with file/line/field, ``extends``."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from irpatrol.diagnosis.grading import Grade, Reading, grade
from irpatrol.diagnosis.rulepack import BUILTIN_PACKS, load_rule_pack
from irpatrol.errors import FileAccessError, ParameterError, RulePackError
from irpatrol.pipeline.texts import finding_texts

MINIMAL = """\
schema_version: 1
pack: tiny
version: "0.1"
standard: "test standard"
title: {zh: 测试, en: test}
levels:
  general:
    grade: general
    name: {zh: 一般, en: general}
    clause: "§1"
    verification: V
    action: {zh: 观察, en: watch}
  critical:
    grade: critical
    name: {zh: 危急, en: critical}
    clause: "§2"
    verification: R
    action: {zh: 立即处理, en: act now}
parts:
  lug:
    heating: current
    name: {zh: 线鼻子, en: cable lug}
    clause: "§3"
    verification: P
    criteria:
      general: {delta_t_k_gt: 5}
      critical: {hot_c_gt: 70}
"""


def _write(tmp_path: Path, text: str, name: str = "pack.yaml") -> Path:
    path = tmp_path / name
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


@pytest.mark.parametrize("name", BUILTIN_PACKS)
def test_builtin_packs_load(name: str) -> None:
    pack = load_rule_pack(name)
    assert pack.name == name
    assert pack.parts
    assert len(pack.digest) == 64
    for part in pack.parts.values():
        assert part.criteria
        assert part.verification in {"V", "P", "R", "?"}
        for c in part.criteria:
            assert c.verification in {"V", "P", "R", "?"}
            assert c.clause


def test_dlt664_contents() -> None:
    pack = load_rule_pack("dlt664-2016")
    assert [lvl.grade for lvl in pack.levels] == [Grade.GENERAL, Grade.SERIOUS, Grade.CRITICAL]
    assert pack.preconditions.min_rise_for_delta_k is not None
    assert pack.preconditions.min_rise_for_delta_k.value == 10.0
    assert pack.preconditions.min_rise_for_delta_k.verification == "V"
    assert pack.preconditions.min_load_ratio is not None
    assert pack.preconditions.min_load_ratio.value == pytest.approx(0.30)
    assert pack.preconditions.min_load_ratio.verification == "R"
    assert {e.flag for e in pack.preconditions.environment} == {
        "wind-too-high", "wind-above-precise-limit", "humidity-too-high", "raining",
    }  # fmt: skip
    assert pack.part("switch-contact").id == "disconnector-blade"
    assert pack.part("zno-arrester").heating == "voltage"
    assert pack.part("transformer-tank").verification == "?"


def test_neta_levels_sorted_least_severe_first() -> None:
    pack = load_rule_pack("neta-mts")
    assert [(lvl.id, lvl.priority) for lvl in pack.levels] == [
        ("priority-4", 4), ("priority-3", 3), ("priority-2", 2), ("priority-1", 1),
    ]  # fmt: skip
    assert pack.part("anything").id == "component"


def test_unknown_builtin_name() -> None:
    with pytest.raises(ParameterError) as info:
        load_rule_pack("dlt664-1999")
    assert info.value.parameter == "rules"


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(FileAccessError, match=r"nope\.yaml"):
        load_rule_pack(tmp_path / "nope.yaml")


def test_minimal_user_pack(tmp_path: Path) -> None:
    pack = load_rule_pack(_write(tmp_path, MINIMAL))
    f = grade(Reading(part="lug", t1_c=71.0, t2_c=60.0, t0_c=20.0, load_ratio=1.0), pack=pack)
    assert (f.grade, f.rule_id, f.verification, f.clause) == (
        Grade.CRITICAL,
        "lug.critical.hot_c_gt",
        "P",
        "§3",
    )
    assert finding_texts(f, "en")["recommendation"] == "act now"


# Each case: text replacement applied to MINIMAL, expected line, field and message fragment.
MALFORMED = [
    pytest.param("    verification: P\n", "    verification: X\n",
                 24, "parts.lug.verification", "must be one of", id="bad-mark"),
    pytest.param("      critical: {hot_c_gt: 70}", "      critical: {hot_c_gt: hot}",
                 27, "parts.lug.criteria.critical.hot_c_gt", "must be a number", id="threshold-not-number"),
    pytest.param("      general: {delta_t_k_gt: 5}", "      general: {delta_tk_gt: 5}",
                 26, "parts.lug.criteria.general.delta_tk_gt", "unknown threshold", id="unknown-threshold"),
    pytest.param("      critical: {hot_c_gt: 70}", "      severe: {hot_c_gt: 70}",
                 27, "parts.lug.criteria.severe", "unknown field", id="unknown-level"),
    pytest.param("    heating: current\n", "",
                 20, "parts.lug.heating", "required field is missing", id="missing-heating"),
    pytest.param("    heating: current\n", "    heating: magnetic\n",
                 21, "parts.lug.heating", "must be one of", id="bad-heating"),
    pytest.param('version: "0.1"\n', "",
                 1, "version", "required field is missing", id="missing-version"),
    pytest.param("title: {zh: 测试, en: test}", "title: {zh: 测试}",
                 5, "title.en", "required field is missing", id="missing-english"),
    pytest.param("    grade: critical\n", "    grade: fatal\n",
                 14, "levels.critical.grade", "must be one of", id="bad-grade"),
    pytest.param("schema_version: 1", "schema_version: 2",
                 1, "schema_version", "must be 1", id="schema-version"),
    pytest.param('    clause: "§3"\n', '    clause: "§3"\n    clause: "§4"\n',
                 24, "parts.lug.clause", "duplicate key", id="duplicate-key"),
    pytest.param("    verification: P\n", "    verification: P\n    delta_class: x\n",
                 25, "parts.lug.delta_class", "no such row", id="bad-delta-class"),
    pytest.param("    verification: P\n", "    verification: P\n    colour: red\n",
                 25, "parts.lug.colour", "unknown field", id="unknown-part-field"),
    pytest.param("  lug:\n", "  lug: [1, 2]\n  x:\n",
                 20, "parts.lug", "must be a mapping", id="part-not-mapping"),
]  # fmt: skip


@pytest.mark.parametrize(("old", "new", "line", "field", "message"), MALFORMED)
def test_malformed_pack_names_file_line_field(
    tmp_path: Path, old: str, new: str, line: int, field: str, message: str
) -> None:
    assert old in MINIMAL
    path = _write(tmp_path, MINIMAL.replace(old, new, 1))
    with pytest.raises(RulePackError) as info:
        load_rule_pack(path)
    err = info.value
    assert err.path == str(path)
    assert err.field == field
    assert err.line == line
    assert message in err.detail
    assert str(err).startswith(f"{path}:{line}: field `{field}`:")


def test_yaml_syntax_error_has_line(tmp_path: Path) -> None:
    path = _write(
        tmp_path, MINIMAL.replace("      general: {delta_t_k_gt: 5}", "      general: {delta_t_k_gt: 5")
    )
    with pytest.raises(RulePackError) as info:
        load_rule_pack(path)
    assert info.value.path == str(path)
    assert info.value.line == 27  # where the parser noticed; the flow mapping opened on line 26
    assert "malformed YAML" in info.value.detail
    assert "line 26" in info.value.detail


def test_not_a_mapping_and_empty(tmp_path: Path) -> None:
    with pytest.raises(RulePackError, match="must be a YAML mapping"):
        load_rule_pack(_write(tmp_path, "- 1\n- 2\n"))
    with pytest.raises(RulePackError, match="empty rule pack"):
        load_rule_pack(_write(tmp_path, "# nothing\n", "empty.yaml"))


def test_extends_overrides_and_adds_parts(tmp_path: Path) -> None:
    path = _write(
        tmp_path,
        """\
        schema_version: 1
        extends: dlt664-2016
        pack: my-utility
        version: "2024.1"
        parts:
          connector:
            clause: "Utility rule 7 (stricter than DL/T 664)"
            criteria:
              serious: {hot_c_gt: 70}
          busbar-clamp:
            heating: current
            name: {zh: 母线夹, en: busbar clamp}
            clause: "Utility rule 9"
            verification: R
            criteria:
              critical: {hot_c_gt: 100}
          transformer-tank: null
        """,
    )
    pack = load_rule_pack(path)
    assert pack.name == "my-utility"
    assert pack.version == "2024.1"
    assert pack.sources == ("<builtin>/dlt664-2016.yaml", str(path))
    assert "transformer-tank" not in pack.parts
    assert "busbar-clamp" in pack.parts
    assert pack.digest != load_rule_pack("dlt664-2016").digest
    connector = pack.part("connector")
    # the overridden level replaces the base thresholds (δ ≥ 80 % is gone); other levels are kept
    assert [c.describe() for c in connector.criteria if c.level == "serious"] == ["T1 > 70 °C", "δ ≥ 80 %"]
    assert connector.delta_class == "other-conducting"  # from the δ table of the base pack
    assert connector.verification == "P"
    f = grade(Reading(part="connector", t1_c=75.0, t2_c=65.0, t0_c=25.0, load_ratio=0.8), pack=pack)
    assert (f.grade, f.rule_id, f.clause) == (
        Grade.SERIOUS,
        "connector.serious.hot_c_gt",
        "Utility rule 7 (stricter than DL/T 664)",
    )
    f = grade(Reading(part="busbar-clamp", t1_c=101.0, load_ratio=0.8), pack=pack)
    assert (f.grade, f.rule_pack) == (Grade.CRITICAL, "my-utility")
    # untouched parts still grade as the base pack does
    f = grade(Reading(part="metal-joint", t1_c=131.0, t2_c=120.0, t0_c=30.0, load_ratio=0.8), pack=pack)
    assert f.grade is Grade.CRITICAL


def test_extends_relative_path_and_precondition_override(tmp_path: Path) -> None:
    _write(tmp_path, MINIMAL, "base.yaml")
    child = _write(
        tmp_path,
        """\
        schema_version: 1
        extends: base.yaml
        pack: child
        version: "1"
        preconditions:
          min_load_ratio: {value: 0.5, clause: "house rule", verification: R}
        """,
        "child.yaml",
    )
    pack = load_rule_pack(child)
    assert pack.preconditions.min_load_ratio is not None
    assert pack.preconditions.min_load_ratio.value == 0.5
    f = grade(Reading(part="lug", t1_c=30.0, t2_c=29.0, t0_c=20.0, load_ratio=0.4), pack=pack)
    assert f.tentative
    assert "low-load-tentative" in f.flags


def test_extending_pack_error_points_at_the_extending_file(tmp_path: Path) -> None:
    child = _write(
        tmp_path,
        """\
        schema_version: 1
        extends: dlt664-2016
        pack: child
        version: "1"
        parts:
          connector:
            criteria:
              serious: {hot_c_gt: eighty}
        """,
    )
    with pytest.raises(RulePackError) as info:
        load_rule_pack(child)
    assert (info.value.path, info.value.line) == (str(child), 8)
    assert info.value.field == "parts.connector.criteria.serious.hot_c_gt"


def test_extends_cycle(tmp_path: Path) -> None:
    _write(tmp_path, 'schema_version: 1\nextends: b.yaml\npack: a\nversion: "1"\n', "a.yaml")
    _write(tmp_path, 'schema_version: 1\nextends: a.yaml\npack: b\nversion: "1"\n', "b.yaml")
    with pytest.raises(RulePackError, match="cycle") as info:
        load_rule_pack(tmp_path / "a.yaml")
    assert info.value.field == "extends"


@pytest.mark.parametrize("name", BUILTIN_PACKS)
def test_packs_pickle_for_worker_processes(name: str) -> None:
    # batches hand the pack to worker processes; the read-only parts view must survive
    import pickle

    pack = load_rule_pack(name)
    copy = pickle.loads(pickle.dumps(pack))
    assert copy == pack
    assert copy.digest == pack.digest
    with pytest.raises(TypeError):
        copy.parts["new"] = copy.parts[next(iter(copy.parts))]  # type: ignore[index]
    reading = Reading(part=next(iter(pack.parts)), t1_c=95.0, t2_c=40.0, t0_c=25.0, load_ratio=0.8)
    assert grade(reading, pack=copy) == grade(reading, pack=pack)
