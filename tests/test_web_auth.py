"""Web foundation with Flask's test client: accounts, login, roles, CSRF, errors, headers.

The protected ``/_test/…`` routes exist only in apps built with ``testing=True``.
"""

from __future__ import annotations

import io
import re
import stat
import uuid
from collections.abc import Iterator
from datetime import date

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import Engine, text

from geo.errors import MaillageError
from tests.webclient import csrf_token, post_login, remove_accounts
from web import security
from web.accounts import User, add_user, authenticate, can_access_plan, list_users
from web.audit import history, record

PASSWORD = "un-mot-de-passe-solide"
XSS_NAME = "<img src=x onerror=alert(1)>"


@pytest.fixture(scope="module")
def engine(communes_loaded: Engine) -> Engine:
    return communes_loaded


@pytest.fixture(scope="module")
def app(engine: Engine) -> Flask:
    from web.app import create_app

    return create_app(database_url=engine.url.render_as_string(hide_password=False),
                      testing=True)


@pytest.fixture(scope="module")
def users(engine: Engine) -> Iterator[dict[str, str]]:
    """One account per role (unique e-mails), deleted afterwards."""
    tag = uuid.uuid4().hex[:8]
    emails: dict[str, str] = {}
    ids = []
    with engine.begin() as conn:
        for key, role, dept in (("promoteur", "promoteur", "43"), ("ars", "ars", "43"),
                                ("ars63", "ars", "63"), ("editeur", "editeur", None),
                                ("admin", "admin", None)):
            emails[key] = f"{key}-{tag}@auth.test"
            ids.append(add_user(conn, email=emails[key], password=PASSWORD, role=role,
                                departement=dept, name=f"{XSS_NAME} {key}"))
    yield emails
    _delete_users(engine, ids)


def _delete_users(engine: Engine, ids: list[int]) -> None:
    with engine.begin() as conn:
        remove_accounts(conn, ids)


def token(client: FlaskClient, path: str = "/connexion") -> str:
    return csrf_token(client, path)


def login(app: Flask, email: str, password: str = PASSWORD, *, next_: str | None = None):
    return post_login(app, email, password, next_=next_ or None)


# ---- accounts ------------------------------------------------------------------------

def test_passwords_are_hashed_never_stored(engine: Engine, users: dict[str, str]) -> None:
    with engine.connect() as conn:
        stored = conn.execute(text("SELECT password_hash FROM users WHERE email = :e"),
                              {"e": users["promoteur"]}).scalar_one()
        assert PASSWORD not in stored and stored.startswith(("scrypt:", "pbkdf2:"))
        found = conn.execute(text("SELECT count(*) FROM users WHERE password_hash LIKE :p"),
                             {"p": f"%{PASSWORD}%"}).scalar_one()
        assert found == 0
        user = authenticate(conn, email=users["promoteur"].upper(), password=PASSWORD)
        assert user is not None and user.role == "promoteur" and user.departement == "43"
        assert authenticate(conn, email=users["promoteur"], password=PASSWORD + "x") is None
        assert authenticate(conn, email="personne@auth.test", password=PASSWORD) is None
        assert users["admin"] in {u.email for u in list_users(conn)}


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"role": "chef"}, "Rôle inconnu"),
    ({"password": "court"}, "au moins 10 caractères"),
    ({"email": "pas-une-adresse"}, "Adresse électronique invalide"),
    ({"role": "promoteur", "departement": None}, "doit indiquer son département"),
    ({"role": "ars", "departement": "976"}, "Département 976 inconnu"),
    ({"role": "ars", "departement": "ABC"}, "Code de département invalide"),
])
def test_add_user_refuses_bad_input(engine: Engine, kwargs: dict, message: str) -> None:
    values = {"email": f"mauvais-{uuid.uuid4().hex[:8]}@auth.test", "password": PASSWORD,
              "role": "editeur", "departement": None, **kwargs}
    with engine.begin() as conn, pytest.raises(MaillageError, match=message):
        add_user(conn, **values)


