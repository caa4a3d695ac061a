"""Report fixtures: a folder of the bundled demo images plus a broken file, and PDF readers."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from tests.conftest import DEMO

POINTS = DEMO / "flir_t640_fuses.points.yaml"


@pytest.fixture(scope="module")
def demo_folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The four demo images, a text file posing as an image, and a note that is not an image."""
    folder = tmp_path_factory.mktemp("patrol")
    for p in sorted(DEMO.glob("*.jpg")):
        shutil.copy(p, folder / p.name)
    (folder / "broken.jpg").write_bytes(b"this is not a thermal image")
    (folder / "notes.txt").write_text("crew notes, not an image", encoding="utf-8")
    return folder


def _tool(name: str) -> str:
    path = shutil.which(name)
    if path is None:
        pytest.skip(f"{name} (poppler-utils) is not installed; scripts/setup.sh dev installs it")
    return path


def pdf_text(pdf: bytes, tmp_path: Path, *, layout: bool = False) -> str:
    """The text of a PDF as pdftotext extracts it; ``layout`` keeps table rows on one line."""
    src = tmp_path / "in.pdf"
    src.write_bytes(pdf)
    args = [_tool("pdftotext"), *(["-layout"] if layout else []), str(src), "-"]
    out = subprocess.run(args, capture_output=True, check=True)
    return out.stdout.decode("utf-8")


def pdf_images(pdf: bytes, tmp_path: Path) -> list[list[str]]:
    """The rows of ``pdfimages -list`` (page, num, type, width, height, …) of a PDF."""
    src = tmp_path / "img.pdf"
    src.write_bytes(pdf)
    out = subprocess.run([_tool("pdfimages"), "-list", str(src)], capture_output=True, check=True, text=True)
    return [line.split() for line in out.stdout.splitlines()[2:] if line.strip()]


def pdf_fonts(pdf: bytes, tmp_path: Path) -> str:
    """``pdffonts`` output of a PDF."""
    src = tmp_path / "fonts.pdf"
    src.write_bytes(pdf)
    return subprocess.run([_tool("pdffonts"), str(src)], capture_output=True, check=True, text=True).stdout
