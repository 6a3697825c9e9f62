"""Matching commune names as people type them: ``LE PUY EN VELAY`` = ``Le Puy-en-Velay``.

Shared by the plan reader (coverage) and the search query understanding (directory).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable

from geo.text import fold

_ARTICLES = {"le", "la", "les", "l"}
_ABBREVIATIONS = {"st": "saint", "ste": "sainte", "sts": "saints", "stes": "saintes"}


def name_key(name: str) -> str:
    """Key insensitive to case, accents, hyphens, apostrophes, a leading article, St/Ste."""
    words = [_ABBREVIATIONS.get(w, w) for w in fold(name).split()]
    if len(words) > 1 and words[0] in _ARTICLES:
        words = words[1:]
    return " ".join(words)


class NameIndex:
    """Index of the communes of a département by :func:`name_key`."""

    def __init__(self, pairs: Iterable[tuple[str, str]]) -> None:
        self._by_key: dict[str, list[tuple[str, str]]] = defaultdict(list)
        for code, name in pairs:
            self._by_key[name_key(name)].append((code, name))

    def lookup(self, name: str) -> list[tuple[str, str]]:
        """``(code, official name)`` candidates: none, one, or several (ambiguous)."""
        return list(self._by_key.get(name_key(name), []))
