"""Login, logout, the current user in ``flask.g`` and the access decorators."""

from __future__ import annotations

import math
from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar, cast
from urllib.parse import unquote

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    g,
    redirect,
    render_template,
    request,
    session,
    url_for,
)

from web.accounts import ROLES, User, authenticate, end_sessions, get_user
from web.throttle import clear_failures, record_failure, wait_before_login

bp = Blueprint("auth", __name__)

F = TypeVar("F", bound=Callable[..., Any])


def load_user() -> None:
    """``before_request``: put the signed-in user (or ``None``) in ``g.user``."""
    g.user = None
    user_id = session.get("user_id")
    if user_id is None:
        return
    with current_app.extensions["maillage_engine"].connect() as conn:
        g.user = get_user(conn, int(user_id))
    # Account deleted or deactivated meanwhile, or the cookie predates a logout or a
    # password change (its session version is behind the account's).
    if g.user is None or session.get("v") != g.user.session_version:
        g.user = None
        session.clear()


def current_user() -> User | None:
    """The signed-in user of this request, or ``None``."""
    return cast("User | None", g.get("user"))


def _to_login() -> Any:
    return redirect(url_for("auth.login", next=request.full_path.rstrip("?")))


def login_required(view: F) -> F:
    """Anonymous visitors are sent to the login page, then back."""
    @wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        if current_user() is None:
            return _to_login()
        return view(*args, **kwargs)
    return cast(F, wrapper)


def role_required(*roles: str) -> Callable[[F], F]:
    """Only these roles (and ``admin``) may open the view; others get the 403 page."""
    unknown = set(roles) - set(ROLES)
    if unknown:
        raise ValueError(f"unknown roles: {sorted(unknown)}")

    def decorator(view: F) -> F:
        @wraps(view)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            user = current_user()
            if user is None:
                return _to_login()
            if user.role not in roles and user.role != "admin":
                abort(403)
            return view(*args, **kwargs)
        return cast(F, wrapper)
    return decorator


def safe_next(target: str | None) -> str:
    """``target`` when it is a path of this site, else the home page.

    Refuses open redirects in every spelling browsers accept: ``//host``, ``/\\host``,
    ``/%09/host`` (browsers drop tabs and newlines), percent-encoded forms of those, any
    control character, and a scheme.
    """
    home = url_for("pages.index")
    if not target or len(target) > 2000:
        return home
    decoded = target
    for _ in range(3):  # %252F… decoded twice by some proxies
        decoded = unquote(decoded)
    for text in (target, decoded):
        if any(ord(c) < 32 or ord(c) == 127 for c in text) or "\\" in text:
            return home
        if not text.startswith("/") or text.startswith("//") or ":" in text.split("?")[0]:
            return home
    return target


@bp.route("/connexion", methods=["GET", "POST"])
def login() -> Any:
    if request.method == "POST":
        email = request.form.get("email", "")[:200]
        ip = request.remote_addr or "?"
        engine = current_app.extensions["maillage_engine"]
        with engine.begin() as conn:
            wait = wait_before_login(conn, email=email, ip=ip)
        if wait:
            minutes = max(1, math.ceil(wait.total_seconds() / 60))
            flash(f"Trop de tentatives de connexion : réessayez dans {minutes} minute"
                  f"{'s' if minutes > 1 else ''}.", "erreur")
            response = current_app.make_response((render_template("login.html", email=email), 429))
            response.headers["Retry-After"] = str(math.ceil(wait.total_seconds()))
            return response
        with engine.begin() as conn:
            user = authenticate(conn, email=email, password=request.form.get("password", ""))
            if user is None:
                record_failure(conn, email=email, ip=ip)
            else:
                clear_failures(conn, email=email)
        if user is None:
            current_app.logger.warning("échec de connexion pour %r", email)
            # Shown next to the fields it concerns (aria-describedby), not as a banner.
            return render_template("login.html", email=email,
                                   error="Adresse ou mot de passe incorrect."), 401
        # A fresh session (and CSRF token) at login: no session fixation.
        session.clear()
        session["user_id"] = user.id
        session["v"] = user.session_version
        return redirect(safe_next(request.args.get("next")))
    return render_template("login.html", email="")


@bp.post("/deconnexion")
def logout() -> Any:
    user = current_user()
    if user is not None:
        # Every copy of this user's session cookie stops working, not only this one.
        with current_app.extensions["maillage_engine"].begin() as conn:
            end_sessions(conn, user.id)
    session.clear()
    flash("Vous êtes déconnecté.", "info")
    return redirect(url_for("pages.index"))
