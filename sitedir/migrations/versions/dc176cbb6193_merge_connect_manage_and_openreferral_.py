"""merge connect, manage and openreferral schema branches

Revision ID: dc176cbb6193
Revises: 5bcdd7a9b5b0, 7cc374abd20f, b7e1f0c2a9d4
Create Date: 2026-11-25 07:32:38.501379

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'dc176cbb6193'
down_revision = ('5bcdd7a9b5b0', '7cc374abd20f', 'b7e1f0c2a9d4')
branch_labels = None
depends_on = None


def upgrade():
    pass


def downgrade():
    pass
