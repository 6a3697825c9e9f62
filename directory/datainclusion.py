"""Reader of data·inclusion files (schema v1): JSON ``{"structures": [...], "services":
[...]}`` or a list of structures, or a CSV of structures.

Each item is validated with the published JSON schemas
(``data_inclusion/schema/{structure,service}.json``) and the enumerations published as
CSV (``publics``, ``frais``, ``modes_accueil``, ``types_de_services``, ``thematiques``,
``reseaux_porteurs``); messages are French. Opening hours are checked with
:mod:`directory.opening_hours`. Source = ``data-inclusion:<source>``, source id = ``id``.
"""

from __future__ import annotations

import csv
import json
from datetime import date
from functools import lru_cache
from pathlib import Path
from typing import Any

import jsonschema

from directory import opening_hours
from directory.records import (
    ReadResult,
    Rejection,
    ServiceRecord,
    StructureRecord,
    check_position,
    check_record,
    normalise_phone,
    zone_kind,
    zone_type_of,
)
from geo import settings
from geo.errors import MaillageError
from geo.tables import read_table

DEFAULT_CATEGORY = "hors-finess:autre"
#: data·inclusion ``reseaux_porteurs`` that name a category of the taxonomy; the first
#: match wins, in the order of the structure's list.
NETWORK_TO_CATEGORY = {
    "ccas-cias": "hors-finess:ccas", "caarud": "178", "csapa": "197", "cmp": "156",
    "chrs": "214", "mdph": "609", "cada": "443", "cph": "442", "esat": "246",
    "residences-fjt": "257", "france-service": "hors-finess:france-services",
    "msap": "hors-finess:france-services", "caf": "hors-finess:caf", "cpam": "hors-finess:cpam",
    "cnam": "hors-finess:cpam", "mutualite-sociale-agricole": "hors-finess:msa",
    "mission-locale": "hors-finess:mission-locale", "departements": "hors-finess:cd",
    "maisons-des-solidarites": "hors-finess:cd",
    # A maison départementale de l'autonomie carries the MDPH (loi ASV 2015).
    "maison-departementale-de-lautonomie": "609",
}
#: Service fields checked against an enumeration file (field → file, is a list).
SERVICE_ENUMS = {"publics": ("publics", True), "frais": ("frais", False),
                 "modes_accueil": ("modes_accueil", True), "type": ("types_de_services", False),
                 "thematiques": ("thematiques", True)}
_JSON_TYPES = {"string": "texte", "number": "nombre", "integer": "entier", "array": "liste",
               "object": "objet", "null": "vide", "boolean": "booléen"}


@lru_cache(maxsize=8)
def _schema(data_dir: Path, name: str) -> dict[str, Any]:
    path = data_dir / "data_inclusion" / "schema" / f"{name}.json"
    try:
        return dict(json.loads(path.read_text(encoding="utf-8")))
    except (OSError, ValueError) as exc:
        raise MaillageError(f"Schéma data·inclusion illisible : « {path} ».") from exc


def enumeration(data_dir: Path, name: str) -> set[str]:
    """Values of one data·inclusion enumeration (``data_inclusion/<name>.csv``)."""
    return set(_enumeration(Path(data_dir), name))


@lru_cache(maxsize=16)
def _enumeration(data_dir: Path, name: str) -> frozenset[str]:
    path = data_dir / "data_inclusion" / f"{name}.csv"
    if not path.is_file():
        raise MaillageError(f"Énumération data·inclusion introuvable : « {path} ».")
    with path.open(encoding="utf-8", newline="") as fh:
        return frozenset(row["value"] for row in csv.DictReader(fh))


def _french(err: jsonschema.ValidationError) -> str:
    """A jsonschema error in French (the validator names are stable, messages are not)."""
    where = ".".join(str(p) for p in err.absolute_path) or "objet"
    if err.validator == "anyOf" and err.context:
        # "X or null": report the non-null branch's problem.
        inner = [e for e in err.context if e.validator != "type" or e.validator_value != "null"]
        if inner:
            best = jsonschema.exceptions.best_match(inner)
            if best is not None:
                return _french_one(where, best)
    return _french_one(where, err)


def _french_one(where: str, err: jsonschema.ValidationError) -> str:
    v, value, expected = err.validator, err.instance, err.validator_value
    if v == "required":
        missing = str(err.message).split("'")[1] if "'" in str(err.message) else "?"
        return f"champ obligatoire absent : {missing}"
    if v == "type":
        kinds = expected if isinstance(expected, list) else [expected]
        return f"{where} : type attendu " + " ou ".join(_JSON_TYPES.get(str(k), str(k))
                                                        for k in kinds)
    if v == "enum":
        return f"{where} : valeur inconnue « {value} »"
    if v == "format":
        return f"{where} : format {expected} invalide « {value} »"
    if v == "pattern":
        return f"{where} : valeur « {value} » mal formée"
    if v in {"minLength", "maxLength"}:
        return (f"{where} : longueur {'minimale' if v == 'minLength' else 'maximale'} "
                f"{expected} (« {str(value)[:40]} »)")
    if v in {"minItems", "uniqueItems"}:
        return f"{where} : liste vide ou avec doublons"
    if v in {"minimum", "maximum"}:
        return f"{where} : valeur {'minimale' if v == 'minimum' else 'maximale'} {expected}"
    if v == "additionalProperties":
        return f"champ inattendu ({err.message})"
    return f"{where} : valeur invalide ({v})"


