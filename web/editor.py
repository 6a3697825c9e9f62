"""The plan editor: draw the coverage on the map with live checks, versions, proposals.

The browser holds the plan being drawn (a JSON state, see :mod:`coverage.editing`) and
its undo/redo stack; the server validates every state, applies every edit and answers
with the checks of ``plan check`` (``coverage.checks``). Saving records a version
(:mod:`coverage.versions`). Proposals and scenarios run the solvers in a background
job that the page polls and may cancel.
"""

from __future__ import annotations

import threading
import time
import uuid
from typing import Any

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    g,
    jsonify,
    redirect,
    render_template,
    request,
    url_for,
)

from coverage.editing import apply_edit, live_state, plan_from_state
from geo.db import session_scope
from geo.errors import MaillageError
from web.auth import role_required
from web.plans import _engine, _plan_or_403, communes_of

bp = Blueprint("editor", __name__)

#: Scenarios offered by the « Scénarios » panel.
SCENARIO_KS = range(2, 9)
#: Solver time limit (seconds) for a proposal started from the editor.
SOLVE_TIME_LIMIT = 60.0
#: Jobs kept per process (oldest finished jobs are dropped beyond).
MAX_JOBS = 50


def _error(message: str, status: int = 400):
    return jsonify({"error": message}), status


def _body() -> dict[str, Any]:
    data = request.get_json(silent=True)
    if not isinstance(data, dict):
        raise MaillageError("Requête illisible : un objet JSON est attendu.")
    return data


def _access(plan_id: int) -> dict[str, Any]:
    """The plan's row (no content): 404 if unknown, 403 if not the user's to open."""
    from sqlalchemy import exists, select

    from coverage.models import CandidacyRow, PlanRow
    from web.accounts import can_access_plan

    with session_scope(_engine()) as session:
        row = session.get(PlanRow, plan_id)
        if row is None:
            abort(404)
        info: dict[str, Any] = {"id": row.id, "departement": row.departement,
                                "owner_id": row.owner_id,
                                "organisation_id": row.organisation_id}
        submitted = bool(session.execute(select(exists().where(
            CandidacyRow.plan_id == plan_id))).scalar())
    if not can_access_plan(g.user, owner_id=info["owner_id"], plan_dept=info["departement"],
                           organisation_id=info["organisation_id"], submitted=submitted):
        abort(403)
    return info


def _state(plan_id: int, data: dict[str, Any]):
    info = _access(plan_id)
    communes = communes_of(info["departement"])
    return plan_from_state(data.get("state"), communes, dept=info["departement"]), communes


def _live(plan) -> dict[str, Any]:
    # No simplified shapes: the page already has the geometry (carte.json).
    return live_state(plan, communes_of(plan.dept))


@bp.get("/plans/<int:plan_id>/editer")
@role_required("promoteur")
def page(plan_id: int):
    from coverage.versions import list_versions

    plan, info = _plan_or_403(plan_id)
    communes = communes_of(plan.dept)
    with session_scope(_engine()) as session:
        versions = list_versions(session, plan_id)
    options = [{"c": str(c), "n": str(n), "e": str(e or "")}
               for c, n, e in zip(communes.index, communes["nom"], communes["epci"],
                                  strict=True)]
    return render_template("editor.html", plan=plan, info=info, versions=versions,
                           communes=options, scenario_ks=SCENARIO_KS)


@bp.post("/plans/<int:plan_id>/editer/etat")
@role_required("promoteur")
def state(plan_id: int):
    """The live checks of a state (the initial load, undo, redo, opening a version)."""
    try:
        data = _body()
        if data.get("state") is None:
            plan, _ = _plan_or_403(plan_id)
        else:
            plan, _ = _state(plan_id, data)
        return jsonify(_live(plan))
    except MaillageError as exc:
        return _error(str(exc))


@bp.post("/plans/<int:plan_id>/editer/modifier")
@role_required("promoteur")
def edit(plan_id: int):
    """Apply one edit to a state and answer with the new state and its checks."""
    started = time.perf_counter()
    try:
        data = _body()
        plan, communes = _state(plan_id, data)
        out = _live(apply_edit(plan, data.get("edit"), communes))
    except MaillageError as exc:
        return _error(str(exc))
    out["server_ms"] = round((time.perf_counter() - started) * 1000, 1)
    return jsonify(out)


@bp.post("/plans/<int:plan_id>/versions")
@role_required("promoteur")
def save(plan_id: int):
    """Save the state as the plan's next version (and its current content)."""
    from coverage.versions import record_version

    try:
        data = _body()
        plan, _ = _state(plan_id, data)
        comment = data.get("comment") if isinstance(data.get("comment"), str) else ""
        with session_scope(_engine()) as session:
            version = record_version(session, plan_id, plan, author_id=g.user.id,
                                     author_name=g.user.signature, comment=comment)
    except MaillageError as exc:
        return _error(str(exc))
    return jsonify({"version": version, "versions": _versions(plan_id)})


