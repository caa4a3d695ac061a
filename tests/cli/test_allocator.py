"""The CLI's allocator tuning takes effect on glibc and is harmless elsewhere."""

from __future__ import annotations

import ctypes.util
import platform

import pytest

from irpatrol.cli.allocator import keep_freed_memory


@pytest.mark.skipif(
    platform.system() != "Linux"
    or platform.libc_ver()[0] != "glibc"
    or ctypes.util.find_library("c") is None,
    reason="mallopt thresholds are a glibc feature",
)
def test_glibc_accepts_the_thresholds() -> None:
    assert keep_freed_memory() is True
