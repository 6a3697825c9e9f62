"""Set covering (LSCP): the fewest sites putting every client within T minutes."""

from __future__ import annotations

import numpy as np
from scipy.sparse import csr_matrix

from coverage.solvers.base import (
    SolverResult,
    check_fixed,
    check_matrix,
    labels_of,
    nearest_open,
    require_reachable,
    solve,
)


class LSCP:
    def __init__(self, cost: np.ndarray, threshold: float, *, fixed: list[int],
                 client_labels: list[str]) -> None:
        self.cost, self.threshold, self.fixed, self.client_labels = \
            cost, threshold, fixed, client_labels

    @classmethod
    def from_cost_matrix(cls, cost: np.ndarray, *, threshold: float,
                         fixed: list[int] | None = None,
                         client_labels: list[str] | None = None) -> LSCP:
        cost = check_matrix(cost)
        return cls(cost, threshold, fixed=check_fixed(fixed, cost.shape[1]),
                   client_labels=labels_of(client_labels, cost.shape[0], "client"))

    def solve(self, *, time_limit: float | None = None) -> SolverResult:
        n_clients, n_sites = self.cost.shape
        covers = self.cost <= self.threshold
        require_reachable(covers, self.client_labels,
                          what=f"à moins de {self.threshold:g} minutes (couverture impossible)")
        ci, sj = np.nonzero(covers)
        rows = csr_matrix((np.ones(len(ci)), (ci, sj)), shape=(n_clients, n_sites))
        lower = np.zeros(n_sites)
        lower[self.fixed] = 1.0
        x, objective, status, seconds = solve(
            np.ones(n_sites), np.ones(n_sites), lower, np.ones(n_sites),
            [(rows, np.ones(n_clients), np.full(n_clients, np.inf))], time_limit=time_limit)
        sites = np.flatnonzero(x > 0.5)
        return SolverResult(sites=sites, assignment=nearest_open(self.cost, sites),
                            objective=objective, status=status, solve_seconds=seconds)
