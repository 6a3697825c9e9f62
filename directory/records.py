"""Plain records produced by the readers, before they reach the database.

Also the few field normalisers every reader shares (phone numbers, e-mail, zone codes),
so that a phone number looks the same whichever file it came from.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date

_EMAIL = re.compile(r"^[^@\s;,]+@[^@\s;,]+\.[^@\s;,]+$")
_COMMUNE = re.compile(r"^(?:\d{2}|2[AB])\d{3}$")
_EPCI = re.compile(r"^\d{9}$")
_DEPT = re.compile(r"^(?:\d{2}|2[AB]|97\d)$")


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
    services: list[ServiceRecord] = field(default_factory=list)


@dataclass
class Rejection:
    """A line (or JSON item) left out, or kept with a problem, with the reason in French."""

    line: int
    reason: str
    source_id: str | None = None

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
