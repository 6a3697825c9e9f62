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
