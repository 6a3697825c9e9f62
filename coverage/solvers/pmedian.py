"""p-median: K sites minimising the weighted travel time (optionally within a limit).

Exact, and built to be fast on a whole département or a region (700 × 700):

1. **Upper bound**: greedy opening, then the vertex-substitution local search
   (Teitz–Bart swaps, every (close, open) pair evaluated at once with numpy). Between
   consecutive K (:func:`coverage.propose.scenarios`) the previous optimum plus one
   site is the starting point.
2. **Lower bound**: Lagrangian relaxation of the assignment constraints
   ``Σ_j x_ij = 1`` (multipliers ``u_i``); the subproblem is solved by sorting
   ``ρ_j = Σ_i min(0, c_ij − u_i)``; subgradient ascent. Its best value equals the LP
   bound of the classical formulation.
3. **Variable fixing**: a site whose opening would raise the Lagrangian bound above
   the upper bound cannot be in a better solution, so it is removed; a site whose
   closing would do so must stay open. Typically a few dozen sites remain.
4. **Exact MILP** (HiGHS) on the remaining sites with the classical disaggregated
   formulation — binary ``y_j``, ``x_ij ∈ [0, 1]`` for the allowed pairs,
   ``Σ_j x_ij = 1``, ``x_ij ≤ y_j``, ``Σ y_j = K`` — unless the bounds already meet.

The answer is the optimum of the full problem: every removed site was proven useless
against a known solution. With a time limit the best solution is returned with its
proven gap (status says so), never silently. :meth:`PMedian.solve_classic` solves
the full classical model directly (the former method; tests compare both).
"""

from __future__ import annotations

import time

import numpy as np

from coverage.solvers.base import (
    OPTIMALITY_GAP,
    STATUS_OPTIMAL,
    SolverResult,
    assignment_blocks,
    check_fixed,
    check_matrix,
    labels_of,
    nearest_open,
    relative_gap,
    remaining,
    require_reachable,
    run_milp,
    solve,
    time_limit_status,
)

