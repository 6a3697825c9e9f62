"""The offline base map, from our own communes in PostGIS, and the compact geometry codec.

The base map is what every map of the application shows under (or without) the online
tiles: the département outline, the commune boundaries and the names of the main
communes. It comes from the ``communes`` table, so it works with no Internet access.

Geometries sent to the browser are simplified in Lambert-93 as a *coverage* (shared
borders simplified once, so neighbours keep neither gaps nor overlaps), projected to
WGS84 and written as integer deltas of 1e-5 degree (about 1 m):
``[[[x0, y0, dx1, dy1, …], <hole>…], <polygon>…]``. ``web/static/js/maplib.js``
(``decode``) turns them back into GeoJSON coordinates.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from geo import settings

if TYPE_CHECKING:
    import geopandas as gpd

#: Coordinates are sent as integers of 1e-5 degree (≈ 1.1 m in latitude, 0.8 m in
#: longitude in France).
SCALE = 100_000
#: Simplification of the base map (metres); the plan layers use their own.
BASEMAP_SIMPLIFY_M = 120.0
#: Population from which a commune is labelled at the département zoom.
LABEL_POPULATION = 2000


def coverage_simplified(geoms: Any, tolerance: float) -> Any:
    """Simplify polygons of a coverage keeping shared borders common (Lambert-93 metres).

    Falls back to per-polygon topology-preserving simplification when the input is not a
    clean coverage (overlapping polygons).
    """
    import shapely

    arr = np.asarray(geoms, dtype=object)
    try:
        return shapely.coverage_simplify(arr, tolerance)
    except Exception:  # not a valid coverage: never fail a map for it
        return shapely.simplify(arr, tolerance, preserve_topology=True)


def to_wgs84(geoms: Any) -> Any:
    """Lambert-93 shapely geometries (array) to WGS84."""
    import geopandas as gpd

    return gpd.GeoSeries(list(geoms), crs=settings.LAMBERT93).to_crs(settings.WGS84).to_numpy()


def _ring(coords: Any) -> list[int]:
    a = np.rint(np.asarray(coords)[:, :2] * SCALE).astype(np.int64)
    if len(a) == 0:
        return []
    return np.vstack([a[:1], np.diff(a, axis=0)]).ravel().tolist()


def encode(geom: Any) -> list[list[list[int]]]:
    """A WGS84 (Multi)Polygon or (Multi)LineString as delta-encoded integer rings.

    Polygons give ``[[exterior, hole…], …]``; lines give ``[[line], …]``.
    """
    if geom is None or geom.is_empty:
        return []
    parts = list(geom.geoms) if hasattr(geom, "geoms") else [geom]
    out: list[list[list[int]]] = []
    for part in parts:
        if part.geom_type == "Polygon":
            rings = [part.exterior, *part.interiors]
            out.append([_ring(r.coords) for r in rings])
        elif part.geom_type in {"LineString", "LinearRing"}:
            out.append([_ring(part.coords)])
        else:  # points or collections: recurse on the polygonal/linear members
            out.extend(encode(part))
    return out


def decode(data: list[list[list[int]]]) -> list[list[list[tuple[float, float]]]]:
    """Inverse of :func:`encode` (used by the tests; the browser has its own)."""
    out = []
    for part in data:
        rings = []
        for ring in part:
            a = np.cumsum(np.asarray(ring, dtype=np.int64).reshape(-1, 2), axis=0) / SCALE
            rings.append([(float(x), float(y)) for x, y in a])
        out.append(rings)
    return out


def label_minzoom(population: int, *, main_of_epci: bool) -> int:
    """Zoom level from which a commune's name is shown (more names as one zooms in).

    10 000 inhabitants or more: from zoom 7; 2 000 or more, or the most populous commune
    of its EPCI (stand-in for the EPCI seat, which the sources do not give): 9; 500 or
    more: 11; the others: 12.
    """
    if population >= 10_000:
        return 7
    if population >= LABEL_POPULATION or main_of_epci:
        return 9
    if population >= 500:
        return 11
    return 12


def declutter(labels: list[dict[str, Any]], *, zoom: int,
              skip: frozenset[str] = frozenset()) -> list[dict[str, Any]]:
    """Labels shown at ``zoom`` that do not overlap a bigger one (same rule as the
    browser's ``maplib.js``: by priority, about 7 px per character, 16 px high)."""
    import math

    scale = 256 * 2 ** zoom
    placed: list[tuple[float, float, float, float]] = []
    out = []
    for lab in labels:
        if lab["z"] > zoom or lab["c"] in skip:
            continue
        lat, lon = lab["ll"]
        x = (lon + 180) / 360 * scale
        s = math.sin(math.radians(lat))
        y = (0.5 - math.log((1 + s) / (1 - s)) / (4 * math.pi)) * scale
        w = len(lab["n"]) * 7 + 6
        box = (x - w / 2, y - 8, x + w / 2, y + 8)
        if any(box[0] < b[2] and b[0] < box[2] and box[1] < b[3] and b[1] < box[3]
               for b in placed):
            continue
        placed.append(box)
        out.append(lab)
    return out


@dataclass
class Basemap:
    """The base map of one département, ready to be served."""

    dept: str
    name: str
    bbox: tuple[float, float, float, float]   # WGS84 west, south, east, north
    outline: Any                              # WGS84 (Multi)Polygon
    communes: list[tuple[str, Any]]           # (code, WGS84 polygon)
    labels: list[dict[str, Any]]

    def payload(self) -> dict[str, Any]:
        """The JSON sent to the browser (encoded geometries)."""
        from geo import mapstyle

        return {
            "dept": self.dept, "name": self.name, "bbox": [round(v, 5) for v in self.bbox],
            "styles": mapstyle.BASEMAP,
            "outline": encode(self.outline),
            "communes": [{"c": code, "g": encode(g)} for code, g in self.communes],
            "labels": self.labels,
        }


def basemap_from_frame(frame: gpd.GeoDataFrame, *, dept: str, name: str = "",
                       tolerance: float = BASEMAP_SIMPLIFY_M) -> Basemap:
    """The base map of a communes frame (``geo.communes.communes_frame`` columns)."""
    import shapely

    simple = coverage_simplified(frame.geometry.to_numpy(), tolerance)
    outline_l93 = shapely.coverage_union_all(simple) if len(simple) else None
    wgs = to_wgs84(simple)
    outline = to_wgs84([outline_l93])[0] if outline_l93 is not None else None
    points = to_wgs84(shapely.points(frame["point_x"].to_numpy(dtype=float),
                                     frame["point_y"].to_numpy(dtype=float)))
    pop = frame["population"].to_numpy()
    epci = frame["epci"].fillna("").to_numpy()
    main: set[str] = set()
    best: dict[str, tuple[int, str]] = {}
    for code, e, p in zip(frame.index, epci, pop, strict=True):
        if e and (e not in best or int(p) > best[e][0]):
            best[e] = (int(p), str(code))
    main = {code for _, code in best.values()}
    labels: list[dict[str, Any]] = []
    for code, nom, p, pt in zip(frame.index, frame["nom"], pop, points, strict=True):
        labels.append({"c": str(code), "n": str(nom), "p": int(p),
                       "z": label_minzoom(int(p), main_of_epci=str(code) in main),
                       "ll": [round(pt.y, 5), round(pt.x, 5)]})
    labels.sort(key=lambda lab: (lab["z"], -lab["p"]))
    bounds = outline.bounds if outline is not None else (0.0, 0.0, 0.0, 0.0)
    return Basemap(dept=dept, name=name, bbox=tuple(float(b) for b in bounds),  # type: ignore[arg-type]
                   outline=outline,
                   communes=[(str(c), g) for c, g in zip(frame.index, wgs, strict=True)],
                   labels=labels)


def departements_loaded(connection: Any) -> list[dict[str, Any]]:
    """Départements that have communes in PostGIS: code, name and WGS84 bbox."""
    from sqlalchemy import text

    rows = connection.execute(text(
        """
        SELECT c.departement AS code, coalesce(d.nom, c.departement) AS nom,
               ST_XMin(b) AS w, ST_YMin(b) AS s, ST_XMax(b) AS e, ST_YMax(b) AS n
        FROM (SELECT departement, ST_Transform(ST_SetSRID(ST_Extent(geom), 2154), 4326) AS b
              FROM communes GROUP BY departement) c
        LEFT JOIN departements d ON d.code = c.departement
        ORDER BY c.departement
        """)).mappings().all()
    return [{"code": r["code"], "nom": r["nom"],
             "bbox": [round(float(r[k]), 4) for k in ("w", "s", "e", "n")]} for r in rows]
