"""Capacitated p-median: each open site's demand ≤ its capacity (coordinators × 200).

Single assignment (binary ``x_ij``): a commune is followed by one antenna.

Exact, with the scheme of :mod:`coverage.solvers.pmedian` adapted to capacities:

1. **Upper bound**: the sites of the uncapacitated optimum (and of the best Lagrangian
   subproblem), each assigned optimally under the capacities (a small generalised
   assignment MILP, K columns).
2. **Lower bound**: Lagrangian relaxation of ``Σ_j x_ij = 1``; for each site the
   subproblem is a continuous knapsack (fill the capacity with the most profitable
   ``(u_i − c_ij) / d_i`` first), then the K best sites; subgradient ascent.
3. **Site fixing** against the upper bound, as for the p-median.
4. **HiGHS** on the full formulation restricted to the remaining sites.

Without an upper bound (no feasible assignment found) HiGHS gets the whole model, as
before. At the time limit, the best solution is returned with its proven gap.
:meth:`CapacitatedPMedian.solve_classic` is the whole model given to HiGHS.
"""

from __future__ import annotations

import time

import numpy as np
from scipy.sparse import coo_matrix

from coverage.solvers.base import (
    OPTIMALITY_GAP,
    STATUS_OPTIMAL,
    MilpOutcome,
    SolverResult,
    assignment_blocks,
    check_fixed,
    check_matrix,
    checked,
    labels_of,
    relative_gap,
    remaining,
    require_reachable,
    run_milp,
    time_limit_status,
)
from geo.errors import MaillageError