def _validator(data_dir: Path, name: str) -> jsonschema.protocols.Validator:
    schema = _schema(data_dir, name)
    cls = jsonschema.validators.validator_for(schema, default=jsonschema.Draft202012Validator)
    return cls(schema, format_checker=cls.FORMAT_CHECKER)


def _errors(validator: jsonschema.protocols.Validator, item: dict[str, Any]) -> list[str]:
    return [_french(e) for e in sorted(validator.iter_errors(item),
                                       key=lambda e: [str(p) for p in e.path])]


def read_datainclusion(path: str | Path, *, data_dir: Path | None = None) -> ReadResult:
    """Read a data·inclusion JSON (structures and services) or CSV (structures).

    Parameters
    ----------
    path
        ``.json`` (a list of structures, or ``{"structures": [...], "services": [...]}``)
        or ``.csv`` (one structure per row, columns named as the schema's fields; list
        fields comma-separated).
    data_dir
        Open-data folder holding ``data_inclusion/`` (default ``geo.settings``).

    Returns
    -------
    ReadResult
        Valid structures with their valid services. Line numbers are the spreadsheet's
        for a CSV, the 1-based position in the ``structures`` / ``services`` list for JSON.

    Raises
    ------
    MaillageError
        Missing file, invalid JSON, unexpected top-level shape.
    """
    path = Path(path)
    data = Path(data_dir) if data_dir is not None else settings.data_dir()
    if not path.is_file():
        raise MaillageError(f"Fichier introuvable : « {path} ».")
    if path.suffix.lower() in {".csv", ".xlsx"}:
        structures: list[tuple[int, Any]] = _from_table(path)
        services: list[tuple[int, Any]] = []
        fmt = "data·inclusion v1 (CSV de structures)"
    else:
        structures, services = _from_json(path)
        fmt = "data·inclusion v1 (JSON)"
    result = ReadResult(metadata={"format": fmt})
    structure_validator = _validator(data, "structure")
    service_validator = _validator(data, "service")
    networks_known = _enumeration(data, "reseaux_porteurs")
    by_key: dict[tuple[str, str], StructureRecord] = {}
    for number, item in structures:
        record = _structure(number, item, structure_validator, networks_known, result)
        if record is None:
            continue
        key = (str(item["source"]), str(item["id"]))
        if key in by_key:
            result.rejections.append(Rejection(number, "structure en double (même source et id)",
                                               f"{key[0]}:{key[1]}"))
            continue
        by_key[key] = record
        result.records.append(record)
    enums = {field: (_enumeration(data, name), many)
             for field, (name, many) in SERVICE_ENUMS.items()}
    for number, item in services:
        _service(number, item, service_validator, enums, by_key, result)
    return result


def _from_json(path: Path) -> tuple[list[tuple[int, Any]], list[tuple[int, Any]]]:
    try:
        doc = json.loads(path.read_text(encoding="utf-8-sig"))
    except UnicodeDecodeError as exc:
        raise MaillageError(f"« {path.name} » : encodage non reconnu (UTF-8 attendu).") from exc
    except json.JSONDecodeError as exc:
        raise MaillageError(f"« {path.name} » n'est pas un JSON valide (ligne {exc.lineno}, "
                            f"colonne {exc.colno}).") from exc
    except (ValueError, RecursionError) as exc:
        raise MaillageError(f"« {path.name} » : JSON illisible (imbrication ou nombres "
                            "démesurés).") from exc
    if isinstance(doc, list):
        doc = {"structures": doc, "services": []}
    if not isinstance(doc, dict) or not isinstance(doc.get("structures"), list) \
            or not isinstance(doc.get("services") or [], list):
        raise MaillageError(f"« {path.name} » : un objet {{\"structures\": […], "
                            "\"services\": […]}} ou une liste de structures est attendu.")
    return ([(i + 1, s) for i, s in enumerate(doc["structures"])],
            [(i + 1, s) for i, s in enumerate(doc.get("services") or [])])


def _from_table(path: Path) -> list[tuple[int, Any]]:
    table = read_table(path)
    header = [h.strip() for h in table.header]
    if "structure_id" in header:
        raise MaillageError(f"« {path.name} » est un fichier de services : importez les "
                            "services avec leurs structures au format JSON.")
    out: list[tuple[int, Any]] = []
    for line, row in table.rows:
        item: dict[str, Any] = {}
        for key, value in zip(header, row, strict=False):
            if not key or value == "":
                continue
            if key in {"latitude", "longitude"}:
                try:
                    item[key] = float(value.replace(",", "."))
                except ValueError:
                    item[key] = value  # the schema reports it in French
            elif key == "reseaux_porteurs":
                item[key] = [v.strip() for v in value.split(",") if v.strip()]
            else:
                item[key] = value
        out.append((line, item))
    return out


