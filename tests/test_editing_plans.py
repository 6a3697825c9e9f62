"""The plan editor (issue 14): edits, live checks equal to ``plan check``, versions,
comparison, duplication, proposals that keep locked seats and communes, K = 2…8
scenarios, and who may call each new write route. Real PostGIS, real Haute-Loire."""

from __future__ import annotations

import copy
import json
import math
import os
import re
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest
from sqlalchemy import Engine, text

from coverage.candidacy import plan_snapshot
from coverage.editing import apply_edit, epci_members, live_state, plan_from_state, run_checks
from coverage.plan import Plan
from coverage.territories import plan_from_epci_grouping
from geo.errors import MaillageError
from tests.webclient import csrf_token, post_login, remove_accounts
from web.accounts import add_user

ROOT = Path(__file__).resolve().parent.parent
PASSWORD = "mot-de-passe-editeur-plans"


def _demo(shared_data: Path, communes) -> Plan:
    return plan_from_epci_grouping(
        shared_data / "territories" / "haute-loire-3-territoires-hypothese.csv",
        communes=communes, dept="43", seats=["43157", "43268", "43040"], name="Démo éditeur")


@pytest.fixture(scope="module")
def demo(shared_data: Path, communes_43) -> Plan:
    return _demo(shared_data, communes_43)


# --- edits (no database) -------------------------------------------------------------

def test_assign_moves_a_commune_out_of_every_other_antenna(demo, communes_43) -> None:
    first, second = demo.antennas[0], demo.antennas[1]
    code = first.communes[0]
    moved = apply_edit(demo, {"op": "assign", "communes": [code], "antenna": second.name},
                       communes_43)
    assert moved.claims()[code] == [second.name]
    assert code in demo.antennas[0].communes          # the original is untouched (undo)
    removed = apply_edit(moved, {"op": "assign", "communes": [code], "antenna": None},
                         communes_43)
    assert code not in removed.claims()


def test_assign_whole_epci(demo, communes_43) -> None:
    code = demo.antennas[0].communes[0]
    members = epci_members(code, communes_43)
    assert len(members) > 1
    new = apply_edit(demo, {"op": "assign", "communes": [code], "epci": True,
                            "antenna": demo.antennas[2].name}, communes_43)
    assert all(new.claims()[m] == [demo.antennas[2].name] for m in members)


def test_antenna_edits_and_seat(demo, communes_43) -> None:
    plan = apply_edit(demo, {"op": "add_antenna", "name": "  Nouvelle   antenne "}, communes_43)
    assert plan.antennas[-1].name == "Nouvelle antenne"
    plan = apply_edit(plan, {"op": "rename_antenna", "antenna": "Nouvelle antenne",
                             "name": "Mézenc"}, communes_43)
    plan = apply_edit(plan, {"op": "set_seat", "antenna": "Mézenc", "commune": "43071"},
                      communes_43)
    assert plan.antenna("Mézenc").seat == "43071"
    plan = apply_edit(plan, {"op": "set_coordinators", "antenna": "Mézenc", "value": "1.5"},
                      communes_43)
    assert plan.antenna("Mézenc").coordinators == 1.5
    plan = apply_edit(plan, {"op": "remove_antenna", "antenna": "Mézenc"}, communes_43)
    assert plan.antenna("Mézenc") is None


@pytest.mark.parametrize("edit, words", [
    ({"op": "drop_table"}, "Modification inconnue"),
    ({"op": "assign", "communes": ["63113"], "antenna": None}, "inconnue"),
    ({"op": "assign", "communes": [], "antenna": None}, "au moins une commune"),
    ({"op": "assign", "communes": ["43157"], "antenna": "Nulle part"}, "Antenne inconnue"),
    ({"op": "add_antenna", "name": ""}, "nom est obligatoire"),
    ({"op": "add_antenna", "name": "x" * 201}, "trop long"),
    ({"op": "set_coordinators", "antenna": "Velay", "value": "nan"}, "entre 0 et 100"),
    ({"op": "set_coordinators", "antenna": "Velay", "value": 1e9}, "entre 0 et 100"),
])
def test_bad_edits_are_refused_in_french(demo, communes_43, edit, words) -> None:
    plan = copy.deepcopy(demo)
    plan.antennas[0].name = "Velay"
    with pytest.raises(MaillageError, match=words):
        apply_edit(plan, edit, communes_43)