def test_add_user_refuses_duplicates_whatever_the_case(engine: Engine,
                                                       users: dict[str, str]) -> None:
    with engine.begin() as conn, pytest.raises(MaillageError, match="existe déjà"):
        add_user(conn, email=users["editeur"].upper(), password=PASSWORD, role="editeur")


def test_can_access_plan() -> None:
    promoter = User(id=1, email="p@x.fr", name=None, role="promoteur", departement="43")
    ars43 = User(id=2, email="a@x.fr", name=None, role="ars", departement="43")
    editor = User(id=3, email="e@x.fr", name=None, role="editeur", departement=None)
    admin = User(id=4, email="d@x.fr", name=None, role="admin", departement=None)
    assert can_access_plan(promoter, owner_id=1, plan_dept="43")
    assert not can_access_plan(promoter, owner_id=9, plan_dept="43")
    assert not can_access_plan(promoter, owner_id=None, plan_dept="43")
    # The ARS sees submitted candidacies only, never drafts.
    assert not can_access_plan(ars43, owner_id=9, plan_dept="43")
    assert can_access_plan(ars43, owner_id=9, plan_dept="43", submitted=True)
    assert not can_access_plan(ars43, owner_id=9, plan_dept="63", submitted=True)
    assert not can_access_plan(ars43, owner_id=9, plan_dept="63")
    assert not can_access_plan(editor, owner_id=3, plan_dept="43")
    assert can_access_plan(admin, owner_id=9, plan_dept="63")
    assert not can_access_plan(None, owner_id=1, plan_dept="43")


def test_audit_record_and_history(engine: Engine) -> None:
    with engine.begin() as conn:
        uid = add_user(conn, email=f"audit-{uuid.uuid4().hex[:8]}@auth.test",
                       password=PASSWORD, role="editeur")
    actor = User(id=uid, email="auditeur@auth.test", name=None, role="editeur",
                 departement=None)
    entity_id = uuid.uuid4().hex
    try:
        with engine.begin() as conn:
            record(conn, user=actor, action="modification", entity="essai", entity_id=entity_id,
                   before={"nom": "Avant", "vérifié": date(2024, 1, 2)}, after={"nom": "Après"})
            record(conn, user=actor, action="suppression", entity="essai", entity_id=entity_id,
                   before={"nom": "Après"}, after=None)
        with engine.begin() as conn:
            conn.execute(text("DELETE FROM users WHERE id = :i"), {"i": uid})
        with engine.connect() as conn:
            entries = history(conn, entity="essai", entity_id=entity_id)
        assert [e["action"] for e in entries] == ["suppression", "modification"]
        # The author's e-mail survives the deletion of the account.
        assert {e["user_email"] for e in entries} == {"auditeur@auth.test"}
        assert all(e["user_id"] is None for e in entries)
        assert entries[1]["before"] == {"nom": "Avant", "vérifié": "2024-01-02"}
        assert entries[0]["after"] is None
    finally:
        with engine.begin() as conn:
            conn.execute(text("DELETE FROM audit_log WHERE entity = 'essai' AND entity_id = :e"),
                         {"e": entity_id})
            conn.execute(text("DELETE FROM users WHERE id = :i"), {"i": uid})


# ---- login, logout ---------------------------------------------------------------------

def test_login_then_logout(app: Flask, users: dict[str, str]) -> None:
    page = app.test_client().get("/connexion")
    assert page.status_code == 200 and "Mot de passe" in page.get_data(as_text=True)
    client, response = login(app, users["promoteur"], next_="/_test/connecte")
    assert response.status_code == 302 and response.headers["Location"] == "/_test/connecte"
    assert client.get("/_test/connecte").get_data(as_text=True) == \
        f"connecté : {users['promoteur']}"
    r = client.post("/deconnexion", data={"csrf_token": token(client, "/")})
    assert r.status_code == 302
    r = client.get("/_test/connecte")
    assert r.status_code == 302 and r.headers["Location"].startswith("/connexion?next=")


