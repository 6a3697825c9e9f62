"""``maillage serve``: the web application on waitress (a production WSGI server).

For a team on a LAN or behind a reverse proxy that terminates TLS. Without waitress
installed, Flask's threaded server is used instead, with a warning.
"""

from __future__ import annotations

import argparse
import sys


def register(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser("serve", help="démarrer l'application web")
    parser.add_argument("--host", default="127.0.0.1",
                        help="adresse d'écoute (défaut : 127.0.0.1, cette machine seulement)")
    parser.add_argument("--port", type=int, default=5000, help="port (défaut : 5000)")
    parser.add_argument("--threads", type=int, default=8, help="fils de traitement (défaut : 8)")
    parser.add_argument("--behind-proxy", action="store_true",
                        help="derrière un mandataire inverse local (nginx, Apache) : faire "
                             "confiance à ses en-têtes X-Forwarded-* venant de 127.0.0.1")
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    from web.app import create_app

    app = create_app()
    print(f"Maillage : http://{args.host}:{args.port} (Ctrl+C pour arrêter)")
    try:
        from waitress import serve
    except ModuleNotFoundError:
        if args.behind_proxy:
            print("--behind-proxy demande waitress (pip install waitress).", file=sys.stderr)
            return 1
        print("waitress absent : serveur de développement de Flask utilisé "
              "(pip install waitress).", file=sys.stderr)
        app.run(host=args.host, port=args.port, threaded=True, debug=False, use_reloader=False)
        return 0
    proxy: dict[str, object] = {}
    if args.behind_proxy:
        # The proxy terminates TLS: trust its scheme/host so that HSTS and links are right.
        proxy = {"trusted_proxy": "127.0.0.1",
                 "trusted_proxy_headers": {"x-forwarded-for", "x-forwarded-host",
                                           "x-forwarded-proto", "x-forwarded-port"}}
    serve(app, host=args.host, port=args.port, threads=args.threads, ident="Maillage", **proxy)
    return 0
