"""local_place: neighbourhood and village names from content/places.yaml

Revision ID: 3f9a2c7d1e05
Revises: dc176cbb6193
Create Date: 2026-11-25 07:55:00

"""
from alembic import op
import sqlalchemy as sa


revision = '3f9a2c7d1e05'
down_revision = 'dc176cbb6193'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('local_place',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=120), nullable=False),
    sa.Column('key', sa.String(length=120), nullable=False),
    sa.Column('latitude', sa.Double(), nullable=False),
    sa.Column('longitude', sa.Double(), nullable=False),
    sa.Column('area', sa.String(length=120), nullable=False),
    sa.Column('postcode_sectors', sa.JSON(), nullable=False),
    sa.Column('also_known_as', sa.JSON(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_local_place')),
    sa.UniqueConstraint('key', name=op.f('uq_local_place_key'))
    )


def downgrade():
    op.drop_table('local_place')
