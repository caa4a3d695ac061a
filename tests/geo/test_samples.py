"""Every real log in ../shared/samples/nmea gives what its README lists.

Expected GGA quality counts and talkers are the README's "Quick facts" table
(measured there with a regex and pynmeagps, independently of irpatrol).  First and
last fixes are the first and last GGA with a fix in each file, decoded here by hand
from ``ddmm.mmmm`` (degrees + minutes / 60), not by the parser under test.
"""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime
from pathlib import Path

import pytest

from irpatrol.geo import FixQuality, summarize_log
from tests.conftest import SAMPLES

NMEA = SAMPLES / "nmea"
DATA = Path(__file__).resolve().parents[1] / "data" / "nmea"


def dm(degrees: int, minutes: float, hemisphere: str) -> float:
    """Hand decoding of NMEA ``dddmm.mmmm`` + hemisphere."""
    value = degrees + minutes / 60.0
    return -value if hemisphere in "SW" else value


# file: (bytes, lines, GGA quality counts, talkers, other talkers, sha256 prefix) -- README "Quick facts"
QUICK_FACTS: dict[str, tuple[int, int, dict[str, int], list[str], list[str], str]] = {
    "gpsd-nmea-rtk.log": (22367, 253, {"2": 104, "4": 18}, ["GN", "GP"], [], "f2197867806cbc15"),
    "gpsd-skytraq-PX1172RH_DS.log": (
        12513,
        206,
        {"5": 9},
        ["GA", "GB", "GL", "GN", "GP"],
        [],
        "e37e10663d4a15cd",
    ),
    "gpsd-unicore-um621.log": (
        60857,
        899,
        {"0": 4, "1": 16},
        ["GA", "GB", "GL", "GN", "GP"],
        ["GY", "SN"],
        "182ac39fd16c26e5",
    ),
    "gpsd-ublox-zed-f9p-nmea.log": (
        58367,
        1027,
        {"1": 29},
        ["GA", "GB", "GL", "GN", "GP"],
        [],
        "6f99714a2800d1ec",
    ),
    "gpsd-skytraq-dgps.log": (61320, 1031, {"2": 96}, ["BD", "GP"], [], "0d41ae6ad97e3ec8"),
    "gpsd-beidou-bd.log": (4863, 94, {"0": 5, "1": 5}, ["BD", "GN", "GP"], [], "ee50bf721c2fee27"),
    "pynmeagps-um981-gll-quirk.log": (373, 6, {"1": 2}, ["GN"], [], "b52dc5e32e1ca314"),
    # a collection of single sentences: one GGAH (quality 1), counted with GGA
    "pynmeagps-unicore_nmea.log": (
        3793,
        61,
        {"1": 1},
        ["GA", "GB", "GL", "GN", "GP", "GQ"],
        [],
        "1c22bd27bfc81368",
    ),
}

