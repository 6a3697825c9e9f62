"""Web application with Flask's test client: roles, CSRF, errors, uploads, headers."""

from __future__ import annotations

import io
import uuid
from pathlib import Path

import pytest
from sqlalchemy import Engine, text

from coverage.assign import write_plan_csv
from coverage.territories import plan_from_epci_grouping
from tests.webclient import csrf_token, post_login, remove_accounts
from web.accounts import add_user

PASSWORD = "mot-de-passe-solide"


@pytest.fixture(scope="module")
def app(communes_loaded: Engine):
    from web.app import create_app

    return create_app(database_url=communes_loaded.url.render_as_string(hide_password=False),
                      testing=True)


@pytest.fixture(scope="module")
def users(communes_loaded: Engine):
    tag = uuid.uuid4().hex[:8]
    created = {}
    with communes_loaded.begin() as conn:
        for key, role, dept in (("p1", "promoteur", "43"), ("p2", "promoteur", "43"),
                                ("ars", "ars", "43"), ("ars63", "ars", "63"),
                                ("ed", "editeur", None)):
            email = f"{key}-{tag}@test.maillage.fr"
            created[key] = (email, add_user(conn, email=email, password=PASSWORD, role=role,
                                            departement=dept, name=f"<img src=x onerror=alert(1)> {key}"))
    yield created
    with communes_loaded.begin() as conn:
        remove_accounts(conn, [i for _, i in created.values()])


def _token(client, path: str = "/connexion") -> str:
    return csrf_token(client, path)


def login(app, email: str):
    client, r = post_login(app, email, PASSWORD)
    assert r.status_code == 302
    return client


@pytest.fixture(scope="module")
def plan_csv(tmp_path_factory, shared_data: Path, communes_43) -> Path:
    plan = plan_from_epci_grouping(
        shared_data / "territories" / "haute-loire-3-territoires-hypothese.csv",
        communes=communes_43, dept="43", seats=["43157", "43268", "43040"], name="t")
    path = tmp_path_factory.mktemp("plans") / "plan.csv"
    write_plan_csv(plan, path, communes=communes_43)
    return path


def upload(client, path: Path, name: str, filename: str = "plan.csv"):
    return client.post("/plans/importer", data={
        "nom": name, "csrf_token": _token(client, "/plans"),
        "fichier": (io.BytesIO(path.read_bytes()), filename)}, content_type="multipart/form-data")


def test_passwords_are_hashed(communes_loaded: Engine, users) -> None:
    with communes_loaded.connect() as conn:
        stored = conn.execute(text("SELECT password_hash FROM users WHERE email = :e"),
                              {"e": users["p1"][0]}).scalar_one()
    assert PASSWORD not in stored and stored.startswith(("scrypt:", "pbkdf2:"))


def test_login_wrong_password_and_logout(app, users) -> None:
    client = app.test_client()
    r = client.post("/connexion", data={"email": users["p1"][0], "password": "faux",
                                        "csrf_token": _token(client)})
    assert r.status_code == 401 and "incorrect" in r.get_data(as_text=True)
    client = login(app, users["p1"][0])
    assert client.get("/plans").status_code == 200
    client.post("/deconnexion", data={"csrf_token": _token(client, "/plans")})
    assert client.get("/plans").status_code == 302


def test_csrf_is_required(app, users) -> None:
    client = app.test_client()
    r = client.post("/connexion", data={"email": users["p1"][0], "password": PASSWORD})
    assert r.status_code == 400 and "CSRF" in r.get_data(as_text=True)


def test_french_error_pages_and_headers(app) -> None:
    client = app.test_client()
    r = client.get("/page-inexistante")
    body = r.get_data(as_text=True)
    assert r.status_code == 404 and "Page introuvable" in body and "Traceback" not in body
    r = client.get("/")
    assert "script-src 'self'" in r.headers["Content-Security-Policy"]
    assert r.headers["X-Content-Type-Options"] == "nosniff"
    assert app.config["SESSION_COOKIE_HTTPONLY"] and app.config["SESSION_COOKIE_SAMESITE"] == "Lax"


def test_upload_limits(app, users, tmp_path: Path) -> None:
    client = login(app, users["p1"][0])
    big = tmp_path / "gros.csv"
    big.write_bytes(b"x" * (6 * 1024 * 1024))
    r = upload(client, big, "trop gros", "gros.csv")
    assert r.status_code == 413 and "trop volumineux" in r.get_data(as_text=True)
    fake = tmp_path / "faux.xlsx"
    fake.write_text("pas un classeur", encoding="utf-8")
    r = upload(client, fake, "faux", "faux.xlsx")
    # Back to the upload form, with the file's real name (issue 14, item 6).
    assert r.status_code == 400
    assert "Type de fichier refusé" in r.get_data(as_text=True)
    assert "« faux.xlsx »" in r.get_data(as_text=True)


