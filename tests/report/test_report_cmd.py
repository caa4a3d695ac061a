"""``irpatrol report --files``: a folder to PDF/DOCX/HTML, bad files listed, options checked."""

from __future__ import annotations

import io
import re
from pathlib import Path

import docx
import pytest
from click.testing import CliRunner

from irpatrol.cli import ExitStatus, cli
from tests.report.conftest import POINTS


def test_folder_to_html_lists_the_unreadable_file_and_exits_partial(
    demo_folder: Path, tmp_path: Path
) -> None:
    args = ["report", "--files", str(demo_folder), "--points", str(POINTS), "--station-name", "示范站"]
    args += ["--bay", "3号开关柜间隔", "--bay", "4号开关柜间隔", "--ambient", "24.5", "--weather", "晴"]
    args += ["--robot", "--executor", "robot-7"]
    out = tmp_path / "r.html"
    r = CliRunner().invoke(cli, [*args, "-o", str(out), "--workers", "2"])
    assert r.exit_code == ExitStatus.PARTIAL, r.output
    assert "4 capture(s), 1 defect(s), 0 missed point(s), 1 unreadable file(s)" in r.stdout
    assert "unreadable: broken.jpg: unsupported format" in r.stderr
    html = out.read_text(encoding="utf-8")
    header = (
        "红外热像检测报告",
        "示范站",
        "3号开关柜间隔、4号开关柜间隔",
        "24.5 °C",
        "晴",
        "机器人",
        "robot-7",
    )
    for needle in (*header, "broken.jpg", "未记录"):
        assert needle in html, needle
    # the same report in one process: the same captures in the same order
    one = tmp_path / "one.html"
    r1 = CliRunner().invoke(cli, [*args, "-o", str(one), "--workers", "1"])
    assert r1.exit_code == ExitStatus.PARTIAL
    sections = re.findall(r"<h2>(.*?)</h2>", html)
    captures = [
        "1. dji_zenmuse_xtr.jpg",
        "2. flir_ax8.jpg",
        "3. flir_e40.jpg",
        "4. Disconnect cabinet 3, fuse bank",
    ]
    assert sections == ["基本信息", "检测结论汇总", *captures]
    assert re.findall(r"<h2>(.*?)</h2>", one.read_text(encoding="utf-8")) == sections


def test_folder_to_docx_in_english(demo_folder: Path, tmp_path: Path) -> None:
    out = tmp_path / "r.docx"
    r = CliRunner().invoke(cli, ["report", "--files", str(demo_folder), "-o", str(out), "--lang", "en"])
    assert r.exit_code == ExitStatus.PARTIAL, r.output
    doc = docx.Document(io.BytesIO(out.read_bytes()))
    assert "Infrared Thermographic Inspection Report" in "\n".join(p.text for p in doc.paragraphs)


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["-o", "r.txt", "--files", "."], "ending in .pdf, .docx or .html"),
        (["-o", "r.pdf"], "exactly one of --files, --patrol, --defect or --station"),
        (["-o", "r.pdf", "--files", ".", "--patrol", "3"], "exactly one of"),
        (["-o", "r.pdf", "--files", ".", "--since", "2026-01-01"], "--station only"),
    ],
)
def test_usage_errors(extra: list[str], message: str) -> None:
    r = CliRunner().invoke(cli, ["report", *extra])
    assert r.exit_code == ExitStatus.USAGE, r.output
    assert message in r.stderr


def test_custom_templates_from_the_setting(
    demo_folder: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    custom = tmp_path / "tpl"
    custom.mkdir()
    (custom / "labels.en.yaml").write_text(
        "title:\n  patrol: Riverside Substation IR Survey\n", encoding="utf-8"
    )
    monkeypatch.setenv("IRPATROL_REPORT_TEMPLATES", str(custom))
    out = tmp_path / "r.html"
    r = CliRunner().invoke(cli, ["report", "--files", str(demo_folder), "-o", str(out), "--lang", "en"])
    assert r.exit_code == ExitStatus.PARTIAL, r.output
    assert "<h1>Riverside Substation IR Survey</h1>" in out.read_text(encoding="utf-8")


def test_a_missing_templates_folder_is_a_settings_error_at_start(tmp_path: Path) -> None:
    from irpatrol.config import load_settings
    from irpatrol.errors import SettingsError

    with pytest.raises(SettingsError, match=r"IRPATROL_REPORT_TEMPLATES.*existing folder"):
        load_settings(report_templates=tmp_path / "nope")
    assert load_settings(report_templates=tmp_path).report_templates == tmp_path
