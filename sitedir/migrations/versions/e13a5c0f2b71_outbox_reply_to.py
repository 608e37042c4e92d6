"""outbox_email.reply_to: the connector's address for the person's reply (opt-in)

Revision ID: e13a5c0f2b71
Revises: f86d91d1f28c
Create Date: 2026-12-01 22:15:00

"""
from alembic import op
import sqlalchemy as sa


revision = 'e13a5c0f2b71'
down_revision = 'f86d91d1f28c'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('outbox_email', schema=None) as batch_op:
        batch_op.add_column(sa.Column('reply_to', sa.String(length=254), nullable=True))


def downgrade():
    with op.batch_alter_table('outbox_email', schema=None) as batch_op:
        batch_op.drop_column('reply_to')
