"""Capacitated p-median: each open site's demand ≤ its capacity (coordinators × 200).

Single assignment (binary ``x_ij``): a commune is followed by one antenna.
"""

from __future__ import annotations

import numpy as np
from scipy.sparse import coo_matrix

from coverage.solvers.base import (
    SolverResult,
    assignment_blocks,
    check_fixed,
    check_matrix,
    labels_of,
    require_reachable,
    solve,
)
from geo.errors import MaillageError


class CapacitatedPMedian:
    def __init__(self, cost: np.ndarray, weights: np.ndarray, demand: np.ndarray,
                 capacity: np.ndarray, k: int, *, fixed: list[int],
                 max_minutes: float | None, client_labels: list[str]) -> None:
        self.cost, self.weights, self.demand, self.capacity, self.k = \
            cost, weights, demand, capacity, k
        self.fixed, self.max_minutes, self.client_labels = fixed, max_minutes, client_labels

    @classmethod
    def from_cost_matrix(cls, cost: np.ndarray, *, weights: np.ndarray, demand: np.ndarray,
                         capacity: float | np.ndarray, k: int, fixed: list[int] | None = None,
                         max_minutes: float | None = None,
                         client_labels: list[str] | None = None) -> CapacitatedPMedian:
        cost = check_matrix(cost)
        cap = np.broadcast_to(np.asarray(capacity, dtype=float), (cost.shape[1],)).copy()
        return cls(cost, np.asarray(weights, dtype=float), np.asarray(demand, dtype=float), cap,
                   k, fixed=check_fixed(fixed, cost.shape[1], k), max_minutes=max_minutes,
                   client_labels=labels_of(client_labels, cost.shape[0], "client"))

    def solve(self, *, time_limit: float | None = None) -> SolverResult:
        n_clients, n_sites = self.cost.shape
        allowed = np.isfinite(self.cost)
        if self.max_minutes is not None:
            allowed &= self.cost <= self.max_minutes
        require_reachable(allowed, self.client_labels, what="accessible")
        if self.demand.sum() > np.sort(self.capacity)[::-1][: self.k].sum() + 1e-9:
            raise MaillageError(
                f"Demande totale ({self.demand.sum():.0f} patients) supérieure à la capacité de "
                f"{self.k} antennes : augmentez le nombre d'antennes ou de coordinateurs.")
        ci, sj = np.nonzero(allowed)
        n_x = len(ci)
        n = n_sites + n_x
        xcols = n_sites + np.arange(n_x)
        c = np.concatenate([np.zeros(n_sites), self.weights[ci] * self.cost[ci, sj]])
        assign, link, count = assignment_blocks(ci, sj, n_clients, n_sites)
        # Σ_i d_i x_ij - cap_j y_j ≤ 0
        capacity = coo_matrix((np.concatenate([self.demand[ci], -self.capacity]),
                               (np.concatenate([sj, np.arange(n_sites)]),
                                np.concatenate([xcols, np.arange(n_sites)]))),
                              shape=(n_sites, n)).tocsr()
        lower = np.zeros(n)
        lower[self.fixed] = 1.0
        x, objective, status, seconds = solve(
            c, np.ones(n), lower, np.ones(n),
            [(assign, np.ones(n_clients), np.ones(n_clients)),
             (link, np.full(n_x, -np.inf), np.zeros(n_x)),
             (capacity, np.full(n_sites, -np.inf), np.zeros(n_sites)),
             (count, np.array([self.k]), np.array([self.k]))], time_limit=time_limit)
        sites = np.flatnonzero(x[:n_sites] > 0.5)
        assignment = np.full(n_clients, -1)
        chosen = x[n_sites:] > 0.5
        assignment[ci[chosen]] = sj[chosen]
        return SolverResult(sites=sites, assignment=assignment, objective=objective,
                            status=status, solve_seconds=seconds)
