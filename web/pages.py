"""Public pages (home, resource search, structure page) and the editors' forms."""

from __future__ import annotations

from datetime import date

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    g,
    redirect,
    render_template,
    request,
    url_for,
)
from sqlalchemy import text

from directory import opening_hours
from directory.records import StructureRecord
from directory.search import structure_detail
from directory.store import search_text
from web.accounts import record_audit
from web.auth import role_required

bp = Blueprint("pages", __name__)

EDITABLE = ("name", "phone", "email", "website", "opening_hours", "description", "address")


def _engine():
    return current_app.extensions["maillage_engine"]


@bp.get("/")
def index():
    return render_template("index.html")


@bp.get("/recherche")
def search_page():
    return render_template("search.html")


@bp.get("/structure/<int:structure_id>")
def structure(structure_id: int):
    with _engine().connect() as conn:
        detail = structure_detail(conn, structure_id)
    if detail is None:
        abort(404)
    hours = detail.get("opening_hours")
    hours_fr = opening_hours.to_french(hours) if hours and not opening_hours.validate(hours) else hours
    return render_template("structure.html", s=detail, hours_fr=hours_fr)


@bp.route("/structure/<int:structure_id>/modifier", methods=["GET", "POST"])
@role_required("editeur")
def edit_structure(structure_id: int):
    with _engine().connect() as conn:
        detail = structure_detail(conn, structure_id)
    if detail is None:
        abort(404)
    if request.method == "POST":
        values = {k: (request.form.get(k) or "").strip() or None for k in EDITABLE}
        # Errors are shown under their field (aria-describedby); the first one takes focus.
        errors: dict[str, str] = {}
        if not values["name"]:
            errors["name"] = "Le nom est obligatoire."
        if values["opening_hours"] and (problem := opening_hours.validate(values["opening_hours"])):
            errors["opening_hours"] = f"Horaires : {problem}"
        if errors:
            return render_template("edit_structure.html", s={**detail, **values},
                                   errors=errors), 400
        before = {k: detail.get(k) for k in EDITABLE}
        record = StructureRecord(source="", source_id="", name=values["name"] or "",
                                 description=values["description"])
        with _engine().begin() as conn:
            label = conn.execute(text("SELECT label FROM categories WHERE code = :c"),
                                 {"c": detail["category_code"]}).scalar() or ""
            conn.execute(text(
                "UPDATE structures SET name = :name, phone = :phone, email = :email, "
                "website = :website, opening_hours = :opening_hours, description = :description, "
                "address = :address, last_verified = :today, search_text = :st, "
                "updated_at = now() WHERE id = :id"),
                {**values, "today": date.today(), "id": structure_id,
                 "st": search_text(record, category_label=label,
                                   commune_name=detail.get("commune_name") or "")})
            record_audit(conn, user=g.user, action="modification", entity="structure",
                         entity_id=str(structure_id), before=before, after=values)
        flash("Fiche enregistrée et marquée vérifiée aujourd'hui.", "info")
        return redirect(url_for("pages.structure", structure_id=structure_id))
    return render_template("edit_structure.html", s=detail)
