"""Isochrones: the area reachable from a site within T minutes.

Road mode: built from the reachable *edges* (their geometry, or the straight segment
between their nodes when they have none), each cut at the fraction of it that can be
driven before T, buffered in Lambert-93 (:data:`EDGE_BUFFER_M`) and unioned — not a
convex hull of nodes, which would swallow valleys and plateaus no road serves.
Estimated mode: discs of radius speed × T ÷ detour (see :mod:`geo.estimated`).

Every function returns or takes Lambert-93 geometries; frames have columns
``site``, ``minutes``, ``geometry`` (EPSG:2154).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import geopandas as gpd
import networkx as nx
import numpy as np
import shapely
from shapely.geometry.base import BaseGeometry
from shapely.ops import substring

from geo import settings
from geo.crs import transformer
from geo.estimated import DEFAULT_DETOUR, DEFAULT_SPEED_KMH, estimated_isochrone
from geo.traveltime import TravelTimeEngine

__all__ = ["DEFAULT_THRESHOLDS", "EDGE_BUFFER_M", "EdgeTable", "network_isochrones",
           "estimated_isochrones", "union_by_threshold", "outside"]

DEFAULT_THRESHOLDS = (15.0, 30.0, 45.0)
#: Half-width (m) of the band around a reachable road counted as reachable: a coordinator
#: parks and walks, or drives a track missing from OSM.
EDGE_BUFFER_M = 300.0
# Few segments per quarter circle: the buffer's roundness is not worth the union's cost.
_QUAD_SEGS = 4


@dataclass(frozen=True)
class EdgeTable:
    """Edges of a graph as arrays aligned with an engine's node rows.

    Attributes
    ----------
    u, v
        Engine rows of the edge's start and end nodes.
    seconds
        Travel time of the edge (its ``travel_time``).
    lines
        Edge geometry in the engine's metric CRS (shapely LineString array).
    """

    u: np.ndarray
    v: np.ndarray
    seconds: np.ndarray
    lines: np.ndarray

    @classmethod
    def from_graph(cls, graph: nx.MultiDiGraph, engine: TravelTimeEngine, *,
                   weight: str = "travel_time") -> EdgeTable:
        """Edges with a ``weight``, geometries projected once to ``engine.metric_crs``."""
        crs = str(graph.graph.get("crs") or settings.WGS84)
        edges = [(u, v, d) for u, v, d in graph.edges(data=True) if d.get(weight) is not None]
        u_rows = engine.node_index([e[0] for e in edges])
        v_rows = engine.node_index([e[1] for e in edges])
        seconds = np.array([float(e[2][weight]) for e in edges], dtype=float)
        geoms = np.array([e[2].get("geometry") for e in edges], dtype=object)
        missing = np.array([g is None for g in geoms], dtype=bool)
        lines = np.empty(len(edges), dtype=object)
        # Straight segments from the engine's (already metric) node coordinates.
        if missing.any():
            xy0 = np.column_stack([engine.node_x[u_rows[missing]], engine.node_y[u_rows[missing]]])
            xy1 = np.column_stack([engine.node_x[v_rows[missing]], engine.node_y[v_rows[missing]]])
            lines[missing] = shapely.linestrings(np.stack([xy0, xy1], axis=1))
        if (~missing).any():
            given = geoms[~missing]
            if crs.strip().upper() != engine.metric_crs.strip().upper():
                t = transformer(crs, engine.metric_crs)

                def project(coords: np.ndarray) -> np.ndarray:
                    return np.column_stack(t.transform(coords[:, 0], coords[:, 1]))

                given = shapely.transform(given, project)
            lines[~missing] = given
        return cls(u=u_rows, v=v_rows, seconds=seconds, lines=lines)

    def reachable(self, node_seconds: np.ndarray, limit: float) -> np.ndarray:
        """Lines of the edges drivable within ``limit`` seconds, the last one cut.

        ``node_seconds`` is the time from the site to every node. Along a directed edge,
        the point at fraction f is reached at ``t(u) + f × seconds``.
        """
        start = node_seconds[self.u]
        ok = start <= limit
        with np.errstate(divide="ignore", invalid="ignore"):
            fraction = np.where(self.seconds > 0, (limit - start) / self.seconds, 1.0)
        full = ok & (fraction >= 1.0)
        partial = np.flatnonzero(ok & (fraction < 1.0))
        cut = [substring(line, 0.0, float(f), normalized=True)
               for line, f in zip(self.lines[partial], fraction[partial], strict=True)]
        return np.concatenate([self.lines[full], np.array(cut + [None], dtype=object)[:-1]])


def network_isochrones(graph: nx.MultiDiGraph, engine: TravelTimeEngine,
                       sites: Mapping[str, tuple[float, float]], *,
                       thresholds: Sequence[float] = DEFAULT_THRESHOLDS,
                       buffer_m: float = EDGE_BUFFER_M,
                       edges: EdgeTable | None = None) -> gpd.GeoDataFrame:
    """Isochrones of each site on the road graph.

    Parameters
    ----------
    graph
        The graph the ``engine`` was built from (edge ``travel_time``, optional
        ``geometry``).
    engine
        :class:`~geo.traveltime.TravelTimeEngine` of ``graph``.
    sites
        Site name → (x, y) in ``engine.metric_crs`` (Lambert-93), snapped to the nearest node.
    thresholds
        Minutes (default 15, 30, 45).
    buffer_m
        Half-width of the band around reachable roads (metres).
    edges
        Precomputed :class:`EdgeTable` (reuse it across calls on the same graph).

    Returns
    -------
    geopandas.GeoDataFrame
        One row per site and threshold: ``site``, ``minutes``, ``geometry`` (EPSG:2154).
    """
    table = edges if edges is not None else EdgeTable.from_graph(graph, engine)
    names = list(sites)
    limits = sorted(float(t) for t in thresholds)
    rows: list[dict[str, object]] = []
    if names and limits:
        xy = np.array([sites[n] for n in names], dtype=float).reshape(-1, 2)
        idx, _ = engine.snap(xy[:, 0], xy[:, 1], crs=engine.metric_crs)
        # Searches bounded by the largest threshold: cheaper than any all-pairs method.
        seconds = engine.node_matrix(idx, np.arange(engine.n_nodes), limit=limits[-1] * 60.0,
                                     method="dijkstra")
        for s, name in enumerate(names):
            anchor = shapely.Point(engine.node_x[idx[s]], engine.node_y[idx[s]])
            for minutes in limits:
                pieces = table.reachable(seconds[s], minutes * 60.0)
                parts = np.empty(len(pieces) + 1, dtype=object)
                # Simplifying to a tenth of the buffer keeps endpoints and cuts the union's cost.
                parts[:-1], parts[-1] = shapely.simplify(pieces, buffer_m / 10.0), anchor
                geom = shapely.union_all(shapely.buffer(parts, buffer_m, quad_segs=_QUAD_SEGS))
                rows.append({"site": name, "minutes": minutes, "geometry": geom})
    return gpd.GeoDataFrame(rows, columns=["site", "minutes", "geometry"], geometry="geometry",
                            crs=engine.metric_crs)


def estimated_isochrones(sites: Mapping[str, tuple[float, float]], *,
                         thresholds: Sequence[float] = DEFAULT_THRESHOLDS,
                         detour: float = DEFAULT_DETOUR,
                         speed_kmh: float = DEFAULT_SPEED_KMH) -> gpd.GeoDataFrame:
    """Isochrones in estimated mode: discs of radius speed × t ÷ detour (Lambert-93 sites)."""
    rows = [{"site": name, "minutes": float(t),
             "geometry": estimated_isochrone(x, y, minutes=t, detour=detour, speed_kmh=speed_kmh)}
            for name, (x, y) in sites.items() for t in sorted(thresholds)]
    return gpd.GeoDataFrame(rows, columns=["site", "minutes", "geometry"], geometry="geometry",
                            crs=settings.LAMBERT93)


def union_by_threshold(isochrones: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Union of every site's isochrone, per threshold: columns ``minutes``, ``geometry``."""
    if isochrones.empty:
        return gpd.GeoDataFrame({"minutes": []}, geometry=[], crs=isochrones.crs)
    merged = isochrones.dissolve(by="minutes", as_index=False)[["minutes", "geometry"]]
    return merged.sort_values("minutes").reset_index(drop=True)


def outside(union: BaseGeometry, territory: BaseGeometry) -> BaseGeometry:
    """Part of the territory beyond the isochrone ``union`` (the uncovered zone).

    Pass the union of the largest threshold to get the part beyond every threshold.
    """
    return shapely.make_valid(territory).difference(union)
