"""Travel-time engine: equal to networkx, snapping, unreachable pairs, labels."""

from __future__ import annotations

from pathlib import Path

import networkx as nx
import numpy as np
import osmnx as ox
import pytest

from geo.crs import transform_xy
from geo.speeds import FALLBACK_SPEED, FRENCH_DEFAULT_SPEEDS
from geo.traveltime import MODE_LABELS, SNAP_WARNING_M, TravelTimeEngine

LAFFITTE = "TEST_FIXTURE_osmnx_maisons-laffitte_78.graphml"


@pytest.fixture(scope="module")
def laffitte(shared_data: Path) -> nx.MultiDiGraph:
    """The real OSM graph, prepared as the brief says: raw GraphML + speeds + times."""
    graph = ox.load_graphml(shared_data / "roads" / LAFFITTE)
    graph = ox.add_edge_speeds(graph, hwy_speeds=FRENCH_DEFAULT_SPEEDS, fallback=FALLBACK_SPEED)
    return ox.add_edge_travel_times(graph)


def _reference(graph: nx.MultiDiGraph, source: object, nodes: list) -> np.ndarray:
    # networkx takes the minimum over parallel edges of a MultiDiGraph itself.
    ref = nx.single_source_dijkstra_path_length(graph, source, weight="travel_time")
    return np.array([ref.get(n, np.inf) for n in nodes])


def test_engine_equals_networkx_on_real_osm_graph(laffitte: nx.MultiDiGraph) -> None:
    # Not cut to its largest component: unreachable pairs must be inf in both.
    engine = TravelTimeEngine.from_graph(laffitte)
    nodes = list(engine.node_ids)
    assert any(len(laffitte[u][v]) > 1 for u, v in laffitte.edges())  # parallel edges exist
    sources = np.arange(0, len(nodes), 23)
    seconds = engine.node_matrix(sources, np.arange(len(nodes)))
    for row, s in enumerate(sources):
        expected = _reference(laffitte, nodes[s], nodes)
        np.testing.assert_allclose(seconds[row], expected, atol=1e-6, rtol=0)
        assert np.array_equal(np.isinf(seconds[row]), np.isinf(expected))
    assert np.isinf(seconds).any() and np.isfinite(seconds).sum() > len(sources) * 100


def _random_graph(seed: int, *, n: int = 300, m: int = 1000) -> nx.MultiDiGraph:
    rng = np.random.default_rng(seed)
    graph = nx.MultiDiGraph(crs="EPSG:2154")
    for i in range(n):
        graph.add_node(f"n{i}", x=float(rng.uniform(700_000, 760_000)),
                       y=float(rng.uniform(6_400_000, 6_460_000)))
    for _ in range(m):
        u, v = (int(x) for x in rng.integers(0, n, 2))
        # Some zero-time edges (csgraph must not drop them) and many parallel edges.
        w = 0.0 if rng.random() < 0.05 else float(rng.uniform(1, 600))
        graph.add_edge(f"n{u}", f"n{v}", travel_time=w)
        if rng.random() < 0.2:
            graph.add_edge(f"n{u}", f"n{v}", travel_time=float(rng.uniform(0, 900)))
    return graph


@pytest.mark.parametrize("seed", [1, 2, 3, 4])
def test_engine_equals_networkx_on_random_graphs(seed: int) -> None:
    graph = _random_graph(seed)
    engine = TravelTimeEngine.from_graph(graph)
    nodes = list(engine.node_ids)
    sources = np.arange(0, len(nodes), 7)
    seconds = engine.node_matrix(sources, np.arange(len(nodes)))
    for row, s in enumerate(sources):
        expected = _reference(graph, nodes[s], nodes)
        np.testing.assert_allclose(seconds[row], expected, atol=1e-6, rtol=0)
        assert np.array_equal(np.isinf(seconds[row]), np.isinf(expected))


