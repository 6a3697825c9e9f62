"""Isochrones: the area reachable from a site within T minutes.

Built from the reachable *edges* (their geometry, or the straight segment between their
nodes), the last edge cut at the reachable fraction, buffered in Lambert-93 and unioned —
not a convex hull of nodes, which would swallow valleys the roads do not serve.
"""

from __future__ import annotations

from collections.abc import Sequence

import geopandas as gpd
import networkx as nx
import numpy as np
import shapely
from shapely.geometry import LineString
from shapely.geometry.base import BaseGeometry
from shapely.ops import substring

from geo import settings
from geo.crs import transform_geometry
from geo.estimated import DEFAULT_DETOUR, DEFAULT_SPEED_KMH, estimated_isochrone
from geo.traveltime import TravelTimeEngine

DEFAULT_THRESHOLDS = (15.0, 30.0, 45.0)
#: Half-width of the band around a reachable road counted as reachable (metres).
EDGE_BUFFER_M = 300.0


def _edge_line(graph: nx.MultiDiGraph, u: object, v: object, data: dict, crs: str
               ) -> BaseGeometry:
    geom = data.get("geometry")
    if geom is None:
        geom = LineString([(graph.nodes[u]["x"], graph.nodes[u]["y"]),
                           (graph.nodes[v]["x"], graph.nodes[v]["y"])])
    if crs.lower() != "epsg:2154":
        geom = transform_geometry(geom, source=crs, target=settings.LAMBERT93)
    return geom


def network_isochrones(graph: nx.MultiDiGraph, engine: TravelTimeEngine,
                       sites: dict[str, tuple[float, float]], *,
                       thresholds: Sequence[float] = DEFAULT_THRESHOLDS,
                       buffer_m: float = EDGE_BUFFER_M) -> gpd.GeoDataFrame:
    """Isochrones per site (Lambert-93 site coordinates) on the road graph.

    Returns a GeoDataFrame (EPSG:2154) with columns ``site``, ``minutes``, ``geometry``.
    """
    crs = str(graph.graph.get("crs") or settings.WGS84)
    names = list(sites)
    xy = np.array([sites[n] for n in names], dtype=float).reshape(-1, 2)
    idx, _ = engine.snap(xy[:, 0], xy[:, 1])
    seconds = engine.node_matrix(idx, np.arange(len(engine.node_ids)))
    position = {n: i for i, n in enumerate(engine.node_ids)}
    edges = [(position[u], position[v], u, v, d) for u, v, d in graph.edges(data=True)
             if u in position and v in position]
    rows = []
    for s, name in enumerate(names):
        t_node = seconds[s]
        for minutes in sorted(thresholds):
            limit = minutes * 60.0
            pieces: list[BaseGeometry] = []
            for iu, iv, u, v, data in edges:
                tu = t_node[iu]
                if not tu <= limit:
                    continue
                travel = float(data.get("travel_time", 0.0))
                line = _edge_line(graph, u, v, data, crs)
                if t_node[iv] <= limit or travel <= 0 or tu + travel <= limit:
                    pieces.append(line)
                else:  # partially reachable: keep the reachable fraction
                    fraction = (limit - tu) / travel
                    pieces.append(substring(line, 0, fraction, normalized=True))  # type: ignore[arg-type]
            geom: BaseGeometry = shapely.union_all(
                shapely.buffer(np.array(pieces, dtype=object), buffer_m)) if pieces else \
                shapely.Point(xy[s]).buffer(buffer_m)
            rows.append({"site": name, "minutes": minutes, "geometry": geom})
    return gpd.GeoDataFrame(rows, columns=["site", "minutes", "geometry"], geometry="geometry",
                            crs=settings.LAMBERT93)


def estimated_isochrones(sites: dict[str, tuple[float, float]], *,
                         thresholds: Sequence[float] = DEFAULT_THRESHOLDS,
                         detour: float = DEFAULT_DETOUR,
                         speed_kmh: float = DEFAULT_SPEED_KMH) -> gpd.GeoDataFrame:
    """Isochrones in estimated mode: discs of radius speed × t ÷ detour."""
    rows = [{"site": name, "minutes": t,
             "geometry": estimated_isochrone(x, y, minutes=t, detour=detour, speed_kmh=speed_kmh)}
            for name, (x, y) in sites.items() for t in sorted(thresholds)]
    return gpd.GeoDataFrame(rows, columns=["site", "minutes", "geometry"], geometry="geometry",
                            crs=settings.LAMBERT93)


def union_by_threshold(isochrones: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Union of every site's isochrone, per threshold."""
    merged = isochrones.dissolve(by="minutes", as_index=False)[["minutes", "geometry"]]
    return merged.set_crs(settings.LAMBERT93, allow_override=True)


def outside(union: BaseGeometry, territory: BaseGeometry) -> BaseGeometry:
    """Part of the territory beyond every isochrone (the uncovered zone)."""
    return territory.difference(union)
