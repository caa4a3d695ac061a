"""edge messages: edge_messages (one row per key from an edge agent) and edge_rejects (dead letters)

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-02 22:14:45.104145
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "edge_rejects",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("received_at", sa.DateTime(), nullable=False),
        sa.Column("topic", sa.String(length=256), nullable=False),
        sa.Column("robot", sa.String(length=64), nullable=True),
        sa.Column("key", sa.String(length=512), nullable=True),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("payload", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_edge_rejects")),
    )
    with op.batch_alter_table("edge_rejects", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_edge_rejects_key"), ["key"], unique=False)
        batch_op.create_index(batch_op.f("ix_edge_rejects_received_at"), ["received_at"], unique=False)

    op.create_table(
        "edge_messages",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(length=512), nullable=False),
        sa.Column("robot", sa.String(length=64), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("received_at", sa.DateTime(), nullable=False),
        sa.Column("capture_id", sa.Integer(), nullable=True),
        sa.Column("body", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(
            ["capture_id"],
            ["captures.id"],
            name=op.f("fk_edge_messages_capture_id_captures"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_edge_messages")),
        sa.UniqueConstraint("key", name=op.f("uq_edge_messages_key")),
    )
    with op.batch_alter_table("edge_messages", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_edge_messages_capture_id"), ["capture_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_edge_messages_received_at"), ["received_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_edge_messages_robot"), ["robot"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("edge_messages", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_edge_messages_robot"))
        batch_op.drop_index(batch_op.f("ix_edge_messages_received_at"))
        batch_op.drop_index(batch_op.f("ix_edge_messages_capture_id"))

    op.drop_table("edge_messages")
    with op.batch_alter_table("edge_rejects", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_edge_rejects_received_at"))
        batch_op.drop_index(batch_op.f("ix_edge_rejects_key"))

    op.drop_table("edge_rejects")
