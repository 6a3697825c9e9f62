"""Security: session versions, login throttling, range checks on stored numbers.

Revision ID: 0005_security
Revises: 0004_accounts
Create Date: 2026-11-23
"""
from __future__ import annotations

import sqlalchemy as sa

from alembic import op

revision = "0005_security"
down_revision = "0004_accounts"
branch_labels = None
depends_on = None

# WGS84 points of the directory: real coordinates only (NaN compares greater than
# every number in PostgreSQL, so BETWEEN also refuses it), within France's territories
# (overseas included: from the Kerguelen, -50°, to Dunkirk, 51°).
_POINT_OK = ("point IS NULL OR (ST_X(point) BETWEEN -180 AND 180 "
             "AND ST_Y(point) BETWEEN -60 AND 55)")
# Antenna points are Lambert-93 metres: finite and within a generous box of France.
_ANTENNA_POINT_OK = ("point IS NULL OR (ST_X(point) BETWEEN -400000 AND 1600000 "
                     "AND ST_Y(point) BETWEEN 5900000 AND 7300000)")
_COORDINATORS_OK = "coordinators IS NULL OR (coordinators >= 0 AND coordinators <= 1000)"


def upgrade() -> None:
    # A session cookie carries the version it was issued under: logout and a password
    # change bump it, so that a copied cookie stops working.
    op.add_column("users", sa.Column("session_version", sa.Integer, nullable=False,
                                     server_default="0"))
    op.create_table(
        "login_failures",
        sa.Column("id", sa.BigInteger, primary_key=True),
        sa.Column("email", sa.String(200), nullable=False),
        sa.Column("ip", sa.String(64), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False,
                  server_default=sa.func.now()),
    )
    op.create_index("ix_login_failures_email_at", "login_failures", ["email", "at"])
    op.create_index("ix_login_failures_ip_at", "login_failures", ["ip", "at"])
    # Rows written before these checks existed: drop the impossible values first.
    op.execute(f"UPDATE structures SET point = NULL WHERE NOT ({_POINT_OK})")  # noqa: S608 - constants
    op.execute(f"UPDATE plan_antennas SET point = NULL WHERE NOT ({_ANTENNA_POINT_OK})")  # noqa: S608 - constants
    op.execute(f"UPDATE plan_antennas SET coordinators = NULL WHERE NOT ({_COORDINATORS_OK})")  # noqa: S608 - constants
    op.create_check_constraint("structures_point_range", "structures", _POINT_OK)
    op.create_check_constraint("antennas_point_range", "plan_antennas", _ANTENNA_POINT_OK)
    op.create_check_constraint("antennas_coordinators_range", "plan_antennas", _COORDINATORS_OK)


def downgrade() -> None:
    op.drop_constraint("antennas_coordinators_range", "plan_antennas")
    op.drop_constraint("antennas_point_range", "plan_antennas")
    op.drop_constraint("structures_point_range", "structures")
    op.drop_table("login_failures")
    op.drop_column("users", "session_version")
