"""Persistent state of the intranet server: the database (SQLAlchemy 2 + Alembic) and the image store.

* :mod:`~irpatrol.store.models` — the tables: the asset hierarchy 站→区域→间隔→设备→部件→点位,
  patrol plans and executions, captures, findings with review and defect lifecycle,
  users, tokens, the audit log and webhook subscriptions with their delivery outbox.
* :mod:`~irpatrol.store.db` — engines and sessions (SQLite in WAL mode by default,
  PostgreSQL through a URL) and migrations.
* :mod:`~irpatrol.store.blobs` — images stored content-addressed by SHA-256.
"""
