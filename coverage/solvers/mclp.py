"""Maximal covering (MCLP): K sites maximising the weight within T minutes.

Exact, with the same scheme as the p-median (:mod:`coverage.solvers.pmedian`):

1. exact reductions (:mod:`coverage.solvers.reduce`: merged clients, dominated sites);
2. lower bound: greedy, then best-improvement swaps (every swap priced at once);
3. upper bound: Lagrangian relaxation of ``z_i ≤ Σ_{j covers i} y_j`` (multipliers
   ``λ_i ∈ [0, w_i]``): ``L(λ) = Σ_i (w_i − λ_i)⁺ + (sum of the K largest σ_j)``,
   ``σ_j = Σ_{i covered by j} λ_i``; subgradient descent;
4. site fixing: a site whose opening (closing) would bring the bound below the best
   known coverage is removed (kept open);
5. HiGHS on the remaining sites and the clients they can still change (clients covered
   by a site that must stay open count as covered), unless the bounds already meet.

:meth:`MCLP.solve_classic` hands the whole model to HiGHS (the tests compare both).
"""

from __future__ import annotations

import time

import numpy as np
from scipy.sparse import coo_matrix, csr_matrix

from coverage.solvers.base import (
    OPTIMALITY_GAP,
    STATUS_OPTIMAL,
    MilpOutcome,
    SolverResult,
    check_fixed,
    check_matrix,
    checked,
    nearest_open,
    relative_gap,
    remaining,
    run_milp,
    time_limit_status,
)
from coverage.solvers.reduce import merge_clients, undominated_sites

MAX_DESCENT_STEPS = 1500
MAX_IDLE_STEPS = 120


class MCLP:
    def __init__(self, cost: np.ndarray, weights: np.ndarray, k: int, threshold: float, *,
                 fixed: list[int]) -> None:
        self.cost, self.weights, self.k, self.threshold, self.fixed = \
            cost, weights, k, threshold, fixed

    @classmethod
    def from_cost_matrix(cls, cost: np.ndarray, *, weights: np.ndarray, k: int,
                         threshold: float, fixed: list[int] | None = None) -> MCLP:
        cost = check_matrix(cost)
        if not 1 <= k <= cost.shape[1]:
            raise ValueError("k must be between 1 and the number of candidate sites")
        weights = np.asarray(weights, dtype=float)
        if weights.shape != (cost.shape[0],) or not np.isfinite(weights).all() \
                or (weights < 0).any():
            raise ValueError("weights must be finite, non-negative, one per client")
        return cls(cost, weights, k, threshold, fixed=check_fixed(fixed, cost.shape[1], k))

    def _reduced(self) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """(covers, rows, weights, kept sites): merged clients, undominated sites."""
        n_sites = self.cost.shape[1]
        covers = self.cost <= self.threshold          # inf never covers
        useful = covers.any(axis=1) & (self.weights > 0)
        rows, weights = merge_clients(covers[useful], self.weights[useful])
        keep = undominated_sites(rows, self.fixed)
        if len(keep) < self.k:                        # everything coverable: pad
            keep = np.union1d(keep, np.setdiff1d(np.arange(n_sites), keep)[: self.k - len(keep)])
        return covers, rows[:, keep], weights, keep

    def _result(self, covers: np.ndarray, sites: np.ndarray, start: float, *, status: str,
                bound: float) -> SolverResult:
        sites = np.sort(np.asarray(sites, dtype=int))
        covered = float(self.weights[covers[:, sites].any(axis=1)].sum())
        bound = max(bound, covered)
        return SolverResult(sites=sites, assignment=nearest_open(self.cost, sites),
                            objective=covered, status=status,
                            solve_seconds=time.perf_counter() - start, bound=bound,
                            gap=0.0 if status == STATUS_OPTIMAL else relative_gap(covered, bound))

    def solve(self, *, time_limit: float | None = None) -> SolverResult:
        """Exact optimum: reductions, bounds, site fixing, HiGHS on what remains."""
        start = time.perf_counter()
        deadline = start + time_limit if time_limit else None
        covers, rows, weights, keep = self._reduced()
        fixed = np.flatnonzero(np.isin(keep, self.fixed))
        a = rows.astype(float)
        sites, lower = _local_search(a, weights, _greedy(a, weights, self.k, fixed), fixed,
                                     deadline)
        total = float(weights.sum())
        tol = OPTIMALITY_GAP * max(total, 1.0)
        bound, out, forced, better = _descend(a, weights, self.k, fixed, lower, deadline)
        if better is not None and better[1] > lower:
            sites, lower = better
        if bound - lower <= tol:
            return self._result(covers, keep[sites], start, status=STATUS_OPTIMAL, bound=lower)
        left = np.flatnonzero(~out)
        must = np.union1d(fixed, np.flatnonzero(forced))
        if len(must) > self.k or len(left) < self.k:
            return self._result(covers, keep[sites], start, status=STATUS_OPTIMAL, bound=lower)
        # clients covered by a site that stays open are covered in every better solution
        sure = a[:, must].any(axis=1) if len(must) else np.zeros(len(a), dtype=bool)
        live = ~sure & a[:, left].any(axis=1)
        milp = _milp(rows[np.ix_(live, left)], weights[live], self.k,
                     np.isin(left, must), time_limit=remaining(deadline))
        if milp is None:
            return self._result(covers, keep[sites], start, status=STATUS_OPTIMAL, bound=lower)
        chosen, proven, milp_bound = milp
        constant = float(weights[sure].sum())
        candidate = left[chosen]
        value = float(weights[a[:, candidate].any(axis=1)].sum())
        if value > lower:
            sites, lower = candidate, value
        upper = lower if proven else min(bound, milp_bound + constant)
        status = STATUS_OPTIMAL if upper - lower <= tol else \
            time_limit_status(relative_gap(lower, upper))
        return self._result(covers, keep[sites], start, status=status, bound=max(upper, lower))

    def solve_classic(self, *, time_limit: float | None = None) -> SolverResult:
        """The whole model given to HiGHS (the former method; the tests' reference)."""
        start = time.perf_counter()
        covers = self.cost <= self.threshold
        n_clients, n_sites = covers.shape
        chosen, _, bound = _milp_or_raise(covers, self.weights, self.k,
                                          np.isin(np.arange(n_sites), self.fixed),
                                          time_limit=time_limit)
        out = self._result(covers, chosen, start, status=STATUS_OPTIMAL, bound=bound)
        if bound - out.objective > OPTIMALITY_GAP * max(float(self.weights.sum()), 1.0):
            out.status = time_limit_status(relative_gap(out.objective, bound))
            out.gap = relative_gap(out.objective, bound)
        return out

    def coverage_share(self, result: SolverResult) -> float:
        total = float(self.weights.sum())
        return result.objective / total if total else 0.0



