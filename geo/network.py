"""Drivable road network of a département (+ buffer) for travel times.

Sources, in order of preference on a connected machine:

* OpenStreetMap through osmnx (Overpass) — :func:`download_road_network`;
* a local OSM XML file (``.osm``), or an ``.osm.pbf`` converted to XML by Debian's
  ``osmium-tool`` (``osmium cat``), which avoids a heavy Python PBF dependency;
* a GraphML saved by osmnx (and our cache: ``var/cache/roads/<dept>-<source>.graphml``).

Every graph gets speeds (``maxspeed`` tag, else :data:`geo.speeds.FRENCH_DEFAULT_SPEEDS`)
and travel times, and is reduced to its largest strongly connected component so that
every node can reach every other.
"""

from __future__ import annotations

import hashlib
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path

import networkx as nx
import osmnx as ox
from shapely.geometry.base import BaseGeometry

from geo import settings
from geo.crs import transform_geometry
from geo.errors import MaillageError
from geo.speeds import FALLBACK_SPEED, FRENCH_DEFAULT_SPEEDS

DEFAULT_BUFFER_M = 10_000.0


def _say(message: str) -> None:
    print(f"[réseau routier] {message}", file=sys.stderr, flush=True)


def prepare_graph(graph: nx.MultiDiGraph, *, progress: Callable[[str], None] = _say
                  ) -> nx.MultiDiGraph:
    """Speeds, travel times, largest strongly connected component."""
    progress(f"{graph.number_of_nodes()} nœuds, {graph.number_of_edges()} tronçons : "
             "vitesses et temps de parcours…")
    graph = ox.add_edge_speeds(graph, hwy_speeds=FRENCH_DEFAULT_SPEEDS, fallback=FALLBACK_SPEED)
    graph = ox.add_edge_travel_times(graph)
    graph = ox.truncate.largest_component(graph, strongly=True)
    progress(f"plus grande composante fortement connexe : {graph.number_of_nodes()} nœuds.")
    return graph


def cache_path(*, dept: str, source: str) -> Path:
    return settings.VAR_DIR / "cache" / "roads" / f"{dept}-{source}.graphml"


def download_road_network(territory_wgs84: BaseGeometry, *, dept: str,
                          buffer_m: float = DEFAULT_BUFFER_M, cache: bool = True,
                          progress: Callable[[str], None] = _say) -> nx.MultiDiGraph:
    """Drivable OSM graph of the territory plus ``buffer_m`` (the fastest road may cross a
    neighbour), cached as GraphML. Needs network access to Overpass."""
    path = cache_path(dept=dept, source="osm")
    if cache and path.exists():
        progress(f"lecture du cache {path}")
        return ox.load_graphml(path)
    buffered = transform_geometry(
        transform_geometry(territory_wgs84, source=settings.WGS84, target=settings.LAMBERT93)
        .buffer(buffer_m), source=settings.LAMBERT93, target=settings.WGS84)
    progress("téléchargement OpenStreetMap (Overpass), cela peut prendre plusieurs minutes…")
    try:
        graph = ox.graph_from_polygon(buffered, network_type="drive")  # type: ignore[arg-type]
    except Exception as exc:  # osmnx/requests raise many types when offline
        raise MaillageError(
            f"Téléchargement OpenStreetMap impossible ({exc.__class__.__name__}). Hors ligne, "
            "donnez un fichier .osm, .osm.pbf ou GraphML (--roads), ou utilisez les temps "
            "estimés à vol d'oiseau.") from exc
    graph = prepare_graph(graph, progress=progress)
    if cache:
        path.parent.mkdir(parents=True, exist_ok=True)
        ox.save_graphml(graph, path)
    return graph


def load_road_file(path: Path, *, cache: bool = True,
                   progress: Callable[[str], None] = _say) -> nx.MultiDiGraph:
    """Graph from a GraphML, ``.osm`` or ``.osm.pbf`` file (prepared, cached)."""
    if not path.is_file():
        raise MaillageError(f"Réseau routier introuvable : « {path} ».")
    name = path.name.lower()
    if name.endswith(".graphml"):
        try:
            graph = ox.load_graphml(path)
        except Exception as exc:
            raise MaillageError(f"« {path} » : GraphML illisible ({exc}).") from exc
        has_times = all("travel_time" in d for _, _, d in graph.edges(data=True))
        return graph if has_times and graph.graph.get("maillage_prepared") else \
            _mark(prepare_graph(graph, progress=progress))
    digest = hashlib.sha256(path.read_bytes()).hexdigest()[:16]
    cached = settings.VAR_DIR / "cache" / "roads" / f"file-{digest}.graphml"
    if cache and cached.exists():
        progress(f"lecture du cache {cached}")
        return ox.load_graphml(cached)
    if name.endswith(".osm.pbf") or name.endswith(".pbf"):
        graph = _graph_from_pbf(path, progress=progress)
    elif name.endswith(".osm") or name.endswith(".xml"):
        progress(f"lecture de {path}…")
        graph = ox.graph_from_xml(path)
    else:
        raise MaillageError(f"« {path} » : format de réseau inconnu (.graphml, .osm, .osm.pbf).")
    graph = _mark(prepare_graph(graph, progress=progress))
    if cache:
        cached.parent.mkdir(parents=True, exist_ok=True)
        ox.save_graphml(graph, cached)
    return graph


def _mark(graph: nx.MultiDiGraph) -> nx.MultiDiGraph:
    graph.graph["maillage_prepared"] = True
    return graph


def _graph_from_pbf(path: Path, *, progress: Callable[[str], None]) -> nx.MultiDiGraph:
    osmium = shutil.which("osmium")
    if osmium is None:
        raise MaillageError("Lire un .osm.pbf demande osmium (paquet Debian « osmium-tool ») : "
                            "apt-get install osmium-tool, ou convertissez le fichier en .osm.")
    with tempfile.TemporaryDirectory() as tmp:
        xml = Path(tmp) / "roads.osm"
        progress(f"conversion de {path.name} en XML par osmium…")
        subprocess.run([osmium, "tags-filter", str(path), "w/highway", "-o", str(xml),
                        "--overwrite", "-f", "osm"], check=True)
        return ox.graph_from_xml(xml)
