"""Versions of a plan: every save of the editor, every proposal, every reference migration.

A version is an immutable snapshot (the JSON of :func:`coverage.candidacy.plan_snapshot`)
with its author, date, kind and comment (table ``plan_versions``, ``0009_plan_versions``).
Saving a version also replaces the plan's current content; a *proposal* is recorded as a
version to review and never overwrites the plan. The first save of a plan records its
state before the edit as version 1 (« état initial »), so that every change can be
compared and undone.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import (
    CheckConstraint,
    DateTime,
    ForeignKey,
    Integer,
    String,
    Text,
    UniqueConstraint,
    func,
    select,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, Session, mapped_column

import coverage.models  # noqa: F401  (the referenced table: plans)
from coverage.candidacy import plan_from_snapshot, plan_snapshot
from coverage.models import PlanRow
from coverage.plan import Plan
from coverage.store import load_plan, replace_plan_content
from geo.db import Base
from geo.errors import MaillageError

if TYPE_CHECKING:
    import geopandas as gpd

KINDS = {"initiale": "état initial", "enregistrement": "enregistrement",
         "proposition": "proposition", "migration": "migration du référentiel"}
MAX_COMMENT = 2000


class PlanVersionRow(Base):
    __tablename__ = "plan_versions"
    __table_args__ = (
        UniqueConstraint("plan_id", "number", name="plan_versions_number"),
        CheckConstraint("number >= 1", name="plan_versions_number_positive"),
        CheckConstraint("kind IN ('initiale', 'enregistrement', 'proposition', 'migration')",
                        name="plan_versions_kind"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    plan_id: Mapped[int] = mapped_column(ForeignKey("plans.id", ondelete="CASCADE"), index=True)
    number: Mapped[int] = mapped_column(Integer)
    kind: Mapped[str] = mapped_column(String(20), server_default="enregistrement")
    comment: Mapped[str | None] = mapped_column(Text)
    snapshot: Mapped[dict[str, Any]] = mapped_column(JSONB)
    author_id: Mapped[int | None] = mapped_column(Integer)
    author_name: Mapped[str] = mapped_column(String(200), server_default="")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True),
                                                 server_default=func.now())


def _info(row: PlanVersionRow) -> dict[str, Any]:
    return {"plan_id": row.plan_id, "number": row.number, "kind": row.kind,
            "kind_label": KINDS[row.kind], "comment": row.comment or "",
            "author": row.author_name, "author_id": row.author_id,
            "created_at": row.created_at.isoformat() if row.created_at else None}


def list_versions(session: Session, plan_id: int) -> list[dict[str, Any]]:
    """The versions of a plan, oldest first."""
    rows = session.execute(select(PlanVersionRow).where(PlanVersionRow.plan_id == plan_id)
                           .order_by(PlanVersionRow.number)).scalars()
    return [_info(r) for r in rows]


def get_version(session: Session, plan_id: int, number: int) -> tuple[dict[str, Any], Plan]:
    """One version and its plan.

    Raises
    ------
    MaillageError
        No such version.
    """
    row = session.execute(select(PlanVersionRow).where(
        PlanVersionRow.plan_id == plan_id, PlanVersionRow.number == number)).scalar_one_or_none()
    if row is None:
        raise MaillageError(f"Version {number} introuvable pour le plan n° {plan_id}.")
    return _info(row), plan_from_snapshot(row.snapshot)


def _add(session: Session, plan_id: int, plan: Plan, *, kind: str, comment: str | None,
         author_id: int | None, author_name: str) -> PlanVersionRow:
    last = session.execute(select(func.max(PlanVersionRow.number))
                           .where(PlanVersionRow.plan_id == plan_id)).scalar_one()
    row = PlanVersionRow(plan_id=plan_id, number=(last or 0) + 1, kind=kind,
                         comment=(comment or "").strip()[:MAX_COMMENT] or None,
                         snapshot=plan_snapshot(plan), author_id=author_id,
                         author_name=author_name[:200])
    session.add(row)
    session.flush()
    session.refresh(row)
    return row


def record_version(session: Session, plan_id: int, plan: Plan, *, author_id: int | None,
                   author_name: str, comment: str | None = None,
                   kind: str = "enregistrement") -> dict[str, Any]:
    """Record ``plan`` as the next version of stored plan ``plan_id``.

    ``kind="enregistrement"`` (a save) or ``"migration"`` also make it the plan's current
    content; ``"proposition"`` only records it (a proposal to review, never an
    overwrite). The plan row is locked meanwhile, so two saves get two numbers.

    Raises
    ------
    MaillageError
        Unknown plan or kind, a plan of another département.
    """
    if kind not in KINDS or kind == "initiale":
        raise MaillageError(f"Type de version inconnu : {kind}.")
    row = session.execute(select(PlanRow).where(PlanRow.id == plan_id)
                          .with_for_update()).scalar_one_or_none()
    if row is None:
        raise MaillageError(f"Plan n° {plan_id} introuvable.")
    if plan.dept != row.departement:
        raise MaillageError(f"Ce plan concerne le département {row.departement}.")
    has_versions = session.execute(select(func.count()).select_from(PlanVersionRow)
                                   .where(PlanVersionRow.plan_id == plan_id)).scalar_one()
    if not has_versions:
        _add(session, plan_id, load_plan(session, plan_id), kind="initiale",
             comment="avant la première modification", author_id=row.owner_id,
             author_name=row.author or "")
    if kind != "proposition":
        replace_plan_content(session, plan_id, plan)
    return _info(_add(session, plan_id, plan, kind=kind, comment=comment,
                      author_id=author_id, author_name=author_name))


def _kpis(check: dict[str, Any]) -> dict[str, Any]:
    beyond = check["beyond_threshold"]
    return {
        "communes_covered": check["communes_covered"],
        "uncovered": len(check["uncovered"]),
        "duplicates": len(check["duplicates"]),
        "demand_total": check["demand_total"],
        "enclaves": sum(len(a["enclaves"]) for a in check["antennas"]),
        "beyond": len(beyond),
        "beyond_population": sum(b["population"] for b in beyond),
        "antennas": {a["name"]: {"communes": a["communes"], "population": a["population"],
                                 "demand": a["demand"],
                                 "coordinators_needed": a["coordinators_needed"],
                                 "max_minutes": a["max_minutes"]} for a in check["antennas"]},
    }


def compare_plans(before: Plan, after: Plan, communes: gpd.GeoDataFrame) -> dict[str, Any]:
    """What changed from ``before`` to ``after``: the communes that moved (with their
    antennas before → after) and the key figures before → after (same checks as
    ``plan check``)."""
    from coverage.editing import run_checks

    old, new = before.claims(), after.claims()
    names = dict(zip(map(str, communes.index), communes["nom"], strict=True))
    moved = [{"code": c, "name": names.get(c, c), "before": old.get(c, []),
              "after": new.get(c, [])}
             for c in sorted(set(old) | set(new)) if old.get(c, []) != new.get(c, [])]
    return {"moved": moved,
            "before": _kpis(run_checks(before, communes).to_json()),
            "after": _kpis(run_checks(after, communes).to_json()),
            "seats": [{"antenna": a.name, "before": (before.antenna(a.name) or a).seat
                       if before.antenna(a.name) else None, "after": a.seat}
                      for a in after.antennas
                      if before.antenna(a.name) is None
                      or (before.antenna(a.name) or a).seat != a.seat]}
