"""``maillage plan assign``: nearest-antenna assignment by drive time."""

from __future__ import annotations

import argparse

from geo.settings import DEFAULT_DETOUR, DEFAULT_SPEED_KMH
from maillage_cli.plan_common import add_drive as _add_drive
from maillage_cli.plan_common import communes_for, road_engine


def register_verbs(verbs: argparse._SubParsersAction) -> None:
    assign = verbs.add_parser("assign", help="affecter chaque commune à l'antenne la plus proche")
    assign.add_argument("--dept", required=True)
    assign.add_argument("--antennas", required=True,
                        help="fichier des antennes : antenne, siège, lat/lon facultatifs")
    assign.add_argument("--keep-epci-whole", action="store_true",
                        help="garder chaque EPCI entier dans une même antenne")
    assign.add_argument("--out", required=True, help="plan CSV écrit (relisible par plan import)")
    assign.add_argument("--name", default="Affectation au plus proche")
    _add_drive(assign)
    assign.set_defaults(handler=run_assign, detour=DEFAULT_DETOUR, speed=DEFAULT_SPEED_KMH)



def run_assign(args: argparse.Namespace) -> int:
    import numpy as np

    from coverage.assign import assign_nearest, write_plan_csv
    from coverage.drivetimes import antenna_sites, site_matrix
    from coverage.plan import Plan
    from coverage.planfile import read_antennas
    from geo.communes import check_dept_code

    dept = check_dept_code(args.dept)
    communes = communes_for(dept)
    antennas = read_antennas(args.antennas, communes=communes, dept=dept)
    sites = antenna_sites(Plan(name="", dept=dept, antennas=antennas), communes)
    matrix = site_matrix(np.array([sites[a.name] for a in antennas]), communes,
                         engine=road_engine(args), detour=args.detour, speed_kmh=args.speed)
    plan = assign_nearest(antennas, communes, matrix, dept=dept, name=args.name,
                          keep_epci_whole=args.keep_epci_whole)
    position = {c: j for j, c in enumerate(communes.index)}
    row = {a.name: i for i, a in enumerate(antennas)}
    minutes = {c: float(matrix.minutes[row[a.name], position[c]])
               for a in plan.antennas for c in a.communes}
    write_plan_csv(plan, args.out, communes=communes, minutes=minutes)
    print(f"Plan écrit : {args.out} ({matrix.label}).")
    for antenna in plan.antennas:
        pop = int(communes.loc[antenna.communes, "population"].sum()) if antenna.communes else 0
        print(f"  {antenna.name} : {len(antenna.communes)} communes, {pop} habitants")
    return 0
