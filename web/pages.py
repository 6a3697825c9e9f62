"""Public pages (home, structure page) and the editors' pages: the editing form, the
« Marquer comme vérifiée » action, the « À vérifier » work list and the admin journal."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any
from urllib.parse import parse_qsl, quote

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
from directory.edits import FIELDS, check
from directory.search import distance_from, place_of, structure_detail
from directory.store import STALE_AFTER
from geo.fmt import fr_date, plural
from web.audit import history
from web.auth import role_required
from web.editing import apply_edit, mark_verified
from web.search import search_state, search_url

bp = Blueprint("pages", __name__)

SECTOR_LABELS = {"sanitaire": "sanitaire", "medico-social": "médico-social",
                 "social": "social"}
JOURNAL_PAGE = 100


def _engine():
    return current_app.extensions["maillage_engine"]


@bp.get("/")
def index():
    return render_template("index.html")


def _hours_fr(value: str | None) -> str | None:
    if not value:
        return None
    return opening_hours.to_french(value) if not opening_hours.validate(value) else value


def _day(value: Any) -> str:
    if not value:
        return ""
    day = date.fromisoformat(value[:10]) if isinstance(value, str) else value
    return day.strftime("%d/%m/%Y")


def _history(conn: Any, structure_id: int) -> list[dict[str, Any]]:
    """The card's audit entries, one line per changed field, newest first."""
    out = []
    for entry in history(conn, entity="structure", entity_id=structure_id):
        before, after = entry["before"] or {}, entry["after"] or {}
        for name in dict.fromkeys([*before, *after]):
            out.append({"at": entry["at"], "user": entry["user_email"],
                        "action": entry["action"],
                        "field": "Vérifiée le" if name == "last_verified"
                        else FIELDS.get(name, name),
                        "before": before.get(name), "after": after.get(name)})
    return out


@bp.get("/structure/<int:structure_id>")
def structure(structure_id: int):
    back = search_state(dict(parse_qsl(request.args.get("depuis", ""))))
    with _engine().connect() as conn:
        detail = structure_detail(conn, structure_id)
        if detail is None:
            abort(404)
        code = place_of(conn, q=back.get("q", ""), commune=back.get("commune"),
                        understand=back.get("lieu") != "0") if back else None
        origin = distance_from(conn, structure_id=structure_id, commune_code=code) \
            if code else None
        changes = _history(conn, structure_id)
    today = date.today()
    closure = None
    if detail["closed_from"]:
        start = date.fromisoformat(detail["closed_from"])
        end = date.fromisoformat(detail["closed_until"]) if detail["closed_until"] else None
        if end is None or end >= today:
            closure = {"start": fr_date(start), "end": fr_date(end) if end else None,
                       "now": start <= today, "reason": detail["closure_reason"]}
    directions = None
    if detail["lat"] is not None:
        lat, lon = round(detail["lat"], 6), round(detail["lon"], 6)
        start_point = f"{origin['lat']:.6f},{origin['lon']:.6f}" if origin else ""
        directions = {"geo": f"geo:{lat},{lon}",
                      "osm": "https://www.openstreetmap.org/directions?engine=fossgis_osrm_car"
                             f"&route={quote(start_point)}%3B{lat}%2C{lon}"}
    phone_digits = "".join(c for c in (detail["phone"] or "") if c.isdigit() or c == "+")
    return render_template(
        "structure.html", s=detail, hours_fr=_hours_fr(detail["opening_hours"]),
        back_url=search_url(back), origin=origin, directions=directions, closure=closure,
        phone_uri=f"tel:{phone_digits}" if phone_digits else None,
        sector=SECTOR_LABELS.get(detail["sector"] or "", ""), changes=changes,
        day=_day, depuis=request.args.get("depuis", ""))


def _form_values(detail: dict[str, Any]) -> dict[str, Any]:
    values = {k: detail.get(k) for k in FIELDS}
    return values


@bp.route("/structure/<int:structure_id>/modifier", methods=["GET", "POST"])
@role_required("editeur")
def edit_structure(structure_id: int):
    with _engine().connect() as conn:
        detail = structure_detail(conn, structure_id)
    if detail is None:
        abort(404)
    if request.method == "GET":
        return render_template("edit_structure.html", s=detail, values=_form_values(detail),
                               errors={}, fields=FIELDS,
                               hours_fr=_hours_fr(detail["opening_hours"]))
    checked = check({k: request.form.get(k) for k in FIELDS if k in request.form})
    if checked.errors:
        flash(plural(len(checked.errors), "champ à corriger", "champs à corriger") + ".",
              "erreur")
        return render_template("edit_structure.html", s=detail,
                               values={**_form_values(detail), **checked.values},
                               errors=checked.errors, fields=FIELDS, hours_fr=None), 400
    before = {k: (date.fromisoformat(v) if k in {"closed_from", "closed_until"} and v else v)
              for k, v in _form_values(detail).items()}
    with _engine().begin() as conn:
        changed = apply_edit(conn, structure_id=structure_id, values=checked.values,
                             user=g.user, before=before)
    if changed:
        flash(f"Fiche enregistrée ({plural(len(changed), 'champ modifié', 'champs modifiés')})."
              " Elle n'est pas marquée vérifiée : utilisez « Marquer comme vérifiée » si "
              "vous avez contrôlé toute la fiche.", "info")
    else:
        flash("Aucune modification.", "info")
    return redirect(url_for("pages.structure", structure_id=structure_id))


