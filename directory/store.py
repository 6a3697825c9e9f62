"""Write directory records to PostGIS: upsert by (source, source id), one transaction.

A record without coordinates is placed at its commune's representative point and flagged
« localisation approximative »; a record with coordinates but no commune gets the commune
that contains its point.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from datetime import date, timedelta
from typing import Any, Protocol

from sqlalchemy import text
from sqlalchemy.orm import Session

from directory.records import Rejection, ServiceRecord, StructureRecord, record_fields
from directory.taxonomy import KEYWORDS, Category
from geo.text import fold

#: A record not verified for longer than this is flagged stale.
STALE_AFTER = timedelta(days=365)


@dataclass
class ImportReport:
    """What an import did: structure ids by outcome, and the rejections (French)."""

    source: str
    created: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    merged: list[str] = field(default_factory=list)
    closed: list[str] = field(default_factory=list)
    older: list[str] = field(default_factory=list)
    #: Structures of the file's records by département (``"?"``: no commune).
    by_dept: dict[str, int] = field(default_factory=dict)
    rejected: list[Rejection] = field(default_factory=list)
    approximate: list[str] = field(default_factory=list)
    outside_communes: list[str] = field(default_factory=list)
    metadata: dict[str, str] = field(default_factory=dict)

    def summary_fr(self) -> str:
        lines = [f"Import {self.source} : {_count(len(self.created), 'créée')}, "
                 f"{_count(len(self.merged), 'fusionnée')} avec une structure existante, "
                 f"{len(self.updated)} mise{'s' if len(self.updated) > 1 else ''} à jour, "
                 f"{_count(len(self.unchanged), 'inchangée')}, "
                 f"{_count(sum(not r.kept for r in self.rejected), 'rejetée')}."]
        warnings = sum(r.kept for r in self.rejected)
        if warnings:
            lines.append(f"Gardées avec un signalement : {warnings}")
        if self.by_dept:
            lines.append("Par département : " + " ; ".join(
                f"{'sans commune' if d == '?' else d} : {n}"
                for d, n in sorted(self.by_dept.items())))
        if self.older:
            lines.append(f"Plus anciennes que les données déjà importées de la même source, "
                         f"ignorées : {len(self.older)}")
        if self.closed:
            lines.append(f"Disparues de l'extraction, marquées fermées : {len(self.closed)}")
        if self.approximate:
            lines.append(f"Localisation approximative (placées à leur commune) : "
                         f"{len(self.approximate)}")
        if self.outside_communes:
            lines.append(f"Position hors des communes chargées (commune inconnue) : "
                         f"{len(self.outside_communes)}")
        lines += [f"  {'signalement' if r.kept else 'rejet'} {r}" for r in self.rejected]
        return "\n".join(lines)

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["rejected"] = [{"line": r.line, "id": r.source_id, "reason": r.reason, "kept": r.kept}
                         for r in self.rejected]
        return d


def _count(n: int, word: str) -> str:
    return f"{n} {word}{'s' if n > 1 else ''}"


class RecordSource(Protocol):
    """A reader's output: records (a list, or a stream), then rejections and metadata."""

    @property
    def records(self) -> Iterable[StructureRecord]: ...

    @property
    def rejections(self) -> list[Rejection]: ...

    @property
    def metadata(self) -> dict[str, str]: ...


@dataclass
class StreamResult:
    """A streaming reader's output (:class:`directory.fhir.FhirReader`)."""

    records: Iterable[StructureRecord]
    rejections: list[Rejection]
    metadata: dict[str, str]


def sync_categories(session: Session, categories: list[Category]) -> None:
    """Insert or update the taxonomy (idempotent)."""
    session.execute(text(
        "INSERT INTO categories (code, label, short_label, sector, source, active) "
        "VALUES (:code, :label, :short_label, :sector, :source, :active) "
        "ON CONFLICT (code) DO UPDATE SET label = EXCLUDED.label, "
        "short_label = EXCLUDED.short_label, sector = EXCLUDED.sector, "
        "source = EXCLUDED.source, active = EXCLUDED.active"),
        [asdict(c) for c in categories])


