"""Opening hours in OSM ``opening_hours`` syntax — the subset French services use — with
French error messages and a French rendering.

Accepted values:

* ``24/7``; ``off`` or ``closed`` (closed until further notice);
* rules separated by ``;``, each ``<days> <times>``, ``<days> off`` or ``<days>`` followed
  by a quoted comment (``Mo-Fr 09:00-12:00 "sur rendez-vous"``);
* days ``Mo Tu We Th Fr Sa Su``, ranges ``Mo-Fr`` (``Sa-Mo`` wraps round the week),
  lists ``Mo,We,Fr``, and ``PH`` (public holidays) / ``SH`` (school holidays);
* times ``HH:MM-HH:MM`` (two-digit hours, end up to ``24:00``) separated by ``,``; a span
  must end after it starts and spans of one rule must not overlap.

Overnight spans (``20:00-02:00``), months, weeks and ``||`` fallback rules are outside
the subset: such values are reported, not guessed. A third-party parser was not needed
for this subset; messages and rendering had to be French anyway.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

DAYS = ("Mo", "Tu", "We", "Th", "Fr", "Sa", "Su")
DAY_FR = dict(zip(DAYS, ("lundi", "mardi", "mercredi", "jeudi", "vendredi", "samedi",
                         "dimanche"), strict=True))
HOLIDAYS_FR = {"PH": "jours fériés", "SH": "vacances scolaires"}
_DAY_ITEM = re.compile(r"^(Mo|Tu|We|Th|Fr|Sa|Su)(?:-(Mo|Tu|We|Th|Fr|Sa|Su))?$")
_SPAN = re.compile(r"^(\d{2}):(\d{2})-(\d{2}):(\d{2})$")
_FRENCH_DAYS = {"lu", "ma", "me", "je", "ve", "sa", "di", "lun", "mar", "mer", "jeu", "ven",
                "sam", "dim"}
_CLOSED = {"off", "closed"}


class OpeningHoursError(ValueError):
    """Invalid value; the message is French and names the faulty piece."""


@dataclass(frozen=True)
class Rule:
    """One ``;``-separated rule. ``spans`` are (start, end) minutes since midnight."""

    days: tuple[str, ...]           # day-list items as written: "Mo-Fr", "We", "PH"
    spans: tuple[tuple[int, int], ...]
    off: bool = False
    comment: str | None = None


def parse(value: str) -> list[Rule]:
    """Parse ``value``; ``[]`` means ``24/7``.

    Raises
    ------
    OpeningHoursError
        With a French explanation of the first problem found.
    """
    text = value.strip()
    if not text:
        raise OpeningHoursError("horaires vides")
    if text == "24/7":
        return []
    if text in _CLOSED:
        return [Rule(days=(), spans=(), off=True)]
    if "||" in text:
        raise OpeningHoursError("les règles de repli « || » ne sont pas acceptées : "
                                "séparez les règles par « ; »")
    rules = [_rule(r.strip()) for r in text.split(";") if r.strip()]
    if not rules:
        raise OpeningHoursError("horaires vides")
    return rules


def validate(value: str) -> str | None:
    """``None`` when ``value`` is valid, else a French explanation."""
    try:
        parse(value)
    except OpeningHoursError as exc:
        return str(exc)
    return None


def _rule(rule: str) -> Rule:
    comment = None
    match = re.search(r'\s*"([^"]*)"$', rule)
    if match:
        comment, rule = match.group(1).strip() or None, rule[:match.start()].strip()
    if '"' in rule:
        raise OpeningHoursError(f"règle « {rule} » : commentaire entre guillemets mal placé "
                                "(il se met en fin de règle)")
    parts = rule.split(None, 1)
    if not parts:
        raise OpeningHoursError("règle vide")
    if len(parts) == 1 and comment is None:
        if _looks_like_times(parts[0]):
            raise OpeningHoursError(f"règle « {rule} » sans jours (ex. Mo-Su {parts[0]})")
        raise OpeningHoursError(f"règle « {rule} » incomplète (attendu : jours puis horaires, "
                                "ex. Mo-Fr 09:00-12:00)")
    days = tuple(_day_item(item) for item in parts[0].split(","))
    times = parts[1].strip() if len(parts) == 2 else ""
    if times in _CLOSED:
        return Rule(days=days, spans=(), off=True, comment=comment)
    if not times:
        return Rule(days=days, spans=(), comment=comment)
    spans = tuple(_span(s.strip()) for s in times.split(","))
    ordered = sorted(spans)
    for (_s1, e1), (s2, _e2) in zip(ordered, ordered[1:], strict=False):
        if s2 < e1:
            raise OpeningHoursError(f"règle « {rule} » : plages horaires qui se chevauchent")
    return Rule(days=days, spans=spans, comment=comment)


def _looks_like_times(text: str) -> bool:
    return bool(re.match(r"^\d{1,2}[:h]", text))


def _day_item(item: str) -> str:
    if item in HOLIDAYS_FR or _DAY_ITEM.match(item):
        return item
    first = item.split("-")[0]
    if first.lower() in _FRENCH_DAYS:
        raise OpeningHoursError(f"jour « {item} » inconnu : utilisez les abréviations anglaises "
                                "Mo, Tu, We, Th, Fr, Sa, Su (ex. Mo-Fr pour lundi–vendredi)")
    raise OpeningHoursError(f"jour « {item} » inconnu (Mo, Tu, We, Th, Fr, Sa, Su, PH, SH)")


def _span(span: str) -> tuple[int, int]:
    match = _SPAN.match(span)
    if not match:
        raise OpeningHoursError(f"plage horaire « {span} » invalide (attendu HH:MM-HH:MM, "
                                "ex. 09:00-12:00)")
    h1, m1, h2, m2 = (int(g) for g in match.groups())
    if h1 > 23 or h2 > 24 or m1 > 59 or m2 > 59 or (h2 == 24 and m2):
        raise OpeningHoursError(f"plage horaire « {span} » : heure impossible")
    start, end = h1 * 60 + m1, h2 * 60 + m2
    if end <= start:
        raise OpeningHoursError(f"plage horaire « {span} » : la fin précède le début "
                                "(une plage de nuit s'écrit en deux règles)")
    return start, end


def _hour_fr(minutes: int) -> str:
    h, m = divmod(minutes, 60)
    return f"{h} h" + (f" {m:02d}" if m else "")


def _days_fr(item: str) -> str:
    if item in HOLIDAYS_FR:
        return HOLIDAYS_FR[item]
    first, _, last = item.partition("-")
    return f"{DAY_FR[first]}–{DAY_FR[last]}" if last else DAY_FR[first]


def to_french(value: str) -> str:
    """Human French rendering, e.g. ``lundi–vendredi 9 h–12 h, 14 h–17 h ; samedi 9 h–12 h``.

    Raises
    ------
    OpeningHoursError
        When ``value`` is invalid.
    """
    rules = parse(value)
    if not rules:
        return "24 h/24, 7 j/7"
    out = []
    for rule in rules:
        days = ", ".join(_days_fr(d) for d in rule.days)
        if rule.off:
            holidays_only = bool(rule.days) and all(d in HOLIDAYS_FR for d in rule.days)
            text = (f"fermé les {days}" if holidays_only else
                    f"{days} : fermé" if days else "fermé")
        elif rule.spans:
            text = f"{days} " + ", ".join(f"{_hour_fr(s)}–{_hour_fr(e)}" for s, e in rule.spans)
        else:
            text = days
        if rule.comment:
            text += f" ({rule.comment})"
        out.append(text)
    return " ; ".join(out)
