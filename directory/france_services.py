"""Reader of the ANCT list of France Services sites (CSV, ``,`` delimiter, UTF-8).

Columns used: ``id_fs`` (source id), ``lib_fs``, ``adresse``, ``complement_adresse``,
``insee_com``, ``code_postal``, ``lib_com``, ``latitude`` / ``longitude`` (WGS84),
``mail``, ``telephone``, ``h_lundi`` … ``h_samedi`` (free text such as
``09:00 - 12:00 / 14:00 - 16:30``, converted to OSM ``opening_hours``), ``commentaire``,
``itinerance``, ``format_fs``. Hours that cannot be read are kept as a note in the
description and reported; the site is kept.
"""

from __future__ import annotations

import csv
import re
from datetime import date
from pathlib import Path

from directory import opening_hours
from directory.names import unquote
from directory.records import (
    ReadResult,
    Rejection,
    StructureRecord,
    check_record,
    is_email,
    normalise_phone,
)
from geo.errors import MaillageError

SOURCE = "france-services"
CATEGORY = "hors-finess:france-services"
DAYS = (("h_lundi", "Mo", "lundi"), ("h_mardi", "Tu", "mardi"), ("h_mercredi", "We", "mercredi"),
        ("h_jeudi", "Th", "jeudi"), ("h_vendredi", "Fr", "vendredi"),
        ("h_samedi", "Sa", "samedi"))
REQUIRED = {"id_fs", "lib_fs", "insee_com", "latitude", "longitude"}
_SPAN = re.compile(r"^(\d{1,2})[:h](\d{2})\s*-\s*(\d{1,2})[:h](\d{2})$")
_DATE_IN_NAME = re.compile(r"(?<!\d)(20\d{2})(\d{2})(\d{2})(?!\d)")
_INSEE = re.compile(r"^(?:\d{2}|2[AB])\d{3}$")


def day_spans(value: str) -> list[str] | None:
    """``09:00 - 12:00 / 14:00 - 16:30`` → ``["09:00-12:00", "14:00-16:30"]``.

    ``[]`` for an empty value (closed that day), ``None`` when it cannot be read.
    """
    text = value.strip()
    if not text:
        return []
    spans: list[str] = []
    for part in text.split("/"):
        match = _SPAN.match(part.strip())
        if not match:
            return None
        h1, m1, h2, m2 = (int(g) for g in match.groups())
        span = f"{h1:02d}:{m1:02d}-{h2:02d}:{m2:02d}"
        if span not in spans:
            spans.append(span)      # « 09:00 - 12:00 / 09:00 - 12:00 » is written once
    return spans


def hours_to_osm(row: dict[str, str]) -> tuple[str | None, list[str]]:
    """The six ``h_*`` columns → (OSM ``opening_hours`` or ``None``, unreadable days)."""
    per_day: list[tuple[str, str]] = []
    bad: list[str] = []
    for column, code, label in DAYS:
        spans = day_spans(row.get(column) or "")
        if spans is None:
            bad.append(f"{label} « {(row.get(column) or '').strip()[:60]} »")
        elif spans:
            per_day.append((code, ",".join(spans)))
    if bad or not per_day:
        return None, bad
    rules: list[tuple[list[str], str]] = []
    order = [code for _, code, _ in DAYS]
    for code, joined in per_day:
        last = rules[-1] if rules else None
        if last and last[1] == joined and order.index(last[0][-1]) + 1 == order.index(code):
            last[0].append(code)
        else:
            rules.append(([code], joined))
    text = "; ".join(_rule(days, joined) for days, joined in rules)
    problem = opening_hours.validate(text)
    if problem:
        return None, [problem]
    return text, []


def _rule(days: list[str], spans: str) -> str:
    head = f"{days[0]}-{days[-1]}" if len(days) > 2 else ",".join(days)
    return f"{head} {spans}"