def _source_fields(record: StructureRecord) -> dict[str, Any]:
    out = record_fields(record)
    out.pop("line", None)
    out["services"] = [asdict(s) for s in record.services]
    return out


def _hash(fields_: dict[str, Any]) -> str:
    payload = json.dumps(fields_, sort_keys=True, default=str, ensure_ascii=False)
    return hashlib.sha256(payload.encode()).hexdigest()


def search_text(record: StructureRecord, *, category_label: str, commune_name: str,
                other_names: Iterable[str] = ()) -> str:
    """Folded text indexed for full-text and trigram search: THE index builder.

    Every import (:func:`upsert`, through ``_write_structure``) and the editor (through
    :func:`reindex_structure`) build a record's search text here, so that an edit changes
    what the record is found by only through the fields it changed: the name(s), the
    category's label and keywords, the commune, the description, the services.
    """
    parts = [record.name, record.display_name or "", *other_names, category_label,
             KEYWORDS.get(record.category_code or "", ""), commune_name,
             record.description or ""]
    for service in record.services:
        parts += [service.name, " ".join(service.publics)]
    return " ".join(dict.fromkeys(fold(p) for p in parts if p))


def reindex_structure(conn: Session | Any, structure_id: int) -> str:
    """Rebuild a structure's search text from its current row (after an edit).

    Uses :func:`search_text` with what an import gives it: the official name and the
    name people read (possibly edited), every name its sources gave, the category, the
    commune, the description and the services. Returns the new text.
    """
    row = conn.execute(text(
        "SELECT s.name, s.official_name, s.category_code, s.description, s.commune_name, "
        "coalesce(c.label, '') AS label FROM structures s LEFT JOIN categories c "
        "ON c.code = s.category_code WHERE s.id = :id"), {"id": structure_id}).one()
    names = [r[0] for r in conn.execute(text(
        "SELECT fields->>'name' FROM structure_sources WHERE structure_id = :id "
        "AND fields->>'name' IS NOT NULL ORDER BY source_date DESC NULLS LAST, id"),
        {"id": structure_id})]
    services = [ServiceRecord(name=r.name, publics=list(r.publics or [])) for r in conn.execute(
        text("SELECT name, publics FROM services WHERE structure_id = :id ORDER BY id"),
        {"id": structure_id})]
    record = StructureRecord(source="", source_id="", name=row.official_name or row.name,
                             display_name=row.name, category_code=row.category_code,
                             description=row.description, services=services)
    value = search_text(record, category_label=row.label, commune_name=row.commune_name or "",
                        other_names=names)
    conn.execute(text("UPDATE structures SET search_text = :t WHERE id = :id"),
                 {"t": value, "id": structure_id})
    return value


#: Fields a structure takes from its sources, most recent source first.
_MERGED = ("name", "display_name", "category_code", "finess_et", "finess_ej", "siret",
           "address", "postal_code", "phone", "email", "website", "opening_hours",
           "description")


