"""Propose antenna sites with the solvers and compare scenarios for K = 2…6."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING

from coverage.plan import Antenna, Plan
from geo import settings
from geo.errors import MaillageError
from geo.fmt import de, fr_float

if TYPE_CHECKING:  # heavy: imported where used (the command line imports this module)
    import geopandas as gpd
    import numpy as np

    from coverage.sizing import SizingParameters
    from coverage.solvers import SolverResult
    from geo.traveltime import TravelTimeMatrix

MODELS = ("pmedian", "capacitated", "mclp", "lscp")
#: Seconds a proposal may take when the caller sets no limit; past it, the best solution
#: found is returned and its status gives the proven gap.
DEFAULT_TIME_LIMIT = 120.0


@dataclass
class Proposal:
    model: str
    plan: Plan
    result: SolverResult
    minutes: np.ndarray  # per commune, to its antenna


def solve_note_fr(model: str, result: SolverResult, label: str) -> str:
    """How a proposal was solved, for people: « optimum exact » only for a proven optimum,
    otherwise the time-limit status with its gap (the CLI report and the web say it)."""
    seconds = fr_float(result.solve_seconds, 2)
    if result.optimal:
        how = f"optimum exact HiGHS en {seconds} s"
    else:
        how = f"{result.status}, après {seconds} s"
    return f"Proposition calculée ({model}, {how}, {label})."


def _labels(communes: gpd.GeoDataFrame) -> list[str]:
    return [f"{c} {n}" for c, n in zip(communes.index, communes["nom"], strict=True)]


def propose(communes: gpd.GeoDataFrame, matrix: TravelTimeMatrix, *, k: int | None,
            model: str = "pmedian", max_minutes: float | None = None,
            fixed: list[str] | None = None, coordinators: float | None = None,
            sizing: SizingParameters | None = None, name: str | None = None,
            time_limit: float | None = None, warm_start: SolverResult | None = None,
            locked: dict[str, str] | None = None) -> Proposal:
    """Solve one model; candidates = the communes (``matrix`` is communes × communes).

    ``matrix.minutes[i, j]`` is the time from candidate site ``i`` to commune ``j``; the
    solvers take clients × sites, hence the transpose. ``time_limit`` defaults to
    :data:`DEFAULT_TIME_LIMIT`; past it the best solution comes back with its gap in
    ``result.status``. ``warm_start``: the p-median result for another K (its sites
    start the local search). ``locked`` maps communes to the seat (one of ``fixed``) they
    must stay with: every other site is made unreachable for them, so the solvers (which
    give unreachable pairs no variable) cannot move them.
    """
    import numpy as np

    from coverage.sizing import SizingParameters, commune_demand
    from coverage.solvers import LSCP, MCLP, CapacitatedPMedian, PMedian

    codes = list(communes.index)
    if time_limit is None:
        time_limit = DEFAULT_TIME_LIMIT
    cost = matrix.minutes.T
    if locked:
        missing = sorted({s for s in locked.values() if s not in (fixed or [])})
        if missing:
            raise MaillageError("Une commune verrouillée suit le siège de son antenne : "
                                f"verrouillez aussi le siège {', '.join(missing)}.")
        cost = cost.copy()
        position = {c: i for i, c in enumerate(codes)}
        for commune, seat in locked.items():
            i, j = position[commune], position[seat]
            keep = cost[i, j]
            if not np.isfinite(keep):
                raise MaillageError(f"La commune verrouillée {commune} n'a pas de trajet "
                                    f"vers le siège {seat}.")
            if max_minutes is not None and keep > max_minutes:
                raise MaillageError(
                    f"La commune verrouillée {commune} est à {keep:.0f} min du siège {seat}, "
                    f"au-delà du temps maximal de {max_minutes:g} min : déverrouillez-la ou "
                    "relevez le temps maximal.")
            cost[i, :] = np.inf
            cost[i, j] = keep
    weights = communes["population"].to_numpy(dtype=float)
    fixed_idx = [codes.index(c) for c in (fixed or [])]
    labels = _labels(communes)
    threshold = max_minutes if max_minutes is not None else settings.DEFAULT_THRESHOLD_MINUTES
    if model == "pmedian":
        k = _require_k(k, model)
        result = PMedian.from_cost_matrix(cost, weights=weights, k=k, fixed=fixed_idx,
                                          max_minutes=max_minutes,
                                          client_labels=labels).solve(time_limit=time_limit,
                                                                      warm_start=warm_start)
    elif model == "capacitated":
        k = _require_k(k, model)
        demand = commune_demand(communes, sizing or SizingParameters()).to_numpy()
        per_site = coordinators or math.ceil(demand.sum() / k / settings.PATIENTS_PER_COORDINATOR_DEFAULT)
        result = CapacitatedPMedian.from_cost_matrix(
            cost, weights=weights, demand=demand,
            capacity=per_site * settings.PATIENTS_PER_COORDINATOR_MAX, k=k, fixed=fixed_idx,
            max_minutes=max_minutes, client_labels=labels).solve(time_limit=time_limit)
    elif model == "mclp":
        k = _require_k(k, model)
        result = MCLP.from_cost_matrix(cost, weights=weights, k=k, threshold=threshold,
                                       fixed=fixed_idx).solve(time_limit=time_limit)
    elif model == "lscp":
        result = LSCP.from_cost_matrix(cost, threshold=threshold, fixed=fixed_idx,
                                       client_labels=labels).solve(time_limit=time_limit)
    else:
        raise ValueError(model)
    plan = Plan(name=name or f"Proposition {model} ({len(result.sites)} antennes)",
                dept=str(communes["departement"].iloc[0]))
    by_site: dict[int, Antenna] = {}
    for j in result.sites:
        antenna = Antenna(name=f"Antenne {de(communes.iloc[j]['nom'])}", seat=codes[j])
        by_site[int(j)] = antenna
        plan.antennas.append(antenna)
    for i, j in enumerate(result.assignment):
        if j >= 0:
            by_site[int(j)].communes.append(codes[i])
    minutes = np.array([cost[i, j] if j >= 0 else np.inf
                        for i, j in enumerate(result.assignment)])
    return Proposal(model=model, plan=plan, result=result, minutes=minutes)


@dataclass
class ScenarioRow:
    k: int
    sites: list[str]
    mean_minutes: float
    max_minutes: float
    population_beyond: int
    coordinators: int
    seconds: float


def scenarios(communes: gpd.GeoDataFrame, matrix: TravelTimeMatrix, *, ks: range,
              threshold: float = settings.DEFAULT_THRESHOLD_MINUTES,
              fixed: list[str] | None = None,
              sizing: SizingParameters | None = None) -> list[ScenarioRow]:
    """p-median for each K: sites, times, population beyond the threshold, coordinators."""
    import numpy as np

    from coverage.sizing import SizingParameters, commune_demand

    pops = communes["population"].to_numpy(dtype=float)
    demand = commune_demand(communes, sizing or SizingParameters()).to_numpy()
    rows = []
    previous: SolverResult | None = None
    for k in ks:
        p = propose(communes, matrix, k=k, fixed=fixed, warm_start=previous)
        previous = p.result
        finite = np.isfinite(p.minutes)
        coordinators = sum(
            math.ceil(round(demand[[communes.index.get_loc(c) for c in a.communes]].sum(), 9)
                      / settings.PATIENTS_PER_COORDINATOR_DEFAULT) for a in p.plan.antennas)
        rows.append(ScenarioRow(
            k=k, sites=[f"{a.seat} {communes.loc[a.seat, 'nom']}" for a in p.plan.antennas],
            mean_minutes=float((p.minutes[finite] * pops[finite]).sum() / pops[finite].sum()),
            max_minutes=float(p.minutes.max()),
            population_beyond=int(pops[~(p.minutes <= threshold)].sum()),
            coordinators=coordinators, seconds=p.result.solve_seconds))
    return rows


def _require_k(k: int | None, model: str) -> int:
    if k is None:
        raise MaillageError(f"Le modèle « {model} » demande un nombre d'antennes (--k).")
    return k
