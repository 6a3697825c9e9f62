"""Save and load plans in PostGIS (one transaction per import, via ``session_scope``)."""

from __future__ import annotations

from typing import Any

from geoalchemy2.shape import from_shape, to_shape
from shapely.geometry import Point
from sqlalchemy import exists, func, or_, select
from sqlalchemy.orm import Session, selectinload

from coverage.models import (
    CandidacyRow,
    PlanAntennaRow,
    PlanAssignmentRow,
    PlanRow,
    PlanStructureRow,
)
from coverage.plan import Antenna, Plan
from geo import settings
from geo.crs import transform_xy
from geo.errors import MaillageError
from geo.models import Commune


def save_plan(session: Session, plan: Plan, *, owner_id: int | None = None,
              source_filename: str | None = None, sizing: dict[str, Any] | None = None,
              notes: str | None = None, organisation_id: int | None = None) -> int:
    """Insert ``plan`` and return its id.

    Raises
    ------
    MaillageError
        A plan name over 200 characters (the reader already refuses long antenna names).
    """
    if len(plan.name) > 200:
        raise MaillageError("Nom de plan trop long (200 caractères au plus).")
    row = PlanRow(name=plan.name, departement=plan.dept, author=plan.author,
                  owner_id=owner_id, source_filename=source_filename, sizing=sizing or {},
                  notes=notes, organisation_id=organisation_id)
    row.structures = _structure_rows(plan)
    # The plan's codes are those of the communes loaded now: record their COG vintage.
    row.cog_vintage = session.execute(
        select(func.max(Commune.cog_vintage)).where(Commune.departement == plan.dept)
    ).scalar_one_or_none()
    session.add(row)
    session.flush()
    return row.id


def _structure_rows(plan: Plan) -> list[PlanStructureRow]:
    """The structures → antennas → assignments rows of ``plan`` (not yet added)."""
    structures: dict[str, PlanStructureRow] = {}
    for antenna in plan.antennas:
        structure = structures.get(antenna.structure)
        if structure is None:
            structure = PlanStructureRow(name=antenna.structure)
            structures[antenna.structure] = structure
        point = None
        if antenna.lon is not None and antenna.lat is not None:
            x, y = transform_xy(antenna.lon, antenna.lat, source=settings.WGS84,
                                target=settings.LAMBERT93)
            point = from_shape(Point(float(x), float(y)), srid=2154)
        ant = PlanAntennaRow(name=antenna.name, seat=antenna.seat, point=point,
                             coordinators=antenna.coordinators)
        ant.communes = [PlanAssignmentRow(commune=c) for c in dict.fromkeys(antenna.communes)]
        structure.antennas.append(ant)
    # The head office of a structure is the seat of its first antenna.
    for structure in structures.values():
        structure.head_office = next((a.seat for a in structure.antennas if a.seat), None)
    return list(structures.values())


def replace_plan_content(session: Session, plan_id: int, plan: Plan) -> None:
    """Replace the antennas and communes of stored plan ``plan_id`` by those of ``plan``
    (name, owner and dates stay; the caller records the version)."""
    row = _load_row(session, plan_id)
    row.structures.clear()
    session.flush()
    row.structures = _structure_rows(plan)
    session.flush()


def _load_row(session: Session, plan_id: int) -> PlanRow:
    row = session.execute(
        select(PlanRow).where(PlanRow.id == plan_id).options(
            selectinload(PlanRow.structures).selectinload(PlanStructureRow.antennas)
            .selectinload(PlanAntennaRow.communes))).scalar_one_or_none()
    if row is None:
        raise MaillageError(f"Plan n° {plan_id} introuvable.")
    return row


def load_plan(session: Session, plan_id: int) -> Plan:
    """The stored plan as a :class:`Plan`."""
    row = _load_row(session, plan_id)
    plan = Plan(name=row.name, dept=row.departement, author=row.author)
    for structure in row.structures:
        for ant in structure.antennas:
            lon = lat = None
            if ant.point is not None:
                p: Any = to_shape(ant.point)
                lon_a, lat_a = transform_xy(p.x, p.y, source=settings.LAMBERT93,
                                            target=settings.WGS84)
                lon, lat = float(lon_a), float(lat_a)
            plan.antennas.append(Antenna(
                name=ant.name, seat=ant.seat, structure=structure.name, lon=lon, lat=lat,
                coordinators=ant.coordinators,
                communes=sorted(a.commune for a in ant.communes)))
    return plan


def plan_info(session: Session, plan_id: int) -> dict[str, Any]:
    row = _load_row(session, plan_id)
    return {"id": row.id, "name": row.name, "departement": row.departement,
            "owner_id": row.owner_id, "organisation_id": row.organisation_id,
            "author": row.author, "sizing": row.sizing,
            "created_at": row.created_at, "updated_at": row.updated_at,
            "source_filename": row.source_filename, "notes": row.notes}


def list_plans(session: Session, *, dept: str | None = None, owner_id: int | None = None,
               organisation_id: int | None = None,
               submitted_only: bool = False) -> list[dict[str, Any]]:
    """Plans, newest first, optionally of one département, one owner or organisation.

    ``owner_id`` and ``organisation_id`` together select the plans of either;
    ``submitted_only`` keeps the plans submitted at least once as a candidacy (what the
    ARS may see).
    """
    query = select(PlanRow).order_by(PlanRow.id.desc())
    if dept:
        query = query.where(PlanRow.departement == dept)
    if owner_id is not None and organisation_id is not None:
        query = query.where(or_(PlanRow.owner_id == owner_id,
                                PlanRow.organisation_id == organisation_id))
    elif owner_id is not None:
        query = query.where(PlanRow.owner_id == owner_id)
    elif organisation_id is not None:
        query = query.where(PlanRow.organisation_id == organisation_id)
    if submitted_only:
        query = query.where(exists().where(CandidacyRow.plan_id == PlanRow.id))
    return [{"id": r.id, "name": r.name, "departement": r.departement, "owner_id": r.owner_id,
             "organisation_id": r.organisation_id, "author": r.author,
             "created_at": r.created_at} for r in session.execute(query).scalars()]


def delete_plan(session: Session, plan_id: int) -> None:
    session.delete(_load_row(session, plan_id))
