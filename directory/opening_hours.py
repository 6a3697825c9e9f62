"""Validate opening hours in OSM ``opening_hours`` syntax (the subset services use) and
render them in French.

Accepted: ``24/7``; ``off``/``closed``; rules separated by ``;``, each
``<days> <times>`` or ``<days> off`` or ``PH off``/``PH <times>``; days ``Mo``…``Su``, ranges
``Mo-Fr`` and lists ``Mo,We``; times ``HH:MM-HH:MM`` separated by ``,``.
"""

from __future__ import annotations

import re

DAYS = ["Mo", "Tu", "We", "Th", "Fr", "Sa", "Su"]
DAY_FR = dict(zip(DAYS, ["lundi", "mardi", "mercredi", "jeudi", "vendredi", "samedi",
                         "dimanche"], strict=True))
_TIME = r"(?:[01]\d|2[0-4]):[0-5]\d"
_SPAN = re.compile(rf"^({_TIME})-({_TIME})$")
_DAY_ITEM = re.compile(r"^(Mo|Tu|We|Th|Fr|Sa|Su|PH)(?:-(Mo|Tu|We|Th|Fr|Sa|Su))?$")


def validate(value: str) -> str | None:
    """``None`` when valid, else a French explanation."""
    text = value.strip()
    if not text:
        return "horaires vides"
    if text in {"24/7", "off", "closed"}:
        return None
    for rule in (r.strip() for r in text.split(";")):
        if not rule:
            continue
        parts = rule.split(None, 1)
        if len(parts) != 2:
            return f"règle « {rule} » incomplète (attendu : jours puis horaires, ex. Mo-Fr 09:00-12:00)"
        days, times = parts
        for item in days.split(","):
            m = _DAY_ITEM.match(item)
            if not m:
                return f"jour « {item} » inconnu (Mo, Tu, We, Th, Fr, Sa, Su, PH)"
        if times.strip() in {"off", "closed"}:
            continue
        for span in times.split(","):
            m = _SPAN.match(span.strip())
            if not m:
                return f"plage horaire « {span.strip()} » invalide (attendu HH:MM-HH:MM)"
            if m.group(1) >= m.group(2) and m.group(2) != "00:00":
                return f"plage horaire « {span.strip()} » : la fin précède le début"
    return None


def _hour_fr(t: str) -> str:
    h, m = t.split(":")
    return f"{int(h)} h" + ("" if m == "00" else f" {m}")


def to_french(value: str) -> str:
    """Human French rendering (assumes a valid value)."""
    text = value.strip()
    if text == "24/7":
        return "24 h/24, 7 j/7"
    if text in {"off", "closed"}:
        return "fermé"
    out = []
    for rule in (r.strip() for r in text.split(";") if r.strip()):
        days, times = rule.split(None, 1)
        day_parts = []
        for item in days.split(","):
            m = _DAY_ITEM.match(item)
            assert m
            if m.group(1) == "PH":
                day_parts.append("jours fériés")
            elif m.group(2):
                day_parts.append(f"{DAY_FR[m.group(1)]}–{DAY_FR[m.group(2)]}")
            else:
                day_parts.append(DAY_FR[m.group(1)])
        if times.strip() in {"off", "closed"}:
            hours = "fermé"
        else:
            hours = ", ".join("–".join(_hour_fr(t) for t in span.strip().split("-"))
                              for span in times.split(","))
        out.append(f"{', '.join(day_parts)} {hours}")
    return " ; ".join(out)
