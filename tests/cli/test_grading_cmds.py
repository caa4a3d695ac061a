"""``irpatrol grade`` and ``irpatrol rules`` through click's runner."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from irpatrol.cli import cli


@pytest.fixture
def runner() -> CliRunner:
    return CliRunner()


def test_grade_text(runner: CliRunner) -> None:
    result = runner.invoke(
        cli, ["grade", "--part", "connector", "--t1", "95", "--t2", "40", "--t0", "30", "--load-ratio", "0.8"]
    )
    assert result.exit_code == 0, result.output
    out = result.stdout
    assert out.startswith("SERIOUS  serious defect\n")
    assert "ΔT 55.0 K  rise 65.0 K  δ 84.6 %" in out
    assert "connector.serious.hot_c_gt (surface-temperature, verification P)" in out
    assert "T1 95.0 °C > 80 °C" in out
    assert "Recommendation: Arrange treatment soon" in out
    assert result.stderr == ""


def test_grade_chinese_tentative(runner: CliRunner) -> None:
    args = ["grade", "--part", "connector", "--t1", "28", "--t2", "22", "--t0", "20", "--load-ratio", "0.2"]
    result = runner.invoke(cli, [*args, "--lang", "zh"])
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith("GENERAL  一般缺陷（暂定）\n")
    assert "热点温升 8.0 K 小于 10 K" in result.stdout
    assert "处理建议：" in result.stdout


def test_grade_json(runner: CliRunner) -> None:
    args = ["grade", "--part", "connector", "--t1", "50", "--t2", "35", "--t0", "30", "--load-ratio", "0.5"]
    result = runner.invoke(cli, [*args, "--load-correction", "--rain", "--json"])
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    assert doc["grade"] == "serious"
    assert doc["rule_id"] == "connector.serious.hot_c_gt"
    assert doc["load_factor"] == pytest.approx(4.0)
    assert doc["t1_rated_c"] == pytest.approx(110.0)
    assert doc["flags"] == ["load-corrected", "raining"]
    assert doc["tentative"] is True


def test_grade_load_exponent_and_neta(runner: CliRunner) -> None:
    args = ["grade", "--part", "busbar", "--t1", "46", "--t0", "25", "--rules", "neta-mts", "--json"]
    result = runner.invoke(cli, args)
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    assert (doc["grade"], doc["priority"], doc["rule_id"]) == ("serious", 2, "component.priority-2.rise_k_ge")
    assert doc["flags"] == ["no-reference-t2", "load-unknown"]


def test_grade_user_pack_path(runner: CliRunner, tmp_path: Path) -> None:
    pack = tmp_path / "strict.yaml"
    pack.write_text(
        'schema_version: 1\nextends: dlt664-2016\npack: strict\nversion: "1"\n'
        "parts:\n  connector:\n    criteria:\n      serious: {hot_c_gt: 60}\n",
        encoding="utf-8",
    )
    args = ["grade", "--part", "connector", "--t1", "65", "--t2", "55", "--t0", "25", "--load-ratio", "1"]
    result = runner.invoke(cli, [*args, "--rules", str(pack), "--json"])
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    assert (doc["grade"], doc["rule_pack"]) == ("serious", "strict")


@pytest.mark.parametrize(
    ("args", "code", "fragment"),
    [
        (["--part", "connector", "--t1", "nan"], 2, "`t1_c` must be a finite number"),
        (["--part", "connector", "--t1", "50", "--t0", "inf"], 2, "`t0_c` must be a finite number"),
        (["--part", "no-such-part", "--t1", "50"], 2, "`part` must be a part of rule pack dlt664-2016"),
        (["--part", "connector", "--t1", "50", "--humidity", "120"], 2, "`humidity_pct`"),
        (["--part", "connector", "--t1", "50", "--rules", "dlt664-1999"], 2, "`rules` must be a built-in"),
        (["--part", "connector", "--t1", "50", "--rules", "missing.yaml"], 3, "missing.yaml"),
    ],
)
def test_grade_bad_input_one_line_on_stderr(
    runner: CliRunner, args: list[str], code: int, fragment: str
) -> None:
    result = runner.invoke(cli, ["grade", *args])
    assert result.exit_code == code
    assert result.stdout == ""
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1
    assert lines[0].startswith("irpatrol: error: ")
    assert fragment in lines[0]


def test_grade_malformed_pack_exit_5(runner: CliRunner, tmp_path: Path) -> None:
    pack = tmp_path / "bad.yaml"
    pack.write_text('schema_version: 1\nextends: dlt664-2016\npack: bad\nversion: "1"\nparts:\n  connector:\n'
                    "    verification: maybe\n", encoding="utf-8")  # fmt: skip
    result = runner.invoke(cli, ["grade", "--part", "connector", "--t1", "50", "--rules", str(pack)])
    assert result.exit_code == 5
    assert result.stderr.strip() == (
        f"irpatrol: error: {pack}:7: field `parts.connector.verification`: "
        "must be one of V, P, R, ?; got 'maybe'"
    )


def test_grade_missing_required_option_is_usage_error(runner: CliRunner) -> None:
    result = runner.invoke(cli, ["grade", "--t1", "50"])
    assert result.exit_code == 2
    assert "--part" in result.stderr


def test_rules_list_text(runner: CliRunner) -> None:
    result = runner.invoke(cli, ["rules", "list"])
    assert result.exit_code == 0, result.output
    out = result.stdout
    assert out.startswith("dlt664-2016 1.0.0: ")
    assert "connector (= equipment-connector, clamp)  [current, P]" in out
    assert "    serious     T1 > 80 °C [P]; δ ≥ 80 % [P]; δ ≥ 80 % [R]" in out
    assert "zno-arrester (= arrester)  [voltage, R]" in out
    assert "    serious     ΔT ≥ 0.5 K [R]" in out


def test_rules_list_json(runner: CliRunner) -> None:
    result = runner.invoke(cli, ["rules", "list", "--rules", "gbt11022", "--json"])
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    assert doc["pack"] == "gbt11022"
    parts = {p["id"]: p for p in doc["parts"]}
    assert parts["bolted-bare-air"]["criteria"][0]["text"] == "T1 > 90 °C"
    assert parts["bolted-bare-air"]["verification"] == "V"
    assert [lvl["grade"] for lvl in doc["levels"]] == ["general", "serious", "critical"]
    assert doc["preconditions"]["min_load_ratio"]["value"] == pytest.approx(0.3)


def test_rules_show(runner: CliRunner) -> None:
    result = runner.invoke(cli, ["rules", "show", "switch-contact", "--lang", "zh"])
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith("disconnector-blade (= switch-contact)  [current, P]  隔离开关 刀口")
    assert "advice    测量接触电阻" in result.stdout
    result = runner.invoke(cli, ["rules", "show", "fuse", "--json"])
    assert json.loads(result.stdout)["delta_class"] == "other-conducting"


def test_rules_show_unknown_part(runner: CliRunner) -> None:
    result = runner.invoke(cli, ["rules", "show", "flux-capacitor"])
    assert result.exit_code == 2
    assert result.stderr.count("\n") == 1
    assert "flux-capacitor" in result.stderr
