"""CSRF tokens, session cookie flags, security headers, upload limit, secret key."""

from __future__ import annotations

import hmac
import ipaddress
import os
import re
import secrets
from pathlib import Path
from urllib.parse import urlsplit

from flask import Flask, Response, abort, g, request, session
from flask.sessions import SecureCookieSessionInterface

from geo import mapstyle, settings

CSRF_FIELD = "csrf_token"
CSRF_HEADER = "X-CSRF-Token"
CSRF_MESSAGE = "Jeton de sécurité (CSRF) absent ou périmé : rechargez la page et recommencez."
#: Upload limit of every request body (plans in CSV/XLSX are far smaller).
MAX_UPLOAD_BYTES = 5 * 1024 * 1024
_SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def secret_key() -> str:
    """``MAILLAGE_SECRET_KEY``, else a random key persisted in ``VAR_DIR/secret_key``.

    The file is created once with mode 0600, so that sessions survive a restart.
    """
    env = os.environ.get("MAILLAGE_SECRET_KEY")
    if env:
        return env
    path = Path(settings.VAR_DIR) / "secret_key"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        try:
            # O_EXCL: two workers starting together keep the same key; 0600 from the
            # start, never readable by others even for an instant.
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            pass
        else:
            with os.fdopen(fd, "w", encoding="ascii") as fh:
                fh.write(secrets.token_hex(32))
    key = path.read_text(encoding="ascii").strip()
    if len(key) < 32:
        raise RuntimeError(f"clé secrète trop courte dans {path}")
    return key


def csrf_token() -> str:
    """The session's CSRF token (created on first use); put it in every POST form."""
    if CSRF_FIELD not in session:
        session[CSRF_FIELD] = secrets.token_urlsafe(32)
    return str(session[CSRF_FIELD])


def _check_csrf() -> None:
    # Every state-changing request, API included: a form field or, for fetch(), a header.
    if request.method in _SAFE_METHODS:
        return
    sent = request.form.get(CSRF_FIELD) or request.headers.get(CSRF_HEADER) or ""
    expected = session.get(CSRF_FIELD) or ""
    if not expected or not hmac.compare_digest(str(sent), str(expected)):
        abort(400, description=CSRF_MESSAGE)


#: Longest query-string or form value accepted (uploaded files are not form values).
MAX_FIELD_CHARS = 5_000
#: Largest page number any list accepts.
MAX_PAGE = 10_000
_PAGE_RE = re.compile(r"^[0-9]{1,5}$")
INPUT_MESSAGE = ("Saisie refusée : texte trop long (plus de 5 000 caractères) ou caractère "
                 "interdit.")
PAGE_MESSAGE = "Numéro de page invalide (entre 1 et 10 000)."


def _check_input() -> None:
    # Hostile input gets a French 400 here, before any view or the database sees it.
    for values in (request.args, request.form):
        for key, value in values.items(multi=True):
            if len(key) > 200 or len(value) > MAX_FIELD_CHARS or "\x00" in value or "\x00" in key:
                abort(400, description=INPUT_MESSAGE)
    for name in ("page", "per_page"):
        raw = request.args.get(name) or ""
        if raw and not (_PAGE_RE.match(raw) and 1 <= int(raw) <= MAX_PAGE):
            abort(400, description=PAGE_MESSAGE)


def is_loopback(host: str) -> bool:
    """Whether a ``Host`` header names this machine (``localhost``, 127.0.0.0/8, ::1)."""
    name = urlsplit("//" + host).hostname or ""
    if name == "localhost" or name.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(name).is_loopback
    except ValueError:
        return False


class SessionInterface(SecureCookieSessionInterface):
    """Signed cookie session whose ``Secure`` flag follows the request.

    Secure everywhere except on the loopback interface and in tests, where the app is
    reached over plain http. ``MAILLAGE_SECURE_COOKIES=1`` / ``0`` forces it (``0`` only
    for a trusted LAN without TLS).
    """

    def get_cookie_secure(self, app: Flask) -> bool:
        forced = os.environ.get("MAILLAGE_SECURE_COOKIES", "").strip()
        if forced in {"0", "1"}:
            return forced == "1"
        if app.testing:
            return False
        return not is_loopback(request.host)


def content_security_policy(tile_url: str | None) -> str:
    """The CSP: scripts, styles, fetches from this origin only; tiles as images.

    ``tile_url`` is the URL template of the online background (``MAILLAGE_TILES``), or
    ``None``/``""`` when there is none: then images come from this origin only.
    """
    tiles = mapstyle.tile_origin(
        mapstyle.TileLayer(name="", url=tile_url, attribution="")) if tile_url else ""
    # 'unsafe-inline' styles only: Leaflet and some templates set style attributes;
    # no inline or external script can run.
    return ("default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
            f"img-src 'self' data: {tiles}".rstrip() + "; "
            "connect-src 'self'; font-src 'self'; object-src 'none'; frame-ancestors 'none'; "
            "base-uri 'self'; form-action 'self'")


def tile_setting(app: Flask) -> mapstyle.TileLayer | None:
    """The online background of ``app``: config ``MAILLAGE_TILES`` (or the older
    ``MAILLAGE_TILE_URL``), else the environment variables of the same names, else the
    « Plan IGN » default. Stored in ``app.config["MAILLAGE_TILE_LAYER"]``."""
    value = (app.config.get("MAILLAGE_TILES") or app.config.get("MAILLAGE_TILE_URL")
             or os.environ.get("MAILLAGE_TILES") or os.environ.get("MAILLAGE_TILE_URL")
             or mapstyle.DEFAULT_TILES)
    layer = mapstyle.tile_layer(str(value))
    app.config["MAILLAGE_TILE_LAYER"] = layer
    app.config["MAILLAGE_TILE_URL"] = layer.url if layer else ""
    return layer


def install(app: Flask) -> None:
    """Cookie flags, upload limit, CSRF check and security headers on ``app``."""
    tiles = tile_setting(app)
    app.config.update(SESSION_COOKIE_HTTPONLY=True, SESSION_COOKIE_SAMESITE="Lax")
    if not app.config.get("MAX_CONTENT_LENGTH"):  # Flask's default is None: no limit
        app.config["MAX_CONTENT_LENGTH"] = MAX_UPLOAD_BYTES
    app.session_interface = SessionInterface()
    app.before_request(_check_input)
    app.before_request(_check_csrf)
    app.jinja_env.globals["csrf_token"] = csrf_token
    csp = content_security_policy(tiles.url if tiles else None)

    @app.after_request
    def headers(response: Response) -> Response:
        response.headers.setdefault("Content-Security-Policy", csp)
        response.headers["X-Content-Type-Options"] = "nosniff"
        # Origin only to other sites: tile servers' policies (OpenStreetMap) want a Referer.
        response.headers["Referrer-Policy"] = "strict-origin-when-cross-origin"
        response.headers["X-Frame-Options"] = "DENY"
        response.headers["Cross-Origin-Opener-Policy"] = "same-origin"
        response.headers["Permissions-Policy"] = "camera=(), microphone=(), payment=()"
        if request.is_secure:
            response.headers["Strict-Transport-Security"] = "max-age=31536000"
        if g.get("user") is not None and response.mimetype == "text/html":
            # Private pages must not come back from the browser cache after logout.
            response.headers["Cache-Control"] = "no-store"
        return response
