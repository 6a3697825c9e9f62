"""Travel-time matrices on a road graph, with a compiled shortest-path routine.

The graph (osmnx ``MultiDiGraph``, edge attribute ``travel_time`` in seconds) is turned
once into a CSR matrix (the fastest of parallel edges kept); each matrix is then one call
to :func:`scipy.sparse.csgraph.dijkstra` from the unique source nodes — no Python-level
Dijkstra. Results are in minutes, ``np.inf`` where a destination is unreachable.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import networkx as nx
import numpy as np
from scipy.sparse import csr_matrix
from scipy.sparse.csgraph import dijkstra
from scipy.spatial import cKDTree

from geo.crs import transform_xy
from geo.settings import LAMBERT93, WGS84

#: A point farther than this from any road node is flagged (metres).
SNAP_WARNING_M = 2000.0

MODE_OSM = "osm"
MODE_ESTIMATED = "estimated"
MODE_LABELS = {
    MODE_OSM: "temps routiers OpenStreetMap",
    MODE_ESTIMATED: "temps estimés à vol d'oiseau",
}


@dataclass
class TravelTimeMatrix:
    """Origins × destinations travel times.

    Attributes
    ----------
    minutes
        ``(n_origins, n_destinations)`` array, ``np.inf`` when unreachable.
    mode
        ``"osm"`` or ``"estimated"``; :data:`MODE_LABELS` gives the French label that
        every output must show.
    origin_snap_m, destination_snap_m
        Distance from each point to the road node it was snapped to (0 in estimated mode).
    """

    minutes: np.ndarray
    mode: str
    origin_snap_m: np.ndarray = field(default_factory=lambda: np.zeros(0))
    destination_snap_m: np.ndarray = field(default_factory=lambda: np.zeros(0))
    parameters: dict[str, float] = field(default_factory=dict)

    @property
    def label(self) -> str:
        return MODE_LABELS[self.mode]

    def far_from_road(self, *, threshold_m: float = SNAP_WARNING_M) -> np.ndarray:
        """Indices of destinations snapped farther than ``threshold_m`` from a road."""
        return np.flatnonzero(self.destination_snap_m > threshold_m)


class TravelTimeEngine:
    """Shortest travel times on a directed road graph, built ``from_graph``.

    Examples
    --------
    >>> engine = TravelTimeEngine.from_graph(G)                      # doctest: +SKIP
    >>> m = engine.matrix(sites_xy, communes_xy, crs="EPSG:2154")    # doctest: +SKIP
    >>> m.minutes.shape                                              # doctest: +SKIP
    (3, 257)
    """

    def __init__(self, csr: csr_matrix, node_ids: np.ndarray, node_x: np.ndarray,
                 node_y: np.ndarray) -> None:
        self.csr = csr
        self.node_ids = node_ids
        self.node_x = node_x  # Lambert-93 metres
        self.node_y = node_y
        self._tree = cKDTree(np.column_stack([node_x, node_y]))

    @classmethod
    def from_graph(cls, graph: nx.MultiDiGraph, *, weight: str = "travel_time",
                   crs: str | None = None) -> TravelTimeEngine:
        """Build the engine; node ``x``/``y`` are in ``crs`` (default: the graph's, else WGS84)."""
        nodes = list(graph.nodes)
        index = {n: i for i, n in enumerate(nodes)}
        xs = np.array([graph.nodes[n]["x"] for n in nodes], dtype=float)
        ys = np.array([graph.nodes[n]["y"] for n in nodes], dtype=float)
        source_crs = crs or str(graph.graph.get("crs") or WGS84)
        if source_crs.lower() not in {"epsg:2154"}:
            xs, ys = transform_xy(xs, ys, source=source_crs, target=LAMBERT93)
        best: dict[tuple[int, int], float] = {}
        for u, v, data in graph.edges(data=True):
            w = data.get(weight)
            if w is None:
                continue
            key = (index[u], index[v])
            w = float(w)
            if key not in best or w < best[key]:
                best[key] = w
        if best:
            pairs = np.array(list(best.keys()), dtype=np.int64)
            rows, cols = pairs[:, 0], pairs[:, 1]
            weights = np.fromiter(best.values(), dtype=float, count=len(best))
        else:
            rows = cols = np.zeros(0, dtype=np.int64)
            weights = np.zeros(0)
        # csgraph treats explicit zeros as missing edges: keep zero-time edges traversable.
        weights = np.where(weights <= 0, 1e-9, weights)
        csr = csr_matrix((weights, (rows, cols)), shape=(len(nodes), len(nodes)))
        return cls(csr, np.array(nodes, dtype=object), xs, ys)

    def snap(self, x: np.ndarray, y: np.ndarray, *, crs: str = LAMBERT93
             ) -> tuple[np.ndarray, np.ndarray]:
        """Nearest node index and distance (metres) for each point."""
        x, y = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
        if crs.lower() != "epsg:2154":
            x, y = transform_xy(x, y, source=crs, target=LAMBERT93)
        dist, idx = self._tree.query(np.column_stack([x, y]))
        return np.asarray(idx, dtype=np.int64), np.asarray(dist, dtype=float)

    def node_matrix(self, sources: np.ndarray, targets: np.ndarray) -> np.ndarray:
        """Seconds between node indices, ``np.inf`` when unreachable."""
        sources = np.asarray(sources, dtype=np.int64)
        targets = np.asarray(targets, dtype=np.int64)
        unique, inverse = np.unique(sources, return_inverse=True)
        if len(unique) == 0:
            return np.zeros((0, len(targets)))
        dist = dijkstra(self.csr, directed=True, indices=unique)
        dist = np.atleast_2d(dist)
        return dist[inverse][:, targets]

    def matrix(self, origins_xy: np.ndarray, destinations_xy: np.ndarray, *,
               crs: str = LAMBERT93) -> TravelTimeMatrix:
        """Minutes from each origin to each destination (points snapped to the graph)."""
        origins_xy = np.asarray(origins_xy, dtype=float).reshape(-1, 2)
        destinations_xy = np.asarray(destinations_xy, dtype=float).reshape(-1, 2)
        o_idx, o_snap = self.snap(origins_xy[:, 0], origins_xy[:, 1], crs=crs)
        d_idx, d_snap = self.snap(destinations_xy[:, 0], destinations_xy[:, 1], crs=crs)
        seconds = self.node_matrix(o_idx, d_idx)
        return TravelTimeMatrix(minutes=seconds / 60.0, mode=MODE_OSM,
                                origin_snap_m=o_snap, destination_snap_m=d_snap)