def _versions(plan_id: int) -> list[dict[str, Any]]:
    from coverage.versions import list_versions

    with session_scope(_engine()) as session:
        return list_versions(session, plan_id)


@bp.get("/plans/<int:plan_id>/versions.json")
@role_required("promoteur")
def versions(plan_id: int):
    _plan_or_403(plan_id)
    return jsonify({"versions": _versions(plan_id)})


@bp.get("/plans/<int:plan_id>/versions/<int:number>.json")
@role_required("promoteur")
def version(plan_id: int, number: int):
    """One version's state, to open it in the editor (it is saved only when asked)."""
    from coverage.candidacy import plan_snapshot
    from coverage.versions import get_version

    _plan_or_403(plan_id)
    try:
        with session_scope(_engine()) as session:
            info, plan = get_version(session, plan_id, number)
    except MaillageError as exc:
        return _error(str(exc), 404)
    return jsonify({"version": info, "state": plan_snapshot(plan)})


@bp.get("/plans/<int:plan_id>/versions/<int:number>/comparer")
@role_required("promoteur")
def compare(plan_id: int, number: int):
    """Version ``number`` against version ``avec`` (default: the plan as it is now)."""
    from coverage.versions import compare_plans, get_version

    current, info = _plan_or_403(plan_id)
    other = request.args.get("avec", "")
    try:
        with session_scope(_engine()) as session:
            vinfo, before = get_version(session, plan_id, number)
            after, label = current, "plan actuel"
            if other.isdigit():
                oinfo, after = get_version(session, plan_id, int(other))
                label = f"version {oinfo['number']}"
    except MaillageError as exc:
        return _error(str(exc), 404)
    out = compare_plans(before, after, communes_of(info["departement"]))
    out.update(before_label=f"version {vinfo['number']}", after_label=label)
    return jsonify(out)


@bp.post("/plans/<int:plan_id>/versions/<int:number>/comparer")
@role_required("promoteur")
def compare_state(plan_id: int, number: int):
    """Version ``number`` against the plan as drawn in the editor (saved or not)."""
    from coverage.versions import compare_plans, get_version

    try:
        after, communes = _state(plan_id, _body())
        with session_scope(_engine()) as session:
            vinfo, before = get_version(session, plan_id, number)
    except MaillageError as exc:
        return _error(str(exc))
    out = compare_plans(before, after, communes)
    out.update(before_label=f"version {vinfo['number']}", after_label="plan affiché")
    return jsonify(out)


@bp.post("/plans/<int:plan_id>/dupliquer")
@role_required("promoteur")
def duplicate(plan_id: int):
    """A new draft with the same content, owned by the current promoter."""
    from coverage.store import save_plan

    plan, _ = _plan_or_403(plan_id)
    plan.name = f"Copie de {plan.name}"[:200]
    plan.author = g.user.signature
    with session_scope(_engine()) as session:
        new_id = save_plan(session, plan, owner_id=g.user.id,
                           organisation_id=g.user.organisation_id)
    flash(f"Plan dupliqué : « {plan.name} » est un nouveau brouillon.", "info")
    return redirect(url_for("editor.page", plan_id=new_id))


# --- proposals and scenarios (background jobs) ------------------------------------------

_jobs: dict[str, dict[str, Any]] = {}
_jobs_lock = threading.Lock()


def _matrix(dept: str) -> Any:
    """Communes × communes estimated times of ``dept`` (cached per process)."""
    from coverage.drivetimes import site_matrix

    cache = current_app.extensions.setdefault("maillage_editor_matrix", {})
    if dept not in cache:
        communes = communes_of(dept)
        cache[dept] = site_matrix(communes[["point_x", "point_y"]].to_numpy(dtype=float),
                                  communes)
    return cache[dept]