def test_wrong_password_is_refused_in_french(app: Flask, users: dict[str, str]) -> None:
    client, response = login(app, users["promoteur"], "mauvais-mot-de-passe")
    body = response.get_data(as_text=True)
    assert response.status_code == 401 and "Adresse ou mot de passe incorrect" in body
    assert client.get("/_test/connecte").status_code == 302
    _, unknown = login(app, "inconnu@auth.test")
    assert unknown.status_code == 401


def test_login_starts_a_new_session(app: Flask, users: dict[str, str]) -> None:
    client = app.test_client()
    before = token(client)
    client.post("/connexion", data={"email": users["editeur"], "password": PASSWORD,
                                    "csrf_token": before})
    assert token(client, "/") != before   # no session fixation


def test_no_open_redirect_after_login(app: Flask, users: dict[str, str]) -> None:
    for target in ("//ailleurs.example/", "https://ailleurs.example/", "/\\ailleurs.example"):
        _, response = login(app, users["editeur"], next_=target)
        assert response.headers["Location"] == "/"


def test_display_name_is_escaped(app: Flask, users: dict[str, str]) -> None:
    client, _ = login(app, users["ars"])
    html = client.get("/").get_data(as_text=True)
    assert "<img src=x" not in html and "&lt;img src=x onerror=alert(1)&gt; ars" in html


# ---- CSRF ------------------------------------------------------------------------------

def test_csrf_is_required_on_every_post(app: Flask, users: dict[str, str]) -> None:
    anonymous = app.test_client()
    r = anonymous.post("/connexion", data={"email": users["promoteur"], "password": PASSWORD})
    body = r.get_data(as_text=True)
    assert r.status_code == 400 and "Jeton de sécurité (CSRF)" in body and "Traceback" not in body
    client, _ = login(app, users["promoteur"])
    assert client.post("/deconnexion").status_code == 400
    assert client.post("/deconnexion", data={"csrf_token": "faux"}).status_code == 400
    assert client.get("/_test/connecte").status_code == 200   # still signed in
    # fetch() sends the token in a header instead of a form field.
    r = client.post("/_test/televersement", headers={"X-CSRF-Token": token(client, "/")},
                    data={"fichier": (io.BytesIO(b"abc"), "a.csv")},
                    content_type="multipart/form-data")
    assert r.status_code == 200 and r.get_data(as_text=True) == "3 octets reçus"


# ---- roles -----------------------------------------------------------------------------

def test_role_decorators(app: Flask, users: dict[str, str]) -> None:
    anonymous = app.test_client()
    r = anonymous.get("/_test/editeur")
    assert r.status_code == 302 and r.headers["Location"] == "/connexion?next=/_test/editeur"
    expected = {
        "promoteur": {"/_test/editeur": 403, "/_test/promoteur-ou-ars": 200},
        "ars": {"/_test/editeur": 403, "/_test/promoteur-ou-ars": 200},
        "editeur": {"/_test/editeur": 200, "/_test/promoteur-ou-ars": 403},
        "admin": {"/_test/editeur": 200, "/_test/promoteur-ou-ars": 200},
    }
    for who, routes in expected.items():
        client, _ = login(app, users[who])
        for path, status in routes.items():
            r = client.get(path)
            assert r.status_code == status, (who, path)
            if status == 403:
                body = r.get_data(as_text=True)
                assert "Erreur 403" in body and "Accès refusé" in body
                assert '<html lang="fr">' in body and "Traceback" not in body


