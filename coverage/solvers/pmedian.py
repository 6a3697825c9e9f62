"""p-median: K sites minimising the weighted travel time (optionally within a limit).

Formulation: binary ``y_j`` (site open), continuous ``x_ij`` in [0, 1] only for the
allowed pairs (reachable, and within ``max_minutes``); ``Σ_j x_ij = 1``,
``x_ij ≤ y_j`` (disaggregated: its LP relaxation is nearly always integral, so HiGHS
closes the gap at the root), ``Σ y_j = K``, fixed sites ``y_j = 1``. With ``y`` integral
an optimal ``x`` is integral, so ``x`` needs no integrality constraint.

The LP relaxation is solved first: when its ``y`` is integral, it is a feasible integer
solution whose cost equals a lower bound, hence optimal, and the branch-and-bound
machinery is skipped (about twice as fast on the Haute-Loire instance). Otherwise the
MILP is solved.
"""

from __future__ import annotations

import numpy as np

from coverage.solvers.base import (
    SolverResult,
    assignment_blocks,
    check_fixed,
    check_matrix,
    labels_of,
    nearest_open,
    require_reachable,
    solve,
)


class PMedian:
    """Build with :meth:`from_cost_matrix`, then :meth:`solve`."""

    def __init__(self, cost: np.ndarray, weights: np.ndarray, k: int, *, fixed: list[int],
                 max_minutes: float | None, client_labels: list[str]) -> None:
        self.cost, self.weights, self.k = cost, weights, k
        self.fixed, self.max_minutes, self.client_labels = fixed, max_minutes, client_labels

    @classmethod
    def from_cost_matrix(cls, cost: np.ndarray, *, weights: np.ndarray, k: int,
                         fixed: list[int] | None = None, max_minutes: float | None = None,
                         client_labels: list[str] | None = None) -> PMedian:
        cost = check_matrix(cost)
        if not 1 <= k <= cost.shape[1]:
            raise ValueError("k must be between 1 and the number of candidate sites")
        return cls(cost, np.asarray(weights, dtype=float), k,
                   fixed=check_fixed(fixed, cost.shape[1], k), max_minutes=max_minutes,
                   client_labels=labels_of(client_labels, cost.shape[0], "client"))

    def allowed(self) -> np.ndarray:
        allowed = np.isfinite(self.cost)
        if self.max_minutes is not None:
            allowed &= self.cost <= self.max_minutes
        return allowed

    def solve(self, *, time_limit: float | None = None) -> SolverResult:
        n_clients, n_sites = self.cost.shape
        allowed = self.allowed()
        what = "accessible" if self.max_minutes is None else \
            f"à moins de {self.max_minutes:g} minutes"
        require_reachable(allowed, self.client_labels, what=what)
        ci, sj = np.nonzero(allowed)
        n_x = len(ci)
        n = n_sites + n_x                       # variables: y_0..y_{m-1}, then x pairs
        c = np.concatenate([np.zeros(n_sites), self.weights[ci] * self.cost[ci, sj]])
        assign, link, count = assignment_blocks(ci, sj, n_clients, n_sites)
        lower = np.zeros(n)
        lower[self.fixed] = 1.0
        upper = np.ones(n)
        rows = [(assign, np.ones(n_clients), np.ones(n_clients)),
                (link, np.full(n_x, -np.inf), np.zeros(n_x)),
                (count, np.array([self.k]), np.array([self.k]))]
        x, objective, status, seconds = solve(c, np.zeros(n), lower, upper, rows,
                                              time_limit=time_limit)
        y = x[:n_sites]
        if np.abs(y - np.round(y)).max() > 1e-6:  # fractional: branch and bound
            integrality = np.concatenate([np.ones(n_sites), np.zeros(n_x)])
            x, objective, status, more = solve(c, integrality, lower, upper, rows,
                                               time_limit=time_limit)
            seconds += more
        sites = np.flatnonzero(x[:n_sites] > 0.5)
        cost = np.where(allowed, self.cost, np.inf)
        return SolverResult(sites=sites, assignment=nearest_open(cost, sites),
                            objective=objective, status=status, solve_seconds=seconds)
