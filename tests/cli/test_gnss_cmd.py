"""``irpatrol gnss FILE [--json]``: the JSON contract, the human summary, one-line errors."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from irpatrol.cli import cli
from irpatrol.geo.nmea import SKIP_REASONS
from tests.conftest import SAMPLES

DATA = Path(__file__).resolve().parents[1] / "data" / "nmea"
NMEA = SAMPLES / "nmea"


@pytest.fixture
def runner() -> CliRunner:
    return CliRunner()


def gnss_json(runner: CliRunner, path: Path, *extra: str) -> dict[str, object]:
    result = runner.invoke(cli, ["gnss", "--json", str(path), *extra])
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    assert isinstance(doc, dict)
    return doc


def test_json_contract_on_the_rtk_log(runner: CliRunner) -> None:
    doc = gnss_json(runner, DATA / "gpsd-nmea-rtk.log")
    assert doc["gga_quality_counts"] == {"2": 104, "4": 18}
    assert doc["talkers"] == ["GN", "GP"]
    assert doc["messages"] == 244
    assert doc["skipped"] == {reason: (9 if reason == "comment" else 0) for reason in SKIP_REASONS}
    assert doc["skipped_total"] == 9
    first, last = doc["first_fix"], doc["last_fix"]
    assert isinstance(first, dict)
    assert isinstance(last, dict)
    # first $GNGGA,132819.60,4134.49795459,N,09345.03431408,W,2
    # last  $GNGGA,133901.50,4134.50180366,N,09345.03586734,W,4
    assert first["lat"] == pytest.approx(41 + 34.49795459 / 60, abs=1e-9)
    assert first["lon"] == pytest.approx(-(93 + 45.03431408 / 60), abs=1e-9)
    assert first["quality"] == "dgps"
    assert first["time"] == "2020-03-18T13:28:19.600000+00:00"
    assert last["lat"] == pytest.approx(41 + 34.50180366 / 60, abs=1e-9)
    assert last["quality"] == "rtk_fixed"
    assert last["gga_quality"] == 4
    assert doc["sigma_m"] is None  # no GST in this log
    assert doc["epochs"] == 122
    assert doc["quality_counts"] == {"dgps": 104, "rtk_fixed": 18}
    assert doc["schema_version"] == 1


@pytest.mark.samples
def test_json_sigma_is_the_median_of_gst(runner: CliRunner) -> None:
    path = NMEA / "gpsd-skytraq-dgps.log"
    if not path.exists():
        pytest.skip(f"shared NMEA sample {path} is absent")
    doc = gnss_json(runner, path)
    assert doc["talkers"] == ["BD", "GP"]
    assert doc["gga_quality_counts"] == {"2": 96}
    assert doc["gst_epochs"] == 96
    # recomputed here from the GST lines (σlat, σlon are fields 6 and 7)
    sigmas = sorted(
        (float(f[6]) ** 2 + float(f[7].split("*")[0]) ** 2) ** 0.5
        for line in path.read_text("ascii").splitlines()
        if line.startswith("$GPGST")
        for f in [line.split(",")]
    )
    assert len(sigmas) == 96
    assert doc["sigma_m"] == pytest.approx((sigmas[47] + sigmas[48]) / 2)


@pytest.mark.samples
def test_every_shared_log_summarises(runner: CliRunner) -> None:
    if not NMEA.is_dir():
        pytest.skip(f"{NMEA} is absent")
    logs = sorted(NMEA.glob("*.log"))
    assert len(logs) == 8
    for path in logs:
        doc = gnss_json(runner, path)
        assert doc["messages"] > 0
        assert doc["first_fix"] is not None
        assert doc["skipped"]["checksum"] == 0


def test_human_summary(runner: CliRunner) -> None:
    result = runner.invoke(cli, ["gnss", str(DATA / "gpsd-skytraq-PX1172RH_DS.log")])
    assert result.exit_code == 0, result.output
    out = result.stdout
    assert "195 valid, 11 skipped (comment 8, gpsd_json 3)" in out
    assert "GA, GB, GL, GN, GP" in out
    assert "quality 5: 9" in out
    assert "44.0687851° N  121.3140640° W  1127.6 m  rtk_float" in out
    assert "heading 244.3°" in out


def test_date_option_for_logs_without_rmc(runner: CliRunner, tmp_path: Path) -> None:
    log = tmp_path / "gga-only.log"
    gga = [line for line in (DATA / "gpsd-nmea-rtk.log").read_bytes().splitlines(True) if b"GGA" in line]
    log.write_bytes(b"".join(gga[:3]))
    undated = gnss_json(runner, log)
    assert undated["undated_epochs"] == 3
    assert undated["first_fix"]["time"] is None  # type: ignore[index]
    text = runner.invoke(cli, ["gnss", str(log)]).stdout
    assert "use --date" in text
    dated = gnss_json(runner, log, "--date", "2020-03-18")
    assert dated["undated_epochs"] == 0
    assert dated["first_fix"]["time"] == "2020-03-18T13:28:19.600000+00:00"  # type: ignore[index]


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (None, "cannot be read"),
        (b"", "no valid NMEA 0183 sentence"),
        (b"\xff\xd8\xff\xe0 a JPEG, say\n", "no valid NMEA 0183 sentence (skipped: 1 binary)"),
        (b"$GPGGA,1*00\n", "no valid NMEA 0183 sentence (skipped: 1 checksum)"),
    ],
)
def test_bad_file_is_one_line_and_exit_3(
    runner: CliRunner, tmp_path: Path, content: bytes | None, message: str
) -> None:
    path = tmp_path / "bad.log"
    if content is not None:
        path.write_bytes(content)
    result = runner.invoke(cli, ["gnss", str(path)])
    assert result.exit_code == 3
    assert result.stdout == ""
    assert result.stderr.count("\n") == 1
    assert result.stderr.startswith(f"irpatrol: error: {path}: ")
    assert message in result.stderr


def test_listed_in_help(runner: CliRunner) -> None:
    result = runner.invoke(cli, ["--help"])
    assert "gnss" in result.stdout
