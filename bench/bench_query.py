"""Benchmark: what reading the place in the query costs, on the real directory.

Needs ``DATABASE_URL`` with the communes of 43 and 63 and the real FINESS (FHIR) file
imported (``maillage directory import fhir …``). Runs each of the four visible examples
200 times as typed (« ehpad ysingeaux »: the commune is read in the query) and, as the
baseline in the same run, the same search with the place given explicitly
(``q="ehpad", commune="43268"``, ``understand=False``). Also times building the commune
matcher (once per process) and one :func:`directory.query.understand` call.

    .venv/bin/python bench/bench_query.py
"""

from __future__ import annotations

import statistics
import time

from directory.query import CommuneMatcher, matcher_for, understand
from directory.search import DEFAULT_RADIUS_KM, SearchQuery, search
from geo.db import get_engine

EXAMPLES = [("maison de retraite le puy", "maison de retraite", "43157"),
            ("cmp clermont", "cmp", "63113"), ("hopital de jour brioude", "hopital de jour",
                                               "43040"), ("ehpad ysingeaux", "ehpad", "43268")]
RUNS = 200


def timed(fn, runs: int = RUNS) -> list[float]:
    out = []
    for _ in range(runs):
        t = time.perf_counter()
        fn()
        out.append(time.perf_counter() - t)
    return out


def ms(values: list[float], q: int) -> float:
    return statistics.quantiles(values, n=100)[q - 1] * 1000


def main() -> None:
    with get_engine().connect() as conn:
        t = time.perf_counter()
        matcher = matcher_for(conn)
        built = time.perf_counter() - t
        communes = len(matcher.entries())
        rebuild = timed(lambda: CommuneMatcher(c for _k, c in matcher.entries()), 20)
        print(f"matcher : {communes} communes, premier appel (lecture + index) "
              f"{built * 1000:.1f} ms, reconstruction {statistics.median(rebuild) * 1000:.1f} ms")
        reads = timed(lambda: understand("maison de retraite le puy", matcher), 2000)
        print(f"understand() : p50 {ms(reads, 50):.3f} ms, p95 {ms(reads, 95):.3f} ms")
        print(f"{'requête':<28} {'lue p50':>8} {'p95':>7} {'explicite p50':>14} {'p95':>7} ratio")
        for typed, words, code in EXAMPLES:
            read = timed(lambda typed=typed: search(conn, SearchQuery(q=typed, per_page=20)))
            given = timed(lambda words=words, code=code: search(conn, SearchQuery(
                q=words, commune=code, radius_km=DEFAULT_RADIUS_KM, understand=False,
                per_page=20)))
            print(f"{typed:<28} {ms(read, 50):7.1f}  {ms(read, 95):6.1f} {ms(given, 50):13.1f}  "
                  f"{ms(given, 95):6.1f} {statistics.median(read) / statistics.median(given):.2f}")


if __name__ == "__main__":
    main()
