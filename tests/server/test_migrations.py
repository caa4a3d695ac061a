"""The Alembic migrations and the models agree: an upgraded database has no autogenerate diff."""

from __future__ import annotations

from sqlalchemy import inspect

from irpatrol.config import Settings
from irpatrol.store.db import make_engine, upgrade
from irpatrol.store.models import Base


def _ours(obj: object, name: str | None, type_: str, reflected: bool, compare_to: object) -> bool:
    """Compare only the schema's own tables (the task queue creates its ``huey_*`` tables itself)."""
    table = getattr(obj, "table", obj) if type_ != "table" else obj
    return not str(getattr(table, "name", name) or "").startswith("huey_")


def test_migrations_match_the_models(settings: Settings) -> None:
    from alembic.autogenerate import compare_metadata
    from alembic.runtime.migration import MigrationContext

    engine = make_engine(settings.resolved_database_url())
    try:
        upgrade(engine)
        with engine.connect() as conn:
            ctx = MigrationContext.configure(conn, opts={"include_object": _ours})
            diff = compare_metadata(ctx, Base.metadata)
        assert diff == []
        indexes = {ix["name"]: ix["column_names"] for ix in inspect(engine).get_indexes("findings")}
        assert indexes["ix_findings_review_grade"] == ["review_status", "grade_value"]
    finally:
        engine.dispose()
