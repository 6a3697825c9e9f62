"""Search the directory: French full text, accent- and typo-tolerant, with filters.

Text is folded (lowercase, no accents) in Python when stored and when queried, so the
index needs no ``unaccent`` at query time. Two phases (``docs/search.md``): each query
word is looked up in the vocabulary of the index (``search_words``: its prefix after
French stemming, everyday synonyms, and for a word the index lacks its trigram-similar
words, so ``ehpad ysingeaux`` finds the EHPAD of Yssingeaux); then one French full-text
query on the GIN index reads at most ``MAX_RANKED + 1`` candidates to rank. Distances use
PostGIS ``geography`` (metres on the ellipsoid).
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import text
from sqlalchemy.engine import Connection

from directory.store import STALE_AFTER
from geo.errors import MaillageError
from geo.fmt import de, fr_int
from geo.text import fold

MAX_PER_PAGE = 100
#: Minimum trigram word similarity for a query word to match despite a typo.
WORD_SIMILARITY = 0.5
#: Words of the index a query word stands for besides its own prefix (most similar first).
MAX_TYPO_WORDS = 12
#: Results ranked for one query, at most: past it the answer says « plus de 1 000 »
#: (``total_capped``) and the user narrows the search (a place, a category).
MAX_RANKED = 1000
_WORD = re.compile(r"[a-z0-9]+")
_TEXT_MATCH = "s.search_vector @@ to_tsquery('french', :tsq)"
#: Records compared with the text when nothing is found (« les plus proches »).
CLOSEST_CANDIDATES = 300
SECTORS = ("sanitaire", "medico-social", "social")


#: Longest query text accepted.
MAX_QUERY_CHARS = 300
#: Radius (km) of a search around a commune named in the query, when none is given.
DEFAULT_RADIUS_KM = 20.0
#: Words that say nothing of what is looked for (« hôpital de jour » searches hôpital, jour).
STOPWORDS = frozenset("de du des la le les l d a au aux et en pour sur un une".split())  # noqa: SIM905


@dataclass
class SearchQuery:
    q: str = ""
    sector: str | None = None
    category: str | None = None
    public: str | None = None
    commune: str | None = None     # INSEE code: centre of the radius search
    lat: float | None = None
    lon: float | None = None
    radius_km: float | None = None
    serves: str | None = None      # INSEE code: territory of intervention covers it
    sort: str = "relevance"        # relevance | distance
    page: int = 1
    per_page: int = 20
    #: Read a commune named in ``q`` as the place of the search (« ehpad brioude »).
    understand: bool = True
    #: Département preferred in the ranking when there is no place (the user's).
    prefer_dept: str | None = None
    #: Only records open at this moment (local time) / on this day.
    open_at: datetime | None = None
    open_on: date | None = None

    def validate(self) -> None:
        if len(self.q) > MAX_QUERY_CHARS:
            raise MaillageError(f"Recherche trop longue ({MAX_QUERY_CHARS} caractères au plus).")
        if self.sector and self.sector not in SECTORS:
            raise MaillageError(f"Secteur inconnu « {self.sector} » (sanitaire, medico-social, social).")
        if self.sort not in {"relevance", "distance"}:
            raise MaillageError("Tri inconnu : relevance ou distance.")
        if self.page < 1 or self.per_page < 1:
            raise MaillageError("La page et la taille de page doivent être positives.")
        if self.per_page > MAX_PER_PAGE:
            raise MaillageError(f"Taille de page limitée à {MAX_PER_PAGE}.")
        if (self.page - 1) * self.per_page >= MAX_RANKED:
            raise MaillageError(f"Seuls les {fr_int(MAX_RANKED)} premiers résultats sont "
                                "classés : précisez la recherche (un lieu, une catégorie).")
        if (self.lat is None) != (self.lon is None):
            raise MaillageError("Indiquez à la fois lat et lon.")
        for value in (self.lat, self.lon, self.radius_km):
            if value is not None and not math.isfinite(value):
                raise MaillageError("Nombre non fini refusé.")
        if self.lat is not None and not (-90 <= self.lat <= 90 and -180 <= (self.lon or 0) <= 180):
            raise MaillageError("Coordonnées hors limites.")
        if self.radius_km is not None and not (0 < self.radius_km <= 500):
            raise MaillageError("Le rayon doit être compris entre 0 et 500 km.")
        if self.prefer_dept and not re.fullmatch(r"\d[\dAB]\d?", self.prefer_dept):
            raise MaillageError(f"Département inconnu « {self.prefer_dept} ».")


def now_in_france() -> datetime:
    """The local time of metropolitan France (naive), for « ouvert maintenant »."""
    from zoneinfo import ZoneInfo

    return datetime.now(ZoneInfo("Europe/Paris")).replace(tzinfo=None)


def _words(q: str) -> list[str]:
    words = [w for w in re.sub(r"[^a-z0-9]+", " ", fold(q)).split() if len(w) >= 2]
    meaningful = [w for w in words if w not in STOPWORDS]
    return (meaningful or words)[:8]


@dataclass
class _Plan:
    """A query resolved: the text searched, the place (and where it came from)."""

    text: str
    place: dict[str, Any] | None
    center: tuple[float, float] | None
    radius_km: float | None


def _resolve(conn: Connection, query: SearchQuery) -> _Plan:
    from directory.query import understand

    text_q, place, radius = query.q, None, query.radius_km
    code = query.commune
    if not code and query.lat is None and query.understand and query.q.strip():
        from directory.query import IndexWords, matcher_for

        understood = understand(query.q, matcher_for(conn), vocabulary=IndexWords(conn))
        if understood.place is not None:
            code, text_q = understood.place.code, understood.text
            place = {"source": "query", "words": understood.place_words}
            radius = radius or DEFAULT_RADIUS_KM
    if code:
        row = conn.execute(text("SELECT code, nom, departement, ST_X(ST_Transform(point, 4326)) "
                                "AS lon, ST_Y(ST_Transform(point, 4326)) AS lat FROM communes "
                                "WHERE code = :c"), {"c": code}).one_or_none()
        if row is None:
            raise MaillageError(f"Commune inconnue « {code} ».")
        place = {"code": row.code, "name": row.nom, "departement": row.departement,
                 "label": f"{row.nom} ({row.code})", "around": f"autour {de(row.nom)} ({row.code})",
                 "source": "commune", "words": "",
                 **(place or {})}
        return _Plan(text_q, place, (row.lon, row.lat), radius)
    if query.lat is not None and query.lon is not None:
        return _Plan(text_q, None, (query.lon, query.lat), radius)
    return _Plan(text_q, None, None, radius)


def search(conn: Connection, query: SearchQuery, *, today: date | None = None) -> dict[str, Any]:
    """Run a search; returns a GeoJSON FeatureCollection with ``total``, ``page``…

    A commune named in the query (« ehpad brioude ») becomes the place of the search
    unless ``query.commune`` or a point is given or ``query.understand`` is false; the
    answer's ``place`` says which commune was used (``source`` = ``query`` when it was
    read in the text) and ``text`` the words searched. See ``docs/search.md``.
    """
    query.validate()
    plan = _resolve(conn, query)
    match = match_words(conn, _words(plan.text))
    result = _run(conn, query, plan, match, today=today)
    result["place"] = plan.place
    result["text"] = plan.text
    result["radius_km"] = plan.radius_km if plan.center is not None else None
    if result["total"] == 0:
        result["help"] = zero_result_help(conn, query, plan, match)
    return result


@dataclass(frozen=True)
class TextMatch:
    """Phase 1 of a search: each query word as the words of the index it stands for.

    ``groups[i]`` is the ``tsquery`` of ``words[i]``: the word as a prefix (after French
    stemming), its everyday synonyms (``QUERY_SYNONYMS``: « dentiste » → « dentaire »)
    and, for a word the index does not have, the words of the index similar enough to be
    a typo of it (« ysingeaux » → « yssingeaux »). It is empty for a word the French text search ignores (one of its
    stop words, e.g. « pas »): such a word is matched as a whole word of the text.
    """

    words: tuple[str, ...] = ()
    groups: tuple[str, ...] = ()

    @property
    def tsquery(self) -> str:
        return " & ".join(f"({g})" for g in self.groups if g)

    @property
    def plain(self) -> tuple[str, ...]:
        return tuple(w for w, g in zip(self.words, self.groups, strict=True) if not g)


def similar_words(conn: Connection, words: list[str], *, threshold: float, limit: int
                  ) -> tuple[dict[str, list[str]], set[str]]:
    """Words of the index (``search_words``) whose trigrams cover at least ``threshold``
    of a query word's (``word_similarity``), most similar first, at most ``limit`` each;
    and the query words French text search ignores (its stop words, e.g. « notre »).

    The vocabulary has tens of thousands of short words: its trigram index answers in
    about a millisecond where the same test on every structure's text took up to a second.
    """
    if not words:
        return {}, set()
    conn.execute(text("SELECT set_config('pg_trgm.word_similarity_threshold', :v, true)"),
                 {"v": str(threshold)})
    out: dict[str, list[str]] = {w: [] for w in words}
    stop: set[str] = set()
    # "word %> :w" (not ":w <% word") so the planner sees the indexed column on the left.
    for row in conn.execute(text(
            "SELECT q.w, numnode(to_tsquery('french', q.w)) AS lexemes, v.word "
            "FROM unnest(CAST(:words AS text[])) AS q(w) LEFT JOIN LATERAL (SELECT word "
            "FROM search_words WHERE word %> q.w ORDER BY word = q.w DESC, "
            "word_similarity(q.w, word) DESC, word LIMIT :n) v ON true"),
            {"words": words, "n": limit}):
        if not row.lexemes:
            stop.add(row.w)
        if row.word and _WORD.fullmatch(row.word):
            out[row.w].append(row.word)
    return out, stop


def match_words(conn: Connection, words: list[str]) -> TextMatch:
    """Phase 1: look the query words up in the vocabulary (see :class:`TextMatch`)."""
    if not words:
        return TextMatch()
    from directory.taxonomy import QUERY_SYNONYMS

    similar, stop = similar_words(conn, words, threshold=WORD_SIMILARITY,
                                  limit=MAX_TYPO_WORDS)
    # A word of the index is taken as typed (its prefix and synonyms): only a word the
    # index does not have is a typo, read as its most similar words. Besides being what
    # the user meant, it keeps « centre » from also scanning « central », « biocentre »…
    typos = {w: [] if w in similar[w] else similar[w] for w in words}
    # Only [a-z0-9] words reach a tsquery (query words are folded, index words checked).
    groups = ["" if w in stop else
              " | ".join(dict.fromkeys([f"{w}:*", *QUERY_SYNONYMS.get(w, ()), *typos[w]]))
              for w in words]
    return TextMatch(words=tuple(words), groups=tuple(groups))


@dataclass
class _Sql:
    """The WHERE clauses of a search and the SQL of its sort keys."""

    where: list[str]
    params: dict[str, Any]
    exact: str = "0"
    rank: str = "0"
    distance: str = "NULL::float"
    point: str = ""


def _filters(conn: Connection, query: SearchQuery, plan: _Plan, match: TextMatch, *,
             words: bool = True, radius: bool = True, sector: bool = True,
             category: bool = True, public: bool = True, opening: bool = True) -> _Sql:
    """WHERE clauses, exact-match and rank terms, parameters, distance SQL."""
    sql = _Sql(where=["s.point IS NOT NULL", "s.status = 'open'"], params={})
    where, params = sql.where, sql.params
    if words and match.words:
        if match.tsquery:
            # One GIN full-text lookup for every word and its typos (phase 2).
            params["tsq"] = match.tsquery
            where.append(_TEXT_MATCH)
            sql.rank = "ts_rank(s.search_vector, to_tsquery('french', :tsq))"
        exact_terms = []
        for i, word in enumerate(match.words):
            # search_text is folded words separated by single spaces: a whole word is
            # « space word space » in the padded text (cheaper than a regular expression).
            params[f"x{i}"] = f" {word} "
            exact = f"strpos(' ' || s.search_text || ' ', :x{i}) > 0"
            exact_terms.append(f"({exact})::int")
            if not match.groups[i]:
                where.append(exact)
        sql.exact = " + ".join(exact_terms)
    if query.sector and sector:
        where.append("s.sector = :sector")
        params["sector"] = query.sector
    if query.category and category:
        where.append("s.category_code = :category")
        params["category"] = query.category
    if query.public and public:
        where.append("EXISTS (SELECT 1 FROM services v WHERE v.structure_id = s.id "
                     "AND :public = ANY(v.publics))")
        params["public"] = query.public
    if plan.center is not None:
        params["clon"], params["clat"] = plan.center
        sql.point = "ST_SetSRID(ST_MakePoint(:clon, :clat), 4326)::geography"
        sql.distance = f"ST_Distance(s.point::geography, {sql.point}) / 1000.0"
        if plan.radius_km and radius:
            where.append(f"ST_DWithin(s.point::geography, {sql.point}, :radius)")
            params["radius"] = plan.radius_km * 1000.0
    if query.serves:
        row = conn.execute(text("SELECT code, epci, departement FROM communes WHERE code = :c"),
                           {"c": query.serves}).one_or_none()
        if row is None:
            raise MaillageError(f"Commune inconnue « {query.serves} ».")
        where.append(
            "EXISTS (SELECT 1 FROM services v WHERE v.structure_id = s.id AND ("
            "(v.zone_type = 'commune' AND :sc = ANY(v.zone_codes)) OR "
            "(v.zone_type = 'epci' AND :se = ANY(v.zone_codes)) OR "
            "(v.zone_type = 'departement' AND :sd = ANY(v.zone_codes))))")
        params.update(sc=row.code, se=row.epci or "", sd=row.departement)
    if opening and (query.open_at is not None or query.open_on is not None):
        params["open_ids"] = _open_ids(conn, query, where, params)
        where.append("s.id = ANY(:open_ids)")
    return sql


def _open_ids(conn: Connection, query: SearchQuery, where: list[str],
              params: dict[str, Any]) -> list[int]:
    """Ids, among the rows the other filters keep, open at ``open_at`` / on ``open_on``."""
    from directory.opening_hours import open_at, open_on

    # Built from constant fragments only; every user value is a bound parameter.
    rows = conn.execute(text(
        "SELECT s.id, s.opening_hours, s.closed_from, s.closed_until FROM structures s "  # noqa: S608
        f"WHERE {' AND '.join(where)} AND s.opening_hours IS NOT NULL"), params).all()
    out = []
    for row in rows:
        if query.open_at is not None:
            moment = query.open_at
            if _temporarily_closed(row, moment.date()):
                continue
            if open_at(row.opening_hours, moment) is True:
                out.append(row.id)
        elif query.open_on is not None:
            if _temporarily_closed(row, query.open_on):
                continue
            if open_on(row.opening_hours, query.open_on) is True:
                out.append(row.id)
    return out


def _temporarily_closed(row: Any, day: date) -> bool:
    start, end = row.closed_from, row.closed_until
    if start is None:
        return False
    return start <= day and (end is None or day <= end)


def _candidates(query: SearchQuery, plan: _Plan, match: TextMatch, sql: _Sql) -> str:
    """Phase 2: at most ``MAX_RANKED + 1`` candidates per part, with their sort keys.

    Around a place, the nearest (GiST order); otherwise the records of the user's
    département (one part, every one of them up to the cap), then the others. A part
    that reaches the cap makes the total « plus de 1 000 »: ranking and counting every
    match of a common word (« centre »: 18,000 records nationally) is what made it slow.
    """
    rank = sql.rank if plan.center is None else "0"
    cols = f"s.id, s.name, {sql.exact} AS exact, {rank} AS rank, {sql.distance} AS distance_km"
    where = " AND ".join(sql.where)
    # Without words nor place the order is the name: the candidates are the first names.
    by_name = "" if match.words else " ORDER BY s.name, s.id"
    # Built from constant fragments only; every user value is a bound parameter.
    if plan.center is not None:
        return (f"(SELECT {cols}, 0 AS in_dept, 1 AS part FROM structures s "  # noqa: S608
                f"WHERE {where} ORDER BY s.point::geography <-> {sql.point} LIMIT :cap)")
    if query.prefer_dept:
        sql.params["pdept"] = query.prefer_dept + "%"
        # The département's records (a few thousand at most) are read through its index
        # and tested one by one: cheaper than a second GIN scan of a common word (the
        # coalesce() keeps the planner from using the GIN index for this part).
        in_dept = where.replace(_TEXT_MATCH, f"coalesce({_TEXT_MATCH}, false)")
        return (f"(SELECT {cols}, 1 AS in_dept, 1 AS part FROM structures s "  # noqa: S608
                f"WHERE {in_dept} AND s.commune_code LIKE :pdept{by_name} LIMIT :cap) "
                f"UNION ALL (SELECT {cols}, 0 AS in_dept, 2 AS part FROM structures s "
                f"WHERE {where} AND (s.commune_code IS NULL OR s.commune_code NOT LIKE "
                f":pdept){by_name} LIMIT :cap)")
    return (f"(SELECT {cols}, 0 AS in_dept, 1 AS part FROM structures s "  # noqa: S608
            f"WHERE {where}{by_name} LIMIT :cap)")


@contextmanager
def _bitmap_scans(conn: Connection, *, on: bool) -> Iterator[None]:
    """Read the candidates through bitmap index scans only (GIN, category, département).

    With ``LIMIT 1001`` the planner bets that a sequential scan meets enough matches
    early; for a word spread over 6 % of the records it read 40,000 rows and took 85 ms,
    where the GIN bitmap takes 12 ms. Around a place the GiST order is kept instead.
    """
    if not on:
        yield
        return
    before = conn.execute(text(
        "SELECT current_setting('enable_seqscan'), current_setting('enable_indexscan'), "
        "set_config('enable_seqscan', 'off', true), set_config('enable_indexscan', 'off', true)"
    )).one()
    try:
        yield
    finally:
        conn.execute(text("SELECT set_config('enable_seqscan', :s, true), "
                          "set_config('enable_indexscan', :i, true)"),
                     {"s": before[0], "i": before[1]})


def _run(conn: Connection, query: SearchQuery, plan: _Plan, match: TextMatch, *,
         today: date | None) -> dict[str, Any]:
    sql = _filters(conn, query, plan, match)
    params = sql.params
    params.update(cap=MAX_RANKED + 1, limit=query.per_page,
                  offset=(query.page - 1) * query.per_page)
    candidates = _candidates(query, plan, match, sql)
    if query.sort == "distance" and plan.center is not None:
        order = "distance_km ASC, name, id"
    elif plan.center is not None:
        # Around a place: the records matching every word exactly first, nearest first.
        order = "exact DESC, distance_km ASC, name, id"
    elif match.words:
        order = "exact DESC, in_dept DESC, rank DESC, name, id"
    else:
        order = "in_dept DESC, name, id"
    with _bitmap_scans(conn, on=plan.center is None):
        rows = conn.execute(text(
            "SELECT c.id, c.distance_km, count(*) FILTER (WHERE c.part = 1) OVER () AS n1, "  # noqa: S608
            f"count(*) FILTER (WHERE c.part = 2) OVER () AS n2 FROM ({candidates}) c "
            f"ORDER BY {order} LIMIT :limit OFFSET :offset"), params).all()
        if rows:
            parts = (int(rows[0].n1), int(rows[0].n2))
        else:  # nothing, or a page past the end: count the candidates
            parts = conn.execute(text(
                "SELECT count(*) FILTER (WHERE c.part = 1), count(*) FILTER (WHERE c.part = 2) "  # noqa: S608
                f"FROM ({candidates}) c"), params).one()
    capped = max(parts) > MAX_RANKED
    total = MAX_RANKED if capped else sum(parts)
    limit_date = (today or date.today()) - STALE_AFTER
    now = now_in_france()
    details = _details(conn, [r.id for r in rows])
    features = [_feature({**details[r.id], "distance_km": r.distance_km}, limit_date, now)
                for r in rows]
    return {"type": "FeatureCollection", "features": features, "total": total,
            "total_capped": capped, "page": query.page, "per_page": query.per_page,
            "pages": math.ceil(total / query.per_page) if total else 0}


def _details(conn: Connection, ids: list[int]) -> dict[int, Any]:
    """What a result card shows, for the records of one page only."""
    if not ids:
        return {}
    # SOURCES_SQL is a constant fragment; the ids are a bound parameter.
    rows = conn.execute(text(
        "SELECT s.id, s.name, s.category_code, c.label AS category_label, s.sector, "  # noqa: S608
        "s.commune_code, s.commune_name, s.address, s.phone, s.approximate_location, "
        "s.last_verified, s.finess_et, s.display_name, s.official_name, s.opening_hours, "
        "s.last_updated, s.closed_from, s.closed_until, "
        f"{SOURCES_SQL} AS sources, ST_X(s.point) AS lon, ST_Y(s.point) AS lat "
        "FROM structures s LEFT JOIN categories c ON c.code = s.category_code "
        "WHERE s.id = ANY(:ids)"), {"ids": ids}).mappings().all()
    return {r["id"]: r for r in rows}


def _open_now(r: Any, now: datetime) -> bool | None:
    """Open at ``now`` (temporary closure first), ``None`` when the hours do not say."""
    from directory.opening_hours import open_at

    start, end = r["closed_from"], r["closed_until"]
    if start is not None and start <= now.date() and (end is None or now.date() <= end):
        return False
    return open_at(r["opening_hours"], now) if r["opening_hours"] else None


def _feature(r: Any, limit_date: date, now: datetime) -> dict[str, Any]:
    return {
        "type": "Feature",
        "geometry": {"type": "Point", "coordinates": [round(r["lon"], 6), round(r["lat"], 6)]},
        "properties": {
            "id": r["id"], "name": r["name"], "category_code": r["category_code"],
            "category_label": r["category_label"], "sector": r["sector"],
            "commune_code": r["commune_code"], "commune_name": r["commune_name"],
            "address": r["address"], "phone": r["phone"],
            "distance_km": None if r["distance_km"] is None
            else round(float(r["distance_km"]), 2),
            "approximate_location": r["approximate_location"],
            "last_verified": r["last_verified"].isoformat() if r["last_verified"] else None,
            "stale": r["last_verified"] is None or r["last_verified"] < limit_date,
            "finess_et": r["finess_et"], "display_name": r["display_name"],
            "official_name": r["official_name"], "opening_hours": r["opening_hours"],
            "last_updated": r["last_updated"].isoformat() if r["last_updated"] else None,
            "closed_from": r["closed_from"].isoformat() if r["closed_from"] else None,
            "closed_until": r["closed_until"].isoformat() if r["closed_until"] else None,
            "sources": _sources(r["sources"]),
            "open_now": _open_now(r, now),
        }}


def _count(conn: Connection, query: SearchQuery, plan: _Plan, match: TextMatch,
           **drop: bool) -> int:
    """How many records a search finds, counted up to ``MAX_RANKED + 1``."""
    sql = _filters(conn, query, plan, match, **drop)
    sql.params["cap"] = MAX_RANKED + 1
    # Built from constant fragments only; every user value is a bound parameter.
    return int(conn.execute(text(
        f"SELECT count(*) FROM (SELECT 1 FROM structures s WHERE {' AND '.join(sql.where)} "  # noqa: S608
        "LIMIT :cap) c"), sql.params).scalar_one())


def results_fr(n: int, *, capped: bool = False) -> str:
    """« 12 résultats », « plus de 1 000 résultats » past the ranking cap."""
    from geo.fmt import plural

    if capped or n > MAX_RANKED:
        return f"plus de {fr_int(MAX_RANKED)} résultats"
    return plural(n, "résultat")


def _finds(conn: Connection, match: TextMatch, i: int) -> bool:
    """Whether word ``i`` of the query, alone, finds an open record."""
    if match.groups[i]:
        return bool(conn.execute(text(
            "SELECT EXISTS (SELECT 1 FROM structures s WHERE s.status = 'open' "
            "AND s.search_vector @@ to_tsquery('french', :g))"), {"g": match.groups[i]}).scalar())
    return bool(conn.execute(text(
        "SELECT EXISTS (SELECT 1 FROM structures s WHERE s.status = 'open' "
        "AND strpos(' ' || s.search_text || ' ', :x) > 0)"), {"x": f" {match.words[i]} "}
    ).scalar())


def _did_you_mean_word(conn: Connection, word: str) -> str | None:
    """The word of the index closest to an unknown ``word`` that finds an open record."""
    conn.execute(text("SELECT set_config('pg_trgm.similarity_threshold', '0.3', true)"))
    for candidate in conn.execute(text(
            "SELECT v.word FROM search_words v WHERE v.word % :w AND length(v.word) >= 3 "
            "ORDER BY similarity(v.word, :w) DESC, v.word LIMIT 5"), {"w": word}).scalars():
        if _WORD.fullmatch(candidate) and conn.execute(text(
                "SELECT numnode(to_tsquery('french', :t)) > 0 AND EXISTS (SELECT 1 FROM "
                "structures s WHERE s.status = 'open' AND s.search_vector @@ "
                "to_tsquery('french', :t))"), {"t": candidate}).scalar():
            return str(candidate)
    return None


def zero_result_help(conn: Connection, query: SearchQuery, plan: _Plan,
                     match: TextMatch) -> dict[str, Any]:
    """Why a search found nothing, and the nearest ways out (French, for people).

    Returns
    -------
    dict
        ``reason`` (a sentence), ``suggestions`` (each ``label``, ``params``: the API
        parameters to change, ``total``: what the changed search finds, up to
        ``MAX_RANKED + 1``), ``did_you_mean`` (the query with a word of the index close
        to each unknown word, or ``None``) and ``closest`` (up to 3 records most similar
        to the text, ignoring the radius).
    """
    from geo.fmt import plural

    suggestions: list[dict[str, Any]] = []
    where_txt = f" {plan.place['around']}" if plan.place else ""
    if plan.center is not None and plan.radius_km:
        sql = _filters(conn, query, plan, match, radius=False)
        # Built from constant fragments only; every user value is a bound parameter.
        nearest = conn.execute(text(
            f"SELECT {sql.distance} FROM structures s WHERE {' AND '.join(sql.where)} "  # noqa: S608
            f"ORDER BY s.point::geography <-> {sql.point} LIMIT 1"), sql.params).scalar()
        if nearest is not None:
            wider = next((r for r in (5, 10, 20, 30, 50, 100, 200, 500) if r >= nearest),
                         500)
            suggestions.append({"label": f"Élargir le rayon à {wider} km (le plus proche est "
                                         f"à {fr_km(nearest)})",
                                "params": {"radius_km": wider}, "total": None})
    for name, label in (("sector", "secteur"), ("category", "catégorie"),
                        ("public", "public")):
        if getattr(query, name):
            n = _count(conn, query, plan, match, **{name: False})
            if n:
                suggestions.append({"label": f"Retirer le filtre {label} ({results_fr(n)})",
                                    "params": {name: None}, "total": n})
    if query.open_at is not None or query.open_on is not None:
        n = _count(conn, query, plan, match, opening=False)
        if n:
            suggestions.append({"label": f"Retirer le filtre d'ouverture ({results_fr(n)})",
                                "params": {"ouvert": None}, "total": n})
    if plan.place and plan.place.get("source") == "query":
        suggestions.append({"label": f"Chercher « {plan.place['words']} » comme un mot, "
                                     "pas comme une commune",
                            "params": {"understand": False}, "total": None})
    words = list(match.words)
    did_you_mean = None
    unknown = [w for i, w in enumerate(words) if not _finds(conn, match, i)]
    if unknown:
        fixed = [(_did_you_mean_word(conn, w) or w) if w in unknown else w for w in words]
        if fixed != words:
            # The whole query, as the user would type it again (with the place read in it).
            read = plan.place.get("words") if plan.place and plan.place.get("source") == \
                "query" else ""
            did_you_mean = " ".join([*fixed, *([read] if read else [])])
    closest: list[dict[str, Any]] = []
    if words:
        closest = _closest(conn, query, plan, match)
    if plan.text.strip():
        reason = f"Aucune ressource ne correspond à « {plan.text.strip()} »{where_txt}"
    else:
        reason = f"Aucune ressource{where_txt}"
    if plan.radius_km and plan.center is not None:
        reason += f" dans un rayon de {fr_km(plan.radius_km)}"
    filters = [n for n in ("sector", "category", "public") if getattr(query, n)]
    if query.open_at is not None or query.open_on is not None:
        filters.append("ouverture")
    if filters:
        reason += " avec " + plural(len(filters), "filtre", "filtres")
    return {"reason": reason + ".", "suggestions": suggestions, "did_you_mean": did_you_mean,
            "closest": closest}


def _closest(conn: Connection, query: SearchQuery, plan: _Plan, match: TextMatch
             ) -> list[dict[str, Any]]:
    """Up to 3 records whose text is the most similar to the query's, ignoring the radius.

    The candidates are the records having any word of the index loosely similar to a
    query word (« dentiste » → « dentaire »): a few index lookups, not a similarity
    computed on every record.
    """
    loose, _stop = similar_words(conn, list(match.words), threshold=0.3, limit=10)
    terms = [*(g for g in match.groups if g), *(t for w in match.words for t in loose[w])]
    sql = _filters(conn, query, plan, TextMatch(), words=False, radius=False)
    sql.params.update(qtext=" ".join(match.words), loose=" | ".join(terms),
                      cap=CLOSEST_CANDIDATES)
    # Built from constant fragments only; every user value is a bound parameter.
    with _bitmap_scans(conn, on=True):
        rows = conn.execute(text(
            f"SELECT c.id, c.name, c.commune_name, c.distance_km, "  # noqa: S608
            "word_similarity(:qtext, c.search_text) AS sim FROM ("
            f"SELECT s.id, s.name, s.commune_name, s.search_text, {sql.distance} AS "
            f"distance_km FROM structures s WHERE {' AND '.join(sql.where)} AND "
            "s.search_vector @@ to_tsquery('french', :loose) LIMIT :cap) c "
            "ORDER BY sim DESC, distance_km ASC NULLS LAST, c.id LIMIT 3"),
            sql.params).mappings().all()
    return [{"id": r["id"], "name": r["name"], "commune_name": r["commune_name"],
             "distance_km": None if r["distance_km"] is None
             else round(float(r["distance_km"]), 2)} for r in rows if r["sim"] > 0.2]


def fr_km(value: float) -> str:
    """« 12,5 km »."""
    from geo.fmt import fr_float

    return f"{fr_float(float(value), 1).replace(',0', '')} km"


#: People-facing names of the sources (never a technical identifier on a page).
SOURCE_LABELS = {"finess": "FINESS", "gisco-finess-2020": "Eurostat GISCO (hôpitaux, dérivé de "
                 "FINESS)", "france-services": "ANCT, France Services",
                 "datainclusion": "data·inclusion", "csv": "Fichier de la coordination",
                 "ror": "ROR"}
SOURCES_SQL = ("(SELECT coalesce(json_agg(json_build_object('source', ss.source, 'date', "
               "ss.source_date) ORDER BY ss.source_date DESC NULLS LAST, ss.id), '[]'::json) "
               "FROM structure_sources ss WHERE ss.structure_id = s.id AND ss.closed_at IS NULL)")


def source_label_fr(source: str, day: date | str | None) -> str:
    """« FINESS (extraction du 08/01/2021) »: the source's name and date, for people."""
    name = SOURCE_LABELS.get(source, source.split(":")[0].replace("-", " ").capitalize())
    if isinstance(day, str):
        day = date.fromisoformat(day[:10])
    return f"{name} (extraction du {day.strftime('%d/%m/%Y')})" if day else name