def _start(kind: str, plan_id: int, work) -> str:
    """Run ``work(job)`` in a thread; one running job per user (French error otherwise)."""
    with _jobs_lock:
        if any(j["user"] == g.user.id and j["state"] in ("en cours", "annulation demandée")
               for j in _jobs.values()):
            raise MaillageError("Un calcul est déjà en cours : attendez sa fin ou annulez-le.")
    job_id = uuid.uuid4().hex
    job: dict[str, Any] = {"id": job_id, "kind": kind, "plan_id": plan_id, "user": g.user.id,
                           "state": "en cours", "progress": "", "started": time.time(),
                           "cancel": threading.Event(), "result": None, "error": None}

    def run() -> None:
        try:
            result = work(job)
        except MaillageError as exc:
            job.update(state="erreur", error=str(exc))
        except Exception:  # the page shows a French message; the log keeps the details
            import logging

            logging.getLogger(__name__).exception("calcul %s du plan %s", kind, plan_id)
            job.update(state="erreur", error="Le calcul a échoué (erreur interne).")
        else:
            if job["cancel"].is_set():
                job.update(state="annulé")
            else:
                job.update(state="terminé", result=result)
        job["seconds"] = round(time.time() - job["started"], 2)

    with _jobs_lock:
        if len(_jobs) >= MAX_JOBS:
            for old in sorted((j for j in _jobs.values() if j["state"] != "en cours"),
                              key=lambda j: j["started"])[:len(_jobs) - MAX_JOBS + 1]:
                _jobs.pop(old["id"], None)
        _jobs[job_id] = job
    threading.Thread(target=run, daemon=True, name=f"maillage-{kind}").start()
    return job_id


def _job(plan_id: int, job_id: str) -> dict[str, Any]:
    job = _jobs.get(job_id)
    if job is None or job["plan_id"] != plan_id or job["user"] != g.user.id:
        abort(404)
    return job


def _locks(data: dict[str, Any], plan) -> tuple[list[str], dict[str, str]]:
    """Locked seats (codes) and locked communes (code → its antenna's seat)."""
    seats_by_antenna = {a.name: a.seat for a in plan.antennas}
    raw_seats = data.get("locked_seats") or []
    raw_communes = data.get("locked_communes") or {}
    if not isinstance(raw_seats, list) or not isinstance(raw_communes, dict):
        raise MaillageError("Verrous illisibles.")
    fixed: list[str] = []
    for name in raw_seats:
        seat = seats_by_antenna.get(str(name))
        if str(name) not in seats_by_antenna:
            raise MaillageError(f"Antenne inconnue : « {str(name)[:200]} ».")
        if not seat:
            raise MaillageError(f"L'antenne « {name} » n'a pas de siège à verrouiller.")
        fixed.append(seat)
    locked: dict[str, str] = {}
    claims = plan.claims()
    for code, name in raw_communes.items():
        if str(name) not in seats_by_antenna:
            raise MaillageError(f"Antenne inconnue : « {str(name)[:200]} ».")
        if str(name) not in claims.get(str(code), []):
            raise MaillageError(f"La commune verrouillée {str(code)[:10]} n'est pas dans "
                                f"l'antenne « {name} ».")
        seat = seats_by_antenna[str(name)]
        if not seat or seat not in fixed:
            raise MaillageError(f"Une commune verrouillée garde son antenne : verrouillez "
                                f"aussi le siège de « {name} ».")
        locked[str(code)] = seat
    return list(dict.fromkeys(fixed)), locked


def _number(value: Any, *, low: float, high: float, what: str) -> float | None:
    if value in (None, ""):
        return None
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise MaillageError(f"{what} : nombre attendu.") from None
    if not low <= number <= high:
        raise MaillageError(f"{what} : entre {low:g} et {high:g}.")
    return number


@bp.post("/plans/<int:plan_id>/editer/proposer")
@role_required("promoteur")
def propose(plan_id: int):
    """Start a proposal that keeps the locked seats and communes; the result is recorded
    as a version « proposition » (the plan itself is not changed)."""
    from coverage.propose import propose as solve
    from coverage.versions import record_version

    try:
        data = _body()
        plan, communes = _state(plan_id, data)
        fixed, locked = _locks(data, plan)
        k = int(_number(data.get("k") or len(plan.antennas) or 1, low=1, high=20,
                        what="Nombre d'antennes") or 1)
        if k < len(fixed):
            raise MaillageError(f"{len(fixed)} sièges verrouillés : proposez au moins "
                                f"{len(fixed)} antennes.")
        max_minutes = _number(data.get("max_minutes"), low=5, high=240,
                              what="Temps de trajet maximal")
        model = "capacitated" if data.get("caseload") else "pmedian"
    except MaillageError as exc:
        return _error(str(exc))
    matrix = _matrix(plan.dept)
    engine = _engine()
    user_id, signature = g.user.id, g.user.signature
    by_seat = {a.seat: a for a in plan.antennas if a.seat in fixed}

    def work(job: dict[str, Any]) -> dict[str, Any]:
        job["progress"] = f"calcul de {k} antenne(s) ({'charge 150–200' if model == 'capacitated' else 'p-médiane'})"
        proposal = solve(communes, matrix, k=k, model=model, max_minutes=max_minutes,
                         fixed=fixed, locked=locked, time_limit=SOLVE_TIME_LIMIT,
                         name=plan.name)
        result = proposal.plan
        for antenna in result.antennas:   # locked seats keep their antenna's name
            own = by_seat.get(antenna.seat)
            if own is not None:
                antenna.name, antenna.structure = own.name, own.structure
                antenna.coordinators = own.coordinators
        result.author = plan.author
        kept = result.claims()
        lost = [c for c, s in locked.items()
                if by_seat[s].name not in kept.get(c, [])]
        if lost:   # the solver contract says it cannot happen: never hide it
            raise MaillageError(f"Communes verrouillées déplacées : {', '.join(lost)}.")
        if job["cancel"].is_set():
            return {}
        with session_scope(engine) as session:
            version = record_version(
                session, plan_id, result, author_id=user_id, author_name=signature,
                kind="proposition",
                comment=f"proposition : {k} antenne(s), {len(fixed)} siège(s) et "
                        f"{len(locked)} commune(s) verrouillés"
                        + (f", trajet ≤ {max_minutes:g} min" if max_minutes else "")
                        + (", charge 150–200 par coordinateur" if model == "capacitated"
                           else ""))
        return {"version": version, "status": proposal.result.status}

    try:
        return jsonify({"job": _start("proposition", plan_id, work)})
    except MaillageError as exc:
        return _error(str(exc), 409)


