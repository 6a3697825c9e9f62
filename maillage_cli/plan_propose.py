"""``maillage plan propose`` and ``maillage plan scenarios``: optimal antenna sites."""

from __future__ import annotations

import argparse
import html
from pathlib import Path
from typing import TYPE_CHECKING

from markupsafe import Markup

from coverage.propose import MODELS, ScenarioRow
from geo import settings
from geo.fmt import fr_float, fr_int, plural
from maillage_cli.plan_common import add_drive as _add_drive
from maillage_cli.plan_common import communes_for, road_engine

if TYPE_CHECKING:
    from coverage.report import Section


def register_verbs(verbs: argparse._SubParsersAction) -> None:
    p = verbs.add_parser("propose", help="proposer les sites d'antennes (optimisation exacte)")
    p.add_argument("--dept", required=True)
    p.add_argument("--k", type=int, help="nombre d'antennes (sauf lscp)")
    p.add_argument("--model", choices=MODELS, default="pmedian",
                   help="pmedian (temps pondéré minimal), capacitated (charge ≤ coordinateurs × "
                        "200), mclp (population maximale à moins du seuil), lscp (le moins "
                        "d'antennes possible sous le seuil)")
    p.add_argument("--max-minutes", type=float, help="temps maximal pour toute commune")
    p.add_argument("--fixed", action="append", default=[], help="code INSEE d'un site imposé")
    p.add_argument("--coordinators", type=float, help="coordinateurs par antenne (capacitated)")
    p.add_argument("--out", default=None, help="dossier de sortie (défaut : var/propositions)")
    _add_drive(p)
    p.set_defaults(handler=run_propose)

    s = verbs.add_parser("scenarios", help="comparer K = 2..6 antennes")
    s.add_argument("--dept", required=True)
    s.add_argument("--k", default="2..6", help="plage de K, ex. 2..6")
    s.add_argument("--fixed", action="append", default=[])
    s.add_argument("--out", default=None, help="fichier CSV du tableau")
    _add_drive(s)
    s.set_defaults(handler=run_scenarios)


def _matrix(args: argparse.Namespace, communes):
    from coverage.drivetimes import site_matrix

    points = communes[["point_x", "point_y"]].to_numpy(dtype=float)
    return site_matrix(points, communes, engine=road_engine(args), detour=args.detour,
                       speed_kmh=args.speed)


def run_propose(args: argparse.Namespace) -> int:
    from coverage.assign import write_plan_csv
    from coverage.checks import check_plan
    from coverage.drivetimes import plan_drive_times
    from coverage.propose import propose, solve_note_fr
    from coverage.report import write_report
    from geo.communes import check_dept_code
    from geo.errors import MaillageError

    dept = check_dept_code(args.dept)
    if args.model != "lscp" and not args.k:
        raise MaillageError("Indiquez le nombre d'antennes --k (sauf pour --model lscp).")
    communes = communes_for(dept)
    unknown = [f for f in args.fixed if f not in communes.index]
    if unknown:
        raise MaillageError(f"Site imposé inconnu dans le département {dept} : {', '.join(unknown)}.")
    matrix = _matrix(args, communes)
    proposal = propose(communes, matrix, k=args.k, model=args.model,
                       max_minutes=args.max_minutes, fixed=args.fixed,
                       coordinators=args.coordinators)
    out = Path(args.out) if args.out else settings.VAR_DIR / "propositions" / f"{dept}-{args.model}-k{args.k or 'min'}"
    plan_csv = out / "plan.csv"
    minutes = {c: float(proposal.minutes[i]) for i, c in enumerate(communes.index)}
    write_plan_csv(proposal.plan, plan_csv, communes=communes, minutes=minutes)
    check = check_plan(proposal.plan, communes,
                       drive_times=plan_drive_times(proposal.plan, communes,
                                                    threshold=args.threshold,
                                                    detour=args.detour, speed_kmh=args.speed))
    write_report(out, plan=proposal.plan, communes=communes, check=check,
                 notes=[solve_note_fr(args.model, proposal.result, matrix.label)])
    print(f"Modèle {args.model} : {plural(len(proposal.plan.antennas), 'antenne')}, "
          f"statut {proposal.result.status}, {fr_float(proposal.result.solve_seconds, 2)} s "
          f"({matrix.label}).")
    for antenna in proposal.plan.antennas:
        pop = int(communes.loc[antenna.communes, "population"].sum())
        worst = max(minutes[c] for c in antenna.communes)
        print(f"  {antenna.name} ({antenna.seat}) : {plural(len(antenna.communes), 'commune')}, "
              f"{fr_int(pop)} hab., trajet max {fr_float(worst)} min")
    print(f"Plan : {plan_csv} (relisible par « maillage plan import »)")
    print(f"Rapport : {out / 'rapport.html'}")
    return 0


