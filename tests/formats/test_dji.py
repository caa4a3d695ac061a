"""DJI R-JPEG, native part: what needs no DJI calibration, on every Python (no back-end needed).

The four shared samples (one per SDK plugin: dirp H20T, iirp M2EA, girp M30T, hirp M4T) are
checked against ``refs/*.json``, which records what DJI Thermal SDK 1.8 (through
dji-thermal-cli 1.4.0) reports for them: plugin, parameters, ranges, sensor id, raw frame.
Damaged variants are made in memory.
"""

from __future__ import annotations

import json
import re
import struct

import numpy as np
import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from irpatrol.cli import cli
from irpatrol.errors import CorruptFileError, IrpatrolError, ParameterError, UnsupportedFormatError
from irpatrol.formats import dji, open_thermal
from irpatrol.formats.dji import DjiFrame, _flag_invalid
from irpatrol.formats.dji_params import PLUGIN_RANGES, plugin_of
from irpatrol.formats.jpeg import walk_jpeg
from tests.conftest import DJI_SAMPLES, REFS, sample_path

pytestmark = pytest.mark.samples

_DJI_NAMES = {"distance": "distance_m", "humidity": "humidity_pct", "emissivity": "emissivity"}


@pytest.fixture
def no_backend(monkeypatch: pytest.MonkeyPatch) -> None:
    """As on a machine with neither dji-thermal-cli nor DJI's SDK."""
    monkeypatch.setattr(dji, "select_backend", lambda: None)


def _ref(name: str) -> dict:  # type: ignore[type-arg]
    return json.loads((REFS / f"{name}.json").read_text(encoding="utf-8"))


def _frame(data: bytes, name: str = "x.jpg") -> DjiFrame:
    frame = open_thermal(data, name=name).first_frame()
    assert isinstance(frame, DjiFrame)
    return frame


@pytest.mark.parametrize("name", DJI_SAMPLES)
def test_sample_metadata_matches_the_sdk(name: str, no_backend: None) -> None:
    ref = _ref(name)
    with open_thermal(sample_path(name)) as tf:
        frame = tf.first_frame()
        assert tf.format_name == f"dji-rjpeg-{ref['tsdk_plugin']}"
    assert isinstance(frame, DjiFrame)
    assert frame.plugin == ref["tsdk_plugin"]
    info = frame.info
    assert (info.width, info.height) == tuple(ref["tsdk_resolution"])
    assert info.camera.make == "DJI"
    assert info.camera.model == ref["camera"]["Model"]
    if "SensorID" in ref["metadata_exiftool13_n"]:
        assert info.camera.serial == ref["metadata_exiftool13_n"]["SensorID"]
    assert info.captured_at is not None
    assert info.extra["dji_backend"] == "none"
    assert any("pip install 'irpatrol[dji]'" in w for w in info.warnings)
    embedded = ref["tsdk_measurement_params_embedded"]
    params = frame.params
    assert params is not None
    assert params.distance_m == pytest.approx(embedded["distance"], abs=1e-6)
    assert params.humidity_pct == pytest.approx(embedded["humidity"], abs=1e-3)
    assert params.emissivity == pytest.approx(embedded["emissivity"], abs=1e-6)
    assert params.reflected_c == pytest.approx(embedded["reflection"], abs=1e-4)
    ranges = {_DJI_NAMES.get(k, k): tuple(v) for k, v in ref["tsdk_params_range"].items()}
    for key, (lo, hi) in PLUGIN_RANGES[frame.plugin].items():
        dji_key = {"reflected_c": "reflection", "ambient_c": "ambient_temp"}.get(key, key)
        assert ranges[dji_key] == pytest.approx((lo, hi), abs=1e-6)
    if "ambient_c" in PLUGIN_RANGES[frame.plugin]:
        assert params.ambient_c == pytest.approx(embedded["ambient_temp"], abs=1e-4)
    else:  # the SDK's range is [x, x]: not a parameter of this plugin
        assert params.ambient_c is None
        assert ranges["ambient_temp"][0] == ranges["ambient_temp"][1]


