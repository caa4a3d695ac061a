"""station layout: a layout image (site plan) per station with its georeference

One row per station: the image's SHA-256 in the blob store, its media type and size
in pixels, and ``georef`` (JSON): the control points and the fitted map from local
metres to pixels.  Deleting the station deletes its layout.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-03 05:20:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "station_layouts",
        sa.Column("station_id", sa.Integer(), nullable=False),
        sa.Column("image_sha256", sa.String(length=64), nullable=False),
        sa.Column("media_type", sa.String(length=64), nullable=False),
        sa.Column("width", sa.Integer(), nullable=False),
        sa.Column("height", sa.Integer(), nullable=False),
        sa.Column("georef", sa.JSON(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.Column("updated_by", sa.String(length=128), nullable=True),
        sa.ForeignKeyConstraint(
            ["station_id"],
            ["assets.id"],
            name=op.f("fk_station_layouts_station_id_assets"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("station_id", name=op.f("pk_station_layouts")),
    )


def downgrade() -> None:
    op.drop_table("station_layouts")