def test_plan_ownership_on_a_route(app: Flask, engine: Engine, users: dict[str, str]) -> None:
    with engine.connect() as conn:
        promoter_id = conn.execute(text("SELECT id FROM users WHERE email = :e"),
                                   {"e": users["promoteur"]}).scalar_one()
    promoter, _ = login(app, users["promoteur"])
    assert promoter.get(f"/_test/plan/{promoter_id}/43").status_code == 200
    assert promoter.get(f"/_test/plan/{promoter_id + 100000}/43").status_code == 403
    ars, _ = login(app, users["ars"])
    # The test route opens a draft: private to the promoter's organisation.
    assert ars.get(f"/_test/plan/{promoter_id}/43").status_code == 403
    ars63, _ = login(app, users["ars63"])
    assert ars63.get(f"/_test/plan/{promoter_id}/43").status_code == 403
    editor, _ = login(app, users["editeur"])
    assert editor.get(f"/_test/plan/{promoter_id}/43").status_code == 403


# ---- errors, headers, limits -------------------------------------------------------------

def test_french_404_without_traceback(app: Flask) -> None:
    r = app.test_client().get("/cette-page-n-existe-pas")
    body = r.get_data(as_text=True)
    assert r.status_code == 404 and "Page introuvable" in body and "Erreur 404" in body
    assert "Traceback" not in body and "Not Found" not in body
    api = app.test_client().get("/api/v1/nulle-part")
    assert api.status_code == 404 and api.is_json and "erreur" in api.get_json()


def test_french_500_without_details(app: Flask) -> None:
    r = app.test_client().get("/_test/panne")
    body = r.get_data(as_text=True)
    assert r.status_code == 500 and "Erreur interne" in body
    assert "panne volontaire" not in body and "RuntimeError" not in body and "Traceback" not in body


def test_security_headers(app: Flask) -> None:
    r = app.test_client().get("/connexion")
    csp = r.headers["Content-Security-Policy"]
    directives = dict(d.strip().split(" ", 1) for d in csp.split(";"))
    assert directives["script-src"] == "'self'"
    assert directives["object-src"] == "'none'" and directives["frame-ancestors"] == "'none'"
    assert "https://data.geopf.fr" in directives["img-src"]   # MAILLAGE_TILES default: Plan IGN
    assert r.headers["X-Content-Type-Options"] == "nosniff"
    assert r.headers["X-Frame-Options"] == "DENY"
    assert r.headers["Referrer-Policy"] == "strict-origin-when-cross-origin"
    cookie = r.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie and "Secure" not in cookie


def test_private_pages_are_not_cached(app: Flask, users: dict[str, str]) -> None:
    client, _ = login(app, users["editeur"])
    assert client.get("/").headers["Cache-Control"] == "no-store"
    assert "no-store" not in app.test_client().get("/").headers.get("Cache-Control", "")


def test_secure_cookie_outside_loopback(engine: Engine, monkeypatch: pytest.MonkeyPatch) -> None:
    from web.app import create_app

    monkeypatch.delenv("MAILLAGE_SECURE_COOKIES", raising=False)
    app = create_app(database_url=engine.url.render_as_string(hide_password=False))
    remote = app.test_client().get("/connexion", base_url="https://maillage.example.org")
    assert "Secure" in remote.headers["Set-Cookie"]
    assert remote.headers["Strict-Transport-Security"].startswith("max-age=")
    local = app.test_client().get("/connexion", base_url="http://127.0.0.1:5000")
    assert "Secure" not in local.headers["Set-Cookie"]
    monkeypatch.setenv("MAILLAGE_SECURE_COOKIES", "1")
    forced = app.test_client().get("/connexion", base_url="http://localhost:5000")
    assert "Secure" in forced.headers["Set-Cookie"]


def test_upload_limit_gives_french_413(app: Flask, users: dict[str, str]) -> None:
    client, _ = login(app, users["promoteur"])
    csrf = token(client, "/")
    big = io.BytesIO(b"x" * (5 * 1024 * 1024 + 1))
    r = client.post("/_test/televersement", data={"csrf_token": csrf, "fichier": (big, "gros.csv")},
                    content_type="multipart/form-data")
    body = r.get_data(as_text=True)
    assert r.status_code == 413 and "Fichier trop volumineux" in body and "5 Mo" in body
    small = io.BytesIO(b"y" * (1024 * 1024))
    r = client.post("/_test/televersement", data={"csrf_token": csrf, "fichier": (small, "a.csv")},
                    content_type="multipart/form-data")
    assert r.status_code == 200 and r.get_data(as_text=True) == f"{1024 * 1024} octets reçus"


