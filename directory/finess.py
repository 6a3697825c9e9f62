"""Reader of the FINESS extraction file (``etalab-cs1100507-stock-*.csv``).

Line 1 is metadata (``finess;etalab;<version>;<date>``); then ``structureet`` lines (32
fields) and ``geolocalisation`` lines, in the recent layout (6 fields, the coordinate
source comma-separated) or the older one (the same pieces split by ``;``). Coordinates
are metres in the projection the source string names (``LAMBERT_93``, ``UTM_N20``… in
old files, ``EPSG:2154 RGF93 / Lambert-93`` in recent ones); without one, Lambert-93 in
metropolitan France and the département's UTM zone overseas (``geo.crs``). Encoding is
UTF-8 in recent files, ISO-8859-1 in older ones: detected per file. Overseas
establishments carry département ``9A``–``9F``; their INSEE code is ``97`` + the 3-digit
commune (``9A`` + ``101`` → ``97101``). See ``docs/directory-import.md``.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from datetime import date
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np

from directory.encoding import decode_extract
from directory.records import (
    METROPOLE,
    OVERSEAS,
    ReadResult,
    Rejection,
    StructureRecord,
    check_position,
    check_record,
    normalise_phone,
)
from geo import settings
from geo.crs import transform_xy, utm_crs_for_dept
from geo.errors import MaillageError

SOURCE = "finess"
STRUCTURE_FIELDS = 32
_NOFINESS = re.compile(r"^(?:\d{2}|2[AB]|9[A-F])\d{7}$")
_EPSG = re.compile(r"EPSG\s*:\s*(\d{4,5})")
_UTM_TEXT = re.compile(r"UTM\s*ZONE\s*(\d{1,2})\s*([NS])")
#: CRS named in the ``sourcecoordet`` string of older files.
_NAMED_CRS = {"LAMBERT_93": settings.LAMBERT93, "LAMBERT93": settings.LAMBERT93,
              "UTM_N20": "EPSG:5490", "UTM_N21": "EPSG:4467", "UTM_N22": "EPSG:2972",
              "UTM_S38": "EPSG:4471", "UTM_S40": "EPSG:2975"}
#: Plausible WGS84 bounds (lon_min, lat_min, lon_max, lat_max) when the département's
#: communes file is not at hand: metropolitan France, then each overseas département.
_METROPOLE = METROPOLE
_OVERSEAS = OVERSEAS
#: Margin around a département's communes (degrees, about 5 km).
_MARGIN = 0.05
_TYPVOIE = {"R": "rue", "AV": "avenue", "BD": "boulevard", "RTE": "route", "PL": "place",
            "CHE": "chemin", "CHEM": "chemin", "ALL": "allée", "IMP": "impasse", "QUA": "quai",
            "QU": "quai", "CRS": "cours", "FG": "faubourg", "LD": "lieu-dit", "SQ": "square",
            "RES": "résidence", "LOT": "lotissement", "MTE": "montée", "PRO": "promenade",
            "HAM": "hameau", "ZA": "ZA", "ZI": "ZI", "ZAC": "ZAC", "QUAR": "quartier"}
_COMPVOIE = {"B": "bis", "T": "ter", "Q": "quater"}


def read_finess(path: str | Path, *, dept: str | None = None,
                known_categories: Iterable[str] | None = None,
                bounds: tuple[float, float, float, float] | None = None) -> ReadResult:
    """Read a FINESS extraction; keep the establishments of ``dept`` (all when ``None``).

    Parameters
    ----------
    path
        The ``etalab-cs1100507-stock-*.csv`` file (UTF-8 or ISO-8859-1).
    dept
        INSEE département code (``43``, ``2A``, ``971``); other départements are skipped
        silently (their count is in ``metadata["hors_departement"]``).
    known_categories
        Accepted ``categetab`` codes; default: the taxonomy
        (:func:`directory.taxonomy.category_codes`).
    bounds
        Plausible WGS84 box (lon_min, lat_min, lon_max, lat_max) for coordinates;
        default: the département's communes (plus about 5 km) when
        ``communes/communes-<dept>.geojson`` is in the data folder, else its region.

    Returns
    -------
    ReadResult
        Records with source ``finess`` and source id = FINESS ET. An establishment with
        unreadable or implausible coordinates is kept without coordinates (placed at its
        commune later) and the geolocalisation line is reported.

    Raises
    ------
    MaillageError
        Missing or unreadable file, unknown encoding, missing metadata line.
    """
    path = Path(path)
    if not path.is_file():
        raise MaillageError(f"Fichier FINESS introuvable : « {path} ».")
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise MaillageError(f"Fichier FINESS illisible : « {path} » ({exc.strerror}).") from exc
    text, encoding = decode_extract(raw, path=path)
    lines = text.splitlines()
    if not lines or not lines[0].lower().startswith("finess;"):
        raise MaillageError(
            f"« {path.name} » n'est pas une extraction FINESS : la première ligne doit être "
            "« finess;etalab;<version>;<date> ».")
    meta = lines[0].split(";")
    result = ReadResult(metadata={"version": meta[2].strip() if len(meta) > 2 else "",
                                  "date": meta[3].strip() if len(meta) > 3 else "",
                                  "encoding": encoding})
    if known_categories is None:
        from directory.taxonomy import category_codes

        known_categories = category_codes()
    known = set(known_categories)
    wanted = normalise_dept(dept) if dept else None
    extract_date = _date(result.metadata["date"])
    records: dict[str, tuple[int, StructureRecord, str]] = {}
    geolines: dict[str, tuple[int, list[str]]] = {}
    counts = {"hors_departement": 0, "geoloc_recente": 0, "geoloc_ancienne": 0}
    for number, line in enumerate(lines[1:], start=2):
        if not line.strip():
            continue
        fields = line.split(";")
        kind = fields[0].strip().lower()
        if kind == "structureet":
            while len(fields) > STRUCTURE_FIELDS and not fields[-1].strip():
                fields.pop()  # trailing separators some exports add
            if len(fields) != STRUCTURE_FIELDS:
                result.rejections.append(Rejection(
                    number, f"ligne structureet de {len(fields)} champs "
                            f"({STRUCTURE_FIELDS} attendus)", _ident(fields)))
                continue
            parsed = _structure(fields, number, result, known, extract_date)
            if parsed is None:
                continue
            record, record_dept = parsed
            if wanted is not None and record_dept != wanted:
                counts["hors_departement"] += 1
                continue
            if record.source_id in records:
                result.rejections.append(Rejection(
                    number, f"numéro FINESS ET en double (déjà ligne "
                            f"{records[record.source_id][0]})", record.source_id))
                continue
            records[record.source_id] = (number, record, record_dept)
        elif kind == "geolocalisation":
            if len(fields) < 6:
                result.rejections.append(Rejection(
                    number, f"ligne geolocalisation de {len(fields)} champs (6 attendus, "
                            "ou environ 12 dans l'ancienne présentation)", _ident(fields)))
                continue
            counts["geoloc_recente" if len(fields) == 6 else "geoloc_ancienne"] += 1
            geolines[fields[1].strip()] = (number, fields)
        else:
            result.rejections.append(Rejection(
                number, f"type de ligne inconnu « {fields[0][:30]} » (structureet ou "
                        "geolocalisation attendu)"))
    for nofinesset, (_line, record, record_dept) in records.items():
        if nofinesset in geolines:
            number, fields = geolines[nofinesset]
            _place(record, number, fields, dept=record_dept,
                   bounds=bounds or plausible_bounds(record_dept), result=result)
        problem = check_record(record)
        if problem:
            result.rejections.append(Rejection(_line, problem, record.source_id))
            continue
        record.line = _line
        result.records.append(record)
    result.rejections.sort(key=lambda r: r.line)
    result.metadata.update({k: str(v) for k, v in counts.items()})
    return result


def normalise_dept(code: str) -> str:
    """``1`` → ``01``, ``2a`` → ``2A``; other codes unchanged (upper case)."""
    code = code.strip().upper()
    return code.zfill(2) if code.isdigit() and len(code) < 2 else code


def _insee_dept(departement: str, commune: str) -> str:
    dep = normalise_dept(departement)
    if len(dep) == 2 and dep.startswith("9") and dep[1] in "ABCDEF":
        # Overseas: 9A Guadeloupe … 9F Mayotte; the commune number carries the INSEE digit.
        if commune[:1].isdigit():
            return "97" + commune[0]
        return "97" + str("ABCDEF".index(dep[1]) + 1)
    return dep


def _ident(fields: list[str]) -> str | None:
    return fields[1].strip() or None if len(fields) > 1 else None


def _date(value: str) -> date | None:
    try:
        return date.fromisoformat(value.strip()[:10])
    except ValueError:
        return None


def _structure(f: list[str], number: int, result: ReadResult, known: set[str],
               extract_date: date | None) -> tuple[StructureRecord, str] | None:
    nofinesset = f[1].strip().upper()
    if not nofinesset:
        result.rejections.append(Rejection(number, "numéro FINESS ET manquant"))
        return None
    if not _NOFINESS.match(nofinesset):
        result.rejections.append(Rejection(
            number, f"numéro FINESS ET invalide « {nofinesset} » (9 caractères attendus)"))
        return None
    commune = f[12].strip()
    commune = commune.zfill(3) if commune.isdigit() and len(commune) <= 3 else ""
    departement = _insee_dept(f[13], commune)
    category = f[18].strip()
    if category.isdigit() and len(category) < 3:
        category = category.zfill(3)
    if category not in known:
        label = f" ({f[19].strip()})" if f[19].strip() else ""
        result.rejections.append(Rejection(
            number, f"catégorie FINESS inconnue « {category} »{label} : absente de la "
                    "taxonomie de l'annuaire", nofinesset))
        return None
    if commune and len(departement) == 3:
        commune_code: str | None = departement[:2] + commune
    elif commune and len(departement) == 2:
        commune_code = departement + commune
    else:
        commune_code = None
    number_part = " ".join(p for p in (f[7].strip(), _COMPVOIE.get(f[10].strip().upper(),
                                                                  f[10].strip().lower())) if p)
    typvoie = f[8].strip()
    street = " ".join(p for p in (number_part, _TYPVOIE.get(typvoie.upper(), typvoie.lower()),
                                  f[9].strip()) if p)
    routing = f[15].strip()
    postal = routing[:5] if routing[:5].isdigit() else None
    siret = f[22].strip()
    record = StructureRecord(
        source=SOURCE, source_id=nofinesset, name=f[4].strip() or f[3].strip() or nofinesset,
        category_code=category, finess_et=nofinesset, finess_ej=f[2].strip() or None,
        siret=siret if re.fullmatch(r"\d{14}", siret) else None,
        address=", ".join(p for p in (street, f[11].strip(), routing) if p) or None,
        postal_code=postal, commune_code=commune_code,
        commune_name=(routing[6:].strip() or None) if postal else None,
        phone=normalise_phone(f[16]), opened_on=_date(f[28]), authorized_on=_date(f[29]),
        source_updated_on=_date(f[30]),
        # The extract vouches for every establishment it lists on its date.
        last_verified=extract_date or _date(f[30]))
    return record, departement


def crs_of(source: str, *, dept: str) -> str:
    """CRS of a ``sourcecoordet`` string; without one, the département's default."""
    upper = source.upper()
    match = _EPSG.search(upper)
    if match:
        return f"EPSG:{match.group(1)}"
    for key, crs in _NAMED_CRS.items():
        if key in upper:
            return crs
    match = _UTM_TEXT.search(upper)
    if match:  # "WGS84/UTM zone 21N": WGS 84 UTM zones are EPSG:326xx (N) / 327xx (S)
        return f"EPSG:{(32600 if match.group(2) == 'N' else 32700) + int(match.group(1))}"
    return utm_crs_for_dept(dept)


