"""Login, logout and the role decorators."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

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

from web.accounts import authenticate, get_user

bp = Blueprint("auth", __name__)


def load_user() -> None:
    g.user = None
    user_id = session.get("user_id")
    if user_id is not None:
        with current_app.extensions["maillage_engine"].connect() as conn:
            g.user = get_user(conn, int(user_id))


def login_required(view: Callable[..., Any]) -> Callable[..., Any]:
    @wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        if g.user is None:
            return redirect(url_for("auth.login", next=request.path))
        return view(*args, **kwargs)
    return wrapper


def role_required(*roles: str) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    def decorator(view: Callable[..., Any]) -> Callable[..., Any]:
        @wraps(view)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            if g.user is None:
                return redirect(url_for("auth.login", next=request.path))
            if g.user.role not in roles and g.user.role != "admin":
                abort(403)
            return view(*args, **kwargs)
        return wrapper
    return decorator


@bp.route("/connexion", methods=["GET", "POST"])
def login():
    if request.method == "POST":
        with current_app.extensions["maillage_engine"].connect() as conn:
            user = authenticate(conn, email=request.form.get("email", ""),
                                password=request.form.get("password", ""))
        if user is None:
            flash("Adresse ou mot de passe incorrect.", "erreur")
            return render_template("login.html"), 401
        token = session.get("csrf_token")
        session.clear()  # no session fixation
        session["user_id"] = user.id
        if token:
            session["csrf_token"] = token
        target = request.args.get("next") or ""
        if not target.startswith("/") or target.startswith("//"):
            target = url_for("pages.index")
        return redirect(target)
    return render_template("login.html")


@bp.post("/deconnexion")
def logout():
    session.clear()
    return redirect(url_for("pages.index"))
