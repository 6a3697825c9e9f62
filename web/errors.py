"""French error pages without stack traces; JSON under ``/api/``."""

from __future__ import annotations

from flask import Flask, jsonify, render_template, request
from werkzeug.exceptions import HTTPException

from geo.errors import MaillageError

MESSAGES = {
    400: "Requête invalide.",
    401: "Connexion requise.",
    403: "Accès refusé : cette page ne vous est pas ouverte.",
    404: "Page introuvable.",
    405: "Méthode non autorisée.",
    413: "Fichier trop volumineux (5 Mo au plus).",
    500: "Erreur interne : l'incident est enregistré.",
}


def install(app: Flask) -> None:
    def render(code: int, detail: str | None = None):
        message = detail or MESSAGES.get(code, "Erreur.")
        if request.path.startswith("/api/"):
            return jsonify({"erreur": message}), code
        return render_template("error.html", code=code, message=message), code

    @app.errorhandler(HTTPException)
    def http_error(exc: HTTPException):
        detail = exc.description if exc.code == 400 and isinstance(exc.description, str) \
            and "CSRF" in exc.description else None
        return render(exc.code or 500, detail)

    @app.errorhandler(MaillageError)
    def user_error(exc: MaillageError):
        return render(400, str(exc))

    @app.errorhandler(Exception)
    def crash(exc: Exception):
        app.logger.exception("unhandled error")
        return render(500)
