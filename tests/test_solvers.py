"""Solvers: each optimum equals a brute-force enumeration on small instances."""

from __future__ import annotations

from itertools import combinations

import numpy as np
import pytest

from coverage.solvers import LSCP, MCLP, CapacitatedPMedian, PMedian
from geo.errors import MaillageError


def instance(seed: int, n_clients: int = 8, n_sites: int = 6, unreachable: float = 0.15):
    rng = np.random.default_rng(seed)
    cost = rng.uniform(1, 60, size=(n_clients, n_sites))
    cost[rng.random(cost.shape) < unreachable] = np.inf
    cost[:, 0] = np.where(np.isfinite(cost[:, 0]), cost[:, 0], 55.0)  # every client reachable
    weights = rng.integers(10, 1000, size=n_clients).astype(float)
    return cost, weights


def brute_pmedian(cost, weights, k, fixed=(), max_minutes=None):
    allowed = np.where(np.isfinite(cost) & (cost <= (max_minutes or np.inf)), cost, np.inf)
    best = np.inf
    for sites in combinations(range(cost.shape[1]), k):
        if not set(fixed) <= set(sites):
            continue
        nearest = allowed[:, list(sites)].min(axis=1)
        if np.isfinite(nearest).all():
            best = min(best, float((weights * nearest).sum()))
    return best


@pytest.mark.parametrize("seed", range(6))
@pytest.mark.parametrize("k", [1, 2, 3])
def test_pmedian_equals_brute_force(seed: int, k: int) -> None:
    cost, weights = instance(seed)
    result = PMedian.from_cost_matrix(cost, weights=weights, k=k).solve()
    assert result.objective == pytest.approx(brute_pmedian(cost, weights, k), rel=1e-9)
    assert len(result.sites) == k
    assert (result.assignment >= 0).all()
    assert np.isfinite(cost[np.arange(len(cost)), result.assignment]).all()


def test_pmedian_fixed_sites_stay_open_and_max_minutes() -> None:
    cost, weights = instance(3)
    result = PMedian.from_cost_matrix(cost, weights=weights, k=2, fixed=[5]).solve()
    assert 5 in result.sites
    assert result.objective == pytest.approx(brute_pmedian(cost, weights, 2, fixed=[5]))
    limited = PMedian.from_cost_matrix(cost, weights=weights, k=3, max_minutes=56).solve()
    assert limited.objective == pytest.approx(brute_pmedian(cost, weights, 3, max_minutes=56))


def test_pmedian_unreachable_client_is_named() -> None:
    cost = np.array([[1.0, 2.0], [np.inf, np.inf], [3.0, 1.0]])
    with pytest.raises(MaillageError, match="Aucun site candidat accessible.*Brioude"):
        PMedian.from_cost_matrix(cost, weights=np.ones(3), k=1,
                                 client_labels=["a", "43040 Brioude", "c"]).solve()
    with pytest.raises(ValueError, match="NaN"):
        PMedian.from_cost_matrix(np.array([[np.nan]]), weights=np.ones(1), k=1)


@pytest.mark.parametrize("seed", range(4))
def test_capacitated_equals_brute_force(seed: int) -> None:
    cost, weights = instance(seed, n_clients=7, n_sites=5)
    demand = weights / weights.sum() * 600
    capacity = 250.0
    result = CapacitatedPMedian.from_cost_matrix(cost, weights=weights, demand=demand,
                                                 capacity=capacity, k=3).solve()
    best = np.inf
    n_clients = len(cost)
    for sites in combinations(range(cost.shape[1]), 3):
        # enumerate every single assignment of the clients to the open sites
        for choice in np.ndindex(*(3,) * n_clients):
            cols = np.array(sites)[list(choice)]
            t = cost[np.arange(n_clients), cols]
            if not np.isfinite(t).all():
                continue
            loads = np.bincount(list(choice), weights=demand, minlength=3)
            if (loads <= capacity + 1e-9).all():
                best = min(best, float((weights * t).sum()))
    assert result.objective == pytest.approx(best, rel=1e-9)
    loads = np.bincount(result.assignment, weights=demand, minlength=cost.shape[1])
    assert (loads <= capacity + 1e-6).all()