MAX_ASCENT_STEPS = 600
MAX_IDLE_STEPS = 80


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

    def _allowed(self) -> np.ndarray:
        allowed = np.isfinite(self.cost)
        if self.max_minutes is not None:
            allowed &= self.cost <= self.max_minutes
        require_reachable(allowed, self.client_labels, what="accessible")
        if self.demand.sum() > np.sort(self.capacity)[::-1][: self.k].sum() + 1e-9:
            raise MaillageError(
                f"Demande totale ({self.demand.sum():.0f} patients) supérieure à la capacité de "
                f"{self.k} antennes : augmentez le nombre d'antennes ou de coordinateurs.")
        return allowed

    def _result(self, weighted: np.ndarray, sites: np.ndarray, assignment: np.ndarray,
                start: float, *, status: str, bound: float) -> SolverResult:
        objective = float(weighted[np.arange(len(weighted)), assignment].sum())
        return SolverResult(sites=np.sort(sites), assignment=assignment, objective=objective,
                            status=status, solve_seconds=time.perf_counter() - start,
                            bound=min(bound, objective),
                            gap=0.0 if status == STATUS_OPTIMAL else relative_gap(objective, bound))

    def solve(self, *, time_limit: float | None = None) -> SolverResult:
        """Exact optimum: bounds, site fixing, HiGHS on the remaining sites."""
        from coverage.solvers.pmedian import PMedian

        start = time.perf_counter()
        deadline = start + time_limit if time_limit else None
        allowed = self._allowed()
        weighted = np.where(allowed, self.weights[:, None] * np.where(allowed, self.cost, 0.0), np.inf)
        fixed = np.array(self.fixed, dtype=int)
        best: tuple[np.ndarray, np.ndarray, float] | None = None   # sites, assignment, cost

        def consider(sites: np.ndarray) -> None:
            nonlocal best
            # at least a few seconds: without a feasible assignment there is no answer
            limit = remaining(deadline, share=0.2)
            found = _assign(weighted, self.demand, self.capacity, np.unique(sites),
                            time_limit=None if limit is None else max(limit, 5.0))
            if found is not None and (best is None or found[1] < best[2]):
                best = (np.unique(sites), found[0], found[1])

        uncapacitated = PMedian.from_cost_matrix(
            np.where(allowed, self.cost, np.inf), weights=self.weights, k=self.k,
            fixed=self.fixed).solve(time_limit=remaining(deadline, share=0.2))
        consider(uncapacitated.sites)
        upper = best[2] if best is not None else np.inf
        lag = _KnapsackLagrangian(weighted, self.demand, self.capacity, self.k, fixed)
        bound, chosen = lag.ascend(upper, floor=uncapacitated.bound, deadline=deadline)
        if chosen is not None and (best is None or not np.array_equal(np.unique(chosen), best[0])):
            consider(chosen)
            if best is not None and best[2] < upper:
                upper = best[2]
                lag.refix(upper)
        tol = OPTIMALITY_GAP * max(abs(upper), 1.0) if np.isfinite(upper) else 0.0
        if best is not None and upper - bound <= tol:
            return self._result(weighted, best[0], best[1], start, status=STATUS_OPTIMAL,
                                bound=upper)
        keep = np.flatnonzero(~lag.out)
        must = np.union1d(fixed, np.flatnonzero(lag.forced))
        out = self._milp(weighted, keep, must, time_limit=remaining(deadline))
        if out is None or out.x is None:
            if best is None:
                if out is None or "infeasible" in out.message.lower():
                    raise MaillageError("Pas de solution : aucune affectation ne respecte les "
                                        "capacités.")
                raise MaillageError(f"Pas de solution dans le temps imparti : {out.message}")
            proven = out is None or "infeasible" in out.message.lower()
            status = STATUS_OPTIMAL if proven else \
                time_limit_status(relative_gap(best[2], bound))
            return self._result(weighted, best[0], best[1], start, status=status,
                                bound=best[2] if proven else bound)
        sites, assignment = self._decode(out.x, keep)
        value = float(weighted[np.arange(len(weighted)), assignment].sum())
        if best is None or value < best[2]:
            best = (sites, assignment, value)
        lower = best[2] if out.optimal else max(bound, min(out.bound, best[2]))
        status = STATUS_OPTIMAL if best[2] - lower <= OPTIMALITY_GAP * max(best[2], 1.0) \
            else time_limit_status(relative_gap(best[2], lower))
        return self._result(weighted, best[0], best[1], start, status=status, bound=lower)

    def solve_classic(self, *, time_limit: float | None = None) -> SolverResult:
        """The whole model given to HiGHS (the former method; the tests' reference)."""
        start = time.perf_counter()
        allowed = self._allowed()
        weighted = np.where(allowed, self.weights[:, None] * np.where(allowed, self.cost, 0.0), np.inf)
        keep = np.arange(self.cost.shape[1])
        out = self._milp(weighted, keep, np.array(self.fixed, dtype=int), time_limit=time_limit)
        if out is None:
            raise MaillageError("Pas de solution : aucune affectation ne respecte les capacités.")
        x, status, _ = checked(out)
        sites, assignment = self._decode(x, keep)
        return self._result(weighted, sites, assignment, start, status=status, bound=out.bound)

    def _milp(self, weighted: np.ndarray, keep: np.ndarray, must: np.ndarray, *,
              time_limit: float | None) -> MilpOutcome | None:
        """The single-assignment model on the sites ``keep`` (``None``: no solution there)."""
        sub = weighted[:, keep]
        allowed = np.isfinite(sub)
        if not allowed.any(axis=1).all() or len(keep) < self.k or len(must) > self.k:
            return None
        n_clients, n_sites = sub.shape
        ci, sj = np.nonzero(allowed)
        self._pairs = (ci, sj)
        n_x = len(ci)
        n = n_sites + n_x
        xcols = n_sites + np.arange(n_x)
        c = np.concatenate([np.zeros(n_sites), sub[ci, sj]])
        assign, link, count = assignment_blocks(ci, sj, n_clients, n_sites)
        cap = self.capacity[keep]
        # Σ_i d_i x_ij - cap_j y_j ≤ 0
        capacity = coo_matrix((np.concatenate([self.demand[ci], -cap]),
                               (np.concatenate([sj, np.arange(n_sites)]),
                                np.concatenate([xcols, np.arange(n_sites)]))),
                              shape=(n_sites, n)).tocsr()
        lower = np.zeros(n)
        lower[np.flatnonzero(np.isin(keep, must))] = 1.0
        return run_milp(c, np.ones(n), lower, np.ones(n),
                        [(assign, np.ones(n_clients), np.ones(n_clients)),
                         (link, np.full(n_x, -np.inf), np.zeros(n_x)),
                         (capacity, np.full(n_sites, -np.inf), np.zeros(n_sites)),
                         (count, np.array([self.k]), np.array([self.k]))],
                        time_limit=time_limit, rel_gap=OPTIMALITY_GAP)

    def _decode(self, x: np.ndarray, keep: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        ci, sj = self._pairs
        n_sites = len(keep)
        sites = keep[np.flatnonzero(x[:n_sites] > 0.5)]
        assignment = np.full(self.cost.shape[0], -1)
        chosen = x[n_sites:] > 0.5
        assignment[ci[chosen]] = keep[sj[chosen]]
        return sites, assignment



def _assign(weighted: np.ndarray, demand: np.ndarray, capacity: np.ndarray, sites: np.ndarray,
            *, time_limit: float | None) -> tuple[np.ndarray, float] | None:
    """Optimal single assignment to the open ``sites`` under the capacities (or ``None``)."""
    sub = weighted[:, sites]
    allowed = np.isfinite(sub)
    if not allowed.any(axis=1).all() or demand.sum() > capacity[sites].sum() + 1e-9:
        return None
    n_clients, n_sites = sub.shape
    ci, sj = np.nonzero(allowed)
    n_x = len(ci)
    rows = [(coo_matrix((np.ones(n_x), (ci, np.arange(n_x))), shape=(n_clients, n_x)).tocsr(),
             np.ones(n_clients), np.ones(n_clients)),
            (coo_matrix((demand[ci], (sj, np.arange(n_x))), shape=(n_sites, n_x)).tocsr(),
             np.full(n_sites, -np.inf), capacity[sites])]
    out = run_milp(sub[ci, sj], np.ones(n_x), np.zeros(n_x), np.ones(n_x), rows,
                   time_limit=time_limit, rel_gap=OPTIMALITY_GAP)
    if out.x is None:
        return None
    assignment = np.full(n_clients, -1)
    chosen = out.x > 0.5
    assignment[ci[chosen]] = sites[sj[chosen]]
    return assignment, float(weighted[np.arange(n_clients), assignment].sum())


class _KnapsackLagrangian:
    """Relax ``Σ_j x_ij = 1``; each site's subproblem is a continuous knapsack."""

    def __init__(self, weighted: np.ndarray, demand: np.ndarray, capacity: np.ndarray, k: int,
                 fixed: np.ndarray) -> None:
        self.full, self.demand, self.capacity, self.k = weighted, demand, capacity, k
        m = weighted.shape[1]
        self.is_fixed = np.zeros(m, dtype=bool)
        self.is_fixed[fixed] = True
        self.n_free = k - int(self.is_fixed.sum())
        self.out = np.zeros(m, dtype=bool)
        self.forced = np.zeros(m, dtype=bool)
        self.last: tuple[float, np.ndarray, np.ndarray] | None = None
        self._restrict()

    def _restrict(self) -> None:
        self.active = np.flatnonzero(~self.out)
        self.c = np.ascontiguousarray(self.full[:, self.active])
        self.cap = self.capacity[self.active]
        self.fixed = self.is_fixed[self.active]
        self.free = np.flatnonzero(~self.fixed)

    def evaluate(self, u: np.ndarray) -> tuple[float, np.ndarray, np.ndarray, np.ndarray]:
        """L(u), chosen (active positions), ρ, and x of the chosen columns (n × |chosen|)."""
        profit = u[:, None] - self.c                          # -inf where forbidden
        d = self.demand[:, None]
        with np.errstate(divide="ignore", invalid="ignore"):
            key = np.where(profit > 0, np.where(d > 0, profit / d, np.inf), -np.inf)
        order = np.argsort(-key, axis=0, kind="stable")
        p = np.take_along_axis(profit, order, axis=0)
        ds = self.demand[order]
        positive = p > 0
        ds = np.where(positive, ds, 0.0)
        before = np.cumsum(ds, axis=0) - ds
        with np.errstate(divide="ignore", invalid="ignore"):
            frac = np.where(ds > 0, (self.cap[None, :] - before) / ds, 1.0)
        x_sorted = np.where(positive, np.clip(frac, 0.0, 1.0), 0.0)
        rho = -(np.where(positive, p, 0.0) * x_sorted).sum(axis=0)
        chosen = np.flatnonzero(self.fixed)
        if self.n_free:
            part = np.argpartition(rho[self.free], self.n_free - 1)[: self.n_free]
            chosen = np.concatenate([chosen, self.free[part]])
        x = np.zeros((len(u), len(chosen)))
        for t, j in enumerate(chosen):
            x[order[:, j], t] = x_sorted[:, j]
        return float(u.sum() + rho[chosen].sum()), chosen, rho, x

    def fixing(self, bound: float, chosen: np.ndarray, rho: np.ndarray, upper: float) -> int:
        free = ~self.fixed
        if not self.n_free or not np.isfinite(upper):
            return 0
        limit = upper + OPTIMALITY_GAP * max(abs(upper), 1.0)
        is_chosen = np.zeros(len(rho), dtype=bool)
        is_chosen[chosen] = True
        free_chosen = is_chosen & free
        others = ~is_chosen & free
        drop = others & (bound + rho - rho[free_chosen].max() > limit)
        self.out[self.active[drop]] = True
        if others.any():
            following = rho[others].min()
            self.forced[self.active[free_chosen & (bound - rho + following > limit)]] = True
        return int(drop.sum())

    def refix(self, upper: float) -> None:
        if self.last is not None:
            bound, chosen, rho = self.last
            if len(rho) == len(self.active):
                self.fixing(bound, chosen, rho, upper)

    def ascend(self, upper: float, *, floor: float, deadline: float | None
               ) -> tuple[float, np.ndarray | None]:
        """Best bound (at least ``floor``, a valid bound) and the sites of its subproblem."""
        srt = np.sort(self.full, axis=1)
        u = srt[:, min(1, srt.shape[1] - 1)].copy()
        u[~np.isfinite(u)] = srt[:, 0][~np.isfinite(u)]
        best_bound, best_u, best_chosen = -np.inf, u.copy(), None
        target = upper if np.isfinite(upper) else floor * 1.05 + 1.0
        scale = max(abs(target), 1.0)
        step, stall, idle = 2.0, 0, 0
        for _ in range(MAX_ASCENT_STEPS):
            bound, chosen, rho, x = self.evaluate(u)
            self.last = (bound, chosen, rho)
            if bound > best_bound + 1e-12 * scale:
                best_bound, best_u, stall = bound, u.copy(), 0
                best_chosen = self.active[chosen]
            else:
                stall += 1
            removed = self.fixing(bound, chosen, rho, upper)
            idle = 0 if removed else idle + 1
            if upper - best_bound <= OPTIMALITY_GAP * scale or \
                    len(self.active) - removed <= self.k or (idle > MAX_IDLE_STEPS and step < 0.3):
                break
            if removed and removed > 0.1 * len(self.active):
                self._restrict()
                self.last = None
                continue
            if stall >= 10:
                step /= 2.0
                stall = 0
                u = best_u.copy()
                if step < 1e-3:
                    break
            g = 1.0 - x.sum(axis=1)
            norm = float(g @ g)
            if norm == 0.0:
                break
            u = u + step * max(target - bound, 1e-9 * scale) / norm * g
            if deadline is not None and time.perf_counter() > deadline:
                break
        return max(best_bound, floor), best_chosen
