"""Text folding shared by name matching (plans) and full-text search (directory)."""

from __future__ import annotations

import re
import unicodedata

_NON_ALNUM = re.compile(r"[^a-z0-9]+")


def fold(value: str) -> str:
    """Lowercase, strip accents and ligatures, keep letters and digits separated by spaces.

    ``"L'Hôpital-sous-Rochefort"`` → ``"l hopital sous rochefort"``; ``"Œuvre"`` → ``"oeuvre"``.
    """
    value = value.replace("œ", "oe").replace("Œ", "OE").replace("æ", "ae").replace("Æ", "AE")
    decomposed = unicodedata.normalize("NFKD", value)
    stripped = "".join(c for c in decomposed if not unicodedata.combining(c))
    return _NON_ALNUM.sub(" ", stripped.lower()).strip()