def plausible_bounds(dept: str) -> tuple[float, float, float, float]:
    """WGS84 box where an establishment of ``dept`` may lie (see :func:`read_finess`)."""
    return _bounds(dept, settings.data_dir())


@lru_cache(maxsize=128)
def _bounds(dept: str, data_dir: Path) -> tuple[float, float, float, float]:
    path = data_dir / "communes" / f"communes-{dept}.geojson"
    if path.is_file():
        try:
            box = _geojson_bounds(json.loads(path.read_text(encoding="utf-8")))
        except (OSError, ValueError, KeyError, TypeError):
            box = None
        if box is not None:
            return (box[0] - _MARGIN, box[1] - _MARGIN, box[2] + _MARGIN, box[3] + _MARGIN)
    return _OVERSEAS.get(dept, _METROPOLE)


def _geojson_bounds(doc: dict[str, Any]) -> tuple[float, float, float, float] | None:
    xs: list[float] = []
    ys: list[float] = []

    def walk(coords: Any) -> None:
        if coords and isinstance(coords[0], (int, float)):
            xs.append(float(coords[0]))
            ys.append(float(coords[1]))
        else:
            for c in coords:
                walk(c)

    for feature in doc.get("features", []):
        if feature.get("geometry"):
            walk(feature["geometry"]["coordinates"])
    if not xs:
        return None
    return min(xs), min(ys), max(xs), max(ys)


