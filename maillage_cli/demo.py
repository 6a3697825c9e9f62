"""``maillage demo``: the main job on the embedded default (Haute-Loire, Puy-de-Dôme)."""

from __future__ import annotations

import argparse
from pathlib import Path

from coverage.assign import write_plan_csv
from coverage.checks import check_plan, format_check
from coverage.drivetimes import plan_drive_times
from coverage.planfile import read_plan_file
from coverage.report import write_report
from coverage.territories import plan_from_epci_grouping
from geo import settings
from geo.communes import communes_frame, read_communes_source
from geo.communes_db import dept_summary, store_communes
from geo.db import get_engine, session_scope
from maillage_cli.communes import format_summary

DEMO_DEPTS = ("43", "63")
DEMO_SEATS = ["43157", "43268", "43040"]  # Le Puy-en-Velay, Yssingeaux, Brioude
HYPOTHESIS = ("Le découpage en trois territoires (Jeune Loire, Velay, Lafayette) regroupe les "
              "EPCI selon les anciens « Pays » de la Haute-Loire : c'est une hypothèse de "
              "travail, pas une définition officielle. À confirmer avec le DAC 43 et l'ARS.")


def register(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser("demo", help="démonstration sur la Haute-Loire et le Puy-de-Dôme")
    parser.add_argument("--data-dir", default=None,
                        help="dossier des données ouvertes (défaut : MAILLAGE_DATA_DIR ou ../shared/data)")
    parser.add_argument("--out", default=None, help="dossier de sortie (défaut : var/demo)")
    parser.set_defaults(handler=run)


def _title(text: str) -> None:
    print(f"\n== {text}")


def run(args: argparse.Namespace) -> int:
    data = Path(args.data_dir) if args.data_dir else settings.data_dir()
    out = Path(args.out) if args.out else settings.VAR_DIR / "demo"
    engine = get_engine()
    _title("Référentiel des communes")
    print(f"Données ouvertes : {data}")
    for dept in DEMO_DEPTS:
        src = read_communes_source(data / "communes", dept=dept)
        with session_scope(engine) as session:
            store_communes(session, src)
            print(format_summary(dept, dept_summary(session, dept=dept)))

    _title("Plan de couverture de la Haute-Loire (hypothèse : 3 territoires)")
    with engine.connect() as conn:
        communes = communes_frame(conn, dept="43")
    draft = plan_from_epci_grouping(
        data / "territories" / "haute-loire-3-territoires-hypothese.csv", communes=communes,
        dept="43", seats=DEMO_SEATS, name="DAC 43 — 3 territoires (hypothèse)")
    plan_csv = out / "plan-haute-loire-3-territoires.csv"
    write_plan_csv(draft, plan_csv, communes=communes)
    # Read it back as a promoter's file would be: the demo exercises the real import.
    pf = read_plan_file(plan_csv, communes=communes, dept="43", name=draft.name)
    drive = plan_drive_times(pf.plan, communes)
    check = check_plan(pf.plan, communes, unknown=pf.unknown, drive_times=drive)
    print(format_check(check))
    paths = write_report(out / "haute-loire", plan=pf.plan, communes=communes, check=check,
                         notes=[HYPOTHESIS])
    _title("Fichiers écrits")
    print(f"Plan (CSV à modifier puis réimporter) : {plan_csv}")
    for key, label in (("report", "Rapport (à ouvrir dans un navigateur, imprimable en PDF)"),
                       ("map", "Carte interactive (fonctionne hors ligne)"),
                       ("annex_csv", "Annexe 1 (CSV)"), ("annex_xlsx", "Annexe 1 (XLSX)")):
        print(f"{label} : {paths[key]}")
    return 0
