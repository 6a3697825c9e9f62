"""Benchmark: the travel-time engine against networkx on a synthetic road graph.

A perturbed grid of about 200,000 nodes and 500,000 directed edges in Lambert-93 with a
hierarchy of road classes (local roads, a secondary grid every 10 rows/columns, a
primary grid every 50) and realistic speeds; 460 nodes stand for the communes of a
département. The full 460 × 460 matrix is timed, in the same process, with:

* the many-to-many engine (``method="ch"``): RoutingKit contraction hierarchy, built cold
  then read back from its cache, and the RPHAST query (:mod:`geo.manytomany`);
* the Dijkstra engine (``method="dijkstra"``: one compiled Dijkstra per source);
* pandana's contraction hierarchy (211,600 point-to-point queries), when installed;
* networkx (single-source Dijkstra per source, on a sample of sources extrapolated
  linearly when ``--networkx-sources`` is below 460).

The script checks that the many-to-many engine equals Dijkstra within 1 s and that Dijkstra
equals networkx, then prints the ratios.

    .venv/bin/python bench/bench_traveltime.py [--networkx-sources 40] [--no-pandana]
"""

from __future__ import annotations

import argparse
import os
import time

import networkx as nx
import numpy as np

from geo.traveltime import TravelTimeEngine

SPEEDS_KMH = {"local": 50.0, "secondary": 80.0, "primary": 90.0}


def synthetic_graph(*, side: int = 447, spacing: float = 250.0, seed: int = 0) -> nx.MultiDiGraph:
    rng = np.random.default_rng(seed)
    graph = nx.MultiDiGraph(crs="EPSG:2154")
    jitter = rng.uniform(-60, 60, size=(side, side, 2))
    for i in range(side):
        for j in range(side):
            graph.add_node(i * side + j, x=700_000 + j * spacing + jitter[i, j, 0],
                           y=6_400_000 + i * spacing + jitter[i, j, 1])

    def road_class(i: int, j: int, horizontal: bool) -> str:
        line = i if horizontal else j
        if line % 50 == 0:
            return "primary"
        return "secondary" if line % 10 == 0 else "local"

    keep = rng.random((side, side, 2)) < 0.63  # thin the grid to ~500,000 directed edges
    for i in range(side):
        for j in range(side):
            u = i * side + j
            for horizontal, (di, dj) in ((True, (0, 1)), (False, (1, 0))):
                if i + di >= side or j + dj >= side:
                    continue
                cls = road_class(i, j, horizontal)
                if cls == "local" and not keep[i, j, int(horizontal)]:
                    continue
                v = (i + di) * side + (j + dj)
                a, b = graph.nodes[u], graph.nodes[v]
                metres = float(np.hypot(a["x"] - b["x"], a["y"] - b["y"]))
                seconds = metres / (SPEEDS_KMH[cls] / 3.6)
                graph.add_edge(u, v, travel_time=seconds, highway=cls)
                graph.add_edge(v, u, travel_time=seconds, highway=cls)
    return graph


def _pandana_matrix(engine: TravelTimeEngine, communes: np.ndarray) -> tuple[float, float,
                                                                             np.ndarray]:
    """pandana's contraction hierarchy, 460 × 460 as point-to-point queries."""
    import warnings

    import pandana
    import pandas as pd

    coo = engine.csr.tocoo()
    t0 = time.perf_counter()
    net = pandana.Network(pd.Series(engine.node_x), pd.Series(engine.node_y),
                          pd.Series(coo.row), pd.Series(coo.col),
                          pd.DataFrame({"t": coo.data}), twoway=False)
    build = time.perf_counter() - t0
    origins = np.repeat(communes, len(communes))
    destinations = np.tile(communes, len(communes))
    t0 = time.perf_counter()
    with warnings.catch_warnings():  # it warns, pair by pair, about unreachable pairs
        warnings.simplefilter("ignore")
        seconds = np.asarray(net.shortest_path_lengths(origins, destinations, imp_name="t"),
                             dtype=float)
    query = time.perf_counter() - t0
    return build, query, seconds.reshape(len(communes), len(communes))


