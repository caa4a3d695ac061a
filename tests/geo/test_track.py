"""GnssTrack.position_at: interpolation on real epochs, stale and poor flags, ordering, bounds."""

from __future__ import annotations

import datetime as dt
import threading
from pathlib import Path

import pytest

from irpatrol.errors import ParameterError
from irpatrol.geo import Epoch, FixQuality, GnssTrack, read_track

DATA = Path(__file__).resolve().parents[1] / "data" / "nmea"
UTC = dt.UTC


def at(h: int, m: int, s: float, day: dt.date = dt.date(2020, 3, 18)) -> dt.datetime:
    whole = int(s)
    return dt.datetime(day.year, day.month, day.day, h, m, whole, round((s - whole) * 1e6), tzinfo=UTC)


def dm(degrees: int, minutes: float, hemisphere: str) -> float:
    value = degrees + minutes / 60.0
    return -value if hemisphere in "SW" else value


def epoch(t: dt.datetime, lat: float, lon: float, **kw: object) -> Epoch:
    kw.setdefault("quality", FixQuality.RTK_FIXED)
    return Epoch(time=t, time_of_day_s=0.0, lat=lat, lon=lon, **kw)


@pytest.fixture(scope="module")
def rtk() -> GnssTrack:
    return read_track(DATA / "gpsd-nmea-rtk.log")


def test_interpolates_between_two_real_10hz_epochs(rtk: GnssTrack) -> None:
    """gpsd-nmea-rtk.log, lines 12 and 14:
    $GNGGA,132819.70,4134.49795443,N,09345.03431421,W,2,10,0.9,278.161,...
    $GNGGA,132819.80,4134.49721169,N,09345.03452630,W,2,10,1.2,279.884,...
    At 13:28:19.75, half-way: the mean of each."""
    assert len(rtk) == 122
    fix = rtk.position_at(at(13, 28, 19.75))
    assert fix is not None
    lat0, lat1 = dm(41, 34.49795443, "N"), dm(41, 34.49721169, "N")
    lon0, lon1 = dm(93, 45.03431421, "W"), dm(93, 45.03452630, "W")
    assert fix.lat == pytest.approx((lat0 + lat1) / 2, abs=1e-10)
    assert fix.lon == pytest.approx((lon0 + lon1) / 2, abs=1e-10)
    assert fix.alt_m == pytest.approx((278.161 + 279.884) / 2)
    assert fix.age_s == pytest.approx(0.05)
    assert fix.flags == ("interpolated",)
    assert fix.quality is FixQuality.DGPS
    assert fix.hdop == pytest.approx(1.2)  # the larger of the two
    # a quarter of the way: 0.25 of the 1.24e-5° step (≈ 1.4 m between the epochs)
    q = rtk.position_at(at(13, 28, 19.725))
    assert q is not None
    assert q.lat == pytest.approx(lat0 + 0.25 * (lat1 - lat0), abs=1e-10)


def test_exact_epoch_time_is_not_interpolated(rtk: GnssTrack) -> None:
    fix = rtk.position_at(at(13, 39, 1.5))  # the last epoch: RTK fixed
    assert fix is not None
    assert fix.lat == pytest.approx(dm(41, 34.50180366, "N"))
    assert fix.quality is FixQuality.RTK_FIXED
    assert fix.age_s == 0.0
    assert fix.flags == ()


def test_stale_after_the_last_epoch_and_no_extrapolation(rtk: GnssTrack) -> None:
    last = rtk.last
    assert last is not None
    fix = rtk.position_at(at(13, 39, 6.5), max_age_s=1.0)
    assert fix is not None
    assert (fix.lat, fix.lon) == (last.lat, last.lon)
    assert fix.age_s == pytest.approx(5.0)
    assert fix.is_stale
    assert fix.flags == ("stale",)
    before = rtk.position_at(at(13, 28, 0.0))
    assert before is not None
    assert before.age_s == pytest.approx(19.6)
    assert before.is_stale


def test_the_log_gap_is_not_interpolated(rtk: GnssTrack) -> None:
    """The Trimble log jumps from 13:28:29.9 to 13:38:59.8 (a capture gap): nearest epoch, stale."""
    assert [e.time for e in rtk.between(at(13, 28, 29.85), at(13, 38, 59.85))] == [
        at(13, 28, 29.9),
        at(13, 38, 59.8),
    ]
    fix = rtk.position_at(at(13, 28, 31.9))
    assert fix is not None
    assert "interpolated" not in fix.flags
    assert fix.age_s == pytest.approx(2.0)
    assert fix.flags == ("stale",)


