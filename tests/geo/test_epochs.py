"""EpochAssembler: sentences of one UTC time merged; quality, σ, heading and date rules."""

from __future__ import annotations

import datetime as dt

import pytest

from irpatrol.geo import Epoch, EpochAssembler, FixQuality, NmeaReader, quality_from_mode
from irpatrol.geo.nmea import with_checksum


def epochs_of(*bodies: str, date: dt.date | None = None, max_pending: int = 600) -> list[Epoch]:
    """Epochs from sentence bodies (checksums added), via the real reader."""
    data = "".join(with_checksum(b) + "\r\n" for b in bodies).encode()
    asm = EpochAssembler(date=date, max_pending=max_pending)
    out = [e for s in NmeaReader().read([data]) for e in asm.push(s)]
    return out + asm.flush()


def gga(
    time: str, lat: str = "4002.1039,N", lon: str = "11618.3526,E", q: int = 4, talker: str = "GN"
) -> str:
    return f"{talker}GGA,{time},{lat},{lon},{q},13,0.7,69.0,M,-8.0,M,1.0,0007"


def rmc(time: str, date: str = "020126", mode: str = "R", status: str = "A", talker: str = "GN") -> str:
    return f"{talker}RMC,{time},{status},4002.1039,N,11618.3526,E,0.5,90.0,{date},,,{mode}"


def test_one_epoch_from_gga_rmc_gst_hdt() -> None:
    (e,) = epochs_of(
        gga("115739.00"),
        rmc("115739.00"),
        "GNGST,115739.00,0.5,0.02,0.01,45.0,0.012,0.016,0.03",
        "GNHDT,271.5,T",
    )
    assert e.time == dt.datetime(2026, 1, 2, 11, 57, 39, tzinfo=dt.UTC)
    assert e.lat == pytest.approx(40 + 2.1039 / 60)
    assert e.lon == pytest.approx(116 + 18.3526 / 60)
    assert (e.alt_m, e.geoid_sep_m, e.num_sats, e.hdop, e.diff_age_s) == (69.0, -8.0, 13, 0.7, 1.0)
    assert e.station_id == "0007"
    assert e.quality is FixQuality.RTK_FIXED
    assert e.gga_quality == 4
    assert e.sigma_m == pytest.approx(0.02)  # √(0.012² + 0.016²)
    assert e.sigma_alt_m == pytest.approx(0.03)
    assert e.heading_deg == pytest.approx(271.5)
    assert e.speed_mps == pytest.approx(0.5 * 1852 / 3600)
    assert e.sentences == ("GNGGA", "GNRMC", "GNGST", "GNHDT")


def test_a_new_time_closes_the_epoch_whatever_the_talker() -> None:
    out = epochs_of(
        gga("000001.00", talker="GP"), rmc("000001.00", talker="GN"), gga("000002.00", talker="GN")
    )
    assert [e.talkers for e in out] == [("GP", "GN"), ("GN",)]
    assert [e.time_of_day_s for e in out] == [1.0, 2.0]


@pytest.mark.parametrize(
    ("bodies", "quality"),
    [
        ([gga("000001", q=5)], FixQuality.RTK_FLOAT),
        ([gga("000001", q=2), rmc("000001", mode="R")], FixQuality.DGPS),  # GGA decides
        ([rmc("000001", mode="F")], FixQuality.RTK_FLOAT),  # no GGA: the RMC mode
        ([rmc("000001", mode="N", status="A")], FixQuality.NONE),  # the mode dominates the status
        ([rmc("000001", mode="", status="A")], FixQuality.SINGLE),  # NMEA 2.x: status only
        ([rmc("000001", mode="", status="V")], FixQuality.NONE),
        (["GNGNS,000001.00,3114.8770,N,12135.2463,E,RNAN,05,1.3,156.9,8.3,,0000"], FixQuality.RTK_FIXED),
        ([gga("000001", q=9), rmc("000001", mode="D")], FixQuality.DGPS),  # unknown GGA digit: fall back
        ([gga("000001", q=6)], FixQuality.DEAD_RECKONING),
    ],
)
def test_quality_sources(bodies: list[str], quality: FixQuality) -> None:
    (e,) = epochs_of(*bodies, date=dt.date(2026, 1, 1))
    assert e.quality is quality


def test_gga_without_fix_has_no_position() -> None:
    (e,) = epochs_of("GNGGA,074150.799,,,,,0,00,,,M,0.0,M,,0000,", date=dt.date(2015, 2, 25))
    assert not e.has_position
    assert e.quality is FixQuality.NONE
    assert e.gga_quality == 0


def test_position_priority_gga_over_rmc() -> None:
    (e,) = epochs_of(
        rmc("000001"), gga("000001", lat="4000.0000,N", lon="11600.0000,E"), date=dt.date(2026, 1, 1)
    )
    assert (e.lat, e.lon) == (40.0, 116.0)


