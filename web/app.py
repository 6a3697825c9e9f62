"""Flask application factory."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Flask, abort, g, request
from flask.json.provider import DefaultJSONProvider

from geo import settings
from geo.fmt import a, de, fr_date, fr_float, fr_int, plural


def create_app(*, database_url: str | None = None, testing: bool = False,
               config: dict[str, Any] | None = None) -> Flask:
    """Build the web application.

    Parameters
    ----------
    database_url
        PostGIS URL; default :func:`geo.settings.database_url`.
    testing
        Flask testing mode; also registers the small ``/_test/…`` routes that the
        tests of the access decorators use.
    config
        Extra Flask configuration (overrides the defaults).
    """
    from geo.db import get_engine
    from web import (
        api,
        auth,
        basemap,
        candidacies,
        editor,
        errors,
        info,
        pages,
        plans,
        publication,
        search,
        security,
    )

    app = Flask(__name__)
    app.json = StrictJSONProvider(app)
    app.config.update(SECRET_KEY=security.secret_key(), TESTING=testing,
                      MAILLAGE_DATA_DIR=str(settings.data_dir()))
    if config:
        app.config.update(config)
    app.extensions["maillage_engine"] = get_engine(database_url)
    security.install(app)
    errors.install(app)
    app.before_request(auth.load_user)
    app.jinja_env.globals.update(fr_int=fr_int, fr_float=fr_float, de=de, a=a, plural=plural,
                                 fr_date=fr_date)
    app.jinja_env.filters.update(de=de, a=a, fr_date=_fr_date, fr_datetime=_fr_datetime)
    # search before pages: both used to answer /recherche, the first registered wins.
    for blueprint in (api.bp, auth.bp, search.bp, pages.bp, plans.bp, candidacies.bp,
                      publication.bp, editor.bp, info.bp):
        app.register_blueprint(blueprint)
    basemap.install(app)
    if testing:
        app.register_blueprint(_test_routes())
    return app


def _fr_date(value: Any) -> str:
    """:func:`geo.fmt.fr_date` that also reads ISO strings (``"2026-11-23"``, as the
    directory's JSON gives them)."""
    if isinstance(value, str):
        from datetime import date

        try:
            value = date.fromisoformat(value[:10])
        except ValueError:
            return value
    return fr_date(value)


def _fr_datetime(value: Any) -> str:
    """``datetime(2026, 11, 23, 14, 5)`` → « 23 novembre 2026 à 14 h 05 »."""
    if not hasattr(value, "hour"):
        return fr_date(value)
    return f"{fr_date(value)} à {value.hour} h {value.minute:02d}"


class StrictJSONProvider(DefaultJSONProvider):
    """JSON that is always valid: NaN or an infinity raise instead of printing ``NaN``.

    One bad row must never make the API emit invalid JSON that breaks the search page for
    every user; the readers and the database's CHECK constraints keep such values out,
    and this is the last line.
    """

    def dumps(self, obj: Any, **kwargs: Any) -> str:
        kwargs.setdefault("allow_nan", False)
        return super().dumps(obj, **kwargs)


def _test_routes() -> Blueprint:
    """Tiny protected routes, registered only with ``testing=True``."""
    from web import auth
    from web.accounts import can_access_plan

    bp = Blueprint("testing", __name__, url_prefix="/_test")

    @bp.get("/connecte")
    @auth.login_required
    def signed_in() -> str:
        return f"connecté : {g.user.email}"

    @bp.get("/editeur")
    @auth.role_required("editeur")
    def editor_only() -> str:
        return "éditeur"

    @bp.get("/promoteur-ou-ars")
    @auth.role_required("promoteur", "ars")
    def promoter_or_ars() -> str:
        return "promoteur ou ars"

    @bp.get("/plan/<int:owner_id>/<dept>")
    @auth.login_required
    def plan(owner_id: int, dept: str) -> str:
        if not can_access_plan(g.user, owner_id=owner_id, plan_dept=dept):
            abort(403)
        return "plan ouvert"

    @bp.post("/televersement")
    @auth.login_required
    def upload() -> str:
        size = sum(len(f.read()) for f in request.files.values())
        return f"{size} octets reçus"

    @bp.get("/nan")
    def nan() -> Any:
        from flask import jsonify

        return jsonify({"lat": float("nan")})

    @bp.get("/panne")
    def crash() -> str:
        raise RuntimeError("panne volontaire /_test/panne")

    return bp
