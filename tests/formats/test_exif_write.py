"""write_gps_copy: GPS into a copy's EXIF, radiometric data and every other segment untouched."""

from __future__ import annotations

import dataclasses
import datetime as dt
import io
import json
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from irpatrol.errors import ParameterError, UnsupportedFormatError
from irpatrol.formats import open_thermal
from irpatrol.formats.exif_write import with_gps_exif, write_gps_copy
from irpatrol.formats.jpeg import walk_jpeg
from irpatrol.geo import FixQuality, PositionFix
from tests.conftest import DEMO, sample_path

GPS_IFD = 0x8825
EXIF_IFD = 0x8769

# Beijing, the Unicore manual's GGAH example: 4004.73874301 N, 11614.19077585 E, 64.2831 m
FIX = PositionFix(
    lat=40 + 4.73874301 / 60,
    lon=116 + 14.19077585 / 60,
    alt_m=64.2831,
    quality=FixQuality.RTK_FIXED,
    sigma_m=0.0141,
    heading_deg=None,
    time=dt.datetime(2021, 12, 31, 7, 33, 46, 250000, tzinfo=dt.UTC),
    age_s=0.05,
    hdop=0.6,
)


def split_exif(data: bytes) -> tuple[bytes, bytes]:
    """(the Exif APP1 segment, the file without it)."""
    for seg in walk_jpeg(data, path="<t>").segments:
        if bytes(seg.payload[:6]) == b"Exif\0\0":
            end = seg.offset + 4 + len(seg.payload)
            return data[seg.offset : end], data[: seg.offset] + data[end:]
    return b"", data


def flir_segments(data: bytes) -> list[bytes]:
    return [
        bytes(s.payload) for s in walk_jpeg(data, path="<t>").segments if bytes(s.payload[:5]) == b"FLIR\0"
    ]


def dms(value: tuple[float, float, float]) -> float:
    return float(value[0]) + float(value[1]) / 60 + float(value[2]) / 3600


@pytest.mark.parametrize(
    "name", ["flir_e40.jpg", "flir_t640_fuses.jpg", "flir_ax8.jpg", "dji_zenmuse_xtr.jpg"]
)
def test_radiometric_data_survives(tmp_path: Path, name: str) -> None:
    src = DEMO / name
    dst = write_gps_copy(src, tmp_path / name, FIX)
    before, after = src.read_bytes(), dst.read_bytes()
    # every byte outside the Exif segment is the original's; FLIR segments identical
    assert split_exif(after)[1] == split_exif(before)[1]
    assert flir_segments(after) == flir_segments(before)
    assert len(flir_segments(after)) >= 1
    with open_thermal(src) as a, open_thermal(dst) as b:
        t_a, t_b = a.first_frame().thermogram(), b.first_frame().thermogram()
        gps = b.first_frame().info.gps
        assert b.first_frame().info.camera == a.first_frame().info.camera
        assert b.first_frame().info.captured_at == a.first_frame().info.captured_at
    np.testing.assert_array_equal(t_b.celsius, t_a.celsius)
    # irpatrol's own EXIF reader
    assert gps is not None
    assert gps.latitude_deg == pytest.approx(FIX.lat, abs=1e-8)  # 1e-6 s of arc ≈ 3e-10°
    assert gps.longitude_deg == pytest.approx(FIX.lon, abs=1e-8)
    assert gps.altitude_m == pytest.approx(64.283)  # mm resolution


def test_pillow_reads_every_gps_tag_and_the_rest_is_unchanged(tmp_path: Path) -> None:
    src = DEMO / "flir_e40.jpg"
    dst = write_gps_copy(src, tmp_path / "e40.jpg", FIX, img_direction_deg=123.4)
    with Image.open(src) as a, Image.open(dst) as b:
        b.load()  # the image still decodes
        exif_a, exif_b = a.getexif(), b.getexif()
        gps = exif_b.get_ifd(GPS_IFD)
        assert exif_b.get_ifd(EXIF_IFD) == exif_a.get_ifd(EXIF_IFD)  # maker note and all
        assert {k: v for k, v in exif_b.items() if k != GPS_IFD} == {
            k: v for k, v in exif_a.items() if k != GPS_IFD
        }
    assert gps[0] == b"\x02\x03\x00\x00"
    assert (gps[1], gps[3]) == ("N", "E")
    assert dms(gps[2]) == pytest.approx(FIX.lat, abs=1e-8)
    assert dms(gps[4]) == pytest.approx(FIX.lon, abs=1e-8)
    assert (gps[5], float(gps[6])) == (b"\x00", pytest.approx(64.283))
    assert tuple(float(v) for v in gps[7]) == (7.0, 33.0, 46.25)
    assert gps[29] == "2021:12:31"
    assert gps[10] == "3"
    assert float(gps[11]) == pytest.approx(0.6)  # GPSDOP = HDOP
    assert (gps[16], float(gps[17])) == ("T", pytest.approx(123.4))
    assert gps[18] == "WGS-84"
    assert gps[27] == b"ASCII\0\0\0GNSS RTK FIXED"
    assert gps[30] == 1  # differential
    assert float(gps[31]) == pytest.approx(0.014)  # GPSHPositioningError = σ from GST


