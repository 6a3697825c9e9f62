"""Store the communes reference in PostGIS: one transaction, upsert, change report."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any

from sqlalchemy import text
from sqlalchemy.orm import Session

from geo.errors import MaillageError
from geo.fmt import fr_int
from geo.settings import DEFAULT_COG_VINTAGE, DEFAULT_POPULATION_VINTAGE

if TYPE_CHECKING:  # geopandas: not for the command line's start-up
    from geo.communes import CommunesSource

#: A new load whose commune count differs from the previous one by more than this
#: share is refused (a truncated download, or the wrong file), unless forced.
MAX_COUNT_CHANGE = 0.10


REGION_OF_DEPT = {"43": "84", "63": "84"}
DEPT_NAMES = {"43": "Haute-Loire", "63": "Puy-de-Dôme"}


@dataclass
class LoadReport:
    """What a load changed, compared with the communes already in the database."""

    departement: str
    communes: int
    population: int
    epcis: int
    added: list[str] = field(default_factory=list)
    renamed: list[tuple[str, str, str]] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    repaired: list[str] = field(default_factory=list)

    @property
    def changed(self) -> bool:
        return bool(self.added or self.renamed or self.removed or self.updated)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def summary_fr(self) -> str:
        """French summary for the CLI."""
        lines = [f"Département {self.departement} : {self.communes} communes, "
                 f"{fr_int(self.population)} habitants, {self.epcis} EPCI."]
        if not self.changed:
            lines.append("Aucun changement depuis le chargement précédent.")
        if self.added:
            lines.append(f"Communes ajoutées ({len(self.added)}) : {', '.join(self.added[:20])}"
                         + (" …" if len(self.added) > 20 else ""))
        for code, old, new in self.renamed:
            lines.append(f"Commune renommée : {code} « {old} » → « {new} »")
        if self.removed:
            lines.append(f"Communes supprimées ({len(self.removed)}, fusions) : "
                         f"{', '.join(self.removed)}")
        if self.updated:
            lines.append(f"Communes mises à jour (contour, population ou EPCI) : {len(self.updated)}")
        if self.repaired:
            lines.append(f"Polygones invalides réparés (make_valid) : {', '.join(self.repaired)}")
        return "\n".join(lines)


def store_communes(session: Session, src: CommunesSource, *,
                   cog_vintage: int = DEFAULT_COG_VINTAGE,
                   population_vintage: int = DEFAULT_POPULATION_VINTAGE,
                   force: bool = False,
                   before_delete: Callable[[Session, LoadReport], None] | None = None
                   ) -> LoadReport:
    """Upsert the communes of ``src`` and report what changed.

    ``before_delete`` runs after the upsert and before the communes that disappeared
    (merges) are deleted, in the same transaction: the place where the plans that use
    them are migrated (``coverage.cog_migration``), since ``geo`` knows no plan.

    Runs inside the caller's transaction (``geo.db.session_scope``): on any error the
    caller rolls back and nothing is written.

    Raises
    ------
    MaillageError
        When the commune count is far from the previous load (unless ``force``).
    """
    frame = src.communes
    dept = str(frame["departement"].iloc[0])
    previous = {row.code: row for row in session.execute(
        text("SELECT code, nom, population, epci, ST_AsBinary(geom) AS wkb "
             "FROM communes WHERE departement = :d"), {"d": dept})}
    if previous and not force:
        change = abs(len(frame) - len(previous)) / len(previous)
        if change > MAX_COUNT_CHANGE:
            raise MaillageError(
                f"« {src.origin} » contient {len(frame)} communes pour le département {dept}, "
                f"contre {len(previous)} au chargement précédent ({change:.0%} d'écart) : "
                "source tronquée ou mauvais fichier ? Relancez avec --force si c'est voulu."
            )

    session.execute(text(
        "INSERT INTO departements (code, nom, region) VALUES (:c, :n, :r) "
        "ON CONFLICT (code) DO UPDATE SET nom = COALESCE(EXCLUDED.nom, departements.nom), "
        "region = COALESCE(EXCLUDED.region, departements.region)"),
        {"c": dept, "n": DEPT_NAMES.get(dept), "r": frame["region"].dropna().iloc[0]
         if frame["region"].notna().any() else REGION_OF_DEPT.get(dept)})
    for epci in src.epcis:
        session.execute(text(
            "INSERT INTO epcis (code, nom, population) VALUES (:c, :n, :p) "
            "ON CONFLICT (code) DO UPDATE SET nom = EXCLUDED.nom, population = EXCLUDED.population"),
            {"c": epci["code"], "n": epci["nom"], "p": epci.get("population")})

    report = LoadReport(departement=dept, communes=len(frame),
                        population=int(frame["population"].fillna(0).sum()),
                        epcis=len(src.epcis), repaired=list(src.repaired))
    upsert = text(
        """
        INSERT INTO communes (code, nom, departement, region, epci, population,
                              population_vintage, cog_vintage, geom, point, updated_at)
        VALUES (:code, :nom, :dept, :region, :epci, :population, :pv, :cv,
                ST_GeomFromWKB(:wkb, 2154), ST_PointOnSurface(ST_GeomFromWKB(:wkb, 2154)), now())
        ON CONFLICT (code) DO UPDATE SET
            nom = EXCLUDED.nom, departement = EXCLUDED.departement, region = EXCLUDED.region,
            epci = EXCLUDED.epci, population = EXCLUDED.population,
            population_vintage = EXCLUDED.population_vintage, cog_vintage = EXCLUDED.cog_vintage,
            geom = EXCLUDED.geom, point = EXCLUDED.point, updated_at = now()
        """
    )
    for row in frame.itertuples(index=False):
        wkb = row.geometry.wkb
        old = previous.get(row.code)
        pop = None if row.population is None else int(row.population)
        if old is None:
            report.added.append(row.code)
        else:
            if old.nom != row.nom:
                report.renamed.append((row.code, old.nom, row.nom))
            if (old.population != pop or old.epci != row.epci or bytes(old.wkb) != wkb):
                report.updated.append(row.code)
            if old.nom == row.nom and row.code not in report.updated:
                continue  # unchanged: no write, so a reload is a true no-op
        session.execute(upsert, {
            "code": row.code, "nom": row.nom, "dept": dept, "region": row.region,
            "epci": row.epci, "population": pop, "pv": population_vintage,
            "cv": cog_vintage, "wkb": wkb})
    report.removed = sorted(set(previous) - set(frame["code"]))
    if report.removed and before_delete is not None:
        before_delete(session, report)
    if report.removed:
        session.execute(text("DELETE FROM communes WHERE code = ANY(:codes)"),
                        {"codes": report.removed})
    session.execute(text(
        "INSERT INTO commune_loads (departement, source, communes, population, changes) "
        "VALUES (:d, :s, :n, :p, CAST(:ch AS json))"),
        {"d": dept, "s": src.origin[:500], "n": report.communes, "p": report.population,
         "ch": _json(report)})
    return report


def _json(report: LoadReport) -> str:
    import json

    return json.dumps({"added": report.added, "renamed": report.renamed,
                       "removed": report.removed, "updated": report.updated,
                       "repaired": report.repaired}, ensure_ascii=False)


def dept_summary(session: Session, *, dept: str) -> dict[str, int]:
    """Number of communes, total population and number of EPCI of ``dept`` in the DB."""
    row = session.execute(text(
        "SELECT count(*) AS n, COALESCE(sum(population), 0) AS pop, "
        "count(DISTINCT epci) AS epcis FROM communes WHERE departement = :d"),
        {"d": dept}).one()
    return {"communes": int(row.n), "population": int(row.pop), "epcis": int(row.epcis)}
