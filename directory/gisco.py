"""Reader of the Eurostat GISCO healthcare file (FINESS-derived hospitals, 2020).

The file gives FINESS category *labels* only, not codes; the table below maps each label
found in it to its FINESS ``categetab`` code (checked against the TRE_R397 nomenclature),
so that the rest of the product joins on codes.
"""

from __future__ import annotations

import csv
from datetime import datetime
from pathlib import Path

from directory.finess import _phone
from directory.records import ReadResult, Rejection, StructureRecord
from geo.errors import MaillageError

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


def read_gisco_hospitals(path: str | Path, *, dept: str | None = None) -> ReadResult:
    path = Path(path)
    if not path.is_file():
        raise MaillageError(f"Fichier introuvable : « {path} ».")
    result = ReadResult(metadata={"source": "Eurostat GISCO, dérivé de FINESS (2020)"})
    with path.open(encoding="utf-8", newline="") as fh:
        reader = csv.DictReader(fh)
        for number, row in enumerate(reader, start=2):
            postcode = (row.get("postcode") or "").strip()
            if dept is not None and not postcode.startswith(dept):
                continue
            finess = (row.get("id") or "").strip()
            if not finess:
                result.rejections.append(Rejection(number, "numéro FINESS manquant"))
                continue
            category = LABEL_TO_CODE.get((row.get("facility_type") or "").strip())
            if category is None:
                result.rejections.append(Rejection(
                    number, f"type d'établissement inconnu « {row.get('facility_type')} »", finess))
                continue
            try:
                lat, lon = float(row["lat"]), float(row["lon"])
            except (TypeError, ValueError):
                lat = lon = None  # type: ignore[assignment]
            street = " ".join(p for p in ((row.get("house_number") or "").strip(),
                                          (row.get("street") or "").strip().title()) if p)
            city = (row.get("city") or "").strip()
            ref = (row.get("ref_date") or "").strip()
            verified = datetime.strptime(ref, "%d/%m/%Y").date() if ref else None
            result.records.append(StructureRecord(
                source=SOURCE, source_id=finess, finess_et=finess,
                name=(row.get("hospital_name") or "").strip(), category_code=category,
                address=", ".join(p for p in (street, f"{postcode} {city}".strip()) if p),
                postal_code=postcode or None, commune_name=city.title() or None,
                lon=lon, lat=lat, phone=_phone(row.get("tel") or ""),
                website=(row.get("url") or "").strip() or None, last_verified=verified))
    return result