@pytest.mark.parametrize("name", DJI_SAMPLES)
def test_raw_frame_is_the_sdks(name: str, no_backend: None) -> None:
    raw = open_thermal(sample_path(name)).first_frame().raw()
    ref = np.load(REFS / f"{name}.raw.npy")
    assert raw.dtype == np.uint16
    if name.startswith("dji_m2ea"):  # stored 16-bit; DJI's get_original_raw gives 14 bits
        assert np.array_equal(raw >> 2, ref)
        assert not np.array_equal(raw, ref)
    else:
        assert np.array_equal(raw, ref)


@pytest.mark.parametrize("name", DJI_SAMPLES)
def test_no_backend_refuses_with_one_line_saying_how_to_enable(name: str, no_backend: None) -> None:
    frame = open_thermal(sample_path(name)).first_frame()
    with pytest.raises(UnsupportedFormatError) as err:
        frame.thermogram()
    msg = str(err.value)
    assert "\n" not in msg
    assert name in msg
    assert "pip install 'irpatrol[dji]'" in msg
    assert "IRPATROL_DJI_TSDK" in msg


def test_cli_without_backend(no_backend: None, tmp_path: object) -> None:
    path = sample_path("dji_m4t_tower.jpg")
    runner = CliRunner()
    result = runner.invoke(cli, ["info", str(path)])
    assert result.exit_code == 0, result.output
    assert "dji plugin    hirp  back-end none" in result.stdout
    assert "emissivity 0.949951 [0.1..1]" in result.stdout
    result = runner.invoke(cli, ["temps", str(path), "-o", f"{tmp_path}/t.npy"])
    assert result.exit_code == 3
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1
    assert "IRPATROL_DJI_TSDK" in lines[0]


@pytest.mark.parametrize(
    ("kwargs", "name", "range_text"),
    [
        ({"emissivity": 0.05}, "emissivity", "[0.1, 1]"),
        ({"distance_m": 30.0}, "distance_m", "[1, 25]"),
        ({"relative_humidity": 0.1}, "humidity_pct", "[20, 100]"),
        ({"reflected_temp_k": 273.15 + 600}, "reflected_c", "[-40, 500]"),
    ],
)
def test_override_outside_djis_range_is_refused_with_the_range(
    kwargs: dict[str, float], name: str, range_text: str, no_backend: None
) -> None:
    frame = open_thermal(sample_path("dji_h20t_rooftop.jpg")).first_frame()
    with pytest.raises(
        ParameterError, match=rf"`{name}` must be within DJI.s allowed range {re.escape(range_text)}"
    ):
        frame.thermogram(**kwargs)


def test_ambient_is_not_a_dirp_parameter_and_windows_are_refused(no_backend: None) -> None:
    frame = open_thermal(sample_path("dji_h20t_rooftop.jpg")).first_frame()
    with pytest.raises(ParameterError, match="does not take it"):
        frame.thermogram(atmospheric_temp_k=290.0)
    with pytest.raises(ParameterError, match="no IR-window"):
        frame.thermogram(window_transmission=0.9)


# --- damaged files ----------------------------------------------------------------


def _app4_offset(data: bytes) -> int:
    seg = next(s for s in walk_jpeg(data, path="x").segments if s.marker == 0xE4)
    return seg.offset + 4


@pytest.mark.parametrize("name", DJI_SAMPLES)
@pytest.mark.parametrize("fraction", [0.01, 0.05, 0.2, 0.4, 0.5])
def test_truncated_file_gives_one_clear_line(name: str, fraction: float, no_backend: None) -> None:
    data = sample_path(name).read_bytes()
    cut = data[: int(len(data) * fraction)]
    with pytest.raises(CorruptFileError) as err:
        open_thermal(cut, name=name).first_frame().raw()
    msg = str(err.value)
    assert "\n" not in msg
    assert msg.startswith(f"{name}: ")
    assert "past the end of the file" in msg or "truncated" in msg


