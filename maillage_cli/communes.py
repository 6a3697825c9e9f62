"""``maillage communes …``: load and summarise the communes reference."""

from __future__ import annotations

import argparse
import json

from geo.fmt import fr_int
from geo.settings import DEFAULT_COG_VINTAGE, DEFAULT_POPULATION_VINTAGE


def register(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser("communes", help="référentiel des communes (Annexe 1)")
    verbs = parser.add_subparsers(dest="verb", metavar="ACTION", required=True)

    load = verbs.add_parser("load", help="charger les communes et EPCI d'un département")
    load.add_argument("--dept", required=True, help="code du département (ex. 43)")
    load.add_argument("--source", default=None,
                      help="dossier local (communes-DEPT.geojson + epcis*.json) ou URL de "
                           "l'API Découpage administratif ; défaut : MAILLAGE_DATA_DIR/communes "
                           "si défini, sinon https://geo.api.gouv.fr")
    load.add_argument("--cog", type=int, default=DEFAULT_COG_VINTAGE, help="millésime du COG")
    load.add_argument("--population-vintage", type=int, default=DEFAULT_POPULATION_VINTAGE,
                      help="millésime des populations légales")
    load.add_argument("--force", action="store_true",
                      help="accepter un nombre de communes très différent du chargement précédent")
    load.add_argument("--mouvements", default=None,
                      help="CSV INSEE des mouvements des communes (fusions) pour migrer les "
                           "plans ; défaut : MAILLAGE_DATA_DIR/admin/"
                           "cog_mouvements_communes_43_63.csv s'il existe")
    load.add_argument("--json", action="store_true", help="rapport en JSON")
    load.set_defaults(handler=run_load)

    summary = verbs.add_parser("summary", help="résumé d'un département chargé")
    summary.add_argument("--dept", required=True)
    summary.set_defaults(handler=run_summary)


def run_load(args: argparse.Namespace) -> int:
    from pathlib import Path

    from coverage.cog_migration import (
        CogChanges,
        default_changes_path,
        load_communes_migrating_plans,
        read_cog_changes,
    )
    from geo.communes import read_communes_source
    from geo.db import get_engine, session_scope

    src = read_communes_source(args.source, dept=args.dept)
    path = Path(args.mouvements) if args.mouvements else default_changes_path()
    changes = read_cog_changes(path) if path else CogChanges()
    with session_scope(get_engine()) as session:
        report, migrations = load_communes_migrating_plans(
            session, src, changes=changes, cog_vintage=args.cog,
            population_vintage=args.population_vintage, force=args.force)
    if args.json:
        print(json.dumps(report.to_dict() | {"plans_migres": migrations}, ensure_ascii=False,
                         indent=2))
    else:
        print(f"Source : {src.origin}")
        print(report.summary_fr())
        for m in migrations:
            print(f"Plan n° {m['plan_id']} migré (version {m['version']}) :")
            print(m["report"])
    return 0


def run_summary(args: argparse.Namespace) -> int:
    from geo.communes import check_dept_code
    from geo.communes_db import dept_summary
    from geo.db import get_engine, session_scope

    dept = check_dept_code(args.dept)
    with session_scope(get_engine()) as session:
        s = dept_summary(session, dept=dept)
    print(format_summary(dept, s))
    return 0


def format_summary(dept: str, s: dict[str, int]) -> str:
    """One French line: communes, inhabitants, EPCI."""
    return (f"Département {dept} : {s['communes']} communes, {fr_int(s['population'])} "
            f"habitants, {s['epcis']} EPCI")