def test_state_validation(demo, communes_43) -> None:
    state = plan_snapshot(demo)
    assert plan_from_state(state, communes_43, dept="43").claims() == demo.claims()
    bad = copy.deepcopy(state)
    bad["antennas"][0]["communes"].append("63113")
    with pytest.raises(MaillageError, match="hors du département 43"):
        plan_from_state(bad, communes_43, dept="43")
    twin = copy.deepcopy(state)
    twin["antennas"][1]["name"] = twin["antennas"][0]["name"]
    with pytest.raises(MaillageError, match="Deux antennes"):
        plan_from_state(twin, communes_43, dept="43")
    with pytest.raises(MaillageError, match="département 43"):
        plan_from_state(state | {"dept": "63"}, communes_43, dept="43")


def test_live_state_is_plan_check(demo, communes_43) -> None:
    first, second = demo.antennas[0], demo.antennas[1]
    from coverage.checks import adjacency

    # Give the second antenna a commune of the first that touches none of its own:
    # an enclave appears.
    codes = list(communes_43.index)
    near: dict[str, set[str]] = {}
    for i, j in adjacency(communes_43):
        near.setdefault(codes[i], set()).add(codes[j])
        near.setdefault(codes[j], set()).add(codes[i])
    own = set(second.communes)
    far = next(c for c in first.communes if c != first.seat and not near.get(c, set()) & own)
    plan = apply_edit(demo, {"op": "assign", "communes": [far], "antenna": second.name},
                      communes_43)
    out = live_state(plan, communes_43)
    assert out["check"] == run_checks(plan, communes_43).to_json()
    assert json.loads(json.dumps(out))   # finite, valid JSON
    texts = [b["text"] for b in out["badges"][second.name]]
    assert any(re.match(r"\d+ coordinateurs? \(\d+/coord\.\)", t) for t in texts)
    assert any(t.startswith("trajet max ") and t.endswith(" min") for t in texts)
    enclaves = out["check"]["antennas"][1]["enclaves"]
    assert enclaves and any(t == "enclave : " + ", ".join(enclaves[0][:5])
                            + (f" (+{len(enclaves[0]) - 5} de plus)" if len(enclaves[0]) > 5
                               else "") for t in texts)
    assert out["communes"][far][0] == [1]
    assert [c["name"] for c in out["colours"]] == [a.name for a in plan.antennas]


def test_lists_say_how_many_more(demo, communes_43) -> None:
    plan = copy.deepcopy(demo)
    plan.antennas[0].communes = plan.antennas[0].communes[:3]   # dozens uncovered
    out = live_state(plan, communes_43)
    uncovered = out["lists"]["uncovered"]
    assert len(uncovered["items"]) == len(out["check"]["uncovered"]) > uncovered["preview"]
    assert uncovered["more"] == len(uncovered["items"]) - uncovered["preview"]


# --- proposals with locks (no database) ----------------------------------------------------

@pytest.fixture(scope="module")
def matrix_43(communes_43):
    from coverage.drivetimes import site_matrix

    return site_matrix(communes_43[["point_x", "point_y"]].to_numpy(dtype=float), communes_43)


def _locked_choice(communes, matrix, seats: list[str]) -> dict[str, str]:
    """Ten communes locked to a seat that is *not* their nearest one: the free optimum
    would move them, so keeping them is the constraint's doing."""
    codes = list(communes.index)
    rows = [codes.index(s) for s in seats]
    picks: dict[str, str] = {}
    for j, code in enumerate(codes):
        if code in seats:
            continue
        times = matrix.minutes[rows, j]
        far = int(times.argmax())
        if times[far] - times.min() > 15:
            picks[code] = seats[far]
        if len(picks) == 10:
            break
    return picks