#: Subgradient steps at most, and steps without removing a site before the MILP.
MAX_ASCENT_STEPS = 1500
MAX_IDLE_STEPS = 120


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
        weights = np.asarray(weights, dtype=float)
        if weights.shape != (cost.shape[0],) or not np.isfinite(weights).all() \
                or (weights < 0).any():
            raise ValueError("weights must be finite, non-negative, one per client")
        return cls(cost, weights, k, fixed=check_fixed(fixed, cost.shape[1], k),
                   max_minutes=max_minutes,
                   client_labels=labels_of(client_labels, cost.shape[0], "client"))

    def allowed(self) -> np.ndarray:
        allowed = np.isfinite(self.cost)
        if self.max_minutes is not None:
            allowed &= self.cost <= self.max_minutes
        return allowed

    def _check_reachable(self) -> np.ndarray:
        allowed = self.allowed()
        what = "accessible" if self.max_minutes is None else \
            f"à moins de {self.max_minutes:g} minutes"
        require_reachable(allowed, self.client_labels, what=what)
        return allowed

    # -- the fast exact method ---------------------------------------------------------

    def solve(self, *, time_limit: float | None = None,
              warm_start: SolverResult | None = None) -> SolverResult:
        """Exact optimum (bounds, fixing, reduced MILP); see the module docstring.

        Parameters
        ----------
        time_limit
            Seconds for the whole solve; at the limit the best solution is returned
            with its proven gap.
        warm_start
            The result of this instance for another K: its sites start the local search.
        """
        start = time.perf_counter()
        deadline = start + time_limit if time_limit else None
        allowed = self._check_reachable()
        weighted = np.where(allowed, self.weights[:, None] * np.where(allowed, self.cost, 0.0), np.inf)
        k, fixed = self.k, np.array(self.fixed, dtype=int)
        sites = _initial_sites(weighted, k, fixed, warm_start)
        sites, upper = _local_search(weighted, sites, fixed, deadline)
        if not np.isfinite(upper):  # no feasible start found: the full model decides
            result = self.solve_classic(time_limit=remaining(deadline))
            result.solve_seconds = time.perf_counter() - start
            return result
        # The multipliers restart from scratch: those of another K, tried as a warm
        # start, made the ascent slower (measured), unlike the sites.
        outcome = _Lagrangian(weighted, k, fixed).ascend(upper, deadline=deadline)
        bound = outcome.bound
        if outcome.better is not None and outcome.better[1] < upper:
            sites, upper = outcome.better
        status = STATUS_OPTIMAL
        if upper - bound > OPTIMALITY_GAP * max(abs(upper), 1.0):
            keep = ~outcome.out
            keep[fixed] = True
            milp = _reduced_milp(weighted, np.flatnonzero(keep), k,
                                 np.union1d(fixed, np.flatnonzero(outcome.forced)),
                                 time_limit=remaining(deadline))
            if milp is None:           # no site set left can beat the upper bound
                bound = upper
            else:
                found, value, proven, milp_bound = milp
                if value < upper:
                    sites, upper = found, value
                bound = upper if proven else max(bound, min(milp_bound, upper))
            if upper - bound > OPTIMALITY_GAP * max(abs(upper), 1.0):
                status = time_limit_status(relative_gap(upper, bound))
            else:
                bound = upper
        else:
            bound = upper
        sites = np.sort(np.asarray(sites, dtype=int))
        return SolverResult(sites=sites,
                            # by minutes: a commune of weight 0 still goes to the nearest
                            assignment=nearest_open(np.where(allowed, self.cost, np.inf), sites),
                            objective=float(_cost_of(weighted, sites)), status=status,
                            solve_seconds=time.perf_counter() - start, bound=float(bound),
                            gap=relative_gap(upper, bound) if status != STATUS_OPTIMAL else 0.0)

    # -- the former method: the whole classical model ----------------------------------

    def solve_classic(self, *, time_limit: float | None = None) -> SolverResult:
        """The full classical formulation given to HiGHS (LP first, then MILP).

        Kept as the reference for the tests and the benchmark, and as the fallback when
        no feasible starting solution is found (tight ``max_minutes``).
        """
        n_clients, n_sites = self.cost.shape
        allowed = self._check_reachable()
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
                            objective=objective, status=status, solve_seconds=seconds,
                            bound=objective)



def _cost_of(weighted: np.ndarray, sites: np.ndarray) -> float:
    """Σ_i min_{j open} c_ij (inf when a client has no allowed open site)."""
    return float(weighted[:, sites].min(axis=1).sum())


def _finite(weighted: np.ndarray) -> np.ndarray:
    """Costs with the forbidden pairs priced above any feasible solution (heuristics only)."""
    finite = weighted[np.isfinite(weighted)]
    big = (float(finite.max()) + 1.0) * (len(weighted) + 1) if finite.size else 1.0
    return np.where(np.isfinite(weighted), weighted, big)


def _initial_sites(weighted: np.ndarray, k: int, fixed: np.ndarray,
                   warm: SolverResult | None) -> np.ndarray:
    """Greedy: start from the fixed (and warm) sites, add the best site until K."""
    c = _finite(weighted)
    chosen = list(fixed)
    if warm is not None:
        extra = [int(j) for j in warm.sites if int(j) not in chosen]
        chosen += extra[: k - len(chosen)]
    best = c[:, chosen].min(axis=1) if chosen else np.full(len(c), np.inf)
    while len(chosen) < k:
        totals = np.minimum(best[:, None], c).sum(axis=0)
        totals[chosen] = np.inf
        j = int(np.argmin(totals))
        chosen.append(j)
        best = np.minimum(best, c[:, j])
    return np.array(chosen, dtype=int)


