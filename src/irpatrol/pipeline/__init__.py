"""The per-image job as a library: read → °C → hot spots and points → compare → grade.

:func:`inspect_image` takes a path or bytes, the inspection points, a rule pack and the
capture :class:`Conditions` and returns an :class:`Inspection` (frozen dataclasses) from
which the CLI's JSON, the server's rows and schemas and the reports are derived.
:mod:`irpatrol.pipeline.texts` renders a finding's explanation and recommendation from its
(stored) facts, per language.

Layering: above ``formats``, ``diagnosis`` and ``thermal``; below ``report``, ``store``,
``server``, ``edge`` and ``cli``.  Nothing here writes files.
"""

from irpatrol.pipeline.inspection import (
    Conditions,
    Inspection,
    ReferenceFolder,
    ReferenceLoader,
    inspect_frames,
    inspect_image,
    load_thermogram,
    open_source,
)
from irpatrol.pipeline.texts import finding_texts, render_finding_texts

__all__ = [
    "Conditions",
    "Inspection",
    "ReferenceFolder",
    "ReferenceLoader",
    "finding_texts",
    "inspect_frames",
    "inspect_image",
    "load_thermogram",
    "open_source",
    "render_finding_texts",
]
