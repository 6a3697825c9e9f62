"""Reader of the CSV that coordinators maintain by hand (``directory/templates/``).

One row per structure (and at most one service); columns documented in
``docs/directory-import.md``. Separator ``;`` or ``,``; UTF-8 (with or without BOM) or
Windows-1252, detected.
"""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path

from directory import opening_hours
from directory.records import ReadResult, Rejection, ServiceRecord, StructureRecord
from directory.taxonomy import ALIASES
from geo.communes import INSEE_CODE_RE
from geo.errors import MaillageError
from geo.tables import read_table
from geo.text import fold

SOURCE = "saisie-coordination"
REQUIRED = ("identifiant", "nom", "categorie")
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


def parse_territory(value: str) -> tuple[str | None, list[str], str | None]:
    """``commune:43157,43040`` / ``epci:244301016`` / ``departement:43`` → (type, codes, error)."""
    value = value.strip()
    if not value:
        return None, [], None
    kind, _, codes = value.partition(":")
    kind = fold(kind)
    if kind not in {"commune", "communes", "epci", "departement"} or not codes:
        return None, [], (f"territoire « {value} » invalide (ex. commune:43157,43040 ; "
                          "epci:244301016 ; departement:43)")
    kind = "commune" if kind.startswith("commune") else kind
    items = [c.strip().upper() for c in codes.split(",") if c.strip()]
    if kind == "commune" and not all(INSEE_CODE_RE.match(c) for c in items):
        return None, [], f"code commune invalide dans « {value} »"
    return kind, items, None


def read_csv_template(path: str | Path, *, known_categories: set[str],
                      known_publics: set[str] | None = None) -> ReadResult:
    table = read_table(path)
    header = [fold(h).replace(" ", "_") for h in table.header]
    missing = [c for c in REQUIRED if c not in header]
    if missing:
        raise MaillageError(f"« {table.path.name} » : colonne(s) obligatoire(s) absente(s) : "
                            f"{', '.join(missing)} (voir le modèle directory/templates/"
                            "ressources-modele.csv).")
    col = {name: i for i, name in enumerate(header)}
    result = ReadResult(metadata={"encoding": table.encoding or "xlsx"})
    seen: set[str] = set()
    for line, row in table.rows:
        def get(name: str, row: list[str] = row) -> str:
            i = col.get(name)
            return row[i].strip() if i is not None and i < len(row) else ""

        ident, name = get("identifiant"), get("nom")
        if not ident or not name:
            result.rejections.append(Rejection(line, "identifiant ou nom manquant", ident or None))
            continue
        if ident in seen:
            result.rejections.append(Rejection(line, "identifiant en double dans le fichier", ident))
            continue
        category = get("categorie")
        category = ALIASES.get(fold(category), category)
        if category not in known_categories:
            result.rejections.append(Rejection(line, f"catégorie inconnue « {get('categorie')} »",
                                               ident))
            continue
        errors = []
        lat = lon = None
        if get("latitude") or get("longitude"):
            try:
                lat = float(get("latitude").replace(",", "."))
                lon = float(get("longitude").replace(",", "."))
                if not (-90 <= lat <= 90 and -180 <= lon <= 180):
                    raise ValueError
            except ValueError:
                errors.append(f"coordonnées invalides « {get('latitude')} ; {get('longitude')} »")
        code = get("code_insee").upper()
        if code and not INSEE_CODE_RE.match(code):
            errors.append(f"code INSEE invalide « {code} »")
        hours = get("horaires")
        if hours and (problem := opening_hours.validate(hours)):
            errors.append(f"horaires : {problem}")
        email = get("courriel")
        if email and not _EMAIL.match(email):
            errors.append(f"courriel invalide « {email} »")
        verified = None
        if get("date_verification"):
            try:
                verified = date.fromisoformat(get("date_verification"))
            except ValueError:
                errors.append(f"date de vérification invalide « {get('date_verification')} » "
                              "(AAAA-MM-JJ)")
        publics = [p.strip() for p in get("publics").split(",") if p.strip()]
        if known_publics is not None:
            unknown = [p for p in publics if p not in known_publics]
            if unknown:
                errors.append(f"public(s) inconnu(s) : {', '.join(unknown)}")
        zone_type, zone_codes, zone_error = parse_territory(get("territoire"))
        if zone_error:
            errors.append(zone_error)
        fees = get("frais") or None
        if fees and fees not in {"gratuit", "payant"}:
            errors.append(f"frais « {fees} » : gratuit ou payant")
        if errors:
            result.rejections.append(Rejection(line, " ; ".join(errors), ident))
            continue
        seen.add(ident)
        record = StructureRecord(
            source=SOURCE, source_id=ident, name=name, category_code=category,
            address=get("adresse") or None, commune_code=code or None, lat=lat, lon=lon,
            phone=get("telephone") or None, email=email or None,
            website=get("site_web") or None, opening_hours=hours or None,
            description=get("description") or None, last_verified=verified)
        if get("service") or zone_type:
            record.services.append(ServiceRecord(
                name=get("service") or name, publics=publics,
                access_conditions=get("conditions_acces") or None, fees=fees,
                zone_type=zone_type, zone_codes=zone_codes))
        result.records.append(record)
    return result
