"""name keys long enough for any 200-character name's case folding

A name is at most 200 characters, but its case folding (the key that makes names unique
whatever their case) can be longer: "ß" folds to "ss", "ﬃ" to "ffi"; no character folds to
more than three. PostgreSQL enforces VARCHAR lengths, so the keys there become VARCHAR(600).
SQLite does not enforce them: its tables are left as they are rather than rebuilt.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-25
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

TABLES = ("clients", "plans", "addon_packs")


def upgrade() -> None:
    _resize_keys(200, 600)


def downgrade() -> None:
    _resize_keys(600, 200)


def _resize_keys(length: int, new_length: int) -> None:
    if op.get_context().dialect.name != "postgresql":
        return
    for table in TABLES:
        op.alter_column(table, "name_key", type_=sa.String(new_length),
                        existing_type=sa.String(length), existing_nullable=False)
