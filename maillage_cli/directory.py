"""``maillage directory …``: import resources, search them, list stale records."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from geo import settings
from geo.fmt import fr_float, plural

if TYPE_CHECKING:
    from directory.store import RecordSource


def register(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser("directory", help="annuaire des ressources")
    verbs = parser.add_subparsers(dest="verb", metavar="ACTION", required=True)

    imp = verbs.add_parser("import", help="importer un fichier (une transaction)")
    imp.add_argument("format", choices=["finess", "fhir", "france-services", "datainclusion",
                                        "csv", "gisco"],
                     help="finess : extraction FINESS (CSV) ; fhir : ressources FHIR R4 (NDJSON, "
                          ".tar.gz, dossier ou Bundle : FINESS, ROR, Annuaire Santé) ; "
                          "france-services : liste ANCT ; datainclusion : JSON/CSV data·inclusion ; "
                          "csv : modèle de saisie ; gisco : hôpitaux Eurostat (dérivés de FINESS)")
    imp.add_argument("file")
    imp.add_argument("--dept", help="ne garder que ce département (finess, fhir, gisco, "
                                    "france-services)")
    imp.add_argument("--source", default="finess",
                     help="nom de la source des ressources FHIR (défaut : finess ; ror…)")
    imp.add_argument("--json", action="store_true", help="rapport en JSON")
    imp.set_defaults(handler=run_import)

    find = verbs.add_parser("search", help="rechercher des ressources")
    find.add_argument("q", nargs="?", default="", help="texte libre (ex. « ehpad yssingeaux »)")
    find.add_argument("--sector", choices=["sanitaire", "medico-social", "social"])
    find.add_argument("--category", help="code de catégorie (ex. 500 pour les EHPAD)")
    find.add_argument("--public", help="public (data·inclusion, ex. seniors)")
    find.add_argument("--commune", help="code INSEE du centre de recherche")
    find.add_argument("--radius", type=float, help="rayon en km autour de la commune")
    find.add_argument("--serves", help="ressources dont le territoire couvre cette commune")
    find.add_argument("--sort", choices=["relevance", "distance"])
    find.add_argument("--page", type=int, default=1)
    find.add_argument("--per-page", type=int, default=20)
    find.add_argument("--prefer-dept", help="sans lieu : ce département d'abord (ex. 43)")
    find.add_argument("--open-now", action="store_true", help="ouvertes maintenant")
    find.add_argument("--open-on", help="ouvertes ce jour (AAAA-MM-JJ)")
    find.add_argument("--no-place", action="store_true",
                      help="ne pas lire de commune dans le texte (« brioude » reste un mot)")
    find.add_argument("--json", action="store_true",
                      help="GeoJSON, avec « place » : la commune comprise (ou null)")
    find.set_defaults(handler=run_search)

    old = verbs.add_parser("stale", help="ressources non vérifiées depuis plus de 12 mois")
    old.add_argument("--dept", required=True)
    old.set_defaults(handler=run_stale)


#: Formats whose files are complete extracts of their source: records missing from a newer
#: extract are marked closed.
COMPLETE_EXTRACTS = {"finess", "fhir", "france-services", "gisco"}


def read_file(fmt: str, path: str, *, dept: str | None, known: set[str],
              source: str = "finess") -> RecordSource:
    """The reader's output for ``fmt``; FHIR inputs are streamed (not read in memory)."""
    from directory.csv_template import read_csv_template
    from directory.datainclusion import enumeration, read_datainclusion
    from directory.finess import read_finess
    from directory.gisco import read_gisco_hospitals
    from directory.store import StreamResult

    data = settings.data_dir()
    if fmt == "fhir":
        from directory.fhir import FhirReader

        reader = FhirReader(Path(path), dept=dept, known_categories=frozenset(known),
                            source=source, progress=_progress() if sys.stderr.isatty() else None)
        return StreamResult(records=reader.records(), rejections=reader.rejections,
                            metadata=reader.metadata)
    if fmt == "france-services":
        from directory.france_services import read_france_services

        return read_france_services(path, dept=dept)
    if fmt == "finess":
        return read_finess(path, dept=dept, known_categories=known)
    if fmt == "gisco":
        return read_gisco_hospitals(path, dept=dept)
    if fmt == "datainclusion":
        return read_datainclusion(path, data_dir=data)
    return read_csv_template(path, known_categories=known,
                             known_publics=enumeration(data, "publics"))


