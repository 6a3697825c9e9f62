"""Maximal covering (MCLP): K sites maximising the weight within T minutes."""

from __future__ import annotations

import time

import numpy as np
from scipy.sparse import coo_matrix, csr_matrix

from coverage.solvers.base import (
    SolverResult,
    check_fixed,
    check_matrix,
    checked,
    nearest_open,
    run_milp,
)
from coverage.solvers.reduce import merge_clients, undominated_sites


class MCLP:
    def __init__(self, cost: np.ndarray, weights: np.ndarray, k: int, threshold: float, *,
                 fixed: list[int]) -> None:
        self.cost, self.weights, self.k, self.threshold, self.fixed = \
            cost, weights, k, threshold, fixed

    @classmethod
    def from_cost_matrix(cls, cost: np.ndarray, *, weights: np.ndarray, k: int,
                         threshold: float, fixed: list[int] | None = None) -> MCLP:
        cost = check_matrix(cost)
        return cls(cost, np.asarray(weights, dtype=float), k, threshold,
                   fixed=check_fixed(fixed, cost.shape[1], k))

    def solve(self, *, time_limit: float | None = None) -> SolverResult:
        """Exact optimum after the exact reductions of :mod:`coverage.solvers.reduce`."""
        start = time.perf_counter()
        n_sites = self.cost.shape[1]
        covers = self.cost <= self.threshold          # inf never covers
        useful = covers.any(axis=1) & (self.weights > 0)
        rows, weights = merge_clients(covers[useful], self.weights[useful])
        keep = undominated_sites(rows, self.fixed)
        if len(keep) < self.k:                        # everything coverable: pad
            keep = np.union1d(keep, np.setdiff1d(np.arange(n_sites), keep)[: self.k - len(keep)])
        rows = rows[:, keep]
        n_clients, n_kept = rows.shape
        n = n_kept + n_clients                        # y kept sites, then z clients (covered)
        ci, sj = np.nonzero(rows)
        # z_i - Σ_{j covers i} y_j ≤ 0
        block = coo_matrix((np.concatenate([np.ones(n_clients), -np.ones(len(ci))]),
                            (np.concatenate([np.arange(n_clients), ci]),
                             np.concatenate([n_kept + np.arange(n_clients), sj]))),
                           shape=(n_clients, n)).tocsr()
        count = csr_matrix((np.ones(n_kept), (np.zeros(n_kept, dtype=int), np.arange(n_kept))),
                           shape=(1, n))
        c = np.concatenate([np.zeros(n_kept), weights])
        lower = np.zeros(n)
        lower[np.flatnonzero(np.isin(keep, self.fixed))] = 1.0
        out = run_milp(
            c, np.concatenate([np.ones(n_kept), np.zeros(n_clients)]), lower, np.ones(n),
            [(block, np.full(n_clients, -np.inf), np.zeros(n_clients)),
             (count, np.array([self.k]), np.array([self.k]))], maximize=True,
            time_limit=time_limit)
        x, status, gap = checked(out)
        sites = np.sort(keep[np.flatnonzero(x[:n_kept] > 0.5)])
        covered = float(self.weights[covers[:, sites].any(axis=1)].sum())
        return SolverResult(sites=sites, assignment=nearest_open(self.cost, sites),
                            objective=covered, status=status,
                            solve_seconds=time.perf_counter() - start, bound=out.bound,
                            gap=gap)

    def coverage_share(self, result: SolverResult) -> float:
        total = float(self.weights.sum())
        return result.objective / total if total else 0.0
