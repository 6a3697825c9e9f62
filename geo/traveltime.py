"""Travel-time matrices on a road graph, with a compiled shortest-path routine.

The graph (osmnx ``MultiDiGraph``, edge attribute ``travel_time`` in seconds) is turned
once into a CSR matrix, keeping the fastest of parallel edges; each matrix is then a call
to :func:`scipy.sparse.csgraph.dijkstra` from the unique source nodes (in blocks, to bound
memory) — no Python-level Dijkstra. Times are directed: from the origin (the antenna) to
the destination (the commune). Results are in minutes, ``np.inf`` when unreachable.

Snapping: each point goes to the nearest graph node, measured in metres in a metric CRS
(Lambert-93 by default); the distance is reported per point, and points farther than
:data:`SNAP_WARNING_M` from any node are flagged, since their time ignores that stretch.
"""

from __future__ import annotations

import contextlib
import datetime as dt
from collections.abc import Hashable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
from numpy.typing import ArrayLike

from geo import settings
from geo.crs import transform_xy
from geo.settings import LAMBERT93, WGS84

if TYPE_CHECKING:  # networkx and scipy are imported where used: estimated times need neither
    import networkx as nx
    from scipy.sparse import csr_matrix

    from geo.manytomany import ContractionHierarchy

__all__ = ["CH_MIN_NODES", "CH_MIN_SOURCES", "METHODS", "SNAP_WARNING_M", "MODE_OSM", "MODE_ESTIMATED", "MODE_LABELS", "TravelTimeMatrix",
           "TravelTimeEngine", "road_source_label", "times_label"]

#: A point farther than this from any road node is flagged (metres).
SNAP_WARNING_M = 2000.0

MODE_OSM = "osm"
MODE_ESTIMATED = "estimated"
#: French label of each mode: every output showing times must print it.
MODE_LABELS = {
    MODE_OSM: "temps routiers OpenStreetMap",
    MODE_ESTIMATED: "temps estimés à vol d'oiseau",
}

def road_source_label(graph: nx.Graph | None) -> str:
    """French description of where a prepared graph's times come from, with its date.

    E.g. « extrait OpenStreetMap Helsinki.osm.pbf, données au 21/04/2019 » or
    « OpenStreetMap téléchargé de l'API Overpass https://…, données au 23/11/2026 ».
    Empty string for ``None`` or a graph of unknown origin.
    """
    if graph is None:
        return ""
    source = str(graph.graph.get("maillage_source") or "")
    day = str(graph.graph.get("maillage_osm_date") or "")
    when = "date des données inconnue"
    with contextlib.suppress(ValueError):
        when = "données au " + dt.date.fromisoformat(day).strftime("%d/%m/%Y")
    if not source:
        return ""
    if source.startswith("API Overpass"):
        return f"OpenStreetMap téléchargé de l'{source}, {when}"
    return f"extrait OpenStreetMap {source}, {when}"


def _hierarchy_dir() -> Path:
    return settings.VAR_DIR / "cache" / "roads" / "ch"


def times_label(mode: str, source: str = "") -> str:
    """French label of a mode, with the source of the times when known.

    ``times_label("osm", "extrait OpenStreetMap x.osm.pbf, données au 21/04/2019")`` gives
    « temps routiers OpenStreetMap (extrait OpenStreetMap x.osm.pbf, données au 21/04/2019) ».
    """
    return f"{MODE_LABELS[mode]} ({source})" if source else MODE_LABELS[mode]


# Sources per csgraph call: a block holds block × n_nodes float64 distances.
_SOURCE_BLOCK = 64

#: Below this many nodes, the Dijkstra engine is used (0.05 s for a 949-node town).
CH_MIN_NODES = 20_000
#: With fewer distinct sources, Dijkstra is used unless the hierarchy is already cached.
CH_MIN_SOURCES = 64
METHODS = ("auto", "dijkstra", "ch")


def _same_crs(a: str, b: str) -> bool:
    return a.strip().upper() == b.strip().upper()


@dataclass
class TravelTimeMatrix:
    """Origins × destinations travel times.

    Attributes
    ----------
    minutes
        ``(n_origins, n_destinations)`` array, ``np.inf`` when unreachable.
    mode
        ``"osm"`` or ``"estimated"``; :attr:`label` is the French label every output
        must show (:data:`MODE_LABELS`).
    origin_snap_m, destination_snap_m
        Distance (m) from each point to the road node it was snapped to (0 when estimated).
    parameters
        Mode parameters (estimated mode: ``detour`` and ``speed_kmh``).
    source
        Where road times come from, with the date of the data (see
        :func:`road_source_label`); empty when unknown or estimated.
    """

    minutes: np.ndarray
    mode: str = MODE_OSM
    origin_snap_m: np.ndarray = field(default_factory=lambda: np.zeros(0))
    destination_snap_m: np.ndarray = field(default_factory=lambda: np.zeros(0))
    parameters: dict[str, float] = field(default_factory=dict)
    source: str = ""

    @property
    def label(self) -> str:
        """French label of the mode and source, e.g. « temps routiers OpenStreetMap
        (extrait OpenStreetMap auvergne.osm.pbf, données au 20/11/2026) »."""
        return times_label(self.mode, self.source)

    def far_from_road(self, *, threshold_m: float = SNAP_WARNING_M) -> np.ndarray:
        """Indices of destinations snapped farther than ``threshold_m`` from a road."""
        return np.flatnonzero(self.destination_snap_m > threshold_m)

    def far_origins(self, *, threshold_m: float = SNAP_WARNING_M) -> np.ndarray:
        """Indices of origins snapped farther than ``threshold_m`` from a road."""
        return np.flatnonzero(self.origin_snap_m > threshold_m)