def main() -> None:
    import shutil
    import tempfile
    from pathlib import Path

    from geo import settings

    parser = argparse.ArgumentParser()
    parser.add_argument("--networkx-sources", type=int, default=40)
    parser.add_argument("--no-pandana", action="store_true")
    args = parser.parse_args()
    print(f"machine : {os.cpu_count()} cœurs ; un seul processus, un seul fil")
    t0 = time.perf_counter()
    graph = synthetic_graph()
    print(f"graphe synthétique : {graph.number_of_nodes():,} nœuds, "
          f"{graph.number_of_edges():,} arcs ({time.perf_counter() - t0:.1f} s)")
    rng = np.random.default_rng(1)
    communes = rng.choice(graph.number_of_nodes(), size=460, replace=False)

    t0 = time.perf_counter()
    engine = TravelTimeEngine.from_graph(graph)
    build = time.perf_counter() - t0
    print(f"construction CSR (une fois par graphe) : {build:.2f} s")

    # Many-to-many engine: hierarchy built cold (empty cache), then read from the cache as
    # a new run would, then the 460 × 460 query.
    cache = Path(tempfile.mkdtemp(prefix="bench-ch-"))
    settings.VAR_DIR = cache
    try:
        t0 = time.perf_counter()
        engine.hierarchy()
        cold = time.perf_counter() - t0
        fresh = TravelTimeEngine(engine.csr, engine.node_ids, engine.node_x, engine.node_y)
        t0 = time.perf_counter()
        fresh.hierarchy()
        cached = time.perf_counter() - t0
        t0 = time.perf_counter()
        fast = fresh.node_matrix(communes, communes, method="ch")
        ch_s = time.perf_counter() - t0
    finally:
        shutil.rmtree(cache, ignore_errors=True)
    print(f"hiérarchie de contraction (RoutingKit) : {cold:.2f} s à froid, "
          f"{cached:.2f} s depuis le cache")
    print(f"moteur many-to-many (RPHAST), matrice 460 × 460 : {ch_s:.2f} s")

    t0 = time.perf_counter()
    matrix = engine.node_matrix(communes, communes, method="dijkstra")
    engine_s = time.perf_counter() - t0
    print(f"moteur Dijkstra, matrice 460 × 460 : {engine_s:.2f} s "
          f"({engine_s / 460 * 1000:.0f} ms par source)")
    finite = np.isfinite(matrix)
    gap = float(np.abs(fast[finite] - matrix[finite]).max())
    assert np.array_equal(np.isinf(fast), np.isinf(matrix)), "unreachable pairs differ"
    assert gap <= 1.0, f"many-to-many and Dijkstra differ by {gap:.3f} s"
    print(f"écart maximal many-to-many / Dijkstra : {gap * 1000:.2f} ms")

    if not args.no_pandana:
        try:
            p_build, p_query, p_matrix = _pandana_matrix(engine, communes)
        except ImportError:
            print("pandana : absent (pip install pandana), non mesuré")
        else:
            p_gap = float(np.abs(p_matrix[finite] - matrix[finite]).max())
            print(f"pandana : construction {p_build:.2f} s, 211 600 requêtes point à point "
                  f"{p_query:.2f} s (écart maximal {p_gap:.2f} s)")

    sample = communes[: args.networkx_sources]
    t0 = time.perf_counter()
    for row, s in enumerate(sample):
        ref = nx.single_source_dijkstra_path_length(graph, int(s), weight="travel_time")
        got = matrix[row]
        want = np.array([ref.get(int(c), np.inf) for c in communes])
        assert np.allclose(got, want, atol=1e-6), "engine and networkx disagree"
    nx_sample = time.perf_counter() - t0
    nx_full = nx_sample * len(communes) / len(sample)
    note = "" if len(sample) == len(communes) else \
        f" (mesuré sur {len(sample)} sources, extrapolé à 460)"
    print(f"networkx : {nx_full:.1f} s{note}, {nx_sample / len(sample) * 1000:.0f} ms par source")
    print(f"ratio networkx / moteur Dijkstra : {nx_full / engine_s:.0f}×")
    print(f"ratio networkx / many-to-many : {nx_full / ch_s:.0f}× "
          f"({nx_full / (ch_s + cold):.0f}× avec la hiérarchie construite à froid)")
    print(f"ratio Dijkstra / many-to-many : {engine_s / ch_s:.1f}×")
    print("cible : matrice ≤ 2 s et ≥ 200× networkx —",
          "ATTEINTE" if ch_s <= 2 and nx_full / ch_s >= 200 else "NON ATTEINTE")


if __name__ == "__main__":
    main()