@pytest.mark.parametrize(
    ("name", "offset", "value", "match"),
    [
        ("dji_h20t_rooftop.jpg", 72, b"\xff\x7f", "emissivity 327.67"),  # dirp emissivity %
        ("dji_m2ea_substation.jpg", 8, b"\xff\xff\xff\xff", "emissivity nan"),  # iirp float
        ("dji_m30t_640.jpg", 32, b"\x00\x00", "no girp parameter header"),
        ("dji_m4t_tower.jpg", 92, b"\x00\x00\x00\x80", "distance -262144"),  # hirp Q13
        ("dji_m4t_tower.jpg", 0, b"\x00\x00\x00\x00", "no known header"),
    ],
)
def test_damaged_app4_gives_one_clear_line(
    name: str, offset: int, value: bytes, match: str, no_backend: None
) -> None:
    data = bytearray(sample_path(name).read_bytes())
    start = _app4_offset(bytes(data)) + offset
    data[start : start + len(value)] = value
    with pytest.raises(CorruptFileError, match=match) as err:
        open_thermal(bytes(data), name=name)
    assert "\n" not in str(err.value)
    assert "APP4" in str(err.value)


# --- XMP: GPS, attitude, rangefinder (the samples' XMP was stripped: synthesised) ------

_XMP = (
    b"http://ns.adobe.com/xap/1.0/\0<x:xmpmeta xmlns:x='adobe:ns:meta/'><rdf:RDF><rdf:Description "
    b'drone-dji:GpsLatitude="31.2304567" drone-dji:GpsLongitude="121.4737012" '
    b'drone-dji:AbsoluteAltitude="+52.30" drone-dji:RelativeAltitude="+40.10" '
    b'drone-dji:GimbalRollDegree="+0.00" drone-dji:GimbalYawDegree="-88.60" '
    b'drone-dji:GimbalPitchDegree="-45.20" drone-dji:FlightRollDegree="+1.20" '
    b'drone-dji:FlightYawDegree="-90.10" drone-dji:FlightPitchDegree="+2.50" '
    b'drone-dji:LRFStatus="{status}" drone-dji:LRFTargetDistance="79.601">'
    b"<drone-dji:CameraSerialNumber>XYZ</drone-dji:CameraSerialNumber>"
    b"</rdf:Description></rdf:RDF></x:xmpmeta>"
)


def _with_xmp(data: bytes, status: bytes) -> bytes:
    payload = _XMP.replace(b"{status}", status)
    return data[:2] + b"\xff\xe1" + struct.pack(">H", len(payload) + 2) + payload + data[2:]


def test_xmp_gps_attitude_and_rangefinder(no_backend: None) -> None:
    data = _with_xmp(sample_path("dji_m30t_640.jpg").read_bytes(), b"Normal")
    frame = _frame(data)
    info = frame.info
    assert info.gps is not None
    assert info.gps.latitude_deg == pytest.approx(31.2304567)
    assert info.gps.longitude_deg == pytest.approx(121.4737012)
    assert info.gps.altitude_m == pytest.approx(52.3)
    assert info.extra["gimbal_pitch_deg"] == pytest.approx(-45.2)
    assert info.extra["gimbal_yaw_deg"] == pytest.approx(-88.6)
    assert info.extra["flight_yaw_deg"] == pytest.approx(-90.1)
    assert info.extra["altitude_rel_m"] == pytest.approx(40.1)
    assert info.extra["lrf_distance_m"] == pytest.approx(79.601)
    assert frame.lrf_distance_m == pytest.approx(79.601)
    assert info.camera.serial == "4XAGJCP02AA008"  # the sensor id (APP7) wins over XMP


def test_rangefinder_reading_not_normal_is_not_offered(no_backend: None) -> None:
    frame = _frame(_with_xmp(sample_path("dji_m30t_640.jpg").read_bytes(), b"TooFar"))
    assert frame.lrf_distance_m is None
    assert frame.info.extra["lrf_status"] == "TooFar"


# --- pieces ---------------------------------------------------------------------------


def test_no_temperature_pixels_are_flagged_invalid() -> None:
    celsius = np.array([[20.0, -273.15], [np.nan, 35.5]], dtype=np.float32)
    t = _flag_invalid(celsius)
    assert t.n_invalid == 2
    assert t.n_undefined == 2
    assert t.valid.tolist() == [[True, False], [False, True]]
    assert np.isnan(t.celsius[0, 1])
    assert t.celsius[1, 1] == pytest.approx(35.5)
    assert celsius[0, 1] == pytest.approx(-273.15)  # the back-end's array is not changed


