"""Back-ends that turn a DJI R-JPEG's raw counts into °C: DJI's calibration, not a formula.

DJI raw counts are not temperatures; the conversion is one of several camera-specific
pipelines with tables only DJI's Thermal SDK has.  irpatrol does not implement it; it
hands the file to one of two back-ends, chosen automatically:

* ``tsdk``: DJI's own Thermal SDK (``libdirp.so`` / ``libdirp.dll``, downloaded by the user
  from DJI), loaded with :mod:`ctypes` when :func:`use_tsdk_library` was given its path
  (the CLI and the server pass the ``IRPATROL_DJI_TSDK`` setting);
* ``dji-thermal-cli``: the pure-Python port of DJI Thermal SDK 1.8 on PyPI (AGPL-3.0,
  Python >= 3.12), when it is installed (``pip install 'irpatrol[dji]'``).

An explicitly configured SDK library wins over the Python package.  With neither,
:func:`select_backend` returns ``None`` and the frame refuses conversion with
:data:`HOW_TO_ENABLE`.  The library never reads the environment itself.
"""

from __future__ import annotations

import ctypes
import importlib.util
import math
from dataclasses import dataclass
from importlib import metadata
from typing import Any, Protocol

import numpy as np
import numpy.typing as npt

from irpatrol.errors import CorruptFileError, FormatError, ParameterError, UnsupportedFormatError
from irpatrol.formats.dji_params import DjiParams, ParamRanges

HOW_TO_ENABLE = (
    "converting DJI raw counts to °C needs a DJI back-end: install the optional extra "
    "(pip install 'irpatrol[dji]', Python >= 3.12, AGPL-3.0) or set IRPATROL_DJI_TSDK to the "
    "path of DJI Thermal SDK's libdirp library"
)
"""What a user is told when no back-end is available."""


@dataclass(frozen=True)
class Measurement:
    """A back-end's answer: °C per pixel (float32, rows x cols), parameters used, allowed ranges."""

    celsius: npt.NDArray[np.float32]
    params: DjiParams
    ranges: ParamRanges


class DjiBackend(Protocol):
    """A raw → °C converter for DJI R-JPEG files."""

    name: str

    @property
    def version(self) -> str:
        """Version of the back-end (package or SDK), for ``irpatrol info``."""
        ...

    def measure(self, data: bytes, *, overrides: dict[str, float], path: str) -> Measurement:
        """Temperatures of the whole R-JPEG ``data`` with ``overrides`` (names of :class:`DjiParams`).

        Raises :class:`ParameterError` naming the range for an override outside it.
        """
        ...


_FIELDS = {  # DjiParams field -> (DJI's name, converter DJI -> irpatrol)
    "distance_m": "distance",
    "humidity_pct": "humidity",
    "emissivity": "emissivity",
    "reflected_c": "reflection",
    "ambient_c": "ambient_temp",
}


def check_overrides(overrides: dict[str, float], ranges: ParamRanges) -> None:
    """Refuse an override outside DJI's allowed range for the file (never clamp silently)."""
    for name, value in overrides.items():
        if name not in ranges:
            raise ParameterError(name, value, "not set: this DJI camera's SDK plugin does not take it")
        lo, hi = ranges[name]
        if not (math.isfinite(value) and lo <= value <= hi):
            raise ParameterError(name, value, f"within DJI's allowed range [{lo:g}, {hi:g}] for this camera")


def _ranges_from(raw: dict[str, tuple[float, float]]) -> ParamRanges:
    """DJI's range names and fixed ranges ([x, x]: not a parameter) into :class:`DjiParams` names."""
    out: ParamRanges = {}
    for field, dji in _FIELDS.items():
        if dji in raw:
            lo, hi = (float(v) for v in raw[dji])
            if lo < hi:
                out[field] = (lo, hi)
    return out


def _params_from(p: Any, ranges: ParamRanges) -> DjiParams:
    return DjiParams(
        distance_m=float(p.distance),
        humidity_pct=float(p.humidity),
        emissivity=float(p.emissivity),
        reflected_c=float(p.reflection),
        ambient_c=float(p.ambient_temp) if "ambient_c" in ranges else None,
    )


class DjiThermalCliBackend:
    """The ``dji-thermal-cli`` package (imported only when a DJI file is converted)."""

    name = "dji-thermal-cli"

    @property
    def version(self) -> str:
        """The installed package version."""
        try:
            return metadata.version("dji-thermal-cli")
        except metadata.PackageNotFoundError:
            return "?"

    @staticmethod
    def available() -> bool:
        """True when the package can be imported (found without importing it)."""
        try:
            return importlib.util.find_spec("dji_thermal_cli") is not None
        except (ImportError, ValueError):
            return False

    def measure(self, data: bytes, *, overrides: dict[str, float], path: str) -> Measurement:
        """Run the port's ``measure_temperature_c`` (DJI's ``dirp_measure_ex``) on ``data``."""
        from dji_thermal_cli import tsdk

        try:
            rj = tsdk.open(data)
            ranges = _ranges_from(rj.get_measurement_params_range())
            params = rj.get_measurement_params()
            if overrides:
                check_overrides(overrides, ranges)
                for name, value in overrides.items():
                    setattr(params, _FIELDS[name], float(value))
                rj.set_measurement_params(params)
            celsius = np.asarray(rj.measure_temperature_c(), dtype=np.float32)
        except tsdk.UnsupportedRJpeg as exc:
            raise UnsupportedFormatError(path, f"DJI R-JPEG not supported by dji-thermal-cli: {exc}") from exc
        except tsdk.RJpegError as exc:
            raise CorruptFileError(path, f"DJI R-JPEG unreadable by dji-thermal-cli: {exc}") from exc
        except tsdk.ParamError as exc:
            raise ParameterError("overrides", overrides, f"accepted by DJI's SDK ({exc})") from exc
        except tsdk.TsdkError as exc:
            raise FormatError(path, f"dji-thermal-cli refused to measure: {exc}") from exc
        return Measurement(celsius, _params_from(params, ranges), ranges)