def merge_sources(rows: list[dict[str, Any]]) -> tuple[StructureRecord, dict[str, Any]]:
    """Merge a structure's sources, field by field, the most recent value first.

    Parameters
    ----------
    rows
        One dict per source: ``source``, ``source_date``, ``closed_at``, ``fields`` (what
        :func:`upsert` stored), ``id``.

    Returns
    -------
    tuple
        The merged record, and ``extra``: ``approximate``, ``closed``, ``closed_at``,
        ``last_updated``, ``official_name``, ``other_names``.
    """
    ordered = sorted(rows, key=lambda r: (r["source_date"] or date.min, r["id"]), reverse=True)
    # A source row without fields (none in practice) cannot name the structure.
    first = next((r for r in ordered if r["fields"].get("name")), ordered[0])
    merged: dict[str, Any] = {}
    for name in _MERGED:
        merged[name] = next((r["fields"].get(name) for r in ordered
                             if r["fields"].get(name) not in (None, "")), None)
    # The name people read comes with the name it was made from (same source).
    merged["name"] = first["fields"].get("name") or ""
    merged["display_name"] = first["fields"].get("display_name") or merged["name"] or None
    placed = next((r for r in ordered if r["fields"].get("lat") is not None
                   and not r["fields"].get("approximate")), None)
    located = next((r for r in ordered if r["fields"].get("commune_code")), None)
    services: list[dict[str, Any]] = next((r["fields"]["services"] for r in ordered if r["fields"].get("services")), [])
    verified = [date.fromisoformat(r["fields"]["last_verified"]) for r in ordered
                if r["fields"].get("last_verified")]
    record = StructureRecord(
        source=first["source"], source_id=first["fields"].get("source_id", ""), **merged,
        commune_code=located["fields"]["commune_code"] if located else None,
        commune_name=located["fields"].get("commune_name") if located else
        next((r["fields"].get("commune_name") for r in ordered
              if r["fields"].get("commune_name")), None),
        lat=placed["fields"]["lat"] if placed else None,
        lon=placed["fields"]["lon"] if placed else None,
        last_verified=max(verified) if verified else None,
        services=[ServiceRecord(**s) for s in services])
    closed = bool(first["closed_at"] or first["fields"].get("closed"))
    dates = [r["source_date"] for r in ordered if r["source_date"]]
    names = [r["fields"].get("name") for r in ordered[1:] if r["fields"].get("name")]
    extra = {"approximate": placed is None, "closed": closed,
             "closed_at": first["closed_at"] or (first["source_date"] if closed else None),
             "last_updated": max(dates) if dates else None,
             "official_name": first["fields"].get("name"), "other_names": names}
    return record, extra


def upsert(session: Session, result: RecordSource, *, source_label: str,
           close_missing: bool = False, dept: str | None = None) -> ImportReport:
    """Write ``result.records``: one structure per establishment across sources.

    A record is matched to a structure by its (source, source id), else by its FINESS ET,
    else by SIRET and address; its fields are kept per source (``structure_sources``) and
    the structure takes, field by field, the value of its most recent source. A record
    whose content did not change is left alone (re-importing a file is a no-op).

    Parameters
    ----------
    close_missing
        The file is a complete extract of its source (for ``dept``, or for the
        départements of its records): records of that source missing from it, and older
        than its date (``result.metadata["date"]``), are marked closed, not deleted.
    """
    report = ImportReport(source=source_label)
    cats = {r.code: (r.label, r.sector) for r in session.execute(
        text("SELECT code, label, sector FROM categories"))}
    finess_owner: dict[str, int] = {r.finess_et: r.id for r in session.execute(text(
        "SELECT id, finess_et FROM structures WHERE finess_et IS NOT NULL"))}
    known: dict[str, dict[str, tuple[int, int, str, date | None, date | None]]] = {}
    seen: dict[str, set[str]] = {}
    depts: set[str] = {dept} if dept else set()
    for record in result.records:
        if record.source not in known:
            known[record.source] = {r.source_id: (r.id, r.structure_id, r.content_hash,
                                                  r.closed_at, r.source_date)
                                    for r in session.execute(text(
                "SELECT id, structure_id, source_id, content_hash, closed_at, source_date "
                "FROM structure_sources WHERE source = :s"), {"s": record.source})}
            seen[record.source] = set()
        seen[record.source].add(record.source_id)
        _write_record(session, record, report, cats, finess_owner, known[record.source], depts)
    report.rejected = sorted([*result.rejections, *report.rejected], key=lambda r: r.line)
    for source, ids in seen.items():
        for row in session.execute(text(
                "SELECT coalesce(CASE WHEN s.commune_code LIKE '97%' THEN left(s.commune_code, 3) "
                "ELSE left(s.commune_code, 2) END, '?') AS dept, count(DISTINCT s.id) AS n "
                "FROM structure_sources ss JOIN structures s ON s.id = ss.structure_id "
                "WHERE ss.source = :s AND ss.source_id = ANY(:ids) GROUP BY 1"),
                {"s": source, "ids": list(ids)}):
            report.by_dept[row.dept] = report.by_dept.get(row.dept, 0) + int(row.n)
    report.metadata = dict(result.metadata)
    if close_missing and result.metadata.get("date"):
        extract = date.fromisoformat(result.metadata["date"])
        for source, ids in seen.items():
            ids |= {r.source_id for r in result.rejections if r.source_id}
            _close_missing(session, source, ids, extract=extract, depts=depts, report=report)
    prune_search_words(session)
    return report


