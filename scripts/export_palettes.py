"""Write the dashboard's palette tables (static/palettes.json) from irpatrol.thermal.palettes.

The capture viewer colours the °C matrix in the browser with the same 256-entry tables
the library's PNG renderings use; this script is their one source.  Run it after
changing a palette (a test fails while the JSON and the library differ):

    .venv/bin/python scripts/export_palettes.py
"""

from __future__ import annotations

import json
from pathlib import Path

from irpatrol.thermal.palettes import INVALID_RGB, PALETTES

OUT = Path(__file__).resolve().parents[1] / "src/irpatrol/server/web/static/palettes.json"


def palettes_document() -> dict[str, object]:
    """Palette name → flat [r, g, b, r, g, b, ...] of 256 entries (low °C first), and the invalid colour."""
    return {
        "source": "irpatrol.thermal.palettes (scripts/export_palettes.py)",
        "invalid_rgb": [int(v) for v in INVALID_RGB],
        "palettes": {name: [int(v) for v in table.reshape(-1)] for name, table in PALETTES.items()},
    }


def render() -> str:
    """The JSON text: one line per palette, so a change reads as a one-line diff."""
    doc = palettes_document()
    lines = [
        "{",
        f'  "source": {json.dumps(doc["source"])},',
        f'  "invalid_rgb": {json.dumps(doc["invalid_rgb"])},',
        '  "palettes": {',
    ]
    items = list(doc["palettes"].items())  # type: ignore[attr-defined]
    for i, (name, values) in enumerate(items):
        comma = "," if i < len(items) - 1 else ""
        lines.append(f"    {json.dumps(name)}: {json.dumps(values, separators=(',', ':'))}{comma}")
    lines += ["  }", "}", ""]
    return "\n".join(lines)


if __name__ == "__main__":
    OUT.write_text(render(), encoding="utf-8")
    print(f"wrote {OUT}")
