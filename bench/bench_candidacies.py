"""Benchmark: the ARS review across candidacies on Haute-Loire, against its baseline.

Baseline = checking each candidacy on its own (``check_plan`` with estimated drive
times), which the review must do anyway; the review adds the cross-candidacy part
(conflicts, pairs grouped by antenna and EPCI, unclaimed communes). Candidacies: the
3-territory hypothesis (257 communes) and ``n - 1`` rivals, each a copy with one antenna
dropped and 12 of its communes given to another antenna (overlaps, unclaimed communes).
No database: the communes come from the shared source files.

    .venv/bin/python bench/bench_candidacies.py
"""

from __future__ import annotations

import copy
import statistics
import time

from coverage.candidacy import review_candidacies
from coverage.checks import check_plan
from coverage.drivetimes import plan_drive_times
from coverage.territories import plan_from_epci_grouping
from geo import settings
from geo.communes import frame_from_source, read_communes_source


def _best(fn, repeat: int = 5) -> float:
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def main() -> None:
    data = settings.data_dir()
    communes = frame_from_source(read_communes_source(data / "communes", dept="43"))
    base = plan_from_epci_grouping(data / "territories" / "haute-loire-3-territoires-hypothese.csv",
                                   communes=communes, dept="43",
                                   seats=["43157", "43268", "43040"], name="A")
    print(f"Haute-Loire : {len(communes)} communes")
    print(f"{'candidatures':>12}  {'contrôles seuls':>15}  {'revue complète':>14}  ratio")
    for n in (2, 4, 8):
        plans = [base]
        for i in range(1, n):
            rival = copy.deepcopy(base)
            rival.name = f"R{i}"
            dropped = rival.antennas.pop(i % len(rival.antennas))
            rival.antennas[0].communes += dropped.communes[:12]
            plans.append(rival)
        entries = [({"id": i, "name": p.name, "version": 1}, p) for i, p in enumerate(plans)]

        def checks_only(plans=plans) -> None:
            for p in plans:
                check_plan(p, communes, drive_times=plan_drive_times(p, communes))

        def full_review(entries=entries) -> None:
            review_candidacies(entries, communes)

        base_s, review_s = _best(checks_only), _best(full_review)
        print(f"{n:>12}  {base_s * 1000:>12.1f} ms  {review_s * 1000:>11.1f} ms  "
              f"{review_s / base_s:.2f}")


if __name__ == "__main__":
    main()