def prune_search_words(session: Session) -> int:
    """Drop the words of the search vocabulary no open record uses any more.

    A trigger adds the words of every open record written (``0010_search_words``); an
    edit or an import may leave words nobody uses, pruned here at the end of an import
    (about a second for the national FINESS). Returns how many were dropped.
    """
    result = session.execute(text(
        "DELETE FROM search_words v WHERE NOT EXISTS (SELECT 1 FROM (SELECT DISTINCT "
        "regexp_split_to_table(search_text, ' ') AS word FROM structures "
        "WHERE status = 'open') u WHERE u.word = v.word)"))
    return int(getattr(result, "rowcount", 0) or 0)


def _dept(commune_code: str | None) -> str | None:
    if not commune_code:
        return None
    return commune_code[:3] if commune_code.startswith("97") else commune_code[:2]


def _write_record(session: Session, record: StructureRecord, report: ImportReport,
                  cats: dict[str, tuple[str, str]], finess_owner: dict[str, int],
                  known: dict[str, tuple[int, int, str, date | None, date | None]],
                  depts: set[str]) -> None:
    line = record.line
    if record.category_code and record.category_code not in cats:
        report.rejected.append(Rejection(line, f"catégorie inconnue « {record.category_code} »",
                                         record.source_id))
        return
    fields_ = _source_fields(record)
    digest = _hash(fields_)
    previous = known.get(record.source_id)
    if previous is not None and previous[2] == digest and previous[3] is None:
        report.unchanged.append(record.source_id)
        return
    record_date = record.last_verified or record.source_updated_on
    if previous is not None and previous[4] and record_date and record_date < previous[4]:
        report.older.append(record.source_id)   # an older extract never undoes a newer one
        return
    commune = _resolve_commune(session, record)
    if commune is None and record.lon is None:
        report.rejected.append(Rejection(
            line, "ni coordonnées ni commune connue : impossible de localiser",
            record.source_id))
        return
    if commune is None:
        report.outside_communes.append(record.source_id)
    elif (d := _dept(commune[0])) is not None:
        depts.add(d)
    approximate = record.lon is None or record.lat is None
    if approximate:
        report.approximate.append(record.source_id)
    fields_.update(commune_code=commune[0] if commune else None,
                   commune_name=commune[1] if commune else record.commune_name,
                   approximate=approximate)
    structure_id = previous[1] if previous else None
    holder = finess_owner.get(record.finess_et) if record.finess_et else None
    if structure_id is None and holder is not None:
        structure_id = holder
    elif holder is not None and holder != structure_id:
        report.rejected.append(Rejection(
            line, f"numéro FINESS ET {record.finess_et} déjà porté par une autre structure",
            record.source_id))
        return
    if structure_id is None and not record.finess_et and record.siret and record.address:
        row = session.execute(text(
            "SELECT id FROM structures WHERE siret = :s AND address = :a LIMIT 1"),
            {"s": record.siret, "a": record.address}).first()
        structure_id = row.id if row else None
    params = {"sid": structure_id, "source": record.source, "source_id": record.source_id,
              "date": record.last_verified or record.source_updated_on,
              "fields": json.dumps(fields_, ensure_ascii=False, default=str), "hash": digest}
    if structure_id is None:
        outcome = report.created
        rows = [{"id": 0, "source": record.source, "source_date": params["date"],
                 "closed_at": None, "fields": fields_}]
    else:
        outcome = report.updated if previous else report.merged
        session.execute(text(
            "INSERT INTO structure_sources (structure_id, source, source_id, source_date, "
            "fields, content_hash) VALUES (:sid, :source, :source_id, :date, "
            "CAST(:fields AS jsonb), :hash) ON CONFLICT (source, source_id) DO UPDATE SET "
            "structure_id = EXCLUDED.structure_id, source_date = EXCLUDED.source_date, "
            "fields = EXCLUDED.fields, content_hash = EXCLUDED.content_hash, "
            "closed_at = NULL, seen_at = now()"), params)
        rows = _source_rows(session, structure_id)
    merged, extra = merge_sources(rows)
    new_id = _write_structure(session, structure_id, merged, extra, cats)
    if structure_id is None:
        session.execute(text(
            "INSERT INTO structure_sources (structure_id, source, source_id, source_date, "
            "fields, content_hash) VALUES (:sid, :source, :source_id, :date, "
            "CAST(:fields AS jsonb), :hash)"), {**params, "sid": new_id})
    if merged.finess_et:
        finess_owner[merged.finess_et] = new_id
    known[record.source_id] = (0, new_id, digest, None, record_date)
    outcome.append(record.source_id)


