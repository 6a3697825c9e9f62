"""``maillage demo``: the main job on the embedded default (Haute-Loire, Puy-de-Dôme)."""

from __future__ import annotations

import argparse
from pathlib import Path

from geo import settings
from maillage_cli.communes import format_summary
from maillage_cli.plan_propose import scenarios_section, scenarios_table_fr, write_scenarios_csv

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
    from coverage.assign import write_plan_csv
    from coverage.checks import check_plan, format_check
    from coverage.drivetimes import plan_drive_times, site_matrix
    from coverage.mapping import isochrone_layer
    from coverage.planfile import read_plan_file
    from coverage.propose import scenarios
    from coverage.report import write_report
    from coverage.territories import plan_from_epci_grouping
    from geo.communes import communes_frame, read_communes_source
    from geo.communes_db import dept_summary, store_communes
    from geo.db import get_engine, session_scope
    from geo.isochrones import estimated_isochrones

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
    _title("Scénarios : sites optimaux pour K = 2 à 6 antennes (p-médiane exacte)")
    points = communes[["point_x", "point_y"]].to_numpy(dtype=float)
    matrix = site_matrix(points, communes)
    rows = scenarios(communes, matrix, ks=range(2, 7))
    print(scenarios_table_fr(rows, threshold=drive.threshold))
    write_scenarios_csv(rows, out / "haute-loire" / "scenarios.csv")
    paths = write_report(out / "haute-loire", plan=pf.plan, communes=communes, check=check,
                         notes=[HYPOTHESIS],
                         extra_layers=[isochrone_layer(estimated_isochrones(drive.sites),
                                                       name="Isochrones 15/30/45 min (estimées)")],
                         extra_sections=[scenarios_section(rows, threshold=drive.threshold,
                                                           label=matrix.label)])
    run_directory(engine, data)

    _title("Comptes de démonstration")
    accounts = ensure_demo_accounts(engine, plan=pf.plan, communes=communes)
    for email, role, password in accounts:
        print(f"  {role:<10} {email:<28} mot de passe : {password}")

    _title("Fichiers écrits")
    print(f"Plan (CSV à modifier puis réimporter) : {plan_csv}")
    for key, label in (("report", "Rapport (à ouvrir dans un navigateur, imprimable en PDF)"),
                       ("map", "Carte interactive (fonctionne hors ligne)"),
                       ("annex_csv", "Annexe 1 (CSV)"), ("annex_xlsx", "Annexe 1 (XLSX)")):
        print(f"{label} : {paths[key]}")
    return 0


SECTOR_FR = {"sanitaire": "sanitaire", "medico-social": "médico-social", "social": "social"}


def run_directory(engine, data: Path, *, main_categories: int = 10) -> None:
    """Fill the directory with the real offer of 43 and 63 and print what it holds.

    FINESS as FHIR (extraction of 8 January 2021), France Services (ANCT, December 2022),
    then the GISCO hospitals (2020), merged by FINESS ET into the FINESS records.
    """
    from directory.fhir import FhirReader
    from directory.france_services import read_france_services
    from directory.gisco import read_gisco_hospitals
    from directory.store import StreamResult, counts_by_dept, sync_categories, upsert
    from directory.taxonomy import load_categories
    from geo.db import session_scope

    _title("Annuaire : offre réelle de la Haute-Loire et du Puy-de-Dôme")
    categories = load_categories(data)
    known = frozenset(c.code for c in categories)
    with session_scope(engine) as session:
        sync_categories(session, categories)
        reader = FhirReader(data / "finess" / "finess-20210108-fhir-43-63.ndjson",
                            known_categories=known)
        print(upsert(session, StreamResult(reader.records(), reader.rejections, reader.metadata),
                     source_label="FINESS (FHIR, extraction du 08/01/2021)",
                     close_missing=True).summary_fr())
        print(upsert(session, read_france_services(
            data / "inclusion" / "france-services-20221201-43-63.csv"),
            source_label="France Services (ANCT, 01/12/2022)", close_missing=True).summary_fr())
        print(upsert(session, read_gisco_hospitals(
            data / "health" / "gisco_healthcare_FR_2020_hospitals_43_63.csv"),
            source_label="hôpitaux GISCO 2020 (fusionnés par n° FINESS)").summary_fr())
        counts = counts_by_dept(session, depts=DEMO_DEPTS)
    for dept, c in counts.items():
        sectors = ", ".join(f"{SECTOR_FR.get(k, k)} {n}" for k, n in sorted(c["sectors"].items()))
        print(f"\nDépartement {dept} : {c['total']} ressources ouvertes ({sectors}).")
        for label, n in c["categories"][:main_categories]:
            print(f"  {n:>4}  {label}")
    print("Données FINESS du 08/01/2021 : ouvertures et fermetures depuis cette date absentes "
          "(les fiches apparaissent « à vérifier »).")


# Demo accounts exist only in the demo database that `make demo` fills, and the
# password is printed on purpose; never used by `maillage users add`.
DEMO_PASSWORD = "demo-maillage-2026"  # noqa: S105
DEMO_ACCOUNTS = [
    ("promoteur@demo.maillage.fr", "promoteur", "43", "Promoteur DAC 43 (démo)"),
    ("promoteur2@demo.maillage.fr", "promoteur", "43", "Second promoteur (démo)"),
    ("ars@demo.maillage.fr", "ars", "43", "ARS Auvergne-Rhône-Alpes, DD 43 (démo)"),
    ("editeur@demo.maillage.fr", "editeur", None, "Coordination, annuaire (démo)"),
    ("admin@demo.maillage.fr", "admin", None, "Administrateur (démo)"),
]


def ensure_demo_accounts(engine, *, plan, communes) -> list[tuple[str, str, str]]:
    """Demo users, and two overlapping candidacies for the ARS review (idempotent)."""
    from sqlalchemy import text

    from coverage.store import save_plan
    from geo.db import session_scope
    from web.accounts import add_user

    ids = {}
    with engine.begin() as conn:
        for email, role, dept, name in DEMO_ACCOUNTS:
            row = conn.execute(text("SELECT id FROM users WHERE email = :e"), {"e": email}).first()
            ids[email] = row[0] if row else add_user(conn, email=email, password=DEMO_PASSWORD,
                                                     role=role, departement=dept, name=name)
        owned = conn.execute(text("SELECT count(*) FROM plans WHERE owner_id = ANY(:ids)"),
                             {"ids": [ids[a[0]] for a in DEMO_ACCOUNTS[:2]]}).scalar()
    if not owned:
        from copy import deepcopy

        rival = deepcopy(plan)
        rival.name = "Candidature concurrente (démo) : Jeune Loire élargie"
        jeune, velay = rival.antenna("Jeune Loire"), rival.antenna("Velay")
        if jeune is not None and velay is not None:
            jeune.communes += velay.communes[:12]   # overlaps with the first candidacy
            del rival.antennas[rival.antennas.index(velay)]
        from coverage.candidacy import submit_plan

        with session_scope(engine) as session:
            # Both are submitted as candidacies: the ARS never sees drafts.
            for account, candidacy in ((DEMO_ACCOUNTS[0], plan), (DEMO_ACCOUNTS[1], rival)):
                plan_id = save_plan(session, candidacy, owner_id=ids[account[0]])
                submit_plan(session, plan_id, user_id=ids[account[0]], user_name=account[3],
                            organisation_id=None, organisation_name=None)
    return [(email, role, DEMO_PASSWORD) for email, role, _, _ in DEMO_ACCOUNTS]
