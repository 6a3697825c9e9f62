"""Reader of data·inclusion files (schema v1): JSON ``{"structures": [...], "services":
[...]}`` or a list of structures, or a CSV of structures.

Structures and services are validated with the published JSON schemas
(``data_inclusion/schema/*.json``); values of ``publics`` and ``frais`` are checked
against the schema's enumerations. Source id = ``source`` + ``id``.
"""

from __future__ import annotations

import contextlib
import csv
import json
from datetime import date
from functools import lru_cache
from pathlib import Path
from typing import Any

import jsonschema

from directory import opening_hours
from directory.records import ReadResult, Rejection, ServiceRecord, StructureRecord
from geo.errors import MaillageError
from geo.tables import read_table

DEFAULT_CATEGORY = "hors-finess:autre"
#: data·inclusion ``reseaux_porteurs`` that name a known category.
NETWORK_TO_CATEGORY = {"ccas-cias": "hors-finess:ccas", "caarud": "hors-finess:caarud",
                       "csapa": "197", "cmp": "156", "chrs": "214", "mdph": "609",
                       "france-service": "hors-finess:france-services", "caf": "hors-finess:caf",
                       "cpam": "hors-finess:cpam", "departements": "hors-finess:cd"}


@lru_cache(maxsize=4)
def _schema(data_dir: Path, name: str) -> dict[str, Any]:
    return json.loads((data_dir / "data_inclusion" / "schema" / f"{name}.json")
                      .read_text(encoding="utf-8"))


def enumeration(data_dir: Path, name: str) -> set[str]:
    with (data_dir / "data_inclusion" / f"{name}.csv").open(encoding="utf-8") as fh:
        return {row["value"] for row in csv.DictReader(fh)}


def _errors(validator: jsonschema.Draft202012Validator, item: dict[str, Any]) -> list[str]:
    out = []
    for err in sorted(validator.iter_errors(item), key=lambda e: list(e.path)):
        where = ".".join(str(p) for p in err.path) or "objet"
        out.append(f"{where} : {err.message}")
    return out


def read_datainclusion(path: str | Path, *, data_dir: Path) -> ReadResult:
    path = Path(path)
    if not path.is_file():
        raise MaillageError(f"Fichier introuvable : « {path} ».")
    if path.suffix.lower() == ".csv":
        table = read_table(path)
        structures: list[tuple[int, dict[str, Any]]] = [
            (line, dict(zip(table.header, row, strict=False))) for line, row in table.rows]
        for _, s in structures:
            for key in ("latitude", "longitude"):
                if s.get(key):
                    # a bad value stays a string: the schema rejects it with a clear message
                    with contextlib.suppress(ValueError):
                        s[key] = float(str(s[key]).replace(",", "."))
            for key, value in list(s.items()):
                if value == "":
                    s[key] = None
            if isinstance(s.get("reseaux_porteurs"), str):
                s["reseaux_porteurs"] = [v.strip() for v in s["reseaux_porteurs"].split(",")]
        services: list[tuple[int, dict[str, Any]]] = []
    else:
        try:
            doc = json.loads(path.read_text(encoding="utf-8-sig"))
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            raise MaillageError(f"« {path.name} » n'est pas un JSON UTF-8 valide ({exc}).") from exc
        if isinstance(doc, list):
            doc = {"structures": doc, "services": []}
        if not isinstance(doc, dict) or not isinstance(doc.get("structures"), list):
            raise MaillageError(f"« {path.name} » : un objet {{\"structures\": […], "
                                "\"services\": […]}} ou une liste de structures est attendu.")
        structures = [(i + 1, s) for i, s in enumerate(doc["structures"])]
        services = [(i + 1, s) for i, s in enumerate(doc.get("services") or [])]
    structure_validator = jsonschema.Draft202012Validator(_schema(data_dir, "structure"))
    service_validator = jsonschema.Draft202012Validator(_schema(data_dir, "service"))
    publics = enumeration(data_dir, "publics")
    result = ReadResult(metadata={"format": "data·inclusion v1"})
    by_key: dict[tuple[str, str], StructureRecord] = {}
    for number, item in structures:
        if not isinstance(item, dict):
            result.rejections.append(Rejection(number, "structure : objet attendu"))
            continue
        errors = _errors(structure_validator, item)
        hours = item.get("horaires_accueil")
        if hours and (problem := opening_hours.validate(hours)):
            errors.append(f"horaires_accueil : {problem}")
        ident = f"{item.get('source')}:{item.get('id')}"
        if errors:
            result.rejections.append(Rejection(number, "structure : " + " ; ".join(errors[:3]),
                                               ident))
            continue
        networks: list[str] = item.get("reseaux_porteurs") or []
        category = next((NETWORK_TO_CATEGORY[n] for n in networks if n in NETWORK_TO_CATEGORY),
                        DEFAULT_CATEGORY)
        record = StructureRecord(
            source=f"data-inclusion:{item['source']}", source_id=str(item["id"]),
            name=item["nom"], category_code=category, siret=item.get("siret"),
            address=", ".join(p for p in (item.get("adresse"), item.get("complement_adresse"),
                                          " ".join(x for x in (item.get("code_postal"),
                                                               item.get("commune")) if x)) if p)
            or None,
            postal_code=item.get("code_postal"), commune_code=item.get("code_insee"),
            commune_name=item.get("commune"), lat=item.get("latitude"),
            lon=item.get("longitude"), phone=item.get("telephone"), email=item.get("courriel"),
            website=item.get("site_web"), opening_hours=hours,
            description=item.get("description"),
            last_verified=date.fromisoformat(str(item["date_maj"])[:10]))
        by_key[(str(item["source"]), str(item["id"]))] = record
        result.records.append(record)
    for number, item in services:
        errors = _errors(service_validator, item) if isinstance(item, dict) else ["objet attendu"]
        if isinstance(item, dict):
            errors += [f"publics : valeur inconnue « {p} »" for p in item.get("publics") or []
                       if p not in publics]
        if errors:
            result.rejections.append(Rejection(number, "service : " + " ; ".join(errors[:3]),
                                               str(item.get("id")) if isinstance(item, dict) else None))
            continue
        owner = by_key.get((str(item["source"]), str(item["structure_id"])))
        if owner is None:
            result.rejections.append(Rejection(
                number, f"service : structure « {item['structure_id']} » absente du fichier",
                str(item["id"])))
            continue
        zone: list[str] = item.get("zone_eligibilite") or []
        zone_type = None
        if zone:
            zone_type = "departement" if all(len(z) <= 3 for z in zone) else \
                "epci" if all(len(z) == 9 for z in zone) else "commune"
        owner.services.append(ServiceRecord(
            name=item["nom"], description=item.get("description"),
            publics=list(item.get("publics") or []),
            thematiques=list(item.get("thematiques") or []),
            access_conditions=item.get("conditions_acces"), fees=item.get("frais"),
            fees_details=item.get("frais_precisions"), zone_type=zone_type,
            zone_codes=list(zone)))
    return result
