"""capture distance: the camera-to-target distance an uploader measured, m

A robot's rangefinder or preset knows how far the camera stood from the target; the
measurability check (spot size = IFOV × distance) uses it where the inspection point
configures no ``distance_m`` of its own.  Nullable: older captures have none.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-03 09:20:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("captures", schema=None) as batch_op:
        batch_op.add_column(sa.Column("distance_m", sa.Float(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("captures", schema=None) as batch_op:
        batch_op.drop_column("distance_m")
