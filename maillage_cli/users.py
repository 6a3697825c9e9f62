"""``maillage users add|list``: accounts of the web application."""

from __future__ import annotations

import argparse
import getpass
import sys

from geo import settings
from geo.errors import MaillageError
from geo.fmt import plural
from web.roles import DEPARTEMENT_ROLES, ROLES


def register(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser("users", help="comptes de l'application web")
    verbs = parser.add_subparsers(dest="verb", metavar="ACTION", required=True)

    add = verbs.add_parser("add", help="créer un compte")
    add.add_argument("--email", required=True, help="adresse électronique (identifiant)")
    add.add_argument("--role", required=True, choices=sorted(ROLES),
                     help="; ".join(f"{k} : {v}" for k, v in ROLES.items()))
    add.add_argument("--dept", help="département (obligatoire pour "
                                    + " et ".join(sorted(DEPARTEMENT_ROLES)) + ")")
    add.add_argument("--name", help="nom affiché")
    add.add_argument("--organisation", metavar="NOM",
                     help="organisation (structure porteuse) d'un promoteur, créée si besoin ; "
                          "ses membres partagent leurs plans")
    add.add_argument("--siret", help="SIRET de l'organisation (14 chiffres, facultatif)")
    add.add_argument("--password-stdin", action="store_true",
                     help="lire le mot de passe sur la première ligne de l'entrée standard")
    add.set_defaults(handler=run_add)

    pw = verbs.add_parser("password", help="changer un mot de passe (déconnecte partout)")
    pw.add_argument("--email", required=True, help="adresse électronique du compte")
    pw.add_argument("--password-stdin", action="store_true",
                    help="lire le mot de passe sur la première ligne de l'entrée standard")
    pw.set_defaults(handler=run_password)

    listing = verbs.add_parser("list", help="lister les comptes actifs")
    listing.set_defaults(handler=run_list)


def read_password(*, from_stdin: bool) -> str:
    """The new password, from stdin (scripts) or typed twice without echo."""
    if from_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
        if not password:
            raise MaillageError("Aucun mot de passe lu sur l'entrée standard.")
        return password
    password = getpass.getpass("Mot de passe : ")
    if getpass.getpass("Confirmation : ") != password:
        raise MaillageError("Les deux saisies du mot de passe diffèrent.")
    return password


def run_add(args: argparse.Namespace) -> int:
    from geo.db import get_engine, session_scope
    from web.accounts import add_user

    # An explicit URL: get_engine caches by URL, so DATABASE_URL is read at each command.
    password = read_password(from_stdin=args.password_stdin)
    with session_scope(get_engine(settings.database_url())) as session:
        user_id = add_user(session, email=args.email, password=password, role=args.role,
                           departement=args.dept, name=args.name,
                           organisation=args.organisation, siret=args.siret)
    where = f", département {args.dept}" if args.dept else ""
    if args.organisation:
        where += f", organisation « {' '.join(args.organisation.split())} »"
    print(f"Compte n° {user_id} créé : {args.email.strip().lower()} ({ROLES[args.role]}{where}).")
    return 0


def run_password(args: argparse.Namespace) -> int:
    from geo.db import get_engine, session_scope
    from web.accounts import set_password

    password = read_password(from_stdin=args.password_stdin)
    with session_scope(get_engine(settings.database_url())) as session:
        set_password(session, email=args.email, password=password)
    print(f"Mot de passe changé pour {args.email.strip().lower()} ; "
          "toutes ses sessions sont fermées.")
    return 0


def run_list(args: argparse.Namespace) -> int:
    from geo.db import get_engine, session_scope
    from web.accounts import list_users

    with session_scope(get_engine(settings.database_url())) as session:
        users = list_users(session)
    if not users:
        print("Aucun compte.")
        return 0
    for user in users:
        dept = f" — {user.departement}" if user.departement else ""
        org = f" — {user.organisation}" if user.organisation else ""
        print(f"{user.id:>5}  {user.email}  {user.role}{dept}{org}")
    print(f"{plural(len(users), 'compte')}.")
    return 0
