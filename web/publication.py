"""Publication of the retained DAC territories (read-only, no login).

* ``GET /api/v1/dac/{dept}``: the retained DAC(s), antennas, seats and communes (with
  the COG vintage); ``?format=geojson``: antenna territories dissolved from the
  communes, and the seats as points.
* ``GET /api/v1/dac/{dept}/data-inclusion``: one data·inclusion v1 *service* per
  antenna, its ``zone_eligibilite`` being the list of the antenna's COG commune codes.
* ``GET /api/v1/dac/{dept}/fhir``: a FHIR R4 ``Bundle`` of ``HealthcareService``, one per
  antenna, with one ROR ``ror-territorial-division`` (zoneIntervention) extension per
  commune.
* ``GET /api/v1/communes/{code}/dac``: which DAC and antenna cover a commune, the drive
  time from the antenna seat and its mode, and the DAC's directory card (FINESS 606).

Only the *current* version of a candidacy marked ``retenue`` by the ARS is published.
"""

from __future__ import annotations

import json
from typing import Any

from flask import Blueprint, Response, current_app, jsonify, request
from sqlalchemy import text
from werkzeug.exceptions import HTTPException

from coverage.candidacy import retained
from coverage.drivetimes import plan_drive_times
from coverage.plan import Plan
from geo.communes import check_dept_code
from geo.db import session_scope
from geo.errors import MaillageError
from geo.fmt import plural

bp = Blueprint("publication", __name__, url_prefix="/api/v1")

ROR_DIVISION = "https://interop.esante.gouv.fr/ig/fhir/ror/StructureDefinition/ror-territorial-division"
ROR_DIVISION_TYPE = ("https://mos.esante.gouv.fr/NOS/JDV_J223-TypeDivisionTerritoriale-ROR/FHIR/"
                     "JDV-J223-TypeDivisionTerritoriale-ROR")
COMMUNE_SYSTEM = "https://mos.esante.gouv.fr/NOS/JDV_J124-Commune/FHIR/JDV-J124-Commune"
#: FINESS category of the DAC (dispositif d'appui à la coordination).
DAC_CATEGORY = "606"


def _engine():
    return current_app.extensions["maillage_engine"]


@bp.errorhandler(HTTPException)
def _http_error(exc: HTTPException):
    messages = {404: "Ressource introuvable.", 405: "Méthode non autorisée."}
    return jsonify({"erreur": messages.get(exc.code or 500, "Requête invalide.")}), exc.code


@bp.errorhandler(MaillageError)
def _user_error(exc: MaillageError):
    return jsonify({"erreur": exc.message}), 400


def _not_found(message: str):
    return jsonify({"erreur": message}), 404


def _communes(dept: str) -> dict[str, dict[str, Any]]:
    sql = text("SELECT code, nom, population, cog_vintage, epci FROM communes "
               "WHERE departement = :d ORDER BY code")
    with _engine().connect() as conn:
        return {r["code"]: dict(r) for r in conn.execute(sql, {"d": dept}).mappings()}


def _retained(dept: str) -> list[tuple[dict[str, Any], Plan]]:
    with session_scope(_engine()) as session:
        return retained(session, dept=dept)


def dac_document(dept: str) -> dict[str, Any] | None:
    """The retained DAC(s) of ``dept`` as plain JSON data, or ``None``."""
    entries = _retained(dept)
    if not entries:
        return None
    communes = _communes(dept)
    vintages = sorted({c["cog_vintage"] for c in communes.values() if c["cog_vintage"]})
    dacs = []
    for info, plan in entries:
        antennas = []
        for antenna in plan.antennas:
            members = [c for c in antenna.communes if c in communes]
            seat = communes.get(antenna.seat or "")
            antennas.append({
                "nom": antenna.name, "structure": antenna.structure,
                "siege": None if seat is None else {"code": seat["code"], "nom": seat["nom"]},
                "communes": [{"code": c, "nom": communes[c]["nom"]} for c in members],
                "population": sum(int(communes[c]["population"] or 0) for c in members)})
        dacs.append({"candidature": info["id"], "nom": info["name"], "version": info["version"],
                     "porteur": info["organisation"] or info["author"],
                     "retenue_le": info["decided_at"].isoformat() if info["decided_at"] else None,
                     "antennes": antennas})
    return {"departement": dept, "cog_millesime": vintages[-1] if vintages else None,
            "dac": dacs}


