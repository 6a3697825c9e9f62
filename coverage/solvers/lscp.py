"""Set covering (LSCP): the fewest sites putting every client within T minutes."""

from __future__ import annotations

import time

import numpy as np
from scipy.sparse import csr_matrix

from coverage.solvers.base import (
    SolverResult,
    check_fixed,
    check_matrix,
    checked,
    labels_of,
    nearest_open,
    require_reachable,
    run_milp,
)
from coverage.solvers.reduce import reduce_covering


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

    def solve(self, *, time_limit: float | None = None, reduce: bool = True) -> SolverResult:
        """Exact optimum after the exact reductions of :mod:`coverage.solvers.reduce`.

        ``reduce=False`` gives HiGHS the whole model (the former method, for comparison).
        """
        start = time.perf_counter()
        covers = self.cost <= self.threshold
        require_reachable(covers, self.client_labels,
                          what=f"à moins de {self.threshold:g} minutes (couverture impossible)")
        if reduce:
            kept_rows, keep = reduce_covering(covers, self.fixed)
            rows = covers[kept_rows]
        else:
            rows, keep = covers, np.arange(covers.shape[1])
        rows = rows[:, keep]
        n_clients, n_kept = rows.shape
        ci, sj = np.nonzero(rows)
        matrix = csr_matrix((np.ones(len(ci)), (ci, sj)), shape=(n_clients, n_kept))
        lower = np.zeros(n_kept)
        lower[np.flatnonzero(np.isin(keep, self.fixed))] = 1.0
        out = run_milp(
            np.ones(n_kept), np.ones(n_kept), lower, np.ones(n_kept),
            [(matrix, np.ones(n_clients), np.full(n_clients, np.inf))], time_limit=time_limit)
        x, status, gap = checked(out)
        sites = np.sort(keep[np.flatnonzero(x > 0.5)])
        return SolverResult(sites=sites, assignment=nearest_open(self.cost, sites),
                            objective=float(len(sites)), status=status,
                            solve_seconds=time.perf_counter() - start, bound=out.bound,
                            gap=gap)
