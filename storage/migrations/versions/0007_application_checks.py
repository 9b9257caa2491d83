"""application approval checks and work claims

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-29
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import storage.models

revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('application', schema=None) as batch_op:
        batch_op.add_column(sa.Column('check_at', storage.models.UTCDateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('busy_until', storage.models.UTCDateTime(timezone=True), nullable=True))
        batch_op.create_index('ix_application_check', ['check_at'], unique=False,
                              sqlite_where=sa.text('check_at IS NOT NULL'),
                              postgresql_where=sa.text('check_at IS NOT NULL'))
        batch_op.create_index('ix_application_busy', ['busy_until'], unique=False,
                              sqlite_where=sa.text('busy_until IS NOT NULL'),
                              postgresql_where=sa.text('busy_until IS NOT NULL'))


def downgrade() -> None:
    with op.batch_alter_table('application', schema=None) as batch_op:
        batch_op.drop_index('ix_application_busy', sqlite_where=sa.text('busy_until IS NOT NULL'),
                            postgresql_where=sa.text('busy_until IS NOT NULL'))
        batch_op.drop_index('ix_application_check', sqlite_where=sa.text('check_at IS NOT NULL'),
                            postgresql_where=sa.text('check_at IS NOT NULL'))
        batch_op.drop_column('busy_until')
        batch_op.drop_column('check_at')
