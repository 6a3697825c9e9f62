"""``maillage plan …``: import, check, report, assign (and propose) coverage plans."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from geo import settings
from geo.errors import MaillageError
from geo.fmt import plural
from maillage_cli import plan_drive, plan_propose
from maillage_cli.plan_common import add_drive as _add_drive
from maillage_cli.plan_common import communes_for, road_engine

if TYPE_CHECKING:
    import geopandas as gpd

    from coverage.checks import CheckResult
    from coverage.plan import Plan
    from coverage.planfile import PlanFile
    from coverage.sizing import SizingParameters

#: Exit code of ``plan check`` when the plan is readable but not full and unique.
EXIT_NOT_CONFORMING = 3


def _add_plan_source(p: argparse.ArgumentParser) -> None:
    p.add_argument("file", nargs="?", help="fichier du plan (CSV ou XLSX)")
    p.add_argument("--plan-id", type=int, help="ou : identifiant d'un plan enregistré")
    p.add_argument("--dept", required=True, help="code du département (ex. 43)")
    p.add_argument("--name", help="nom du plan (défaut : nom du fichier)")
    p.add_argument("--antennas", help="fichier des antennes : antenne, siège, lat/lon facultatifs")


def _add_sizing(p: argparse.ArgumentParser) -> None:
    g = p.add_argument_group("dimensionnement")
    g.add_argument("--demand-mode", choices=["target", "rate"], default="target",
                   help="target : file active cible du DAC répartie au prorata ; "
                        "rate : patients pour 1 000 habitants")
    g.add_argument("--target", type=float, default=float(settings.DAC_FILE_ACTIVE_NORM),
                   help="file active cible du DAC (défaut 1000)")
    g.add_argument("--rate", type=float, default=4.4, help="patients par an pour 1 000 habitants")
    g.add_argument("--weights", help="CSV code;poids (ex. population de 75 ans et plus)")


def register(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser("plan", help="plans de couverture des DAC")
    verbs = parser.add_subparsers(dest="verb", metavar="ACTION", required=True)

    imp = verbs.add_parser("import", help="importer un plan (CSV/XLSX) en base")
    _add_plan_source(imp)
    imp.set_defaults(handler=run_import)

    check = verbs.add_parser("check", help="contrôler couverture, unicité, contiguïté, charge")
    _add_plan_source(check)
    _add_sizing(check)
    _add_drive(check)
    check.add_argument("--json", action="store_true", help="un objet JSON sur la sortie standard")
    check.set_defaults(handler=run_check)

    report = verbs.add_parser("report", help="annexe 1 (CSV, XLSX), carte et rapport")
    _add_plan_source(report)
    _add_sizing(report)
    _add_drive(report)
    report.add_argument("--out", required=True, help="dossier de sortie")
    report.add_argument("--note", action="append", default=[], help="note ajoutée au rapport")
    report.set_defaults(handler=run_report)

    plan_drive.register_verbs(verbs)
    plan_propose.register_verbs(verbs)


def load_source(args: argparse.Namespace, communes: gpd.GeoDataFrame) -> PlanFile:
    """The plan named by the arguments: a file, or a stored plan."""
    from coverage.planfile import PlanFile, read_plan_file
    from geo.communes import check_dept_code

    dept = check_dept_code(args.dept)
    if args.plan_id is not None:
        from coverage.store import load_plan
        from geo.db import get_engine, session_scope

        with session_scope(get_engine()) as session:
            plan = load_plan(session, args.plan_id)
        if plan.dept != dept:
            raise MaillageError(f"Le plan n° {args.plan_id} concerne le département {plan.dept}.")
        return PlanFile(plan=plan, source=f"plan n° {args.plan_id}")
    if not args.file:
        raise MaillageError("Indiquez un fichier de plan ou --plan-id.")
    return read_plan_file(args.file, communes=communes, dept=dept, name=args.name,
                          antennas_path=args.antennas)


def sizing_from(args: argparse.Namespace, communes: gpd.GeoDataFrame) -> tuple[SizingParameters, Any]:
    from coverage.sizing import SizingParameters, read_weights

    params = SizingParameters(mode=args.demand_mode, target=args.target, rate_per_1000=args.rate,
                              weights_source=Path(args.weights).name if args.weights else None)
    weights = read_weights(args.weights, codes=set(communes.index)) if args.weights else None
    return params, weights


def run_checks(args: argparse.Namespace, plan: Plan, communes: gpd.GeoDataFrame,
               pf: PlanFile) -> CheckResult:
    from coverage.checks import check_plan
    from coverage.drivetimes import plan_drive_times

    params, weights = sizing_from(args, communes)
    drive = plan_drive_times(plan, communes, threshold=args.threshold, engine=road_engine(args),
                             detour=args.detour, speed_kmh=args.speed)
    return check_plan(plan, communes, sizing=params, weights=weights, unknown=pf.unknown,
                      problems=[str(p) for p in pf.problems], drive_times=drive)


def _print_file_problems(pf: PlanFile) -> None:
    for problem in pf.problems:
        print(f"{Path(pf.source).name} : {problem}", file=sys.stderr)
    for warning in pf.warnings:
        print(f"{Path(pf.source).name} : avertissement, {warning}", file=sys.stderr)


def run_import(args: argparse.Namespace) -> int:
    from coverage.store import save_plan
    from geo.communes import check_dept_code
    from geo.db import get_engine, session_scope

    communes = communes_for(check_dept_code(args.dept))
    pf = load_source(args, communes)
    _print_file_problems(pf)
    if not pf.plan.antennas:
        raise MaillageError(f"« {pf.source} » : aucune ligne valide, rien n'est importé.")
    with session_scope(get_engine()) as session:
        plan_id = save_plan(session, pf.plan, source_filename=Path(pf.source).name)
    covered = len(pf.plan.claims())
    print(f"Plan « {pf.plan.name} » importé (n° {plan_id}) : {plural(len(pf.plan.antennas), 'antenne')}, "
          f"{plural(covered, 'commune affectée', 'communes affectées')}, "
          f"{plural(len(pf.problems), 'ligne')} en anomalie.")
    return 0


def run_check(args: argparse.Namespace) -> int:
    from coverage.checks import format_check
    from geo.communes import check_dept_code

    communes = communes_for(check_dept_code(args.dept))
    pf = load_source(args, communes)
    result = run_checks(args, pf.plan, communes, pf)
    if args.json:
        print(json.dumps(result.to_json(), ensure_ascii=False, indent=2))
    else:
        _print_file_problems(pf)
        print(format_check(result))
    return 0 if result.ok else EXIT_NOT_CONFORMING


def run_report(args: argparse.Namespace) -> int:
    from coverage.checks import format_check
    from coverage.report import write_report
    from geo.communes import check_dept_code

    communes = communes_for(check_dept_code(args.dept))
    pf = load_source(args, communes)
    result = run_checks(args, pf.plan, communes, pf)
    paths = write_report(args.out, plan=pf.plan, communes=communes, check=result,
                         notes=args.note)
    print(format_check(result).splitlines()[1])
    for key, label in (("report", "Rapport"), ("map", "Carte"), ("annex_csv", "Annexe 1 (CSV)"),
                       ("annex_xlsx", "Annexe 1 (XLSX)")):
        print(f"{label} : {paths[key]}")
    return 0
