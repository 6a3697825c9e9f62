"""JSON API ``/api/v1``: resource search, structure detail, categories, communes.

Errors are JSON ``{"erreur": "message en français"}`` with the right HTTP status.
The OpenAPI description is served at ``/api/v1/openapi.json``.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, current_app, jsonify, request
from sqlalchemy import text
from werkzeug.exceptions import HTTPException

bp = Blueprint("api", __name__, url_prefix="/api/v1")

MAX_PER_PAGE = 100


def _engine():
    return current_app.extensions["maillage_engine"]


@bp.errorhandler(HTTPException)
def _http_error(exc: HTTPException):
    messages = {400: "Requête invalide.", 404: "Ressource introuvable.",
                405: "Méthode non autorisée.", 413: "Requête trop volumineuse."}
    message = exc.description if isinstance(exc.description, str) and exc.code == 400 \
        else messages.get(exc.code or 500, "Erreur.")
    return jsonify({"erreur": message}), exc.code


@bp.get("/communes")
def communes_autocomplete():
    """Commune autocomplete: name prefix/trigram or INSEE code, accent-insensitive."""
    q = (request.args.get("q") or "").strip()
    dept = (request.args.get("dept") or "").strip()
    if len(q) < 2:
        return jsonify({"erreur": "Le paramètre « q » doit compter au moins 2 caractères."}), 400
    sql = text(
        """
        SELECT code, nom, departement
        FROM communes
        WHERE (code LIKE :prefix_code
               OR unaccent(lower(nom)) LIKE '%' || unaccent(lower(:q)) || '%'
               OR similarity(unaccent(lower(nom)), unaccent(lower(:q))) > 0.3)
          AND (:dept = '' OR departement = :dept)
        ORDER BY (unaccent(lower(nom)) LIKE unaccent(lower(:q)) || '%') DESC,
                 similarity(unaccent(lower(nom)), unaccent(lower(:q))) DESC, nom
        LIMIT 10
        """
    )
    with _engine().connect() as conn:
        rows = conn.execute(sql, {"q": q, "prefix_code": q + "%", "dept": dept}).mappings().all()
    return jsonify([dict(r) for r in rows])


def openapi_document() -> dict[str, Any]:
    """The OpenAPI 3.1 description (extended by the directory endpoints)."""
    return {
        "openapi": "3.1.0",
        "info": {"title": "Maillage API", "version": "1.0.0",
                 "description": "Annuaire des ressources et référentiel des communes."},
        "paths": {
            "/api/v1/communes": {"get": {
                "summary": "Autocomplétion des communes",
                "parameters": [
                    {"name": "q", "in": "query", "required": True, "schema": {"type": "string", "minLength": 2}},
                    {"name": "dept", "in": "query", "required": False, "schema": {"type": "string"}},
                ],
                "responses": {"200": {"description": "Communes", "content": {"application/json": {
                    "schema": {"type": "array", "items": {"$ref": "#/components/schemas/Commune"}}}}},
                              "400": {"$ref": "#/components/responses/Erreur"}},
            }},
        },
        "components": {
            "schemas": {
                "Commune": {"type": "object", "properties": {
                    "code": {"type": "string"}, "nom": {"type": "string"},
                    "departement": {"type": "string"}}},
                "Erreur": {"type": "object", "properties": {"erreur": {"type": "string"}},
                           "required": ["erreur"]},
            },
            "responses": {"Erreur": {"description": "Erreur", "content": {"application/json": {
                "schema": {"$ref": "#/components/schemas/Erreur"}}}}},
        },
    }


@bp.get("/openapi.json")
def openapi():
    return jsonify(openapi_document())
