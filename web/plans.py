"""Promoters' plan workspace and the ARS review of candidacies."""

from __future__ import annotations

import hashlib
import tempfile
from pathlib import Path
from typing import Any

import geopandas as gpd
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

from coverage.annex import annex_rows, annex_table
from coverage.candidacy import latest_by_plan
from coverage.checks import CheckResult, check_plan
from coverage.drivetimes import plan_drive_times
from coverage.maplayers import (
    antenna_colours,
    comparison_payload,
    plan_layers,
    simplified_shapes,
)
from coverage.plan import Plan
from coverage.planfile import read_plan_file
from coverage.report import render_report, report_map
from coverage.store import delete_plan, list_plans, load_plan, plan_info, save_plan
from geo.communes import communes_frame
from geo.db import session_scope
from geo.errors import MaillageError
from geo.fmt import plural
from geo.spreadsheet import csv_text
from web.accounts import can_access_plan
from web.auth import login_required, role_required
from web.basemap import json_response

bp = Blueprint("plans", __name__)
ALLOWED = {".csv": None, ".xlsx": b"PK\x03\x04"}


def _engine():
    return current_app.extensions["maillage_engine"]


def communes_of(dept: str) -> gpd.GeoDataFrame:
    cache = current_app.extensions.setdefault("maillage_communes", {})
    if dept not in cache:
        with _engine().connect() as conn:
            cache[dept] = communes_frame(conn, dept=dept)
    return cache[dept]


def _plan_or_403(plan_id: int) -> tuple[Plan, dict[str, Any]]:
    with session_scope(_engine()) as session:
        try:
            info = plan_info(session, plan_id)
        except MaillageError:
            abort(404)
        submitted = bool(latest_by_plan(session, [plan_id]))
        if not can_access_plan(g.user, owner_id=info["owner_id"], plan_dept=info["departement"],
                               organisation_id=info["organisation_id"], submitted=submitted):
            abort(403)
        return load_plan(session, plan_id), info


def owner_signatures(owner_ids: list[int | None]) -> dict[int, str]:
    """« Name (organisation) » of each plan owner, for plans stored without an author."""
    from sqlalchemy import text

    ids = sorted({i for i in owner_ids if i is not None})
    if not ids:
        return {}
    sql = text("SELECT u.id, coalesce(u.name, u.email), o.name FROM users u "
               "LEFT JOIN organisations o ON o.id = u.organisation_id WHERE u.id = ANY(:i)")
    with _engine().connect() as conn:
        return {r[0]: f"{r[1]} ({r[2]})" if r[2] else r[1]
                for r in conn.execute(sql, {"i": ids})}


def checked(plan: Plan) -> CheckResult:
    communes = communes_of(plan.dept)
    return check_plan(plan, communes, drive_times=plan_drive_times(plan, communes))


@bp.get("/plans")
@login_required
def index():
    if g.user.role not in {"promoteur", "ars", "admin"}:
        abort(403)
    with session_scope(_engine()) as session:
        if g.user.role == "promoteur":
            rows = list_plans(session, owner_id=g.user.id, organisation_id=g.user.organisation_id)
        elif g.user.role == "ars":
            # Drafts stay private to the promoter's organisation.
            rows = list_plans(session, dept=g.user.departement, submitted_only=True)
        else:
            rows = list_plans(session)
        candidacies = latest_by_plan(session, [r["id"] for r in rows])
    return render_template("plans.html", plans=rows, candidacies=candidacies,
                           owners=owner_signatures([r["owner_id"] for r in rows]))


def _upload_form(filename: str, messages: list[str], *, name: str = "") -> tuple[str, int]:
    """The plans page again, the upload form showing the file's name and every offending
    line (issue 14, item 6): never a bare « Erreur 400 » page."""
    with session_scope(_engine()) as session:
        rows = list_plans(session, owner_id=g.user.id, organisation_id=g.user.organisation_id)
        candidacies = latest_by_plan(session, [r["id"] for r in rows])
    return render_template("plans.html", plans=rows, candidacies=candidacies,
                           owners=owner_signatures([r["owner_id"] for r in rows]),
                           upload_errors={"filename": filename, "messages": messages},
                           upload_name=name), 400


