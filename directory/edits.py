"""Editing a structure's card: validation and normalisation, with French messages per
field (the web form shows each next to its field). Writing and logging the change is
``web.editing``'s job."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date
from typing import Any
from urllib.parse import urlsplit

from directory import opening_hours

#: Editable fields and their labels (the form's order).
FIELDS = {"name": "Nom", "address": "Adresse", "phone": "Téléphone", "email": "Courriel",
          "website": "Site web", "opening_hours": "Horaires", "description": "Description",
          "closed_from": "Fermeture temporaire : du", "closed_until": "au",
          "closure_reason": "Motif de la fermeture"}
LIMITS = {"name": 300, "address": 300, "phone": 40, "email": 200, "website": 300,
          "opening_hours": 300, "closure_reason": 300, "description": 5000}
_EMAIL = re.compile(r"^[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}"
                    r"[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*"
                    r"\.[A-Za-z]{2,}$")


@dataclass
class Checked:
    """Cleaned values (normalised) and the errors, by field (French)."""

    values: dict[str, Any] = field(default_factory=dict)
    errors: dict[str, str] = field(default_factory=dict)


def normalise_phone(value: str) -> str:
    """A French phone number, written « 04 71 07 55 55 ».

    Accepts spaces, dots, dashes, parentheses, ``+33``/``0033`` prefixes (and the
    ``+33 (0)`` habit); short numbers (15, 115, 3919) and other international numbers
    (``+32 …``) are kept.

    Raises
    ------
    ValueError
        With a French explanation.
    """
    raw = value.strip()
    if re.search(r"[^\d\s.+()\-/]", raw):
        raise ValueError("seuls des chiffres, espaces, points, tirets et « + » sont "
                         "acceptés (ex. 04 71 07 55 55)")
    digits = re.sub(r"\D", "", raw.replace("(0)", ""))
    if raw.startswith("+") or raw.startswith("00"):
        digits = digits[2:] if raw.startswith("00") else digits
        if digits.startswith("33"):
            digits = "0" + digits[2:]
        else:
            if not 8 <= len(digits) <= 15:
                raise ValueError("numéro international trop court ou trop long")
            return "+" + digits
    if re.fullmatch(r"1\d{1,2}|3\d{3}", digits):
        return digits
    if not re.fullmatch(r"0[1-9]\d{8}", digits):
        raise ValueError("un numéro français compte 10 chiffres et commence par 0 "
                         "(ex. 04 71 07 55 55)")
    return " ".join(digits[i:i + 2] for i in range(0, 10, 2))


def normalise_website(value: str) -> str:
    """An ``http``/``https`` address (``https://`` added to « www.exemple.fr »).

    Raises
    ------
    ValueError
        For any other scheme (``javascript:``, ``data:``, ``ftp:``…) or no host.
    """
    raw = value.strip()
    if re.match(r"^[a-z][a-z0-9+.-]*:", raw, re.IGNORECASE) and not re.match(
            r"^https?://", raw, re.IGNORECASE):
        raise ValueError("seules les adresses http:// ou https:// sont acceptées")
    if not re.match(r"^https?://", raw, re.IGNORECASE):
        raw = "https://" + raw
    parts = urlsplit(raw)
    host = parts.hostname or ""
    if not re.fullmatch(r"[a-z0-9.-]+\.[a-z]{2,}", host) or any(c.isspace() for c in raw):
        raise ValueError("adresse de site invalide (ex. https://www.exemple.fr)")
    return raw


def _date(value: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError as exc:
        raise ValueError("date invalide (jj/mm/aaaa)") from exc


def check(form: dict[str, str | None]) -> Checked:
    """Validate and normalise the form's values; errors name the field (French).

    Fields absent from ``form`` are left out of the result (not emptied), except the
    name, which is required.
    """
    out = Checked()
    for name in FIELDS:
        if name not in form and name != "name":
            continue
        raw = (form.get(name) or "").strip()
        value: Any = raw or None
        try:
            if raw and len(raw) > LIMITS.get(name, 10_000):
                raise ValueError(f"{LIMITS[name]} caractères au plus")
            if name == "name" and not raw:
                raise ValueError("le nom est obligatoire")
            if raw and name == "phone":
                value = normalise_phone(raw)
            elif raw and name == "email":
                if not _EMAIL.fullmatch(raw):
                    raise ValueError("adresse invalide (ex. accueil@exemple.fr)")
                value = raw.lower() if raw.isupper() else raw
            elif raw and name == "website":
                value = normalise_website(raw)
            elif raw and name == "opening_hours":
                value = opening_hours.from_french(raw)
            elif raw and name in {"closed_from", "closed_until"}:
                value = _date(raw)
        except (ValueError, opening_hours.OpeningHoursError) as exc:
            out.errors[name] = f"{FIELDS[name]} : {exc}"
            value = raw
        out.values[name] = value
    start, end = out.values.get("closed_from"), out.values.get("closed_until")
    if not out.errors.get("closed_until") and isinstance(end, date):
        if not isinstance(start, date):
            out.errors["closed_from"] = ("Fermeture temporaire : indiquez la date de début "
                                         "(la date de fin peut rester vide)")
        elif end < start:
            out.errors["closed_until"] = ("Fermeture temporaire : la fin précède le début")
    return out