@pytest.mark.parametrize("seed", range(5))
def test_mclp_equals_brute_force(seed: int) -> None:
    cost, weights = instance(seed)
    threshold = 25.0
    result = MCLP.from_cost_matrix(cost, weights=weights, k=2, threshold=threshold).solve()
    best = max(float(weights[(cost[:, list(s)] <= threshold).any(axis=1)].sum())
               for s in combinations(range(cost.shape[1]), 2))
    assert result.objective == pytest.approx(best)
    fixed = MCLP.from_cost_matrix(cost, weights=weights, k=2, threshold=threshold,
                                  fixed=[4]).solve()
    assert 4 in fixed.sites


@pytest.mark.parametrize("seed", range(5))
def test_lscp_equals_brute_force(seed: int) -> None:
    cost, _ = instance(seed)
    threshold = 40.0
    covers = cost <= threshold
    if not covers.any(axis=1).all():
        pytest.skip("instance not coverable")
    best = next(k for k in range(1, cost.shape[1] + 1)
                if any(covers[:, list(s)].any(axis=1).all()
                       for s in combinations(range(cost.shape[1]), k)))
    result = LSCP.from_cost_matrix(cost, threshold=threshold).solve()
    assert len(result.sites) == best == result.objective
    assert covers[:, result.sites].any(axis=1).all()


def test_lscp_infeasible_names_the_communes() -> None:
    cost = np.array([[5.0, 50.0], [45.0, 50.0], [10.0, 3.0]])
    with pytest.raises(MaillageError) as info:
        LSCP.from_cost_matrix(cost, threshold=30, client_labels=["43001 Agnat", "43002 Aiguilhe",
                                                                  "43003 Allègre"]).solve()
    assert "43002 Aiguilhe" in str(info.value) and "Agnat" not in str(info.value)


# -- the fast exact p-median against the classical model and spopt --------------------

def geographic(seed: int, n: int):
    """Random points, straight-line costs, sometimes forbidden pairs (a clustered map)."""
    rng = np.random.default_rng(seed)
    centres = rng.uniform(0, 100, size=(4, 2))
    pts = centres[rng.integers(0, 4, size=n)] + rng.normal(0, 12, size=(n, 2))
    cost = np.hypot(*(pts[:, None, :] - pts[None, :, :]).transpose(2, 0, 1))
    if seed % 3 == 0:
        cost[rng.random(cost.shape) < 0.3] = np.inf
        np.fill_diagonal(cost, 0.0)
    weights = rng.integers(0, 5000, size=n).astype(float)
    return cost, weights


@pytest.mark.parametrize("seed", range(12))
def test_pmedian_equals_the_classical_model(seed: int) -> None:
    n = 20 + 5 * seed
    cost, weights = geographic(seed, n)
    rng = np.random.default_rng(100 + seed)
    k = int(rng.integers(1, 12))
    fixed = [int(rng.integers(0, n))] if seed % 4 == 0 else None
    finite = cost[np.isfinite(cost)]
    max_minutes = float(np.percentile(finite, 70)) if seed % 5 == 1 else None
    model = PMedian.from_cost_matrix(cost, weights=weights, k=k, fixed=fixed,
                                     max_minutes=max_minutes)
    classic = model.solve_classic()
    fast = model.solve()
    assert fast.status == "optimal" and fast.gap == 0.0
    assert fast.objective == pytest.approx(classic.objective, rel=1e-9, abs=1e-9)
    assert len(fast.sites) == k and set(fixed or []) <= set(fast.sites.tolist())
    # the objective is the true cost of the returned sites and assignment
    served = cost[np.arange(n), fast.assignment]
    assert np.isfinite(served).all() and set(fast.assignment.tolist()) <= set(fast.sites.tolist())
    assert fast.objective == pytest.approx(float((weights * served).sum()), rel=1e-12)
    if max_minutes is not None:
        assert (served <= max_minutes).all()


def test_pmedian_warm_start_gives_the_same_optimum() -> None:
    cost, weights = geographic(7, 80)
    previous = None
    for k in range(2, 9):
        model = PMedian.from_cost_matrix(cost, weights=weights, k=k)
        warm = model.solve(warm_start=previous)
        assert warm.objective == pytest.approx(model.solve().objective, rel=1e-9)
        previous = warm