#: Offending lines shown at once; the rest behind « n de plus ».
UPLOAD_PREVIEW = 10


@bp.post("/plans/importer")
@role_required("promoteur")
def upload():
    upload = request.files.get("fichier")
    name = (request.form.get("nom") or "").strip()
    if upload is None or not upload.filename:
        return _upload_form("", ["Choisissez un fichier CSV ou XLSX."], name=name)
    filename = Path(upload.filename).name[:300]
    suffix = Path(filename).suffix.lower()
    head = upload.stream.read(4)
    upload.stream.seek(0)
    if suffix not in ALLOWED or (ALLOWED[suffix] and head != ALLOWED[suffix]):
        return _upload_form(filename, ["Type de fichier refusé : CSV ou XLSX uniquement."],
                            name=name)
    dept = g.user.departement or request.form.get("dept", "")
    try:
        with tempfile.TemporaryDirectory() as tmp:
            path = Path(tmp) / f"plan{suffix}"
            upload.save(path)
            pf = read_plan_file(path, communes=communes_of(dept), dept=dept,
                                name=name or Path(filename).stem)
    except MaillageError as exc:
        # The reader names its temporary copy: the user knows the file by its own name.
        return _upload_form(filename, [str(exc).replace(f"plan{suffix}", filename)], name=name)
    problems = [str(p) for p in pf.problems]
    if not pf.plan.antennas:
        return _upload_form(filename, ["Aucune ligne valide : rien n'est importé.", *problems],
                            name=name)
    pf.plan.author = g.user.signature
    notes = None
    if problems:
        notes = f"Lignes en anomalie à l'import de « {filename} » :\n" + "\n".join(problems)
    try:
        with session_scope(_engine()) as session:
            plan_id = save_plan(session, pf.plan, owner_id=g.user.id,
                                source_filename=filename, notes=notes,
                                organisation_id=g.user.organisation_id)
    except MaillageError as exc:
        return _upload_form(filename, [str(exc)], name=name[:200])
    for problem in problems[:UPLOAD_PREVIEW]:
        flash(f"{filename}, {problem}", "erreur")
    if len(problems) > UPLOAD_PREVIEW:
        more = plural(len(problems) - UPLOAD_PREVIEW, "ligne en anomalie", "lignes en anomalie")
        flash(f"{filename} : et {more} de plus, toutes listées sous « Lignes en anomalie à "
              "l'import » ci-dessous.", "erreur")
    flash(f"Plan importé : {plural(len(pf.plan.claims()), 'commune affectée', 'communes affectées')}.",
          "info")
    return redirect(url_for("plans.show", plan_id=plan_id))


@bp.post("/plans/proposer")
@role_required("promoteur")
def propose_sites():
    """Optimal sites (p-median, estimated times) saved as a new plan of the promoter."""
    from coverage.drivetimes import site_matrix
    from coverage.propose import propose, solve_note_fr

    try:
        k = int(request.form.get("k", ""))
    except ValueError:
        k = 0
    if not 1 <= k <= 12:
        flash("Nombre d'antennes entre 1 et 12.", "erreur")
        return redirect(url_for("plans.index"))
    dept = g.user.departement or ""
    communes = communes_of(dept)
    matrix = site_matrix(communes[["point_x", "point_y"]].to_numpy(dtype=float), communes)
    proposal = propose(communes, matrix, k=k)
    # « optimale » only for a proven optimum: a time limit gives the best found, and says so.
    proposal.plan.name = (
        f"Proposition optimale : {plural(k, 'antenne')} (p-médiane)" if proposal.result.optimal
        else f"Proposition : {plural(k, 'antenne')} (p-médiane, meilleure solution trouvée)")
    proposal.plan.author = g.user.signature
    with session_scope(_engine()) as session:
        plan_id = save_plan(session, proposal.plan, owner_id=g.user.id,
                            organisation_id=g.user.organisation_id)
    flash(f"{solve_note_fr('p-médiane', proposal.result, matrix.label)} Modifiez-la avec "
          "« Éditer sur la carte » ou par l'annexe 1.", "info")
    return redirect(url_for("plans.show", plan_id=plan_id))


