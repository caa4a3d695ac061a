"""FLIR R-JPEG, FFF, SEQ and CSQ: real files against independent references, and synthetic branches."""

from __future__ import annotations

import json

import numpy as np
import pytest
from PIL import Image

from irpatrol.errors import CalibrationError, CorruptFileError
from irpatrol.formats import open_thermal
from irpatrol.thermal.radiometry import KELVIN_OFFSET
from tests.conftest import FLIR_SAMPLES, REFS, sample_path
from tests.formats.fff_builder import camera_info, fff_block, raw_record, rjpeg


@pytest.mark.parametrize("name", FLIR_SAMPLES)
def test_raw_counts_identical_to_reference(name: str) -> None:
    frame = open_thermal(sample_path(name)).first_frame()
    ref = np.load(REFS / f"{name}.raw.npy")
    raw = frame.raw()
    assert raw.dtype == np.uint16
    assert np.array_equal(raw, ref)


@pytest.mark.parametrize("name", FLIR_SAMPLES)
def test_temperatures_within_0_01_c_of_reference(name: str) -> None:
    t = open_thermal(sample_path(name)).first_frame().thermogram()
    ref = np.load(REFS / f"{name}.temp_c.npy")
    assert t.celsius.shape == ref.shape
    assert t.celsius.dtype == np.float32
    assert np.all(np.isfinite(t.celsius))
    assert float(np.max(np.abs(t.celsius - ref))) <= 0.01


@pytest.mark.parametrize("name", FLIR_SAMPLES)
def test_constants_match_exiftool(name: str) -> None:
    path = sample_path(name)  # skips when the shared samples are absent
    meta = json.loads((REFS / f"{name}.json").read_text())["metadata_exiftool_n"]
    cal = open_thermal(path).first_frame().info.calibration
    assert cal is not None
    p = cal.params
    assert cal.planck.r1 == pytest.approx(meta["PlanckR1"], rel=1e-6)
    assert cal.planck.r2 == pytest.approx(meta["PlanckR2"], rel=1e-6)
    assert cal.planck.b == pytest.approx(meta["PlanckB"], rel=1e-6)
    assert cal.planck.f == pytest.approx(meta["PlanckF"], rel=1e-6)
    assert cal.planck.o == meta["PlanckO"]
    assert p.emissivity == pytest.approx(meta["Emissivity"], rel=1e-6)
    assert p.distance_m == pytest.approx(meta["ObjectDistance"], rel=1e-6)
    assert p.reflected_temp_k - KELVIN_OFFSET == pytest.approx(meta["ReflectedApparentTemperature"], abs=1e-3)
    assert p.atmospheric_temp_k - KELVIN_OFFSET == pytest.approx(meta["AtmosphericTemperature"], abs=1e-3)
    assert p.window_temp_k - KELVIN_OFFSET == pytest.approx(meta["IRWindowTemperature"], abs=1e-3)
    assert p.window_transmission == pytest.approx(meta["IRWindowTransmission"], rel=1e-6)
    assert p.relative_humidity == pytest.approx(meta["RelativeHumidity"], rel=1e-6)
    assert cal.atmosphere.alpha1 == pytest.approx(float(meta["AtmosphericTransAlpha1"]), rel=1e-6)
    assert cal.atmosphere.beta2 == pytest.approx(float(meta["AtmosphericTransBeta2"]), rel=1e-6)
    assert cal.atmosphere.x == pytest.approx(meta["AtmosphericTransX"], rel=1e-6)
    assert cal.temp_range_k is not None
    assert cal.temp_range_k[0] - KELVIN_OFFSET == pytest.approx(meta["CameraTemperatureRangeMin"], abs=1e-3)
    assert cal.temp_range_k[1] - KELVIN_OFFSET == pytest.approx(meta["CameraTemperatureRangeMax"], abs=1e-3)


@pytest.mark.parametrize("name", FLIR_SAMPLES)
def test_capture_time_matches_exiftool(name: str) -> None:
    path = sample_path(name)  # skips when the shared samples are absent
    meta = json.loads((REFS / f"{name}.json").read_text())["metadata_exiftool_n"]
    when = open_thermal(path).first_frame().info.captured_at
    assert when is not None
    text = when.strftime("%Y:%m:%d %H:%M:%S.") + f"{when.microsecond // 1000:03d}" + when.strftime("%z")
    expected = meta["DateTimeOriginal"].replace(":", "")
    assert text.replace(":", "") == expected


def test_xtr_little_endian_fff_uses_object_distance() -> None:
    frame = open_thermal(sample_path("dji_zenmuse_xtr.jpg")).first_frame()
    assert frame.info.extra["fff_byte_order"] == "little-endian"
    assert frame.info.calibration is not None
    assert frame.info.calibration.params.distance_m == pytest.approx(20.0)
    assert frame.info.camera.make == "DJI"
    assert frame.info.gps is not None
    assert frame.info.gps.latitude_deg == pytest.approx(-20.2327963, abs=1e-6)
    assert frame.info.gps.altitude_m == pytest.approx(863.5, abs=0.1)


def test_header_is_read_without_decoding_pixels() -> None:
    tf = open_thermal(sample_path("flir_t640_fuses.jpg"))
    frame = tf.first_frame()
    assert (frame.info.width, frame.info.height) == (640, 480)
    assert frame.info.raw_encoding == "png"
    assert frame._raw is None  # nothing decoded yet
    frame.raw()
    assert frame._raw is not None


def test_embedded_visible_photo() -> None:
    frame = open_thermal(sample_path("flir_t640_fuses.jpg")).first_frame()
    assert frame.info.has_visible_image
    data = frame.visible_image()
    assert data is not None
    import io

    with Image.open(io.BytesIO(data)) as img:
        assert img.size == (2592, 1944)


