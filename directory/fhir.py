"""Reader of FHIR R4 directory resources: FINESS as FHIR, the ROR, the Annuaire Santé.

Inputs: an ``.ndjson`` file (one resource per line), a ``.tar.gz`` of such files (checked
before reading, streamed: :mod:`directory.archive`), a folder of them, or a JSON ``Bundle``
(``searchset`` or ``collection``, as the ROR and Annuaire Santé APIs return).

Resources read:

* ``Organization``: FINESS ET (identifier system ``urn:oid:1.2.250.1.71.4.2.2``), SIRET
  (``http://sirene.fr``), FINESS EJ (first part of the id ``<EJ>-<ET>`` of the FINESS
  conversion), name, address, telecom, FINESS category (``…/CAT_ETAB`` coding, joined on
  the code), ``meta.lastUpdated``, the ``organization-period`` start (opening), ``active``.
* ``Location``: ``position`` (WGS84), linked by ``managingOrganization``;
  ``hoursOfOperation`` becomes OSM ``opening_hours``.
* ``HealthcareService``: a service of its ``providedBy`` organization (name, type,
  ``coverageArea`` or the ROR ``zoneIntervention`` extension as the territory served,
  ``availableTime`` as opening hours).

The file is read twice, streaming: the first pass indexes positions, hours and services
by organization (small), the second yields one record per organization, so that the
95,333 establishments of the national extract never sit in memory together.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import IO, Any

from directory import opening_hours
from directory.archive import iter_members
from directory.names import city_name, display_name, unquote
from directory.records import (
    ReadResult,
    Rejection,
    ServiceRecord,
    StructureRecord,
    check_date,
    check_position,
    check_record,
    is_email,
    normalise_phone,
    zone_kind,
    zone_type_of,
)
from geo.errors import MaillageError

SOURCE = "finess"
FINESS_ET_SYSTEM = "urn:oid:1.2.250.1.71.4.2.2"
SIRET_SYSTEM = "http://sirene.fr"
CATEGORY_SYSTEM = "CAT_ETAB"   # http://finess.sante.gouv.fr/valuesets/CAT_ETAB
KNOWN_TYPES = ("Organization", "Location", "HealthcareService")
_NOFINESS = re.compile(r"^(?:\d{2}|2[AB]|9[A-F])\d{7}$")
_DATE_IN_NAME = re.compile(r"(?<!\d)(20\d{2})(\d{2})(\d{2})(?!\d)")
_FHIR_DAYS = {"mon": "Mo", "tue": "Tu", "wed": "We", "thu": "Th", "fri": "Fr", "sat": "Sa",
              "sun": "Su"}
#: Largest single JSON document (Bundle) read at once.
MAX_BUNDLE_BYTES = 256 * 1024 ** 2
#: Longest NDJSON line (one resource) read; a longer line is rejected unread.
MAX_LINE_BYTES = 16 * 1024 ** 2
_SUFFIXES = (".ndjson", ".json")


@dataclass
class _Index:
    """What the first pass keeps per organization reference (``Organization/<id>``)."""

    organizations: dict[str, int] = field(default_factory=dict)   # id → line
    positions: dict[str, tuple[float, float]] = field(default_factory=dict)
    hours: dict[str, str] = field(default_factory=dict)
    services: dict[str, list[ServiceRecord]] = field(default_factory=dict)
    resources: int = 0
    errors: int = 0


@dataclass
class FhirReader:
    """Streaming FHIR reader; iterate :meth:`records`, then read ``rejections``.

    Parameters
    ----------
    path
        ``.ndjson``, ``.json`` (Bundle or one resource), ``.tar.gz`` / ``.tgz``, or a folder.
    dept
        Keep the establishments of this département only (postal code, or the FINESS ET
        for Corsica); ``None`` keeps all.
    known_categories
        Accepted FINESS category codes; an Organization with another one is rejected.
    source
        Source name stored with the records (``finess`` for the FINESS conversion).
    extract_date
        Date of the extract; default: a ``YYYYMMDD`` date in the file name, or the
        Bundle's ``meta.lastUpdated`` / ``timestamp``.
    """

    path: Path
    dept: str | None = None
    known_categories: frozenset[str] | None = None
    source: str = SOURCE
    extract_date: date | None = None
    rejections: list[Rejection] = field(default_factory=list)
    metadata: dict[str, str] = field(default_factory=dict)
    #: Called every 1,000 resources with (resources done, total): total is 0 during the
    #: first pass (indexing), the number of resources during the second.
    progress: Callable[[int, int], None] | None = None

    def __post_init__(self) -> None:
        self.path = Path(self.path)
        if not self.path.exists():
            raise MaillageError(f"Fichier FHIR introuvable : « {self.path} ».")
        if self.extract_date is None:
            match = _DATE_IN_NAME.search(self.path.name)
            if match:
                try:
                    self.extract_date = date(*(int(g) for g in match.groups()))
                except ValueError:
                    self.extract_date = None
        self._files = self._inputs()

    # -- inputs -------------------------------------------------------------------------
    def _inputs(self) -> list[Path]:
        if self.path.is_dir():
            files = sorted(p for p in self.path.iterdir() if p.is_file() and _is_input(p))
            if not files:
                raise MaillageError(f"Le dossier « {self.path} » ne contient aucun fichier FHIR "
                                    "(.ndjson, .json, .tar.gz).")
            return files
        if not _is_input(self.path):
            raise MaillageError(f"« {self.path.name} » : format non reconnu (attendu .ndjson, "
                                ".json, .tar.gz ou un dossier).")
        return [self.path]

    def _resources(self) -> Iterator[tuple[str, int, Any]]:
        """Yield (where, line, resource or a French error string) over every input."""
        for path in self._files:
            name = path.name.lower()
            if name.endswith((".tar.gz", ".tgz")):
                for member, stream in iter_members(path, suffixes=_SUFFIXES):
                    where = f"{path.name}/{member}"
                    yield from self._stream(where, stream, bundle=member.endswith(".json"))
            else:
                try:
                    with path.open("rb") as fh:
                        yield from self._stream(path.name, fh, bundle=name.endswith(".json"))
                except OSError as exc:
                    raise MaillageError(f"Fichier « {path} » illisible ({exc.strerror}).") from exc

    def _stream(self, where: str, fh: IO[bytes], *, bundle: bool) -> Iterator[tuple[str, int, Any]]:
        if bundle:
            raw = fh.read(MAX_BUNDLE_BYTES + 1)
            if len(raw) > MAX_BUNDLE_BYTES:
                raise MaillageError(f"« {where} » : document JSON de plus de "
                                    f"{MAX_BUNDLE_BYTES // 1024 ** 2} Mo (utilisez du NDJSON).")
            try:
                doc = json.loads(raw.decode("utf-8-sig"))
            except (UnicodeDecodeError, ValueError, RecursionError) as exc:
                raise MaillageError(f"« {where} » n'est pas un document JSON lisible "
                                    f"({exc}).") from exc
            yield from self._bundle(where, doc, line=1)
            return
        number = 0
        while raw_line := fh.readline(MAX_LINE_BYTES + 1):
            number += 1
            if len(raw_line) > MAX_LINE_BYTES and not raw_line.endswith(b"\n"):
                while (rest := fh.readline(MAX_LINE_BYTES)) and not rest.endswith(b"\n"):
                    pass                      # skip the rest of the giant line, unread
                yield where, number, (f"ligne de plus de {MAX_LINE_BYTES // 1024 ** 2} Mo : "
                                      "ignorée")
                continue
            if not raw_line.strip():
                continue
            try:
                resource = json.loads(raw_line.decode("utf-8"))
            except UnicodeDecodeError:
                yield where, number, "ligne qui n'est pas en UTF-8"
                continue
            except json.JSONDecodeError as exc:
                yield where, number, f"ligne qui n'est pas du JSON ({exc.msg}, colonne {exc.colno})"
                continue
            except (ValueError, RecursionError):
                yield where, number, "ligne JSON illisible (imbrication ou nombre démesurés)"
                continue
            yield from self._bundle(where, resource, line=number)

    def _bundle(self, where: str, doc: Any, *, line: int) -> Iterator[tuple[str, int, Any]]:
        if isinstance(doc, dict) and doc.get("resourceType") == "Bundle":
            if self.extract_date is None:
                stamp = str(doc.get("timestamp") or _dict(doc.get("meta")).get("lastUpdated") or "")
                self.extract_date = _date(stamp)
            entries = doc.get("entry") or []
            if not isinstance(entries, list):
                yield where, line, "Bundle dont « entry » n'est pas une liste"
                return
            for i, entry in enumerate(entries, start=1):
                resource = entry.get("resource") if isinstance(entry, dict) else None
                # In a Bundle document, the « line » is the entry number.
                yield where, i if line == 1 else line, resource if resource is not None \
                    else f"entrée {i} du Bundle sans « resource »"
            return
        yield where, line, doc

    # -- pass 1 -----------------------------------------------------------------------
    def _index(self) -> _Index:
        index = _Index()
        valid = 0
        for seen, (_where, number, resource) in enumerate(self._resources(), start=1):
            if self.progress is not None and seen % 1000 == 0:
                self.progress(seen, 0)
            if isinstance(resource, str):
                index.errors += 1
                continue               # reported in pass 2
            if not isinstance(resource, dict):
                continue
            valid += 1
            kind = resource.get("resourceType")
            rid = str(resource.get("id") or "")
            if kind == "Organization" and rid:
                index.organizations.setdefault(f"Organization/{rid}", number)
            elif kind == "Location":
                ref = _reference(resource.get("managingOrganization"))
                if ref is None:
                    continue
                position = resource.get("position")
                if isinstance(position, dict) and ref not in index.positions:
                    lat, lon = position.get("latitude"), position.get("longitude")
                    if check_position(lat, lon) is None \
                            and isinstance(lat, (int, float)) and isinstance(lon, (int, float)):
                        index.positions[ref] = (float(lat), float(lon))  # type: ignore[arg-type]
                hours = _hours(resource.get("hoursOfOperation"), start="openingTime",
                               end="closingTime")
                if hours and ref not in index.hours:
                    index.hours[ref] = hours
            elif kind == "HealthcareService":
                ref = _reference(resource.get("providedBy"))
                if ref is not None:
                    index.services.setdefault(ref, []).append(_service(resource))
        index.resources = valid
        if valid == 0:
            raise MaillageError(f"« {self.path.name} » ne contient aucune ressource FHIR lisible "
                                "(une ressource JSON par ligne, ou un Bundle, attendus).")
        return index

    # -- pass 2 -----------------------------------------------------------------------
    def records(self) -> Iterator[StructureRecord]:
        """Yield one record per kept Organization; rejections accumulate meanwhile."""
        index = self._index()
        index_errors = index.errors
        known = self.known_categories
        if known is None:
            from directory.taxonomy import category_codes

            known = category_codes()
        seen: dict[str, int] = {}
        location_seen: dict[str, int] = {}
        counts = {"organisations": 0, "hors_departement": 0, "ressources": 0}
        for done, (where, number, resource) in enumerate(self._resources(), start=1):
            if self.progress is not None and done % 1000 == 0:
                self.progress(done, index.resources + index_errors)
            prefix = "" if len(self._files) == 1 and "/" not in where else f"{where}, "
            counts["ressources"] += 1

            def reject(reason: str, ident: str | None = None, *, kept: bool = False,
                       _n: int = number, _p: str = prefix) -> None:
                self.rejections.append(Rejection(_n, _p + reason, ident, kept=kept))

            if isinstance(resource, str):
                reject(resource)
                continue
            if not isinstance(resource, dict):
                reject("ressource qui n'est pas un objet JSON")
                continue
            kind = resource.get("resourceType")
            if kind not in KNOWN_TYPES:
                reject(f"type de ressource inconnu « {str(kind)[:40]} » (Organization, "
                       "Location ou HealthcareService attendus)",
                       str(resource.get("id") or "")[:100] or None)
                continue
            if kind == "Location":
                self._check_location(resource, index, location_seen, number, reject)
                continue
            if kind == "HealthcareService":
                if _reference(resource.get("providedBy")) not in index.organizations:
                    reject("service (HealthcareService) rattaché à une organisation absente du "
                           "fichier", str(resource.get("id") or "") or None)
                continue
            record = self._organization(resource, number, index, known, reject)
            if record is None:
                continue
            if self.dept is not None and _dept_of(record) != self.dept:
                counts["hors_departement"] += 1
                continue
            if record.source_id in seen:
                reject(f"établissement en double (déjà ligne {seen[record.source_id]})",
                       record.source_id)
                continue
            seen[record.source_id] = number
            record.line = number
            counts["organisations"] += 1
            yield record
        if self.progress is not None:
            self.progress(counts["ressources"], counts["ressources"])
        self.metadata.update({k: str(v) for k, v in counts.items()})
        if self.extract_date:
            self.metadata["date"] = self.extract_date.isoformat()

    def _check_location(self, resource: dict[str, Any], index: _Index,
                        location_seen: dict[str, int], number: int,
                        reject: Callable[..., None]) -> None:
        ident = str(resource.get("id") or "")[:100] or None
        ref = _reference(resource.get("managingOrganization"))
        if ref is None:
            reject("lieu (Location) sans « managingOrganization »", ident)
            return
        if ref not in index.organizations:
            reject(f"lieu (Location) rattaché à une organisation absente du fichier "
                   f"« {ref[:60]} »", ident)
            return
        if ref in location_seen:
            reject(f"second lieu pour la même organisation (déjà ligne {location_seen[ref]}) : "
                   "ignoré", ident)
            return
        location_seen[ref] = number
        position = resource.get("position")
        if position is None:
            return
        if not isinstance(position, dict):
            reject("position illisible : établissement gardé, placé à sa commune", ident,
                   kept=True)
            return
        problem = check_position(position.get("latitude"), position.get("longitude"))
        if problem:
            reject(f"{problem} : établissement gardé, placé à sa commune", ident, kept=True)

    def _organization(self, org: dict[str, Any], number: int, index: _Index,
                      known: frozenset[str], reject: Callable[..., None]
                      ) -> StructureRecord | None:
        rid = str(org.get("id") or "")
        identifiers = _list(org.get("identifier"))
        if not isinstance(identifiers, list) or not identifiers:
            reject("organisation sans identifiant (FINESS, SIRET…)", rid[:100] or None)
            return None
        finess = siret = None
        for ident in identifiers:
            if not isinstance(ident, dict):
                continue
            system, value = str(ident.get("system") or ""), str(ident.get("value") or "").strip()
            if system == FINESS_ET_SYSTEM:
                finess = value.upper()
            elif system == SIRET_SYSTEM:
                siret = value
        if finess is not None and not _NOFINESS.match(finess):
            reject(f"numéro FINESS ET invalide « {finess[:20]} » (9 caractères attendus)",
                   rid[:100] or None)
            return None
        source_id = finess or rid
        if not source_id:
            reject("organisation sans identifiant utilisable", None)
            return None
        if len(source_id) > 100:
            reject(f"identifiant trop long ({len(source_id)} caractères, 100 au plus)")
            return None
        name = unquote(str(org.get("name") or ""))
        if not name:
            reject("organisation sans nom", source_id)
            return None
        category = None
        for coding in _codings(org.get("type")):
            if str(coding.get("system") or "").endswith(CATEGORY_SYSTEM):
                category = str(coding.get("code") or "").strip()
                break
        if category is not None and category not in known:
            reject(f"catégorie FINESS inconnue « {category[:10]} » : absente de la taxonomie "
                   "de l'annuaire", source_id)
            return None
        address = _dict(next(iter(_list(org.get("address"))), {}))
        lines = [str(x).strip() for x in _list(address.get("line")) if str(x).strip()]
        postal = str(address.get("postalCode") or "").strip()
        city = str(address.get("city") or "").strip()
        phone: str | None = None
        email: str | None = None
        website: str | None = None
        for telecom in _list(org.get("telecom")):
            if not isinstance(telecom, dict):
                continue
            channel, value = telecom.get("system"), str(telecom.get("value") or "").strip()
            if channel == "phone" and phone is None:
                phone = normalise_phone(value)
            elif channel == "email" and email is None and is_email(value):
                email = value
            elif channel == "url" and website is None and value:
                website = value
        updated = _date(str(_dict(org.get("meta")).get("lastUpdated") or ""))
        opened = None
        for ext in _list(org.get("extension")):
            if isinstance(ext, dict) and str(ext.get("url", "")).endswith("organization-period"):
                opened = _date(str(_dict(ext.get("valuePeriod")).get("start") or ""))
        if opened is not None and (problem := check_date(opened, what="date d'ouverture",
                                                         future_ok=True)):
            # Real FINESS typos (« 0202-02-24 »): the establishment stays, the date goes.
            reject(f"{problem} : établissement gardé sans date d'ouverture", source_id,
                   kept=True)
            opened = None
        ref = f"Organization/{rid}"
        position = index.positions.get(ref)
        ej = rid.split("-")[0] if finess and re.fullmatch(r"[0-9AB]{9}-[0-9A-F]{9}", rid) else None
        record = StructureRecord(
            source=self.source, source_id=source_id, name=name, display_name=display_name(name),
            category_code=category, finess_et=finess, finess_ej=ej,
            siret=siret if siret and re.fullmatch(r"\d{14}", siret) else None,
            address=", ".join(p for p in (*lines, f"{postal} {city}".strip()) if p) or None,
            postal_code=postal if re.fullmatch(r"\d{5}", postal) else None,
            commune_name=city_name(city) or None if city else None,
            lat=position[0] if position else None, lon=position[1] if position else None,
            phone=phone, email=email, website=website, opening_hours=index.hours.get(ref),
            opened_on=opened, source_updated_on=updated,
            last_verified=self.extract_date or updated,
            closed=org.get("active") is False, services=index.services.get(ref, []))
        problem = check_record(record)
        if problem:
            reject(problem, source_id)
            return None
        return record


def read_fhir(path: str | Path, *, dept: str | None = None,
              known_categories: Iterable[str] | None = None, source: str = SOURCE,
              extract_date: date | None = None) -> ReadResult:
    """Read a whole FHIR input into a :class:`ReadResult` (small files, tests).

    See :class:`FhirReader` for the parameters; the CLI streams instead.
    """
    reader = FhirReader(Path(path), dept=dept, source=source, extract_date=extract_date,
                        known_categories=frozenset(known_categories)
                        if known_categories is not None else None)
    records = list(reader.records())
    reader.rejections.sort(key=lambda r: r.line)
    return ReadResult(records=records, rejections=reader.rejections, metadata=reader.metadata)


def _dict(value: Any) -> dict[str, Any]:
    """``value`` when it is a JSON object, else an empty one (hostile input)."""
    return value if isinstance(value, dict) else {}


def _list(value: Any) -> list[Any]:
    """``value`` when it is a JSON array, else an empty one (hostile input)."""
    return value if isinstance(value, list) else []


def _is_input(path: Path) -> bool:
    return path.name.lower().endswith((".ndjson", ".json", ".tar.gz", ".tgz"))


def _date(value: str) -> date | None:
    try:
        return date.fromisoformat(value.strip()[:10])
    except ValueError:
        return None


def _reference(value: Any) -> str | None:
    if not isinstance(value, dict):
        return None
    ref = value.get("reference")
    return str(ref) if isinstance(ref, str) and ref.startswith("Organization/") else None


def _codings(value: Any) -> Iterator[dict[str, Any]]:
    for concept in value if isinstance(value, list) else [value]:
        if isinstance(concept, dict):
            for coding in _list(concept.get("coding")):
                if isinstance(coding, dict):
                    yield coding


def _dept_of(record: StructureRecord) -> str | None:
    finess = record.finess_et or ""
    if finess[:2] in {"2A", "2B"}:
        return finess[:2]
    postal = record.postal_code or ""
    if postal.startswith("97"):
        return postal[:3]
    return postal[:2] or (finess[:2] if finess else None)


def _hours(items: Any, *, start: str, end: str) -> str | None:
    """FHIR ``hoursOfOperation`` / ``availableTime`` → OSM ``opening_hours``, or ``None``."""
    if not isinstance(items, list) or not items:
        return None
    by_days: dict[tuple[str, ...], list[str]] = {}
    for item in items:
        if not isinstance(item, dict):
            return None
        days = tuple(_FHIR_DAYS[d] for d in _list(item.get("daysOfWeek"))
                     if isinstance(d, str) and d in _FHIR_DAYS)
        if not days:
            continue
        if item.get("allDay"):
            span = "00:00-24:00"
        else:
            a, b = str(item.get(start) or "")[:5], str(item.get(end) or "")[:5]
            if not (re.fullmatch(r"\d{2}:\d{2}", a) and re.fullmatch(r"\d{2}:\d{2}", b)):
                return None
            span = f"{a}-{'24:00' if b == '00:00' else b}"
        by_days.setdefault(days, []).append(span)
    rules = [f"{_day_list(days)} {','.join(sorted(spans))}" for days, spans in by_days.items()]
    value = "; ".join(rules)
    return value if rules and opening_hours.validate(value) is None and len(value) <= 300 \
        else None


def _day_list(days: tuple[str, ...]) -> str:
    order = list(_FHIR_DAYS.values())
    idx = sorted({order.index(d) for d in days})
    parts: list[str] = []
    run = [idx[0]]
    for i in idx[1:]:
        if i == run[-1] + 1:
            run.append(i)
        else:
            parts.append(_run(run, order))
            run = [i]
    parts.append(_run(run, order))
    return ",".join(parts)


def _run(run: list[int], order: list[str]) -> str:
    if len(run) >= 3:
        return f"{order[run[0]]}-{order[run[-1]]}"
    return ",".join(order[i] for i in run)


def _service(resource: dict[str, Any]) -> ServiceRecord:
    types = [str(c.get("display") or c.get("code") or "") for c in _codings(resource.get("type"))]
    categories = [str(c.get("display") or c.get("code") or "")
                  for c in _codings(resource.get("category"))]
    zones: list[str] = []
    for area in _list(resource.get("coverageArea")):
        if isinstance(area, dict):
            for candidate in (str(_dict(area.get("identifier")).get("value") or ""),
                              str(area.get("display") or "")):
                if zone_kind(candidate):
                    zones.append(candidate.strip().upper())
                    break
    zones += _zone_extension(resource.get("extension"))
    zones = list(dict.fromkeys(zones))
    name = unquote(str(resource.get("name") or "")) or (types[0] if types else "Service")
    return ServiceRecord(
        name=name[:300], description=str(resource.get("comment") or "") or None,
        thematiques=[c for c in categories if c][:20], types=[t for t in types if t][:20],
        zone_codes=zones, zone_type=zone_type_of(zones),
        opening_hours=_hours(resource.get("availableTime"), start="availableStartTime",
                             end="availableEndTime"),
        source_id=str(resource.get("id") or "") or None)


def _zone_extension(extensions: Any, *, inside: bool = False) -> list[str]:
    """INSEE / SIREN / département codes of a ROR ``zoneIntervention`` extension.

    Codes are taken only inside an extension whose URL names ``zoneIntervention`` (or
    ``zone-intervention``), at any depth of its nested extensions.
    """
    out: list[str] = []
    for ext in extensions if isinstance(extensions, list) else []:
        if not isinstance(ext, dict):
            continue
        url = str(ext.get("url") or "").lower().replace("-", "").replace("_", "")
        here = inside or "zoneintervention" in url
        if here:
            for key in ("valueCode", "valueString"):
                if isinstance(ext.get(key), str) and zone_kind(ext[key]):
                    out.append(ext[key].strip().upper())
            for coding in _codings(ext.get("valueCodeableConcept")):
                code = str(coding.get("code") or "")
                if zone_kind(code):
                    out.append(code.strip().upper())
        if ext.get("extension"):
            out += _zone_extension(ext["extension"], inside=here)
    return out
