"""The agent's TOML settings: a minimal file runs; every mistake is one line naming the file."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from irpatrol.edge.config import EdgeConfig, load_config, parse_config
from irpatrol.errors import EdgeConfigError

REPO = Path(__file__).resolve().parents[2]


def test_empty_file_runs_with_defaults(tmp_path: Path) -> None:
    toml = tmp_path / "edge.toml"
    toml.write_text("", encoding="utf-8")
    cfg = load_config(toml)
    assert cfg.robot_id == "robot-01"
    assert cfg.source == "watch"
    assert cfg.watch_dir == tmp_path / "captures"
    assert cfg.outbox_dir == tmp_path / "edge-outbox"
    assert cfg.outbox_budget_bytes == 2 * 1024**3
    assert cfg.mqtt_host is None
    assert (cfg.mqtt_port, cfg.mqtt_topic_prefix) == (1883, "irpatrol")


def test_the_documented_example_parses() -> None:
    cfg = load_config(REPO / "docs" / "examples" / "edge.toml")
    assert cfg.points
    assert cfg.mqtt_host is not None
    assert cfg.server_url is not None


def test_relative_paths_follow_the_file(tmp_path: Path) -> None:
    cfg = parse_config('outbox_dir = "box"\nwatch_dir = "/abs/cam"\n', path=tmp_path / "e.toml")
    assert cfg.outbox_dir == tmp_path / "box"
    assert cfg.watch_dir == Path("/abs/cam")


@pytest.mark.parametrize(
    ("text", "line", "needle"),
    [
        ('robot_id = "robot 7"', 1, "field `robot_id`: must be 1-64"),
        ("robot_id = ", None, "not valid TOML"),
        ('station = "a"\nrobot_id = 1 2', 2, "not valid TOML"),
        ('\n\nmqtt_hots = "x"', 3, "field `mqtt_hots`: unknown key"),
        ("mqtt_port = 70000", 1, "field `mqtt_port`"),
        ("outbox_budget_mb = 1\noutbox_reserve_mb = 2", None, "outbox_reserve_mb must be less"),
        ('source = "replay"', None, "needs replay_path"),
        ('source = "camera"', 1, "field `source`"),
        ('[[points]]\ncode = "A"\n[[points]]\ncode = "B"\nlat = 95\nlon = 1', 3, "field `points.1.lat`"),
        ('[[points]]\ncode = "A"\nx_m = 1', 1, "x_m and y_m go together"),
        ('[[points]]\ncode = "A"\npreset = 3\n[[points]]\ncode = "B"\npreset = "3"', None, "preset '3'"),
        ('preset_pattern = "p(\\\\d+)"', 1, "needs a named group"),
        ('server_url = "ftp://x"', 1, "http:// or https://"),
        ("plan_id = 3", None, "plan_id needs server_url"),
    ],
)
def test_mistakes_are_one_line_naming_the_file(text: str, line: int | None, needle: str) -> None:
    with pytest.raises(EdgeConfigError) as info:
        parse_config(text, path="site/edge.toml")
    msg = str(info.value)
    assert "\n" not in msg
    assert msg.startswith("site/edge.toml:" + (f"{line}:" if line else ""))
    assert needle in msg


def test_unreadable_file(tmp_path: Path) -> None:
    with pytest.raises(EdgeConfigError, match="cannot be read"):
        load_config(tmp_path / "missing.toml")
    bad = tmp_path / "latin1.toml"
    bad.write_bytes(b'station = "\xe9"')
    with pytest.raises(EdgeConfigError, match="not UTF-8"):
        load_config(bad)


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=200))
def test_any_text_gives_a_config_or_one_error(text: str) -> None:
    outcome: EdgeConfig | str
    try:
        outcome = parse_config(text, path="fuzz.toml")
    except EdgeConfigError as exc:
        outcome = str(exc)
    if isinstance(outcome, str):
        assert outcome.startswith("fuzz.toml")
        assert "\n" not in outcome
    else:
        assert isinstance(outcome, EdgeConfig)


def test_every_setting_is_documented() -> None:
    doc = (REPO / "docs" / "edge.md").read_text(encoding="utf-8")
    missing = [name for name in EdgeConfig.model_fields if f"`{name}`" not in doc]
    assert not missing, f"settings missing from docs/edge.md: {missing}"
