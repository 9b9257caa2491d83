"""reminder outcome (sent, skipped, moot); per-chat sending pace kept with the chat lease

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-06
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import storage.models

revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('reminder', schema=None) as batch_op:
        batch_op.add_column(sa.Column('outcome', sa.String(length=10), nullable=True))
    op.execute("UPDATE reminder SET outcome = 'sent' WHERE sent_at IS NOT NULL")
    with op.batch_alter_table('chat_lock', schema=None) as batch_op:
        batch_op.add_column(sa.Column('tokens', sa.Float(), nullable=True))
        batch_op.add_column(sa.Column('sent_at', storage.models.UTCDateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('chat_lock', schema=None) as batch_op:
        batch_op.drop_column('sent_at')
        batch_op.drop_column('tokens')
    with op.batch_alter_table('reminder', schema=None) as batch_op:
        batch_op.drop_column('outcome')
