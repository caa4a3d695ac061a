"""The per-image job as a library: read → °C → hot spots and points → compare → grade.

:mod:`irpatrol.pipeline.texts` renders a finding's explanation and recommendation from its
stored facts, per language.
"""
