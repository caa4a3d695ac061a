"""DJI R-JPEG → °C through the back-ends.

* dji-thermal-cli (Python >= 3.12, ``pip install -e '.[dji]'``; CI runs this file in a 3.12
  venv): the four samples match ``refs/*.temp_c.npy`` (DJI Thermal SDK 1.8 via the same
  package, embedded parameters) within 0.01 °C; overrides go through it.
* DJI's Thermal SDK through ctypes: DJI's library cannot ship with the tests, so a stand-in
  ``libdirp`` with the same C API is compiled from ``_STUB_C`` (needs a C compiler).
"""

from __future__ import annotations

import contextlib
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner
from hypothesis import given, settings
from hypothesis import strategies as st

from irpatrol.cli import cli
from irpatrol.errors import CorruptFileError, IrpatrolError, ParameterError, UnsupportedFormatError
from irpatrol.formats import open_thermal
from irpatrol.formats.dji import DjiFrame
from irpatrol.formats.dji_backends import (
    DjiThermalCliBackend,
    TsdkLibraryBackend,
    select_backend,
    use_tsdk_library,
)
from irpatrol.formats.jpeg import walk_jpeg
from tests.conftest import DJI_SAMPLES, REFS, sample_path

pytestmark = pytest.mark.samples

needs_dji_thermal_cli = pytest.mark.skipif(
    not DjiThermalCliBackend.available(),
    reason="dji-thermal-cli is not installed (Python >= 3.12: pip install -e '.[dji]'; CI: .venv312)",
)


@needs_dji_thermal_cli
@pytest.mark.parametrize("name", DJI_SAMPLES)
def test_samples_match_the_sdk_reference_within_0_01_c(name: str) -> None:
    frame = open_thermal(sample_path(name)).first_frame()
    assert isinstance(frame, DjiFrame)
    assert str(frame.info.extra["dji_backend"]).startswith("dji-thermal-cli ")
    t = frame.thermogram()
    ref = np.load(REFS / f"{name}.temp_c.npy")
    assert t.celsius.dtype == np.float32
    assert t.celsius.shape == ref.shape
    assert t.n_invalid == 0
    assert float(np.max(np.abs(t.celsius - ref))) <= 0.01
    m = frame.last_measurement
    assert m is not None
    assert frame.params is not None
    assert m.params.emissivity == pytest.approx(frame.params.emissivity, abs=1e-6)
    assert m.params.distance_m == pytest.approx(frame.params.distance_m, abs=1e-6)


@needs_dji_thermal_cli
@pytest.mark.parametrize("name", ["dji_m2ea_substation.jpg", "dji_m4t_tower.jpg"])
def test_lower_emissivity_reads_hotter_where_hotter_than_reflected(name: str) -> None:
    frame = open_thermal(sample_path(name)).first_frame()
    base = frame.thermogram().celsius
    low = frame.thermogram(emissivity=0.7).celsius
    assert frame.params is not None
    hot = base > frame.params.reflected_c + 5
    assert hot.any()
    assert np.all(low[hot] > base[hot])
    same = frame.thermogram(emissivity=frame.params.emissivity).celsius
    assert np.allclose(same, base, atol=0.01)


@needs_dji_thermal_cli
def test_hirp_takes_a_long_distance_that_dirp_refuses() -> None:
    hirp = open_thermal(sample_path("dji_m4t_tower.jpg")).first_frame()
    far = hirp.thermogram(distance_m=500.0)
    assert not np.array_equal(far.celsius, hirp.thermogram().celsius)
    dirp = open_thermal(sample_path("dji_h20t_rooftop.jpg")).first_frame()
    with pytest.raises(ParameterError, match=r"range \[1, 25\]"):
        dirp.thermogram(distance_m=500.0)


@needs_dji_thermal_cli
def test_cli_temps_and_info_through_the_backend(tmp_path: Path) -> None:
    name = "dji_m30t_640.jpg"
    runner = CliRunner()
    result = runner.invoke(cli, ["temps", str(sample_path(name)), "-o", str(tmp_path / "t.npy")])
    assert result.exit_code == 0, result.output
    ref = np.load(REFS / f"{name}.temp_c.npy")
    assert float(np.max(np.abs(np.load(tmp_path / "t.npy") - ref))) <= 0.01
    result = runner.invoke(cli, ["info", str(sample_path(name))])
    assert "back-end dji-thermal-cli" in result.stdout


# --- DJI's Thermal SDK through ctypes, against a stand-in library ----------------------

_STUB_C = r"""
#include <stdint.h>
#include <string.h>
typedef struct { float distance, humidity, emissivity, reflection, ambient_temp; } params_t;
typedef struct { float min, max; } range_t;
typedef struct { range_t distance, humidity, emissivity, reflection, ambient_temp; } ranges_t;
typedef struct { int32_t width, height; } res_t;
static params_t P = {5.0f, 70.0f, 1.0f, 23.0f, 0.0f};
static int handle_storage;
int32_t dirp_create_from_rjpeg(const uint8_t *d, int32_t n, void **h) {
    if (n < 4 || d[0] != 0xFF || d[1] != 0xD8) return -7;
    P.emissivity = 1.0f; *h = &handle_storage; return 0; }
int32_t dirp_destroy(void *h) { return 0; }
int32_t dirp_get_rjpeg_resolution(void *h, res_t *r) { r->width = 640; r->height = 512; return 0; }
int32_t dirp_get_measurement_params(void *h, params_t *p) { *p = P; return 0; }
int32_t dirp_set_measurement_params(void *h, const params_t *p) { P = *p; return 0; }
int32_t dirp_get_measurement_params_range(void *h, ranges_t *r) {
    r->distance = (range_t){1, 25}; r->humidity = (range_t){20, 100};
    r->emissivity = (range_t){0.1f, 1}; r->reflection = (range_t){-40, 500};
    r->ambient_temp = (range_t){0, 0}; return 0; }
int32_t dirp_measure_ex(void *h, float *t, int32_t size) {
    int32_t n = size / 4;
    if (n != 640 * 512) return -2;
    for (int32_t i = 0; i < n; i++) t[i] = 10.0f * P.emissivity + (float)(i % 640) / 100.0f;
    t[0] = -273.15f;  /* a pixel without temperature */
    return 0; }
"""


