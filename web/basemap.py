"""The offline base map served from PostGIS, map settings for the templates, and
compressed, cacheable JSON responses for every map payload.

* ``/carte/fond.json``: the départements loaded (code, name, WGS84 bbox);
* ``/carte/fond/<dept>.json``: département outline, commune boundaries (light) and the
  names of the communes with the zoom from which each is shown (``?communes=0`` leaves
  the boundaries out: the plan pages draw their own communes);
* ``/carte/leaflet-fr.js``: Leaflet's controls in French (``geo.mapstyle.LEAFLET_FR``).

Public data only (no login): the search page, public, shows it too.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

from flask import Blueprint, Flask, Response, abort, current_app, request

from geo import mapstyle
from geo.errors import MaillageError

bp = Blueprint("basemap", __name__, url_prefix="/carte")
#: Browsers revalidate map data after this many seconds (ETag: a 304 costs nothing).
MAX_AGE = 300


def json_response(payload: Any, *, max_age: int = MAX_AGE, private: bool = False) -> Response:
    """Compact JSON with a strong ETag (content hash); answers 304 to a matching
    ``If-None-Match``. Compression is added by flask-compress (``install``)."""
    body = payload if isinstance(payload, bytes) else json.dumps(
        payload, separators=(",", ":"), ensure_ascii=False).encode("utf-8")
    response = Response(body, mimetype="application/json")
    response.set_etag(hashlib.sha256(body).hexdigest()[:32])
    scope = "private" if private else "public"
    response.headers["Cache-Control"] = f"{scope}, max-age={max_age}, must-revalidate"
    return response


def _engine():
    return current_app.extensions["maillage_engine"]


def _cache() -> dict[Any, Any]:
    cache: dict[Any, Any] = current_app.extensions.setdefault("maillage_basemap", {})
    return cache


def basemap_bytes(dept: str, *, communes: bool = True) -> bytes:
    """The encoded base map of ``dept`` (cached per process)."""
    from geo.basemap import basemap_from_frame
    from geo.communes import check_dept_code, communes_frame

    try:
        dept = check_dept_code(dept)
    except MaillageError:
        abort(404)
    key = (dept, communes)
    cache = _cache()
    if key not in cache:
        with _engine().connect() as conn:
            try:
                frame = communes_frame(conn, dept=dept)
            except MaillageError:
                abort(404)
            names = {d["code"]: d["nom"] for d in _departements()}
        payload = basemap_from_frame(frame, dept=dept, name=names.get(dept, dept)).payload()
        if not communes:
            payload["communes"] = []
        cache[key] = json.dumps(payload, separators=(",", ":"), ensure_ascii=False).encode()
    result: bytes = cache[key]
    return result


def _departements() -> list[dict[str, Any]]:
    from geo.basemap import departements_loaded

    cache = _cache()
    if "departements" not in cache:
        with _engine().connect() as conn:
            cache["departements"] = departements_loaded(conn)
    result: list[dict[str, Any]] = cache["departements"]
    return result


@bp.get("/fond.json")
def departements() -> Response:
    return json_response({"departements": _departements(),
                          "legend": [*mapstyle.MARKERS_LEGEND, *mapstyle.BASEMAP_LEGEND]})


@bp.get("/fond/<dept>.json")
def basemap(dept: str) -> Response:
    return json_response(basemap_bytes(dept, communes=request.args.get("communes") != "0"))


@bp.get("/leaflet-fr.js")
def leaflet_fr() -> Response:
    response = Response(mapstyle.leaflet_fr_js(), mimetype="text/javascript")
    response.headers["Cache-Control"] = f"public, max-age={MAX_AGE}"
    return response


def map_settings() -> dict[str, Any]:
    """Template globals: the online background and the offline notice."""
    layer = current_app.config.get("MAILLAGE_TILE_LAYER")
    return {"map_tiles": {
        "url": layer.url if layer else "", "attribution": layer.attribution if layer else "",
        "maxZoom": layer.max_zoom if layer else 19, "name": layer.name if layer else "",
        "offline": mapstyle.OFFLINE_NOTICE}}


def install(app: Flask) -> None:
    """The blueprint, the template globals and response compression (gzip, br, …)."""
    from flask_compress import Compress

    app.register_blueprint(bp)
    app.context_processor(map_settings)
    app.config.setdefault("COMPRESS_MIMETYPES", [
        "text/html", "text/css", "text/javascript", "application/javascript",
        "application/json", "application/geo+json", "image/svg+xml", "text/csv"])
    Compress(app)
