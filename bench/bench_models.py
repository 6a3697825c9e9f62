"""Benchmark: capacitated p-median, MCLP and LSCP, against the whole model in HiGHS.

Same instances as ``bench/bench_pmedian.py`` (estimated drive times between commune
representative points, population weights). For each model, the new method
(``solve``: bounds, site fixing or exact reductions, HiGHS on what remains) and the
former one (the whole model to HiGHS: ``solve_classic`` / ``reduce=False``), each with
a time limit (default 60 s); the status says whether the optimum is proven, otherwise
the proven gap is printed.

Capacitated: demand from the sizing model (DAC caseload of 1,000 spread by population),
capacity = ⌈demand ÷ K ÷ 175⌉ coordinators × 200 per antenna, as ``plan propose``.

    .venv/bin/python bench/bench_models.py [--limit SECONDS]
"""

from __future__ import annotations

import math
import sys
import time
from collections.abc import Callable
from typing import Any

from coverage.sizing import SizingParameters, commune_demand
from coverage.solvers import LSCP, MCLP, CapacitatedPMedian, SolverResult
from geo import settings
from geo.communes import frame_from_source, read_communes_source
from geo.estimated import estimated_matrix


def instance(*depts: str):
    import pandas as pd

    communes = pd.concat([frame_from_source(read_communes_source(
        settings.data_dir() / "communes", dept=d)) for d in depts])
    points = communes[["point_x", "point_y"]].to_numpy(dtype=float)
    return (estimated_matrix(points, points).minutes,
            communes["population"].to_numpy(dtype=float),
            commune_demand(communes, SizingParameters()).to_numpy())


def run(fn: Callable[..., SolverResult], **kwargs: Any) -> tuple[SolverResult, float]:
    t0 = time.perf_counter()
    result = fn(**kwargs)
    return result, time.perf_counter() - t0


def show(label: str, new: tuple[SolverResult, float], old: tuple[SolverResult, float]) -> None:
    def one(r: SolverResult, s: float) -> str:
        state = "optimum" if r.optimal else f"écart ≤ {100 * r.gap:.2f} %"
        return f"{r.objective:>14,.1f} {s:7.2f} s ({state})"

    print(f"  {label:<12} nouveau {one(*new)} | ancien {one(*old)} | "
          f"{old[1] / new[1]:5.1f}×", flush=True)


def main() -> None:
    limit = float(sys.argv[sys.argv.index("--limit") + 1]) if "--limit" in sys.argv else 60.0
    print(f"Limite de temps : {limit:g} s par résolution")
    cost, weights, demand = instance("43")
    print(f"\nHaute-Loire ({len(cost)} × {cost.shape[1]}) — p-médiane à capacités")
    for k in (3, 4, 5, 6):
        capacity = math.ceil(demand.sum() / k / settings.PATIENTS_PER_COORDINATOR_DEFAULT) * \
            settings.PATIENTS_PER_COORDINATOR_MAX
        model = CapacitatedPMedian.from_cost_matrix(cost, weights=weights, demand=demand,
                                                    capacity=capacity, k=k)
        show(f"K={k} ({capacity:g})", run(model.solve, time_limit=limit),
             run(model.solve_classic, time_limit=limit))
    print("\nHaute-Loire — couverture maximale (MCLP, 30 min)")
    for k in (2, 3, 4):
        model = MCLP.from_cost_matrix(cost, weights=weights, k=k, threshold=30.0)
        show(f"K={k}", run(model.solve, time_limit=limit),
             run(model.solve_classic, time_limit=limit))
    print("\nHaute-Loire — couverture complète (LSCP)")
    for threshold in (20.0, 25.0, 30.0):
        model = LSCP.from_cost_matrix(cost, threshold=threshold)
        show(f"T={threshold:g} min", run(model.solve, time_limit=limit),
             run(model.solve, time_limit=limit, reduce=False))
    cost, weights, demand = instance("43", "63")
    print(f"\nHaute-Loire + Puy-de-Dôme ({len(cost)} × {cost.shape[1]})")
    for k in (5, 10):
        model = MCLP.from_cost_matrix(cost, weights=weights, k=k, threshold=30.0)
        show(f"MCLP K={k}", run(model.solve, time_limit=limit),
             run(model.solve_classic, time_limit=limit))
    for threshold in (20.0, 30.0):
        model = LSCP.from_cost_matrix(cost, threshold=threshold)
        show(f"LSCP T={threshold:g}", run(model.solve, time_limit=limit),
             run(model.solve, time_limit=limit, reduce=False))


if __name__ == "__main__":
    main()