def test_test_routes_exist_only_in_testing(engine: Engine) -> None:
    from web.app import create_app

    app = create_app(database_url=engine.url.render_as_string(hide_password=False))
    assert app.test_client().get("/_test/panne").status_code == 404


# ---- secret key, helpers -------------------------------------------------------------------

def test_secret_key_from_env_or_persisted(tmp_path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MAILLAGE_SECRET_KEY", "k" * 40)
    assert security.secret_key() == "k" * 40
    monkeypatch.delenv("MAILLAGE_SECRET_KEY")
    monkeypatch.setattr(security.settings, "VAR_DIR", tmp_path / "var")
    first = security.secret_key()
    path = tmp_path / "var" / "secret_key"
    assert len(first) == 64 and security.secret_key() == first
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


def test_loopback_and_csp_helpers() -> None:
    assert security.is_loopback("127.0.0.1:5000") and security.is_loopback("localhost")
    assert security.is_loopback("[::1]:8080")
    assert not security.is_loopback("maillage.example.org") and not security.is_loopback("10.0.0.5")
    csp = security.content_security_policy("https://{s}.tuiles.example.org/{z}/{x}/{y}.png")
    assert "img-src 'self' data: https://*.tuiles.example.org;" in csp
    assert "img-src 'self' data:;" in security.content_security_policy("/tuiles/{z}/{x}/{y}.png")


# ---- pages -----------------------------------------------------------------------------------

def test_home_page_has_the_three_entry_points(app: Flask) -> None:
    html = app.test_client().get("/").get_data(as_text=True)
    for text_ in ("Rechercher une ressource", "Promoteurs de DAC", "Agence régionale de santé"):
        assert text_ in html
    assert '<html lang="fr">' in html


def test_search_page_uses_local_assets_only(app: Flask) -> None:
    html = app.test_client().get("/recherche").get_data(as_text=True)
    assert '<option value="medico-social">Médico-social</option>' in html   # search.page
    scripts = re.findall(r'<script[^>]*src="([^"]+)"', html)
    assert scripts == ["/static/vendor/leaflet/leaflet.js", "/carte/leaflet-fr.js",
                       "/static/js/maplib.js",
                       "/static/vendor/leaflet.markercluster/leaflet.markercluster.js",
                       "/static/js/search.js", "/static/js/dac-banner.js"]
    assert "<script>" not in html   # no inline script: the CSP would block it anyway
    links = re.findall(r'<link[^>]*href="([^"]+)"', html)
    assert links and all(h.startswith("/static/") for h in links)
    for path in scripts + links:
        assert app.test_client().get(path).status_code == 200, path


def test_cli_users_add_and_list(engine: Engine, monkeypatch: pytest.MonkeyPatch, capsys) -> None:
    from maillage_cli.main import main

    email = f"cli-{uuid.uuid4().hex[:8]}@auth.test"
    monkeypatch.setenv("DATABASE_URL", engine.url.render_as_string(hide_password=False))
    monkeypatch.setattr("sys.stdin", io.StringIO(PASSWORD + "\n"))
    try:
        code = main(["users", "add", "--email", email, "--role", "ars", "--dept", "43",
                     "--password-stdin"])
        out = capsys.readouterr().out
        assert code == 0 and f"créé : {email}" in out and "département 43" in out
        monkeypatch.setattr("sys.stdin", io.StringIO(PASSWORD + "\n"))
        assert main(["users", "add", "--email", email, "--role", "ars", "--dept", "43",
                     "--password-stdin"]) == 1
        assert "existe déjà" in capsys.readouterr().err
        assert main(["users", "list"]) == 0 and email in capsys.readouterr().out
    finally:
        with engine.begin() as conn:
            conn.execute(text("DELETE FROM users WHERE email = :e"), {"e": email})