def run_import(args: argparse.Namespace) -> int:
    from directory.store import sync_categories, upsert
    from directory.taxonomy import load_categories
    from geo.communes import check_dept_code
    from geo.db import get_engine, session_scope

    dept = check_dept_code(args.dept) if args.dept else None
    categories = load_categories(settings.data_dir())
    result = read_file(args.format, args.file, dept=dept, known={c.code for c in categories},
                       source=args.source)
    with session_scope(get_engine()) as session:
        sync_categories(session, categories)
        report = upsert(session, result, source_label=f"{args.format} ({args.file})",
                        close_missing=args.format in COMPLETE_EXTRACTS, dept=dept)
    if sys.stderr.isatty() and args.format == "fhir":
        print(file=sys.stderr)
    print(json.dumps(report.to_dict(), ensure_ascii=False, indent=2, default=str)
          if args.json else report.summary_fr())
    return 0


def _progress() -> Callable[[int, int], None]:
    """A progress bar on stderr: resources indexed (first pass), then imported."""
    def show(done: int, total: int) -> None:
        count = f"{done:,}".replace(",", "\u202f")
        if not total:
            print(f"\rIndexation : {count} ressources FHIR lues…", end="", file=sys.stderr,
                  flush=True)
            return
        share = min(done / total, 1.0)
        bar = "█" * int(share * 30) + "·" * (30 - int(share * 30))
        print(f"\rImport : [{bar}] {share:4.0%} ({count} / {total:,} ressources)"
              .replace(",", "\u202f"), end="", file=sys.stderr, flush=True)
    return show


def run_search(args: argparse.Namespace) -> int:
    from datetime import date

    from directory.search import SearchQuery, now_in_france, results_fr, search
    from geo.db import get_engine
    from geo.errors import MaillageError

    open_on = None
    if args.open_on:
        try:
            open_on = date.fromisoformat(args.open_on)
        except ValueError as exc:
            raise MaillageError(f"Date « {args.open_on} » invalide (AAAA-MM-JJ).") from exc
    query = SearchQuery(q=args.q, sector=args.sector, category=args.category, public=args.public,
                        commune=args.commune, radius_km=args.radius, serves=args.serves,
                        sort=args.sort or ("distance" if args.commune else "relevance"),
                        page=args.page, per_page=args.per_page, understand=not args.no_place,
                        prefer_dept=args.prefer_dept,
                        open_at=now_in_france() if args.open_now else None, open_on=open_on)
    with get_engine().connect() as conn:
        result = search(conn, query)
    if args.json:
        print(json.dumps(result, ensure_ascii=False, indent=2, default=str))
        return 0
    place = result["place"]
    if place:
        how = " (commune lue dans la requête ; --no-place pour l'ignorer)" \
            if place["source"] == "query" else ""
        print(f"Recherche « {result['text']} » {place['around']}{how}")
    print(f"{results_fr(result['total'], capped=result['total_capped']).capitalize()} — "
          f"page {result['page']}/"
          f"{max(result['pages'], 1)}")
    if result.get("help"):
        help_ = result["help"]
        print(help_["reason"])
        if help_["did_you_mean"]:
            print(f"Vouliez-vous dire « {help_['did_you_mean']} » ?")
        for suggestion in help_["suggestions"]:
            print(f"- {suggestion['label']}")
        for near in help_["closest"]:
            print(f"- proche : {near['name']} ({near['commune_name'] or '?'})")
    for feature in result["features"]:
        p = feature["properties"]
        distance = "" if p["distance_km"] is None else f" — {fr_float(p['distance_km'])} km"
        flags = (" [localisation approximative]" if p["approximate_location"] else "") + \
            (" [à vérifier]" if p["stale"] else "")
        print(f"- {p['name']} ({p['category_label']}), {p['commune_name'] or ''}{distance}{flags}")
    return 0


def run_stale(args: argparse.Namespace) -> int:
    from directory.store import stale
    from geo.communes import check_dept_code
    from geo.db import get_engine, session_scope

    dept = check_dept_code(args.dept)
    with session_scope(get_engine()) as session:
        rows = stale(session, dept=dept)
    print(f"{plural(len(rows), 'ressource non vérifiée', 'ressources non vérifiées')} "
          "depuis plus de 12 mois :")
    for r in rows:
        when = r["last_verified"].isoformat() if r["last_verified"] else "jamais"
        print(f"- {r['name']} ({r['commune_name'] or '?'}) — vérifiée : {when} [{r['source']}]")
    return 0
