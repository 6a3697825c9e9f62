"""Accounts and roles. Passwords are hashed with werkzeug (scrypt), never stored.

Roles: ``editeur`` (edits the directory), ``promoteur`` (drafts the coverage plans of
a DAC candidacy), ``ars`` (reviews the candidacies of its département), ``admin``.
``promoteur`` and ``ars`` accounts belong to one département.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from functools import cache
from typing import Any

import sqlalchemy as sa
from sqlalchemy import func, insert, select
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Mapped, Session, mapped_column
from werkzeug.security import check_password_hash, generate_password_hash

from geo.db import Base
from geo.errors import MaillageError
from web.audit import record as record_audit  # noqa: F401  (kept for existing callers)
from web.roles import DEPARTEMENT_ROLES, ROLE_NAMES, ROLES  # noqa: F401  (light module: the CLI parser)

MIN_PASSWORD = 10


@cache
def _dummy_hash() -> str:
    # Checked when the e-mail is unknown, so that a wrong address costs as much time as
    # a wrong password (no account enumeration by timing). Built lazily: scrypt is slow.
    return generate_password_hash("compte-inexistant")


class Organisation(Base):
    """A promoter's organisation (structure porteuse, ``0007_candidacies``); SIRET optional.

    Its members share their plans, and a candidacy is submitted in its name.
    """

    __tablename__ = "organisations"
    __table_args__ = (
        sa.CheckConstraint("siret IS NULL OR siret ~ '^[0-9]{14}$'", name="organisations_siret"),
    )

    id: Mapped[int] = mapped_column(sa.Integer, primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(200), unique=True)
    siret: Mapped[str | None] = mapped_column(sa.String(14))
    created_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True),
                                                 server_default=sa.func.now())


class Account(Base):
    """Row of the ``users`` table (created by the ``0004_accounts`` migration)."""

    __tablename__ = "users"
    __table_args__ = (
        sa.CheckConstraint("role IN ('editeur', 'promoteur', 'ars', 'admin')", name="users_role"),
    )

    id: Mapped[int] = mapped_column(sa.Integer, primary_key=True)
    email: Mapped[str] = mapped_column(sa.String(200), unique=True)
    name: Mapped[str | None] = mapped_column(sa.String(200))
    password_hash: Mapped[str] = mapped_column(sa.String(300))
    role: Mapped[str] = mapped_column(sa.String(20))
    departement: Mapped[str | None] = mapped_column(sa.String(3),
                                                    sa.ForeignKey("departements.code"))
    active: Mapped[bool] = mapped_column(sa.Boolean, server_default=sa.true())
    session_version: Mapped[int] = mapped_column(sa.Integer, server_default="0")
    organisation_id: Mapped[int | None] = mapped_column(
        sa.Integer, sa.ForeignKey("organisations.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True),
                                                 server_default=sa.func.now())


@dataclass(frozen=True)
class User:
    """The signed-in user as the pages see it (``flask.g.user``); never the hash."""

    id: int
    email: str
    name: str | None
    role: str
    departement: str | None
    session_version: int = 0
    organisation_id: int | None = None
    organisation: str | None = None

    @property
    def signature(self) -> str:
        """« Person (organisation) », as « déposé par » shows it."""
        if self.organisation:
            return f"{self.display_name} ({self.organisation})"
        return self.display_name

    @property
    def display_name(self) -> str:
        return self.name or self.email

    @property
    def role_label(self) -> str:
        return ROLES.get(self.role, self.role)

    @property
    def role_name(self) -> str:
        """The role in words for the page header: « Promoteur », « ARS »…"""
        return ROLE_NAMES.get(self.role, self.role_label)


def ensure_organisation(session: Session | Connection, name: str, *,
                        siret: str | None = None) -> int:
    """The id of the organisation called ``name``, created when it does not exist.

    Raises
    ------
    MaillageError
        Empty or over-long name, a SIRET that is not 14 digits, or a SIRET that differs
        from the one already recorded for this organisation.
    """
    name = " ".join((name or "").split())
    if not name or len(name) > 200:
        raise MaillageError("Nom d'organisation vide ou trop long (200 caractères au plus).")
    if siret is not None:
        siret = siret.replace(" ", "")
        if not (len(siret) == 14 and siret.isdigit()):
            raise MaillageError(f"SIRET invalide « {siret} » : 14 chiffres attendus.")
    row = session.execute(select(Organisation.id, Organisation.siret)
                          .where(func.lower(Organisation.name) == name.lower())).first()
    if row is not None:
        if siret and row.siret and row.siret != siret:
            raise MaillageError(f"L'organisation « {name} » a déjà le SIRET {row.siret}.")
        if siret and not row.siret:
            session.execute(sa.update(Organisation).where(Organisation.id == row.id)
                            .values(siret=siret))
        return int(row.id)
    return int(session.execute(insert(Organisation).values(name=name, siret=siret)
                               .returning(Organisation.id)).scalar_one())


def add_user(session: Session | Connection, *, email: str, password: str, role: str,
             departement: str | None = None, name: str | None = None,
             organisation: str | None = None, siret: str | None = None) -> int:
    """Create an account and return its id.

    Parameters
    ----------
    session
        Session or connection; the caller commits.
    email
        Login, stored lower-case; must be unique.
    password
        Clear-text password (at least :data:`MIN_PASSWORD` characters); only its
        scrypt hash is stored.
    role
        One of :data:`ROLES`.
    departement
        Département code, required for ``promoteur`` and ``ars``; it must be loaded
        in the communes reference.
    name
        Display name (shown as text, never as markup).
    organisation, siret
        The promoter's organisation (created when new) and its optional SIRET; only a
        ``promoteur`` account belongs to one.

    Raises
    ------
    MaillageError
        Unknown role, invalid e-mail, short password, missing or unknown département,
        or an account that already exists.
    """
    email = email.strip().lower()
    if role not in ROLES:
        raise MaillageError(f"Rôle inconnu « {role} » : {', '.join(ROLES)}.")
    if "@" not in email or email.startswith("@") or email.endswith("@") or " " in email:
        raise MaillageError(f"Adresse électronique invalide « {email} ».")
    if len(password) < MIN_PASSWORD:
        raise MaillageError(f"Le mot de passe doit compter au moins {MIN_PASSWORD} caractères.")
    if role in DEPARTEMENT_ROLES and not departement:
        raise MaillageError(f"Un compte « {role} » doit indiquer son département (--dept).")
    if departement:
        # Imported here: geo.communes pulls geopandas, which Alembic (importing this
        # module for the metadata) does not need.
        from geo.communes import check_dept_code

        departement = check_dept_code(departement)
        known = session.execute(sa.text("SELECT 1 FROM departements WHERE code = :d"),
                                {"d": departement}).first()
        if known is None:
            raise MaillageError(f"Département {departement} inconnu : chargez d'abord ses "
                                f"communes (maillage communes load --dept {departement}).")
    taken = session.execute(select(Account.id).where(Account.email == email)).first()
    if taken is not None:
        raise MaillageError(f"Un compte existe déjà pour « {email} ».")
    organisation_id = None
    if organisation:
        if role != "promoteur":
            raise MaillageError("Seul un compte « promoteur » appartient à une organisation.")
        organisation_id = ensure_organisation(session, organisation, siret=siret)
    new_id = session.execute(
        insert(Account).values(email=email, name=(name or "").strip() or None,
                               password_hash=generate_password_hash(password), role=role,
                               departement=departement, organisation_id=organisation_id)
        .returning(Account.id)).scalar_one()
    return int(new_id)


def _accounts() -> Any:
    """``users`` rows with the name of their organisation."""
    return (select(Account.__table__, Organisation.name.label("organisation"))
            .outerjoin(Organisation, Organisation.id == Account.organisation_id))


def authenticate(session: Session | Connection, *, email: str, password: str) -> User | None:
    """The active user with this e-mail and password, else ``None``."""
    row = session.execute(_accounts().where(
        Account.email == email.strip().lower(), Account.active)).mappings().one_or_none()
    if row is None:
        check_password_hash(_dummy_hash(), password)
        return None
    if not check_password_hash(row["password_hash"], password):
        return None
    return _user(row)


def get_user(session: Session | Connection, user_id: int) -> User | None:
    """The active user with this id, else ``None`` (deactivated accounts are signed out)."""
    row = session.execute(_accounts().where(
        Account.id == user_id, Account.active)).mappings().one_or_none()
    return None if row is None else _user(row)


def list_users(session: Session | Connection) -> list[User]:
    """Every active account, by role then e-mail."""
    rows = session.execute(_accounts().where(Account.active)
                           .order_by(Account.role, func.lower(Account.email))).mappings().all()
    return [_user(r) for r in rows]


def _user(row: Any) -> User:
    return User(id=row["id"], email=row["email"], name=row["name"], role=row["role"],
                departement=row["departement"], session_version=row["session_version"],
                organisation_id=row["organisation_id"], organisation=row["organisation"])


def end_sessions(session: Session | Connection, user_id: int) -> None:
    """Invalidate every session cookie issued to this user (logout, password change)."""
    session.execute(sa.update(Account).where(Account.id == user_id)
                    .values(session_version=Account.session_version + 1))


def set_password(session: Session | Connection, *, email: str, password: str) -> None:
    """Change a password and sign the account out everywhere."""
    if len(password) < MIN_PASSWORD:
        raise MaillageError(f"Le mot de passe doit compter au moins {MIN_PASSWORD} caractères.")
    row = session.execute(select(Account.id).where(Account.email == email.strip().lower())).first()
    if row is None:
        raise MaillageError(f"Aucun compte pour « {email} ».")
    session.execute(sa.update(Account).where(Account.id == row[0])
                    .values(password_hash=generate_password_hash(password)))
    end_sessions(session, int(row[0]))


def can_access_plan(user: User | None, *, owner_id: int | None, plan_dept: str,
                    organisation_id: int | None = None, submitted: bool = False) -> bool:
    """Whether ``user`` may open a plan.

    A promoter sees their own plans and those of their organisation; the ARS only the
    plans of its département that were submitted as a candidacy (drafts stay private to
    the promoter's organisation); an admin everything; an editor or an anonymous visitor
    none.
    """
    if user is None:
        return False
    if user.role == "admin":
        return True
    if user.role == "ars":
        return submitted and user.departement is not None and user.departement == plan_dept
    if user.role == "promoteur":
        if owner_id is not None and owner_id == user.id:
            return True
        return organisation_id is not None and organisation_id == user.organisation_id
    return False