def _structure(number: int, item: Any, validator: jsonschema.protocols.Validator,
               networks_known: frozenset[str], result: ReadResult) -> StructureRecord | None:
    if not isinstance(item, dict):
        result.rejections.append(Rejection(number, "structure : objet attendu"))
        return None
    errors = _errors(validator, item)
    networks = item.get("reseaux_porteurs") or []
    if isinstance(networks, list):
        errors += [f"reseaux_porteurs : valeur inconnue « {n} »" for n in networks
                   if isinstance(n, str) and n not in networks_known and
                   not any(e.startswith("reseaux_porteurs") for e in errors)]
    hours = item.get("horaires_accueil")
    if isinstance(hours, str) and hours.strip() and (problem := opening_hours.validate(hours)):
        errors.append(f"horaires_accueil : {problem}")
    ident = f"{item.get('source')}:{item.get('id')}"
    if errors:
        result.rejections.append(Rejection(number, "structure : " + " ; ".join(errors[:4]),
                                           ident))
        return None
    lat, lon = item.get("latitude"), item.get("longitude")
    if lat is not None and lon is not None and (problem := check_position(lat, lon)):
        result.rejections.append(Rejection(number, f"structure : {problem}", ident))
        return None
    try:
        updated = date.fromisoformat(str(item["date_maj"])[:10])
    except ValueError:
        result.rejections.append(Rejection(
            number, f"structure : date_maj illisible « {str(item['date_maj'])[:30]} »", ident))
        return None
    if (lat is None) != (lon is None):
        lat = lon = None  # half a position is no position: placed at the commune later
    category = next((NETWORK_TO_CATEGORY[n] for n in networks if n in NETWORK_TO_CATEGORY),
                    DEFAULT_CATEGORY)
    city = " ".join(x for x in (item.get("code_postal"), item.get("commune")) if x)
    phone = item.get("telephone")
    record = StructureRecord(
        source=f"data-inclusion:{item['source']}", source_id=str(item["id"]),
        name=str(item["nom"]).strip(), category_code=category, siret=item.get("siret"),
        address=", ".join(p for p in (item.get("adresse"), item.get("complement_adresse"), city)
                          if p) or None,
        postal_code=item.get("code_postal"),
        commune_code=(item.get("code_insee") or "").upper() or None,
        commune_name=item.get("commune"), lat=lat, lon=lon,
        phone=(normalise_phone(phone) or phone.strip()) if phone else None,
        email=item.get("courriel"), website=item.get("site_web"),
        opening_hours=hours.strip() if isinstance(hours, str) and hours.strip() else None,
        description=item.get("description"),
        source_updated_on=updated, last_verified=updated, line=number)
    if problem := check_record(record):
        result.rejections.append(Rejection(number, f"structure : {problem}", ident[:100]))
        return None
    return record


def _service(number: int, item: Any, validator: jsonschema.protocols.Validator,
             enums: dict[str, tuple[frozenset[str], bool]],
             by_key: dict[tuple[str, str], StructureRecord], result: ReadResult) -> None:
    if not isinstance(item, dict):
        result.rejections.append(Rejection(number, "service : objet attendu"))
        return
    errors = _errors(validator, item)
    for field_name, (values, many) in enums.items():
        if any(e.startswith(field_name + " ") or e.startswith(field_name + ".") for e in errors):
            continue  # already reported by the schema
        given = item.get(field_name)
        items = given if many and isinstance(given, list) else [given] if given else []
        errors += [f"{field_name} : valeur inconnue « {v} »" for v in items
                   if isinstance(v, str) and v not in values]
    zone = item.get("zone_eligibilite") or []
    if isinstance(zone, list):
        errors += [f"zone_eligibilite : code « {z} » ni commune, ni EPCI, ni département"
                   for z in zone if isinstance(z, str) and zone_kind(z) is None]
    hours = item.get("horaires_accueil")
    if isinstance(hours, str) and hours.strip() and (problem := opening_hours.validate(hours)):
        errors.append(f"horaires_accueil : {problem}")
    ident = str(item.get("id")) if item.get("id") is not None else None
    if errors:
        result.rejections.append(Rejection(number, "service : " + " ; ".join(errors[:4]), ident))
        return
    owner = by_key.get((str(item["source"]), str(item["structure_id"])))
    if owner is None:
        result.rejections.append(Rejection(
            number, f"service : structure « {item['structure_id']} » absente du fichier "
                    "(ou rejetée)", ident))
        return
    codes = [z.strip().upper() for z in zone]
    service_type = item.get("type")
    owner.services.append(ServiceRecord(
        name=str(item["nom"]).strip(), description=item.get("description"),
        publics=list(item.get("publics") or []), thematiques=list(item.get("thematiques") or []),
        access_conditions=item.get("conditions_acces"), fees=item.get("frais"),
        fees_details=item.get("frais_precisions"), zone_type=zone_type_of(codes),
        zone_codes=codes, types=[service_type] if service_type else [],
        reception_modes=list(item.get("modes_accueil") or []),
        opening_hours=hours.strip() if isinstance(hours, str) and hours.strip() else None,
        source_id=ident))