def build_stub_tsdk(folder: Path) -> Path:
    """Compile the stand-in ``libdirp.so`` into ``folder`` (skips the test without a C compiler)."""
    cc = shutil.which("cc") or shutil.which("gcc")
    if cc is None:
        pytest.skip("no C compiler to build the stand-in DJI Thermal SDK library")
    (folder / "stub.c").write_text(_STUB_C, encoding="utf-8")
    lib = folder / "libdirp.so"
    subprocess.run([cc, "-shared", "-fPIC", "-O1", "-o", str(lib), str(folder / "stub.c")], check=True)
    return lib


@pytest.fixture(scope="module")
def stub_tsdk(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_stub_tsdk(tmp_path_factory.mktemp("tsdk"))


@pytest.fixture
def tsdk_configured(stub_tsdk: Path) -> Iterator[Path]:
    use_tsdk_library(str(stub_tsdk))
    yield stub_tsdk
    use_tsdk_library(None)


def test_configured_sdk_library_wins_and_converts(tsdk_configured: Path) -> None:
    backend = select_backend()
    assert isinstance(backend, TsdkLibraryBackend)
    frame = open_thermal(sample_path("dji_h20t_rooftop.jpg")).first_frame()
    assert str(frame.info.extra["dji_backend"]).startswith("tsdk ")
    t = frame.thermogram()
    assert t.celsius.shape == (512, 640)
    assert t.n_invalid == 1  # the -273.15 pixel
    assert np.isnan(t.celsius[0, 0])
    assert t.celsius[0, 1] == pytest.approx(10.01)
    assert frame.last_measurement is not None
    assert frame.last_measurement.params.humidity_pct == pytest.approx(70.0)
    assert frame.last_measurement.ranges["distance_m"] == (1.0, 25.0)
    assert "ambient_c" not in frame.last_measurement.ranges
    low = frame.thermogram(emissivity=0.5)  # the override reaches the library
    assert low.celsius[0, 1] == pytest.approx(5.01)
    with pytest.raises(ParameterError, match=r"\[1, 25\]"):
        frame.thermogram(distance_m=0.5)


def test_sdk_library_errors_are_typed(tsdk_configured: Path) -> None:
    backend = select_backend()
    assert backend is not None
    with pytest.raises(CorruptFileError, match="dirp error -7"):
        backend.measure(b"not a jpeg", overrides={}, path="x.jpg")


def test_sdk_library_that_cannot_load_is_one_clear_line(tmp_path: Path) -> None:
    backend = TsdkLibraryBackend(str(tmp_path / "missing.so"))
    with pytest.raises(UnsupportedFormatError, match="IRPATROL_DJI_TSDK") as err:
        backend.measure(b"\xff\xd8", overrides={}, path="x.jpg")
    assert "\n" not in str(err.value)


@needs_dji_thermal_cli
def test_lrf_distance_option_uses_the_rangefinder(tmp_path: Path) -> None:
    from tests.formats.test_dji import _with_xmp

    data = _with_xmp(sample_path("dji_m30t_640.jpg").read_bytes(), b"Normal").replace(
        b'LRFTargetDistance="79.601"', b'LRFTargetDistance="20.500"'
    )
    src = tmp_path / "lrf.jpg"
    src.write_bytes(data)
    runner = CliRunner()
    result = runner.invoke(cli, ["temps", str(src), "-o", str(tmp_path / "lrf.npy"), "--lrf-distance"])
    assert result.exit_code == 0, result.output
    frame = open_thermal(src).first_frame()
    assert isinstance(frame, DjiFrame)
    assert frame.lrf_distance_m == pytest.approx(20.5)
    far = frame.thermogram(distance_m=20.5).celsius
    assert np.array_equal(np.load(tmp_path / "lrf.npy"), far)
    assert not np.array_equal(far, frame.thermogram().celsius)


@needs_dji_thermal_cli
@settings(max_examples=40, deadline=None)
@given(
    name=st.sampled_from(["dji_m30t_640.jpg", "dji_m2ea_substation.jpg"]),
    pos=st.integers(min_value=0, max_value=30_000),
    junk=st.binary(min_size=1, max_size=8),
)
def test_fuzzed_parameters_and_calibration_raise_only_irpatrol_errors(
    name: str, pos: int, junk: bytes
) -> None:
    """Damaged APP4/APP5 bytes reach the back-end: what it raises must come out as irpatrol errors."""
    data = bytearray(_sample_bytes(name))
    app4 = next(s for s in walk_jpeg(bytes(data), path=name).segments if s.marker == 0xE4)
    start = app4.offset + 4 + pos % (len(app4.payload) + 20_000)  # APP4, then into APP5
    data[start : start + len(junk)] = junk
    with contextlib.suppress(IrpatrolError):
        open_thermal(bytes(data), name=name).first_frame().thermogram()


_SAMPLE_CACHE: dict[str, bytes] = {}


def _sample_bytes(name: str) -> bytes:
    if name not in _SAMPLE_CACHE:
        _SAMPLE_CACHE[name] = sample_path(name).read_bytes()
    return _SAMPLE_CACHE[name]
