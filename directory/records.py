"""Plain records produced by the readers, before they reach the database.

Also the few field normalisers every reader shares (phone numbers, e-mail, zone codes),
so that a phone number looks the same whichever file it came from.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field, fields
from datetime import date, timedelta

_EMAIL = re.compile(r"^[^@\s;,]+@[^@\s;,]+\.[^@\s;,]+$")
_COMMUNE = re.compile(r"^(?:\d{2}|2[AB])\d{3}$")
_EPCI = re.compile(r"^\d{9}$")
_DEPT = re.compile(r"^(?:\d{2}|2[AB]|97\d)$")

#: WGS84 boxes (lon_min, lat_min, lon_max, lat_max) of France's territories: metropolitan
#: France with Corsica, then each overseas département or collectivity with a département
#: code (Saint-Martin and Saint-Barthélemy fall in Guadeloupe's box).
METROPOLE = (-5.3, 41.3, 9.7, 51.2)
OVERSEAS = {"971": (-63.2, 15.8, -60.9, 18.2), "972": (-61.3, 14.3, -60.7, 14.95),
            "973": (-54.7, 2.0, -51.5, 6.0), "974": (55.1, -21.5, 55.9, -20.8),
            "975": (-56.5, 46.7, -56.1, 47.2), "976": (44.9, -13.1, 45.4, -12.6)}
FRANCE_BOXES = (METROPOLE, *OVERSEAS.values())

#: Longest value of each text field, as the database columns allow (``directory/models.py``).
FIELD_LIMITS = {"source_id": 100, "name": 300, "display_name": 300, "category_code": 40,
                "finess_et": 9, "finess_ej": 9, "siret": 14, "address": 300, "postal_code": 5,
                "commune_code": 5, "commune_name": 200, "phone": 40, "email": 200,
                "website": 300, "opening_hours": 300}
SERVICE_LIMITS = {"name": 300, "fees": 40}
#: Earliest plausible date in a directory file (FINESS writes 1901-01-01 for « unknown »).
EARLIEST_DATE = date(1800, 1, 1)


@dataclass
class ServiceRecord:
    """A service offered by a structure (data·inclusion « service »).

    ``zone_codes`` is the territory of intervention: INSEE commune codes, EPCI SIREN
    numbers or département codes (see :func:`zone_kind`); ``zone_type`` is their common
    kind (``commune``, ``epci``, ``departement``), or ``mixte`` when they differ.
    """

    name: str
    description: str | None = None
    publics: list[str] = field(default_factory=list)
    thematiques: list[str] = field(default_factory=list)
    access_conditions: str | None = None
    fees: str | None = None
    fees_details: str | None = None
    zone_type: str | None = None
    zone_codes: list[str] = field(default_factory=list)
    types: list[str] = field(default_factory=list)
    reception_modes: list[str] = field(default_factory=list)
    opening_hours: str | None = None
    source_id: str | None = None


@dataclass
class StructureRecord:
    """A structure (establishment, service provider), identified by (source, source_id).

    Coordinates are WGS84. A record without coordinates keeps ``lat = lon = None`` and
    ``approximate_location = False``: the database layer places it at its commune's
    representative point and sets the flag.
    """

    source: str
    source_id: str
    name: str
    display_name: str | None = None
    category_code: str | None = None
    finess_et: str | None = None
    finess_ej: str | None = None
    siret: str | None = None
    address: str | None = None
    postal_code: str | None = None
    commune_code: str | None = None
    commune_name: str | None = None
    lon: float | None = None
    lat: float | None = None
    approximate_location: bool = False
    phone: str | None = None
    email: str | None = None
    website: str | None = None
    opening_hours: str | None = None
    description: str | None = None
    opened_on: date | None = None
    authorized_on: date | None = None
    source_updated_on: date | None = None
    last_verified: date | None = None
    closed: bool = False
    services: list[ServiceRecord] = field(default_factory=list)
    #: Line of the file the record comes from (for the import report); not a field.
    line: int = field(default=0, compare=False)


@dataclass
class Rejection:
    """A line (or JSON item) left out, or kept with a problem, with the reason in French."""

    line: int
    reason: str
    source_id: str | None = None
    #: The record was kept (e.g. placed at its commune): a warning, not a rejection.
    kept: bool = False

    def __str__(self) -> str:
        ident = f" ({self.source_id})" if self.source_id else ""
        return f"ligne {self.line}{ident} : {self.reason}"


@dataclass
class ReadResult:
    """What a reader returns: valid records, per-line rejections, file metadata."""

    records: list[StructureRecord] = field(default_factory=list)
    rejections: list[Rejection] = field(default_factory=list)
    metadata: dict[str, str] = field(default_factory=dict)


def normalise_phone(value: str) -> str | None:
    """French phone number as ``04 71 00 00 00``; ``None`` when it is not one.

    Accepts spaces, dots, dashes and the ``+33`` / ``0033`` prefixes; a 9-digit value is
    a number whose leading zero a spreadsheet dropped.
    """
    digits = re.sub(r"\D", "", value)
    if digits.startswith("0033"):
        digits = digits[2:]
    if digits.startswith("33") and len(digits) == 11:
        digits = "0" + digits[2:]
    if len(digits) == 9 and not digits.startswith("0"):
        digits = "0" + digits
    if len(digits) != 10 or not digits.startswith("0"):
        return None
    return " ".join(digits[i:i + 2] for i in range(0, 10, 2))


def is_email(value: str) -> bool:
    """Plausible e-mail address (one ``@``, a dot in the domain, no spaces)."""
    return bool(_EMAIL.match(value))


def zone_kind(code: str) -> str | None:
    """``commune`` (INSEE code), ``epci`` (9-digit SIREN), ``departement`` or ``None``."""
    code = code.strip().upper()
    if _COMMUNE.match(code):
        return "commune"
    if _EPCI.match(code):
        return "epci"
    if _DEPT.match(code):
        return "departement"
    return None


def zone_type_of(codes: list[str]) -> str | None:
    """Common kind of ``codes``; ``mixte`` when they differ, ``None`` when empty."""
    kinds = {zone_kind(c) for c in codes}
    if not kinds:
        return None
    return kinds.pop() if len(kinds) == 1 else "mixte"


def check_position(lat: object, lon: object) -> str | None:
    """``None`` when (``lat``, ``lon``) is a plausible WGS84 point in France, else why not.

    Every directory reader calls it, so that NaN, infinities, swapped or out-of-range
    values and points far from France's territories (metropolitan France, Corsica, the
    overseas départements: :data:`FRANCE_BOXES`) are rejected the same way everywhere.
    The reason is French, without the line number (the reader adds it).
    """
    if isinstance(lat, bool) or isinstance(lon, bool) \
            or not isinstance(lat, (int, float)) or not isinstance(lon, (int, float)):
        return f"coordonnées non numériques « {lat} ; {lon} »"
    try:
        lat, lon = float(lat), float(lon)
    except OverflowError:
        return "coordonnées hors limites (nombre démesuré)"
    if not (math.isfinite(lat) and math.isfinite(lon)):
        return f"coordonnées non finies « {lat} ; {lon} »"
    if not (-90 <= lat <= 90 and -180 <= lon <= 180):
        return (f"coordonnées hors limites (latitude {lat}, longitude {lon} : la latitude va "
                "de -90 à 90, la longitude de -180 à 180)")
    for lon_min, lat_min, lon_max, lat_max in FRANCE_BOXES:
        if lon_min <= lon <= lon_max and lat_min <= lat <= lat_max:
            return None
    return (f"coordonnées hors de France (latitude {lat}, longitude {lon}) : ni en métropole, "
            "ni en Corse, ni outre-mer")


def check_date(value: date | None, *, what: str, today: date | None = None,
               future_ok: bool = False) -> str | None:
    """``None`` when ``value`` is a plausible date, else a French reason.

    A date before 1800 is absurd; so is a future date, unless ``future_ok`` (an opening
    planned within ten years).
    """
    if value is None:
        return None
    today = today or date.today()
    latest = today + (timedelta(days=3653) if future_ok else timedelta(days=1))
    if value < EARLIEST_DATE or value > latest:
        return f"{what} impossible « {value.isoformat()} »" + (
            " (date future)" if value > latest else "")
    return None


def check_record(record: StructureRecord, *, today: date | None = None) -> str | None:
    """First problem of ``record`` that the database would not take, in French.

    Text fields longer than their column (:data:`FIELD_LIMITS`), an empty name, absurd
    dates (future verification or update, year 9999…), an implausible position.
    """
    if not record.name.strip():
        return "nom manquant"
    for name, limit in FIELD_LIMITS.items():
        value = getattr(record, name)
        if isinstance(value, str) and len(value) > limit:
            return (f"champ « {name} » trop long ({len(value)} caractères, "
                    f"{limit} au plus)")
    for service in record.services:
        for name, limit in SERVICE_LIMITS.items():
            value = getattr(service, name)
            if isinstance(value, str) and len(value) > limit:
                return (f"service « {service.name[:40]} » : champ « {name} » trop long "
                        f"({len(value)} caractères, {limit} au plus)")
        if any(len(code) > 9 for code in service.zone_codes):
            return f"service « {service.name[:40]} » : code de territoire trop long"
    for name, what, future_ok in (("last_verified", "date de vérification", False),
                                  ("source_updated_on", "date de mise à jour", False),
                                  ("opened_on", "date d'ouverture", True),
                                  ("authorized_on", "date d'autorisation", True)):
        problem = check_date(getattr(record, name), what=what, today=today, future_ok=future_ok)
        if problem:
            return problem
    if record.lat is not None or record.lon is not None:
        return check_position(record.lat, record.lon)
    return None


def record_fields(record: StructureRecord) -> dict[str, object]:
    """The record's scalar fields (no services), JSON-ready (dates as ISO strings)."""
    out: dict[str, object] = {}
    for f in fields(record):
        if f.name in {"services", "line"}:
            continue
        value = getattr(record, f.name)
        out[f.name] = value.isoformat() if isinstance(value, date) else value
    return out
