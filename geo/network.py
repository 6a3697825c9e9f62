"""Drivable road network of a département (plus a buffer) for travel times.

Sources (``source=`` of :func:`load_road_network`):

* ``"osm"``: OpenStreetMap downloaded through osmnx (Overpass API,
  ``ox.graph_from_polygon(..., network_type="drive")``) — needs network access;
* a local OSM XML file (``.osm``), read by ``ox.graph_from_xml`` and filtered to the
  roads a car may use (osmnx does not filter local files by network type);
* a local ``.osm.pbf`` (Geofabrik extract): converted to XML by Debian's ``osmium-tool``
  (``osmium extract`` to the buffered bounding box, then ``osmium tags-filter w/highway``)
  rather than a heavy compiled Python PBF reader; only the roads are converted, so a
  regional extract stays small;
* a GraphML file saved by osmnx (or by this module).

Every graph gets speeds (``maxspeed`` tag, else :data:`geo.speeds.FRENCH_DEFAULT_SPEEDS`),
travel times in seconds (``travel_time``) and is reduced to its largest strongly connected
component, so that every node can reach every other. Prepared graphs are cached as GraphML
in ``settings.VAR_DIR / "cache" / "roads"``, one file per département and source.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from xml.etree import ElementTree

import defusedxml.ElementTree as safe_xml
import networkx as nx
import osmnx as ox
import shapely
from defusedxml import DefusedXmlException
from shapely.geometry import MultiPolygon, Polygon
from shapely.geometry.base import BaseGeometry

from geo import settings
from geo.crs import transform_geometry
from geo.errors import MaillageError
from geo.speeds import FALLBACK_SPEED, FRENCH_DEFAULT_SPEEDS, NOT_DRIVABLE_HIGHWAYS
from geo.traveltime import road_source_label

__all__ = ["DEFAULT_BUFFER_M", "Progress", "load_road_network", "load_road_file",
           "download_road_network", "prepare_graph", "drivable_only", "cache_path",
           "buffered_territory", "road_source_label", "split_incomplete_ways", "FALLBACK_HINT"]

#: Margin around the département (metres): the fastest road between two of its communes
#: may cross a neighbouring département.
DEFAULT_BUFFER_M = 10_000.0

Progress = Callable[[str], None]

#: Told to the user with every road-network error: how to go on without a road graph.
FALLBACK_HINT = ("Pour continuer sans réseau routier, lancez les commandes de plan sans --roads : "
                 "Maillage utilise alors les temps estimés à vol d'oiseau.")

_SPEED_TAGS = ("highway", "maxspeed")
# Way tags kept by graph_from_xml: osmnx's defaults plus the ones the drive filter reads.
_EXTRA_WAY_TAGS = ("motor_vehicle", "motorcar", "access", "service", "area")


def _say(message: str) -> None:
    print(f"[réseau routier] {message}", file=sys.stderr, flush=True)


def _quiet(_message: str) -> None:
    pass


def load_road_network(*, dept: str, polygon: BaseGeometry | None = None,
                      polygon_crs: str = settings.LAMBERT93, source: str | Path = "osm",
                      buffer_m: float = DEFAULT_BUFFER_M, cache: bool = True,
                      progress: Progress | None = _say,
                      overpass_url: str | None = None) -> nx.MultiDiGraph:
    """Prepared drivable graph of a département plus ``buffer_m``.

    Parameters
    ----------
    dept
        Département code, used for the cache name (and to read the communes when
        ``polygon`` is not given and ``source="osm"``).
    polygon
        Territory (the département). Required to download; for a local file it clips the
        graph to the buffered territory (``None``: keep the whole file).
    polygon_crs
        CRS of ``polygon`` (default Lambert-93, as the communes frames).
    source
        ``"osm"`` (download) or the path of a ``.osm``, ``.osm.pbf`` or ``.graphml`` file.
    buffer_m
        Margin around the territory, in metres.
    cache
        Read and write the GraphML cache in ``VAR_DIR/cache/roads``.
    progress
        Receives short French progress messages (default: printed on stderr).
    overpass_url
        Overpass API endpoint for ``source="osm"`` (default: osmnx's setting, the public
        service).

    Returns
    -------
    networkx.MultiDiGraph
        osmnx graph in WGS84 with ``speed_kph`` and ``travel_time`` (s) on every edge.

    Raises
    ------
    MaillageError
        Missing or unreadable file, unknown format, download impossible, osmium missing.
    """
    say = progress or (lambda _m: None)
    territory = None
    if polygon is not None:
        territory = buffered_territory(polygon, crs=polygon_crs, buffer_m=buffer_m)
    if str(source) == "osm":
        if territory is None:
            territory = buffered_territory(dept_polygon(dept), crs=settings.LAMBERT93,
                                           buffer_m=buffer_m)
        return download_road_network(territory, dept=dept, buffer_m=buffer_m, cache=cache,
                                     progress=say, overpass_url=overpass_url)
    return load_road_file(Path(source), dept=dept, territory=territory, buffer_m=buffer_m,
                          cache=cache, progress=say)


def buffered_territory(polygon: BaseGeometry, *, crs: str = settings.LAMBERT93,
                       buffer_m: float = DEFAULT_BUFFER_M) -> Polygon | MultiPolygon:
    """The territory buffered by ``buffer_m`` metres (in Lambert-93), returned in WGS84."""
    metric = polygon if crs.upper() == settings.LAMBERT93 else \
        transform_geometry(polygon, source=crs, target=settings.LAMBERT93)
    buffered = metric.buffer(buffer_m) if buffer_m > 0 else metric
    out = transform_geometry(buffered, source=settings.LAMBERT93, target=settings.WGS84)
    if not isinstance(out, Polygon | MultiPolygon):
        raise MaillageError("Le contour du territoire doit être un polygone.")
    return out


def dept_polygon(dept: str) -> BaseGeometry:
    """Union of the communes of ``dept`` (Lambert-93), from the communes source."""
    from geo.communes import read_communes_source

    communes = read_communes_source(dept=dept).communes
    return shapely.union_all(communes.geometry.to_numpy())


def cache_path(*, dept: str, source: str) -> Path:
    """GraphML cache of one département and one source (``"osm"`` or a file tag)."""
    return settings.VAR_DIR / "cache" / "roads" / f"{dept}-{source}.graphml"


def _read_cache(path: Path, *, buffer_m: float, say: Progress) -> nx.MultiDiGraph | None:
    if not path.is_file():
        return None
    graph = ox.load_graphml(path)
    # GraphML stores graph attributes as strings.
    if str(graph.graph.get("maillage_buffer_m")) != f"{buffer_m:g}":
        say(f"cache {path} construit avec une autre marge : il est reconstruit.")
        return None
    say(f"lecture du cache {path} ({graph.number_of_nodes()} nœuds)")
    return graph


def _write_cache(graph: nx.MultiDiGraph, path: Path, *, buffer_m: float, say: Progress) -> None:
    graph.graph["maillage_buffer_m"] = f"{buffer_m:g}"
    path.parent.mkdir(parents=True, exist_ok=True)
    ox.save_graphml(graph, path)
    say(f"réseau mis en cache : {path}")


def download_road_network(territory_wgs84: Polygon | MultiPolygon, *, dept: str,
                          buffer_m: float = DEFAULT_BUFFER_M, cache: bool = True,
                          progress: Progress | None = _say,
                          overpass_url: str | None = None) -> nx.MultiDiGraph:
    """Download the drivable OSM graph inside ``territory_wgs84`` (already buffered).

    ``buffer_m`` only labels the cache. Needs network access to the Overpass API:
    ``overpass_url`` (default: osmnx's ``settings.overpass_url``, the public service).
    Only the prepared graph is cached (by this module, once the download is complete):
    osmnx's own HTTP cache is off, so that a cached answer can never hide the date of
    the data, nor be left behind by a failed download.
    """
    progress = progress or _quiet
    path = cache_path(dept=dept, source="osm")
    if cache and (graph := _read_cache(path, buffer_m=buffer_m, say=progress)) is not None:
        return graph
    endpoint = (overpass_url or str(ox.settings.overpass_url)).rstrip("/")
    progress(f"téléchargement OpenStreetMap ({endpoint}), cela peut prendre plusieurs "
             "minutes…")
    answer: dict[str, str] = {}
    try:
        with _overpass_session(endpoint, answer):
            graph = ox.graph_from_polygon(territory_wgs84, network_type="drive",
                                          simplify=False)
    except MaillageError:
        raise
    except Exception as exc:  # requests/osmnx raise many exception types when offline
        raise MaillageError(
            f"Téléchargement OpenStreetMap impossible depuis l'API Overpass « {endpoint} » "
            f"({_reason(exc)}). Rien n'a été mis en cache. Hors ligne, donnez un fichier "
            f".osm.pbf (extrait Geofabrik) avec --roads. {FALLBACK_HINT}") from exc
    graph = prepare_graph(_simplify(graph), progress=progress)
    graph.graph["maillage_source"] = f"API Overpass {endpoint}"
    graph.graph["maillage_osm_date"] = answer.get("date") or dt.date.today().isoformat()
    if cache:
        _write_cache(graph, path, buffer_m=buffer_m, say=progress)
    return graph


def _reason(exc: BaseException) -> str:
    """Short French reason of a download failure."""
    import requests

    if isinstance(exc, requests.Timeout):
        return f"pas de réponse dans le délai de {ox.settings.requests_timeout} s"
    if isinstance(exc, requests.ConnectionError):
        return "serveur injoignable (pas de connexion réseau ?)"
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
    return f"{exc.__class__.__name__} : {text[:300]}"


@contextmanager
def _overpass_session(endpoint: str, answer: dict[str, str]) -> Iterator[None]:
    """osmnx settings for one download: endpoint, no HTTP cache, answer checks.

    A ``requests`` response hook reads each Overpass answer: a malformed JSON body or a
    ``remark`` (the server stopped the query: partial data) raises a French error before
    osmnx can build or cache anything; the data timestamp (``osm3s.timestamp_osm_base``)
    is recorded in ``answer["date"]``.
    """
    def check(response: Any, *_args: Any, **_kwargs: Any) -> Any:
        if not response.url.rstrip("/").endswith("/interpreter"):
            return response
        if not response.ok:  # osmnx would retry 429/504 forever, and cache nothing anyway
            raise MaillageError(
                f"L'API Overpass « {endpoint} » a répondu HTTP {response.status_code} "
                f"{response.reason or ''}".rstrip() + ". Rien n'a été mis en cache. Réessayez "
                f"plus tard ou donnez un fichier .osm.pbf avec --roads. {FALLBACK_HINT}")
        try:
            body = json.loads(response.content)
        except ValueError as exc:
            raise MaillageError(
                f"L'API Overpass « {endpoint} » a renvoyé une réponse qui n'est pas du JSON "
                f"valide ({exc}). Rien n'a été mis en cache. {FALLBACK_HINT}") from exc
        if not isinstance(body, dict) or not isinstance(body.get("elements"), list):
            raise MaillageError(f"L'API Overpass « {endpoint} » a renvoyé un JSON sans liste "
                                f"« elements ». Rien n'a été mis en cache. {FALLBACK_HINT}")
        if body.get("remark"):
            raise MaillageError(
                f"L'API Overpass « {endpoint} » a interrompu la requête : "
                f"« {str(body['remark'])[:300]} » (données partielles refusées). Rien n'a été "
                f"mis en cache. Réessayez plus tard. {FALLBACK_HINT}")
        stamp = str((body.get("osm3s") or {}).get("timestamp_osm_base") or "")
        if stamp[:10] and (not answer.get("date") or stamp[:10] < answer["date"]):
            answer["date"] = stamp[:10]
        return response

    saved = (ox.settings.overpass_url, ox.settings.use_cache, ox.settings.requests_kwargs)
    ox.settings.overpass_url = endpoint
    ox.settings.use_cache = False
    kwargs = dict(ox.settings.requests_kwargs)
    kwargs["hooks"] = {"response": [check]}
    ox.settings.requests_kwargs = kwargs
    try:
        yield
    finally:
        ox.settings.overpass_url, ox.settings.use_cache, ox.settings.requests_kwargs = saved


def load_road_file(path: Path, *, dept: str | None = None,
                   territory: Polygon | MultiPolygon | None = None,
                   buffer_m: float = DEFAULT_BUFFER_M, cache: bool = True,
                   progress: Progress | None = _say) -> nx.MultiDiGraph:
    """Prepared graph from a ``.graphml``, ``.osm`` or ``.osm.pbf`` file.

    ``territory`` (WGS84, already buffered) clips the graph; ``None`` keeps it whole.
    OSM files are cached under ``<dept>-<file name>-<content hash>.graphml``; a file that
    cannot be read, or holds no drivable road, raises a French :class:`MaillageError`
    naming the file, and nothing is cached.
    """
    progress = progress or _quiet
    path = Path(path)
    if not path.is_file():
        raise MaillageError(f"Réseau routier introuvable : « {path} ». {FALLBACK_HINT}")
    name = path.name.lower()
    if name.endswith(".graphml"):
        progress(f"lecture de {path}…")
        try:
            graph = ox.load_graphml(path)
        except Exception as exc:  # malformed XML or attributes: many exception types
            raise MaillageError(f"« {path} » : GraphML illisible ({exc}). "
                                f"{FALLBACK_HINT}") from exc
        if territory is not None:
            graph = ox.truncate.truncate_graph_polygon(graph, territory)
        elif graph.graph.get("maillage_prepared") and all(
                "travel_time" in d for _, _, d in graph.edges(data=True)):
            return graph  # our own cache file: already prepared
        graph.graph.setdefault("maillage_source", path.name)
        return prepare_graph(graph, progress=progress)
    is_pbf = name.endswith(".pbf")
    if not (is_pbf or name.endswith((".osm", ".xml"))):
        raise MaillageError(f"« {path} » : format de réseau inconnu (attendu : .graphml, .osm "
                            f"ou .osm.pbf). {FALLBACK_HINT}")
    stem = path.name.split(".")[0]
    cached = cache_path(dept=dept or "fichier", source=f"{stem}-{_digest(path, territory)}")
    if cache and (graph := _read_cache(cached, buffer_m=buffer_m, say=progress)) is not None:
        return graph
    try:
        if is_pbf:
            graph, day = _graph_from_pbf(path, territory=territory, progress=progress)
        else:
            progress(f"lecture de {path}…")
            graph, day = _graph_from_xml(path, progress=progress), _xml_date(path)
        graph = drivable_only(graph, territory=territory, progress=progress)
        graph = prepare_graph(graph, progress=progress)
    except MaillageError as exc:
        raise MaillageError(f"« {path.name} » : {exc} Rien n'a été mis en cache. "
                            f"{FALLBACK_HINT}") from exc
    graph.graph["maillage_source"] = path.name
    if day:
        graph.graph["maillage_osm_date"] = day
    if cache:
        _write_cache(graph, cached, buffer_m=buffer_m, say=progress)
    return graph


def _digest(path: Path, territory: BaseGeometry | None) -> str:
    h = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    if territory is not None:
        h.update(shapely.to_wkb(territory))
    return h.hexdigest()[:16]


@contextmanager
def _way_tags(*extra: str) -> Iterator[None]:
    saved = list(ox.settings.useful_tags_way)
    ox.settings.useful_tags_way = saved + [t for t in extra if t not in saved]
    try:
        yield
    finally:
        ox.settings.useful_tags_way = saved


def split_incomplete_ways(refs: list[int], present: set[int] | dict[int, Any]) -> list[list[int]]:
    """Runs of a way's node references whose nodes are all in ``present``.

    A regional extract cut at a bounding box (e.g. a BBBike extract) keeps the ways that
    cross its border but not their outer nodes. Joining the remaining nodes would invent
    straight roads between non-adjacent points, so the way is cut at each missing node;
    runs of fewer than two nodes are dropped.
    """
    runs: list[list[int]] = []
    current: list[int] = []
    for ref in refs:
        if ref in present:
            current.append(ref)
            continue
        if len(current) >= 2:
            runs.append(current)
        current = []
    if len(current) >= 2:
        runs.append(current)
    return runs


def _complete_ways_xml(path: Path, out: Path) -> tuple[int, int]:
    """Copy an OSM XML file, cutting ways at references to nodes it does not hold.

    Parts after the first get negative ids (``-(way id × 1000 + part)``), which no
    OpenStreetMap object has. Returns the number of missing references and of ways; the
    copy is written only when references are missing.
    """
    try:
        # defusedxml: a user's file may carry entity bombs or external entities.
        root = safe_xml.parse(path).getroot()
    except (ElementTree.ParseError, DefusedXmlException, OSError) as exc:
        raise MaillageError(f"fichier OSM illisible ({exc}).") from exc
    present = {int(n.get("id", "0")) for n in root.iter("node")}
    missing = ways = 0
    children: list[ElementTree.Element] = []
    for child in root:
        if child.tag != "way":
            children.append(child)
            continue
        ways += 1
        refs = [int(nd.get("ref", "0")) for nd in child.findall("nd")]
        lost = sum(1 for r in refs if r not in present)
        if not lost:
            children.append(child)
            continue
        missing += lost
        tags = child.findall("tag")
        way_id = int(child.get("id", "0"))
        for part, run in enumerate(split_incomplete_ways(refs, present)):
            piece = ElementTree.Element("way", dict(child.attrib))
            piece.set("id", str(way_id if part == 0 else -(abs(way_id) * 1000 + part)))
            for ref in run:
                ElementTree.SubElement(piece, "nd", {"ref": str(ref)})
            piece.extend(tags)
            children.append(piece)
    if missing:
        root[:] = children
        ElementTree.ElementTree(root).write(out, encoding="utf-8", xml_declaration=True)
    return missing, ways


def _graph_from_xml(path: Path, *, progress: Progress = _say) -> nx.MultiDiGraph:
    # Unsimplified and complete: the drive filter must see one OSM way per edge.
    with tempfile.TemporaryDirectory() as tmp:
        complete = Path(tmp) / "complete.osm"
        missing, ways = _complete_ways_xml(path, complete)
        if not ways:
            raise MaillageError("le fichier ne contient aucune voie (way) OpenStreetMap.")
        if missing:
            progress(f"{missing} références à des nœuds absents de l'extrait (découpé) : "
                     "les voies concernées sont coupées à ces nœuds.")
        with _way_tags(*_EXTRA_WAY_TAGS):
            try:
                return ox.graph_from_xml(complete if missing else path, simplify=False,
                                         retain_all=True)
            except Exception as exc:  # osmnx errors on malformed files
                raise MaillageError(f"fichier OSM illisible ({exc}).") from exc


def _xml_date(path: Path) -> str:
    """Date (ISO) of the newest object of an OSM XML file, ``""`` when none is dated."""
    newest = ""
    try:
        for _event, elem in safe_xml.iterparse(path):
            stamp = elem.get("timestamp") or ""
            newest = max(newest, stamp[:10])
            elem.clear()
    except (ElementTree.ParseError, DefusedXmlException, OSError):
        return ""
    return newest


def _is_drivable(data: dict[str, Any]) -> bool:
    highway = data.get("highway")
    if not isinstance(highway, str) or highway in NOT_DRIVABLE_HIGHWAYS:
        return False
    if data.get("area") == "yes":
        return False
    cars = {str(data.get("motor_vehicle", "")), str(data.get("motorcar", ""))}
    if "no" in cars:
        return False
    access = str(data.get("access", ""))
    allowed = bool(cars & {"yes", "destination", "permissive"})
    return not (("private" in access or access == "no") and not allowed)


def drivable_only(graph: nx.MultiDiGraph, *, territory: Polygon | MultiPolygon | None = None,
                  progress: Progress = _say) -> nx.MultiDiGraph:
    """Keep the ways a car may use (osmnx's ``"drive"`` filter), clip, then simplify.

    ``graph`` must be unsimplified (one OSM way per edge), as read from a local file.
    """
    drop = [(u, v, k) for u, v, k, d in graph.edges(keys=True, data=True) if not _is_drivable(d)]
    graph.remove_edges_from(drop)
    graph.remove_nodes_from([n for n, deg in graph.degree() if deg == 0])
    progress(f"{len(drop)} tronçons non carrossables écartés.")
    if territory is not None and graph.number_of_nodes():
        graph = ox.truncate.truncate_graph_polygon(graph, territory)
    if graph.number_of_edges() == 0:
        raise MaillageError("le fichier ne contient aucune route carrossable dans le territoire.")
    return _simplify(graph)


def _simplify(graph: nx.MultiDiGraph) -> nx.MultiDiGraph:
    # Ways of different class or limit stay separate edges, so that each keeps its speed
    # (osmnx would otherwise merge them and keep the first class for the whole edge).
    return ox.simplify_graph(graph, edge_attrs_differ=list(_SPEED_TAGS))


def prepare_graph(graph: nx.MultiDiGraph, *, progress: Progress = _say) -> nx.MultiDiGraph:
    """Speeds, travel times (s), largest strongly connected component."""
    if graph.number_of_edges() == 0:
        raise MaillageError("Le réseau routier ne contient aucun tronçon.")
    progress(f"{graph.number_of_nodes()} nœuds, {graph.number_of_edges()} tronçons : "
             "vitesses et temps de parcours…")
    graph = ox.add_edge_speeds(graph, hwy_speeds=FRENCH_DEFAULT_SPEEDS, fallback=FALLBACK_SPEED)
    graph = ox.add_edge_travel_times(graph)
    before = graph.number_of_nodes()
    graph = ox.truncate.largest_component(graph, strongly=True)
    progress(f"plus grande composante fortement connexe : {graph.number_of_nodes()} nœuds "
             f"sur {before}.")
    graph.graph["maillage_prepared"] = "1"
    return graph


def _graph_from_pbf(path: Path, *, territory: BaseGeometry | None,
                    progress: Progress) -> tuple[nx.MultiDiGraph, str]:
    """Drivable candidates of a ``.osm.pbf`` through osmium-tool, and the extract's date."""
    osmium = shutil.which("osmium")
    if osmium is None:
        raise MaillageError(
            "lire un .osm.pbf demande l'outil osmium, absent de cette machine : "
            "installez le paquet Debian « osmium-tool » (apt-get install osmium-tool) ou "
            "convertissez le fichier en .osm.")
    with tempfile.TemporaryDirectory() as tmp:
        source = path
        day = _pbf_date(osmium, path)
        if territory is not None:
            minx, miny, maxx, maxy = territory.bounds
            clipped = Path(tmp) / "territory.osm.pbf"
            progress(f"découpage de {path.name} au territoire par osmium…")
            _run([osmium, "extract", "-b", f"{minx},{miny},{maxx},{maxy}", str(path),
                  "-o", str(clipped), "--overwrite"])
            source = clipped
        xml = Path(tmp) / "roads.osm"
        progress(f"extraction des routes de {path.name} par osmium…")
        # tags-filter keeps the nodes referenced by the kept ways.
        _run([osmium, "tags-filter", str(source), "w/highway", "-o", str(xml), "-f", "osm",
              "--overwrite"])
        progress("lecture du XML…")
        return _graph_from_xml(xml, progress=progress), day


def _pbf_date(osmium: str, path: Path) -> str:
    """Date (ISO) of a PBF extract: its header's replication timestamp (Geofabrik sets
    it), else the timestamp of its newest object; ``""`` when neither is known."""
    for command, keys in (([osmium, "fileinfo", "-j", str(path)],
                           ("header", "option", "osmosis_replication_timestamp")),
                          ([osmium, "fileinfo", "-e", "-j", str(path)],
                           ("data", "timestamp", "last"))):
        # An argument list (no shell); the path is one argument.
        done = subprocess.run(command, capture_output=True, text=True)  # noqa: S603
        if done.returncode:
            return ""
        try:
            value: Any = json.loads(done.stdout)
            for key in keys:
                value = value[key]
        except (ValueError, KeyError, TypeError):
            continue
        if str(value)[:10]:
            return str(value)[:10]
    return ""


def _run(command: list[str]) -> None:
    try:
        # An argument list (no shell): the path is one argument, never parsed by a shell.
        subprocess.run(command, check=True, capture_output=True, text=True)  # noqa: S603
    except subprocess.CalledProcessError as exc:
        detail = (exc.stderr or "").strip().splitlines()
        raise MaillageError("osmium n'a pas pu lire le fichier (fichier .osm.pbf tronqué ou "
                            f"corrompu ?) : {detail[-1] if detail else exc}.") from exc