def test_seq_iterates_frames_by_header_extents() -> None:
    tf = open_thermal(sample_path("flir_sc660_sample.seq"))
    assert tf.format_name == "flir-seq"
    frames = list(tf.frames())
    assert len(frames) == 2  # 3 "FFF\0" byte matches in the file, 2 frames
    assert [f.index for f in frames] == [0, 1]
    second = frames[1].thermogram()
    assert second.celsius.shape == (480, 640)
    assert 15.0 < float(np.nanmean(second.celsius)) < 30.0


def test_overrides_change_temperatures_as_physics_says() -> None:
    frame = open_thermal(sample_path("flir_t640_fuses.jpg")).first_frame()
    base = frame.celsius()
    lower_e = frame.celsius(emissivity=0.7)
    hot = base > 40.0  # well above the 20 °C reflected temperature
    assert np.all(lower_e[hot] > base[hot])
    far = frame.celsius(distance_m=50.0)
    assert np.all(far[hot] > base[hot])
    same = frame.celsius(emissivity=frame.info.calibration.params.emissivity)  # type: ignore[union-attr]
    assert np.array_equal(same, base)


# --- synthetic files: branches no shared sample has ---------------------------------

RAW = (np.arange(48 * 64, dtype=np.uint16).reshape(48, 64) % 5000 + 15000).astype(np.uint16)


@pytest.mark.parametrize(
    ("subtype", "order", "png_be", "encoding"),
    [
        (2, "<", False, "uint16-le"),
        (2, ">", False, "uint16-be"),
        (3, "<", False, "png"),
        (3, ">", True, "png-be"),  # ThermaCAM EX320 style: big-endian header, big-endian samples
        (4, "<", False, "jpeg-ls"),
    ],
)
def test_raw_encodings_decided_from_record_header(
    subtype: int, order: str, png_be: bool, encoding: str
) -> None:
    block = fff_block(
        [
            (32, 1, camera_info(64, 48, order=order)),
            (1, subtype, raw_record(RAW, subtype=subtype, order=order, png_be_samples=png_be)),
        ],
    )
    tf = open_thermal(rjpeg(block), name="synthetic.jpg")
    frame = tf.first_frame()
    assert frame.info.raw_encoding == encoding
    assert np.array_equal(frame.raw(), RAW)
    assert np.all(frame.thermogram().valid)


def test_csq_sequence_of_jpeg_ls_frames() -> None:
    frames = [RAW, RAW + 100, RAW + 200]
    data = b"".join(
        fff_block([(32, 1, camera_info(64, 48)), (1, 4, raw_record(f, subtype=4))], order="<", creator=b"RTP")
        for f in frames
    )
    tf = open_thermal(data, name="synthetic.csq")
    assert tf.format_name == "flir-csq"
    assert tf.frame_count() == 3
    for i, frame in enumerate(tf.frames()):
        assert np.array_equal(frame.raw(), frames[i])


def test_missing_chunk_is_reported_as_truncation() -> None:
    block = fff_block([(32, 1, camera_info(64, 48)), (1, 2, raw_record(RAW, subtype=2))])
    with pytest.raises(CorruptFileError, match="missing") as info:
        open_thermal(rjpeg(block, chunk=1000, drop=3), name="cut.jpg")
    assert "cut.jpg" in str(info.value)


def test_png_of_wrong_size_is_refused() -> None:
    other = np.zeros((10, 10), dtype=np.uint16)
    rec = bytearray(raw_record(other, subtype=3))
    rec[2:6] = bytes([64, 0, 48, 0])  # header claims 64x48, PNG holds 10x10
    block = fff_block([(32, 1, camera_info(64, 48)), (1, 3, bytes(rec))])
    frame = open_thermal(rjpeg(block), name="wrong.jpg").first_frame()
    with pytest.raises(CorruptFileError, match="10x10 pixels but the header says 64x48"):
        frame.raw()


@pytest.mark.parametrize(
    ("offset", "value", "field"),
    [
        (0x20, 0.0, "emissivity"),
        (0x58, float("nan"), "planck.r1"),
        (0x5C, -5.0, "planck.b"),
        (0x24, -3.0, "distance_m"),
        (0x3C, 7.0, "relative_humidity"),
    ],
)
def test_absurd_constants_raise_calibration_error(offset: int, value: float, field: str) -> None:
    block = fff_block(
        [(32, 1, camera_info(64, 48, floats={offset: value})), (1, 2, raw_record(RAW, subtype=2))]
    )
    frame = open_thermal(rjpeg(block), name="absurd.jpg").first_frame()
    with pytest.raises(CalibrationError, match=field) as info:
        frame.thermogram()
    assert info.value.field == field
    assert "absurd.jpg" in str(info.value)


def test_record_running_past_end_is_truncation() -> None:
    block = fff_block([(32, 1, camera_info(64, 48)), (1, 2, raw_record(RAW, subtype=2))])
    with pytest.raises(CorruptFileError, match="runs past the end"):
        open_thermal(block[:-100], name="short.fff")


def test_metadata_is_gathered_only_when_info_is_used() -> None:
    frame = open_thermal(sample_path("dji_zenmuse_xtr.jpg")).first_frame()
    assert frame._info is None  # conversion needs only shape and calibration
    assert frame.shape == (512, 640)
    assert frame.calibration is not None
    assert frame.calibration.params.distance_m == pytest.approx(20.0)
    celsius = frame.celsius()
    assert frame._info is None
    assert celsius.shape == frame.shape
    assert frame.info.camera.make == "DJI"  # EXIF, read now
    assert frame._info is not None
