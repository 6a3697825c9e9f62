"""Road network loading: OSM XML drive filter, French speeds, cache, PBF, errors."""

from __future__ import annotations

from pathlib import Path

import networkx as nx
import osmnx as ox
import pytest
import shapely

import geo.network as network
from geo import settings
from geo.errors import MaillageError
from geo.network import cache_path, load_road_file, load_road_network
from geo.speeds import FRENCH_DEFAULT_SPEEDS, NOT_DRIVABLE_HIGHWAYS

LON0, LAT0, STEP = 3.88, 45.04, 0.01  # Le Puy-en-Velay, about 790 m × 1110 m per step

# node id -> (column, row)
NODES = {1: (0, 0), 2: (1, 0), 3: (2, 0), 4: (2, 1), 5: (1, 1), 6: (0, 1),
         7: (3, 0), 8: (3, 1), 20: (9, 9), 21: (10, 9)}
# way id -> (node ids, tags)
WAYS: dict[int, tuple[list[int], dict[str, str]]] = {
    100: ([1, 2, 3], {"highway": "primary"}),                          # no maxspeed: 80
    101: ([3, 4, 5, 6, 1], {"highway": "residential", "maxspeed": "30"}),
    102: ([2, 5], {"highway": "secondary", "maxspeed": "FR:urban"}),  # implicit 50
    103: ([3, 7], {"highway": "footway"}),
    104: ([4, 8], {"highway": "residential", "access": "private"}),
    105: ([7, 8], {"highway": "track"}),
    106: ([5, 2], {"highway": "unclassified", "motor_vehicle": "no"}),
    107: ([20, 21], {"highway": "tertiary"}),                          # island: dropped
    108: ([6, 5], {"highway": "living_street", "oneway": "yes"}),
}


def _osm_xml() -> str:
    lines = ['<?xml version="1.0" encoding="UTF-8"?>', '<osm version="0.6" generator="test">']
    for nid, (c, r) in NODES.items():
        lines.append(f'  <node id="{nid}" version="1" lat="{LAT0 + r * STEP}" '
                     f'lon="{LON0 + c * STEP}"/>')
    for wid, (refs, tags) in WAYS.items():
        lines.append(f'  <way id="{wid}" version="1">')
        lines += [f'    <nd ref="{n}"/>' for n in refs]
        lines += [f'    <tag k="{k}" v="{v}"/>' for k, v in tags.items()]
        lines.append("  </way>")
    lines.append("</osm>")
    return "\n".join(lines)


@pytest.fixture()
def osm_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setattr(settings, "VAR_DIR", tmp_path / "var")
    path = tmp_path / "petit.osm"
    path.write_text(_osm_xml(), encoding="utf-8")
    return path


def _ways(graph: nx.MultiDiGraph) -> set[int]:
    out: set[int] = set()
    for _, _, d in graph.edges(data=True):
        osmid = d["osmid"]
        out.update(osmid if isinstance(osmid, list) else [osmid])
    return out


def test_osm_xml_keeps_drivable_roads_with_french_speeds(osm_file: Path) -> None:
    messages: list[str] = []
    graph = load_road_network(dept="43", source=osm_file, progress=messages.append)
    assert _ways(graph) == {100, 101, 102, 108}
    assert not (set(graph.nodes) & {7, 8, 20, 21})  # footway/track/private/island gone
    assert nx.is_strongly_connected(graph)
    for _, _, d in graph.edges(data=True):
        expected = {"primary": 80.0, "residential": 30.0, "secondary": 50.0,
                    "living_street": FRENCH_DEFAULT_SPEEDS["living_street"]}[d["highway"]]
        assert d["speed_kph"] == pytest.approx(expected)
        assert d["travel_time"] == pytest.approx(d["length"] / (expected / 3.6), rel=1e-3)
    assert graph.has_edge(6, 5) and not any(  # one-way living street
        d["osmid"] == 108 for _, _, d in graph.edges(5, data=True))
    assert any("non carrossables" in m for m in messages)
    assert any("composante" in m for m in messages)


