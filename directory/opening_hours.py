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
from datetime import date, datetime, timedelta

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


# ---- evaluation: open at a moment, open on a day (French public holidays) -------------

def easter(year: int) -> date:
    """Easter Sunday (Gregorian calendar, anonymous algorithm of Meeus/Jones/Butcher)."""
    a = year % 19
    b, c = divmod(year, 100)
    d, e = divmod(b, 4)
    f = (b + 8) // 25
    g = (b - f + 1) // 3
    h = (19 * a + b - d - g + 15) % 30
    i, k = divmod(c, 4)
    l_ = (32 + 2 * e + 2 * i - h - k) % 7
    m = (a + 11 * h + 22 * l_) // 451
    month, day = divmod(h + l_ - 7 * m + 114, 31)
    return date(year, month, day + 1)


def public_holidays(year: int) -> dict[date, str]:
    """The eleven public holidays of metropolitan France (Code du travail, L3133-1)."""
    sunday = easter(year)
    return {
        date(year, 1, 1): "jour de l'an", sunday + timedelta(days=1): "lundi de Pâques",
        date(year, 5, 1): "fête du Travail", date(year, 5, 8): "victoire 1945",
        sunday + timedelta(days=39): "Ascension", sunday + timedelta(days=50):
        "lundi de Pentecôte", date(year, 7, 14): "fête nationale",
        date(year, 8, 15): "Assomption", date(year, 11, 1): "Toussaint",
        date(year, 11, 11): "armistice 1918", date(year, 12, 25): "Noël",
    }


def is_public_holiday(day: date) -> bool:
    return day in public_holidays(day.year)


def _covers(item: str, day: date) -> bool:
    if item == "PH":
        return is_public_holiday(day)
    if item == "SH":       # school holidays need a calendar this module does not hold
        return False
    first, _, last = item.partition("-")
    weekday = day.weekday()
    start = DAYS.index(first)
    end = DAYS.index(last) if last else start
    if start <= end:
        return start <= weekday <= end
    return weekday >= start or weekday <= end


def day_spans(value: str, day: date) -> tuple[tuple[int, int], ...] | None:
    """Opening spans of ``day`` (minutes since midnight); ``()`` when closed all day;
    ``None`` when the value does not say (a rule with only a comment, or invalid value).

    A later rule that covers the day replaces the earlier ones (OSM semantics); on a
    public holiday, rules with ``PH`` replace the weekday's rules, and without a ``PH``
    rule the weekday's hours apply. ``SH`` (school holidays) rules are not applied.
    """
    try:
        rules = parse(value)
    except OpeningHoursError:
        return None
    if not rules:
        return ((0, 24 * 60),)
    found: Rule | None = None
    holiday_rule: Rule | None = None
    for rule in rules:
        if not rule.days:
            found = rule
            continue
        if "PH" in rule.days and is_public_holiday(day):
            holiday_rule = rule
        elif any(_covers(item, day) for item in rule.days if item != "PH"):
            found = rule
    chosen = holiday_rule or found
    if chosen is None or chosen.off:
        return ()
    if not chosen.spans:
        return None
    return chosen.spans


def open_at(value: str, moment: datetime) -> bool | None:
    """Whether ``value`` says open at ``moment`` (local time); ``None`` when unknown."""
    spans = day_spans(value, moment.date())
    if spans is None:
        return None
    minute = moment.hour * 60 + moment.minute
    return any(start <= minute < end for start, end in spans)


def open_on(value: str, day: date) -> bool | None:
    """Whether ``value`` says open at some time of ``day``; ``None`` when unknown."""
    spans = day_spans(value, day)
    if spans is None:
        return None
    return bool(spans)


# ---- French input: « lundi-vendredi 9h-12h, 14h-17h » → « Mo-Fr 09:00-12:00,14:00-17:00 » --

_FR_DAY = {"lundi": "Mo", "lun": "Mo", "mardi": "Tu", "mar": "Tu", "mercredi": "We",
           "mer": "We", "jeudi": "Th", "jeu": "Th", "vendredi": "Fr", "ven": "Fr",
           "samedi": "Sa", "sam": "Sa", "dimanche": "Su", "dim": "Su",
           "feries": "PH", "ferie": "PH", "jours feries": "PH"}
_FR_TIME = re.compile(r"^(\d{1,2})\s*(?:h|:)\s*(\d{2})?$")


def from_french(value: str) -> str:
    """Turn French hours into OSM syntax; OSM syntax is returned unchanged.

    Accepts « lundi-vendredi 9h-12h, 14h-17h ; samedi 9h30-12h », « lun, mer 8h-12h »,
    « du lundi au vendredi de 9h à 17h », « dimanche fermé », « 24h/24 ».

    Raises
    ------
    OpeningHoursError
        When the text is neither valid OSM syntax nor understood French.
    """
    text = value.strip()
    if validate(text) is None:
        return text
    import unicodedata

    plain = "".join(c for c in unicodedata.normalize("NFD", text.lower())
                    if not unicodedata.combining(c)).replace("–", "-")
    folded = re.sub(r"\s+", " ", plain).strip()
    if folded in {"24h/24", "24h/24 7j/7", "24/24", "24h/24, 7j/7"}:
        return "24/7"
    if folded in {"ferme", "fermé"}:
        return "off"
    rules = []
    for part in re.split(r"\s*[;\n]\s*|\.\s+", folded):
        part = part.strip(" .")
        if part:
            rules.append(_french_rule(part))
    out = "; ".join(rules)
    problem = validate(out)
    if problem:
        raise OpeningHoursError(problem)
    return out


def _french_rule(part: str) -> str:
    part = re.sub(r"\bdu (\w+) au (\w+)\b", r"\1-\2", part)
    part = re.sub(r"\bde (\d{1,2}\s*h\s*\d{0,2}) a (\d{1,2}\s*h\s*\d{0,2})", r"\1-\2", part)
    part = part.replace(" et ", ", ").replace("jours feries", "feries").replace("le ", "")
    match = re.match(r"^([a-z ,\-]+?)\s*(?::\s*)?((?:\d|ferme).*)?$", part)
    if not match:
        raise OpeningHoursError(f"« {part} » : jours non reconnus (ex. lundi-vendredi 9h-12h)")
    days_text, times_text = match.group(1).strip(" ,:"), (match.group(2) or "").strip()
    days = []
    for item in re.split(r"\s*,\s*", days_text):
        bounds = [b.strip() for b in item.split("-")]
        if not all(b in _FR_DAY for b in bounds) or len(bounds) > 2:
            raise OpeningHoursError(f"jour « {item} » non reconnu (lundi, mardi… ou lun, mar…)")
        days.append("-".join(_FR_DAY[b] for b in bounds))
    if not times_text:
        raise OpeningHoursError(f"« {part} » : horaires manquants (ex. 9h-12h)")
    if times_text.startswith("ferme"):
        return f"{','.join(days)} off"
    spans = []
    for span in re.split(r"\s*,\s*", times_text):
        ends = [e.strip() for e in span.split("-")]
        if len(ends) != 2:
            raise OpeningHoursError(f"plage « {span} » non reconnue (ex. 9h-12h)")
        spans.append("-".join(_french_time(e) for e in ends))
    return f"{','.join(days)} {','.join(spans)}"


def _french_time(value: str) -> str:
    match = _FR_TIME.match(value)
    if not match:
        raise OpeningHoursError(f"heure « {value} » non reconnue (ex. 9h, 14h30, 09:00)")
    hour, minute = int(match.group(1)), int(match.group(2) or 0)
    return f"{hour:02d}:{minute:02d}"