def test_roles_on_every_write_route(app, users, plan_csv: Path) -> None:
    owner = login(app, users["p1"][0])
    r = upload(owner, plan_csv, "Plan de P1")
    assert r.status_code == 302
    plan_id = int(r.headers["Location"].rsplit("/", 1)[1])
    page = owner.get(f"/plans/{plan_id}").get_data(as_text=True)
    assert "257/257" in page
    # another promoter: no access to read nor write
    other = login(app, users["p2"][0])
    assert other.get(f"/plans/{plan_id}").status_code == 403
    assert other.get(f"/plans/{plan_id}/annexe1.csv").status_code == 403
    assert other.post(f"/plans/{plan_id}/supprimer",
                      data={"csrf_token": _token(other, "/plans")}).status_code == 403
    # A draft is private to its promoter: the ARS does not see it until it is submitted.
    ars = login(app, users["ars"][0])
    assert ars.get(f"/plans/{plan_id}").status_code == 403
    assert f"/plans/{plan_id}\"" not in ars.get("/plans").get_data(as_text=True)
    assert owner.post(f"/plans/{plan_id}/deposer",
                      data={"csrf_token": _token(owner, "/plans")}).status_code == 302
    # Submitted: the ARS of the département reads it but cannot delete or upload; ARS 63
    # cannot read it
    assert ars.get(f"/plans/{plan_id}").status_code == 200
    assert ars.post(f"/plans/{plan_id}/supprimer",
                    data={"csrf_token": _token(ars, "/plans")}).status_code == 403
    assert upload(ars, plan_csv, "x").status_code == 403
    assert login(app, users["ars63"][0]).get(f"/plans/{plan_id}").status_code == 403
    # editor: no plans, no review; promoter: no review, no directory edit
    editor = login(app, users["ed"][0])
    assert editor.get(f"/plans/{plan_id}").status_code == 403
    assert editor.get("/ars/comparer").status_code == 403
    assert owner.get("/ars/comparer").status_code == 403
    anonymous = app.test_client()
    assert anonymous.get(f"/plans/{plan_id}").status_code == 302
    # the owner cannot delete a plan submitted as a candidacy (issue 14, item 6)
    assert owner.post(f"/plans/{plan_id}/supprimer",
                      data={"csrf_token": _token(owner, "/plans"),
                            "confirmation": "oui"}).status_code == 302
    assert owner.get(f"/plans/{plan_id}").status_code == 200


def test_ars_comparison_lists_overlaps(app, users, plan_csv: Path, tmp_path: Path) -> None:
    first = upload(login(app, users["p1"][0]), plan_csv, "Candidature A")
    rows = plan_csv.read_text(encoding="utf-8-sig").splitlines()
    partial = tmp_path / "b.csv"
    partial.write_text("\n".join(rows[:11]) + "\n", encoding="utf-8")  # 10 communes
    second = upload(login(app, users["p2"][0]), partial, "Candidature B")
    ids = [r.headers["Location"].rsplit("/", 1)[1] for r in (first, second)]
    ars = login(app, users["ars"][0])
    # Drafts cannot be compared by the ARS; submitted candidacies can.
    assert ars.get(f"/ars/comparer?plans={ids[0]}&plans={ids[1]}").status_code == 403
    for who, plan_id in (("p1", ids[0]), ("p2", ids[1])):
        client = login(app, users[who][0])
        assert client.post(f"/plans/{plan_id}/deposer",
                           data={"csrf_token": _token(client, "/plans")}).status_code == 302
    page = ars.get(f"/ars/comparer?plans={ids[0]}&plans={ids[1]}").get_data(as_text=True)
    assert "Communes revendiquées par plusieurs plans (10)" in page
    assert "Communes revendiquées par aucun plan (0)" in page
    csv_text = ars.get(f"/ars/comparer.csv?plans={ids[0]}&plans={ids[1]}").get_data(as_text=True)
    assert csv_text.count("revendiquée par plusieurs plans") == 10


def test_editor_changes_are_audited(app, users, communes_loaded: Engine) -> None:
    with communes_loaded.begin() as conn:
        conn.execute(text("INSERT INTO categories (code, label, sector, source) VALUES "
                          "('hors-finess:autre', 'Autre ressource', 'social', 'hors-finess') "
                          "ON CONFLICT DO NOTHING"))
        sid = conn.execute(text(
            "INSERT INTO structures (source, source_id, name, category_code, sector, point) "
            "VALUES ('test-web', :u, 'Avant', 'hors-finess:autre', 'social', "
            "ST_SetSRID(ST_MakePoint(3.88, 45.04), 4326)) RETURNING id"),
            {"u": uuid.uuid4().hex}).scalar_one()
    editor = login(app, users["ed"][0])
    path = f"/structure/{sid}/modifier"
    assert login(app, users["p1"][0]).post(path, data={"name": "x"}).status_code in (400, 403)
    r = editor.post(path, data={"name": "Après", "opening_hours": "Mo-Fr 09:00-12:00",
                                "csrf_token": _token(editor, path)})
    assert r.status_code == 302
    with communes_loaded.connect() as conn:
        audit = conn.execute(text("SELECT user_email, before, after FROM audit_log "
                                  "WHERE entity = 'structure' AND entity_id = :i"),
                             {"i": str(sid)}).one()
    assert audit.user_email == users["ed"][0]
    assert audit.before["name"] == "Avant" and audit.after["name"] == "Après"
    with communes_loaded.begin() as conn:
        conn.execute(text("DELETE FROM structures WHERE id = :i"), {"i": sid})


def test_user_text_is_escaped(app, users) -> None:
    client = login(app, users["p1"][0])
    html = client.get("/plans").get_data(as_text=True)
    assert "<img src=x onerror" not in html and "&lt;img src=x onerror=alert(1)&gt;" in html


def test_promoter_runs_propose_from_the_web(app, users) -> None:
    client = login(app, users["p1"][0])
    r = client.post("/plans/proposer", data={"k": "3", "csrf_token": _token(client, "/plans")})
    assert r.status_code == 302
    page = client.get(r.headers["Location"]).get_data(as_text=True)
    assert "Proposition optimale : 3 antennes" in page and "257/257" in page
    ars = login(app, users["ars"][0])
    assert ars.post("/plans/proposer", data={"k": "3", "csrf_token": _token(ars, "/plans")}
                    ).status_code == 403
