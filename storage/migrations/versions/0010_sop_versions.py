"""the SOP as a file: the versions the bot has run (sop_version), and the version each request runs under

Requests recorded before this migration ran under SOP 038 as the code held it; they get that
version, computed here from the frozen copy of the document (storage/migrations/sop-038-rev0.yaml),
which equals sop/kota-bogor-038.yaml as shipped with this migration. A later revision of the shipped
file is a new version for new requests only.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-07
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import sqlalchemy as sa
from alembic import op

import storage.models

revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None

FROZEN = Path(__file__).resolve().parents[1] / "sop-038-rev0.yaml"


def upgrade() -> None:
    op.create_table(
        'sop_version',
        sa.Column('version', sa.String(length=16), nullable=False),
        sa.Column('number', sa.String(length=40), nullable=False),
        sa.Column('revision', sa.Integer(), nullable=False),
        sa.Column('document', sa.Text(), nullable=False),
        sa.Column('source', sa.String(length=255), nullable=False),
        sa.Column('first_loaded_at', storage.models.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint('version', name=op.f('pk_sop_version')),
    )
    with op.batch_alter_table('request', schema=None) as batch_op:
        batch_op.add_column(sa.Column('sop_version', sa.String(length=16), nullable=True))
    conn = op.get_bind()
    request = sa.table('request', sa.column('sop_version'))
    if conn.execute(sa.select(sa.func.count()).select_from(request)).scalar():
        from workflow.sopdoc import load

        sop = load(FROZEN)
        versions = sa.table('sop_version', sa.column('version'), sa.column('number'), sa.column('revision'),
                            sa.column('document'), sa.column('source'),
                            sa.column('first_loaded_at', storage.models.TS))
        conn.execute(sa.insert(versions).values(
            version=sop.version, number=sop.identity.number, revision=sop.revision, document=sop.to_json(),
            source="migration 0010 (SOP 038 as the bot ran it before)", first_loaded_at=datetime.now(UTC)))
        conn.execute(sa.update(request).where(request.c.sop_version.is_(None)).values(sop_version=sop.version))


def downgrade() -> None:
    with op.batch_alter_table('request', schema=None) as batch_op:
        batch_op.drop_column('sop_version')
    op.drop_table('sop_version')