def parse_range(text: str) -> range:
    from geo.errors import MaillageError

    try:
        if ".." in text:
            lo, hi = (int(x) for x in text.split(".."))
        else:
            lo = hi = int(text)
    except ValueError as exc:
        raise MaillageError(f"Plage de K illisible « {text} » (ex. 2..6).") from exc
    if not 1 <= lo <= hi <= 30:
        raise MaillageError("K doit être compris entre 1 et 30.")
    return range(lo, hi + 1)


def scenarios_table_fr(rows: list[ScenarioRow], *, threshold: float) -> str:
    lines = [f"{'K':>2}  {'temps moyen':>11}  {'temps max':>9}  {'pop. > ' + format(threshold, 'g') + ' min':>14}  "
             f"{'coord.':>6}  sites"]
    for r in rows:
        lines.append(f"{r.k:>2}  {fr_float(r.mean_minutes):>9} min  {fr_float(r.max_minutes):>5} min  "
                     f"{fr_int(r.population_beyond):>14}  {r.coordinators:>6}  {', '.join(r.sites)}")
    return "\n".join(lines)


def scenarios_section(rows: list[ScenarioRow], *, threshold: float, label: str) -> Section:
    """The comparison table as a report section (escaped here, trusted by the template)."""
    from coverage.report import Section

    body = "".join(
        f"<tr><td>{r.k}</td><td>{html.escape(', '.join(r.sites))}</td>"
        f"<td class='num'>{fr_float(r.mean_minutes)}</td><td class='num'>{fr_float(r.max_minutes)}</td>"
        f"<td class='num'>{fr_int(r.population_beyond)}</td><td class='num'>{r.coordinators}</td></tr>"
        for r in rows)
    return Section(
        title="Scénarios : combien d'antennes, et où ?",
        html=Markup(  # noqa: S704 - every interpolated value is html.escape()d above
            f"<p>Sites optimaux (p-médiane exacte, temps pondéré par la population minimal), "
            f"{html.escape(label)}, seuil {threshold:g} min ; coordinateurs à 175 patients "
            "par coordinateur.</p><table><tr><th>K</th><th>Sites</th><th class='num'>Temps "
            "moyen (min)</th><th class='num'>Temps max (min)</th><th class='num'>Population "
            f"au-delà du seuil</th><th class='num'>Coordinateurs</th></tr>{body}</table>"))


def write_scenarios_csv(rows: list[ScenarioRow], path: Path) -> None:
    from geo.spreadsheet import write_csv

    write_csv(path, ["k", "sites", "temps_moyen_min", "temps_max_min", "population_au_dela",
                     "coordinateurs"],
              [[r.k, " | ".join(r.sites), f"{r.mean_minutes:.1f}", f"{r.max_minutes:.1f}",
                r.population_beyond, r.coordinators] for r in rows], decimal_comma=False)


def run_scenarios(args: argparse.Namespace) -> int:
    from coverage.propose import scenarios
    from geo.communes import check_dept_code

    dept = check_dept_code(args.dept)
    communes = communes_for(dept)
    matrix = _matrix(args, communes)
    rows = scenarios(communes, matrix, ks=parse_range(args.k), threshold=args.threshold,
                     fixed=args.fixed)
    print(f"Scénarios pour le département {dept} ({matrix.label}) :")
    print(scenarios_table_fr(rows, threshold=args.threshold))
    out = Path(args.out) if args.out else settings.VAR_DIR / "propositions" / f"{dept}-scenarios.csv"
    write_scenarios_csv(rows, out)
    print(f"Tableau : {out}")
    return 0

