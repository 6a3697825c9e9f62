"""Reader of the Eurostat GISCO healthcare file (FINESS-derived hospitals, 2020).

Columns (SOURCES.md §4): ``id`` (FINESS ET), ``hospital_name``, ``lat``/``lon`` (WGS84),
``street``, ``house_number``, ``postcode``, ``city``, ``facility_type`` (the FINESS
category *label*), ``public_private``, ``tel``, ``email``, ``url``, ``ref_date``…

The file gives no category code. :data:`LABEL_TO_CODE` maps each label found in it to
the FINESS ``categetab`` whose TRE_R397 label is character-identical (checked by the
tests against ``nomenclature_categories.csv``), so the rest of the product joins on
codes. The file has no INSEE code: it is found from ``city`` among the communes of the
département (``communes/communes-<dept>.geojson``), so that a hospital whose coordinates
are rejected can still be placed at its commune. ``public_private`` is not used: the FINESS category already tells a CH (public)
from a private clinic, and GISCO's value is empty for 9 of the 71 rows.
"""

from __future__ import annotations

import csv
import json
import re
from datetime import datetime
from functools import lru_cache
from pathlib import Path

from directory.finess import normalise_dept, plausible_bounds
from directory.names import display_name
from directory.records import (
    ReadResult,
    Rejection,
    StructureRecord,
    check_position,
    check_record,
    is_email,
    normalise_phone,
)
from geo import settings
from geo.errors import MaillageError
from geo.text import fold

SOURCE = "gisco-finess-2020"
LABEL_TO_CODE = {
    "Centre Hospitalier (C.H.)": "355",
    "Centre Hospitalier Régional (C.H.R.)": "101",
    "Centre Hospitalier Spécialisé lutte Maladies Mentales": "292",
    "Centre de Lutte Contre Cancer": "131",
    "Etablissement de Soins Longue Durée": "362",
    "Etablissement de Soins Pluridisciplinaire": "365",
    "Etablissement de santé privé autorisé en SSR": "109",
}
_COLUMNS = {"id", "hospital_name", "lat", "lon", "street", "house_number", "postcode", "city",
            "facility_type", "tel", "email", "url", "ref_date"}


def read_gisco_hospitals(path: str | Path, *, dept: str | None = None) -> ReadResult:
    """Read the GISCO hospitals CSV; keep those of ``dept`` (all when ``None``).

    Records have source ``gisco-finess-2020`` and source id = FINESS ET. A row with
    unreadable or implausible coordinates is kept without coordinates and reported.

    Raises
    ------
    MaillageError
        Missing file, not UTF-8, or columns missing.
    """
    path = Path(path)
    if not path.is_file():
        raise MaillageError(f"Fichier introuvable : « {path} ».")
    result = ReadResult(metadata={"source": "Eurostat GISCO, dérivé de FINESS (2020)"})
    wanted = normalise_dept(dept) if dept else None
    try:
        with path.open(encoding="utf-8-sig", newline="") as fh:
            reader = csv.DictReader(fh)
            missing = _COLUMNS - set(reader.fieldnames or [])
            if missing:
                raise MaillageError(f"« {path.name} » n'est pas un fichier GISCO « healthcare » : "
                                    f"colonne(s) absente(s) : {', '.join(sorted(missing))}.")
            seen: set[str] = set()
            for row in reader:
                _row(row, reader.line_num, wanted, seen, result)
            if reader.line_num <= 1:
                raise MaillageError(f"« {path.name} » est vide : aucun hôpital à importer.")
    except UnicodeDecodeError as exc:
        raise MaillageError(f"« {path.name} » : encodage non reconnu (UTF-8 attendu).") from exc
    except csv.Error as exc:   # e.g. a field over the csv module's 128 KiB limit
        raise MaillageError(f"« {path.name} » : CSV illisible ({exc}).") from exc
    return result


def _get(row: dict[str, str | None], key: str) -> str:
    return (row.get(key) or "").strip()