def read_france_services(path: str | Path, *, dept: str | None = None,
                         extract_date: date | None = None) -> ReadResult:
    """Read the ANCT France Services CSV; keep the sites of ``dept`` (all when ``None``).

    Records have source ``france-services``, source id = ``id_fs``, category
    ``hors-finess:france-services``; ``last_verified`` is the list's date (from the file
    name, e.g. ``…-20221201-…``, or ``extract_date``).

    Raises
    ------
    MaillageError
        Missing file, not UTF-8, or required columns missing.
    """
    path = Path(path)
    if not path.is_file():
        raise MaillageError(f"Fichier France Services introuvable : « {path} ».")
    if extract_date is None and (match := _DATE_IN_NAME.search(path.name)):
        try:
            extract_date = date(*(int(g) for g in match.groups()))
        except ValueError:
            extract_date = None
    result = ReadResult(metadata={"date": extract_date.isoformat()} if extract_date else {})
    seen: dict[str, int] = {}
    try:
        with path.open(encoding="utf-8-sig", newline="") as fh:
            reader = csv.DictReader(fh)
            missing = REQUIRED - set(reader.fieldnames or [])
            if missing:
                raise MaillageError(f"« {path.name} » n'est pas une liste France Services : "
                                    f"colonne(s) absente(s) : {', '.join(sorted(missing))}.")
            for row in reader:
                _row({k: (v or "").strip() for k, v in row.items() if isinstance(k, str)
                      and isinstance(v, str)}, reader.line_num, dept, seen, extract_date, result)
    except UnicodeDecodeError as exc:
        raise MaillageError(f"« {path.name} » : encodage non reconnu (UTF-8 attendu).") from exc
    except csv.Error as exc:
        raise MaillageError(f"« {path.name} » : CSV illisible ({exc}).") from exc
    if not seen and not result.rejections:
        raise MaillageError(f"« {path.name} » ne contient aucun site France Services.")
    return result


def _row(row: dict[str, str], number: int, dept: str | None, seen: dict[str, int],
         extract_date: date | None, result: ReadResult) -> None:
    ident = row.get("id_fs", "")
    if not ident:
        result.rejections.append(Rejection(number, "identifiant id_fs manquant"))
        return
    insee = row.get("insee_com", "").upper()
    if not _INSEE.match(insee):
        result.rejections.append(Rejection(number, f"code commune INSEE invalide « {insee[:10]} »",
                                           ident[:100]))
        return
    row_dept = insee[:3] if insee.startswith("97") else insee[:2]
    if dept is not None and row_dept != dept:
        return
    if ident in seen:
        result.rejections.append(Rejection(number, f"site en double (déjà ligne {seen[ident]})",
                                           ident[:100]))
        return
    try:
        lat = float(row.get("latitude", "").replace(",", "."))
        lon = float(row.get("longitude", "").replace(",", "."))
    except ValueError:
        result.rejections.append(Rejection(
            number, f"coordonnées illisibles « {row.get('latitude', '')[:20]} ; "
                    f"{row.get('longitude', '')[:20]} »", ident[:100]))
        return
    hours, bad = hours_to_osm(row)
    notes = [row["commentaire"]] if row.get("commentaire") else []
    if bad:
        raw = " ; ".join(f"{label} {(row.get(c) or '—')}" for c, _, label in DAYS)
        notes.append(f"Horaires : {raw}")
        result.rejections.append(Rejection(
            number, f"horaires illisibles ({', '.join(bad)}) : gardés en note", ident[:100],
            kept=True))
    if row.get("itinerance", "").lower() == "oui":
        notes.append("France Services itinérante (bus) : lieux et jours de passage variables.")
    address = ", ".join(p for p in (row.get("adresse"), row.get("complement_adresse"),
                                    f"{row.get('code_postal', '')} {row.get('lib_com', '')}".strip())
                        if p)
    email = row.get("mail", "")
    name = unquote(row.get("lib_fs", ""))
    record = StructureRecord(
        source=SOURCE, source_id=ident, name=name, display_name=name, category_code=CATEGORY,
        address=address or None, postal_code=row.get("code_postal") or None,
        commune_code=insee, commune_name=row.get("lib_com") or None, lat=lat, lon=lon,
        phone=normalise_phone(row.get("telephone", "")), email=email if is_email(email) else None,
        opening_hours=hours, description="\n".join(notes) or None,
        last_verified=extract_date, line=number)
    problem = check_record(record)
    if problem:
        result.rejections.append(Rejection(number, problem, ident[:100]))
        return
    seen[ident] = number
    result.records.append(record)