def _local_search(weighted: np.ndarray, sites: np.ndarray, fixed: np.ndarray,
                  deadline: float | None) -> tuple[np.ndarray, float]:
    """Best-improvement swaps until none improves; returns the sites and their true cost."""
    c = _finite(weighted)
    n, m = c.shape
    sites = np.array(sites, dtype=int)
    rows = np.arange(n)
    movable = [t for t in range(len(sites)) if sites[t] not in set(fixed.tolist())]
    current = float(c[:, sites].min(axis=1).sum())
    while movable and (deadline is None or time.perf_counter() < deadline):
        sub = c[:, sites]
        order = np.argsort(sub, axis=1)
        first = order[:, 0]
        d1 = sub[rows, first]
        d2 = sub[rows, order[:, 1]] if len(sites) > 1 else np.full(n, np.inf)
        is_open = np.zeros(m, dtype=bool)
        is_open[sites] = True
        best_value, best_move = current, None
        for t in movable:
            base = np.where(first == t, d2, d1)
            totals = np.minimum(base[:, None], c).sum(axis=0)
            totals[is_open] = np.inf
            j = int(np.argmin(totals))
            if totals[j] < best_value - 1e-12 * max(abs(best_value), 1.0):
                best_value, best_move = float(totals[j]), (t, j)
        if best_move is None:
            break
        sites[best_move[0]] = best_move[1]
        current = best_value
    return sites, _cost_of(weighted, sites)


class _Outcome:
    def __init__(self, bound: float, out: np.ndarray, forced: np.ndarray,
                 better: tuple[np.ndarray, float] | None) -> None:
        self.bound, self.out, self.forced, self.better = bound, out, forced, better


class _Lagrangian:
    """Bound of the p-median by relaxing ``Σ_j x_ij = 1`` (multipliers ``u``).

    Only the sites not yet removed are evaluated: the bound is then that of the problem
    restricted to them, which holds every solution better than the upper bound (so it
    is also a bound of the whole problem, capped by the upper bound), and each
    evaluation gets cheaper as sites are removed.
    """

    def __init__(self, weighted: np.ndarray, k: int, fixed: np.ndarray) -> None:
        self.full = weighted                              # inf for the forbidden pairs
        self.k = k
        self.is_fixed = np.zeros(weighted.shape[1], dtype=bool)
        self.is_fixed[fixed] = True
        self.n_free = k - int(self.is_fixed.sum())        # sites chosen among the free ones
        self.out = np.zeros(weighted.shape[1], dtype=bool)
        self.forced = np.zeros(weighted.shape[1], dtype=bool)
        self._restrict()

    def _restrict(self) -> None:
        self.active = np.flatnonzero(~self.out)
        self.c = np.ascontiguousarray(self.full[:, self.active])
        self.buffer = np.empty_like(self.c)
        self.fixed = self.is_fixed[self.active]
        self.free = np.flatnonzero(~self.fixed)

    def evaluate(self, u: np.ndarray) -> tuple[float, np.ndarray, np.ndarray]:
        """Bound L(u), the chosen sites (active positions) and ρ (active sites)."""
        np.subtract(self.c, u[:, None], out=self.buffer)
        np.minimum(self.buffer, 0.0, out=self.buffer)      # inf - u = inf -> 0
        rho = self.buffer.sum(axis=0)
        chosen = np.flatnonzero(self.fixed)
        if self.n_free:
            free_rho = rho[self.free]
            part = np.argpartition(free_rho, self.n_free - 1)[: self.n_free]
            chosen = np.concatenate([chosen, self.free[part]])
        return float(u.sum() + rho[chosen].sum()), chosen, rho

    def fixing(self, bound: float, chosen: np.ndarray, rho: np.ndarray, upper: float) -> int:
        """Remove the sites that cannot improve on ``upper``; force those that must stay.

        Returns how many sites were removed.
        """
        free = ~self.fixed
        if not self.n_free:
            removed = int(free.sum())
            self.out[self.active[free]] = True
            return removed
        limit = upper + OPTIMALITY_GAP * max(abs(upper), 1.0)
        is_chosen = np.zeros(len(rho), dtype=bool)
        is_chosen[chosen] = True
        free_chosen = is_chosen & free
        last = rho[free_chosen].max()                      # worst chosen free site
        others = ~is_chosen & free
        drop = others & (bound + rho - last > limit)
        self.out[self.active[drop]] = True
        if others.any():
            following = rho[others].min()                  # best unchosen free site
            self.forced[self.active[free_chosen & (bound - rho + following > limit)]] = True
        return int(drop.sum())

    def ascend(self, upper: float, *, deadline: float | None) -> _Outcome:
        n = len(self.full)
        # start: the second-cheapest assignment of each client (a classic choice)
        srt = np.sort(self.full, axis=1)
        u = srt[:, min(1, srt.shape[1] - 1)].copy()
        u[~np.isfinite(u)] = srt[:, 0][~np.isfinite(u)]
        best_bound, best_u = -np.inf, u.copy()
        better: tuple[np.ndarray, float] | None = None
        step, stall, idle = 2.0, 0, 0
        scale = max(abs(upper), 1.0)
        for _ in range(MAX_ASCENT_STEPS):
            bound, chosen, rho = self.evaluate(u)
            if bound > best_bound + 1e-12 * scale:
                best_bound, best_u, stall = bound, u.copy(), 0
            else:
                stall += 1
            value = _cost_of(self.c, chosen)               # the chosen sites: a solution
            if value < upper - 1e-12 * scale:
                upper = value
                better = (self.active[chosen], value)
            removed = self.fixing(bound, chosen, rho, upper)
            idle = 0 if removed else idle + 1
            if upper - best_bound <= OPTIMALITY_GAP * scale:
                break
            if len(self.active) - removed <= self.k or idle > MAX_IDLE_STEPS:
                break                                      # the reduced MILP decides
            if removed and removed > 0.1 * len(self.active):
                self._restrict()                           # same u, fewer columns
                continue
            if stall >= 15:
                step /= 2.0
                stall = 0
                u = best_u.copy()
                if step < 1e-4:
                    break
            served = (self.c[:, chosen] - u[:, None] < 0).sum(axis=1) if len(chosen) \
                else np.zeros(n)
            g = 1.0 - served
            norm = float(g @ g)
            if norm == 0.0:                                # the relaxed solution is feasible
                best_bound = max(best_bound, bound)
                break
            u = u + step * (upper - bound) / norm * g
            if deadline is not None and time.perf_counter() > deadline:
                break
        return _Outcome(bound=min(best_bound, upper), out=self.out.copy(),
                        forced=self.forced.copy(), better=better)