@bp.get("/plans/<int:plan_id>")
@login_required
def show(plan_id: int):
    plan, info = _plan_or_403(plan_id)
    with session_scope(_engine()) as session:
        candidacy = latest_by_plan(session, [plan_id]).get(plan_id)
    return render_template("plan.html", plan=plan, info=info, check=checked(plan),
                           candidacy=candidacy, owners=owner_signatures([info["owner_id"]]),
                           colours=antenna_colours(plan, communes_of(plan.dept)))


def shapes_of(dept: str) -> Any:
    """Coverage-simplified Lambert-93 communes of ``dept`` (cached per process)."""
    cache = current_app.extensions.setdefault("maillage_shapes", {})
    if dept not in cache:
        cache[dept] = simplified_shapes(communes_of(dept))
    return cache[dept]


def _plan_payload(plan: Plan) -> bytes:
    """The encoded plan map (see ``coverage.maplayers``), cached by plan content."""
    import json

    key = hashlib.sha256(repr(plan).encode("utf-8")).hexdigest()
    cache = current_app.extensions.setdefault("maillage_plan_maps", {})
    if key not in cache:
        if len(cache) > 64:
            cache.clear()
        layers = plan_layers(plan, communes_of(plan.dept), checked(plan),
                             shapes=shapes_of(plan.dept), with_isochrones=True)
        cache[key] = json.dumps(layers.payload(), separators=(",", ":"),
                                ensure_ascii=False).encode("utf-8")
    data: bytes = cache[key]
    return data


@bp.get("/plans/<int:plan_id>/carte.json")
@login_required
def plan_map_data(plan_id: int):
    plan, _ = _plan_or_403(plan_id)
    return json_response(_plan_payload(plan), private=True)


@bp.get("/plans/<int:plan_id>/carte.html")
@login_required
def plan_map_file(plan_id: int):
    """The standalone interactive map (folium export, works offline)."""
    from coverage.mapping import build_map, save_map

    plan, _ = _plan_or_403(plan_id)
    with tempfile.TemporaryDirectory() as tmp:
        path = save_map(build_map(plan, communes_of(plan.dept), checked(plan)),
                        Path(tmp) / "carte.html")
        data = path.read_bytes()
    return Response(data, mimetype="text/html", headers={
        "Content-Disposition": f'attachment; filename="carte-plan{plan_id}.html"'})


@bp.get("/plans/<int:plan_id>/annexe1.csv")
@login_required
def annex_csv(plan_id: int):
    plan, _ = _plan_or_403(plan_id)
    table = annex_table(plan, communes_of(plan.dept), checked(plan))
    data = csv_text(list(table.columns), annex_rows(table))
    return Response(data, mimetype="text/csv; charset=utf-8",
                    headers={"Content-Disposition": f'attachment; filename="annexe1-plan{plan_id}.csv"'})


@bp.get("/plans/<int:plan_id>/annexe1.xlsx")
@login_required
def annex_xlsx(plan_id: int):
    from coverage.annex import write_annex

    plan, _ = _plan_or_403(plan_id)
    table = annex_table(plan, communes_of(plan.dept), checked(plan))
    with tempfile.TemporaryDirectory() as tmp:
        data = write_annex(table, Path(tmp))["annex_xlsx"].read_bytes()
    return Response(data, mimetype="application/vnd.openxmlformats-officedocument."
                                    "spreadsheetml.sheet",
                    headers={"Content-Disposition":
                             f'attachment; filename="annexe1-plan{plan_id}.xlsx"'})


@bp.get("/plans/<int:plan_id>/rapport")
@login_required
def report(plan_id: int):
    plan, _ = _plan_or_403(plan_id)
    check = checked(plan)
    files = {"Annexe 1 (CSV)": url_for("plans.annex_csv", plan_id=plan_id),
             "Annexe 1 (XLSX)": url_for("plans.annex_xlsx", plan_id=plan_id),
             "Carte interactive (HTML)": url_for("plans.plan_map_file", plan_id=plan_id)}
    return render_report(check, map_svg=report_map(plan, communes_of(plan.dept), check),
                         files=files)


def _submitted(plan_id: int) -> dict[str, Any] | None:
    with session_scope(_engine()) as session:
        return latest_by_plan(session, [plan_id]).get(plan_id)


