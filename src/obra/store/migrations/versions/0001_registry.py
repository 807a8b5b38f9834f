"""Registry tables: parties, versioned registrations and their indexes, agreements, principals, sequences.

Revision ID: 0001_registry
Revises: 
Create Date: 2026-11-24 23:30:08.534684
"""
from alembic import op
import sqlalchemy as sa


revision = '0001_registry'
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:

    op.create_table('parties',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('kind', sa.String(length=20), nullable=False),
    sa.Column('name', sa.String(length=300), nullable=False),
    sa.Column('name_norm', sa.String(length=300), nullable=False),
    sa.Column('roles', sa.JSON(), nullable=False),
    sa.Column('ipi', sa.String(length=11), nullable=True),
    sa.Column('ipi_base', sa.String(length=13), nullable=True),
    sa.Column('isni', sa.String(length=16), nullable=True),
    sa.Column('country', sa.String(length=3), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('created_by', sa.String(length=100), nullable=False),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('ipi')
    )
    with op.batch_alter_table('parties', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_parties_isni'), ['isni'], unique=False)
        batch_op.create_index(batch_op.f('ix_parties_name_norm'), ['name_norm'], unique=False)

    op.create_table('registrations',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('number', sa.String(length=32), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('entity', sa.String(length=16), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('is_current', sa.Boolean(), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=True),
    sa.Column('title', sa.String(length=500), nullable=False),
    sa.Column('title_norm', sa.String(length=500), nullable=False),
    sa.Column('iswc', sa.String(length=11), nullable=True),
    sa.Column('isrc', sa.String(length=12), nullable=True),
    sa.Column('creation_mode', sa.String(length=16), nullable=False),
    sa.Column('record', sa.JSON(), nullable=False),
    sa.Column('record_hash', sa.String(length=64), nullable=False),
    sa.Column('registrant', sa.String(length=100), nullable=False),
    sa.Column('reason', sa.Text(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('number', 'version', name='uq_registration_version')
    )
    with op.batch_alter_table('registrations', schema=None) as batch_op:
        batch_op.create_index('ix_registrations_current_entity', ['is_current', 'entity'], unique=False)
        batch_op.create_index(batch_op.f('ix_registrations_is_current'), ['is_current'], unique=False)
        batch_op.create_index(batch_op.f('ix_registrations_isrc'), ['isrc'], unique=False)
        batch_op.create_index(batch_op.f('ix_registrations_iswc'), ['iswc'], unique=False)
        batch_op.create_index(batch_op.f('ix_registrations_number'), ['number'], unique=False)
        batch_op.create_index(batch_op.f('ix_registrations_title_norm'), ['title_norm'], unique=False)

    op.create_table('sequences',
    sa.Column('office', sa.String(length=8), nullable=False),
    sa.Column('year', sa.Integer(), nullable=False),
    sa.Column('next_value', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('office', 'year')
    )
    op.create_table('agreements',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('kind', sa.String(length=32), nullable=False),
    sa.Column('assignor_id', sa.Integer(), nullable=False),
    sa.Column('assignee_id', sa.Integer(), nullable=False),
    sa.Column('start', sa.Date(), nullable=False),
    sa.Column('end', sa.Date(), nullable=True),
    sa.Column('record', sa.JSON(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('created_by', sa.String(length=100), nullable=False),
    sa.ForeignKeyConstraint(['assignee_id'], ['parties.id'], ),
    sa.ForeignKeyConstraint(['assignor_id'], ['parties.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('agreements', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_agreements_assignee_id'), ['assignee_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_agreements_assignor_id'), ['assignor_id'], unique=False)

    op.create_table('contributors',
    sa.Column('registration_id', sa.Integer(), nullable=False),
    sa.Column('party_id', sa.Integer(), nullable=False),
    sa.Column('role', sa.String(length=32), nullable=False),
    sa.ForeignKeyConstraint(['party_id'], ['parties.id'], ),
    sa.ForeignKeyConstraint(['registration_id'], ['registrations.id'], )
    )
    with op.batch_alter_table('contributors', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_contributors_party_id'), ['party_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_contributors_registration_id'), ['registration_id'], unique=False)

    op.create_table('principals',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.Column('role', sa.String(length=32), nullable=False),
    sa.Column('party_id', sa.Integer(), nullable=True),
    sa.Column('token_hash', sa.String(length=64), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['party_id'], ['parties.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('name'),
    sa.UniqueConstraint('token_hash')
    )
    op.create_table('recording_works',
    sa.Column('registration_id', sa.Integer(), nullable=False),
    sa.Column('work_number', sa.String(length=32), nullable=False),
    sa.ForeignKeyConstraint(['registration_id'], ['registrations.id'], )
    )
    with op.batch_alter_table('recording_works', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_recording_works_registration_id'), ['registration_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_recording_works_work_number'), ['work_number'], unique=False)

    op.create_table('shares',
    sa.Column('registration_id', sa.Integer(), nullable=False),
    sa.Column('party_id', sa.Integer(), nullable=False),
    sa.Column('role', sa.String(length=32), nullable=True),
    sa.Column('right_type', sa.String(length=32), nullable=False),
    sa.Column('territory', sa.String(length=4), nullable=False),
    sa.Column('share', sa.Numeric(precision=7, scale=4), nullable=False),
    sa.ForeignKeyConstraint(['party_id'], ['parties.id'], ),
    sa.ForeignKeyConstraint(['registration_id'], ['registrations.id'], )
    )
    with op.batch_alter_table('shares', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_shares_party_id'), ['party_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_shares_registration_id'), ['registration_id'], unique=False)

    op.create_table('titles',
    sa.Column('registration_id', sa.Integer(), nullable=False),
    sa.Column('title', sa.String(length=500), nullable=False),
    sa.Column('title_norm', sa.String(length=500), nullable=False),
    sa.ForeignKeyConstraint(['registration_id'], ['registrations.id'], )
    )
    with op.batch_alter_table('titles', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_titles_registration_id'), ['registration_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_titles_title_norm'), ['title_norm'], unique=False)




def downgrade() -> None:

    with op.batch_alter_table('titles', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_titles_title_norm'))
        batch_op.drop_index(batch_op.f('ix_titles_registration_id'))

    op.drop_table('titles')
    with op.batch_alter_table('shares', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_shares_registration_id'))
        batch_op.drop_index(batch_op.f('ix_shares_party_id'))

    op.drop_table('shares')
    with op.batch_alter_table('recording_works', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_recording_works_work_number'))
        batch_op.drop_index(batch_op.f('ix_recording_works_registration_id'))

    op.drop_table('recording_works')
    op.drop_table('principals')
    with op.batch_alter_table('contributors', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_contributors_registration_id'))
        batch_op.drop_index(batch_op.f('ix_contributors_party_id'))

    op.drop_table('contributors')
    with op.batch_alter_table('agreements', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_agreements_assignor_id'))
        batch_op.drop_index(batch_op.f('ix_agreements_assignee_id'))

    op.drop_table('agreements')
    op.drop_table('sequences')
    with op.batch_alter_table('registrations', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_registrations_title_norm'))
        batch_op.drop_index(batch_op.f('ix_registrations_number'))
        batch_op.drop_index(batch_op.f('ix_registrations_iswc'))
        batch_op.drop_index(batch_op.f('ix_registrations_isrc'))
        batch_op.drop_index(batch_op.f('ix_registrations_is_current'))
        batch_op.drop_index('ix_registrations_current_entity')

    op.drop_table('registrations')
    with op.batch_alter_table('parties', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_parties_name_norm'))
        batch_op.drop_index(batch_op.f('ix_parties_isni'))

    op.drop_table('parties')

