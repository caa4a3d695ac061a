"""Shared fixtures: where the real sample files are, and a skip when they are absent."""

from __future__ import annotations

from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
SAMPLES = REPO.parent / "shared" / "samples"
THERMAL = SAMPLES / "thermal"
REFS = THERMAL / "refs"
DEMO = REPO / "src" / "irpatrol" / "demo"

FLIR_SAMPLES = [
    "flir_t640_fuses.jpg",
    "flir_e40.jpg",
    "flir_ax8.jpg",
    "flir_c2_afci_breakers.jpg",
    "flir_b60_building.jpg",
    "dji_zenmuse_xtr.jpg",
    "flir_sc660_sample.seq",
]
DJI_SAMPLES = ["dji_h20t_rooftop.jpg", "dji_m2ea_substation.jpg", "dji_m30t_640.jpg", "dji_m4t_tower.jpg"]


def sample_path(name: str) -> Path:
    """Path of a shared sample file; skips the test (with the reason) when it is absent."""
    path = THERMAL / name
    if not path.exists():
        pytest.skip(f"shared sample {path} is absent (tests with real files need ../shared/samples)")
    return path


@pytest.fixture
def thermal_samples() -> Path:
    """The shared thermal sample folder (skip when absent)."""
    if not THERMAL.is_dir():
        pytest.skip(f"{THERMAL} is absent")
    return THERMAL
