"""The trend settings (``IRPATROL_TREND_*``) as the store's and the analysis' parameter objects.

One place maps :class:`~irpatrol.config.Settings` to :class:`~irpatrol.store.series.SeriesParams`
(how findings are normalised when stored) and :class:`~irpatrol.diagnosis.trend.TrendParams`
(how a point's history is judged), for the workers, the edge ingest, the API and the CLI.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from irpatrol.config import Settings
from irpatrol.diagnosis.trend import TrendParams
from irpatrol.pipeline.trend_texts import history_text, warning_text
from irpatrol.store.models import Point
from irpatrol.store.series import SeriesParams, point_trend_analysis


def series_params(settings: Settings) -> SeriesParams:
    """How findings are put on the rated-load basis when stored."""
    return SeriesParams(
        load_exponent=settings.trend_load_exponent, min_load_ratio=settings.trend_min_load_ratio
    )


def trend_params(settings: Settings) -> TrendParams:
    """How a point's history is analysed (``docs/trend.md``)."""
    return TrendParams(
        window=settings.trend_window,
        min_history=min(settings.trend_min_history, settings.trend_window),
        confidence=settings.trend_confidence,
        band_k=settings.trend_band_k,
        step_k=settings.trend_step_k,
        step_confirm=settings.trend_step_confirm,
        noise_floor_k=settings.trend_noise_floor_k,
        min_change_k=settings.trend_min_change_k,
        horizon_days=settings.trend_horizon_days,
        horizon_patrols=settings.trend_horizon_patrols,
    )


def trend_document(
    session: Session,
    point: Point,
    settings: Settings,
    *,
    since: datetime | None = None,
    until: datetime | None = None,
    lang: str = "zh",
) -> dict[str, Any]:
    """What ``GET /points/{id}/trend`` and ``irpatrol trend --json`` answer: series, analysis, chart."""
    doc = point_trend_analysis(
        session, point, params=trend_params(settings), default_rules=settings.rules, since=since, until=until
    )
    for w in doc["analysis"]["warnings"]:
        w["text"] = warning_text(w, lang)
    doc["comparison_text"] = history_text(doc["comparison"], lang)
    return doc
