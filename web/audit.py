"""Audit log of the changes made through the web app (who, when, before, after).

The table is created by the ``0004_accounts`` migration; the model mirrors it so that
Alembic's autogenerate sees it.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any, Protocol

import sqlalchemy as sa
from sqlalchemy import insert, select
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Mapped, Session, mapped_column

from geo.db import Base


class Actor(Protocol):
    """What the log needs to know of the user who made the change."""

    @property
    def id(self) -> int: ...

    @property
    def email(self) -> str: ...


class AuditEntry(Base):
    """One change: action on an entity, with the values before and after."""

    __tablename__ = "audit_log"
    __table_args__ = (sa.Index("ix_audit_log_entity", "entity", "entity_id"),)

    id: Mapped[int] = mapped_column(sa.Integer, primary_key=True)
    at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True), server_default=sa.func.now())
    user_id: Mapped[int | None] = mapped_column(
        sa.Integer, sa.ForeignKey("users.id", ondelete="SET NULL"))
    # The e-mail is copied so that the log still names the author of a deleted account.
    user_email: Mapped[str] = mapped_column(sa.String(200))
    action: Mapped[str] = mapped_column(sa.String(40))
    entity: Mapped[str] = mapped_column(sa.String(40))
    entity_id: Mapped[str] = mapped_column(sa.String(100))
    before: Mapped[Any | None] = mapped_column(sa.JSON)
    after: Mapped[Any | None] = mapped_column(sa.JSON)


def _jsonable(values: dict[str, Any] | None) -> dict[str, Any] | None:
    # Dates and decimals become strings: the log must never refuse a change.
    if values is None:
        return None
    return dict(json.loads(json.dumps(values, default=str, ensure_ascii=False)))


def record(session: Session | Connection, *, user: Actor, action: str, entity: str,
           entity_id: str | int, before: dict[str, Any] | None,
           after: dict[str, Any] | None) -> None:
    """Append one entry to the audit log, inside the caller's transaction.

    Parameters
    ----------
    session
        Session or connection whose transaction also holds the change itself, so that
        the change and its trace are committed (or rolled back) together.
    user
        Author of the change (``id`` and ``email``).
    action
        What was done, e.g. ``"modification"``, ``"suppression"``.
    entity, entity_id
        Kind and identifier of the changed object, e.g. ``"structure"``, ``"1234"``.
    before, after
        Field values before and after the change (``None`` for a creation/deletion).
    """
    session.execute(insert(AuditEntry).values(
        user_id=user.id, user_email=user.email, action=action, entity=entity,
        entity_id=str(entity_id), before=_jsonable(before), after=_jsonable(after)))


def history(session: Session | Connection, *, entity: str, entity_id: str | int,
            limit: int = 50) -> list[dict[str, Any]]:
    """The latest entries of one object, newest first."""
    rows = session.execute(
        select(AuditEntry.__table__).where(AuditEntry.entity == entity,
                                           AuditEntry.entity_id == str(entity_id))
        .order_by(AuditEntry.at.desc(), AuditEntry.id.desc()).limit(limit)).mappings().all()
    return [dict(r) for r in rows]
