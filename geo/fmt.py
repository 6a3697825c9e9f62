"""French number formatting shared by the CLI, reports and web pages."""

from __future__ import annotations

NARROW_NBSP = "\u202f"


def fr_int(value: float | int) -> str:
    """``228654`` → ``"228 654"`` (narrow no-break space, as French typography wants)."""
    return f"{round(value):,}".replace(",", NARROW_NBSP)


def fr_float(value: float, digits: int = 1) -> str:
    """``12.34`` → ``"12,3"``."""
    return f"{value:,.{digits}f}".replace(",", NARROW_NBSP).replace(".", ",")


MONTHS = ("janvier", "février", "mars", "avril", "mai", "juin", "juillet", "août",
          "septembre", "octobre", "novembre", "décembre")
_VOWELS = "aeiouyhàâäéèêëîïôöùûüœæAEIOUYHÀÂÄÉÈÊËÎÏÔÖÙÛÜŒÆ"
# Communes whose initial h is « aspiré » (no elision); the others elide: « d'Hauteville ».
_H_ASPIRE = frozenset({"haute", "hautes", "haut", "hauts", "hérisson", "hameau"})


def fr_date(value: object) -> str:
    """``date(2026, 11, 23)`` → ``"23 novembre 2026"`` (1er for the first of the month)."""
    day = getattr(value, "day", None)
    if day is None:
        return str(value)
    prefix = "1er" if day == 1 else str(day)
    return f"{prefix} {MONTHS[value.month - 1]} {value.year}"  # type: ignore[attr-defined]


def plural(count: int | float, singular: str, plural_form: str | None = None) -> str:
    """``plural(1, "antenne")`` → ``"1 antenne"``; 3 → ``"3 antennes"`` (0 and 1 singular)."""
    word = singular if abs(count) < 2 else (plural_form or singular + "s")
    number = fr_int(count) if float(count).is_integer() else fr_float(float(count))
    return f"{number} {word}"


def de(name: str) -> str:
    """« de » before a place name, with French elision and contraction.

    ``Le Puy-en-Velay`` → « du Puy-en-Velay », ``Les Estables`` → « des Estables »,
    ``La Chaise-Dieu`` → « de La Chaise-Dieu », ``L'Hôpital`` → « de L'Hôpital »,
    ``Yssingeaux`` → « d'Yssingeaux », ``Brioude`` → « de Brioude ».
    """
    name = name.strip()
    first, _, rest = name.partition(" ")
    if first in {"Le", "le"} and rest:
        return f"du {rest}"
    if first in {"Les", "les"} and rest:
        return f"des {rest}"
    if name[:1] in _VOWELS and not name.startswith(("L'", "La ", "l'")) \
            and name.split("-")[0].split(" ")[0].lower() not in _H_ASPIRE:
        return f"d'{name}"
    return f"de {name}"


def a(name: str) -> str:
    """« à » before a place name: ``Le Puy-en-Velay`` → « au Puy-en-Velay », ``Les Estables``
    → « aux Estables », ``Brioude`` → « à Brioude »."""
    name = name.strip()
    first, _, rest = name.partition(" ")
    if first in {"Le", "le"} and rest:
        return f"au {rest}"
    if first in {"Les", "les"} and rest:
        return f"aux {rest}"
    return f"à {name}"
