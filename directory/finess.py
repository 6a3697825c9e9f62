"""Reader of the FINESS extraction file (``etalab-cs1100507-stock-*.csv``).

Line 1 is metadata (``finess;etalab;<version>;<date>``); then ``structureet`` lines (32
fields) and ``geolocalisation`` lines, in the recent layout (6 fields, the coordinate
source comma-separated) or the older one (the same pieces split by ``;``). Coordinates
are in metres: Lambert-93 in metropolitan France, UTM overseas (``geo.crs``). Encoding is
UTF-8 in recent files, ISO-8859-1 in older ones: detected per file. See
``docs/directory-import.md``.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import date
from pathlib import Path

from directory.records import ReadResult, Rejection, StructureRecord
from geo import settings
from geo.crs import transform_xy
from geo.errors import MaillageError

SOURCE = "finess"
_NOFINESS = re.compile(r"^[0-9][0-9AB][0-9]{7}$")
#: CRS named in the ``sourcecoordet`` string.
_PROJECTIONS = {"LAMBERT_93": "EPSG:2154", "UTM_N20": "EPSG:5490", "UTM_N22": "EPSG:2972",
                "UTM_S40": "EPSG:2975", "UTM_S38": "EPSG:4471", "UTM_N21": "EPSG:4467"}
#: Plausible WGS84 bounds of metropolitan France (lon_min, lat_min, lon_max, lat_max).
_METROPOLE = (-5.5, 41.0, 10.0, 51.5)
_TYPVOIE = {"R": "rue", "AV": "avenue", "BD": "boulevard", "RTE": "route", "PL": "place",
            "CHE": "chemin", "ALL": "allée", "IMP": "impasse", "QUA": "quai", "CRS": "cours",
            "FG": "faubourg", "LD": "lieu-dit", "SQ": "square"}


def _decode(raw: bytes, path: Path) -> str:
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        return raw.decode("latin-1")  # ISO-8859-1 decodes any byte: older extracts


def _dept(code: str) -> str:
    code = code.strip().upper()
    return code.zfill(2) if code.isdigit() and len(code) < 3 else code


def _date(value: str) -> date | None:
    try:
        return date.fromisoformat(value.strip()[:10])
    except ValueError:
        return None


def read_finess(path: str | Path, *, dept: str | None = None,
                known_categories: Iterable[str] | None = None) -> ReadResult:
    """Read a FINESS extraction; keep the establishments of ``dept`` (all when ``None``)."""
    path = Path(path)
    if not path.is_file():
        raise MaillageError(f"Fichier FINESS introuvable : « {path} ».")
    lines = _decode(path.read_bytes(), path).splitlines()
    if not lines or not lines[0].lower().startswith("finess;"):
        raise MaillageError(
            f"« {path.name} » n'est pas une extraction FINESS : la première ligne doit être "
            "« finess;etalab;<version>;<date> ».")
    meta = lines[0].split(";")
    result = ReadResult(metadata={"version": meta[2] if len(meta) > 2 else "",
                                  "date": meta[3] if len(meta) > 3 else ""})
    known = set(known_categories) if known_categories is not None else None
    records: dict[str, tuple[int, StructureRecord]] = {}
    geoloc: dict[str, tuple[int, list[str]]] = {}
    extract_date = _date(result.metadata["date"])
    for number, line in enumerate(lines[1:], start=2):
        if not line.strip():
            continue
        fields = line.split(";")
        kind = fields[0].strip().lower()
        if kind == "structureet":
            if len(fields) != 32:
                result.rejections.append(Rejection(
                    number, f"ligne structureet de {len(fields)} champs (32 attendus)"))
                continue
            record = _structure(fields, number, result, known, dept, extract_date)
            if record is not None:
                records[record.source_id] = (number, record)
        elif kind == "geolocalisation":
            if len(fields) < 5:
                result.rejections.append(Rejection(number, "ligne geolocalisation incomplète"))
                continue
            geoloc[fields[1].strip()] = (number, fields)
        else:
            result.rejections.append(Rejection(number, f"type de ligne inconnu « {fields[0]} »"))
    for nofinesset, (_line, record) in records.items():
        if nofinesset in geoloc:
            _place(record, *geoloc[nofinesset], result=result)
        result.records.append(record)
    return result


def _structure(f: list[str], number: int, result: ReadResult, known: set[str] | None,
               dept: str | None, extract_date: date | None) -> StructureRecord | None:
    nofinesset = f[1].strip()
    if not nofinesset:
        result.rejections.append(Rejection(number, "numéro FINESS ET manquant"))
        return None
    if not _NOFINESS.match(nofinesset):
        result.rejections.append(Rejection(number, f"numéro FINESS ET invalide « {nofinesset} »"))
        return None
    departement = _dept(f[13])
    if dept is not None and departement != dept:
        return None  # another département: not an error
    category = f[18].strip()
    if known is not None and category not in known:
        result.rejections.append(Rejection(
            number, f"catégorie FINESS inconnue « {category} » ({f[19].strip()})", nofinesset))
        return None
    commune = f[12].strip()
    commune_code = f"{departement}{commune.zfill(3)}" if commune.isdigit() else None
    street = " ".join(p for p in (f[7].strip(), _TYPVOIE.get(f[8].strip(), f[8].strip().lower()),
                                  f[9].strip()) if p)
    routing = f[15].strip()
    postal = routing[:5] if routing[:5].isdigit() else None
    siret = f[22].strip()
    phone = f[16].strip()
    return StructureRecord(
        source=SOURCE, source_id=nofinesset, name=(f[4].strip() or f[3].strip()).strip(),
        category_code=category or None, finess_et=nofinesset, finess_ej=f[2].strip() or None,
        siret=siret if re.fullmatch(r"\d{14}", siret) else None,
        address=", ".join(p for p in (street, f[11].strip(), routing) if p) or None,
        postal_code=postal, commune_code=commune_code,
        commune_name=routing[6:].strip() or None if postal else None,
        phone=_phone(phone), last_verified=_date(f[30]) or extract_date)


def _phone(value: str) -> str | None:
    digits = re.sub(r"\D", "", value)
    if len(digits) == 9:
        digits = "0" + digits
    if len(digits) != 10:
        return None
    return " ".join(digits[i:i + 2] for i in range(0, 10, 2))


def _place(record: StructureRecord, number: int, fields: list[str], *,
           result: ReadResult) -> None:
    x_raw, y_raw = fields[2].strip(), fields[3].strip()
    if not x_raw and not y_raw:
        return  # no coordinates: placed at the commune later, flagged approximate
    source = ",".join(fields[4:]).upper()
    crs = next((c for key, c in _PROJECTIONS.items() if key in source), settings.LAMBERT93)
    try:
        x, y = float(x_raw.replace(",", ".")), float(y_raw.replace(",", "."))
    except ValueError:
        result.rejections.append(Rejection(
            number, f"coordonnées illisibles « {x_raw} ; {y_raw} » : établissement gardé, "
                    "placé à sa commune", record.source_id))
        return
    lon, lat = transform_xy(x, y, source=crs, target=settings.WGS84)
    lon_f, lat_f = float(lon), float(lat)
    if crs == settings.LAMBERT93 and not (_METROPOLE[0] <= lon_f <= _METROPOLE[2]
                                           and _METROPOLE[1] <= lat_f <= _METROPOLE[3]):
        result.rejections.append(Rejection(
            number, f"coordonnées hors de France métropolitaine ({x_raw} ; {y_raw}) : "
                    "établissement gardé, placé à sa commune", record.source_id))
        return
    record.lon, record.lat = round(lon_f, 6), round(lat_f, 6)
