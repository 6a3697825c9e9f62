"""Migrate plans when the communes reference changes (merges and renames of the COG).

When a reload of the communes removes codes (a merge: 63330 Saint-Cirgues-sur-Couze
became part of 63109 Les Deux-Rives on 1 January 2025), every stored plan of the
département that uses them is migrated *before* the old communes are deleted, in the
same transaction: an absorbed commune follows the commune that absorbed it, a seat too;
a merged commune whose parts were in different antennas is left in each of them
(a duplicate the checks show in red) and flagged for the promoter to decide; a code
with no successor is dropped and named. Each migrated plan gets a version « migration
du référentiel » whose comment is the report, and records the new COG vintage.

The merges come from INSEE's « mouvements des communes » (COG), e.g.
``admin/cog_mouvements_communes_43_63.csv`` of the shared data.
"""

from __future__ import annotations

import copy
import csv
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from coverage.models import PlanRow
from coverage.plan import Plan
from geo.errors import MaillageError

#: INSEE event codes that merge a commune into another one.
MERGE_EVENTS = {"31", "32", "33", "34"}


@dataclass
class CogChanges:
    """Merges (absorbed code → final code) and renames (code → new name)."""

    merges: dict[str, str] = field(default_factory=dict)
    names: dict[str, str] = field(default_factory=dict)     # absorbed or renamed code → old name
    renames: dict[str, str] = field(default_factory=dict)   # code → new name


def read_cog_changes(path: Path, *, dept: str | None = None) -> CogChanges:
    """Merges and renames from an INSEE « mouvements des communes » CSV.

    Chains are followed (A → B then B → C gives A → C).

    Raises
    ------
    MaillageError
        Unreadable file or missing columns.
    """
    try:
        with open(path, encoding="utf-8-sig", newline="") as fh:
            rows = list(csv.DictReader(fh))
    except (OSError, UnicodeDecodeError) as exc:
        raise MaillageError(f"« {Path(path).name} » illisible ({exc.__class__.__name__}).") from None
    needed = {"MOD", "DATE_EFF", "TYPECOM_AV", "COM_AV", "TYPECOM_AP", "COM_AP", "LIBELLE_AV",
              "LIBELLE_AP"}
    if rows and not needed <= set(rows[0]):
        raise MaillageError(f"« {Path(path).name} » : colonnes manquantes "
                            f"({', '.join(sorted(needed - set(rows[0])))}).")
    out = CogChanges()
    for row in sorted(rows, key=lambda r: r["DATE_EFF"]):
        old, new = row["COM_AV"], row["COM_AP"]
        if dept and not old.startswith(dept):
            continue
        if row["TYPECOM_AV"] != "COM" or row["TYPECOM_AP"] != "COM":
            continue
        if row["MOD"] in MERGE_EVENTS and old != new:
            out.merges[old] = new
            out.names[old] = row["LIBELLE_AV"]
        elif row["MOD"] == "10" and old == new:
            out.renames[old] = row["LIBELLE_AP"]
            out.names.setdefault(old, row["LIBELLE_AV"])
    for old in list(out.merges):   # follow chains
        seen = {old}
        while out.merges[old] in out.merges and out.merges[old] not in seen:
            seen.add(out.merges[old])
            out.merges[old] = out.merges[out.merges[old]]
    return out


@dataclass
class PlanMigration:
    """What the migration changed in one plan (French report: :meth:`report_fr`)."""

    plan_name: str
    moved: list[tuple[str, str, str]] = field(default_factory=list)   # old, new, antenna
    seats: list[tuple[str, str, str]] = field(default_factory=list)   # antenna, old, new
    conflicts: list[dict[str, Any]] = field(default_factory=list)      # new, parts, antennas
    removed: list[tuple[str, str]] = field(default_factory=list)      # code, antenna

    @property
    def changed(self) -> bool:
        return bool(self.moved or self.seats or self.conflicts or self.removed)

    def report_fr(self, names: dict[str, str] | None = None) -> str:
        names = names or {}

        def label(code: str) -> str:
            return f"{code} {names[code]}" if code in names else code

        lines = [f"Plan « {self.plan_name} » : migration du référentiel des communes."]
        lines += [f"- {label(old)} a fusionné dans {label(new)} : suit la commune nouvelle "
                  f"(antenne {ant})." for old, new, ant in self.moved]
        lines += [f"- Siège de l'antenne {ant} : {label(old)} → {label(new)}."
                  for ant, old, new in self.seats]
        for c in self.conflicts:
            parts = ", ".join(f"{label(code)} dans {ant}" for code, ant in c["parts"])
            lines.append(f"- À DÉCIDER : {label(c['new'])} regroupe des communes de plusieurs "
                         f"antennes ({parts}) ; elle est laissée dans {', '.join(c['antennas'])} "
                         "(en double) : choisissez son antenne.")
        lines += [f"- {label(code)} n'existe plus et n'a pas de successeur : retirée de "
                  f"l'antenne {ant}." for code, ant in self.removed]
        return "\n".join(lines)


