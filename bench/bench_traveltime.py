"""Benchmark: the travel-time engine against networkx on a synthetic road graph.

A perturbed grid of about 200,000 nodes and 500,000 directed edges in Lambert-93 with a
hierarchy of road classes (local roads, a secondary grid every 10 rows/columns, a
primary grid every 50) and realistic speeds; 460 nodes stand for the communes of a
département. The full 460 × 460 matrix is timed with the engine (one compiled
multi-source Dijkstra) and with networkx (single-source Dijkstra per source, on a sample
of sources extrapolated linearly when ``--networkx-sources`` is below 460), in the same
process, and both ratios are printed.

    .venv/bin/python bench/bench_traveltime.py [--networkx-sources 40]
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


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--networkx-sources", type=int, default=40)
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
    t0 = time.perf_counter()
    matrix = engine.node_matrix(communes, communes)
    engine_s = time.perf_counter() - t0
    print(f"moteur : construction CSR {build:.2f} s (une fois par graphe), "
          f"matrice 460 × 460 {engine_s:.2f} s ({engine_s / 460 * 1000:.0f} ms par source)")

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
    print(f"ratio networkx / moteur (matrice) : {nx_full / engine_s:.0f}×")
    print(f"ratio networkx / moteur (construction comprise) : {nx_full / (engine_s + build):.0f}×")
    print("cible : moteur ≤ 2 s et ≥ 20× plus rapide —",
          "ATTEINTE" if engine_s <= 2 and nx_full / engine_s >= 20 else "NON ATTEINTE")


if __name__ == "__main__":
    main()
