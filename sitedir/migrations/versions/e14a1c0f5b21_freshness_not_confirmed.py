"""freshness: activity.not_confirmed_since (after the third unanswered reminder)

Revision ID: e14a1c0f5b21
Revises: c4d8e2f1a7b3
Create Date: 2026-12-01 21:50:00

"""
from alembic import op
import sqlalchemy as sa


revision = 'e14a1c0f5b21'
down_revision = 'c4d8e2f1a7b3'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('activity', schema=None) as batch_op:
        batch_op.add_column(sa.Column('not_confirmed_since', sa.Date(), nullable=True))


def downgrade():
    with op.batch_alter_table('activity', schema=None) as batch_op:
        batch_op.drop_column('not_confirmed_since')
