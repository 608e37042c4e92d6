"""outbox_email.claimed_by: which sender holds a claim, so a dead one's is taken back at once

Revision ID: b10d7e8f9a01
Revises: a10c4e5d6f70
Create Date: 2026-12-01 22:10:00

"""
from alembic import op
import sqlalchemy as sa


revision = 'b10d7e8f9a01'
down_revision = 'a10c4e5d6f70'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('outbox_email', schema=None) as batch_op:
        batch_op.add_column(sa.Column('claimed_by', sa.String(length=120), nullable=True))


def downgrade():
    with op.batch_alter_table('outbox_email', schema=None) as batch_op:
        batch_op.drop_column('claimed_by')
