"""imports: venue.placed_from, external_record.unmapped_terms, old_slug redirects

Revision ID: c4d8e2f1a7b3
Revises: 3f9a2c7d1e05
Create Date: 2026-12-01 22:30:00

"""
from alembic import op
import sqlalchemy as sa


revision = 'c4d8e2f1a7b3'
down_revision = '3f9a2c7d1e05'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('venue', schema=None) as batch_op:
        batch_op.add_column(sa.Column('placed_from', sa.String(length=20), nullable=False,
                                      server_default=''))
    with op.batch_alter_table('external_record', schema=None) as batch_op:
        batch_op.add_column(sa.Column('unmapped_terms', sa.JSON(), nullable=False,
                                      server_default='[]'))
    op.create_table('old_slug',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=20), nullable=False),
    sa.Column('slug', sa.String(length=120), nullable=False),
    sa.Column('uuid', sa.String(length=36), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_old_slug')),
    sa.UniqueConstraint('kind', 'slug', name=op.f('uq_old_slug_kind'))
    )
    with op.batch_alter_table('old_slug', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_old_slug_uuid'), ['uuid'], unique=False)


def downgrade():
    with op.batch_alter_table('old_slug', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_old_slug_uuid'))
    op.drop_table('old_slug')
    with op.batch_alter_table('external_record', schema=None) as batch_op:
        batch_op.drop_column('unmapped_terms')
    with op.batch_alter_table('venue', schema=None) as batch_op:
        batch_op.drop_column('placed_from')
