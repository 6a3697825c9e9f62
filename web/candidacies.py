"""Candidacies: submission by the promoter, the ARS review across candidacies, decisions.

Every submission and decision is written to the audit log (entity ``candidature``), in
the same transaction as the change; the candidacy page shows that history to the ARS
and to the promoter's organisation.
"""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    flash,
    g,
    redirect,
    render_template,
    request,
    url_for,
)
from flask import session as session_store
from sqlalchemy import text

from coverage.candidacy import (
    DECISIONS,
    STATUS_LABELS,
    Review,
    candidate_key,
    current_candidacies,
    decide,
    get_candidacy,
    list_candidacies,
    review_candidacies,
    submit_plan,
)
from coverage.plan import Plan
from coverage.store import plan_info
from geo.communes import check_dept_code
from geo.db import session_scope
from geo.errors import MaillageError
from geo.spreadsheet import csv_text, write_xlsx
from web.accounts import User, can_access_plan
from web.audit import history, record
from web.auth import login_required, role_required
from web.plans import checked, communes_of, shapes_of

bp = Blueprint("candidacies", __name__)


def _engine():
    return current_app.extensions["maillage_engine"]


def can_see_candidacy(user: User | None, info: dict[str, Any]) -> bool:
    """The ARS of the département, the candidate (organisation or promoter), an admin."""
    if user is None:
        return False
    if user.role == "admin":
        return True
    if user.role == "ars":
        return user.departement is not None and user.departement == info["departement"]
    if user.role == "promoteur":
        return info["candidate_key"] == candidate_key(organisation_id=user.organisation_id,
                                                      user_id=user.id)
    return False


def _candidacy_or_403(candidacy_id: int) -> tuple[dict[str, Any], Plan]:
    with session_scope(_engine()) as session:
        try:
            info, plan = get_candidacy(session, candidacy_id)
        except MaillageError:
            abort(404)
    if not can_see_candidacy(g.user, info):
        abort(403)
    return info, plan


# --- the promoter submits --------------------------------------------------------------

@bp.post("/plans/<int:plan_id>/deposer")
@role_required("promoteur")
def submit(plan_id: int):
    if g.user.role != "promoteur":
        # A candidacy is submitted by its promoter, never on their behalf (not even by an
        # admin): the snapshot names its author and organisation.
        abort(403)
    with session_scope(_engine()) as session:
        try:
            info = plan_info(session, plan_id)
        except MaillageError:
            abort(404)
        if not can_access_plan(g.user, owner_id=info["owner_id"], plan_dept=info["departement"],
                               organisation_id=info["organisation_id"]):
            abort(403)
        try:
            candidacy = submit_plan(session, plan_id, user_id=g.user.id,
                                    user_name=g.user.display_name,
                                    organisation_id=g.user.organisation_id,
                                    organisation_name=g.user.organisation)
        except MaillageError as exc:
            flash(exc.message, "erreur")
            return redirect(url_for("plans.show", plan_id=plan_id))
        record(session, user=g.user, action="depot", entity="candidature",
               entity_id=candidacy["id"], before=None,
               after={"statut": "deposee", "plan": plan_id, "version": candidacy["version"],
                      "nom": candidacy["name"], "departement": candidacy["departement"]})
    flash(f"Candidature déposée (version {candidacy['version']}) : l'ARS peut maintenant "
          "la consulter.", "info")
    return redirect(url_for("candidacies.show", candidacy_id=candidacy["id"]))


# --- one candidacy: snapshot, history, decision -----------------------------------------

@bp.get("/candidatures/<int:candidacy_id>")
@login_required
def show(candidacy_id: int):
    info, plan = _candidacy_or_403(candidacy_id)
    with session_scope(_engine()) as session:
        log = history(session, entity="candidature", entity_id=candidacy_id)
        versions = list_candidacies(session, depts=[info["departement"]],
                                    candidate_keys=[info["candidate_key"]])
    # A refused decision (Post/Redirect/Get): its message goes under the field concerned.
    refused = session_store.pop("decision_error", None)
    if refused and refused.get("id") != candidacy_id:
        refused = None
    return render_template("candidacies_show.html", info=info, plan=plan, check=checked(plan),
                           log=log, versions=versions, statuses=STATUS_LABELS,
                           decisions=DECISIONS, refused=refused)


