"""Benchmark: Maillage's exact p-median against PySAL spopt, and the regional sizes.

Instances: communes as clients and candidates, weights = population, cost = estimated
drive time (straight line × 1.3 at 60 km/h between representative points), as
``plan propose`` builds it without a road network.

1. Haute-Loire (257 × 257), each K = 2…8: Maillage against spopt (PuLP + HiGHS), spopt
   run twice per K — HiGHS presolve on and off — and the better of the two kept. Both
   objectives are printed; Maillage's must not be worse (spopt stops at HiGHS's default
   0.01 % gap, Maillage proves the optimum to 1e-9).
2. Puy-de-Dôme (463 × 463): the whole K = 2…8 scenario table (warm starts between K, as
   ``plan scenarios`` does), and each K solved cold.
3. Both départements (720 × 720, a regional view), K = 10.

Times include building the models, as a user pays them. ``--spopt-all`` also runs spopt
on parts 2 and 3 (minutes: 99 s for one K on Puy-de-Dôme measured here).

    .venv/bin/python bench/bench_pmedian.py [--spopt-all]
"""

from __future__ import annotations

import os
import platform
import sys
import time
import warnings

import numpy as np

from coverage.solvers import PMedian, SolverResult
from geo import settings
from geo.communes import frame_from_source, read_communes_source
from geo.estimated import estimated_matrix


def instance(*depts: str) -> tuple[np.ndarray, np.ndarray]:
    import pandas as pd

    frames = [frame_from_source(read_communes_source(settings.data_dir() / "communes", dept=d))
              for d in depts]
    communes = pd.concat(frames)
    points = communes[["point_x", "point_y"]].to_numpy(dtype=float)
    return estimated_matrix(points, points).minutes, communes["population"].to_numpy(dtype=float)


def ours(cost: np.ndarray, weights: np.ndarray, k: int,
         warm: SolverResult | None = None) -> tuple[SolverResult, float]:
    t0 = time.perf_counter()
    result = PMedian.from_cost_matrix(cost, weights=weights, k=k).solve(warm_start=warm)
    seconds = time.perf_counter() - t0
    assert result.status == "optimal", result.status
    return result, seconds


def spopt(cost: np.ndarray, weights: np.ndarray, k: int, *, presolve: bool
          ) -> tuple[float, float]:
    import pulp
    from spopt.locate import PMedian as SpoptPMedian

    t0 = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        model = SpoptPMedian.from_cost_matrix(cost, weights, p_facilities=k)
        model.solve(pulp.HiGHS(msg=False, presolve="on" if presolve else "off"))
    return float(pulp.value(model.problem.objective)), time.perf_counter() - t0


def best_spopt(cost: np.ndarray, weights: np.ndarray, k: int) -> tuple[float, float, str]:
    on = spopt(cost, weights, k, presolve=True)
    off = spopt(cost, weights, k, presolve=False)
    objective = min(on[0], off[0])
    return (objective, on[1], "avec") if on[1] <= off[1] else (objective, off[1], "sans")


def machine() -> str:
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    return (f"{platform.machine()}, {os.cpu_count()} cœurs, Python {platform.python_version()}, "
            f"charge moyenne {load:.2f}, {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}")


def main() -> None:
    spopt_all = "--spopt-all" in sys.argv
    print(f"Machine : {machine()}")
    cost, weights = instance("43")
    print(f"\n1. Haute-Loire : {len(cost)} × {cost.shape[1]}, p-médiane exacte contre spopt "
          "(PuLP + HiGHS, meilleur de « presolve » avec / sans)")
    print(f"{'K':>2}  {'objectif Maillage':>18}  {'objectif spopt':>16}  {'Maillage':>9}  "
          f"{'spopt':>9}  presolve  ratio")
    ratios, worst = [], 0.0
    for k in range(2, 9):
        result, mine = ours(cost, weights, k)
        theirs, theirs_s, presolve = best_spopt(cost, weights, k)
        assert result.objective <= theirs * (1 + 1e-9), (result.objective, theirs)
        assert result.objective >= theirs * (1 - 1e-4), (result.objective, theirs)
        ratios.append(theirs_s / mine)
        worst = max(worst, mine)
        same = "=" if abs(result.objective - theirs) <= 1e-6 * theirs else "<"
        print(f"{k:>2}  {result.objective:>18,.1f} {same} {theirs:>15,.1f}  {mine:>7.3f} s  "
              f"{theirs_s:>7.2f} s  {presolve:>8}  {theirs_s / mine:>5.0f}×")
    met = worst <= 0.5 and min(ratios) >= 10
    print(f"pire temps Maillage {worst:.3f} s (cible ≤ 0,5 s), ratio minimal {min(ratios):.0f}× "
          f"(cible ≥ 10×) — {'ATTEINTE' if met else 'NON ATTEINTE'}")

    cost, weights = instance("63")
    print(f"\n2. Puy-de-Dôme : {len(cost)} × {cost.shape[1]}, tableau K = 2…8")
    t0 = time.perf_counter()
    previous: SolverResult | None = None
    cold_total = 0.0
    for k in range(2, 9):
        result, seconds = ours(cost, weights, k, warm=previous)
        cold, cold_s = ours(cost, weights, k)
        assert abs(cold.objective - result.objective) <= 1e-9 * result.objective
        cold_total += cold_s
        previous = result
        line = f"   K={k}  objectif {result.objective:>14,.1f}  {seconds:6.3f} s (à froid {cold_s:.3f} s)"
        if spopt_all:
            theirs, theirs_s, presolve = best_spopt(cost, weights, k)
            line += f"  spopt {theirs:,.1f} en {theirs_s:.1f} s ({presolve} presolve)"
        print(line, flush=True)
    table = time.perf_counter() - t0 - cold_total
    print(f"tableau complet (départs à chaud) : {table:.2f} s, à froid : {cold_total:.2f} s "
          f"(cible ≤ 10 s) — {'ATTEINTE' if max(table, cold_total) <= 10 else 'NON ATTEINTE'}")

    cost, weights = instance("43", "63")
    print(f"\n3. Haute-Loire + Puy-de-Dôme : {len(cost)} × {cost.shape[1]}, K = 10")
    result, seconds = ours(cost, weights, 10)
    line = f"   objectif {result.objective:,.1f}, optimum prouvé, {seconds:.2f} s (cible ≤ 10 s)"
    if spopt_all:
        theirs, theirs_s, presolve = best_spopt(cost, weights, 10)
        line += f"; spopt {theirs:,.1f} en {theirs_s:.1f} s ({presolve} presolve)"
    print(line, "—", "ATTEINTE" if seconds <= 10 else "NON ATTEINTE")


if __name__ == "__main__":
    main()