def _row(row: dict[str, str | None], number: int, wanted: str | None, seen: set[str],
         result: ReadResult) -> None:
    finess = _get(row, "id")
    postcode = _get(row, "postcode")
    if not finess:
        result.rejections.append(Rejection(number, "numéro FINESS manquant"))
        return
    row_dept = _dept_of(finess, postcode)
    if wanted is not None and row_dept != wanted:
        return
    if finess in seen:
        result.rejections.append(Rejection(number, "numéro FINESS en double", finess))
        return
    category = LABEL_TO_CODE.get(_get(row, "facility_type"))
    if category is None:
        result.rejections.append(Rejection(
            number, f"type d'établissement inconnu « {_get(row, 'facility_type')} »", finess))
        return
    seen.add(finess)
    lat = lon = None
    if _get(row, "lat") or _get(row, "lon"):
        try:
            lat, lon = float(_get(row, "lat")), float(_get(row, "lon"))
            box = plausible_bounds(row_dept)
            problem = check_position(lat, lon)
            if problem:
                result.rejections.append(Rejection(
                    number, f"{problem} : établissement gardé, placé à sa commune", finess,
                    kept=True))
                lat = lon = None
            elif not (box[0] <= lon <= box[2] and box[1] <= lat <= box[3]):
                result.rejections.append(Rejection(
                    number, f"coordonnées hors du département {row_dept} ({lat} ; {lon}) : "
                            "établissement gardé, placé à sa commune", finess, kept=True))
                lat = lon = None
        except ValueError:
            result.rejections.append(Rejection(
                number, f"coordonnées illisibles « {_get(row, 'lat')[:30]} ; "
                        f"{_get(row, 'lon')[:30]} » : établissement gardé, placé à sa commune",
                finess, kept=True))
            lat = lon = None
    street = " ".join(p for p in (_get(row, "house_number"), _get(row, "street").title()) if p)
    city = _get(row, "city")
    ref = _get(row, "ref_date")
    try:
        verified = datetime.strptime(ref, "%d/%m/%Y").date() if ref else None
    except ValueError:
        result.rejections.append(Rejection(
            number, f"date de référence illisible « {ref[:30]} » (JJ/MM/AAAA attendu)", finess))
        return
    email = _get(row, "email")
    record = StructureRecord(
        source=SOURCE, source_id=finess, finess_et=finess, name=_get(row, "hospital_name"),
        category_code=category,
        address=", ".join(p for p in (street, f"{postcode} {city}".strip()) if p) or None,
        postal_code=postcode or None, commune_code=commune_code(city, dept=row_dept),
        commune_name=city.title() or None, lon=lon, lat=lat,
        phone=normalise_phone(_get(row, "tel")), email=email if is_email(email) else None,
        website=_get(row, "url") or None, last_verified=verified, line=number)
    record.display_name = display_name(record.name)
    problem = check_record(record)
    if problem:
        result.rejections.append(Rejection(number, problem, finess[:100]))
        return
    result.records.append(record)


def _dept_of(finess: str, postcode: str) -> str:
    # The FINESS number starts with the département (2A/2B for Corsica; 97x overseas).
    head = finess[:2].upper()
    if head == "97" or head.startswith("9") and head[1:] in set("ABCDEF"):
        return postcode[:3] if postcode[:3].isdigit() else "97"
    return normalise_dept(head) if head.isdigit() or head in {"2A", "2B"} else postcode[:2]


def _name_key(name: str) -> str:
    words = fold(re.sub(r"\s+CEDEX.*$", "", name, flags=re.IGNORECASE)).split()
    words = [{"st": "saint", "ste": "sainte"}.get(w, w) for w in words]
    return " ".join(words[1:] if len(words) > 1 and words[0] in {"le", "la", "les", "l"}
                    else words)


def commune_code(city: str, *, dept: str) -> str | None:
    """INSEE code of ``city`` (``LE PUY EN VELAY``, ``CLERMONT FERRAND CEDEX 1``) in ``dept``.

    ``None`` when the communes file is missing, the name is unknown or ambiguous.
    """
    return _communes_by_name(dept, settings.data_dir()).get(_name_key(city)) if city else None


@lru_cache(maxsize=16)
def _communes_by_name(dept: str, data_dir: Path) -> dict[str, str | None]:
    path = data_dir / "communes" / f"communes-{dept}.geojson"
    out: dict[str, str | None] = {}
    try:
        features = json.loads(path.read_text(encoding="utf-8"))["features"]
    except (OSError, ValueError, KeyError, TypeError):
        return out
    for feature in features:
        props = feature.get("properties") or {}
        if props.get("nom") and props.get("code"):
            key = _name_key(str(props["nom"]))
            out[key] = None if key in out else str(props["code"])  # homonyms: ambiguous
    return out