def test_osm_cache_is_written_and_reused(osm_file: Path, monkeypatch) -> None:
    first = load_road_network(dept="43", source=osm_file, progress=None)
    cached = list((settings.VAR_DIR / "cache" / "roads").glob("43-petit-*.graphml"))
    assert len(cached) == 1

    def refuse(*_a, **_k):
        raise AssertionError("the cache should have been read")

    monkeypatch.setattr(ox, "graph_from_xml", refuse)
    again = load_road_network(dept="43", source=osm_file, progress=None)
    assert sorted(again.nodes) == sorted(first.nodes)
    times = sorted(d["travel_time"] for _, _, d in first.edges(data=True))
    assert sorted(d["travel_time"] for _, _, d in again.edges(data=True)) == pytest.approx(times)
    # Another buffer is another network: rebuilt, not read from the stale cache.
    monkeypatch.undo()
    monkeypatch.setattr(settings, "VAR_DIR", cached[0].parents[2])
    messages: list[str] = []
    load_road_network(dept="43", source=osm_file, buffer_m=5_000, progress=messages.append)
    assert any("autre marge" in m for m in messages)


def test_territory_clips_the_graph(osm_file: Path) -> None:
    # Polygon around nodes 1, 2, 5, 6 only (lon 3.88–3.89): node 3 and 4 fall outside.
    polygon = shapely.box(LON0 - 0.001, LAT0 - 0.001, LON0 + STEP + 0.001, LAT0 + STEP + 0.001)
    graph = load_road_network(dept="43", source=osm_file, polygon=polygon,
                              polygon_crs="EPSG:4326", buffer_m=0, cache=False, progress=None)
    assert set(graph.nodes) <= {1, 2, 5, 6}
    assert nx.is_strongly_connected(graph) and graph.number_of_edges() > 0


def test_graphml_round_trip_through_cache_path(osm_file: Path) -> None:
    graph = load_road_network(dept="43", source=osm_file, progress=None)
    path = cache_path(dept="43", source="copie")
    ox.save_graphml(graph, path)
    again = load_road_file(path, progress=lambda _m: None)
    assert again.number_of_edges() == graph.number_of_edges()
    assert all("travel_time" in d for _, _, d in again.edges(data=True))


def test_errors_are_french(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(MaillageError, match="introuvable"):
        load_road_network(dept="43", source=tmp_path / "absent.osm", progress=None)
    odd = tmp_path / "routes.shp"
    odd.write_bytes(b"x")
    with pytest.raises(MaillageError, match="format de réseau inconnu"):
        load_road_network(dept="43", source=odd, progress=None)
    pbf = tmp_path / "auvergne.osm.pbf"
    pbf.write_bytes(b"not a pbf")
    monkeypatch.setattr(network.shutil, "which", lambda _name: None)
    with pytest.raises(MaillageError, match="osmium-tool"):
        load_road_network(dept="43", source=pbf, cache=False, progress=None)


def test_drive_filter_matches_osmnx_exclusions() -> None:
    # The classes osmnx's "drive" Overpass filter excludes are excluded from local files too.
    from osmnx import _overpass

    drive = _overpass._get_network_filter("drive")
    excluded = drive.split('["highway"!~"')[1].split('"]')[0].split("|")
    assert set(excluded) <= NOT_DRIVABLE_HIGHWAYS


@pytest.mark.skipif(network.shutil.which("osmium") is None,
                    reason="osmium-tool absent (apt-get install osmium-tool)")
def test_pbf_through_osmium(osm_file: Path, tmp_path: Path) -> None:
    import subprocess

    pbf = tmp_path / "petit.osm.pbf"
    subprocess.run(["osmium", "cat", str(osm_file), "-o", str(pbf)], check=True)
    graph = load_road_network(dept="43", source=pbf, cache=False, progress=None)
    assert _ways(graph) == {100, 101, 102, 108}
