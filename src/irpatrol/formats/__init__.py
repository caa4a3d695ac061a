"""File readers: identify → header → lazy decode.  Entry point: :func:`open_thermal`."""

from irpatrol.formats.base import CameraIdentity, FrameInfo, GeoPosition, ThermalFile, ThermalFrame
from irpatrol.formats.registry import READERS, identify, open_thermal

__all__ = [
    "READERS",
    "CameraIdentity",
    "FrameInfo",
    "GeoPosition",
    "ThermalFile",
    "ThermalFrame",
    "identify",
    "open_thermal",
]
