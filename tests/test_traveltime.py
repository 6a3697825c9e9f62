"""Travel times: compiled engine = networkx, isochrones, estimated mode, snapping."""

from __future__ import annotations

from pathlib import Path

import networkx as nx
import numpy as np
import pytest
import shapely

from coverage.drivetimes import plan_drive_times
from coverage.plan import Antenna, Plan
from geo.crs import transform_xy
from geo.estimated import estimated_matrix
from geo.isochrones import estimated_isochrones, network_isochrones, outside, union_by_threshold
from geo.network import load_road_file
from geo.traveltime import MODE_LABELS, TravelTimeEngine


@pytest.fixture(scope="module")
def laffitte(shared_data: Path) -> nx.MultiDiGraph:
    return load_road_file(shared_data / "roads" / "TEST_FIXTURE_osmnx_maisons-laffitte_78.graphml",
                          cache=False)


def _networkx_times(graph: nx.MultiDiGraph, source) -> dict:
    return nx.single_source_dijkstra_path_length(graph, source, weight="travel_time")


def test_engine_equals_networkx_on_real_osm_graph(laffitte: nx.MultiDiGraph) -> None:
    engine = TravelTimeEngine.from_graph(laffitte)
    nodes = list(engine.node_ids)
    sources = np.arange(0, len(nodes), 37)
    seconds = engine.node_matrix(sources, np.arange(len(nodes)))
    for row, s in enumerate(sources):
        ref = _networkx_times(laffitte, nodes[s])
        expected = np.array([ref.get(n, np.inf) for n in nodes])
        np.testing.assert_allclose(seconds[row], expected, atol=1e-6, rtol=0)
    assert np.isfinite(seconds).all()  # largest strongly connected component only


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_engine_equals_networkx_on_random_graphs(seed: int) -> None:
    rng = np.random.default_rng(seed)
    n = 300
    graph = nx.MultiDiGraph(crs="EPSG:2154")
    for i in range(n):
        graph.add_node(i, x=float(rng.uniform(700_000, 760_000)),
                       y=float(rng.uniform(6_400_000, 6_460_000)))
    for _ in range(1200):
        u, v = (int(x) for x in rng.integers(0, n, 2))
        if u != v:
            graph.add_edge(u, v, travel_time=float(rng.uniform(1, 600)))
    engine = TravelTimeEngine.from_graph(graph)
    seconds = engine.node_matrix(np.arange(0, n, 7), np.arange(n))
    for row, s in enumerate(range(0, n, 7)):
        ref = _networkx_times(graph, s)
        expected = np.array([ref.get(i, np.inf) for i in range(n)])
        np.testing.assert_allclose(seconds[row], expected, atol=1e-6, rtol=0)
        assert np.array_equal(np.isinf(seconds[row]), np.isinf(expected))  # unreachable = inf


def test_snapping_reports_distance_and_flags_far_points(laffitte: nx.MultiDiGraph) -> None:
    engine = TravelTimeEngine.from_graph(laffitte)
    node = engine.node_ids[10]
    x, y = laffitte.nodes[node]["x"], laffitte.nodes[node]["y"]
    lx, ly = transform_xy(x, y, source="EPSG:4326", target="EPSG:2154")
    far = (float(lx) + 5000.0, float(ly))
    matrix = engine.matrix(np.array([[float(lx), float(ly)]]),
                           np.array([[float(lx) + 3.0, float(ly)], far]))
    assert matrix.origin_snap_m[0] == pytest.approx(0.0, abs=0.01)
    assert matrix.destination_snap_m[1] > 2000
    assert list(matrix.far_from_road()) == [1]
    assert matrix.label == "temps routiers OpenStreetMap"


def test_isochrone_contains_reachable_nodes_and_not_farther_ones(laffitte) -> None:
    engine = TravelTimeEngine.from_graph(laffitte)
    origin = 0
    x0, y0 = engine.node_x[origin], engine.node_y[origin]
    threshold = 2.0
    iso = network_isochrones(laffitte, engine, {"A": (x0, y0)}, thresholds=[threshold],
                             buffer_m=50.0)
    polygon = iso.geometry.iloc[0]
    minutes = engine.node_matrix(np.array([origin]), np.arange(len(engine.node_ids)))[0] / 60
    points = shapely.points(engine.node_x, engine.node_y)
    inside = shapely.contains(polygon, points) | shapely.touches(polygon, points)
    assert inside[minutes <= threshold].all()
    # Nodes beyond the threshold *and* farther than the buffer from any reachable edge.
    far = (minutes > threshold) & (shapely.distance(polygon, points) > 0)
    assert far.any()
    distances = shapely.distance(shapely.buffer(polygon, -49.0), points[minutes > threshold * 1.5])
    assert (distances > 0).all()


def test_estimated_mode_arithmetic() -> None:
    matrix = estimated_matrix(np.array([[0.0, 0.0]]), np.array([[10_000.0, 0.0], [0, 30_000.0]]))
    np.testing.assert_allclose(matrix.minutes, [[13.0, 39.0]])  # 10 km × 1.3 at 60 km/h
    slow = estimated_matrix(np.array([[0.0, 0.0]]), np.array([[10_000.0, 0.0]]), detour=1.5,
                            speed_kmh=45.0)
    assert slow.minutes[0, 0] == pytest.approx(20.0)
    assert matrix.label == MODE_LABELS["estimated"] == "temps estimés à vol d'oiseau"
    disc = estimated_isochrones({"A": (0.0, 0.0)}, thresholds=[13.0]).geometry.iloc[0]
    assert disc.contains(shapely.Point(9_990, 0)) and not disc.contains(shapely.Point(10_100, 0))


def test_full_haute_loire_run_in_estimated_mode(communes_43) -> None:
    plan = Plan(name="x", dept="43", antennas=[
        Antenna("Velay", seat="43157"), Antenna("Lafayette", seat="43040")])
    codes = list(communes_43.index)
    plan.antennas[0].communes = codes[::2]
    plan.antennas[1].communes = codes[1::2]
    drive = plan_drive_times(plan, communes_43)
    assert len(drive.minutes) == 257
    assert all(np.isfinite(m) and m >= 0 for m in drive.minutes.values())
    assert drive.minutes["43157"] == 0.0
    iso = estimated_isochrones(drive.sites)
    union = union_by_threshold(iso)
    assert list(union["minutes"]) == [15.0, 30.0, 45.0]
    territory = shapely.union_all(communes_43.geometry.to_numpy())
    rest = outside(union.geometry.iloc[1], territory)
    assert 0 < rest.area < territory.area