class _Params(ctypes.Structure):
    """``dirp_measurement_params_t``: five floats in DJI's order."""

    _fields_ = [(dji, ctypes.c_float) for dji in _FIELDS.values()]


class _Range(ctypes.Structure):
    _fields_ = [("min", ctypes.c_float), ("max", ctypes.c_float)]


class _ParamsRange(ctypes.Structure):
    """``dirp_measurement_params_range_t``: a (min, max) pair per parameter."""

    _fields_ = [(dji, _Range) for dji in _FIELDS.values()]


class _Resolution(ctypes.Structure):
    _fields_ = [("width", ctypes.c_int32), ("height", ctypes.c_int32)]


class TsdkLibraryBackend:
    """DJI's Thermal SDK (``libdirp``) through :mod:`ctypes`; its C API as DJI documents it."""

    name = "tsdk"

    def __init__(self, library: str) -> None:
        self.library = library
        self._lib: Any = None

    def _load(self, path: str) -> Any:
        if self._lib is None:
            try:
                lib = ctypes.CDLL(self.library)
            except OSError as exc:
                raise UnsupportedFormatError(
                    path,
                    f"DJI Thermal SDK library {self.library} (IRPATROL_DJI_TSDK) cannot be loaded: {exc}",
                ) from exc
            handle = ctypes.POINTER(ctypes.c_void_p)
            lib.dirp_create_from_rjpeg.argtypes = [ctypes.c_char_p, ctypes.c_int32, ctypes.POINTER(handle)]
            lib.dirp_destroy.argtypes = [handle]
            lib.dirp_get_rjpeg_resolution.argtypes = [handle, ctypes.POINTER(_Resolution)]
            lib.dirp_get_measurement_params.argtypes = [handle, ctypes.POINTER(_Params)]
            lib.dirp_set_measurement_params.argtypes = [handle, ctypes.POINTER(_Params)]
            lib.dirp_get_measurement_params_range.argtypes = [handle, ctypes.POINTER(_ParamsRange)]
            lib.dirp_measure_ex.argtypes = [handle, ctypes.POINTER(ctypes.c_float), ctypes.c_int32]
            self._lib = lib
        return self._lib

    @property
    def version(self) -> str:
        """The library path (DJI's SDK reports its version only through a handle)."""
        return self.library

    def measure(self, data: bytes, *, overrides: dict[str, float], path: str) -> Measurement:
        """``dirp_create_from_rjpeg``, parameters, ``dirp_measure_ex``, ``dirp_destroy``."""
        lib = self._load(path)
        handle = ctypes.POINTER(ctypes.c_void_p)()
        rc = lib.dirp_create_from_rjpeg(data, len(data), ctypes.byref(handle))
        if rc != 0:
            raise CorruptFileError(path, f"DJI Thermal SDK cannot open this R-JPEG (dirp error {rc})")
        try:
            res = _Resolution()
            prm = _Params()
            rng = _ParamsRange()
            for fn, arg in (
                (lib.dirp_get_rjpeg_resolution, res),
                (lib.dirp_get_measurement_params, prm),
                (lib.dirp_get_measurement_params_range, rng),
            ):
                rc = fn(handle, ctypes.byref(arg))
                if rc != 0:
                    raise FormatError(path, f"DJI Thermal SDK failed ({fn.__name__}: dirp error {rc})")
            ranges = _ranges_from(
                {dji: (getattr(rng, dji).min, getattr(rng, dji).max) for dji in _FIELDS.values()}
            )
            if overrides:
                check_overrides(overrides, ranges)
                for name, value in overrides.items():
                    setattr(prm, _FIELDS[name], float(value))
                rc = lib.dirp_set_measurement_params(handle, ctypes.byref(prm))
                if rc != 0:
                    raise ParameterError("overrides", overrides, f"accepted by DJI's SDK (dirp error {rc})")
            if not (0 < res.width <= 8192 and 0 < res.height <= 8192):
                raise CorruptFileError(path, f"DJI Thermal SDK reports a {res.width}x{res.height} frame")
            out = np.empty((res.height, res.width), dtype=np.float32)
            rc = lib.dirp_measure_ex(handle, out.ctypes.data_as(ctypes.POINTER(ctypes.c_float)), out.nbytes)
            if rc != 0:
                raise FormatError(path, f"DJI Thermal SDK refused to measure (dirp error {rc})")
        finally:
            lib.dirp_destroy(handle)
        return Measurement(out, _params_from(prm, ranges), ranges)


_tsdk_library: str | None = None


def use_tsdk_library(path: str | None) -> None:
    """Use DJI's Thermal SDK library at ``path`` for DJI files from now on (``None``: stop).

    Called once by the outer layers (CLI, server) with the ``IRPATROL_DJI_TSDK`` setting.
    """
    global _tsdk_library
    _tsdk_library = str(path) if path else None


def select_backend(*, tsdk_library: str | None = None) -> DjiBackend | None:
    """The back-end for DJI files: the SDK library if configured, else dji-thermal-cli, else ``None``."""
    library = tsdk_library or _tsdk_library
    if library:
        return TsdkLibraryBackend(library)
    if DjiThermalCliBackend.available():
        return DjiThermalCliBackend()
    return None