# file: (first fix (time, lat, lon, alt_m, quality), last fix (...)), decoded by hand from the GGA lines
FIXES: dict[
    str, tuple[tuple[str, float, float, float | None, str], tuple[str, float, float, float | None, str]]
] = {
    # $GNGGA,132819.60,4134.49795459,N,09345.03431408,W,2,...,278.161  (RMC date 180320)
    # $GNGGA,133901.50,4134.50180366,N,09345.03586734,W,4,...,280.829
    "gpsd-nmea-rtk.log": (
        ("2020-03-18T13:28:19.600000", dm(41, 34.49795459, "N"), dm(93, 45.03431408, "W"), 278.161, "dgps"),
        (
            "2020-03-18T13:39:01.500000",
            dm(41, 34.50180366, "N"),
            dm(93, 45.03586734, "W"),
            280.829,
            "rtk_fixed",
        ),
    ),
    # $GPGGA,003832.000,4404.1271062,N,12118.8438377,W,5,...,1127.630 (ZDA 29/03/2022); same at 003840
    "gpsd-skytraq-PX1172RH_DS.log": (
        ("2022-03-29T00:38:32", dm(44, 4.1271062, "N"), dm(121, 18.8438377, "W"), 1127.63, "rtk_float"),
        ("2022-03-29T00:38:40", dm(44, 4.1271062, "N"), dm(121, 18.8438377, "W"), 1127.63, "rtk_float"),
    ),
    # $GNGGA,000653.00,4404.12994,N,12118.84613,W,1,...,1109.2,M,,M  (empty geoid separation)
    "gpsd-unicore-um621.log": (
        ("2024-06-09T00:06:53", dm(44, 4.12994, "N"), dm(121, 18.84613, "W"), 1109.2, "single"),
        ("2024-06-09T00:07:12", dm(44, 4.12824, "N"), dm(121, 18.84723, "W"), 1108.6, "single"),
    ),
    # $GNGGA,003956.00,4552.65403,S,17030.00668,E,1,...,14.2 (southern hemisphere: Dunedin, NZ)
    "gpsd-ublox-zed-f9p-nmea.log": (
        ("2019-04-12T00:39:56", dm(45, 52.65403, "S"), dm(170, 30.00668, "E"), 14.2, "single"),
        ("2019-04-12T00:40:24", dm(45, 52.65393, "S"), dm(170, 30.00670, "E"), 14.8, "single"),
    ),
    "gpsd-skytraq-dgps.log": (
        ("2016-04-07T21:31:21", dm(44, 4.1295864, "N"), dm(121, 18.8685453, "W"), 1102.537, "dgps"),
        ("2016-04-07T21:32:56", dm(44, 4.1291692, "N"), dm(121, 18.8674826, "W"), 1105.001, "dgps"),
    ),
    # Shanghai; the first five epochs have no fix (GGA 0, GNS NNNN, RMC V)
    "gpsd-beidou-bd.log": (
        ("2015-02-25T07:41:55.799000", dm(31, 14.8770, "N"), dm(121, 35.2463, "E"), 156.9, "single"),
        ("2015-02-25T07:41:59.799000", dm(31, 14.8943, "N"), dm(121, 35.2444, "E"), 196.4, "single"),
    ),
    # Manchester; GGA carries 00214.41467156,W while GLL writes -0214.41467156,W (firmware bug)
    "pynmeagps-um981-gll-quirk.log": (
        ("2026-02-24T13:00:58", dm(53, 27.03598945, "N"), dm(2, 14.41467156, "W"), 36.3017, "single"),
        ("2026-02-24T13:00:59", dm(53, 27.03598242, "N"), dm(2, 14.41468053, "W"), 36.3232, "single"),
    ),
    # Beijing (Unicore manual examples): $GNGGAH,073346.00,4004.73874301,N,11614.19077585,E,1,...,64.2831
    # is the first fix in file order; the last is $GNRMCH,055808.00,A,4004.73817916,N,11614.19891207,E,...,D
    # (no altitude in RMC; date 311221 from that RMCH dates the whole collection)
    "pynmeagps-unicore_nmea.log": (
        ("2021-12-31T07:33:46", dm(40, 4.73874301, "N"), dm(116, 14.19077585, "E"), 64.2831, "single"),
        ("2021-12-31T05:58:08", dm(40, 4.73817916, "N"), dm(116, 14.19891207, "E"), None, "dgps"),
    ),
}

# horizontal sigma from the last GST, √(σlat² + σlon²): $GPGST,...,0.5,0.3,1.2 and $GNGST,...,2.4,3.5,4.2
# and one GST per epoch
LAST_SIGMA = {
    "gpsd-skytraq-dgps.log": ((0.5**2 + 0.3**2) ** 0.5, 96),
    "gpsd-ublox-zed-f9p-nmea.log": ((2.4**2 + 3.5**2) ** 0.5, 29),
}


def sample(name: str) -> Path:
    path = NMEA / name
    if not path.exists():
        pytest.skip(f"shared NMEA sample {path} is absent (needs ../shared/samples/nmea)")
    return path


@pytest.mark.samples
def test_every_shared_log_is_covered() -> None:
    if not NMEA.is_dir():
        pytest.skip(f"{NMEA} is absent")
    assert sorted(p.name for p in NMEA.glob("*.log")) == sorted(QUICK_FACTS)