def _source_rows(session: Session, structure_id: int) -> list[dict[str, Any]]:
    return [dict(r) for r in session.execute(text(
        "SELECT id, source, source_date, closed_at, fields FROM structure_sources "
        "WHERE structure_id = :id"), {"id": structure_id}).mappings()]


def _write_structure(session: Session, structure_id: int | None, record: StructureRecord,
                     extra: dict[str, Any], cats: dict[str, tuple[str, str]]) -> int:
    label, sector = cats.get(record.category_code or "", ("", None))
    values = {
        "id": structure_id, "source": record.source, "source_id": record.source_id,
        "name": record.display_name or record.name, "display_name": record.display_name,
        "official_name": extra["official_name"] or record.name,
        "category_code": record.category_code, "sector": sector,
        "finess_et": record.finess_et, "finess_ej": record.finess_ej, "siret": record.siret,
        "address": record.address, "postal_code": record.postal_code,
        "commune_code": record.commune_code, "commune_name": record.commune_name,
        "lon": record.lon, "lat": record.lat, "approximate": extra["approximate"],
        "phone": record.phone, "email": record.email, "website": record.website,
        "opening_hours": record.opening_hours, "description": record.description,
        "last_verified": record.last_verified, "last_updated": extra["last_updated"],
        "status": "closed" if extra["closed"] else "open", "closed_at": extra["closed_at"]
        if extra["closed"] else None,
        "search_text": search_text(record, category_label=label,
                                   commune_name=record.commune_name or "",
                                   other_names=extra["other_names"]),
    }
    values["hash"] = _hash({k: v for k, v in values.items() if k != "id"})
    point_sql = ("CASE WHEN CAST(:approximate AS boolean) THEN (SELECT ST_Transform(point, 4326) "
                 "FROM communes WHERE code = CAST(:commune_code AS varchar)) ELSE ST_SetSRID("
                 "ST_MakePoint(CAST(:lon AS float8), CAST(:lat AS float8)), 4326) END")
    columns = ["name", "display_name", "official_name", "category_code", "sector", "finess_et", "finess_ej", "siret", "address", "postal_code", "commune_code", "commune_name", "approximate_location", "phone", "email", "website", "opening_hours", "description", "last_verified", "last_updated", "status", "closed_at", "search_text", "content_hash"]
    binds = [":approximate" if c == "approximate_location" else
             ":hash" if c == "content_hash" else f":{c}" for c in columns]
    # Column names and point_sql are constants of this module; values are bound parameters.
    if structure_id is None:
        new_id = int(session.execute(text(
            f"INSERT INTO structures (source, source_id, point, {', '.join(columns)}) "  # noqa: S608
            f"VALUES (:source, :source_id, {point_sql}, {', '.join(binds)}) RETURNING id"),
            values).scalar_one())
        _write_services(session, new_id, record.services)
        return new_id
    sets = ", ".join(f"{c} = {b}" for c, b in zip(columns, binds, strict=True))
    session.execute(text(f"UPDATE structures SET point = {point_sql}, {sets}, updated_at = now() "  # noqa: S608
                         "WHERE id = :id"), values)
    session.execute(text("DELETE FROM services WHERE structure_id = :id"), {"id": structure_id})
    _write_services(session, structure_id, record.services)
    return structure_id