def test_proposal_keeps_two_locked_seats_and_ten_locked_communes(communes_43,
                                                                matrix_43) -> None:
    from coverage.propose import propose

    seats = ["43157", "43040"]
    locked = _locked_choice(communes_43, matrix_43, seats)
    assert len(locked) == 10
    free = propose(communes_43, matrix_43, k=4, fixed=seats)
    free_seat = {c: a.seat for a in free.plan.antennas for c in a.communes}
    assert any(free_seat[c] != s for c, s in locked.items())   # the test can fail
    kept = propose(communes_43, matrix_43, k=4, fixed=seats, locked=locked)
    seat_of = {c: a.seat for a in kept.plan.antennas for c in a.communes}
    assert {a.seat for a in kept.plan.antennas} >= set(seats)
    assert all(seat_of[c] == s for c, s in locked.items())
    assert sorted(seat_of) == sorted(communes_43.index)        # still full and unique
    with pytest.raises(MaillageError, match="verrouillez aussi le siège"):
        propose(communes_43, matrix_43, k=4, fixed=["43157"], locked=locked)
    with pytest.raises(MaillageError, match="au-delà du temps maximal de 20 min"):
        propose(communes_43, matrix_43, k=4, fixed=seats, locked=locked, max_minutes=20)


# --- web: editor, versions, proposals, refusals ------------------------------------------

@pytest.fixture(scope="module")
def app(communes_loaded: Engine):
    from web.app import create_app

    return create_app(database_url=communes_loaded.url.render_as_string(hide_password=False),
                      testing=True)


@pytest.fixture(scope="module")
def users(communes_loaded: Engine):
    tag = uuid.uuid4().hex[:8]
    created: dict[str, tuple[str, int]] = {}
    orgs = {"A": f"Éditeurs A {tag}", "B": f"Éditeurs B {tag}"}
    with communes_loaded.begin() as conn:
        for key, role, dept, org in (("a", "promoteur", "43", "A"), ("b", "promoteur", "43", "B"),
                                     ("ars", "ars", "43", None), ("ed", "editeur", None, None)):
            email = f"{key}-{tag}@editeur-plans.test"
            created[key] = (email, add_user(conn, email=email, password=PASSWORD, role=role,
                                            departement=dept, name=f"Personne {key}",
                                            organisation=orgs[org] if org else None))
    yield created
    ids = [v[1] for v in created.values()]
    with communes_loaded.begin() as conn:
        remove_accounts(conn, ids)
        conn.execute(text("DELETE FROM organisations WHERE name = ANY(:n)"),
                     {"n": list(orgs.values())})


def _token(client, path: str = "/plans") -> str:
    return csrf_token(client, path)


def _login(app, email: str):
    client, r = post_login(app, email, PASSWORD)
    assert r.status_code == 302, r.get_data(as_text=True)[:300]
    client.csrf = _token(client)   # type: ignore[attr-defined]
    return client


def _post(client, url: str, body: dict):
    return client.post(url, json=body, headers={"X-CSRF-Token": client.csrf})


@pytest.fixture()
def stored(communes_loaded, users, shared_data, communes_43) -> int:
    from coverage.store import save_plan
    from geo.db import session_scope

    plan = _demo(shared_data, communes_43)
    with communes_loaded.connect() as conn:
        org = conn.execute(text("SELECT organisation_id FROM users WHERE id = :i"),
                           {"i": users["a"][1]}).scalar_one()
    with session_scope(communes_loaded) as session:
        return save_plan(session, plan, owner_id=users["a"][1], organisation_id=org)


def _cli_check(engine: Engine, plan_id: int) -> dict:
    env = dict(os.environ, DATABASE_URL=engine.url.render_as_string(hide_password=False),
               PYTHONPATH=str(ROOT))
    out = subprocess.run([sys.executable, "-m", "maillage_cli.main", "plan", "check",
                          "--plan-id", str(plan_id), "--dept", "43", "--json"],
                         capture_output=True, text=True, env=env, cwd=ROOT, check=False)
    assert out.returncode in (0, 3), out.stderr
    return json.loads(out.stdout)


