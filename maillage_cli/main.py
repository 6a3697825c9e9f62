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


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