class TravelTimeEngine:
    """Shortest travel times on a directed road graph, built with :meth:`from_graph`.

    Attributes
    ----------
    csr
        ``n × n`` sparse matrix of edge weights (seconds), fastest parallel edge.
    node_ids
        Graph node of each row (object array).
    node_x, node_y
        Node coordinates in :attr:`metric_crs` (metres).

    Examples
    --------
    >>> engine = TravelTimeEngine.from_graph(G)                      # doctest: +SKIP
    >>> m = engine.matrix(sites_xy, communes_xy, crs="EPSG:2154")    # doctest: +SKIP
    >>> m.minutes.shape, m.label                                     # doctest: +SKIP
    ((3, 257), 'temps routiers OpenStreetMap')
    """

    def __init__(self, csr: csr_matrix, node_ids: np.ndarray, node_x: np.ndarray,
                 node_y: np.ndarray, *, metric_crs: str = LAMBERT93, source: str = "") -> None:
        self.csr = csr
        self.source = source
        self.node_ids = node_ids
        self.node_x = node_x
        self.node_y = node_y
        self.metric_crs = metric_crs
        from scipy.spatial import cKDTree

        self._tree = cKDTree(np.column_stack([node_x, node_y])) if len(node_x) else None
        self._position: dict[Hashable, int] | None = None
        self._hierarchy: ContractionHierarchy | None = None

    @classmethod
    def from_graph(cls, graph: nx.MultiDiGraph, *, weight: str = "travel_time",
                   crs: str | None = None, metric_crs: str = LAMBERT93) -> TravelTimeEngine:
        """Build the engine from a graph whose nodes have ``x``/``y``.

        Parameters
        ----------
        graph
            Directed (multi)graph; edges without ``weight`` are ignored.
        weight
            Edge attribute holding the cost (seconds for ``travel_time``).
        crs
            CRS of the node coordinates (default: ``graph.graph["crs"]``, else WGS84).
        metric_crs
            CRS in metres used for snapping (Lambert-93; a UTM zone overseas).
        """
        nodes = list(graph.nodes)
        n = len(nodes)
        index = {node: i for i, node in enumerate(nodes)}
        xs = np.fromiter((graph.nodes[v]["x"] for v in nodes), dtype=float, count=n)
        ys = np.fromiter((graph.nodes[v]["y"] for v in nodes), dtype=float, count=n)
        source_crs = crs or str(graph.graph.get("crs") or WGS84)
        if n and not _same_crs(source_crs, metric_crs):
            xs, ys = transform_xy(xs, ys, source=source_crs, target=metric_crs)
        triples = [(index[u], index[v], w) for u, v, w in graph.edges(data=weight)
                   if w is not None]
        rows = np.fromiter((t[0] for t in triples), dtype=np.int64, count=len(triples))
        cols = np.fromiter((t[1] for t in triples), dtype=np.int64, count=len(triples))
        weights = np.fromiter((float(t[2]) for t in triples), dtype=float, count=len(triples))
        if (weights < 0).any() or not np.isfinite(weights).all():
            raise ValueError(f"edge attribute {weight!r} must be finite and non-negative")
        # Fastest of parallel edges: sort by (row, col, weight), keep the first of each pair.
        order = np.lexsort((weights, cols, rows))
        rows, cols, weights = rows[order], cols[order], weights[order]
        first = np.ones(len(rows), dtype=bool)
        first[1:] = (rows[1:] != rows[:-1]) | (cols[1:] != cols[:-1])
        # Built directly in CSR form (no summing of duplicates): zero-time edges stay as
        # explicit zeros, which csgraph treats as edges.
        rows, cols, weights = rows[first], cols[first], weights[first]
        indptr = np.zeros(n + 1, dtype=np.int64)
        np.cumsum(np.bincount(rows, minlength=n), out=indptr[1:])
        from scipy.sparse import csr_matrix

        csr = csr_matrix((weights, cols, indptr), shape=(n, n))
        return cls(csr, np.array(nodes + [None], dtype=object)[:-1], np.asarray(xs),
                   np.asarray(ys), metric_crs=metric_crs, source=road_source_label(graph))

    @property
    def n_nodes(self) -> int:
        return len(self.node_ids)

    def node_index(self, nodes: Sequence[Hashable]) -> np.ndarray:
        """Row of each graph node id (KeyError for a node not in the engine)."""
        if self._position is None:
            self._position = {node: i for i, node in enumerate(self.node_ids)}
        return np.array([self._position[node] for node in nodes], dtype=np.int64)

    def snap(self, x: ArrayLike, y: ArrayLike, *, crs: str = LAMBERT93
             ) -> tuple[np.ndarray, np.ndarray]:
        """Nearest node row and distance in metres for each point given in ``crs``."""
        xs = np.atleast_1d(np.asarray(x, dtype=float))
        ys = np.atleast_1d(np.asarray(y, dtype=float))
        if self._tree is None:
            raise ValueError("the road graph has no node")
        if not _same_crs(crs, self.metric_crs):
            xs, ys = transform_xy(xs, ys, source=crs, target=self.metric_crs)
        dist, idx = self._tree.query(np.column_stack([xs, ys]))
        return np.asarray(idx, dtype=np.int64), np.asarray(dist, dtype=float)

    def node_matrix(self, source_nodes: ArrayLike, target_nodes: ArrayLike, *,
                    limit: float = np.inf, method: str = "auto") -> np.ndarray:
        """Seconds from each source row to each target row, ``np.inf`` when unreachable.

        Rows are engine indices (see :meth:`snap`, :meth:`node_index`). Duplicate sources
        are computed once. ``limit`` (seconds): farther targets get ``np.inf``.

        ``method``: ``"dijkstra"`` (one compiled Dijkstra per distinct source), ``"ch"``
        (contraction hierarchy and RPHAST sweep, :mod:`geo.manytomany`; the hierarchy is
        built once per graph and cached in ``VAR_DIR/cache/roads/ch``; times equal
        Dijkstra's to about a millisecond), or ``"auto"``: the hierarchy for graphs of at
        least :data:`CH_MIN_NODES` nodes when there are at least :data:`CH_MIN_SOURCES`
        distinct sources or the hierarchy is already built or cached, else Dijkstra.
        """
        if method not in METHODS:
            raise ValueError(f"method must be one of {METHODS}, not {method!r}")
        sources = np.asarray(source_nodes, dtype=np.int64).reshape(-1)
        targets = np.asarray(target_nodes, dtype=np.int64).reshape(-1)
        if method == "ch" or (method == "auto" and self._prefers_hierarchy(sources)):
            seconds = self.hierarchy().matrix(sources, targets)
            if np.isfinite(limit):
                seconds[seconds > limit] = np.inf
            return seconds
        from scipy.sparse.csgraph import dijkstra

        unique, inverse = np.unique(sources, return_inverse=True)
        out = np.empty((len(unique), len(targets)))
        for start in range(0, len(unique), _SOURCE_BLOCK):
            block = unique[start:start + _SOURCE_BLOCK]
            dist = dijkstra(self.csr, directed=True, indices=block, limit=limit)
            out[start:start + len(block)] = np.atleast_2d(dist)[:, targets]
        return out[inverse.reshape(-1)]

    def _prefers_hierarchy(self, sources: np.ndarray) -> bool:
        import importlib.util

        if self.n_nodes < CH_MIN_NODES or importlib.util.find_spec("routingkit_ch") is None:
            return False
        if self._hierarchy is not None or len(np.unique(sources)) >= CH_MIN_SOURCES:
            return True
        from geo.manytomany import ContractionHierarchy

        return (_hierarchy_dir() / f"{ContractionHierarchy.key(self.csr)}.npz").is_file()

    def hierarchy(self) -> ContractionHierarchy:
        """The contraction hierarchy of this graph: built once, cached on disk."""
        if self._hierarchy is None:
            from geo.manytomany import ContractionHierarchy

            self._hierarchy = ContractionHierarchy.for_graph(self.csr,
                                                             cache_dir=_hierarchy_dir())
        return self._hierarchy

    def matrix(self, origins_xy: ArrayLike, destinations_xy: ArrayLike, *,
               crs: str = LAMBERT93) -> TravelTimeMatrix:
        """Minutes from each origin to each destination, points snapped to the graph.

        Parameters
        ----------
        origins_xy, destinations_xy
            ``(n, 2)`` arrays of x/y (easting/northing, or lon/lat) in ``crs``.
        crs
            CRS of the points (Lambert-93 or WGS84 …).
        """
        o = np.asarray(origins_xy, dtype=float).reshape(-1, 2)
        d = np.asarray(destinations_xy, dtype=float).reshape(-1, 2)
        o_idx, o_snap = self.snap(o[:, 0], o[:, 1], crs=crs)
        d_idx, d_snap = self.snap(d[:, 0], d[:, 1], crs=crs)
        seconds = self.node_matrix(o_idx, d_idx)
        return TravelTimeMatrix(minutes=seconds / 60.0, mode=MODE_OSM,
                                origin_snap_m=o_snap, destination_snap_m=d_snap,
                                source=self.source)

    @property
    def label(self) -> str:
        """French label of this engine's times, with the source and date of the graph."""
        return times_label(MODE_OSM, self.source)