def test_edit_save_and_plan_check_agree(app, users, stored, communes_loaded) -> None:
    client = _login(app, users["a"][0])
    page = client.get(f"/plans/{stored}/editer")
    assert page.status_code == 200 and "Affecter à l'antenne" in page.get_data(as_text=True)
    first = _post(client, f"/plans/{stored}/editer/etat", {}).get_json()
    state = first["plan"]
    second = state["antennas"][1]["name"]
    moves = state["antennas"][0]["communes"][:3]
    for code in moves:
        out = _post(client, f"/plans/{stored}/editer/modifier",
                    {"state": state, "edit": {"op": "assign", "communes": [code],
                                              "antenna": second}})
        assert out.status_code == 200, out.get_data(as_text=True)
        live = out.get_json()
        assert live["server_ms"] < 5000
        state = live["plan"]
    assert live["check"]["antennas"][1]["communes"] == first["check"]["antennas"][1]["communes"] + 3
    saved = _post(client, f"/plans/{stored}/versions", {"state": state, "comment": "trois communes"})
    assert saved.status_code == 200, saved.get_data(as_text=True)
    body = saved.get_json()
    assert body["version"]["number"] == 2
    assert [v["kind"] for v in body["versions"]] == ["initiale", "enregistrement"]
    assert body["versions"][1]["comment"] == "trois communes"
    assert _cli_check(communes_loaded, stored) == live["check"]

    compared = client.get(f"/plans/{stored}/versions/1/comparer").get_json()
    assert sorted(m["code"] for m in compared["moved"]) == sorted(moves)
    assert all(m["after"] == [second] for m in compared["moved"])
    assert compared["before"]["antennas"][second]["communes"] + 3 == \
        compared["after"]["antennas"][second]["communes"]
    # Against the plan as drawn (one more unsaved move).
    drawn = _post(client, f"/plans/{stored}/editer/modifier",
                  {"state": state, "edit": {"op": "assign", "communes": [moves[0]],
                                            "antenna": None}}).get_json()["plan"]
    against = _post(client, f"/plans/{stored}/versions/2/comparer", {"state": drawn}).get_json()
    assert [(m["code"], m["before"], m["after"]) for m in against["moved"]] == \
        [(moves[0], [second], [])]
    assert against["after"]["uncovered"] == against["before"]["uncovered"] + 1
    v1 = client.get(f"/plans/{stored}/versions/1.json").get_json()
    assert v1["state"]["antennas"][1]["communes"] == first["plan"]["antennas"][1]["communes"]
    assert client.get(f"/plans/{stored}/versions/99.json").status_code == 404

    dup = client.post(f"/plans/{stored}/dupliquer", data={"csrf_token": client.csrf})
    assert dup.status_code == 302
    new_id = int(re.search(r"/plans/(\d+)/editer", dup.headers["Location"]).group(1))
    assert new_id != stored
    assert _cli_check(communes_loaded, new_id)["antennas"] == live["check"]["antennas"]


def test_bad_state_gets_a_french_json_error(app, users, stored) -> None:
    client = _login(app, users["a"][0])
    r = _post(client, f"/plans/{stored}/editer/modifier",
              {"state": {"antennas": [{"name": "A", "communes": ["99999"]}]},
               "edit": {"op": "assign", "communes": ["43157"], "antenna": "A"}})
    assert r.status_code == 400 and "hors du département" in r.get_json()["error"]
    r = client.post(f"/plans/{stored}/editer/modifier", data="pas du json",
                    headers={"X-CSRF-Token": client.csrf, "Content-Type": "application/json"})
    assert r.status_code == 400 and "JSON" in r.get_json()["error"]


def _wait_job(client, plan_id: int, job: str, timeout: float = 120) -> dict:
    end = time.time() + timeout
    while time.time() < end:
        s = client.get(f"/plans/{plan_id}/calculs/{job}").get_json()
        if s["state"] not in ("en cours", "annulation demandée"):
            return s
        time.sleep(0.2)
    raise AssertionError("calcul trop long")


