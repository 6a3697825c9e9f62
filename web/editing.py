"""Writing an edit of a structure's card, and « Marquer comme vérifiée ».

Saving never stamps the card as verified: verifying is an explicit act of the editor
(:func:`mark_verified`). After an edit the search text is rebuilt by the one index
builder (:func:`directory.store.reindex_structure`). Both are logged in the audit log,
in the same transaction as the change.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy import text
from sqlalchemy.engine import Connection

from directory.edits import FIELDS
from directory.store import reindex_structure
from web.audit import Actor
from web.audit import record as record_audit


def apply_edit(conn: Connection, *, structure_id: int, values: dict[str, Any], user: Actor,
               before: dict[str, Any]) -> dict[str, tuple[Any, Any]]:
    """Write the changed fields, rebuild the search text, log the change.

    Returns
    -------
    dict
        ``{field: (before, after)}`` for the fields that changed (empty: nothing saved).
    """
    changed = {k: (before.get(k), v) for k, v in values.items()
               if k in FIELDS and _comparable(before.get(k)) != _comparable(v)}
    if not changed:
        return {}
    sets = ", ".join(f"{k} = :{k}" for k in changed)  # keys are FIELDS names (constants)
    conn.execute(text(f"UPDATE structures SET {sets}, updated_at = now() WHERE id = :id"),  # noqa: S608
                 {**{k: v for k, (_b, v) in changed.items()}, "id": structure_id})
    reindex_structure(conn, structure_id)
    record_audit(conn, user=user, action="modification", entity="structure",
                 entity_id=str(structure_id), before={k: b for k, (b, _a) in changed.items()},
                 after={k: a for k, (_b, a) in changed.items()})
    return changed


def _comparable(value: Any) -> str:
    if value is None:
        return ""
    return value.isoformat() if isinstance(value, date) else str(value)


def mark_verified(conn: Connection, *, structure_id: int, user: Actor, today: date | None = None
                  ) -> None:
    """« Marquer comme vérifiée » : the editor checked the card today (logged)."""
    day = today or date.today()
    previous = conn.execute(text("SELECT last_verified FROM structures WHERE id = :id"),
                            {"id": structure_id}).scalar()
    conn.execute(text("UPDATE structures SET last_verified = :d WHERE id = :id"),
                 {"d": day, "id": structure_id})
    record_audit(conn, user=user, action="verification", entity="structure",
                 entity_id=str(structure_id), before={"last_verified": previous},
                 after={"last_verified": day})