def test_node_matrix_keeps_order_duplicates_and_blocks() -> None:
    graph = _random_graph(5, n=200, m=900)
    engine = TravelTimeEngine.from_graph(graph)
    # More than one block of sources, unsorted and repeated.
    sources = np.array(list(range(199, -1, -1)) + [3, 3, 150])
    targets = np.array([5, 0, 5, 42])
    seconds = engine.node_matrix(sources, targets)
    nodes = list(engine.node_ids)
    for row, s in enumerate(sources):
        np.testing.assert_allclose(seconds[row], _reference(graph, nodes[s], nodes)[targets],
                                   atol=1e-6, rtol=0)


def test_unreachable_pairs_are_inf_and_direction_matters() -> None:
    graph = nx.MultiDiGraph(crs="EPSG:2154")
    for i, x in enumerate([0.0, 1000.0, 2000.0, 50_000.0]):
        graph.add_node(i, x=700_000 + x, y=6_500_000.0)
    graph.add_edge(0, 1, travel_time=60.0)  # one-way 0 → 1 → 2
    graph.add_edge(1, 2, travel_time=120.0)
    graph.add_edge(1, 2, travel_time=90.0)  # faster parallel edge
    engine = TravelTimeEngine.from_graph(graph)
    xy = np.column_stack([engine.node_x, engine.node_y])
    m = engine.matrix(xy, xy)
    np.testing.assert_allclose(m.minutes[0], [0.0, 1.0, 2.5, np.inf])
    assert np.isinf(m.minutes[2, 0]) and np.isinf(m.minutes[1, 0])  # against the one-way
    assert np.isinf(m.minutes[3, :3]).all() and m.minutes[3, 3] == 0.0  # isolated node
    assert m.mode == "osm" and m.label == MODE_LABELS["osm"] == "temps routiers OpenStreetMap"
    assert engine.node_matrix([0], [2], limit=100.0)[0, 0] == np.inf  # beyond the limit


def test_snapping_in_lambert93_and_wgs84_flags_far_points(laffitte: nx.MultiDiGraph) -> None:
    engine = TravelTimeEngine.from_graph(laffitte)
    node = engine.node_ids[10]
    lon, lat = laffitte.nodes[node]["x"], laffitte.nodes[node]["y"]
    lx, ly = (float(c) for c in transform_xy(lon, lat, source="EPSG:4326", target="EPSG:2154"))
    # The nearest node of a point 3 m east is at most 3 m away; 5 km east is beyond 2 km.
    m = engine.matrix(np.array([[lx, ly], [lx, ly + 4000.0]]),
                      np.array([[lx + 3.0, ly], [lx + 5000.0, ly]]))
    assert m.origin_snap_m[0] == pytest.approx(0.0, abs=0.01)
    assert m.destination_snap_m[0] <= 3.0 + 1e-6
    assert m.destination_snap_m[1] > SNAP_WARNING_M
    assert list(m.far_from_road()) == [1]
    assert list(m.far_origins()) == [1] and m.origin_snap_m[1] > SNAP_WARNING_M
    assert m.minutes[0, 0] < 1.0
    # Same points in WGS84 give the same snapping and times.
    wx, wy = transform_xy(np.array([lx, lx]), np.array([ly, ly + 4000.0]), source="EPSG:2154",
                          target="EPSG:4326")
    dx, dy = transform_xy(np.array([lx + 3.0, lx + 5000.0]), np.array([ly, ly]),
                          source="EPSG:2154", target="EPSG:4326")
    w = engine.matrix(np.column_stack([wx, wy]), np.column_stack([dx, dy]), crs="EPSG:4326")
    np.testing.assert_allclose(w.minutes, m.minutes, atol=1e-9)
    np.testing.assert_allclose(w.destination_snap_m, m.destination_snap_m, atol=1e-3)


# -- many-to-many engine: contraction hierarchy + RPHAST sweep (geo/manytomany.py) ------

@pytest.fixture()
def var_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    from geo import settings

    monkeypatch.setattr(settings, "VAR_DIR", tmp_path / "var")
    return tmp_path / "var"