def test_poor_by_quality_and_by_sigma() -> None:
    t0 = at(0, 0, 0)
    track = GnssTrack(
        [
            epoch(t0, 40.0, 116.0, quality=FixQuality.SINGLE, sigma_lat_m=0.3, sigma_lon_m=0.4),
            epoch(t0 + dt.timedelta(seconds=1), 40.0, 116.0, quality=FixQuality.RTK_FIXED),
        ]
    )
    single = track.position_at(t0)
    assert single is not None
    assert single.sigma_m == pytest.approx(0.5)
    assert single.is_poor  # single < DGPS
    assert track.position_at(t0, min_quality=FixQuality.SINGLE).flags == ()
    assert track.position_at(t0, min_quality=FixQuality.SINGLE, max_sigma_m=0.4).is_poor
    middle = track.position_at(t0 + dt.timedelta(seconds=0.9))
    assert middle is not None
    assert middle.quality is FixQuality.SINGLE  # the worse of the bracket
    assert middle.sigma_m == pytest.approx(0.5)
    assert middle.flags == ("interpolated", "poor")


def test_heading_and_longitude_wrap_the_short_way() -> None:
    t0 = at(0, 0, 0)
    track = GnssTrack(
        [
            epoch(t0, 0.0, 179.9999, heading_deg=350.0),
            epoch(t0 + dt.timedelta(seconds=1), 0.0, -179.9999, heading_deg=10.0),
        ]
    )
    fix = track.position_at(t0 + dt.timedelta(seconds=0.5))
    assert fix is not None
    assert abs(fix.lon) == pytest.approx(180.0)
    assert fix.heading_deg == pytest.approx(0.0, abs=1e-9)


def test_empty_track_and_rejected_epochs() -> None:
    track = GnssTrack()
    assert track.position_at(at(0, 0, 0)) is None
    assert not track.add(Epoch(time=None, time_of_day_s=0.0, lat=1.0, lon=1.0, quality=FixQuality.SINGLE))
    assert not track.add(Epoch(time=at(0, 0, 0), time_of_day_s=0.0, quality=FixQuality.SINGLE))
    assert not track.add(epoch(at(0, 0, 0), 1.0, 1.0, quality=FixQuality.NONE))
    assert track.rejected == 3
    assert len(track) == 0


def test_out_of_order_and_repeated_epochs_and_maxlen() -> None:
    t0 = at(0, 0, 0)
    s = dt.timedelta(seconds=1)
    track = GnssTrack(maxlen=3)
    track.add(epoch(t0 + 2 * s, 2.0, 0.0))
    track.add(epoch(t0, 0.0, 0.0))
    track.add(epoch(t0 + s, 1.0, 0.0))
    track.add(epoch(t0 + s, 1.5, 0.0))  # same time: replaces
    assert [e.lat for e in track.epochs] == [0.0, 1.5, 2.0]
    track.add(epoch(t0 + 3 * s, 3.0, 0.0))
    assert [e.lat for e in track.epochs] == [1.5, 2.0, 3.0]  # the oldest dropped


def test_parameters_are_checked() -> None:
    track = GnssTrack([epoch(at(0, 0, 0), 0.0, 0.0)])
    with pytest.raises(ParameterError, match="`t`"):
        track.position_at(dt.datetime(2020, 3, 18))  # naive
    with pytest.raises(ParameterError, match="max_age_s"):
        track.position_at(at(0, 0, 0), max_age_s=-1)
    with pytest.raises(ParameterError, match="maxlen"):
        GnssTrack(maxlen=1)


def test_other_timezones_are_the_same_instant(rtk: GnssTrack) -> None:
    beijing = dt.timezone(dt.timedelta(hours=8))
    a = rtk.position_at(at(13, 28, 19.75))
    b = rtk.position_at(at(13, 28, 19.75).astimezone(beijing))
    assert a is not None
    assert b is not None
    assert (a.lat, a.lon, a.age_s) == (b.lat, b.lon, b.age_s)


def test_adding_while_querying_from_another_thread() -> None:
    """A GNSS thread appends 10 Hz epochs on a straight line (maxlen drops the oldest) while this
    thread asks for positions: every answer lies on the line, between two real epochs."""
    t0 = at(0, 0, 0)
    track = GnssTrack([epoch(t0, 0.0, 0.0)], maxlen=50)
    n = 5000

    def feed() -> None:
        for k in range(1, n):
            track.add(epoch(t0 + dt.timedelta(seconds=k / 10), k * 1e-6, 0.0))

    thread = threading.Thread(target=feed)
    thread.start()
    answers = 0
    while thread.is_alive() or answers == 0:
        last = track.last
        assert last is not None
        assert last.time is not None
        fix = track.position_at(last.time - dt.timedelta(seconds=0.25))
        assert fix is not None
        # lat grows 1e-6° per 0.1 s: interpolated, it is that of the asked time; else that of the epoch used
        used = fix.time if "interpolated" in fix.flags else fix.epoch_time
        assert used is not None
        assert fix.lat == pytest.approx((used - t0).total_seconds() * 1e-5, abs=1e-12)
        answers += 1
    thread.join()
    assert len(track) == 50
    assert answers > 0
