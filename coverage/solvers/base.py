"""Shared pieces: the result type, input checks, the sparse MILP call."""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy.optimize import Bounds, LinearConstraint, milp
from scipy.sparse import coo_matrix, csr_matrix

from geo.errors import MaillageError


@dataclass
class SolverResult:
    """Plain arrays, as spopt returns them.

    Attributes
    ----------
    sites
        Sorted indices of the open candidate sites.
    assignment
        For each client, the index of the site serving it (``-1`` when none).
    objective
        Objective value of the optimum (model-specific units).
    status
        ``"optimal"`` when the optimum is proven; otherwise a French message saying that
        the time limit was reached, with the gap.
    solve_seconds
        Wall time of the solve (bounds, heuristics and MILP).
    bound
        Proven bound on the optimum (lower for a minimisation, upper for a
        maximisation); equal to ``objective`` when the optimum is proven.
    gap
        Relative gap ``|objective - bound| / |objective|`` (0 when proven optimal).
    """

    sites: np.ndarray
    assignment: np.ndarray
    objective: float
    status: str
    solve_seconds: float
    bound: float = float("nan")
    gap: float = 0.0

    @property
    def optimal(self) -> bool:
        return self.status == STATUS_OPTIMAL


STATUS_OPTIMAL = "optimal"
#: Relative tolerance of "proven optimal" (HiGHS's own default, 1e-4, would accept a
#: solution 0.01 % off).
OPTIMALITY_GAP = 1e-9


def remaining(deadline: float | None, *, share: float = 1.0) -> float | None:
    """Seconds left before ``deadline`` (times ``share``), at least 0.01; ``None``: no limit."""
    if deadline is None:
        return None
    return max((deadline - time.perf_counter()) * share, 0.01)


def time_limit_status(gap: float) -> str:
    """French status of a solve stopped by its time limit, with the proven gap."""
    if not np.isfinite(gap):
        return "limite de temps atteinte : meilleure solution trouvée, écart à l'optimum inconnu"
    pct = f"{100 * gap:.2f}".replace(".", ",")
    return f"limite de temps atteinte : meilleure solution trouvée, au plus {pct} % de l'optimum"


def check_matrix(cost: np.ndarray) -> np.ndarray:
    cost = np.asarray(cost, dtype=float)
    if cost.ndim != 2:
        raise ValueError("cost must be a clients × sites matrix")
    if np.isnan(cost).any():
        raise ValueError("cost contains NaN: use np.inf for unreachable pairs")
    if (cost < 0).any():
        raise ValueError("cost must be non-negative")
    return cost


def labels_of(labels: list[str] | None, n: int, prefix: str) -> list[str]:
    return list(labels) if labels is not None else [f"{prefix} {i}" for i in range(n)]


def require_reachable(allowed: np.ndarray, client_labels: list[str], *, what: str) -> None:
    """Raise a French error naming the clients with no allowed site."""
    orphans = np.flatnonzero(~allowed.any(axis=1))
    if len(orphans):
        names = ", ".join(client_labels[i] for i in orphans[:30])
        more = f" (et {len(orphans) - 30} autres)" if len(orphans) > 30 else ""
        raise MaillageError(f"Aucun site candidat {what} pour {len(orphans)} commune(s) : "
                            f"{names}{more}.")


def check_fixed(fixed: list[int] | None, n_sites: int, k: int | None = None) -> list[int]:
    fixed = sorted(set(int(f) for f in (fixed or [])))
    if any(f < 0 or f >= n_sites for f in fixed):
        raise MaillageError("Site imposé hors de la liste des candidats.")
    if k is not None and len(fixed) > k:
        raise MaillageError(f"{len(fixed)} sites imposés pour {k} antennes : impossible.")
    return fixed


@dataclass
class MilpOutcome:
    """What HiGHS returned: ``x`` is ``None`` when no feasible solution was found."""

    x: np.ndarray | None
    objective: float
    optimal: bool
    bound: float
    seconds: float
    message: str