def test_locked_proposal_and_scenarios_through_the_editor(app, users, stored, communes_43,
                                                          matrix_43) -> None:
    client = _login(app, users["a"][0])
    state = _post(client, f"/plans/{stored}/editer/etat", {}).get_json()["plan"]
    names = {a["seat"]: a["name"] for a in state["antennas"]}
    seats = ["43157", "43040"]
    owner = {c: a["name"] for a in state["antennas"] for c in a["communes"]}
    # Ten communes of those two antennas, each locked where it already is.
    locked = {}
    for code in (c for c in communes_43.index if owner.get(c) in (names[seats[0]], names[seats[1]])):
        other = seats[1] if owner[code] == names[seats[0]] else seats[0]
        j = list(communes_43.index).index(code)
        rows = [list(communes_43.index).index(s) for s in (seats[0], seats[1])]
        t = dict(zip((seats[0], seats[1]), matrix_43.minutes[rows, j], strict=True))
        if t[other] < t[[s for s in seats if s != other][0]]:   # nearer to the other seat
            locked[code] = owner[code]
        if len(locked) == 10:
            break
    assert len(locked) == 10
    r = _post(client, f"/plans/{stored}/editer/proposer",
              {"state": state, "locked_seats": [names[s] for s in seats],
               "locked_communes": locked, "k": 5})
    assert r.status_code == 200, r.get_data(as_text=True)
    status = _wait_job(client, stored, r.get_json()["job"])
    assert status["state"] == "terminé", status
    number = status["result"]["version"]["number"]
    proposal = client.get(f"/plans/{stored}/versions/{number}.json").get_json()
    assert proposal["version"]["kind"] == "proposition"
    result = {c: a["name"] for a in proposal["state"]["antennas"] for c in a["communes"]}
    assert all(result[c] == name for c, name in locked.items())
    kept_seats = {a["seat"]: a["name"] for a in proposal["state"]["antennas"]}
    assert all(kept_seats[s] == names[s] for s in seats)
    assert len(proposal["state"]["antennas"]) == 5
    # A proposal never overwrites the plan.
    now = _post(client, f"/plans/{stored}/editer/etat", {}).get_json()["plan"]
    assert now == state

    r = _post(client, f"/plans/{stored}/editer/scenarios", {"state": state, "locked_seats": []})
    status = _wait_job(client, stored, r.get_json()["job"])
    assert status["state"] == "terminé", status
    rows = status["result"]["rows"]
    assert [row["k"] for row in rows] == list(range(2, 9))
    assert all(len(row["sites"]) == row["k"] and math.isfinite(row["mean_minutes"])
               for row in rows)
    assert rows[-1]["mean_minutes"] <= rows[0]["mean_minutes"]
    draft = _post(client, f"/plans/{stored}/scenarios/4/brouillon",
                  {"state": state, "locked_seats": []})
    assert draft.status_code == 200
    assert client.get(draft.get_json()["url"]).status_code == 200

    # Cancelling: the result is dropped and nothing is recorded.
    before = len(client.get(f"/plans/{stored}/versions.json").get_json()["versions"])
    r = _post(client, f"/plans/{stored}/editer/proposer", {"state": state, "k": 3})
    job = r.get_json()["job"]
    _post(client, f"/plans/{stored}/calculs/{job}/annuler", {})
    status = _wait_job(client, stored, job)
    assert status["state"] in ("annulé", "terminé")
    after = len(client.get(f"/plans/{stored}/versions.json").get_json()["versions"])
    assert after == before + (status["state"] == "terminé")


WRITE_ROUTES = [
    ("json", "/plans/{id}/editer/etat"),
    ("json", "/plans/{id}/editer/modifier"),
    ("json", "/plans/{id}/versions"),
    ("json", "/plans/{id}/editer/proposer"),
    ("json", "/plans/{id}/editer/scenarios"),
    ("json", "/plans/{id}/scenarios/3/brouillon"),
    ("json", "/plans/{id}/calculs/abc/annuler"),
    ("json", "/plans/{id}/versions/1/comparer"),
    ("form", "/plans/{id}/dupliquer"),
]


@pytest.mark.parametrize("kind, route", WRITE_ROUTES)
def test_write_routes_refuse_other_roles(app, users, stored, kind, route) -> None:
    url = route.format(id=stored)
    anonymous = app.test_client()
    token = _token(anonymous, "/connexion")
    r = anonymous.post(url, json={}, headers={"X-CSRF-Token": token})
    assert r.status_code == 302 and "/connexion" in r.headers["Location"]
    for who in ("ars", "ed", "b"):      # ARS, editor, a promoter of another organisation
        client = _login(app, users[who][0])
        r = _post(client, url, {}) if kind == "json" else \
            client.post(url, data={"csrf_token": client.csrf})
        assert r.status_code in (403, 404), (who, url, r.status_code)
    owner = _login(app, users["a"][0])
    r = owner.post(url, json={})          # no CSRF token
    assert r.status_code == 400
    for who in ("ars", "ed", "b"):
        client = _login(app, users[who][0])
        for path in ("editer", "versions.json", "versions/1.json", "versions/1/comparer",
                     "calculs/abc"):
            assert client.get(f"/plans/{stored}/{path}").status_code in (403, 404), (who, path)