def test_pmedian_time_limit_returns_a_solution_with_its_gap() -> None:
    cost, weights = geographic(4, 150)
    result = PMedian.from_cost_matrix(cost, weights=weights, k=7).solve(time_limit=1e-6)
    assert len(result.sites) == 7 and (result.assignment >= 0).all()
    assert result.bound <= result.objective + 1e-6
    if result.status != "optimal":  # never a silent approximation
        assert result.status.startswith("limite de temps atteinte") and result.gap > 0
        assert "%" in result.status or "inconnu" in result.status
    # The report never calls a time-limited solution an optimum.
    from coverage.propose import solve_note_fr

    note = solve_note_fr("pmedian", result, "temps estimés")
    assert ("optimum exact" in note) == result.optimal
    assert result.optimal or result.status in note


def test_pmedian_on_haute_loire_equals_the_classical_model(shared_data) -> None:
    from geo.communes import frame_from_source, read_communes_source
    from geo.estimated import estimated_matrix

    communes = frame_from_source(read_communes_source(shared_data / "communes", dept="43"))
    points = communes[["point_x", "point_y"]].to_numpy(dtype=float)
    cost = estimated_matrix(points, points).minutes
    weights = communes["population"].to_numpy(dtype=float)
    model = PMedian.from_cost_matrix(cost, weights=weights, k=5)
    fast, classic = model.solve(), model.solve_classic()
    assert fast.status == "optimal"
    assert fast.objective == pytest.approx(classic.objective, rel=1e-9)
    assert fast.objective == pytest.approx(2_541_009.6, abs=0.1)  # docs/benchmarks.md


@pytest.mark.filterwarnings("ignore::DeprecationWarning")  # PuLP 3 about PuLP 4
@pytest.mark.parametrize("seed", range(3))
def test_pmedian_equals_spopt(seed: int) -> None:
    pulp = pytest.importorskip("pulp")
    spopt_locate = pytest.importorskip("spopt.locate")
    cost, weights = geographic(3 * seed + 1, 40)   # no forbidden pair: spopt needs finite costs
    for k in (2, 4):
        ours = PMedian.from_cost_matrix(cost, weights=weights, k=k).solve()
        theirs = spopt_locate.PMedian.from_cost_matrix(cost, weights, p_facilities=k)
        theirs.solve(pulp.HiGHS(msg=False, gapRel=0.0))
        assert ours.objective == pytest.approx(float(pulp.value(theirs.problem.objective)),
                                               rel=1e-7)


@pytest.mark.parametrize("seed", range(4))
def test_covering_reductions_keep_the_optimum(seed: int) -> None:
    """Clustered instances: many equal and dominated sites, merged clients."""
    cost, weights = geographic(seed, 36)
    cost = np.round(cost / 8) * 8                      # ties: equal coverage sets
    threshold = 24.0
    covers = cost <= threshold
    for k in (2, 3):
        best = max(float(weights[covers[:, list(s)].any(axis=1)].sum())
                   for s in combinations(range(cost.shape[1]), k))
        result = MCLP.from_cost_matrix(cost, weights=weights, k=k, threshold=threshold).solve()
        assert result.objective == pytest.approx(best) and len(result.sites) == k
    wide = cost <= 2 * threshold
    fewest = next((k for k in range(1, 5)
                   if any(wide[:, list(s)].any(axis=1).all()
                          for s in combinations(range(cost.shape[1]), k))), None)
    if fewest is not None:
        lscp = LSCP.from_cost_matrix(cost, threshold=2 * threshold).solve()
        assert lscp.objective == fewest and wide[:, lscp.sites].any(axis=1).all()


@pytest.mark.parametrize("seed", range(8))
def test_mclp_equals_the_classical_model(seed: int) -> None:
    rng = np.random.default_rng(200 + seed)
    n = int(rng.integers(15, 70))
    cost, weights = geographic(seed, n)
    if seed % 2:
        cost = np.round(cost / 6) * 6
    k = int(rng.integers(1, 8))
    fixed = [int(rng.integers(0, n))] if seed % 4 == 0 else None
    model = MCLP.from_cost_matrix(cost, weights=weights, k=k, threshold=float(rng.uniform(10, 40)),
                                  fixed=fixed)
    fast, classic = model.solve(), model.solve_classic()
    assert fast.status == "optimal" and fast.gap == 0.0 and len(fast.sites) == k
    assert fast.objective == pytest.approx(classic.objective, rel=1e-9)
    assert set(fixed or []) <= set(fast.sites.tolist())


