"""``maillage demo``: the main job on the embedded default (Haute-Loire, Puy-de-Dôme)."""

from __future__ import annotations

import argparse

from geo import settings
from geo.communes import read_communes_source
from geo.communes_db import dept_summary, store_communes
from geo.db import get_engine, session_scope
from maillage_cli.communes import format_summary

DEMO_DEPTS = ("43", "63")


def register(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser("demo", help="démonstration sur la Haute-Loire et le Puy-de-Dôme")
    parser.add_argument("--data-dir", default=None,
                        help="dossier des données ouvertes (défaut : MAILLAGE_DATA_DIR ou ../shared/data)")
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    from pathlib import Path

    data = Path(args.data_dir) if args.data_dir else settings.data_dir()
    engine = get_engine()
    print(f"Données ouvertes : {data}")
    for dept in DEMO_DEPTS:
        src = read_communes_source(data / "communes", dept=dept)
        with session_scope(engine) as session:
            store_communes(session, src)
            print(format_summary(dept, dept_summary(session, dept=dept)))
    return 0