# --- safe actions (item 6) ------------------------------------------------------------------

def _upload(client, content: str, filename: str, name: str = "Plan importé"):
    import io

    return client.post("/plans/importer", data={
        "nom": name, "csrf_token": client.csrf,
        "fichier": (io.BytesIO(content.encode("utf-8")), filename)},
        content_type="multipart/form-data")


def test_upload_errors_come_back_to_the_form(app, users) -> None:
    client = _login(app, users["a"][0])
    bad = "code_insee;antenne;siege\n" + "".join(f"99{i:03d};Velay;43157\n" for i in range(15))
    r = _upload(client, bad, "mon plan à moi.csv", name="Essai")
    page = r.get_data(as_text=True)
    assert r.status_code == 400 and 'id="upload-errors"' in page
    assert "« mon plan à moi.csv »" in page and "ligne 2 :" in page and "ligne 16 :" in page
    assert "… et 6 de plus : tout afficher" in page      # 16 messages, 10 shown at once
    assert 'value="Essai"' in page                          # the form keeps the name
    r = _upload(client, "rien;du;tout\n1;2;3\n", "vide.csv")
    assert r.status_code == 400 and "« vide.csv »" in r.get_data(as_text=True)
    # Some lines wrong, the rest imported: every offending line stays visible on the plan.
    mixed = "code_insee;antenne;siege\n43157;Velay;43157\n" + "".join(
        f"99{i:03d};Velay;43157\n" for i in range(12))
    r = _upload(client, mixed, "mixte.csv")
    assert r.status_code == 302
    page = client.get(r.headers["Location"]).get_data(as_text=True)
    assert "et 2 lignes en anomalie de plus" in page
    assert page.count("mixte.csv, ligne") == 10 and "ligne 14 :" in page


def test_delete_asks_first_and_never_deletes_a_candidacy(app, users, stored,
                                                          communes_loaded) -> None:
    client = _login(app, users["a"][0])
    page = client.get(f"/plans/{stored}").get_data(as_text=True)
    assert 'id="delete-plan"' in page
    confirm = client.get(f"/plans/{stored}/supprimer")
    assert confirm.status_code == 200 and "Supprimer définitivement" in confirm.get_data(as_text=True)
    r = client.post(f"/plans/{stored}/supprimer", data={"csrf_token": client.csrf})
    assert r.status_code == 302 and r.headers["Location"].endswith(f"/plans/{stored}/supprimer")
    assert client.get(f"/plans/{stored}").status_code == 200       # not without confirming
    assert client.post(f"/plans/{stored}/deposer",
                       data={"csrf_token": client.csrf}).status_code == 302
    page = client.get(f"/plans/{stored}").get_data(as_text=True)
    assert 'id="no-delete"' in page and 'id="delete-plan"' not in page
    assert 'id="delete-refused"' in client.get(f"/plans/{stored}/supprimer").get_data(as_text=True)
    r = client.post(f"/plans/{stored}/supprimer",
                    data={"csrf_token": client.csrf, "confirmation": "oui"})
    assert r.status_code == 302 and client.get(f"/plans/{stored}").status_code == 200
    assert "ne peut pas être supprimé" in client.get(r.headers["Location"]).get_data(as_text=True)
    # A draft with versions: confirmed, it goes with its versions.
    dup = client.post(f"/plans/{stored}/dupliquer", data={"csrf_token": client.csrf})
    draft = int(re.search(r"/plans/(\d+)/editer", dup.headers["Location"]).group(1))
    state = _post(client, f"/plans/{draft}/editer/etat", {}).get_json()["plan"]
    assert _post(client, f"/plans/{draft}/versions", {"state": state}).status_code == 200
    r = client.post(f"/plans/{draft}/supprimer",
                    data={"csrf_token": client.csrf, "confirmation": "oui"})
    assert r.status_code == 302 and client.get(f"/plans/{draft}").status_code == 404
    with communes_loaded.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM plan_versions WHERE plan_id = :i"),
                            {"i": draft}).scalar() == 0