@bp.get("/plans/<int:plan_id>/supprimer")
@role_required("promoteur")
def confirm_remove(plan_id: int):
    """Ask before deleting; a plan submitted as a candidacy cannot be deleted."""
    plan, info = _plan_or_403(plan_id)
    candidacy = _submitted(plan_id)
    return render_template("plan_delete.html", plan=plan, info=info, candidacy=candidacy)


@bp.post("/plans/<int:plan_id>/supprimer")
@role_required("promoteur")
def remove(plan_id: int):
    _plan_or_403(plan_id)
    candidacy = _submitted(plan_id)
    if candidacy is not None:
        flash(f"Ce plan a été déposé comme candidature (version {candidacy['version']}, "
              f"{candidacy['status_label']}) : il ne peut pas être supprimé. Dupliquez-le "
              "pour repartir d'un brouillon.", "erreur")
        return redirect(url_for("plans.show", plan_id=plan_id))
    if request.form.get("confirmation") != "oui":
        return redirect(url_for("plans.confirm_remove", plan_id=plan_id))
    with session_scope(_engine()) as session:
        delete_plan(session, plan_id)
    flash("Plan supprimé.", "info")
    return redirect(url_for("plans.index"))


# --- ARS review ---------------------------------------------------------------------

def _selected_plans() -> list[tuple[int, Plan]]:
    ids = [int(i) for i in request.args.getlist("plans") if i.isdigit()]
    if len(ids) < 1:
        raise MaillageError("Sélectionnez au moins un plan à comparer.")
    out = []
    for plan_id in ids:
        plan, _ = _plan_or_403(plan_id)
        out.append((plan_id, plan))
    depts = {p.dept for _, p in out}
    if len(depts) > 1:
        raise MaillageError("Les plans comparés doivent concerner le même département.")
    return out


def compare(plans: list[tuple[int, Plan]]) -> dict[str, Any]:
    dept = plans[0][1].dept
    communes = communes_of(dept)
    claimed: dict[str, list[str]] = {}
    beyond: dict[str, list[tuple[str, float]]] = {}
    for _, plan in plans:
        check = checked(plan)
        for code in plan.claims():
            claimed.setdefault(code, []).append(plan.name)
        if check.drive_times:
            for code, minutes in check.drive_times.beyond():
                beyond.setdefault(code, []).append((plan.name, minutes))
    multiple = {c: p for c, p in sorted(claimed.items()) if len(p) > 1}
    none = [c for c in communes.index if c not in claimed]
    return {"dept": dept, "communes": communes, "claimed": claimed, "multiple": multiple,
            "none": none, "beyond": dict(sorted(beyond.items()))}


@bp.get("/ars/comparer")
@role_required("ars")
def review():
    with session_scope(_engine()) as session:
        available = list_plans(session, dept=g.user.departement if g.user.role == "ars" else None,
                               submitted_only=True)
    if not request.args.getlist("plans"):
        return render_template("review.html", available=available, result=None, selected=[])
    plans = _selected_plans()
    colours = {pid: antenna_colours(p, communes_of(p.dept)) for pid, p in plans}
    return render_template("review.html", available=available, result=compare(plans),
                           selected=plans, colours=colours)


@bp.get("/ars/comparer.json")
@role_required("ars")
def review_map_data():
    plans = [p for _, p in _selected_plans()]
    dept = plans[0].dept
    return json_response(comparison_payload(plans, communes_of(dept), shapes=shapes_of(dept)),
                         private=True)


@bp.get("/ars/comparer.csv")
@role_required("ars")
def review_csv():
    result = compare(_selected_plans())
    communes = result["communes"]
    rows = [[code, communes.loc[code, "nom"], communes.loc[code, "population"],
             "revendiquée par plusieurs plans", " | ".join(owners)]
            for code, owners in result["multiple"].items()]
    rows += [[code, communes.loc[code, "nom"], communes.loc[code, "population"],
              "revendiquée par aucun plan", ""] for code in result["none"]]
    data = csv_text(["code_insee", "commune", "population", "situation", "plans"], rows)
    return Response(data, mimetype="text/csv; charset=utf-8",
                    headers={"Content-Disposition": 'attachment; filename="comparaison.csv"'})
