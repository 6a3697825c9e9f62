"""Flask application factory."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from flask import Flask, send_from_directory

from geo import settings
from geo.db import get_engine
from geo.fmt import fr_float, fr_int
from web import api, auth, errors, pages, plans, security

VENDOR = Path(__file__).resolve().parent.parent / "geo" / "vendor"


def create_app(*, database_url: str | None = None, testing: bool = False,
               config: dict[str, Any] | None = None) -> Flask:
    app = Flask(__name__)
    app.config.update(SECRET_KEY=security.secret_key(), TESTING=testing,
                      MAILLAGE_DATA_DIR=str(settings.data_dir()))
    if config:
        app.config.update(config)
    app.extensions["maillage_engine"] = get_engine(database_url)
    security.install(app)
    errors.install(app)
    app.before_request(auth.load_user)
    app.jinja_env.globals.update(fr_int=fr_int, fr_float=fr_float)
    for blueprint in (api.bp, auth.bp, pages.bp, plans.bp):
        app.register_blueprint(blueprint)

    @app.get("/static/vendor/<path:filename>")
    def vendor(filename: str):
        # Leaflet and markercluster, vendored from npm: never a CDN.
        return send_from_directory(VENDOR, filename, max_age=86400)

    return app
