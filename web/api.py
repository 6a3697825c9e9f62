"""JSON API ``/api/v1``: resource search, structure detail, categories, communes.

Errors are JSON ``{"erreur": "message en français"}`` with the right HTTP status.
The OpenAPI description is served at ``/api/v1/openapi.json``.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from flask import Blueprint, current_app, g, jsonify, request
from sqlalchemy import text
from werkzeug.exceptions import HTTPException

from directory.search import MAX_PER_PAGE as SEARCH_MAX_PER_PAGE
from directory.search import SearchQuery, now_in_france, search, structure_detail
from geo.errors import MaillageError

bp = Blueprint("api", __name__, url_prefix="/api/v1")

MAX_PER_PAGE = SEARCH_MAX_PER_PAGE


def _engine():
    return current_app.extensions["maillage_engine"]


@bp.errorhandler(HTTPException)
def _http_error(exc: HTTPException):
    messages = {400: "Requête invalide.", 404: "Ressource introuvable.",
                405: "Méthode non autorisée.", 413: "Requête trop volumineuse."}
    message = exc.description if isinstance(exc.description, str) and exc.code == 400 \
        else messages.get(exc.code or 500, "Erreur.")
    return jsonify({"erreur": message}), exc.code


@bp.errorhandler(MaillageError)
def _user_error(exc: MaillageError):
    return jsonify({"erreur": exc.message}), 400


def _float_arg(name: str) -> float | None:
    value = request.args.get(name)
    if value in (None, ""):
        return None
    try:
        return float(value)
    except ValueError as exc:
        raise MaillageError(f"Paramètre « {name} » : nombre attendu.") from exc


def _int_arg(name: str, default: int) -> int:
    value = request.args.get(name)
    if value in (None, ""):
        return default
    try:
        return int(value)
    except ValueError as exc:
        raise MaillageError(f"Paramètre « {name} » : entier attendu.") from exc


def _bool_arg(name: str, default: bool) -> bool:
    value = (request.args.get(name) or "").strip().lower()
    if not value:
        return default
    if value in {"1", "true", "oui", "yes"}:
        return True
    if value in {"0", "false", "non", "no"}:
        return False
    raise MaillageError(f"Paramètre « {name} » : true ou false attendu.")


def _date_arg(name: str) -> date | None:
    value = request.args.get(name)
    if not value:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError as exc:
        raise MaillageError(f"Paramètre « {name} » : date AAAA-MM-JJ attendue.") from exc


def preferred_dept() -> str | None:
    """The département to prefer without a place: asked for, else the signed-in user's."""
    asked = (request.args.get("prefer_dept") or "").strip()
    if asked:
        return asked
    user = getattr(g, "user", None)
    return getattr(user, "departement", None) if user is not None else None


def query_from_args() -> SearchQuery:
    """The :class:`SearchQuery` of the request's parameters (API names)."""
    args = request.args
    return SearchQuery(
        q=args.get("q", ""), sector=args.get("sector") or None,
        category=args.get("category") or None, public=args.get("public") or None,
        commune=args.get("commune") or None, lat=_float_arg("lat"), lon=_float_arg("lon"),
        radius_km=_float_arg("radius_km"), serves=args.get("serves") or None,
        sort=args.get("sort") or "relevance", page=_int_arg("page", 1),
        per_page=_int_arg("per_page", 20), understand=_bool_arg("understand", True),
        prefer_dept=preferred_dept(),
        open_at=now_in_france() if _bool_arg("open_now", False) else None,
        open_on=_date_arg("open_on"))


@bp.get("/search")
def search_resources():
    """Resources as GeoJSON, filtered, sorted and paginated, with the place understood."""
    query = query_from_args()
    with _engine().connect() as conn:
        return jsonify(search(conn, query))


@bp.get("/structures/<int:structure_id>")
def structure(structure_id: int):
    with _engine().connect() as conn:
        detail = structure_detail(conn, structure_id)
    if detail is None:
        return jsonify({"erreur": f"Structure n° {structure_id} introuvable."}), 404
    return jsonify(detail)


@bp.get("/categories")
def categories():
    sql = text("SELECT c.code, c.label, c.sector, count(s.id) AS structures FROM categories c "
               "LEFT JOIN structures s ON s.category_code = c.code AND s.status = 'open' "
               "WHERE c.active "
               "GROUP BY c.code ORDER BY count(s.id) DESC, c.label")
    with _engine().connect() as conn:
        rows = conn.execute(sql).mappings().all()
    return jsonify([dict(r) for r in rows])


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


@bp.get("/communes/resolve")
def communes_resolve():
    """A typed commune name, resolved: one commune, several to choose from, or none."""
    from directory.query import resolve_commune

    typed = (request.args.get("q") or "").strip()
    with _engine().connect() as conn:
        found = resolve_commune(conn, typed)
    if found.commune is None and not found.choices:
        return jsonify({"erreur": found.message}), 404
    return jsonify({"commune": found.commune, "choices": found.choices})


#: ``place`` of a search answer: the commune the search was centred on.
PLACE_SCHEMA: dict[str, Any] = {
    "type": "object", "required": ["code", "name", "source"],
    "description": "commune autour de laquelle on cherche ; source = query quand elle a été "
                   "lue dans q (« ehpad brioude »), commune quand elle a été donnée",
    "properties": {"code": {"type": "string"}, "name": {"type": "string"},
                   "departement": {"type": "string"}, "label": {"type": "string"},
                   "around": {"type": "string"},
                   "source": {"type": "string", "enum": ["query", "commune"]},
                   "words": {"type": "string"}}}