@pytest.mark.parametrize("seed", range(6))
def test_capacitated_equals_the_classical_model(seed: int) -> None:
    rng = np.random.default_rng(300 + seed)
    n = int(rng.integers(10, 35))
    cost, weights = geographic(seed, n)
    k = int(rng.integers(2, 5))
    demand = weights / max(weights.sum(), 1.0) * 600
    capacity = 600 / k * float(rng.uniform(1.1, 1.6))
    fixed = [int(rng.integers(0, n))] if seed % 3 == 0 else None
    model = CapacitatedPMedian.from_cost_matrix(cost, weights=weights, demand=demand,
                                                capacity=capacity, k=k, fixed=fixed)
    fast, classic = model.solve(), model.solve_classic()
    assert fast.status == "optimal" and fast.gap == 0.0
    assert fast.objective == pytest.approx(classic.objective, rel=1e-9)
    loads = np.bincount(fast.assignment, weights=demand, minlength=n)
    assert (loads <= capacity + 1e-6).all() and set(fixed or []) <= set(fast.sites.tolist())
    assert len(fast.sites) == k


def test_capacitated_time_limit_gives_the_best_solution_and_its_gap() -> None:
    cost, weights = geographic(5, 120)
    demand = weights / weights.sum() * 1000
    result = CapacitatedPMedian.from_cost_matrix(cost, weights=weights, demand=demand,
                                                 capacity=205.0, k=5).solve(time_limit=0.5)
    loads = np.bincount(result.assignment, weights=demand, minlength=120)
    assert (result.assignment >= 0).all() and (loads <= 205.0 + 1e-6).all()
    assert result.bound <= result.objective + 1e-6
    if result.status != "optimal":
        assert result.status.startswith("limite de temps atteinte") and result.gap > 0


@pytest.mark.parametrize("seed", range(8))
def test_lscp_reductions_equal_the_whole_model(seed: int) -> None:
    rng = np.random.default_rng(400 + seed)
    n = int(rng.integers(20, 90))
    cost, _ = geographic(seed, n)
    if seed % 2:
        cost = np.round(cost / 6) * 6
    np.fill_diagonal(cost, 0.0)                        # every commune covers itself
    fixed = [int(rng.integers(0, n))] if seed % 3 == 0 else None
    model = LSCP.from_cost_matrix(cost, threshold=float(rng.uniform(15, 45)), fixed=fixed)
    reduced, whole = model.solve(), model.solve(reduce=False)
    assert reduced.status == "optimal" and reduced.objective == whole.objective
    assert (cost[:, reduced.sites] <= model.threshold).any(axis=1).all()
    assert set(fixed or []) <= set(reduced.sites.tolist())


def test_pmedian_commune_without_inhabitants_goes_to_the_nearest_antenna() -> None:
    cost = np.array([[0.0, np.inf, 3.0], [2.0, 0.0, np.inf], [5.0, 1.0, 0.0]])
    result = PMedian.from_cost_matrix(cost, weights=np.array([10.0, 0.0, 0.0]), k=2,
                                      fixed=[0, 1]).solve()
    assert result.assignment.tolist() == [0, 1, 1] and result.objective == 0.0


def test_report_note_says_optimum_only_when_proven() -> None:
    from coverage.propose import solve_note_fr
    from coverage.solvers.base import SolverResult, time_limit_status

    stopped = SolverResult(sites=np.array([0, 3]), assignment=np.array([0, 3, 3, 0]),
                           objective=120.0, status=time_limit_status(0.0355),
                           solve_seconds=60.0, bound=115.74, gap=0.0355)
    note = solve_note_fr("capacitated", stopped, "temps estimés")
    assert "optimum" not in note.replace("de l'optimum", "")
    assert "au plus 3,55 % de l'optimum" in note and "60,00 s" in note
    proven = SolverResult(sites=np.array([0]), assignment=np.array([0, 0]), objective=5.0,
                          status="optimal", solve_seconds=0.25, bound=5.0)
    assert "optimum exact HiGHS en 0,25 s" in solve_note_fr("pmedian", proven, "x")