def test_plan_page_says_how_many_more_beyond_the_threshold(app, users, stored) -> None:
    client = _login(app, users["a"][0])
    page = client.get(f"/plans/{stored}").get_data(as_text=True)
    shown = page.split('id="beyond"')[1].split("</ul>")[0].count("<li>")
    more = int(re.search(r"… et (\d+) de plus : tout afficher", page).group(1))
    check = _post(client, f"/plans/{stored}/editer/etat", {}).get_json()["check"]
    assert shown == 50 and shown + more == len(check["beyond_threshold"])


# --- commune reference changes (item 7) ---------------------------------------------------

def test_cog_changes_from_insee(shared_data: Path) -> None:
    from coverage.cog_migration import read_cog_changes

    changes = read_cog_changes(shared_data / "admin" / "cog_mouvements_communes_43_63.csv")
    assert changes.merges["63330"] == "63109"
    assert changes.merges["63133"] == "63226"           # Mur-sur-Allier (2019)
    assert changes.names["63330"] == "Saint-Cirgues-sur-Couze"
    assert changes.renames["63320"] == "Saint-Avit-d'Auvergne"


def test_migrate_plan_flags_a_merge_across_antennas() -> None:
    from coverage.cog_migration import migrate_plan
    from coverage.plan import Antenna

    plan = Plan(name="p", dept="63", antennas=[
        Antenna(name="A", seat="63330", communes=["63330", "63113"]),
        Antenna(name="B", seat="63109", communes=["63109", "63999"])])
    new, report = migrate_plan(plan, merges={"63330": "63109"},
                               known={"63109", "63113"})
    assert new.antennas[0].communes == ["63109", "63113"] and new.antennas[0].seat == "63109"
    assert new.claims()["63109"] == ["A", "B"]          # left in both: the promoter decides
    assert [c["new"] for c in report.conflicts] == ["63109"]
    assert report.removed == [("63999", "B")]
    text = report.report_fr({"63109": "Les Deux-Rives", "63330": "Saint-Cirgues-sur-Couze"})
    assert "63330 Saint-Cirgues-sur-Couze a fusionné dans 63109 Les Deux-Rives" in text
    assert "À DÉCIDER : 63109 Les Deux-Rives" in text and "63999 n'existe plus" in text
    assert plan.antennas[0].communes == ["63330", "63113"]   # the original is untouched


def _reference_2024(shared_data: Path):
    """The 63 reference as it was before 1 January 2025: 63330 Saint-Cirgues-sur-Couze and
    63109 Chidrac separate (their real 2023 contours, geo.api.gouv.fr / IGN)."""
    import dataclasses

    import geopandas as gpd
    import pandas as pd
    from shapely.geometry import MultiPolygon

    from geo.communes import read_communes_source

    src = read_communes_source(shared_data / "communes", dept="63")
    old = gpd.read_file(shared_data / "admin" / "communes_63_geoapi_cog2023.geojson")
    old["code"] = old["id"]   # the INSEE code is the feature id (SOURCES.md, 1a)
    old = old[old["code"].isin(["63109", "63330"])].to_crs(2154)
    frame = src.communes.copy()
    chidrac = old[old["code"] == "63109"].geometry.iloc[0]
    frame.loc["63109", "geometry"] = chidrac if chidrac.geom_type == "MultiPolygon" \
        else MultiPolygon([chidrac])
    frame.loc["63109", "nom"] = "Chidrac"
    cirgues = old[old["code"] == "63330"].geometry.iloc[0]
    row = frame.loc[["63109"]].copy()
    row.index = ["63330"]
    row["code"], row["nom"], row["population"] = "63330", "Saint-Cirgues-sur-Couze", None
    row["geometry"] = [cirgues if cirgues.geom_type == "MultiPolygon" else MultiPolygon([cirgues])]
    frame = gpd.GeoDataFrame(pd.concat([frame, row]), crs=frame.crs)
    return src, dataclasses.replace(src, communes=frame, origin="COG 2024 (reconstitué)")