def _place(record: StructureRecord, number: int, fields: list[str], *, dept: str,
           bounds: tuple[float, float, float, float], result: ReadResult) -> None:
    x_raw, y_raw = fields[2].strip(), fields[3].strip()
    if not x_raw and not y_raw:
        return  # no coordinates: placed at the commune later, flagged approximate
    # Recent layout: the source is field 4; older one: fields 4 … n-2, then the date.
    source = fields[4] if len(fields) == 6 else ",".join(fields[4:-1])
    kept = "établissement gardé, placé à sa commune"
    try:
        x, y = float(x_raw.replace(",", ".")), float(y_raw.replace(",", "."))
        if not (np.isfinite(x) and np.isfinite(y)):
            raise ValueError
    except ValueError:
        result.rejections.append(Rejection(
            number, f"coordonnées illisibles « {x_raw} ; {y_raw} » : {kept}", record.source_id,
            kept=True))
        return
    crs = crs_of(source, dept=dept)
    try:
        lon_a, lat_a = transform_xy(x, y, source=crs, target=settings.WGS84)
    except Exception:  # pyproj raises CRSError (unknown EPSG code) or ProjError
        result.rejections.append(Rejection(
            number, f"système de coordonnées « {source.strip()} » non reconnu : {kept}",
            record.source_id, kept=True))
        return
    lon, lat = float(lon_a), float(lat_a)
    problem = check_position(lat, lon)
    if problem:
        result.rejections.append(Rejection(number, f"{problem} : {kept}", record.source_id,
                                           kept=True))
        return
    if not (np.isfinite(lon) and np.isfinite(lat)
            and bounds[0] <= lon <= bounds[2] and bounds[1] <= lat <= bounds[3]):
        where = f"lon {lon:.4f}, lat {lat:.4f}" if np.isfinite(lon) and np.isfinite(lat) \
            else "hors projection"
        result.rejections.append(Rejection(
            number, f"coordonnées hors du département {dept} ({x_raw} ; {y_raw} en {crs} → "
                    f"{where}) : {kept}", record.source_id, kept=True))
        return
    record.lon, record.lat = round(lon, 6), round(lat, 6)