@bp.get("/dac/<dept>")
def dac(dept: str):
    dept = check_dept_code(dept)
    document = dac_document(dept)
    if document is None:
        return _not_found(f"Aucun DAC retenu pour le département {dept}.")
    if request.args.get("format") != "geojson":
        return jsonify(document)
    features: list[dict[str, Any]] = []
    sql = text("SELECT ST_AsGeoJSON(ST_Transform(ST_SimplifyPreserveTopology("
               "ST_Union(geom), 20), 4326), 6) FROM communes WHERE code = ANY(:codes)")
    seat_sql = text("SELECT ST_X(p), ST_Y(p) FROM (SELECT ST_Transform(point, 4326) AS p "
                    "FROM communes WHERE code = :c) s")
    with _engine().connect() as conn:
        for dac_entry in document["dac"]:
            for antenna in dac_entry["antennes"]:
                codes = [c["code"] for c in antenna["communes"]]
                if not codes:
                    continue
                geometry = json.loads(conn.execute(sql, {"codes": codes}).scalar_one())
                properties = {"dac": dac_entry["nom"], "antenne": antenna["nom"],
                              "siege": antenna["siege"]["code"] if antenna["siege"] else None,
                              "communes": codes, "population": antenna["population"],
                              "cog_millesime": document["cog_millesime"], "type": "territoire"}
                features.append({"type": "Feature", "geometry": geometry,
                                 "properties": properties})
                if antenna["siege"]:
                    lon, lat = conn.execute(seat_sql, {"c": antenna["siege"]["code"]}).one()
                    features.append({"type": "Feature", "geometry": {
                        "type": "Point", "coordinates": [round(lon, 6), round(lat, 6)]},
                        "properties": {"dac": dac_entry["nom"], "antenne": antenna["nom"],
                                       "siege": antenna["siege"]["code"],
                                       "nom": antenna["siege"]["nom"], "type": "siege"}})
    body = json.dumps({"type": "FeatureCollection", "features": features}, ensure_ascii=False,
                      allow_nan=False)
    return Response(body, mimetype="application/geo+json")


def _antenna_id(dept: str, candidacy_id: int, index: int) -> str:
    return f"maillage-dac-{dept}-{candidacy_id}-{index + 1}"


@bp.get("/dac/<dept>/data-inclusion")
def data_inclusion(dept: str):
    """data·inclusion v1 services: one per antenna, ``zone_eligibilite`` = COG codes."""
    dept = check_dept_code(dept)
    document = dac_document(dept)
    if document is None:
        return _not_found(f"Aucun DAC retenu pour le département {dept}.")
    services = []
    for dac_entry in document["dac"]:
        date = (dac_entry["retenue_le"] or "")[:10] or None
        for i, antenna in enumerate(dac_entry["antennes"]):
            if not antenna["communes"]:
                continue
            seat = antenna["siege"]
            services.append({
                "source": "maillage",
                "structure_id": f"maillage-dac-{dept}-{dac_entry['candidature']}",
                "id": _antenna_id(dept, dac_entry["candidature"], i),
                "nom": f"{dac_entry['nom']} — antenne {antenna['nom']}"[:150],
                "description": (
                    f"Dispositif d'appui à la coordination (DAC) retenu par l'ARS pour le "
                    f"département {dept}, antenne {antenna['nom']}"
                    + (f" (siège : {seat['nom']})" if seat else "")
                    + f". Territoire : {plural(len(antenna['communes']), 'commune')}, "
                    f"{plural(antenna['population'], 'habitant')} "
                    f"(COG {document['cog_millesime']})."),
                "date_maj": date,
                "code_insee": seat["code"] if seat else None,
                "commune": seat["nom"] if seat else None,
                "zone_eligibilite": [c["code"] for c in antenna["communes"]],
            })
    return jsonify(services)


