"""``maillage serve``: the web application under gunicorn, a production WSGI server.

Why gunicorn: a supervised worker (restarted if it dies, request timeouts, graceful
reloads), the usual server behind nginx or Apache, and pre-forked processes when more
cores are wanted (a threaded server such as waitress keeps all Python work under one
GIL). By default ONE process with 8 threads: the plan editor's background solves
(``web/editor.py``) live in the process that started them, so several processes need a
proxy with sticky sessions (``--workers N`` then). Flask's own server is for
development only (``--dev``).
"""

from __future__ import annotations

import argparse
import sys
from typing import Any


def register(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser("serve", help="démarrer l'application web")
    parser.add_argument("--host", default="127.0.0.1",
                        help="adresse d'écoute (défaut : 127.0.0.1, cette machine seulement)")
    parser.add_argument("--port", type=int, default=5000, help="port (défaut : 5000)")
    parser.add_argument("--workers", type=int, default=1,
                        help="processus (défaut : 1 ; davantage seulement derrière un "
                             "mandataire à sessions persistantes, car les calculs de "
                             "l'éditeur de plans vivent dans le processus qui les lance)")
    parser.add_argument("--threads", type=int, default=8,
                        help="fils par processus (défaut : 8)")
    parser.add_argument("--behind-proxy", action="store_true",
                        help="derrière un mandataire inverse (nginx, Apache) : faire confiance "
                             "à ses en-têtes X-Forwarded-For/-Proto/-Host (un seul saut)")
    parser.add_argument("--dev", action="store_true",
                        help="serveur de développement de Flask (jamais en production)")
    parser.set_defaults(handler=run)


def build_app(*, behind_proxy: bool) -> Any:
    """The Flask app, wrapped by ProxyFix when a reverse proxy sets X-Forwarded-*."""
    from web.app import create_app

    app = create_app()
    if behind_proxy:
        from werkzeug.middleware.proxy_fix import ProxyFix

        # One proxy in front: trust exactly one hop of each header, never more.
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=1, x_proto=1, x_host=1,  # type: ignore[method-assign]
                                x_port=1)
    return app


def run(args: argparse.Namespace) -> int:
    if args.dev:
        app = build_app(behind_proxy=args.behind_proxy)
        print(f"Maillage (serveur de développement) : http://{args.host}:{args.port}",
              file=sys.stderr)
        app.run(host=args.host, port=args.port, threaded=True, debug=False, use_reloader=False)
        return 0
    from gunicorn.app.base import BaseApplication

    workers = max(1, args.workers)
    options = {"bind": f"{args.host}:{args.port}", "workers": workers,
               "threads": args.threads, "worker_class": "gthread", "timeout": 120,
               "graceful_timeout": 10, "accesslog": "-", "errorlog": "-",
               "proc_name": "maillage", "forwarded_allow_ips": "127.0.0.1"}
    behind_proxy = args.behind_proxy

    class _Server(BaseApplication):  # type: ignore[misc]
        def load_config(self) -> None:
            for key, value in options.items():
                self.cfg.set(key, value)

        def load(self) -> Any:
            return build_app(behind_proxy=behind_proxy)

    print(f"Maillage : http://{args.host}:{args.port} ({workers} processus × "
          f"{args.threads} fils ; Ctrl+C pour arrêter)", file=sys.stderr)
    _Server().run()
    return 0
