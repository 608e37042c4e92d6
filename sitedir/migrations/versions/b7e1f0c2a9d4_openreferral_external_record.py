"""openreferral: external_record maps imported feed ids to our uuids

Revision ID: b7e1f0c2a9d4
Revises: 057ed8fa29c8
Create Date: 2026-11-25 07:05:00

"""
from alembic import op
import sqlalchemy as sa


revision = 'b7e1f0c2a9d4'
down_revision = '057ed8fa29c8'
branch_labels = ('openreferral',)
depends_on = None


def upgrade():
    op.create_table('external_record',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('source', sa.String(length=300), nullable=False),
    sa.Column('kind', sa.String(length=20), nullable=False),
    sa.Column('external_id', sa.String(length=200), nullable=False),
    sa.Column('local_uuid', sa.String(length=36), nullable=False),
    sa.Column('imported_at', sa.DateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_external_record')),
    sa.UniqueConstraint('source', 'kind', 'external_id', name=op.f('uq_external_record_source'))
    )
    with op.batch_alter_table('external_record', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_external_record_local_uuid'), ['local_uuid'], unique=False)


def downgrade():
    with op.batch_alter_table('external_record', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_external_record_local_uuid'))
    op.drop_table('external_record')
