"""finding series: load-normalised rise and delta T on findings, with the load and ambient they used

Each finding stores its temperature rise and delta T corrected to rated load
(``norm_rise_k``, ``norm_delta_t_k``, kelvin), the load ratio and ambient the
correction used, and whether it was normalised at all (load unknown: the raw
values are kept and ``normalised`` is false).  An index on (point_id, taken_at)
serves a point's time series.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-03 05:10:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("findings", schema=None) as batch_op:
        batch_op.add_column(sa.Column("load_ratio", sa.Float(), nullable=True))
        batch_op.add_column(sa.Column("ambient_c", sa.Float(), nullable=True))
        batch_op.add_column(sa.Column("norm_rise_k", sa.Float(), nullable=True))
        batch_op.add_column(sa.Column("norm_delta_t_k", sa.Float(), nullable=True))
        batch_op.add_column(sa.Column("normalised", sa.Boolean(), nullable=False, server_default=sa.false()))
        batch_op.create_index("ix_findings_point_taken", ["point_id", "taken_at"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("findings", schema=None) as batch_op:
        batch_op.drop_index("ix_findings_point_taken")
        batch_op.drop_column("normalised")
        batch_op.drop_column("norm_delta_t_k")
        batch_op.drop_column("norm_rise_k")
        batch_op.drop_column("ambient_c")
        batch_op.drop_column("load_ratio")
