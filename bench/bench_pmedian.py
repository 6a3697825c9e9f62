"""Benchmark: Maillage's p-median against PySAL spopt on the Haute-Loire instance.

257 communes as clients and candidates, weights = population, cost = estimated drive
time (straight line × 1.3 at 60 km/h between representative points). For K = 3…6 both
are solved to optimality with the same solver, HiGHS (spopt through PuLP's ``HiGHS``
API, Maillage through ``scipy.optimize.milp``), in the same process. Both objective
values are printed (they must be equal) with the times and the ratio. spopt's time
includes building its PuLP model, as a user pays it; Maillage's includes building its
sparse matrices.

    .venv/bin/python bench/bench_pmedian.py
"""

from __future__ import annotations

import time

import numpy as np

from coverage.solvers import PMedian
from geo import settings
from geo.communes import frame_from_source, read_communes_source
from geo.estimated import estimated_matrix


def main() -> None:
    import pulp
    from spopt.locate import PMedian as SpoptPMedian

    communes = frame_from_source(read_communes_source(settings.data_dir() / "communes",
                                                      dept="43"))
    points = communes[["point_x", "point_y"]].to_numpy(dtype=float)
    cost = estimated_matrix(points, points).minutes
    weights = communes["population"].to_numpy(dtype=float)
    print(f"Haute-Loire : {len(communes)} communes × {len(communes)} sites candidats")
    print(f"{'K':>2}  {'objectif Maillage':>18}  {'objectif spopt':>16}  {'Maillage':>9}  "
          f"{'spopt':>9}  ratio")
    ratios = []
    for k in (3, 4, 5, 6):
        t0 = time.perf_counter()
        ours = PMedian.from_cost_matrix(cost, weights=weights, k=k).solve()
        ours_s = time.perf_counter() - t0
        t0 = time.perf_counter()
        model = SpoptPMedian.from_cost_matrix(cost, weights, p_facilities=k)
        model.solve(pulp.HiGHS(msg=False))
        theirs_s = time.perf_counter() - t0
        theirs = float(pulp.value(model.problem.objective))
        assert abs(ours.objective - theirs) <= 1e-6 * max(1.0, abs(theirs)), (ours.objective, theirs)
        ratios.append(theirs_s / ours_s)
        print(f"{k:>2}  {ours.objective:>18,.1f}  {theirs:>16,.1f}  {ours_s:>7.2f} s  "
              f"{theirs_s:>7.2f} s  {theirs_s / ours_s:>4.1f}×")
    print(f"ratio moyen spopt / Maillage : {np.mean(ratios):.1f}× (cible ≥ 3×) —",
          "ATTEINTE" if min(ratios) >= 3 else "NON ATTEINTE")


if __name__ == "__main__":
    main()
