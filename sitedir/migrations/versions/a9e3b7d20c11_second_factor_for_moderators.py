"""second factor for every privileged account: encrypted TOTP secrets, used-step, recovery codes

Revision ID: a9e3b7d20c11
Revises: b10d7e8f9a01
Create Date: 2026-12-01 22:10:00

"""
from alembic import op
import sqlalchemy as sa


revision = 'a9e3b7d20c11'
down_revision = 'b10d7e8f9a01'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('manage_user', schema=None) as batch_op:
        # Fernet tokens are longer than the plain base32 secret.
        batch_op.alter_column('totp_secret', existing_type=sa.String(length=64),
                              type_=sa.String(length=255), existing_nullable=False)
        batch_op.add_column(sa.Column('totp_last_step', sa.Integer(), nullable=True))
    op.create_table('manage_recovery_code',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('code_hash', sa.String(length=64), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('used_at', sa.DateTime(), nullable=True),
    sa.ForeignKeyConstraint(['user_id'], ['manage_user.id'],
                            name=op.f('fk_manage_recovery_code_user_id_manage_user'),
                            ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_manage_recovery_code')),
    sa.UniqueConstraint('code_hash', name=op.f('uq_manage_recovery_code_code_hash'))
    )
    with op.batch_alter_table('manage_recovery_code', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_manage_recovery_code_user_id'), ['user_id'],
                              unique=False)


def downgrade():
    with op.batch_alter_table('manage_recovery_code', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_manage_recovery_code_user_id'))
    op.drop_table('manage_recovery_code')
    with op.batch_alter_table('manage_user', schema=None) as batch_op:
        batch_op.drop_column('totp_last_step')
        batch_op.alter_column('totp_secret', existing_type=sa.String(length=255),
                              type_=sa.String(length=64), existing_nullable=False)