def run_milp(c: np.ndarray, integrality: np.ndarray, lower: np.ndarray, upper: np.ndarray,
             rows: list[tuple[csr_matrix, np.ndarray, np.ndarray]], *, maximize: bool = False,
             time_limit: float | None = None, rel_gap: float | None = None) -> MilpOutcome:
    """Run HiGHS (``scipy.optimize.milp``) and keep its incumbent and bound."""
    constraints = [LinearConstraint(a, lo, hi) for a, lo, hi in rows]
    options: dict[str, Any] = {"disp": False}
    if time_limit:
        options["time_limit"] = max(float(time_limit), 0.01)
    if rel_gap is not None:
        options["mip_rel_gap"] = rel_gap
    start = time.perf_counter()
    res = milp(-c if maximize else c, integrality=integrality, bounds=Bounds(lower, upper),
               constraints=constraints, options=options)
    seconds = time.perf_counter() - start
    sign = -1.0 if maximize else 1.0
    objective = sign * float(res.fun) if res.x is not None else float("nan")
    bound = getattr(res, "mip_dual_bound", None)
    bound = sign * float(bound) if bound is not None and np.isfinite(bound) else objective
    return MilpOutcome(x=res.x, objective=objective, optimal=res.status == 0,
                       bound=bound if res.status != 0 else objective, seconds=seconds,
                       message=str(res.message))


def relative_gap(objective: float, bound: float) -> float:
    if not (np.isfinite(objective) and np.isfinite(bound)):
        return float("inf")
    return abs(objective - bound) / max(abs(objective), 1e-9)


def checked(out: MilpOutcome) -> tuple[np.ndarray, str, float]:
    """``(x, status, gap)`` of a HiGHS run; a French error only when it found no solution."""
    if out.x is None:
        raise MaillageError(f"Pas de solution : {out.message}")
    if out.optimal:
        return out.x, STATUS_OPTIMAL, 0.0
    gap = relative_gap(out.objective, out.bound)
    return out.x, time_limit_status(gap), gap


def solve(c: np.ndarray, integrality: np.ndarray, lower: np.ndarray, upper: np.ndarray,
          rows: list[tuple[csr_matrix, np.ndarray, np.ndarray]], *, maximize: bool = False,
          time_limit: float | None = None) -> tuple[np.ndarray, float, str, float]:
    """Run HiGHS; returns (x, objective, status, seconds).

    At the time limit the best solution found is returned with a status giving its
    gap; only when HiGHS found none is there no solution.
    """
    out = run_milp(c, integrality, lower, upper, rows, maximize=maximize, time_limit=time_limit)
    x, status, _ = checked(out)
    return x, out.objective, status, out.seconds


def nearest_open(cost: np.ndarray, sites: np.ndarray) -> np.ndarray:
    """Index of the nearest open site for every client (-1 if none reachable)."""
    if len(sites) == 0:
        return np.full(cost.shape[0], -1)
    sub = cost[:, sites]
    best = sub.argmin(axis=1)
    out = sites[best].astype(int)
    out[~np.isfinite(sub[np.arange(len(sub)), best])] = -1
    return out


def assignment_blocks(ci: np.ndarray, sj: np.ndarray, n_clients: int, n_sites: int
                      ) -> tuple[csr_matrix, csr_matrix, csr_matrix]:
    """Rows shared by the p-median models, over variables ``[y_0..y_m-1, x_pairs]``.

    ``assign``: Σ_j x_ij (= 1 per client); ``link``: x_ij - y_j (≤ 0 per pair);
    ``count``: Σ_j y_j (= K).
    """
    n_x = len(ci)
    n = n_sites + n_x
    xcols = n_sites + np.arange(n_x)
    assign = csr_matrix((np.ones(n_x), (ci, xcols)), shape=(n_clients, n))
    link = coo_matrix((np.concatenate([np.ones(n_x), -np.ones(n_x)]),
                       (np.tile(np.arange(n_x), 2), np.concatenate([xcols, sj]))),
                      shape=(n_x, n)).tocsr()
    count = csr_matrix((np.ones(n_sites), (np.zeros(n_sites, dtype=int), np.arange(n_sites))),
                       shape=(1, n))
    return assign, link, count
