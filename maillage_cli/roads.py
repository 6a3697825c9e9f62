"""``maillage roads fetch``: get and cache the drivable road graph of a département.

Downloads OpenStreetMap through the Overpass API (default), or reads a local extract
(``--roads FICHIER.osm.pbf``, e.g. Geofabrik's Auvergne), buffers the territory, prepares
the graph (French speeds, largest strongly connected component) and caches it under
``var/cache/roads``; ``plan check/report/assign --roads <cache>.graphml`` then use it.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from geo.errors import MaillageError


def register(sub: argparse._SubParsersAction) -> None:
    """Add the ``roads`` noun and its ``fetch`` verb."""
    noun = sub.add_parser("roads", help="réseau routier OpenStreetMap (temps routiers)")
    verbs = noun.add_subparsers(dest="verb", metavar="ACTION", required=True)
    fetch = verbs.add_parser(
        "fetch", help="télécharger (ou lire un extrait .osm.pbf) et mettre en cache le réseau "
                      "routier d'un département")
    fetch.add_argument("--dept", required=True, help="code du département, ex. 43")
    fetch.add_argument("--roads", metavar="FICHIER",
                       help="extrait local .osm.pbf, .osm ou .graphml au lieu du téléchargement")
    fetch.add_argument("--contour", metavar="FICHIER",
                       help="contour du territoire (GeoJSON, GeoPackage…) au lieu des communes "
                            "du département chargées en base (maillage communes load)")
    fetch.add_argument("--buffer-km", type=float, default=10.0,
                       help="marge autour du territoire, en km (défaut : 10)")
    fetch.add_argument("--overpass-url", metavar="URL",
                       help="autre serveur de l'API Overpass (défaut : le service public)")
    fetch.set_defaults(handler=run_fetch)


def _contour(path: str):  # -> shapely geometry in Lambert-93
    import geopandas as gpd
    import shapely

    from geo import settings

    try:
        frame = gpd.read_file(path)
    except Exception as exc:  # fiona/pyogrio raise many types on unreadable files
        raise MaillageError(f"Contour illisible : « {path} » ({exc}).") from exc
    if frame.empty or frame.crs is None:
        raise MaillageError(f"« {path} » : contour vide ou sans système de coordonnées.")
    return shapely.union_all(frame.to_crs(settings.LAMBERT93).geometry.to_numpy())


def _dept_territory(dept: str):  # -> shapely geometry in Lambert-93
    """Union of the département's communes stored in the database (as ``plan`` uses)."""
    import shapely
    from sqlalchemy.exc import SQLAlchemyError

    from geo.communes import communes_frame
    from geo.db import get_engine

    try:
        with get_engine().connect() as conn:
            frame = communes_frame(conn, dept=dept)
    except SQLAlchemyError as exc:
        raise MaillageError(f"Base de données injoignable ({exc.__class__.__name__}) : "
                            "donnez le contour du territoire avec --contour.") from exc
    except MaillageError as exc:  # no commune of this département in the database
        raise MaillageError(f"{exc} Ou donnez le contour du territoire avec --contour.") from exc
    if frame.empty:
        raise MaillageError(f"Aucune commune du département {dept} en base : chargez-les "
                            f"(maillage communes load --dept {dept}) ou donnez --contour.")
    return shapely.union_all(frame.geometry.to_numpy())


def run_fetch(args: argparse.Namespace) -> int:
    from geo import settings
    from geo.communes import check_dept_code
    from geo.network import load_road_network
    from geo.traveltime import TravelTimeEngine

    dept = check_dept_code(args.dept)
    if not 0 <= args.buffer_km <= 100:
        raise MaillageError("--buffer-km doit être compris entre 0 et 100.")
    polygon = _contour(args.contour) if args.contour else _dept_territory(dept)
    start = time.perf_counter()
    graph = load_road_network(dept=dept, polygon=polygon, source=args.roads or "osm",
                              buffer_m=args.buffer_km * 1000.0, overpass_url=args.overpass_url)
    label = TravelTimeEngine.from_graph(graph).label
    nodes, edges = graph.number_of_nodes(), graph.number_of_edges()
    print(f"Réseau routier du département {dept} : {nodes} nœuds, {edges} tronçons "
          f"({label}), en {time.perf_counter() - start:.0f} s.")
    cached = sorted((settings.VAR_DIR / "cache" / "roads").glob(f"{dept}-*.graphml"),
                    key=lambda p: p.stat().st_mtime)
    if cached:
        print(f"Cache : {cached[-1]}")
        print(f"Utilisation : maillage plan check --dept {dept} … --roads {cached[-1]}")
    elif args.roads:
        print(f"Utilisation : maillage plan check --dept {dept} … --roads {Path(args.roads)}")
    return 0
