"""The Alembic migrations and the models agree: an upgraded database has no autogenerate diff."""

from __future__ import annotations

from sqlalchemy import inspect

from irpatrol.config import Settings
from irpatrol.store.db import make_engine, upgrade
from irpatrol.store.models import Base


def test_migrations_match_the_models(settings: Settings) -> None:
    from alembic.autogenerate import compare_metadata
    from alembic.runtime.migration import MigrationContext

    engine = make_engine(settings.resolved_database_url())
    try:
        upgrade(engine)
        with engine.connect() as conn:
            diff = compare_metadata(MigrationContext.configure(conn), Base.metadata)
        assert diff == []
        indexes = {ix["name"]: ix["column_names"] for ix in inspect(engine).get_indexes("findings")}
        assert indexes["ix_findings_review_grade"] == ["review_status", "grade_value"]
    finally:
        engine.dispose()
