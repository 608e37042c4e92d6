"""change log read by every node: index_node registry, change_log_horizon, no processed_at

Revision ID: a10c4e5d6f70
Revises: 9d41c6e2b8a7
Create Date: 2026-12-01 21:40:00

"""
from alembic import op
import sqlalchemy as sa


revision = 'a10c4e5d6f70'
down_revision = '9d41c6e2b8a7'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('index_node',
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('oldest_gap', sa.Integer(), nullable=True),
    sa.Column('lag_seconds', sa.Numeric(precision=10, scale=3, asdecimal=False), nullable=False),
    sa.Column('last_seen', sa.DateTime(), nullable=False),
    sa.PrimaryKeyConstraint('name', name=op.f('pk_index_node'))
    )
    op.create_table('change_log_horizon',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('pruned_through', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_change_log_horizon'))
    )
    # The shared "processed" flag let the first node's indexer take a change from every other.
    with op.batch_alter_table('listing_change', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_listing_change_processed_at'))
        batch_op.drop_column('processed_at')


def downgrade():
    with op.batch_alter_table('listing_change', schema=None) as batch_op:
        batch_op.add_column(sa.Column('processed_at', sa.DateTime(), nullable=True))
        batch_op.create_index(batch_op.f('ix_listing_change_processed_at'), ['processed_at'],
                              unique=False)
    op.drop_table('change_log_horizon')
    op.drop_table('index_node')
