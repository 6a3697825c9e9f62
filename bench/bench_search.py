"""Benchmark: directory search on the real national FINESS (95,333 FHIR establishments).

The benchmarks' database (``maillage_bench`` of the local cluster, or
``MAILLAGE_BENCH_DATABASE_URL``; ``make bench`` creates it) keeps the national directory
between runs: the first run loads the communes of 43 and 63 and imports
``finess/fhir-20210108-france/`` (about 4 minutes), later runs reuse it.

Four kinds of query, 200 each, built from fixed lists (the same every run):

* ``texte libre``: everyday words, single common words included (« centre »,
  « pharmacie »: up to 20,000 matches), half of them with the user's département;
* ``texte + catégorie``: a word and a FINESS category;
* ``commune + rayon``: the resources within 10–30 km of a commune, nearest first;
* ``texte + commune``: « ehpad brioude », the commune read in the text.

Each kind runs at concurrency 1 and 8 (threads, one connection each) and prints
p50/p95/p99. Baseline in the same run: 20 queries of each kind with index scans
disabled (``enable_indexscan``, ``enable_bitmapscan`` off), at concurrency 1.

    .venv/bin/python bench/bench_search.py [--queries 200] [--baseline 20]
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from sqlalchemy import create_engine, event, text  # noqa: E402
from sqlalchemy.engine import Engine  # noqa: E402

from directory.search import SearchQuery, search  # noqa: E402
from geo import settings  # noqa: E402

#: What professionals type: common single words (the slow tail before the two-phase
#: search), short phrases, acronyms, a typo, everyday words for official ones.
FREE_TEXT = ["centre", "pharmacie", "service", "hopital", "ehpad", "maison de sante",
             "centre hospitalier", "ssiad", "cmp", "infirmier domicile", "kine",
             "dentiste", "psychiatrie", "addictologie", "foyer", "ime", "sessad",
             "laboratoire", "dialyse", "accueil de jour", "ehpda", "handicap enfants",
             "soins de suite", "centre medico psychologique", "maison de retraite"]
TEXT_CATEGORY = [("centre", "124"), ("ehpad", "500"), ("pharmacie", "620"),
                 ("soins", "354"), ("maison", "603"), ("accueil", "214"),
                 ("enfants", "183"), ("centre", "156"), ("hopital", "355"),
                 ("clinique", "365"), ("residence", "202"), ("domicile", "460")]
TEXT_PLACE = ["ehpad", "pharmacie", "cmp", "centre de sante", "ssiad", "hopital",
              "maison de sante", "kine", "laboratoire", "dentiste"]
#: The user's département (only 43 and 63 have their communes loaded offline: elsewhere
#: the records have no commune, so no département to prefer).
DEPTS = [None, "43", None, "63"]
KINDS = ("texte libre", "texte + catégorie", "commune + rayon", "texte + commune")


def ensure_national_directory(engine: Engine) -> None:
    """Load the communes of 43 and 63 and the national FINESS once (kept between runs)."""
    from directory.fhir import FhirReader
    from directory.store import StreamResult, sync_categories, upsert
    from directory.taxonomy import load_categories
    from geo.communes import read_communes_source
    from geo.communes_db import store_communes
    from geo.db import session_scope

    with engine.connect() as conn:
        n = conn.execute(text("SELECT count(*) FROM structure_sources WHERE source = "
                              "'finess' AND source_date = '2021-01-08'")).scalar_one()
        depts = set(conn.execute(text("SELECT DISTINCT departement FROM communes")).scalars())
    if n >= 90_000 and {"43", "63"} <= depts:
        print(f"Annuaire national déjà importé : {n:,} établissements FINESS.")
        return
    t0 = time.perf_counter()
    for dept in ("43", "63"):
        if dept not in depts:
            src = read_communes_source(settings.data_dir() / "communes", dept=dept)
            with session_scope(engine) as session:
                store_communes(session, src)
    categories = load_categories()
    reader = FhirReader(settings.data_dir() / "finess" / "fhir-20210108-france",
                        known_categories=frozenset(c.code for c in categories))
    with session_scope(engine) as session:
        session.execute(text("DELETE FROM structures"))
        sync_categories(session, categories)
        report = upsert(session, StreamResult(reader.records(), reader.rejections,
                                              reader.metadata),
                        source_label="fhir", close_missing=True)
    with engine.connect() as conn:
        conn.execute(text("ANALYZE"))
        conn.commit()
    print(f"Annuaire national importé en {time.perf_counter() - t0:.0f} s : "
          f"{len(report.created):,} structures.")


def queries(engine: Engine, n: int) -> dict[str, list[SearchQuery]]:
    with engine.connect() as conn:
        communes = conn.execute(text(
            "SELECT code, nom FROM communes WHERE departement IN ('43', '63') "
            "ORDER BY population DESC NULLS LAST, code LIMIT 120")).all()
    return {
        "texte libre": [SearchQuery(q=FREE_TEXT[i % len(FREE_TEXT)],
                                    prefer_dept=DEPTS[i % len(DEPTS)]) for i in range(n)],
        "texte + catégorie": [SearchQuery(q=TEXT_CATEGORY[i % len(TEXT_CATEGORY)][0],
                                          category=TEXT_CATEGORY[i % len(TEXT_CATEGORY)][1],
                                          prefer_dept=DEPTS[i % len(DEPTS)])
                              for i in range(n)],
        "commune + rayon": [SearchQuery(commune=communes[i % len(communes)].code,
                                        radius_km=(10, 20, 30)[i % 3], sort="distance")
                            for i in range(n)],
        "texte + commune": [SearchQuery(q=f"{TEXT_PLACE[i % len(TEXT_PLACE)]} "
                                          f"{communes[(i * 7) % len(communes)].nom}")
                            for i in range(n)],
    }


def timed(engine: Engine, batch: list[SearchQuery], workers: int) -> list[float]:
    """Milliseconds per query; ``workers`` threads, one connection each."""
    def one(q: SearchQuery) -> float:
        with engine.connect() as conn:
            start = time.perf_counter()
            search(conn, q)
            return (time.perf_counter() - start) * 1000
    if workers == 1:
        return [one(q) for q in batch]
    with ThreadPoolExecutor(max_workers=workers) as pool:
        return list(pool.map(one, batch))


def pct(values: list[float]) -> tuple[float, float, float]:
    p50, p95, p99 = np.percentile(values, [50, 95, 99])
    return float(p50), float(p95), float(p99)


def no_index_engine(url: str) -> Engine:
    engine = create_engine(url, pool_size=2)

    @event.listens_for(engine, "connect")
    def _no_index(dbapi_connection: Any, _record: Any) -> None:
        with dbapi_connection.cursor() as cursor:
            cursor.execute("SET enable_indexscan = off")
            cursor.execute("SET enable_bitmapscan = off")
        dbapi_connection.commit()
    return engine


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument("--baseline", type=int, default=20)
    args = parser.parse_args()
    url = settings.bench_database_url()
    if url is None:
        raise SystemExit("Base de benchmark inconnue : définissez MAILLAGE_BENCH_DATABASE_URL "
                         "(jamais la base principale).")
    engine = create_engine(url, pool_size=10)
    ensure_national_directory(engine)
    with engine.connect() as conn:
        n_open = conn.execute(text("SELECT count(*) FROM structures WHERE status = 'open' "
                                   "AND point IS NOT NULL")).scalar_one()
        words = conn.execute(text("SELECT count(*) FROM search_words")).scalar_one()
    print(f"Machine : {platform.machine()}, {os.cpu_count()} cœurs, Python "
          f"{platform.python_version()} ; {n_open:,} ressources ouvertes localisées, "
          f"{words:,} mots dans le vocabulaire de l'index.")
    batches = queries(engine, args.queries)
    for batch in batches.values():  # warm the caches (commune matcher, buffers)
        timed(engine, batch[:25], 1)
    rows: list[tuple[str, str, tuple[float, float, float]]] = []
    for kind in KINDS:
        for workers in (1, 8):
            rows.append((kind, str(workers), pct(timed(engine, batches[kind], workers))))
    base = no_index_engine(url)
    baseline: dict[str, tuple[float, float, float]] = {}
    for kind in KINDS:
        baseline[kind] = pct(timed(base, batches[kind][:args.baseline], 1))
    show: Callable[[float], str] = lambda v: f"{v:7.1f}"  # noqa: E731
    print(f"\n{'requête':<20} {'fils':>4} {'p50 ms':>7} {'p95 ms':>7} {'p99 ms':>7}   "
          f"{'sans index p50':>14}  ratio p50")
    for kind, workers, (p50, p95, p99) in rows:
        b50 = baseline[kind][0]
        extra = f"{show(b50):>14}  {b50 / p50:7.0f}×" if workers == "1" else ""
        print(f"{kind:<20} {workers:>4} {show(p50)} {show(p95)} {show(p99)}   {extra}")
    worst = max(p95 for _k, _w, (_a, p95, _c) in rows)
    print(f"\ncible p95 ≤ 50 ms : {'atteinte' if worst <= 50 else 'manquée'} "
          f"(pire p95 : {worst:.1f} ms)")


if __name__ == "__main__":
    main()