def _write_services(session: Session, structure_id: int, services: list[ServiceRecord]) -> None:
    for service in services:
        session.execute(text(
            "INSERT INTO services (structure_id, name, description, publics, thematiques, "
            "access_conditions, fees, fees_details, zone_type, zone_codes, opening_hours) "
            "VALUES (:sid, :name, :description, :publics, :thematiques, :access, :fees, "
            ":fees_details, :zone_type, :zone_codes, :hours)"),
            {"sid": structure_id, "name": service.name, "description": service.description,
             "publics": service.publics, "thematiques": service.thematiques,
             "access": service.access_conditions, "fees": service.fees,
             "fees_details": service.fees_details, "zone_type": service.zone_type,
             "zone_codes": service.zone_codes, "hours": service.opening_hours})


def _close_missing(session: Session, source: str, seen: set[str], *, extract: date,
                   depts: set[str], report: ImportReport) -> None:
    rows = session.execute(text(
        "SELECT ss.id, ss.structure_id, ss.source_id, st.commune_code FROM structure_sources ss "
        "JOIN structures st ON st.id = ss.structure_id WHERE ss.source = :s "
        "AND ss.closed_at IS NULL AND (ss.source_date IS NULL OR ss.source_date < :d)"),
        {"s": source, "d": extract}).all()
    cats = {r.code: (r.label, r.sector) for r in session.execute(
        text("SELECT code, label, sector FROM categories"))}
    for row in rows:
        if row.source_id in seen or _dept(row.commune_code) not in depts:
            continue
        # The source vouches for the closure on the extract's date.
        session.execute(text("UPDATE structure_sources SET closed_at = :d, source_date = :d "
                             "WHERE id = :id"),
                        {"d": extract, "id": row.id})
        merged, extra = merge_sources(_source_rows(session, row.structure_id))
        _write_structure(session, row.structure_id, merged, extra, cats)
        report.closed.append(row.source_id)


def _resolve_commune(session: Session, record: StructureRecord) -> tuple[str, str] | None:
    if record.commune_code:
        row = session.execute(text("SELECT code, nom FROM communes WHERE code = :c"),
                              {"c": record.commune_code}).one_or_none()
        if row is not None:
            return row.code, row.nom
    if record.lon is not None and record.lat is not None:
        row = session.execute(text(
            "SELECT code, nom FROM communes WHERE ST_Contains(geom, ST_Transform("
            "ST_SetSRID(ST_MakePoint(:lon, :lat), 4326), 2154)) LIMIT 1"),
            {"lon": record.lon, "lat": record.lat}).one_or_none()
        if row is not None:
            return row.code, row.nom
    return None


def stale(session: Session, *, dept: str | None = None, today: date | None = None
          ) -> list[dict[str, Any]]:
    """Structures not verified for more than 12 months (or never)."""
    limit = (today or date.today()) - STALE_AFTER
    rows = session.execute(text(
        "SELECT id, name, source, source_id, commune_code, commune_name, last_verified "
        "FROM structures WHERE status = 'open' AND (last_verified IS NULL OR last_verified < :limit) "
        "AND (:dept = '' OR commune_code LIKE :dept || '%') ORDER BY last_verified NULLS FIRST, name"),
        {"limit": limit, "dept": dept or ""}).mappings().all()
    return [dict(r) for r in rows]


def counts_by_dept(session: Session, *, depts: Iterable[str]) -> dict[str, dict[str, Any]]:
    """Open structures per département: total, by sector and by category (most first).

    Returns
    -------
    dict
        ``{dept: {"total": n, "sectors": {sector: n}, "categories": [(label, n), …]}}``.
    """
    out: dict[str, dict[str, Any]] = {}
    for dept in depts:
        rows = session.execute(text(
            "SELECT s.sector, coalesce(c.label, 'sans catégorie') AS label, "
            "count(*) AS n FROM structures s LEFT JOIN categories c ON c.code = s.category_code "
            "WHERE s.status = 'open' AND s.commune_code LIKE :d || '%' "
            "GROUP BY s.sector, 2 ORDER BY n DESC, label"), {"d": dept}).all()
        sectors: dict[str, int] = {}
        for row in rows:
            sectors[row.sector or "non classé"] = sectors.get(row.sector or "non classé", 0) + row.n
        out[dept] = {"total": sum(r.n for r in rows), "sectors": sectors,
                     "categories": [(r.label, int(r.n)) for r in rows]}
    return out