def _sources(value: Any) -> list[dict[str, Any]]:
    return [{"source": item["source"], "date": item["date"],
             "label": source_label_fr(item["source"], item["date"]),
             "short": _short_label(item["source"], item["date"])} for item in value or []]


def _short_label(source: str, day: date | str | None) -> str:
    """« FINESS (08/01/2021) »."""
    name = SOURCE_LABELS.get(source, source.split(":")[0].replace("-", " ").capitalize())
    if isinstance(day, str):
        day = date.fromisoformat(day[:10])
    return f"{name} ({day.strftime('%d/%m/%Y')})" if day else name


def distance_from(conn: Connection, *, structure_id: int, commune_code: str
                  ) -> dict[str, Any] | None:
    """Distance (km, as the crow flies) from a commune's point to a structure, with the
    commune's name and position; ``None`` when either is unknown."""
    row = conn.execute(text(
        "SELECT c.code, c.nom, ST_X(ST_Transform(c.point, 4326)) AS lon, "
        "ST_Y(ST_Transform(c.point, 4326)) AS lat, ST_Distance(s.point::geography, "
        "ST_Transform(c.point, 4326)::geography) / 1000.0 AS km FROM structures s, communes c "
        "WHERE s.id = :id AND c.code = :c AND s.point IS NOT NULL"),
        {"id": structure_id, "c": commune_code}).mappings().one_or_none()
    if row is None:
        return None
    return {"code": row["code"], "name": row["nom"], "lon": row["lon"], "lat": row["lat"],
            "km": round(float(row["km"]), 2), "around": f"{de(row['nom'])} ({row['code']})"}


