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
3. one typo (a letter added, missing or changed) in a name of 5+ letters, with as many
   words as typed: « ysingeaux » → Yssingeaux, « chaise dieux » → La Chaise-Dieu.

Words that are search vocabulary (« centre », « maison », « hopital »…) are never a
place on their own, so « centre de sante » stays text.
"""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Container, Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from geo.names import name_key
from geo.text import fold

if TYPE_CHECKING:
    from sqlalchemy.engine import Connection

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
        self._by_length: dict[int, list[tuple[str, Commune]]] = {}
        for commune in communes:
            key = name_key(commune.name)
            self._exact.setdefault(key, []).append(commune)
            self._all.append((key, commune))
            self._by_length.setdefault(len(key), []).append((key, commune))
        # Sorted keys: the names starting with some words are one bisect away.
        self._sorted = sorted(self._all, key=lambda kc: kc[0])
        self._keys = [k for k, _c in self._sorted]

    def entries(self) -> list[tuple[str, Commune]]:
        """Every (name key, commune) pair."""
        return list(self._all)

    def match(self, words: list[str], *, vocabulary: Container[str] = ()) -> Commune | None:
        """The commune these folded words name, or ``None``.

        A typo is not forgiven when every typed word is a word of ``vocabulary`` (the
        words records are found by): « pharmacie castel » names a pharmacy, not Chastel.
        """
        key = name_key(" ".join(words))
        if not key or all(w in VOCABULARY for w in key.split()):
            return None
        exact = self._exact.get(key)
        if exact:
            return _dominant(exact, allow_tie=len(exact) == 1)
        if len("".join(words)) < 5:  # « le puy » yes, « vic » no
            return None
        prefix = key + " "
        first = bisect_left(self._keys, prefix)
        starting = []
        for k, c in self._sorted[first:]:
            if not k.startswith(prefix):
                break
            starting.append(c)
        if starting:
            return _dominant(starting, allow_tie=len(starting) == 1)
        if len(key.replace(" ", "")) >= 5:
            close = [c for size in (len(key) - 1, len(key), len(key) + 1)
                     for k, c in self._by_length.get(size, ())
                     if k.count(" ") == key.count(" ") and _one_edit(key, k)]
            if close and not all(w in vocabulary for w in key.split()):
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


def understand(query: str, matcher: CommuneMatcher, *, vocabulary: Container[str] = ()
               ) -> Understood:
    """Split ``query`` into the text to search and the commune it names, if any.

    The longest group of words at the end of the query that names a commune wins; then
    the longest at the start. The text keeps the other words as typed. ``vocabulary``:
    words of the index, never read as a commune through a typo.
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
            commune = matcher.match(" ".join(words).split(), vocabulary=vocabulary)
            if commune is not None:
                rest = typed[:start] + typed[start + size:]
                return Understood(text=" ".join(rest), place=commune,
                                  place_words=" ".join(typed[start:start + size]))
    return Understood(text=query.strip())


_MATCHERS: dict[tuple[str, int, str], CommuneMatcher] = {}


class IndexWords:
    """Whether a word is a whole word of some open record's search text, asked lazily.

    Only typo candidates are looked up (rarely more than one per query), each in the
    vocabulary of the index (``search_words``, by its primary key).
    """

    def __init__(self, conn: Connection) -> None:
        self._conn = conn
        self._known: dict[str, bool] = {}

    def __contains__(self, word: object) -> bool:
        import re

        from sqlalchemy import text

        if not isinstance(word, str) or not re.fullmatch(r"[a-z0-9]+", word):
            return False
        if word not in self._known:
            self._known[word] = bool(self._conn.execute(text(
                "SELECT EXISTS (SELECT 1 FROM search_words WHERE word = :w)"),
                {"w": word}).scalar())
        return self._known[word]


def matcher_for(conn: Connection) -> CommuneMatcher:
    """The :class:`CommuneMatcher` of the communes loaded in ``conn``'s database.

    Built once per database and per state of the communes table (count and last update),
    so that loading a département is seen without restarting the process.
    """
    from sqlalchemy import text

    state = conn.execute(text("SELECT count(*), coalesce(max(updated_at)::text, '') "
                              "FROM communes")).one()
    key = (str(conn.engine.url), int(state[0]), str(state[1]))
    matcher = _MATCHERS.get(key)
    if matcher is None:
        rows = conn.execute(text("SELECT code, nom, coalesce(population, 0) FROM communes"))
        matcher = CommuneMatcher(Commune(code=r[0], name=r[1], population=int(r[2]))
                                 for r in rows)
        _MATCHERS.clear()
        _MATCHERS[key] = matcher
    return matcher


@dataclass(frozen=True)
class Resolution:
    """What a typed commune name resolved to: one commune, choices, or nothing (message)."""

    commune: dict[str, str] | None
    choices: list[dict[str, str]]
    message: str | None


def resolve_commune(conn: Connection, typed: str) -> Resolution:
    """Resolve what a user typed in a « commune » field, server-side.

    An INSEE code, « Brioude (43040) » (the autocomplete's label) or a name that names
    one commune (:meth:`CommuneMatcher.match`: accents, articles, « st », one typo) is
    used; a name shared by several communes, or a beginning matching several, gives the
    choices (most populous first); nothing gives a French message.
    """
    import re

    from sqlalchemy import text

    value = typed.strip()
    labelled = re.fullmatch(r".*\((\d[\dAB]\d{3})\)\s*", value)
    code = labelled.group(1) if labelled else value if re.fullmatch(r"\d[\dAB]\d{3}", value) \
        else None
    columns = "SELECT code, nom, departement FROM communes"
    if code:
        row = conn.execute(text(f"{columns} WHERE code = :c"), {"c": code}).mappings().first()  # noqa: S608
        if row is not None:
            return Resolution(dict(row), [], None)
        return Resolution(None, [], f"Aucune commune chargée n'a le code {code}.")
    if len(value) < 2:
        return Resolution(None, [], "Saisissez au moins deux lettres du nom de la commune.")
    matcher = matcher_for(conn)
    key = name_key(value)
    if len(key.replace(" ", "")) < 2:
        return Resolution(None, [], "Saisissez au moins deux lettres du nom de la commune.")
    same = [c for k, c in matcher.entries() if k == key]
    found = same[0] if len(same) == 1 else None if same else matcher.match(fold(value).split())
    if found is not None:
        row = conn.execute(text(f"{columns} WHERE code = :c"), {"c": found.code}  # noqa: S608
                           ).mappings().one()
        return Resolution(dict(row), [], None)
    candidates = same or [c for k, c in matcher.entries() if k.startswith(key)]
    if not candidates:
        rows = conn.execute(text(
            f"{columns} WHERE similarity(unaccent(lower(nom)), unaccent(lower(:q))) > 0.3 "  # noqa: S608
            "ORDER BY similarity(unaccent(lower(nom)), unaccent(lower(:q))) DESC, nom LIMIT 8"),
            {"q": value}).mappings().all()
        choices = [dict(r) for r in rows]
        if not choices:
            return Resolution(None, [], f"Aucune commune ne s'appelle « {value} » dans les "
                                        "départements chargés.")
        return Resolution(None, choices, None)
    codes = [c.code for c in sorted(candidates, key=lambda c: -c.population)[:8]]
    rows = conn.execute(text(f"{columns} WHERE code = ANY(:codes)"), {"codes": codes}  # noqa: S608
                        ).mappings().all()
    by_code = {r["code"]: dict(r) for r in rows}
    return Resolution(None, [by_code[c] for c in codes if c in by_code], None)
