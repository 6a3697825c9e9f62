"""Reader of the CSV that coordinators maintain by hand (``directory/templates/``).

One row per structure, with at most one service; every column is documented in
``docs/directory-import.md`` and listed in :data:`COLUMNS`. Separator ``;`` or ``,``;
UTF-8 (with or without BOM) or Windows-1252, detected (``geo.tables.read_table``, which
also reads the same table saved as ``.xlsx``). Column names are matched without case or
accents (``Catégorie`` = ``categorie``).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import date
from pathlib import Path

from directory import opening_hours
from directory.records import (
    ReadResult,
    Rejection,
    ServiceRecord,
    StructureRecord,
    check_position,
    check_record,
    is_email,
    normalise_phone,
    zone_kind,
)
from directory.taxonomy import SECTORS, Category, load_categories, resolve_category
from geo.communes import INSEE_CODE_RE
from geo.errors import MaillageError
from geo.tables import read_table
from geo.text import fold

SOURCE = "saisie-coordination"
#: Template columns, in the template's order (``description`` is optional, after
#: ``horaires``); the first three are required.
COLUMNS = ("identifiant", "nom", "categorie", "secteur", "adresse", "code_insee", "latitude",
           "longitude", "telephone", "courriel", "site_web", "horaires", "description",
           "service", "publics", "conditions_acces", "frais", "territoire",
           "date_verification")
REQUIRED = ("identifiant", "nom", "categorie")
FEES = ("gratuit", "payant")
_SECTOR_ALIASES = {"sanitaire": "sanitaire", "medico social": "medico-social",
                   "social": "social"}


def parse_territory(value: str) -> tuple[str | None, list[str], str | None]:
    """``commune:43157,43040`` / ``epci:244301016`` / ``departement:43`` → (type, codes, error)."""
    value = value.strip()
    if not value:
        return None, [], None
    kind, _, codes = value.partition(":")
    kind = fold(kind)
    if kind not in {"commune", "communes", "epci", "departement", "departements"} or not codes:
        return None, [], (f"territoire « {value} » invalide (ex. commune:43157,43040 ; "
                          "epci:244301016 ; departement:43)")
    kind = kind.rstrip("s")
    items = [c.strip().upper() for c in codes.split(",") if c.strip()]
    bad = [c for c in items if zone_kind(c) != kind]
    if bad or not items:
        return None, [], f"code(s) {kind} invalide(s) dans « {value} » : {', '.join(bad)}"
    return kind, items, None


def read_csv_template(path: str | Path, *, known_categories: Iterable[str] | None = None,
                      known_publics: Iterable[str] | None = None,
                      categories: Iterable[Category] | None = None) -> ReadResult:
    """Read a coordinators' CSV (or XLSX) file.

    Parameters
    ----------
    path
        The file.
    known_categories
        Accepted category codes; default: those of ``categories``.
    known_publics
        data·inclusion ``publics`` values; ``None`` skips that check.
    categories
        The taxonomy, used to check ``secteur`` against the category's sector; default
        :func:`directory.taxonomy.load_categories` (open-data folder).

    Raises
    ------
    MaillageError
        Unreadable file, unknown encoding, required column missing.
    """
    table = read_table(path)
    header = [fold(h).replace(" ", "_") for h in table.header]
    missing = [c for c in REQUIRED if c not in header]
    if missing:
        raise MaillageError(f"« {table.path.name} » : colonne(s) obligatoire(s) absente(s) : "
                            f"{', '.join(missing)} (voir le modèle directory/templates/"
                            "ressources-modele.csv).")
    taxonomy = list(categories) if categories is not None else (
        load_categories() if known_categories is None else [])
    sector_of = {c.code: c.sector for c in taxonomy}
    known = frozenset(known_categories) if known_categories is not None else frozenset(sector_of)
    publics = frozenset(known_publics) if known_publics is not None else None
    col = {name: i for i, name in enumerate(header) if name}
    result = ReadResult(metadata={"encoding": table.encoding or "xlsx",
                                  "separateur": table.delimiter or ""})
    unknown_columns = [h for h in header if h and h not in COLUMNS]
    if unknown_columns:
        result.metadata["colonnes_ignorees"] = ", ".join(unknown_columns)
    seen: dict[str, int] = {}
    for line, row in table.rows:
        def get(name: str, row: list[str] = row) -> str:
            i = col.get(name)
            return row[i].strip() if i is not None and i < len(row) else ""

        record = _row(get, line, known, sector_of, publics, seen, result)
        if record is not None:
            seen[record.source_id] = line
            result.records.append(record)
    return result


def _row(get: Callable[[str], str], line: int, known: frozenset[str], sector_of: dict[str, str],
         publics: frozenset[str] | None, seen: dict[str, int],
         result: ReadResult) -> StructureRecord | None:
    ident, name = get("identifiant"), get("nom")
    if not ident or not name:
        result.rejections.append(Rejection(line, "identifiant ou nom manquant", ident or None))
        return None
    if ident in seen:
        result.rejections.append(Rejection(
            line, f"identifiant en double dans le fichier (déjà ligne {seen[ident]})", ident))
        return None
    category = resolve_category(get("categorie"), known)
    if category is None:
        result.rejections.append(Rejection(line, f"catégorie inconnue « {get('categorie')} »",
                                           ident))
        return None
    errors: list[str] = []
    sector = _SECTOR_ALIASES.get(fold(get("secteur")), "") if get("secteur") else ""
    if get("secteur") and not sector:
        errors.append(f"secteur « {get('secteur')} » inconnu ({', '.join(SECTORS)})")
    elif sector and category in sector_of and sector_of[category] != sector:
        errors.append(f"secteur « {get('secteur')} » incohérent avec la catégorie {category} "
                      f"({sector_of[category]})")
    lat = lon = None
    if get("latitude") or get("longitude"):
        try:
            lat = float(get("latitude").replace(",", "."))
            lon = float(get("longitude").replace(",", "."))
        except ValueError:
            errors.append(f"coordonnées invalides « {get('latitude')[:30]} ; "
                          f"{get('longitude')[:30]} » (latitude et longitude en degrés "
                          "décimaux, ex. 45,0434 ; 3,8853)")
        else:
            if problem := check_position(lat, lon):
                errors.append(problem)
    code = get("code_insee").upper()
    if code.isdigit() and len(code) == 4:
        code = "0" + code  # a spreadsheet dropped the leading zero (01001 → 1001)
    if code and not INSEE_CODE_RE.match(code):
        errors.append(f"code INSEE invalide « {get('code_insee')} »")
    hours = get("horaires")
    if hours and (problem := opening_hours.validate(hours)):
        errors.append(f"horaires : {problem}")
    email = get("courriel")
    if email and not is_email(email):
        errors.append(f"courriel invalide « {email} »")
    phone = normalise_phone(get("telephone")) if get("telephone") else None
    if get("telephone") and phone is None:
        errors.append(f"téléphone invalide « {get('telephone')} » (10 chiffres attendus)")
    website = get("site_web")
    if website and not website.lower().startswith(("http://", "https://")):
        website = "https://" + website
    verified = None
    if get("date_verification"):
        verified = _date(get("date_verification"))
        if verified is None:
            errors.append(f"date de vérification invalide « {get('date_verification')} » "
                          "(AAAA-MM-JJ ou JJ/MM/AAAA)")
    chosen = [p.strip() for p in get("publics").split(",") if p.strip()]
    if publics is not None:
        unknown = [p for p in chosen if p not in publics]
        if unknown:
            errors.append(f"public(s) inconnu(s) : {', '.join(unknown)}")
    zone_type, zone_codes, zone_error = parse_territory(get("territoire"))
    if zone_error:
        errors.append(zone_error)
    fees = get("frais").lower() or None
    if fees and fees not in FEES:
        errors.append(f"frais « {get('frais')} » : {' ou '.join(FEES)}")
    if errors:
        result.rejections.append(Rejection(line, " ; ".join(errors), ident))
        return None
    record = StructureRecord(
        source=SOURCE, source_id=ident, name=name, category_code=category,
        address=get("adresse") or None, commune_code=code or None, lat=lat, lon=lon,
        phone=phone, email=email or None, website=website or None,
        opening_hours=hours or None, description=get("description") or None,
        last_verified=verified, line=line)
    if get("service") or zone_type or chosen or get("conditions_acces") or fees:
        record.services.append(ServiceRecord(
            name=get("service") or name, publics=chosen,
            access_conditions=get("conditions_acces") or None, fees=fees,
            zone_type=zone_type, zone_codes=zone_codes))
    if problem := check_record(record):
        result.rejections.append(Rejection(line, problem, ident[:100]))
        return None
    return record


def _date(value: str) -> date | None:
    try:
        return date.fromisoformat(value)
    except ValueError:
        pass
    day, _, rest = value.partition("/")
    month, _, year = rest.partition("/")
    try:
        return date(int(year), int(month), int(day))
    except ValueError:
        return None
