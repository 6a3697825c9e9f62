"""Server time per edit of the plan editor, against a full ``plan check`` in the same run.

Needs the communes of 43 and 63 in the database (``maillage communes load --dept 43`` and
``--dept 63``). For each département, a throw-away promoter owns a plan (43: the demo
plan, three antennas on the EPCI hypothesis; 63: an exact p-median proposal with six
antennas), then:

* **plan check** (the baseline): what ``maillage plan check --plan-id N --json`` computes
  once its process is up — load the stored plan, drive times, every check, the JSON;
* **edit**: ``POST /plans/<id>/editer/modifier`` through the Flask test client (JSON
  state in, validation, the edit, the same checks, map colours, badges and lists, JSON
  out), timed around the whole request, for 30 moves of a border commune to a
  neighbouring antenna.

Budget (issue 14): an edit ≤ 300 ms for 43 and ≤ 600 ms for 63.

    .venv/bin/python bench/bench_editor.py
"""

from __future__ import annotations

import json
import re
import statistics
import time
import uuid

from sqlalchemy import text

from coverage.checks import adjacency, check_plan
from coverage.drivetimes import plan_drive_times, site_matrix
from coverage.propose import propose
from coverage.store import load_plan, save_plan
from coverage.territories import plan_from_epci_grouping
from geo import settings
from geo.communes import communes_frame
from geo.db import get_engine, session_scope
from web.accounts import add_user
from web.app import create_app

PASSWORD = "mot-de-passe-banc-editeur"
BUDGET_MS = {"43": 300.0, "63": 600.0}
EDITS = 30


def _plan(dept: str, communes):
    if dept == "43":
        return plan_from_epci_grouping(
            settings.data_dir() / "territories" / "haute-loire-3-territoires-hypothese.csv",
            communes=communes, dept="43", seats=["43157", "43268", "43040"],
            name="Banc éditeur 43")
    matrix = site_matrix(communes[["point_x", "point_y"]].to_numpy(dtype=float), communes)
    return propose(communes, matrix, k=6, name="Banc éditeur 63").plan


def _moves(plan, communes) -> list[tuple[str, str]]:
    """Border communes and the neighbouring antenna they move to."""
    codes = list(communes.index)
    owner = {c: a for a, cs in ((a.name, a.communes) for a in plan.antennas) for c in cs}
    out = []
    for i, j in adjacency(communes):
        a, b = owner.get(codes[i]), owner.get(codes[j])
        if a and b and a != b:
            out.append((codes[i], b))
        if len(out) == EDITS:
            break
    return out


def main() -> None:
    engine = get_engine()
    app = create_app(database_url=engine.url.render_as_string(hide_password=False))
    tag = uuid.uuid4().hex[:8]
    email = f"banc-{tag}@editeur.test"
    with engine.begin() as conn:
        user_id = add_user(conn, email=email, password=PASSWORD, role="promoteur",
                           departement="43")
    client = app.test_client()
    try:
        html = client.get("/connexion").get_data(as_text=True)
        token = re.search(r'name="csrf_token" value="([^"]+)"', html).group(1)
        client.post("/connexion", data={"email": email, "password": PASSWORD,
                                        "csrf_token": token})
        token = re.search(r'name="csrf_token" value="([^"]+)"',
                          client.get("/plans").get_data(as_text=True)).group(1)
        print(f"{'dépt':<5}{'communes':>9}{'plan check (ms)':>17}{'édition méd. (ms)':>19}"
              f"{'édition max (ms)':>18}{'ratio':>7}{'budget':>8}")
        for dept in ("43", "63"):
            with engine.connect() as conn:
                communes = communes_frame(conn, dept=dept)
            plan = _plan(dept, communes)
            with session_scope(engine) as session:
                plan_id = save_plan(session, plan, owner_id=user_id)
            checks = []
            for _ in range(5):
                start = time.perf_counter()
                with session_scope(engine) as session:
                    stored = load_plan(session, plan_id)
                result = check_plan(stored, communes,
                                    drive_times=plan_drive_times(stored, communes))
                json.dumps(result.to_json(), ensure_ascii=False)
                checks.append((time.perf_counter() - start) * 1000)
            state = client.post(f"/plans/{plan_id}/editer/etat", json={},
                                headers={"X-CSRF-Token": token}).get_json()["plan"]
            times = []
            for code, antenna in _moves(plan, communes):
                start = time.perf_counter()
                r = client.post(f"/plans/{plan_id}/editer/modifier",
                                json={"state": state, "edit": {"op": "assign",
                                                               "communes": [code],
                                                               "antenna": antenna}},
                                headers={"X-CSRF-Token": token})
                times.append((time.perf_counter() - start) * 1000)
                assert r.status_code == 200, r.get_data(as_text=True)[:300]
                state = r.get_json()["plan"]
            check_ms, edit_ms = statistics.median(checks), statistics.median(times)
            print(f"{dept:<5}{len(communes):>9}{check_ms:>17.0f}{edit_ms:>19.0f}"
                  f"{max(times):>18.0f}{edit_ms / check_ms:>7.2f}"
                  f"{'ok' if max(times) <= BUDGET_MS[dept] else 'DÉPASSÉ':>8}")
    finally:
        with engine.begin() as conn:
            conn.execute(text("DELETE FROM plans WHERE owner_id = :i"), {"i": user_id})
            conn.execute(text("DELETE FROM audit_log WHERE user_id = :i"), {"i": user_id})
            conn.execute(text("DELETE FROM users WHERE id = :i"), {"i": user_id})


if __name__ == "__main__":
    main()