@bp.get("/dac/<dept>/fhir")
def fhir(dept: str):
    """FHIR R4 Bundle of HealthcareService with the ROR zoneIntervention extension."""
    dept = check_dept_code(dept)
    document = dac_document(dept)
    if document is None:
        return _not_found(f"Aucun DAC retenu pour le département {dept}.")
    entries = []
    for dac_entry in document["dac"]:
        for i, antenna in enumerate(dac_entry["antennes"]):
            extensions = [{"url": ROR_DIVISION, "extension": [
                {"url": "typeTerritorialDivision", "valueCodeableConcept": {"coding": [
                    {"system": ROR_DIVISION_TYPE, "code": "3", "display": "Commune"}]}},
                {"url": "codeTerritorialDivision", "valueCodeableConcept": {"coding": [
                    {"system": COMMUNE_SYSTEM, "code": c["code"],
                     "display": f"{c['nom']} ({c['code']})"}]}}]}
                for c in antenna["communes"]]
            resource = {"resourceType": "HealthcareService",
                        "id": _antenna_id(dept, dac_entry["candidature"], i),
                        "active": True,
                        "name": f"{dac_entry['nom']} — antenne {antenna['nom']}",
                        "comment": "Dispositif d'appui à la coordination (DAC)",
                        "extension": extensions}
            if antenna["siege"]:
                seat = antenna["siege"]
                resource["location"] = [{"display": f"{seat['nom']} ({seat['code']})"}]
            entries.append({"fullUrl": f"urn:uuid:{resource['id']}", "resource": resource})
    return Response(json.dumps({"resourceType": "Bundle", "type": "collection",
                                "entry": entries}, ensure_ascii=False),
                    mimetype="application/fhir+json")


def _drive_minutes(info: dict[str, Any], plan: Plan, dept: str) -> tuple[dict[str, float], str]:
    # A retained snapshot never changes: its drive times are cached by candidacy id.
    from web.plans import communes_of

    cache = current_app.extensions.setdefault("maillage_dac_times", {})
    if info["id"] not in cache:
        times = plan_drive_times(plan, communes_of(dept))
        cache[info["id"]] = (times.minutes, times.label, times.mode)
    minutes, label, _ = cache[info["id"]]
    return minutes, label


def _dac_card(dept: str, seat: str | None) -> dict[str, Any] | None:
    """The directory's DAC (FINESS 606) of the département nearest the antenna seat."""
    sql = text(
        "SELECT s.id, s.name, s.address, s.postal_code, s.commune_name, s.phone, s.email, "
        "s.website FROM structures s LEFT JOIN communes c ON c.code = s.commune_code "
        "WHERE s.category_code = :cat AND (c.departement = :d OR s.postal_code LIKE :prefix) "
        "ORDER BY s.point <-> (SELECT ST_Transform(point, 4326) FROM communes "
        "WHERE code = CAST(:seat AS varchar)) NULLS LAST, s.id LIMIT 1")
    with _engine().connect() as conn:
        row = conn.execute(sql, {"cat": DAC_CATEGORY, "d": dept, "prefix": dept + "%",
                                 "seat": seat}).mappings().first()
    return None if row is None else dict(row)


