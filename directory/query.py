"""Understanding a search query: « ehpad brioude » is « EHPAD » around Brioude.

Professionals type the place in the query. :func:`understand` finds the words at the
end (or the start) of the query that name a commune of the loaded départements —
regardless of case, accents, hyphens, a leading article, « st »/« saint », and one typo
in names of five letters or more — and returns that commune as the place and the rest
as the text. The same function serves the CLI, the JSON API and the search page.

Matching, in order of preference for each candidate group of words:

1. the commune's whole name (``geo.names.name_key``): « le puy en velay », « brioude »;
2. the beginning of a name, when one commune is clearly the one meant (at least five
   times the population of any other commune whose name starts the same way):
   « le puy » → Le Puy-en-Velay, « clermont » → Clermont-Ferrand;
3. one typo (a letter added, missing or changed) in a one-word name of 5+ letters:
   « ysingeaux » → Yssingeaux.

Words that are search vocabulary (« centre », « maison », « hopital »…) are never a
place on their own, so « centre de sante » stays text.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from geo.names import name_key
from geo.text import fold

#: Longest group of words tried as a commune name (« saint germain l herm » is 4).
MAX_PLACE_WORDS = 6
#: A prefix names a commune when it is this many times more populous than the others.
DOMINANCE = 5
#: Words people use for what they look for; alone they never name a place.
VOCABULARY = frozenset("""
    centre center maison hopital hopitaux clinique service services sante soins soin
    medical medicale accueil aide domicile foyer residence jour nuit urgence urgences
    pharmacie laboratoire cabinet mission france point relais association ehpad ssiad
    cmp csapa caarud clic chrs ime esat mas fam saad msp psychiatrie addictologie
    retraite personnes agees handicap enfants enfance famille social sociale emploi
    mairie ccas cias plateforme dispositif espace public publique ville saint sainte
""".split())  # noqa: SIM905 - a word list reads better as text


@dataclass(frozen=True)
class Commune:
    """A commune as the query matcher needs it."""

    code: str
    name: str
    population: int = 0


@dataclass(frozen=True)
class Understood:
    """What a query was understood to mean.

    Attributes
    ----------
    text
        The words left to search for (may be empty: « brioude » alone).
    place
        The commune named in the query, or ``None``.
    place_words
        The words of the query that named it, as typed (to show « autour de … »).
    """

    text: str
    place: Commune | None = None
    place_words: str = ""


class CommuneMatcher:
    """Index of communes for :func:`understand` (build once per process, reuse)."""

    def __init__(self, communes: Iterable[Commune]) -> None:
        self._exact: dict[str, list[Commune]] = {}
        self._all: list[tuple[str, Commune]] = []
        for commune in communes:
            key = name_key(commune.name)
            self._exact.setdefault(key, []).append(commune)
            self._all.append((key, commune))

    def match(self, words: list[str]) -> Commune | None:
        """The commune these folded words name, or ``None``."""
        key = name_key(" ".join(words))
        if not key or all(w in VOCABULARY for w in key.split()):
            return None
        exact = self._exact.get(key)
        if exact:
            return _dominant(exact, allow_tie=len(exact) == 1)
        if len("".join(words)) < 5:  # « le puy » yes, « vic » no
            return None
        starting = [c for k, c in self._all if k.startswith(key + " ")]
        if starting:
            return _dominant(starting, allow_tie=len(starting) == 1)
        if len(words) == 1 and len(key) >= 5:
            close = [c for k, c in self._all if " " not in k and _one_edit(key, k)]
            if close:
                return _dominant(close, allow_tie=len(close) == 1)
        return None


def _dominant(candidates: list[Commune], *, allow_tie: bool) -> Commune | None:
    ranked = sorted(candidates, key=lambda c: -c.population)
    if allow_tie or len(ranked) == 1:
        return ranked[0]
    if ranked[0].population >= DOMINANCE * max(ranked[1].population, 1):
        return ranked[0]
    return None


def _one_edit(a: str, b: str) -> bool:
    """Whether ``a`` and ``b`` differ by exactly one inserted, deleted or changed letter."""
    if a == b or abs(len(a) - len(b)) > 1:
        return False
    if len(a) == len(b):
        return sum(x != y for x, y in zip(a, b, strict=True)) == 1
    short, long_ = (a, b) if len(a) < len(b) else (b, a)
    i = 0
    while i < len(short) and short[i] == long_[i]:
        i += 1
    return short[i:] == long_[i + 1:]


def understand(query: str, matcher: CommuneMatcher) -> Understood:
    """Split ``query`` into the text to search and the commune it names, if any.

    The longest group of words at the end of the query that names a commune wins; then
    the longest at the start. The text keeps the other words as typed.
    """
    typed = query.split()
    folded = [fold(w) for w in typed]
    if not typed:
        return Understood(text="")
    n = len(typed)
    for size in range(min(MAX_PLACE_WORDS, n), 0, -1):
        for start in dict.fromkeys((n - size, 0)):
            words = [w for w in folded[start:start + size] if w]
            if not words:
                continue
            commune = matcher.match(" ".join(words).split())
            if commune is not None:
                rest = typed[:start] + typed[start + size:]
                return Understood(text=" ".join(rest), place=commune,
                                  place_words=" ".join(typed[start:start + size]))
    return Understood(text=query.strip())
