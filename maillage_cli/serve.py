"""``maillage serve``: the web application (Flask's threaded server, for a team on a LAN
or behind a reverse proxy; use a WSGI server such as gunicorn for wider use)."""

from __future__ import annotations

import argparse


def register(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser("serve", help="démarrer l'application web")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=5000)
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    from web.app import create_app

    app = create_app()
    print(f"Maillage : http://{args.host}:{args.port} (Ctrl+C pour arrêter)")
    app.run(host=args.host, port=args.port, threaded=True, debug=False, use_reloader=False)
    return 0
