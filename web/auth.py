"""Login, logout, the current user in ``flask.g`` and the access decorators."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar, cast

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

from web.accounts import ROLES, User, authenticate, get_user

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
    if g.user is None:  # account deleted or deactivated meanwhile
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


def _safe_next(target: str | None) -> str:
    # Only a path of this site: no open redirect to //other.site or https://…
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return url_for("pages.index")
    return target


@bp.route("/connexion", methods=["GET", "POST"])
def login() -> Any:
    if request.method == "POST":
        email = request.form.get("email", "")
        with current_app.extensions["maillage_engine"].connect() as conn:
            user = authenticate(conn, email=email, password=request.form.get("password", ""))
        if user is None:
            current_app.logger.warning("échec de connexion pour %r", email[:200])
            flash("Adresse ou mot de passe incorrect.", "erreur")
            return render_template("login.html", email=email), 401
        # A fresh session (and CSRF token) at login: no session fixation.
        session.clear()
        session["user_id"] = user.id
        return redirect(_safe_next(request.args.get("next")))
    return render_template("login.html", email="")


@bp.post("/deconnexion")
def logout() -> Any:
    session.clear()
    flash("Vous êtes déconnecté.", "info")
    return redirect(url_for("pages.index"))