@bp.get("/communes/<code>/dac")
def commune_dac(code: str):
    """The retained DAC antenna covering a commune, with the drive time from its seat."""
    code = code.strip().upper()
    if not (len(code) == 5 and code.isalnum()):
        raise MaillageError("Code commune INSEE attendu (5 caractères).")
    with _engine().connect() as conn:
        commune = conn.execute(text("SELECT code, nom, departement, cog_vintage FROM communes "
                                    "WHERE code = :c"), {"c": code}).mappings().first()
    if commune is None:
        return _not_found(f"Commune {code} inconnue.")
    dept = commune["departement"]
    for info, plan in _retained(dept):
        for antenna in plan.antennas:
            if code not in antenna.communes:
                continue
            minutes, label = _drive_minutes(info, plan, dept)
            value = minutes.get(code)
            seat_name = None
            if antenna.seat:
                with _engine().connect() as conn:
                    seat_name = conn.execute(text("SELECT nom FROM communes WHERE code = :c"),
                                             {"c": antenna.seat}).scalar()
            return jsonify({
                "commune": {"code": code, "nom": commune["nom"],
                            "cog_millesime": commune["cog_vintage"]},
                "dac": {"candidature": info["id"], "nom": info["name"],
                        "porteur": info["organisation"] or info["author"]},
                "antenne": {"nom": antenna.name, "structure": antenna.structure,
                            "siege": None if not antenna.seat else {"code": antenna.seat,
                                                                    "nom": seat_name}},
                "temps_trajet": None if value is None or not value < float("inf") else {
                    "minutes": round(value, 1), "mode": label},
                "contact": _dac_card(dept, antenna.seat),
            })
    return _not_found(f"Aucun DAC retenu ne couvre la commune {commune['nom']} ({code}).")


def openapi_paths() -> dict[str, Any]:
    """The OpenAPI paths of this blueprint (merged by :func:`web.api.openapi_document`)."""
    dept = {"name": "dept", "in": "path", "required": True, "schema": {"type": "string"}}
    error = {"$ref": "#/components/responses/Erreur"}
    return {
        "/api/v1/dac/{dept}": {"get": {
            "summary": "DAC retenu(s) du département : antennes, sièges, communes (COG)",
            "parameters": [dept, {"name": "format", "in": "query", "required": False,
                                  "schema": {"type": "string", "enum": ["json", "geojson"]}}],
            "responses": {"200": {"description": "JSON, ou GeoJSON (territoires des antennes "
                                                 "fusionnés à partir des communes, sièges)",
                                  "content": {"application/json": {"schema": {"type": "object"}},
                                              "application/geo+json": {
                                                  "schema": {"type": "object"}}}},
                          "400": error, "404": error}}},
        "/api/v1/dac/{dept}/data-inclusion": {"get": {
            "summary": "Services data·inclusion v1 (un par antenne) avec zone_eligibilite",
            "parameters": [dept],
            "responses": {"200": {"description": "Liste de services data·inclusion v1",
                                  "content": {"application/json": {"schema": {
                                      "type": "array", "items": {"type": "object", "required": [
                                          "source", "structure_id", "id", "nom", "description",
                                          "zone_eligibilite"]}}}}},
                          "400": error, "404": error}}},
        "/api/v1/dac/{dept}/fhir": {"get": {
            "summary": "Bundle FHIR R4 de HealthcareService avec l'extension ROR "
                       "ror-territorial-division (zoneIntervention) par commune",
            "parameters": [dept],
            "responses": {"200": {"description": "Bundle FHIR", "content": {
                "application/fhir+json": {"schema": {"type": "object"}}}},
                "400": error, "404": error}}},
        "/api/v1/communes/{code}/dac": {"get": {
            "summary": "DAC et antenne couvrant une commune, temps de trajet depuis le siège",
            "parameters": [{"name": "code", "in": "path", "required": True,
                            "schema": {"type": "string", "pattern": "^[0-9AB]{5}$"}}],
            "responses": {"200": {"description": "DAC, antenne, temps de trajet, contact",
                                  "content": {"application/json": {"schema": {
                                      "type": "object"}}}},
                          "400": error, "404": error}}},
    }