def test_reference_reload_migrates_stored_plans(communes_loaded, shared_data, users) -> None:
    from coverage.cog_migration import load_communes_migrating_plans, read_cog_changes
    from coverage.plan import Antenna
    from coverage.store import load_plan, save_plan
    from coverage.versions import list_versions
    from geo.communes import communes_frame
    from geo.communes_db import store_communes
    from geo.db import session_scope

    current, before = _reference_2024(shared_data)
    changes = read_cog_changes(shared_data / "admin" / "cog_mouvements_communes_43_63.csv")
    try:
        with session_scope(communes_loaded) as session:
            store_communes(session, before, cog_vintage=2024)
        with session_scope(communes_loaded) as session:
            same = save_plan(session, Plan(name="Fusion même antenne", dept="63", antennas=[
                Antenna(name="Couze", seat="63330", communes=["63330", "63109", "63113"])]),
                owner_id=users["a"][1])
            split = save_plan(session, Plan(name="Fusion partagée", dept="63", antennas=[
                Antenna(name="Nord", seat="63113", communes=["63113", "63330"]),
                Antenna(name="Sud", seat="63109", communes=["63109"])]),
                owner_id=users["a"][1])
        with communes_loaded.begin() as conn:
            # Recorded at save time (the vintage of the loaded communes)...
            assert conn.execute(text("SELECT cog_vintage FROM plans WHERE id = :i"),
                                {"i": same}).scalar() is not None
            # ... here plans saved on the 2024 reference.
            conn.execute(text("UPDATE plans SET cog_vintage = 2024 WHERE id = ANY(:i)"),
                         {"i": [same, split]})
        with session_scope(communes_loaded) as session:
            report, migrations = load_communes_migrating_plans(
                session, current, changes=changes, cog_vintage=2026)
        assert report.removed == ["63330"]
        by_id = {m["plan_id"]: m for m in migrations}
        assert set(by_id) >= {same, split}
        assert by_id[same]["conflicts"] == [] and by_id[split]["conflicts"] == ["63109"]
        assert "À DÉCIDER : 63109 Les Deux-Rives" in by_id[split]["report"]
        with session_scope(communes_loaded) as session:
            p_same, p_split = load_plan(session, same), load_plan(session, split)
            versions = list_versions(session, split)
        assert p_same.antennas[0].communes == ["63109", "63113"]
        assert p_same.antennas[0].seat == "63109"
        assert p_split.claims()["63109"] == ["Nord", "Sud"]
        assert [v["kind"] for v in versions] == ["initiale", "migration"]
        assert "Saint-Cirgues-sur-Couze" in versions[-1]["comment"]
        with communes_loaded.connect() as conn:
            assert conn.execute(text("SELECT cog_vintage FROM plans WHERE id = :i"),
                                {"i": split}).scalar() == 2026
            communes = communes_frame(conn, dept="63")
        # The checks see the duplicate: the promoter decides in the editor.
        assert run_checks(p_split, communes).to_json()["duplicates"] == [
            {"code": "63109", "antennas": ["Nord", "Sud"]}]
    finally:
        with session_scope(communes_loaded) as session:   # back to the current reference
            load_communes_migrating_plans(session, current, changes=changes, cog_vintage=2026)
        with communes_loaded.connect() as conn:
            assert conn.execute(text("SELECT count(*) FROM communes WHERE departement = '63'")
                                ).scalar() == 463


def test_one_solve_at_a_time_and_a_cancelled_proposal_records_nothing(app, users,
                                                                      stored) -> None:
    client = _login(app, users["a"][0])
    state = _post(client, f"/plans/{stored}/editer/etat", {}).get_json()["plan"]
    before = client.get(f"/plans/{stored}/versions.json").get_json()["versions"]
    # The caseload band (capacitated model) takes seconds on Haute-Loire.
    r = _post(client, f"/plans/{stored}/editer/proposer", {"state": state, "k": 4,
                                                           "caseload": True})
    job = r.get_json()["job"]
    second = _post(client, f"/plans/{stored}/editer/scenarios", {"state": state})
    assert second.status_code == 409 and "déjà en cours" in second.get_json()["error"]
    running = client.get(f"/plans/{stored}/calculs/{job}").get_json()
    assert running["state"] == "en cours" and "charge 150–200" in running["progress"]
    assert _post(client, f"/plans/{stored}/calculs/{job}/annuler", {}).get_json()["state"] \
        == "annulation demandée"
    assert _wait_job(client, stored, job, timeout=300)["state"] == "annulé"
    assert client.get(f"/plans/{stored}/versions.json").get_json()["versions"] == before
    other = _login(app, users["b"][0])
    assert other.get(f"/plans/{stored}/calculs/{job}").status_code in (403, 404)