def migrate_plan(plan: Plan, *, merges: dict[str, str], known: set[str]) -> tuple[Plan, PlanMigration]:
    """A migrated copy of ``plan`` and what changed.

    ``known`` holds the codes of the new reference; a code neither known nor merged is
    removed (and reported).
    """
    new = copy.deepcopy(plan)
    report = PlanMigration(plan_name=plan.name)
    parts: dict[str, list[tuple[str, str]]] = {}   # final code -> [(old code, antenna)]
    for antenna in new.antennas:
        out: list[str] = []
        for code in antenna.communes:
            target = merges.get(code, code)
            if target not in known:
                report.removed.append((code, antenna.name))
                continue
            if target != code:
                report.moved.append((code, target, antenna.name))
            parts.setdefault(target, []).append((code, antenna.name))
            out.append(target)
        antenna.communes = list(dict.fromkeys(out))
        if antenna.seat and antenna.seat in merges and merges[antenna.seat] in known:
            report.seats.append((antenna.name, antenna.seat, merges[antenna.seat]))
            antenna.seat = merges[antenna.seat]
        elif antenna.seat and antenna.seat not in known:
            report.seats.append((antenna.name, antenna.seat, ""))
            antenna.seat = None
    merged_targets = {new_code for _, new_code, _ in report.moved}
    for target in sorted(merged_targets):
        antennas = list(dict.fromkeys(a for _, a in parts[target]))
        if len(antennas) > 1:
            report.conflicts.append({"new": target, "parts": parts[target],
                                     "antennas": antennas})
    return new, report


def migrate_stored_plans(session: Session, *, dept: str, merges: dict[str, str],
                         known: set[str], cog_vintage: int | None,
                         names: dict[str, str] | None = None,
                         author_name: str = "référentiel des communes") -> list[dict[str, Any]]:
    """Migrate every stored plan of ``dept`` to the new reference (in the caller's
    transaction, before the removed communes are deleted).

    Returns one entry per plan that changed: ``plan_id``, ``name``, ``report`` (French),
    ``conflicts``, ``version``.
    """
    from coverage.store import load_plan
    from coverage.versions import record_version

    ids = list(session.execute(select(PlanRow.id).where(PlanRow.departement == dept)
                               .order_by(PlanRow.id)).scalars())
    done = []
    for plan_id in ids:
        plan = load_plan(session, plan_id)
        migrated, report = migrate_plan(plan, merges=merges, known=known)
        if report.changed:
            text = report.report_fr(names)
            version = record_version(session, plan_id, migrated, author_id=None,
                                     author_name=author_name, comment=text, kind="migration")
            done.append({"plan_id": plan_id, "name": plan.name, "report": text,
                         "conflicts": [c["new"] for c in report.conflicts],
                         "version": version["number"]})
    if cog_vintage is not None and ids:
        session.execute(update(PlanRow).where(PlanRow.id.in_(ids))
                        .values(cog_vintage=cog_vintage))
    session.flush()
    return done


def default_changes_path() -> Path | None:
    """INSEE's merges and renames in the shared data, when present."""
    from geo import settings

    path = settings.data_dir() / "admin" / "cog_mouvements_communes_43_63.csv"
    return path if path.is_file() else None


def load_communes_migrating_plans(session: Session, src: Any, *, changes: CogChanges,
                                  cog_vintage: int, population_vintage: int | None = None,
                                  force: bool = False) -> tuple[Any, list[dict[str, Any]]]:
    """Load a communes reference (``geo.communes_db.store_communes``) and migrate the
    stored plans that use a commune it removes, in the same transaction.

    Raises
    ------
    MaillageError
        A removed commune used by a plan with no known successor is still migrated
        (dropped and reported); only the loader's own errors are raised.
    """
    from geo.communes_db import LoadReport, store_communes
    from geo.settings import DEFAULT_POPULATION_VINTAGE

    migrations: list[dict[str, Any]] = []
    known = set(map(str, src.communes["code"]))
    dept = str(src.communes["departement"].iloc[0])

    def migrate(session: Session, report: LoadReport) -> None:
        merges = {old: new for old, new in changes.merges.items() if old in report.removed}
        names = dict(changes.names)
        names.update(zip(map(str, src.communes["code"]), map(str, src.communes["nom"]),
                         strict=True))
        migrations.extend(migrate_stored_plans(session, dept=dept, merges=merges, known=known,
                                               cog_vintage=cog_vintage, names=names))

    report = store_communes(session, src, cog_vintage=cog_vintage,
                            population_vintage=population_vintage or DEFAULT_POPULATION_VINTAGE,
                            force=force, before_delete=migrate)
    if not report.removed:   # nothing removed: the plans' codes stay valid, vintage moves on
        session.execute(update(PlanRow).where(PlanRow.departement == dept)
                        .values(cog_vintage=cog_vintage))
    return report, migrations
