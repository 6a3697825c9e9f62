"""``maillage users add``: create an account."""

from __future__ import annotations

import argparse
import getpass
import sys

from geo.db import get_engine
from web.accounts import ROLES, add_user


def register(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser("users", help="comptes de l'application web")
    verbs = parser.add_subparsers(dest="verb", metavar="ACTION", required=True)
    add = verbs.add_parser("add", help="créer un compte")
    add.add_argument("--email", required=True)
    add.add_argument("--role", required=True, choices=sorted(ROLES))
    add.add_argument("--dept", help="département (obligatoire pour promoteur et ars)")
    add.add_argument("--name", help="nom affiché")
    add.add_argument("--password-stdin", action="store_true",
                     help="lire le mot de passe sur l'entrée standard")
    add.set_defaults(handler=run_add)


def run_add(args: argparse.Namespace) -> int:
    password = sys.stdin.readline().rstrip("\n") if args.password_stdin else \
        getpass.getpass("Mot de passe : ")
    with get_engine().begin() as conn:
        user_id = add_user(conn, email=args.email, password=password, role=args.role,
                           departement=args.dept, name=args.name)
    print(f"Compte n° {user_id} créé : {args.email} ({ROLES[args.role]}).")
    return 0