def openapi_document() -> dict[str, Any]:
    """The OpenAPI 3.1 description (extended by the directory endpoints)."""
    return {
        "openapi": "3.1.0",
        "info": {"title": "Maillage API", "version": "1.0.0",
                 "description": "Annuaire des ressources et référentiel des communes."},
        "paths": {
            "/api/v1/search": {"get": {
                "summary": "Rechercher des ressources (GeoJSON)",
                "parameters": [
                    {"name": n, "in": "query", "required": False, "schema": sch}
                    for n, sch in (
                        ("q", {"type": "string"}),
                        ("sector", {"type": "string", "enum": ["sanitaire", "medico-social", "social"]}),
                        ("category", {"type": "string"}), ("public", {"type": "string"}),
                        ("commune", {"type": "string"}), ("serves", {"type": "string"}),
                        ("lat", {"type": "number"}), ("lon", {"type": "number"}),
                        ("radius_km", {"type": "number", "exclusiveMinimum": 0, "maximum": 500}),
                        ("sort", {"type": "string", "enum": ["relevance", "distance"]}),
                        ("understand", {"type": "boolean", "default": True,
                                        "description": "lire une commune nommée dans q "
                                                       "(« ehpad brioude ») comme lieu"}),
                        ("prefer_dept", {"type": "string", "description":
                                         "département favorisé sans lieu (défaut : celui "
                                         "de l'utilisateur connecté)"}),
                        ("open_now", {"type": "boolean", "default": False}),
                        ("open_on", {"type": "string", "format": "date"}),
                        ("page", {"type": "integer", "minimum": 1}),
                        ("per_page", {"type": "integer", "minimum": 1, "maximum": MAX_PER_PAGE}))
                ],
                "responses": {"200": {"description": "FeatureCollection avec total, page, per_page",
                                      "content": {"application/geo+json": {"schema": {
                                          "$ref": "#/components/schemas/Resultats"}}}},
                              "400": {"$ref": "#/components/responses/Erreur"}},
            }},
            "/api/v1/structures/{id}": {"get": {
                "summary": "Fiche d'une structure et de ses services",
                "parameters": [{"name": "id", "in": "path", "required": True,
                                "schema": {"type": "integer"}}],
                "responses": {"200": {"description": "Structure", "content": {
                    "application/json": {"schema": {"type": "object"}}}},
                              "404": {"$ref": "#/components/responses/Erreur"}},
            }},
            "/api/v1/categories": {"get": {
                "summary": "Catégories (FINESS et hors FINESS) avec leur secteur",
                "responses": {"200": {"description": "Catégories", "content": {
                    "application/json": {"schema": {"type": "array", "items": {
                        "type": "object", "properties": {
                            "code": {"type": "string"}, "label": {"type": "string"},
                            "sector": {"type": "string"}, "structures": {"type": "integer"}}}}}}}},
            }},
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
            "/api/v1/communes/resolve": {"get": {
                "summary": "Résoudre un nom de commune saisi (sans passer par la liste)",
                "parameters": [{"name": "q", "in": "query", "required": True,
                                "schema": {"type": "string"}}],
                "responses": {"200": {"description": "Une commune, ou des choix", "content": {
                    "application/json": {"schema": {"type": "object", "properties": {
                        "commune": {"oneOf": [{"type": "null"},
                                              {"$ref": "#/components/schemas/Commune"}]},
                        "choices": {"type": "array", "items": {
                            "$ref": "#/components/schemas/Commune"}}}}}}},
                              "404": {"$ref": "#/components/responses/Erreur"}},
            }},
        },
        "components": {
            "schemas": {
                "Commune": {"type": "object", "properties": {
                    "code": {"type": "string"}, "nom": {"type": "string"},
                    "departement": {"type": "string"}}},
                "Lieu": PLACE_SCHEMA,
                "Erreur": {"type": "object", "properties": {"erreur": {"type": "string"}},
                           "required": ["erreur"]},
                "Resultats": {"type": "object", "required": ["type", "features", "total"],
                              "properties": {"type": {"const": "FeatureCollection"},
                                             "features": {"type": "array"},
                                             # inline: the schema is also used alone
                                             "place": {"oneOf": [{"type": "null"},
                                                                 PLACE_SCHEMA]},
                                             "text": {"type": "string", "description":
                                                      "mots cherchés (sans la commune)"},
                                             "radius_km": {"type": ["number", "null"]},
                                             "help": {"type": "object", "description":
                                                      "aide quand rien n'est trouvé : reason, "
                                                      "suggestions, did_you_mean, closest"},
                                             "total": {"type": "integer", "description":
                                                       "nombre de résultats (au plus 1 000 "
                                                       "classés)"},
                                             "total_capped": {"type": "boolean",
                                                              "description":
                                                              "vrai : plus de « total » "
                                                              "résultats, précisez la "
                                                              "recherche"},
                                             "page": {"type": "integer"},
                                             "per_page": {"type": "integer"}}},
            },
            "responses": {"Erreur": {"description": "Erreur", "content": {"application/json": {
                "schema": {"$ref": "#/components/schemas/Erreur"}}}}},
        },
    }


@bp.get("/openapi.json")
def openapi():
    document = openapi_document()
    # --- publication of the retained DAC territories (web/publication.py) ---
    from web.publication import openapi_paths

    document["paths"].update(openapi_paths())
    return jsonify(document)
