"""French error pages without stack traces; JSON ``{"erreur": …}`` under ``/api/``."""

from __future__ import annotations

from flask import Flask, jsonify, render_template, request
from werkzeug.exceptions import HTTPException

from geo.errors import MaillageError
from web.security import CSRF_MESSAGE, INPUT_MESSAGE, PAGE_MESSAGE

FRENCH_400 = frozenset({CSRF_MESSAGE, INPUT_MESSAGE, PAGE_MESSAGE})

MESSAGES = {
    400: "Requête invalide.",
    401: "Connexion requise.",
    403: "Accès refusé : cette page ne vous est pas ouverte.",
    404: "Page introuvable.",
    405: "Méthode non autorisée.",
    413: "Fichier trop volumineux (5 Mo au plus).",
    500: "Erreur interne : l'incident est enregistré.",
}
#: Codes that have their own page in ``templates/errors/``; the others use ``generic``.
PAGES = frozenset({400, 403, 404, 413, 500})


def render_error(code: int, detail: str | None = None):
    """The French page (or JSON under ``/api/``) for an HTTP error ``code``."""
    message = detail or MESSAGES.get(code, "Erreur.")
    if request.path.startswith("/api/"):
        return jsonify({"erreur": message}), code
    name = f"errors/{code}.html" if code in PAGES else "errors/generic.html"
    try:
        return render_template(name, code=code, message=message), code
    except Exception:  # noqa: BLE001 - e.g. the database is down while rendering the layout
        return f"Erreur {code} : {message}", code, {"Content-Type": "text/plain; charset=utf-8"}


def install(app: Flask) -> None:
    """Register the handlers on ``app``: no traceback ever reaches the browser."""

    @app.errorhandler(HTTPException)
    def http_error(exc: HTTPException):
        # Only our own French 400 messages are shown; werkzeug's English ones are not.
        detail = exc.description if exc.code == 400 and exc.description in FRENCH_400 \
            else None
        return render_error(exc.code or 500, detail)

    @app.errorhandler(MaillageError)
    def user_error(exc: MaillageError):
        return render_error(400, str(exc))

    from sqlalchemy.exc import DataError

    @app.errorhandler(DataError)
    def bad_value(exc: DataError):
        # A value the database refuses (too long, out of range): the user's input, not a bug.
        app.logger.warning("valeur refusée par la base sur %s : %s", request.path, exc.orig)
        return render_error(400, "Une valeur saisie est trop longue ou invalide.")

    @app.errorhandler(Exception)
    def crash(exc: Exception):
        app.logger.exception("erreur non gérée sur %s %s", request.method, request.path)
        return render_error(500)
