"""vocabulary_group: the words people use, from content/vocabulary.yaml

Revision ID: 9d41c6e2b8a7
Revises: e13a5c0f2b71
Create Date: 2026-12-01 21:40:00

"""
from alembic import op
import sqlalchemy as sa


revision = '9d41c6e2b8a7'
down_revision = 'e13a5c0f2b71'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('vocabulary_group',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('words', sa.JSON(), nullable=False),
    sa.Column('related', sa.JSON(), nullable=False),
    sa.Column('categories', sa.JSON(), nullable=False),
    sa.Column('helps', sa.JSON(), nullable=False),
    sa.Column('access', sa.JSON(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_vocabulary_group')),
    sa.UniqueConstraint('position', name=op.f('uq_vocabulary_group_position'))
    )


def downgrade():
    op.drop_table('vocabulary_group')