def place_of(conn: Connection, *, q: str, commune: str | None, understand: bool = True
             ) -> str | None:
    """The INSEE code a search was centred on: its commune, else the one read in ``q``."""
    if commune:
        return commune
    if not understand or not q.strip():
        return None
    from directory.query import IndexWords, matcher_for
    from directory.query import understand as read

    found = read(q, matcher_for(conn), vocabulary=IndexWords(conn)).place
    return found.code if found else None


def structure_detail(conn: Connection, structure_id: int, *, today: date | None = None
                     ) -> dict[str, Any] | None:
    # SOURCES_SQL is a constant fragment; the id is a bound parameter.
    row = conn.execute(text(
        f"SELECT s.*, ST_X(s.point) AS lon, ST_Y(s.point) AS lat, c.label AS category_label, "  # noqa: S608
        f"{SOURCES_SQL} AS sources "
        "FROM structures s LEFT JOIN categories c ON c.code = s.category_code "
        "WHERE s.id = :id"), {"id": structure_id}).mappings().one_or_none()
    if row is None:
        return None
    services = conn.execute(text(
        "SELECT id, name, description, publics, thematiques, access_conditions, fees, "
        "fees_details, zone_type, zone_codes, opening_hours FROM services "
        "WHERE structure_id = :id ORDER BY id"),
        {"id": structure_id}).mappings().all()
    limit_date = (today or date.today()) - STALE_AFTER
    out = {k: row[k] for k in ("id", "name", "category_code", "category_label", "sector",
                               "finess_et", "finess_ej", "siret", "address", "postal_code",
                               "commune_code", "commune_name", "approximate_location", "phone",
                               "email", "website", "opening_hours", "description", "source",
                               "source_id", "display_name", "official_name", "status",
                               "closed_from", "closed_until", "closure_reason")}
    out["sources"] = _sources(row["sources"])
    for key in ("closed_from", "closed_until"):
        out[key] = row[key].isoformat() if row[key] else None
    out["last_updated"] = row["last_updated"].isoformat() if row["last_updated"] else None
    out["closed_at"] = row["closed_at"].isoformat() if row["closed_at"] else None
    out["lon"], out["lat"] = row["lon"], row["lat"]
    out["last_verified"] = row["last_verified"].isoformat() if row["last_verified"] else None
    out["stale"] = row["last_verified"] is None or row["last_verified"] < limit_date
    out["services"] = [dict(s) for s in services]
    return out