@bp.post("/candidatures/<int:candidacy_id>/decision")
@role_required("ars")
def decision(candidacy_id: int):
    info, _ = _candidacy_or_403(candidacy_id)
    status = request.form.get("statut", "")
    comment = request.form.get("commentaire", "")
    with session_scope(_engine()) as session:
        try:
            before, after = decide(session, candidacy_id, status=status, comment=comment,
                                   user_id=g.user.id, user_name=g.user.display_name)
        except MaillageError as exc:
            field = "statut" if exc.message.startswith("Décision") else \
                "commentaire" if "ommentaire" in exc.message else ""
            if field:
                session_store["decision_error"] = {
                    "id": candidacy_id, "field": field, "message": exc.message,
                    "statut": status[:40], "commentaire": comment[:2000]}
            else:
                flash(exc.message, "erreur")
            return redirect(url_for("candidacies.show", candidacy_id=candidacy_id))
        record(session, user=g.user, action="decision", entity="candidature",
               entity_id=candidacy_id, before=before, after=after)
    flash(f"Candidature « {info['name']} » : {STATUS_LABELS[status]}.", "info")
    return redirect(url_for("candidacies.show", candidacy_id=candidacy_id))


# --- the ARS review across candidacies -------------------------------------------------

def _review_dept() -> str:
    """The département reviewed: the ARS's own; an admin chooses with ``?dept=``."""
    if g.user.role == "admin":
        try:
            return check_dept_code(request.args.get("dept") or "")
        except MaillageError:
            abort(400, "Précisez le département (paramètre « dept »).")
    if not g.user.departement:
        abort(403)
    return str(g.user.departement)


def dept_review(dept: str) -> tuple[Review, list[dict[str, Any]]]:
    """The review of ``dept`` and every candidacy submitted there (all versions)."""
    with session_scope(_engine()) as session:
        entries = current_candidacies(session, dept=dept)
        every = list_candidacies(session, depts=[dept])
    return review_candidacies(entries, communes_of(dept)), every


def _region_depts(dept: str) -> list[str]:
    sql = text("SELECT d.code FROM departements d WHERE d.region IS NOT NULL AND d.region = "
               "(SELECT region FROM departements WHERE code = :d) "
               "AND EXISTS (SELECT 1 FROM communes c WHERE c.departement = d.code) "
               "ORDER BY d.code")
    with _engine().connect() as conn:
        codes = [r[0] for r in conn.execute(sql, {"d": dept})]
    return codes or [dept]


@bp.get("/ars/candidatures")
@role_required("ars")
def review():
    dept = _review_dept()
    if request.args.get("perimetre") == "region":
        reviews = [(d, *dept_review(d)) for d in _region_depts(dept)]
        return render_template("review_candidacies_region.html", reviews=reviews, dept=dept,
                               statuses=STATUS_LABELS)
    result, every = dept_review(dept)
    return render_template("review_candidacies.html", review=result, every=every, dept=dept,
                           statuses=STATUS_LABELS)


@bp.get("/ars/candidatures/carte.json")
@role_required("ars")
def review_map_data():
    """The submitted candidacies on the shared comparison map (``coverage.maplayers``):
    the same symbols, legend and antenna colours as the plan pages and reports."""
    from coverage.maplayers import comparison_payload
    from web.basemap import json_response

    dept = _review_dept()
    with session_scope(_engine()) as session:
        plans = [plan for _, plan in current_candidacies(session, dept=dept)]
    return json_response(comparison_payload(plans, communes_of(dept), shapes=shapes_of(dept)),
                         private=True)


@bp.get("/ars/candidatures.csv")
@role_required("ars")
def review_csv():
    dept = _review_dept()
    result, _ = dept_review(dept)
    # One table for every section: the first column names the section.
    width = max(len(header) for _, header, _ in result.sections())
    rows: list[list[Any]] = []
    for title, header, body in result.sections():
        rows.append([title, *header] + [""] * (width - len(header)))
        rows += [[title, *row] + [""] * (width - len(row)) for row in body]
    data = csv_text(["section"] + [f"colonne {i + 1}" for i in range(width)], rows)
    return Response(data, mimetype="text/csv; charset=utf-8", headers={
        "Content-Disposition": f'attachment; filename="candidatures-{dept}.csv"'})


@bp.get("/ars/candidatures.xlsx")
@role_required("ars")
def review_xlsx():
    dept = _review_dept()
    result, _ = dept_review(dept)
    with tempfile.TemporaryDirectory() as tmp:
        path = write_xlsx(Path(tmp) / "candidatures.xlsx", result.sections())
        data = path.read_bytes()
    return Response(data, mimetype="application/vnd.openxmlformats-officedocument."
                                    "spreadsheetml.sheet",
                    headers={"Content-Disposition":
                             f'attachment; filename="candidatures-{dept}.xlsx"'})


@bp.get("/ars/candidatures/rapport")
@role_required("ars")
def review_report():
    dept = _review_dept()
    result, every = dept_review(dept)
    return render_template("review_candidacies_report.html", review=result, every=every,
                           dept=dept, statuses=STATUS_LABELS)