def _greedy(a: np.ndarray, w: np.ndarray, k: int, fixed: np.ndarray) -> np.ndarray:
    chosen = list(fixed)
    covered = a[:, chosen].any(axis=1) if chosen else np.zeros(len(a), dtype=bool)
    while len(chosen) < k:
        gain = (w * ~covered) @ a
        gain[chosen] = -1.0
        j = int(np.argmax(gain))
        chosen.append(j)
        covered |= a[:, j] > 0
    return np.array(chosen, dtype=int)


def _local_search(a: np.ndarray, w: np.ndarray, sites: np.ndarray, fixed: np.ndarray,
                  deadline: float | None) -> tuple[np.ndarray, float]:
    """Best-improvement swaps; returns the sites and the weight they cover."""
    sites = sites.copy()
    movable = [t for t in range(len(sites)) if sites[t] not in set(fixed.tolist())]
    count = a[:, sites].sum(axis=1)
    value = float(w[count > 0].sum())
    while movable and (deadline is None or time.perf_counter() < deadline):
        best, move = value, None
        for t in movable:
            without = count - a[:, sites[t]]
            lost = float(w[(without == 0) & (count > 0)].sum())
            gain = (w * (without == 0)) @ a
            gain[sites] = -np.inf
            j = int(np.argmax(gain))
            if value - lost + gain[j] > best + 1e-12 * max(best, 1.0):
                best, move = value - lost + float(gain[j]), (t, j)
        if move is None:
            break
        count += a[:, move[1]] - a[:, sites[move[0]]]
        sites[move[0]] = move[1]
        value = float(w[count > 0].sum())
    return sites, value


