"""Benchmark: start-up of the ``maillage`` command, and ``plan check`` end to end.

Each command runs in a fresh interpreter (as a user starts it), 5 times; the median is
printed. Baselines in the same run: an empty interpreter, and importing the libraries
that every command used to load before doing anything (geopandas, osmnx, folium).

``plan check`` runs on the demo plan (Haute-Loire, 3 territories, written here from the
shared data) against ``DATABASE_URL``, which must hold the communes of 43
(``maillage communes load --dept 43``, or ``make demo``).

    .venv/bin/python bench/bench_cli.py
"""

from __future__ import annotations

import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RUNS = 5
HELP = [[], ["communes"], ["communes", "load"], ["communes", "summary"], ["plan"],
        ["plan", "import"], ["plan", "check"], ["plan", "report"], ["plan", "assign"],
        ["plan", "propose"], ["plan", "scenarios"], ["directory"], ["directory", "import"],
        ["directory", "search"], ["directory", "stale"], ["users"], ["users", "add"],
        ["users", "list"], ["users", "password"], ["serve"], ["demo"], ["roads"],
        ["roads", "fetch"]]


def timed(argv: list[str], *, check: bool = True) -> float:
    times = []
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    for _ in range(RUNS):
        t0 = time.perf_counter()
        done = subprocess.run(argv, cwd=ROOT, env=env, capture_output=True, text=True)
        times.append(time.perf_counter() - t0)
        if check and done.returncode != 0:
            raise SystemExit(f"{' '.join(argv)} : code {done.returncode}\n{done.stderr[-2000:]}")
    return statistics.median(times)


def demo_plan(folder: Path) -> Path:
    """The demo's plan of Haute-Loire, written as a promoter's CSV."""
    from coverage.assign import write_plan_csv
    from coverage.territories import plan_from_epci_grouping
    from geo import settings
    from maillage_cli.demo import DEMO_SEATS
    from maillage_cli.plan_common import communes_for

    communes = communes_for("43")
    draft = plan_from_epci_grouping(
        settings.data_dir() / "territories" / "haute-loire-3-territoires-hypothese.csv",
        communes=communes, dept="43", seats=DEMO_SEATS, name="DAC 43 — 3 territoires")
    path = folder / "plan-43.csv"
    write_plan_csv(draft, path, communes=communes)
    return path


def main() -> None:
    py = sys.executable
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    print(f"Machine : {platform.machine()}, {os.cpu_count()} cœurs, Python "
          f"{platform.python_version()}, charge moyenne {load:.2f}, "
          f"{time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())} ; médiane de {RUNS} lancements")
    empty = timed([py, "-c", "pass"])
    eager = timed([py, "-c", "import geopandas, osmnx, folium"])
    print(f"référence : interpréteur vide {empty:.3f} s ; "
          f"import de geopandas + osmnx + folium {eager:.3f} s")
    worst = 0.0
    for argv in HELP:
        seconds = timed([py, "-m", "maillage_cli.main", *argv, "--help"])
        worst = max(worst, seconds)
        print(f"  maillage {' '.join(argv + ['--help']):<32} {seconds:.3f} s")
    print(f"pire --help : {worst:.3f} s (cible ≤ 0,3 s) — "
          f"{'ATTEINTE' if worst <= 0.3 else 'NON ATTEINTE'} ; "
          f"{worst / empty:.1f}× l'interpréteur vide, {eager / worst:.0f}× moins que les "
          "imports d'avant")
    with tempfile.TemporaryDirectory() as tmp:
        plan = demo_plan(Path(tmp))
        check = timed([py, "-m", "maillage_cli.main", "plan", "check", str(plan), "--dept", "43"],
                      check=False)
    floor = timed([py, "-c", "import geopandas, sqlalchemy, psycopg"])
    print(f"plan check (plan de démonstration, 257 communes) : {check:.3f} s (cible ≤ 1,5 s) — "
          f"{'ATTEINTE' if check <= 1.5 else 'NON ATTEINTE'} ; dont {floor:.3f} s pour importer "
          "ce dont la commande a besoin (geopandas, SQLAlchemy, psycopg)")


if __name__ == "__main__":
    main()