def test_out_of_range_position_is_ignored() -> None:
    (e,) = epochs_of(gga("000001", lat="9500.0000,N"), date=dt.date(2026, 1, 1))
    assert not e.has_position


def test_ths_invalid_mode_gives_no_heading() -> None:
    (e,) = epochs_of(gga("000001"), "GNTHS,120.0,V", date=dt.date(2026, 1, 1))
    assert e.heading_deg is None
    (e,) = epochs_of(gga("000001"), "GNTHS,120.0,A", date=dt.date(2026, 1, 1))
    assert e.heading_deg == 120.0


def test_heading_before_any_epoch_is_counted_not_kept() -> None:
    asm = EpochAssembler(date=dt.date(2026, 1, 1))
    data = (with_checksum("GNHDT,10.0,T") + "\n" + with_checksum(gga("000001")) + "\n").encode()
    out = [e for s in NmeaReader().read([data]) for e in asm.push(s)] + asm.flush()
    assert asm.stats.untimed_orphans == 1
    assert out[0].heading_deg is None


def test_caller_date_until_rmc() -> None:
    out = epochs_of(gga("235959.00"), gga("000000.00"), date=dt.date(2026, 3, 1))
    assert [e.time for e in out] == [
        dt.datetime(2026, 3, 1, 23, 59, 59, tzinfo=dt.UTC),
        dt.datetime(2026, 3, 2, 0, 0, 0, tzinfo=dt.UTC),  # midnight rollover without any RMC
    ]


def test_rmc_date_wins_over_the_caller_date() -> None:
    (e,) = epochs_of(gga("120000"), rmc("120000", date="150626"), date=dt.date(2000, 1, 1))
    assert e.time == dt.datetime(2026, 6, 15, 12, tzinfo=dt.UTC)


def test_epochs_before_the_first_date_are_dated_backwards() -> None:
    """GGA only at 23:59:58 and 23:59:59, then an RMC at 00:00:00 dated 2 Jan: the first two are 1 Jan."""
    out = epochs_of(gga("235958"), gga("235959"), gga("000000"), rmc("000000", date="020126"))
    assert [e.time.isoformat() if e.time else None for e in out] == [
        "2026-01-01T23:59:58+00:00",
        "2026-01-01T23:59:59+00:00",
        "2026-01-02T00:00:00+00:00",
    ]


def test_midnight_between_rmc_and_a_later_gga() -> None:
    out = epochs_of(gga("235959.50"), rmc("235959.50", date="311226"), gga("000000.50"))
    assert out[1].time == dt.datetime(2027, 1, 1, 0, 0, 0, 500000, tzinfo=dt.UTC)


def test_zda_gives_the_date() -> None:
    (e,) = epochs_of(gga("003832.000"), "GNZDA,003832.000,29,03,2022,00,00")
    assert e.time == dt.datetime(2022, 3, 29, 0, 38, 32, tzinfo=dt.UTC)


def test_without_any_date_epochs_wait_then_go_undated() -> None:
    asm_out = epochs_of(gga("000001"), gga("000002"), gga("000003"), max_pending=1)
    assert [e.time for e in asm_out] == [None, None, None]


def test_mode_letters() -> None:
    assert quality_from_mode("R") is FixQuality.RTK_FIXED
    assert quality_from_mode("F") is FixQuality.RTK_FLOAT
    assert quality_from_mode("NNDN") is FixQuality.DGPS
    assert quality_from_mode("C") is None  # Quectel caution: not a mode
    assert FixQuality.from_label("rtk_float") is FixQuality.RTK_FLOAT
    with pytest.raises(ValueError, match="unknown fix quality"):
        FixQuality.from_label("excellent")


def test_quality_rank_is_not_the_gga_digit() -> None:
    order = sorted(FixQuality, key=lambda q: q.rank)
    assert order[-1] is FixQuality.RTK_FIXED
    assert order[-2] is FixQuality.RTK_FLOAT
    assert FixQuality.RTK_FIXED.at_least(FixQuality.RTK_FLOAT)
    assert not FixQuality.SINGLE.at_least(FixQuality.DGPS)
    assert not FixQuality.SIMULATION.is_fix


def test_a_timed_sentence_with_an_empty_time_is_left_out() -> None:
    asm = EpochAssembler(date=dt.date(2026, 1, 1))
    lines = [rmc("000001", mode="A"), "GNGGA,,,,,,0,00,,,M,,M,,", "GNHDT,10.0,T"]
    data = "".join(with_checksum(b) + "\n" for b in lines).encode()
    (e,) = [e for s in NmeaReader().read([data]) for e in asm.push(s)] + asm.flush()
    assert asm.stats.no_time == 1
    assert e.gga_quality is None  # the time-less GGA did not join the RMC's epoch
    assert e.quality is FixQuality.SINGLE
    assert e.heading_deg == 10.0