def _descend(a: np.ndarray, w: np.ndarray, k: int, fixed: np.ndarray, lower: float,
             deadline: float | None
             ) -> tuple[float, np.ndarray, np.ndarray, tuple[np.ndarray, float] | None]:
    """Lagrangian upper bound with site fixing: (bound, out, forced, better solution)."""
    n, m = a.shape
    is_fixed = np.zeros(m, dtype=bool)
    is_fixed[fixed] = True
    free = np.flatnonzero(~is_fixed)
    n_free = k - len(fixed)
    out = np.zeros(m, dtype=bool)
    forced = np.zeros(m, dtype=bool)
    lam = w / 2.0
    best_bound, best_lam = float(w.sum()), lam.copy()      # λ = 0 bounds by the total
    better: tuple[np.ndarray, float] | None = None
    scale = max(float(w.sum()), 1.0)
    tol = OPTIMALITY_GAP * scale
    step, stall, idle = 2.0, 0, 0
    for _ in range(MAX_DESCENT_STEPS):
        sigma = lam @ a
        active_free = free[~out[free]]
        chosen = np.flatnonzero(is_fixed)
        if n_free:
            part = np.argpartition(-sigma[active_free], n_free - 1)[:n_free]
            chosen = np.concatenate([chosen, active_free[part]])
        bound = float(np.maximum(w - lam, 0.0).sum() + sigma[chosen].sum())
        if bound < best_bound - 1e-12 * scale:
            best_bound, best_lam, stall = bound, lam.copy(), 0
        else:
            stall += 1
        counts = a[:, chosen].sum(axis=1)
        value = float(w[counts > 0].sum())
        if value > lower + 1e-12 * scale:
            lower, better = value, (chosen.copy(), value)
        removed = 0
        if n_free:
            is_chosen = np.zeros(m, dtype=bool)
            is_chosen[chosen] = True
            free_chosen = is_chosen & ~is_fixed
            weakest = sigma[free_chosen].min()
            others = ~is_chosen & ~is_fixed & ~out
            drop = others & (bound + sigma - weakest < lower + tol)
            removed = int(drop.sum())
            out |= drop
            others &= ~drop
            if others.any():
                strongest = sigma[others].max()
                forced |= free_chosen & (bound - sigma + strongest < lower + tol)
        idle = 0 if removed else idle + 1
        if best_bound - lower <= tol or int((~out).sum()) <= k or \
                (idle > MAX_IDLE_STEPS and step < 0.3):
            break
        if stall >= 15:
            step /= 2.0
            stall = 0
            lam = best_lam.copy()
            if step < 1e-4:
                break
        d = counts - (w > lam)
        norm = float(d @ d)
        if norm == 0.0:
            break
        lam = np.clip(lam - step * (bound - lower) / norm * d, 0.0, w)
        if deadline is not None and time.perf_counter() > deadline:
            break
    return max(best_bound, lower), out, forced, better


def _milp(rows: np.ndarray, weights: np.ndarray, k: int, must: np.ndarray, *,
          time_limit: float | None) -> tuple[np.ndarray, bool, float] | None:
    """HiGHS on ``rows`` (clients × sites): (chosen positions, proven, upper bound)."""
    out = _run(rows, weights, k, must, time_limit=time_limit)
    if out.x is None:
        return None if "infeasible" in out.message.lower() else \
            (np.flatnonzero(must), False, float(weights.sum()))
    n_sites = rows.shape[1]
    return np.flatnonzero(out.x[:n_sites] > 0.5), out.optimal, out.bound


def _milp_or_raise(rows: np.ndarray, weights: np.ndarray, k: int, must: np.ndarray, *,
                   time_limit: float | None) -> tuple[np.ndarray, bool, float]:
    out = _run(rows, weights, k, must, time_limit=time_limit)
    x, _, _ = checked(out)
    return np.flatnonzero(x[: rows.shape[1]] > 0.5), out.optimal, out.bound


def _run(rows: np.ndarray, weights: np.ndarray, k: int, must: np.ndarray, *,
         time_limit: float | None) -> MilpOutcome:
    n_clients, n_sites = rows.shape
    n = n_sites + n_clients                           # y sites, then z clients (covered)
    ci, sj = np.nonzero(rows)
    # z_i - Σ_{j covers i} y_j ≤ 0
    block = coo_matrix((np.concatenate([np.ones(n_clients), -np.ones(len(ci))]),
                        (np.concatenate([np.arange(n_clients), ci]),
                         np.concatenate([n_sites + np.arange(n_clients), sj]))),
                       shape=(n_clients, n)).tocsr()
    count = csr_matrix((np.ones(n_sites), (np.zeros(n_sites, dtype=int), np.arange(n_sites))),
                       shape=(1, n))
    c = np.concatenate([np.zeros(n_sites), weights])
    lower = np.zeros(n)
    lower[np.flatnonzero(must)] = 1.0
    return run_milp(c, np.concatenate([np.ones(n_sites), np.zeros(n_clients)]), lower,
                    np.ones(n), [(block, np.full(n_clients, -np.inf), np.zeros(n_clients)),
                                 (count, np.array([k]), np.array([k]))],
                    maximize=True, time_limit=time_limit, rel_gap=OPTIMALITY_GAP)