def test_existing_gps_is_replaced(tmp_path: Path) -> None:
    """The Zenmuse XT R sample already has a GPS IFD (Brazil); after writing, only the new one is seen."""
    src = DEMO / "dji_zenmuse_xtr.jpg"
    with open_thermal(src) as tf:
        old = tf.first_frame().info.gps
    assert old is not None
    assert old.latitude_deg < 0
    south_west = PositionFix(
        lat=-33.5,
        lon=-70.25,
        alt_m=-2.5,
        quality=FixQuality.SINGLE,
        sigma_m=None,
        heading_deg=None,
        time=dt.datetime(2026, 12, 2, 23, 59, 59, 999000, tzinfo=dt.UTC),
        age_s=0.0,
    )
    dst = write_gps_copy(src, tmp_path / "x.jpg", south_west)
    with Image.open(dst) as im:
        gps = im.getexif().get_ifd(GPS_IFD)
    assert (gps[1], gps[3], gps[5]) == ("S", "W", b"\x01")  # south, west, below sea level
    assert -dms(gps[2]) == pytest.approx(-33.5)
    assert -dms(gps[4]) == pytest.approx(-70.25)
    assert float(gps[6]) == pytest.approx(2.5)
    assert gps[30] == 0  # not differential
    assert 31 not in gps  # no σ without GST
    assert 11 not in gps  # no HDOP given


def test_big_endian_exif(tmp_path: Path) -> None:
    """FLIR C2 writes Motorola-order EXIF; the GPS IFD is written in the same order."""
    src = sample_path("flir_c2_afci_breakers.jpg")
    dst = write_gps_copy(src, tmp_path / "c2.jpg", FIX)
    assert split_exif(dst.read_bytes())[0][10:12] == b"MM"
    assert flir_segments(dst.read_bytes()) == flir_segments(src.read_bytes())
    with Image.open(dst) as im:
        assert dms(im.getexif().get_ifd(GPS_IFD)[2]) == pytest.approx(FIX.lat, abs=1e-8)


def test_jpeg_without_exif_gets_one_after_jfif() -> None:
    buf = io.BytesIO()
    Image.new("L", (16, 8), 77).save(buf, "JPEG")
    data = buf.getvalue()
    assert split_exif(data)[0] == b""
    out = with_gps_exif(data, FIX, path="<mem>")
    segments = walk_jpeg(out, path="<t>").segments
    assert [bytes(s.payload[:4]) for s in segments[:2]] == [b"JFIF", b"Exif"]
    assert split_exif(out)[1] == data
    with Image.open(io.BytesIO(out)) as im:
        assert np.asarray(im).tolist() == np.asarray(Image.open(io.BytesIO(data))).tolist()
        assert im.getexif().get_ifd(GPS_IFD)[1] == "N"


def test_refusals(tmp_path: Path) -> None:
    src = DEMO / "flir_e40.jpg"
    with pytest.raises(ParameterError, match="dst"):
        write_gps_copy(src, src, FIX)
    png = tmp_path / "a.png"
    Image.new("L", (4, 4)).save(png)
    with pytest.raises(UnsupportedFormatError, match="not a JPEG"):
        write_gps_copy(png, tmp_path / "b.png", FIX)
    naive = dataclasses.replace(FIX, time=dt.datetime(2026, 1, 1))
    with pytest.raises(ParameterError, match=r"fix\.time"):
        write_gps_copy(src, tmp_path / "n.jpg", naive)
    bad = dataclasses.replace(FIX, lat=91.0)
    with pytest.raises(ParameterError, match=r"fix\.lat"):
        write_gps_copy(src, tmp_path / "n.jpg", bad)
    assert not (tmp_path / "n.jpg").exists()
    assert list(tmp_path.iterdir()) == [png]  # no temporary file left behind


@pytest.mark.skipif(shutil.which("exiftool") is None, reason="exiftool is not installed")
def test_exiftool_agrees(tmp_path: Path) -> None:
    dst = write_gps_copy(DEMO / "flir_t640_fuses.jpg", tmp_path / "t.jpg", FIX)
    out = subprocess.run(
        ["exiftool", "-j", "-n", "-GPS:all", "-warning", str(dst)], capture_output=True, check=True, text=True
    )
    (tags,) = json.loads(out.stdout)
    assert tags["GPSLatitude"] == pytest.approx(FIX.lat, abs=1e-8)
    assert tags["GPSLongitude"] == pytest.approx(FIX.lon, abs=1e-8)
    assert tags["GPSAltitude"] == pytest.approx(64.283)
    assert tags["GPSHPositioningError"] == pytest.approx(0.014)
    assert tags["GPSProcessingMethod"] == "GNSS RTK FIXED"
    assert "Warning" not in tags
