"""Accounts and roles. Passwords are hashed with werkzeug (scrypt), never stored."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import text
from sqlalchemy.engine import Connection
from werkzeug.security import check_password_hash, generate_password_hash

from geo.errors import MaillageError

ROLES = {
    "editeur": "éditeur de l'annuaire",
    "promoteur": "promoteur d'une candidature DAC",
    "ars": "agence régionale de santé",
    "admin": "administrateur",
}
MIN_PASSWORD = 10


@dataclass(frozen=True)
class User:
    id: int
    email: str
    name: str | None
    role: str
    departement: str | None

    @property
    def display_name(self) -> str:
        return self.name or self.email


def add_user(conn: Connection, *, email: str, password: str, role: str,
             departement: str | None = None, name: str | None = None) -> int:
    """Create a user; ``promoteur`` and ``ars`` accounts belong to a département."""
    email = email.strip().lower()
    if role not in ROLES:
        raise MaillageError(f"Rôle inconnu « {role} » : {', '.join(ROLES)}.")
    if "@" not in email:
        raise MaillageError(f"Adresse électronique invalide « {email} ».")
    if len(password) < MIN_PASSWORD:
        raise MaillageError(f"Le mot de passe doit compter au moins {MIN_PASSWORD} caractères.")
    if role in {"promoteur", "ars"} and not departement:
        raise MaillageError(f"Un compte « {role} » doit indiquer son département (--dept).")
    if conn.execute(text("SELECT 1 FROM users WHERE email = :e"), {"e": email}).first():
        raise MaillageError(f"Un compte existe déjà pour « {email} ».")
    return int(conn.execute(text(
        "INSERT INTO users (email, name, password_hash, role, departement) "
        "VALUES (:e, :n, :h, :r, :d) RETURNING id"),
        {"e": email, "n": name, "h": generate_password_hash(password), "r": role,
         "d": departement}).scalar_one())


def authenticate(conn: Connection, *, email: str, password: str) -> User | None:
    row = conn.execute(text("SELECT * FROM users WHERE email = :e AND active"),
                       {"e": email.strip().lower()}).mappings().one_or_none()
    if row is None or not check_password_hash(row["password_hash"], password):
        return None
    return _user(row)


def get_user(conn: Connection, user_id: int) -> User | None:
    row = conn.execute(text("SELECT * FROM users WHERE id = :i AND active"),
                       {"i": user_id}).mappings().one_or_none()
    return None if row is None else _user(row)


def _user(row: Any) -> User:
    return User(id=row["id"], email=row["email"], name=row["name"], role=row["role"],
                departement=row["departement"])


def can_access_plan(user: User | None, *, owner_id: int | None, plan_dept: str) -> bool:
    """A promoter sees their own plans; the ARS every plan of its département."""
    if user is None:
        return False
    if user.role == "admin":
        return True
    if user.role == "ars":
        return user.departement == plan_dept
    if user.role == "promoteur":
        return owner_id == user.id
    return False


def record_audit(conn: Connection, *, user: User, action: str, entity: str, entity_id: str,
                 before: dict[str, Any] | None, after: dict[str, Any] | None) -> None:
    import json

    conn.execute(text(
        "INSERT INTO audit_log (user_id, user_email, action, entity, entity_id, before, after) "
        "VALUES (:u, :e, :a, :en, :id, CAST(:b AS json), CAST(:af AS json))"),
        {"u": user.id, "e": user.email, "a": action, "en": entity, "id": entity_id,
         "b": json.dumps(before, default=str, ensure_ascii=False) if before else None,
         "af": json.dumps(after, default=str, ensure_ascii=False) if after else None})
