"""Settings: every one documented, each reaching the commands through IRPATROL_* variables."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner
from PIL import Image

from irpatrol.cli import cli
from irpatrol.config import Settings
from tests.conftest import DEMO, REPO


@pytest.mark.parametrize("name", sorted(Settings.model_fields))
def test_every_setting_is_documented_in_the_readme(name: str) -> None:
    assert f"IRPATROL_{name.upper()}" in (REPO / "README.md").read_text(encoding="utf-8")


def test_rules_setting_applies_when_option_is_left_out(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("IRPATROL_RULES", "neta-mts")
    args = ["grade", "--part", "component", "--t1", "60", "--t2", "40", "--t0", "25", "--json"]
    r = CliRunner().invoke(cli, args)
    assert r.exit_code == 0, r.output
    assert json.loads(r.stdout)["rule_pack"] == "neta-mts"
    r = CliRunner().invoke(cli, [*args, "--rules", "dlt664-2016", "--part", "connector"])
    assert json.loads(r.stdout)["rule_pack"] == "dlt664-2016"  # the option wins


def test_palette_setting_applies_to_render(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("IRPATROL_PALETTE", "gray")
    out = tmp_path / "e40.png"
    r = CliRunner().invoke(cli, ["render", str(DEMO / "flir_e40.jpg"), "-o", str(out)])
    assert r.exit_code == 0, r.output
    with Image.open(out) as img:
        rgb = np.asarray(img.convert("RGB"))[:240, :320].astype(int)
    assert np.array_equal(rgb[..., 0], rgb[..., 1])  # grey levels only
    assert np.array_equal(rgb[..., 1], rgb[..., 2])
    assert rgb.max() - rgb.min() > 100  # and not a flat image


def test_bad_setting_value_is_a_clear_error(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("IRPATROL_PALETTE", "plaid")
    r = CliRunner().invoke(cli, ["render", str(DEMO / "flir_e40.jpg"), "-o", str(tmp_path / "x.png")])
    assert r.exit_code == 2
    assert r.stderr.strip().splitlines() == [
        "irpatrol: error: setting IRPATROL_PALETTE: Input should be 'iron', 'rainbow' or 'gray' (got 'plaid')"
    ]