def _reduced_milp(weighted: np.ndarray, keep: np.ndarray, k: int, forced: np.ndarray,
                  *, time_limit: float | None
                  ) -> tuple[np.ndarray, float, bool, float] | None:
    """The classical model on the remaining sites: (sites, value, proven, bound).

    ``None`` when it has no solution: then no solution beats the upper bound. At the
    time limit without a solution, the value is infinite and the bound unknown.
    """
    sub = weighted[:, keep]
    allowed = np.isfinite(sub)
    if not allowed.any(axis=1).all() or len(keep) < k:
        return None                                      # no solution within these sites
    n_clients, n_sites = sub.shape
    ci, sj = np.nonzero(allowed)
    n_x = len(ci)
    n = n_sites + n_x
    c = np.concatenate([np.zeros(n_sites), sub[ci, sj]])
    assign, link, count = assignment_blocks(ci, sj, n_clients, n_sites)
    lower = np.zeros(n)
    lower[np.flatnonzero(np.isin(keep, forced))] = 1.0
    if lower.sum() > k:
        return None
    integrality = np.concatenate([np.ones(n_sites), np.zeros(n_x)])
    out = run_milp(c, integrality, lower, np.ones(n),
                   [(assign, np.ones(n_clients), np.ones(n_clients)),
                    (link, np.full(n_x, -np.inf), np.zeros(n_x)),
                    (count, np.array([k]), np.array([k]))],
                   time_limit=time_limit, rel_gap=OPTIMALITY_GAP)
    if out.x is None:
        if "infeasible" in out.message.lower():
            return None
        return np.array(forced, dtype=int), float("inf"), False, -np.inf
    sites = keep[np.flatnonzero(out.x[:n_sites] > 0.5)]
    return sites, _cost_of(weighted, sites), out.optimal, out.bound