@bp.post("/plans/<int:plan_id>/editer/scenarios")
@role_required("promoteur")
def scenarios(plan_id: int):
    """Start K = 2…8 p-median scenarios (locked seats kept)."""
    from coverage.propose import scenarios as run

    try:
        data = _body()
        plan, communes = _state(plan_id, data)
        fixed, _ = _locks({"locked_seats": data.get("locked_seats") or []}, plan)
    except MaillageError as exc:
        return _error(str(exc))
    matrix = _matrix(plan.dept)
    ks = [k for k in SCENARIO_KS if k >= max(1, len(fixed))]

    def work(job: dict[str, Any]) -> dict[str, Any]:
        rows = []
        for i, k in enumerate(ks):
            if job["cancel"].is_set():
                return {}
            job["progress"] = f"K = {k} ({i + 1}/{len(ks)})"
            row = run(communes, matrix, ks=range(k, k + 1), fixed=fixed)[0]
            rows.append({"k": row.k, "sites": row.sites, "mean_minutes": round(row.mean_minutes, 1),
                         "max_minutes": round(row.max_minutes, 1),
                         "population_beyond": row.population_beyond,
                         "coordinators": row.coordinators, "seconds": round(row.seconds, 3)})
        return {"rows": rows, "fixed": fixed}

    try:
        return jsonify({"job": _start("scenarios", plan_id, work)})
    except MaillageError as exc:
        return _error(str(exc), 409)


@bp.get("/plans/<int:plan_id>/calculs/<job_id>")
@role_required("promoteur")
def job_status(plan_id: int, job_id: str):
    job = _job(plan_id, job_id)
    return jsonify({k: job.get(k) for k in ("id", "kind", "state", "progress", "result",
                                            "error", "seconds")}
                   | {"elapsed": round(time.time() - job["started"], 1)})


@bp.post("/plans/<int:plan_id>/calculs/<job_id>/annuler")
@role_required("promoteur")
def job_cancel(plan_id: int, job_id: str):
    """Cancel a solve: its result is dropped, nothing is recorded."""
    job = _job(plan_id, job_id)
    job["cancel"].set()
    if job["state"] == "en cours":
        job["state"] = "annulation demandée"
    return jsonify({"state": job["state"]})


@bp.post("/plans/<int:plan_id>/scenarios/<int:k>/brouillon")
@role_required("promoteur")
def scenario_draft(plan_id: int, k: int):
    """Open scenario K as a new draft plan (p-median, locked seats kept)."""
    from coverage.propose import propose as solve
    from coverage.store import save_plan

    try:
        data = _body()
        plan, communes = _state(plan_id, data)
        fixed, _ = _locks({"locked_seats": data.get("locked_seats") or []}, plan)
        if k not in SCENARIO_KS or k < len(fixed):
            raise MaillageError(f"Scénario K = {k} indisponible.")
        result = solve(communes, _matrix(plan.dept), k=k, fixed=fixed,
                       time_limit=SOLVE_TIME_LIMIT,
                       name=f"Scénario {k} antennes — {plan.name}"[:200]).plan
    except MaillageError as exc:
        return _error(str(exc))
    result.author = g.user.signature
    with session_scope(_engine()) as session:
        new_id = save_plan(session, result, owner_id=g.user.id,
                           organisation_id=g.user.organisation_id)
    return jsonify({"plan_id": new_id, "url": url_for("editor.page", plan_id=new_id)})