@pytest.mark.samples
@pytest.mark.parametrize("name", sorted(QUICK_FACTS))
def test_quick_facts(name: str) -> None:
    path = sample(name)
    size, lines, gga, talkers, other, sha = QUICK_FACTS[name]
    data = path.read_bytes()
    assert (len(data), data.count(b"\n"), hashlib.sha256(data).hexdigest()[:16]) == (size, lines, sha)
    doc = summarize_log(path).to_dict()
    assert doc["gga_quality_counts"] == gga
    assert doc["talkers"] == talkers
    assert doc["other_talkers"] == other
    # each non-blank line of these logs is one sentence, comment or gpsd JSON report: all accounted for
    non_blank = sum(1 for line in data.splitlines() if line.strip())
    assert doc["messages"] + doc["skipped_total"] == non_blank
    assert doc["skipped"]["checksum"] == 0  # README: all checksums valid
    assert doc["undated_epochs"] == 0


@pytest.mark.samples
@pytest.mark.parametrize("name", sorted(FIXES))
def test_first_and_last_fix(name: str) -> None:
    doc = summarize_log(sample(name)).to_dict()
    for got, (time, lat, lon, alt, quality) in zip(
        (doc["first_fix"], doc["last_fix"]), FIXES[name], strict=True
    ):
        assert got["time"] == datetime.fromisoformat(time).replace(tzinfo=UTC).isoformat()
        assert got["lat"] == pytest.approx(lat, abs=1e-9)  # 1e-9° ≈ 0.1 mm
        assert got["lon"] == pytest.approx(lon, abs=1e-9)
        assert got["alt_m"] == (pytest.approx(alt) if alt is not None else None)
        assert got["quality"] == quality


@pytest.mark.samples
@pytest.mark.parametrize("name", sorted(LAST_SIGMA))
def test_sigma_from_gst(name: str) -> None:
    doc = summarize_log(sample(name)).to_dict()
    last, count = LAST_SIGMA[name]
    assert doc["sigma_m_last"] == pytest.approx(last)
    assert doc["gst_epochs"] == count
    assert 0 < doc["sigma_m"] < 10


def test_no_gst_no_sigma() -> None:
    doc = summarize_log(DATA / "gpsd-nmea-rtk.log").to_dict()
    assert doc["sigma_m"] is None
    assert doc["gst_epochs"] == 0


def test_rtk_float_and_heading_from_dual_antenna() -> None:
    """PX1172RH: GGA 5 with RMC mode F, and HDT/THS 244.28° in the first epoch."""
    s = summarize_log(DATA / "gpsd-skytraq-PX1172RH_DS.log")
    first = s.fixes[0]
    assert first.quality is FixQuality.RTK_FLOAT
    assert first.heading_deg == pytest.approx(244.28)
    assert first.geoid_sep_m == pytest.approx(-20.3)
    assert first.diff_age_s == pytest.approx(1.0)
    assert s.to_dict()["skipped"]["gpsd_json"] == 3


def test_rtk_fixed_across_talker_switch() -> None:
    """Trimble: GN and GP epochs alternate; every epoch still merges GGA and RMC of one time."""
    s = summarize_log(DATA / "gpsd-nmea-rtk.log")
    assert len(s.epochs) == 122
    assert all(len(e.sentences) == 2 for e in s.epochs)
    assert {e.talkers for e in s.epochs} == {("GN",), ("GP",)}
    fixed = [e for e in s.epochs if e.quality is FixQuality.RTK_FIXED]
    assert len(fixed) == 18
    assert all(e.station_id == "0002" for e in fixed)


def test_gll_sign_and_hemisphere_quirk() -> None:
    """UM981's ``-0214.41467156,W`` in GLL: the epoch's longitude is GGA's, west, not east."""
    s = summarize_log(DATA / "pynmeagps-um981-gll-quirk.log")
    assert [round(e.lon or 0, 7) for e in s.epochs] == [
        round(dm(2, 14.41467156, "W"), 7),
        round(dm(2, 14.41468053, "W"), 7),
    ]
    # the last epoch has GGA and GLL only (RMC came once): the date carries over
    assert [e.time.isoformat() if e.time else None for e in s.epochs] == [
        "2026-02-24T13:00:58+00:00",
        "2026-02-24T13:00:59+00:00",
    ]
