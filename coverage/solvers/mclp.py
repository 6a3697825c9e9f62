"""Maximal covering (MCLP): K sites maximising the weight within T minutes."""

from __future__ import annotations

import numpy as np
from scipy.sparse import coo_matrix, csr_matrix

from coverage.solvers.base import SolverResult, check_fixed, check_matrix, nearest_open, solve


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
        n_clients, n_sites = self.cost.shape
        covers = self.cost <= self.threshold          # inf never covers
        n = n_sites + n_clients                       # y sites, then z clients (covered)
        ci, sj = np.nonzero(covers)
        # z_i - Σ_{j covers i} y_j ≤ 0
        rows = coo_matrix((np.concatenate([np.ones(n_clients), -np.ones(len(ci))]),
                           (np.concatenate([np.arange(n_clients), ci]),
                            np.concatenate([n_sites + np.arange(n_clients), sj]))),
                          shape=(n_clients, n)).tocsr()
        count = csr_matrix((np.ones(n_sites), (np.zeros(n_sites, dtype=int), np.arange(n_sites))),
                           shape=(1, n))
        c = np.concatenate([np.zeros(n_sites), self.weights])
        lower = np.zeros(n)
        lower[self.fixed] = 1.0
        x, objective, status, seconds = solve(
            c, np.concatenate([np.ones(n_sites), np.zeros(n_clients)]), lower, np.ones(n),
            [(rows, np.full(n_clients, -np.inf), np.zeros(n_clients)),
             (count, np.array([self.k]), np.array([self.k]))], maximize=True,
            time_limit=time_limit)
        sites = np.flatnonzero(x[:n_sites] > 0.5)
        return SolverResult(sites=sites, assignment=nearest_open(self.cost, sites),
                            objective=objective, status=status, solve_seconds=seconds)

    def coverage_share(self, result: SolverResult) -> float:
        total = float(self.weights.sum())
        return result.objective / total if total else 0.0