def _assert_same_times(got: np.ndarray, want: np.ndarray, *, atol: float) -> None:
    assert got.shape == want.shape
    assert np.array_equal(np.isinf(got), np.isinf(want))
    finite = np.isfinite(want)
    assert np.abs(got[finite] - want[finite]).max(initial=0.0) <= atol


def test_hierarchy_equals_dijkstra_on_the_real_helsinki_graph(var_dir: Path) -> None:
    from geo.network import load_road_file
    from tests.overpass_standin import helsinki_pbf

    graph = load_road_file(helsinki_pbf(), dept="hel", progress=None)
    engine = TravelTimeEngine.from_graph(graph, metric_crs="EPSG:3067")
    rows = np.arange(engine.n_nodes)
    dijkstra = engine.node_matrix(rows, rows, method="dijkstra")
    hierarchy = engine.node_matrix(rows, rows, method="ch")
    # Target: within 1 s; the integer weights (1/10,000 s) keep it far below.
    _assert_same_times(hierarchy, dijkstra, atol=0.01)
    assert np.isfinite(hierarchy).all() and hierarchy.max() > 60
    # Cached per graph under var/cache/roads/ch and reused by a new engine (new process).
    [cached] = list((var_dir / "cache" / "roads" / "ch").glob("*.npz"))
    fresh = TravelTimeEngine.from_graph(graph, metric_crs="EPSG:3067")
    again = fresh.hierarchy()
    assert fresh._hierarchy is again and cached.is_file()
    _assert_same_times(fresh.node_matrix(rows[:5], rows, method="ch"), dijkstra[:5], atol=0.01)


@pytest.mark.parametrize("seed", [1, 2, 3, 4])
def test_hierarchy_equals_dijkstra_on_random_graphs(seed: int, var_dir: Path) -> None:
    # Zero-time edges, parallel edges, unreachable pairs, duplicate sources and targets.
    graph = _random_graph(seed, n=400, m=1100)
    engine = TravelTimeEngine.from_graph(graph)
    rng = np.random.default_rng(seed)
    # Every node as a source (more than one sweep block of 256), and duplicates.
    sources = np.concatenate([np.arange(engine.n_nodes), rng.integers(0, engine.n_nodes, 90)])
    targets = np.concatenate([rng.integers(0, engine.n_nodes, 70), sources[:5]])
    want = engine.node_matrix(sources, targets, method="dijkstra")
    got = engine.node_matrix(sources, targets, method="ch")
    _assert_same_times(got, want, atol=0.01)
    assert np.isinf(want).any() and (want == 0).any()
    limited = engine.node_matrix(sources, targets, method="ch", limit=600.0)
    _assert_same_times(limited, np.where(want <= 600.0, want, np.inf), atol=0.01)


def test_auto_method_keeps_dijkstra_on_small_graphs(var_dir: Path) -> None:
    from geo.traveltime import CH_MIN_NODES

    graph = _random_graph(7, n=300, m=900)
    engine = TravelTimeEngine.from_graph(graph)
    assert engine.n_nodes < CH_MIN_NODES
    rows = np.arange(engine.n_nodes)
    engine.node_matrix(rows, rows)
    assert engine._hierarchy is None and not (var_dir / "cache").exists()
    with pytest.raises(ValueError, match="method"):
        engine.node_matrix(rows, rows, method="pandana")


def test_damaged_hierarchy_cache_is_rebuilt(var_dir: Path) -> None:
    graph = _random_graph(8, n=200, m=700)
    engine = TravelTimeEngine.from_graph(graph)
    rows = np.arange(engine.n_nodes)
    want = engine.node_matrix(rows, rows, method="ch")
    [cached] = list((var_dir / "cache" / "roads" / "ch").glob("*.npz"))
    cached.write_bytes(b"not an npz file")
    fresh = TravelTimeEngine.from_graph(graph)
    _assert_same_times(fresh.node_matrix(rows, rows, method="ch"), want, atol=0.0)
    assert cached.stat().st_size > 100