@pytest.mark.parametrize(
    ("app4", "model", "plugin"),
    [
        (b"\xff\xd2\xd1\xffgirp\0\0\0\0", None, "girp"),
        (b"\xff\xd2\xd1\xffhirp\0\0\0\0", "ZH20T", "hirp"),  # the tag overrides the model
        (b"\xaa\x55\x12\x06" + bytes(100), None, "dirp"),
        (bytes(50), "XT S", "dirp"),
        (bytes(224), None, "iirp"),
        (bytes(50), "MAVIC2-ENTERPRISE-ADVANCED", "iirp"),
        (bytes(50), "M4T", "unknown"),
        (b"\xff\xd2\xd1\xff\x01\x02\0\0\0", "M4T", "unknown"),  # a tag that is not text
    ],
)
def test_plugin_choice(app4: bytes, model: str | None, plugin: str) -> None:
    assert plugin_of(app4, model) == plugin


# --- fuzzing: damaged bytes give irpatrol errors, never another exception -------------

_SEEDS: dict[str, bytes] = {}


def _seed(name: str) -> bytes:
    """Headers and APP segments of a sample (the scan data after them does not matter here)."""
    if name not in _SEEDS:
        data = sample_path(name).read_bytes()
        scan = walk_jpeg(data, path=name).scan_offset
        assert scan is not None
        _SEEDS[name] = data[: scan + 4096]
    return _SEEDS[name]


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    name=st.sampled_from(DJI_SAMPLES),
    where=st.sampled_from(["app4", "head", "any"]),
    pos=st.integers(min_value=0, max_value=800_000),
    junk=st.binary(min_size=1, max_size=16),
)
def test_fuzzed_dji_headers_raise_only_irpatrol_errors(
    name: str, where: str, pos: int, junk: bytes, no_backend: None
) -> None:
    seed = _seed(name)
    data = bytearray(seed)
    if where == "app4":
        pos = _app4_offset(seed) + pos % 300
    elif where == "head":
        pos %= 2048
    else:
        pos %= len(data)
    data[pos : pos + len(junk)] = junk
    try:
        with open_thermal(bytes(data), name=name) as tf:
            frame = tf.first_frame()
            frame.raw()
            _ = frame.info
            frame.thermogram()
    except IrpatrolError:
        pass


def test_lrf_distance_option_needs_a_reading(no_backend: None, tmp_path: object) -> None:
    runner = CliRunner()
    path = str(sample_path("dji_m30t_640.jpg"))
    result = runner.invoke(cli, ["temps", path, "-o", f"{tmp_path}/t.npy", "--lrf-distance"])
    assert result.exit_code == 3
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1
    assert f"{path}: --lrf-distance: no valid laser-rangefinder reading" in lines[0]
    result = runner.invoke(
        cli, ["temps", path, "-o", f"{tmp_path}/t.npy", "--lrf-distance", "--distance", "5"]
    )
    assert result.exit_code == 2
    assert "`--distance` must be left out when --lrf-distance is given" in result.output


def test_zenmuse_xt_s_layout_raw_in_app4(no_backend: None) -> None:
    """XT S: raw frame in APP4, a 32 KB block in APP3 (made from the H20T sample by swapping them)."""
    data = bytearray(sample_path("dji_h20t_rooftop.jpg").read_bytes())
    layout = walk_jpeg(bytes(data), path="h20t")
    for seg in layout.segments:
        if seg.marker in (0xE3, 0xE4):
            data[seg.offset + 1] = 0xE3 + 0xE4 - seg.marker  # APP3 <-> APP4
    at = data.find(b"ZH20T\0")
    assert at > 0
    data[at : at + 6] = b"XT S\0\0"
    frame = _frame(bytes(data))
    assert frame.info.camera.model == "XT S"
    assert frame.plugin == "dirp"
    assert frame.params is None  # the XT S parameter block is not decoded natively
    assert frame.allowed_ranges == {}
    assert np.array_equal(frame.raw(), np.load(REFS / "dji_h20t_rooftop.jpg.raw.npy"))