@bp.post("/structure/<int:structure_id>/verifier")
@role_required("editeur")
def verify_structure(structure_id: int):
    with _engine().begin() as conn:
        exists = conn.execute(text("SELECT 1 FROM structures WHERE id = :id"),
                              {"id": structure_id}).first()
        if exists is None:
            abort(404)
        mark_verified(conn, structure_id=structure_id, user=g.user)
    flash(f"Fiche marquée vérifiée le {fr_date(date.today())}.", "info")
    target = request.form.get("retour")
    if target == "a-verifier":
        return redirect(url_for("pages.to_verify"))
    return redirect(url_for("pages.structure", structure_id=structure_id))


@bp.get("/a-verifier")
@role_required("editeur")
def to_verify():
    """Records of the editor's département not verified for 12 months, oldest first."""
    dept = (request.args.get("dept") or getattr(g.user, "departement", None) or "").strip()
    if dept and not (dept.isalnum() and len(dept) <= 3):
        abort(400)
    limit = date.today() - STALE_AFTER
    params = {"limit": limit, "dept": dept}
    scope = ("s.status = 'open' AND (s.last_verified IS NULL OR s.last_verified < :limit) "
             "AND (:dept = '' OR s.commune_code LIKE :dept || '%')")
    with _engine().connect() as conn:
        # scope is a constant fragment; values are bound parameters.
        rows = conn.execute(text(
            "SELECT s.id, s.name, s.commune_name, s.last_verified, s.last_updated, "  # noqa: S608
            "coalesce(c.label, c.short_label, 'Sans catégorie') AS category "
            "FROM structures s LEFT JOIN categories c ON c.code = s.category_code "
            f"WHERE {scope} ORDER BY s.last_verified NULLS FIRST, s.last_updated NULLS FIRST, "
            "s.name LIMIT 500"), params).mappings().all()
        counts = conn.execute(text(
            "SELECT coalesce(c.label, c.short_label, 'Sans catégorie') AS category, "  # noqa: S608
            "count(*) AS n FROM structures s LEFT JOIN categories c "
            f"ON c.code = s.category_code WHERE {scope} GROUP BY 1 ORDER BY n DESC, 1"),
            params).all()
    total = sum(int(n) for _c, n in counts)
    return render_template("to_verify.html", rows=rows, counts=counts, total=total, dept=dept,
                           day=_day)


def _journal_filters() -> tuple[list[str], dict[str, Any], dict[str, str]]:
    args = {k: (request.args.get(k) or "").strip()[:200] for k in
            ("utilisateur", "du", "au", "fiche")}
    where: list[str] = ["1 = 1"]
    params: dict[str, Any] = {}
    if args["utilisateur"]:
        where.append("lower(a.user_email) LIKE '%' || lower(:user) || '%'")
        params["user"] = args["utilisateur"]
    for key, op in (("du", ">="), ("au", "<")):
        if args[key]:
            try:
                day = date.fromisoformat(args[key])
            except ValueError:
                flash(f"Date « {args[key]} » invalide (aaaa-mm-jj).", "erreur")
                continue
            params[key] = datetime.combine(day + timedelta(days=1 if key == "au" else 0),
                                           datetime.min.time())
            where.append(f"a.at {op} :{key}")
    if args["fiche"]:
        if args["fiche"].isdigit():
            where.append("a.entity = 'structure' AND a.entity_id = :record")
            params["record"] = args["fiche"]
        else:
            where.append("a.entity = 'structure' AND a.entity_id IN (SELECT id::text FROM "
                         "structures WHERE unaccent(lower(name)) LIKE '%' || "
                         "unaccent(lower(:record)) || '%')")
            params["record"] = args["fiche"]
    return where, params, args


@bp.get("/admin/journal")
@role_required("admin")
def journal():
    """The audit log, filterable by user, date and record."""
    where, params, args = _journal_filters()
    with _engine().connect() as conn:
        # where holds constant fragments only; values are bound parameters.
        rows = conn.execute(text(
            "SELECT a.id, a.at, a.user_email, a.action, a.entity, a.entity_id, a.before, "  # noqa: S608
            "a.after, s.name AS structure_name FROM audit_log a LEFT JOIN structures s "
            "ON a.entity = 'structure' AND s.id::text = a.entity_id "
            f"WHERE {' AND '.join(where)} ORDER BY a.at DESC, a.id DESC LIMIT :n"),
            {**params, "n": JOURNAL_PAGE}).mappings().all()
    entries = []
    for r in rows:
        before, after = r["before"] or {}, r["after"] or {}
        entries.append({**r, "changes": [
            {"field": "Vérifiée le" if k == "last_verified" else FIELDS.get(k, k),
             "before": before.get(k), "after": after.get(k)}
            for k in dict.fromkeys([*before, *after])]})
    return render_template("journal.html", entries=entries, args=args, limit=JOURNAL_PAGE)
