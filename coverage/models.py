"""Coverage plans in PostGIS: plan → structures (DAC) → antennas → assigned communes.

A plan may be partial or even violate unicity while it is drafted: the checks report
it, the schema does not forbid it (a commune may be assigned to two antennas).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from geoalchemy2 import Geometry
from sqlalchemy import (
    JSON,
    CheckConstraint,
    DateTime,
    Float,
    ForeignKey,
    Integer,
    SmallInteger,
    String,
    Text,
    func,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column, relationship

import geo.models  # noqa: F401  (the referenced tables: departements, communes)
from geo.db import Base


class PlanRow(Base):
    __tablename__ = "plans"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    departement: Mapped[str] = mapped_column(ForeignKey("departements.code"), index=True)
    author: Mapped[str | None] = mapped_column(String(200))
    owner_id: Mapped[int | None] = mapped_column(Integer, index=True)
    # The promoter's organisation (``organisations.id``, 0007): its members share the plan.
    organisation_id: Mapped[int | None] = mapped_column(Integer, index=True)
    source_filename: Mapped[str | None] = mapped_column(String(300))
    sizing: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    notes: Mapped[str | None] = mapped_column(Text)
    # COG vintage of the commune codes the plan uses (0009_plan_versions; NULL before).
    cog_vintage: Mapped[int | None] = mapped_column(SmallInteger)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now(),
                                                 onupdate=func.now())
    structures: Mapped[list[PlanStructureRow]] = relationship(
        back_populates="plan", cascade="all, delete-orphan", order_by="PlanStructureRow.id")


class PlanStructureRow(Base):
    __tablename__ = "plan_structures"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    plan_id: Mapped[int] = mapped_column(ForeignKey("plans.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    head_office: Mapped[str | None] = mapped_column(ForeignKey("communes.code"))
    plan: Mapped[PlanRow] = relationship(back_populates="structures")
    antennas: Mapped[list[PlanAntennaRow]] = relationship(
        back_populates="structure", cascade="all, delete-orphan", order_by="PlanAntennaRow.id")


class PlanAntennaRow(Base):
    __tablename__ = "plan_antennas"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    structure_id: Mapped[int] = mapped_column(
        ForeignKey("plan_structures.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    seat: Mapped[str | None] = mapped_column(ForeignKey("communes.code"))
    point: Mapped[Any] = mapped_column(Geometry("POINT", srid=2154, spatial_index=False),
                                       nullable=True)
    coordinators: Mapped[float | None] = mapped_column(Float)
    structure: Mapped[PlanStructureRow] = relationship(back_populates="antennas")
    communes: Mapped[list[PlanAssignmentRow]] = relationship(
        back_populates="antenna", cascade="all, delete-orphan")


class PlanAssignmentRow(Base):
    __tablename__ = "plan_assignments"

    antenna_id: Mapped[int] = mapped_column(
        ForeignKey("plan_antennas.id", ondelete="CASCADE"), primary_key=True)
    commune: Mapped[str] = mapped_column(ForeignKey("communes.code"), primary_key=True,
                                         index=True)
    antenna: Mapped[PlanAntennaRow] = relationship(back_populates="communes")


class CandidacyRow(Base):
    """A submitted candidacy: an immutable snapshot of a plan (``0007_candidacies``).

    Only ``status`` and the decision columns change after the insert; a database
    trigger refuses any other update. ``candidate_key`` is ``o<organisation id>`` (or
    ``u<user id>`` for a promoter without organisation): each new submission of the same
    candidate in a département is a new ``version``.
    """

    __tablename__ = "candidacies"
    __table_args__ = (
        CheckConstraint("status IN ('deposee', 'retenue', 'non_retenue')",
                        name="candidacies_status"),
        CheckConstraint("version >= 1", name="candidacies_version"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    plan_id: Mapped[int | None] = mapped_column(Integer, index=True)
    departement: Mapped[str] = mapped_column(ForeignKey("departements.code"), index=True)
    organisation_id: Mapped[int | None] = mapped_column(Integer)
    organisation_name: Mapped[str | None] = mapped_column(String(200))
    candidate_key: Mapped[str] = mapped_column(String(40))
    version: Mapped[int] = mapped_column(Integer)
    name: Mapped[str] = mapped_column(String(200))
    snapshot: Mapped[dict[str, Any]] = mapped_column(JSONB)
    submitted_at: Mapped[datetime] = mapped_column(DateTime(timezone=True),
                                                   server_default=func.now())
    submitted_by: Mapped[int | None] = mapped_column(Integer)
    submitted_by_name: Mapped[str] = mapped_column(String(200))
    status: Mapped[str] = mapped_column(String(20), server_default="deposee")
    decision_comment: Mapped[str | None] = mapped_column(Text)
    decided_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    decided_by: Mapped[int | None] = mapped_column(Integer)
    decided_by_name: Mapped[str | None] = mapped_column(String(200))
