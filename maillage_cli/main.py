"""Entry point of the ``maillage`` command: subcommands grouped by noun."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence

from geo.errors import MaillageError

#: Modules that contribute a noun; each has ``register(subparsers)``.
NOUN_MODULES = ["communes", "plan", "directory", "users", "serve", "demo", "roads"]


def build_parser() -> argparse.ArgumentParser:
    """Build the parser with every noun registered."""
    import importlib

    parser = argparse.ArgumentParser(
        prog="maillage",
        description="Maillage : couverture des communes par les DAC et annuaire des ressources.",
    )
    parser.add_argument("--debug", action="store_true",
                        help="afficher la trace technique complète d'une erreur inattendue")
    sub = parser.add_subparsers(dest="noun", metavar="COMMANDE", required=True)
    for name in NOUN_MODULES:
        try:
            module = importlib.import_module(f"maillage_cli.{name}")
        except ModuleNotFoundError as exc:
            if exc.name == f"maillage_cli.{name}":
                continue  # noun not built yet
            raise
        module.register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command; user errors are printed in French with a non-zero exit code."""
    parser = build_parser()
    args = parser.parse_args(argv)
    handler: Callable[[argparse.Namespace], int] = args.handler
    try:
        return int(handler(args) or 0)
    except MaillageError as exc:
        print(f"Erreur : {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("Interrompu.", file=sys.stderr)
        return 130
    except Exception as exc:  # noqa: BLE001 - no traceback reaches a user (unless --debug)
        if args.debug:
            raise
        return _unexpected(exc)


def _unexpected(exc: Exception) -> int:
    """Print a French message; keep the technical details in a log file."""
    import traceback
    from datetime import datetime

    from geo import settings

    message = _known_failure(exc)
    log = settings.VAR_DIR / "log" / "maillage-erreurs.log"
    try:
        log.parent.mkdir(parents=True, exist_ok=True)
        with log.open("a", encoding="utf-8") as fh:
            fh.write(f"--- {datetime.now().isoformat(timespec='seconds')} {' '.join(sys.argv)}\n")
            fh.write("".join(traceback.format_exception(exc)))
        where = f"détails dans {log}"
    except OSError:
        where = "relancez avec --debug pour voir les détails"
    print(f"Erreur : {message} ({where}).", file=sys.stderr)
    return 2


def _known_failure(exc: Exception) -> str:
    try:
        from sqlalchemy.exc import DataError, IntegrityError, OperationalError, ProgrammingError
    except ModuleNotFoundError:  # pragma: no cover
        return "erreur inattendue"
    if isinstance(exc, OperationalError):
        return ("base de données injoignable : lancez « make demo » ou vérifiez "
                "DATABASE_URL")
    if isinstance(exc, ProgrammingError) and "does not exist" in str(exc.orig):
        return ("le schéma de la base n'est pas à jour : lancez « make demo » (ou "
                "« alembic upgrade heads »)")
    if isinstance(exc, DataError):
        return "une valeur est trop longue ou invalide pour la base de données"
    if isinstance(exc, IntegrityError):
        return "une valeur contredit une règle de la base de données (doublon ou valeur hors limites)"
    if isinstance(exc, MemoryError):
        return "mémoire insuffisante pour ce fichier"
    return "erreur inattendue"


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
