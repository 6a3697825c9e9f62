"""Security suite (issue 10): each numbered item of docs/security.md has tests here.

1. user text is never a template (folium map, report, web pages, exports);
2. the local cluster is durable and asks for a password (the kill -9 test is in
   ``test_crash_recovery.py``);
3. exports cannot attack a spreadsheet (CSV and XLSX);
4. coordinates and numbers are real (CHECK constraints, strict JSON, plan readers);
5. bounded parsing of XLSX (bombs refused before opening);
6. login hardening (throttling, timing, sessions, ``next``);
7. no traceback reaches a user (CLI and web);
8. production serving (gunicorn, ProxyFix).
"""

from __future__ import annotations

import csv
import html
import io
import os
import re
import socket
import stat
import subprocess
import sys
import time
import uuid
import zipfile
from pathlib import Path

import pytest
from sqlalchemy import Engine, text
from sqlalchemy.exc import IntegrityError

from geo import settings
from tests.webclient import csrf_token, post_login, remove_accounts

ROOT = Path(__file__).resolve().parent.parent
PASSWORD = "un-mot-de-passe-solide"
CANARY = Path("/tmp/maillage-ssti-canary")  # noqa: S108 - proves that nothing ran
HOSTILE_NAMES = [
    "{{7*7}}",
    "{% for x in range(3) %}boucle{% endfor %}",
    f"{{{{ lipsum.__globals__.os.popen('touch {CANARY}').read() }}}}",
    "${7*7}",
    "</script><script>alert(1)</script>",
]
FORMULAS = ['=HYPERLINK("http://evil.example","clic")', "+1+1", "-1+1", "@SUM(A1)",
            "\tcmd", "\rcmd"]


def _cli(*args: str, env: dict[str, str] | None = None, stdin: str | None = None,
         timeout: float = 300) -> subprocess.CompletedProcess[str]:
    full_env = {**os.environ, **(env or {})}
    return subprocess.run([sys.executable, "-m", "maillage_cli.main", *args], cwd=ROOT,
                          capture_output=True, text=True, env=full_env, input=stdin,
                          timeout=timeout)


def _db_env(engine: Engine) -> dict[str, str]:
    return {"DATABASE_URL": engine.url.render_as_string(hide_password=False)}


@pytest.fixture(scope="module")
def plan_43(shared_data: Path, communes_43):
    from coverage.territories import plan_from_epci_grouping

    return plan_from_epci_grouping(
        shared_data / "territories" / "haute-loire-3-territoires-hypothese.csv",
        communes=communes_43, dept="43", seats=["43157", "43268", "43040"], name="t")


def _renamed(plan, names: list[str], plan_name: str):
    """The same plan with its antennas (and structure, plan) renamed to ``names``."""
    for antenna, name in zip(plan.antennas, names, strict=False):
        antenna.name = name
        antenna.structure = names[-1]
    plan.name = plan_name
    return plan


def _hostile_plan_csv(plan, communes, path: Path, names: list[str]) -> Path:
    from coverage.assign import write_plan_csv

    write_plan_csv(_renamed(plan, names, names[0]), path, communes=communes)
    return path


# ---- 1. no user text is a template -----------------------------------------------------

def test_report_and_map_show_template_text_literally(plan_43, communes_43, tmp_path) -> None:
    import copy

    from coverage.checks import check_plan
    from coverage.report import write_report

    CANARY.unlink(missing_ok=True)
    plan = _renamed(copy.deepcopy(plan_43), HOSTILE_NAMES[:3],
                    "${7*7} </script><script>alert(1)</script>")
    check = check_plan(plan, communes_43)
    paths = write_report(tmp_path, plan=plan, communes=communes_43, check=check)
    raw_carte = paths["map"].read_text(encoding="utf-8")
    # What the browser shows: entities decoded (braces are entities in the map).
    carte = html.unescape(raw_carte)
    rapport = html.unescape(paths["report"].read_text(encoding="utf-8"))
    assert not CANARY.exists(), "a plan name ran a shell command"
    for page in (carte, rapport):
        assert "{{7*7}}" in page
        assert "boucle{% endfor %}" in page or "boucle{%" in page
        assert "lipsum.__globals__" in page
    assert "<script>alert(1)" not in paths["report"].read_text(encoding="utf-8")
    assert "bouclebouclebouclе" not in carte
    assert "${7*7}" not in raw_carte  # template literal: the $ is an entity in popups
    assert "<script>alert(1)" not in raw_carte
    assert "&lt;/script&gt;&lt;script&gt;alert(1)" in raw_carte


def test_cli_report_with_hostile_names(plan_43, communes_43, communes_loaded, tmp_path) -> None:
    import copy

    CANARY.unlink(missing_ok=True)
    source = _hostile_plan_csv(copy.deepcopy(plan_43), communes_43, tmp_path / "plan.csv",
                               HOSTILE_NAMES[2:5])
    done = _cli("plan", "report", str(source), "--dept", "43", "--out", str(tmp_path / "out"),
                env=_db_env(communes_loaded))
    assert done.returncode in (0, 3), done.stderr
    raw = (tmp_path / "out" / "carte.html").read_text(encoding="utf-8")
    assert not CANARY.exists()
    assert "lipsum.__globals__" in html.unescape(raw)
    assert "<script>alert(1)" not in raw


# ---- web fixtures -------------------------------------------------------------------------

@pytest.fixture(scope="module")
def app(communes_loaded: Engine):
    from web.app import create_app

    return create_app(database_url=communes_loaded.url.render_as_string(hide_password=False),
                      testing=True)


@pytest.fixture(scope="module")
def users(communes_loaded: Engine):
    from web.accounts import add_user

    tag = uuid.uuid4().hex[:8]
    created: dict[str, tuple[str, int]] = {}
    with communes_loaded.begin() as conn:
        for key, role, dept in (("p", "promoteur", "43"), ("ars", "ars", "43"),
                                ("victim", "promoteur", "43")):
            email = f"{key}-{tag}@securite.test"
            created[key] = (email, add_user(conn, email=email, password=PASSWORD, role=role,
                                            departement=dept, name=f"{{{{7*7}}}} {key}"))
    yield created
    with communes_loaded.begin() as conn:
        remove_accounts(conn, [i for _, i in created.values()])
        conn.execute(text("DELETE FROM login_failures WHERE email LIKE :t"),
                     {"t": f"%-{tag}@securite.test"})


def _token(client, path: str = "/connexion") -> str:
    return csrf_token(client, path)


def _login(app, email: str, password: str = PASSWORD, *, ip: str = "127.0.0.1",
           next_: str | None = None):
    return post_login(app, email, password, ip=ip, next_=next_)


def _upload(client, path: Path, name: str):
    return client.post("/plans/importer", data={
        "nom": name, "csrf_token": _token(client, "/plans"),
        "fichier": (io.BytesIO(path.read_bytes()), path.name)},
        content_type="multipart/form-data")


def test_web_pages_and_exports_show_template_text_literally(app, users, plan_43, communes_43,
                                                            tmp_path) -> None:
    import copy

    CANARY.unlink(missing_ok=True)
    names = ["{{7*7}}", FORMULAS[0], "${7*7}</script><script>alert(1)</script>"]
    source = _hostile_plan_csv(copy.deepcopy(plan_43), communes_43, tmp_path / "p.csv", names)
    client, response = _login(app, users["p"][0])
    assert response.status_code == 302
    uploaded = _upload(client, source, "{{7*7}} {% for x in range(2) %}x{% endfor %}")
    assert uploaded.status_code == 302, uploaded.get_data(as_text=True)[:500]
    plan_id = int(uploaded.headers["Location"].rsplit("/", 1)[1])
    page = client.get(f"/plans/{plan_id}").get_data(as_text=True)
    report = client.get(f"/plans/{plan_id}/rapport").get_data(as_text=True)
    geojson = client.get(f"/plans/{plan_id}/carte.json").get_data(as_text=True)
    for body in (page, report):
        assert "{{7*7}}" in body
        assert "{% for x in range(2) %}" in body
        assert "<script>alert(1)" not in body
        assert "{{7*7}} p" in body or "{{7*7}}" in body
    assert "{{7*7}}" in geojson
    # The Annex 1 CSV: the formula is neutralised, the template text stays literal.
    annex = client.get(f"/plans/{plan_id}/annexe1.csv").get_data(as_text=True)
    rows = list(csv.reader(io.StringIO(annex.lstrip("\ufeff")), delimiter=";"))
    antennas = {r[5] for r in rows[1:]}
    assert "'" + FORMULAS[0] in antennas and FORMULAS[0] not in antennas
    assert "{{7*7}}" in antennas
    # The ARS comparison CSV names the plans: neutralised too (once submitted: the ARS
    # never sees drafts).
    plan_page = client.get(f"/plans/{plan_id}").get_data(as_text=True)
    token = re.search(r'name="csrf_token" value="([^"]+)"', plan_page).group(1)
    assert client.post(f"/plans/{plan_id}/deposer", data={"csrf_token": token}).status_code == 302
    ars, _ = _login(app, users["ars"][0])
    response = ars.get(f"/ars/comparer.csv?plans={plan_id}")
    assert response.status_code == 200
    compared = response.get_data(as_text=True)
    for row in csv.reader(io.StringIO(compared.lstrip("\ufeff")), delimiter=";"):
        assert not any(cell.startswith(("=", "+", "@")) for cell in row)
    assert not CANARY.exists()


# ---- 3. exports cannot attack --------------------------------------------------------------

def test_annex_neutralises_formulas_in_csv_and_xlsx(plan_43, communes_43, tmp_path) -> None:
    import copy

    from openpyxl import load_workbook

    from coverage.annex import annex_table, write_annex
    from coverage.checks import check_plan

    plan = _renamed(copy.deepcopy(plan_43), FORMULAS[:3], FORMULAS[3])
    check = check_plan(plan, communes_43)
    paths = write_annex(annex_table(plan, communes_43, check), tmp_path)
    with paths["annex_csv"].open(encoding="utf-8-sig", newline="") as fh:
        rows = list(csv.reader(fh, delimiter=";"))
    header, body = rows[0], rows[1:]
    antenna, dac, population = header.index("antenne"), header.index("dac"), \
        header.index("population")
    assert {r[antenna] for r in body} == {"'" + f for f in FORMULAS[:3]}
    assert {r[dac] for r in body} == {"'" + FORMULAS[2]}
    assert all(r[population].isdigit() for r in body)  # numbers stay numbers
    book = load_workbook(paths["annex_xlsx"])
    sheet = book["Annexe 1"]
    cells = [c for row in sheet.iter_rows(min_row=2) for c in row]
    assert not [c for c in cells if c.data_type == "f"], "a formula cell in the Annex 1"
    texts = {c.value for c in cells if isinstance(c.value, str)}
    assert set(FORMULAS[:3]) <= texts  # the value itself is kept, as text
    populations = [row[2].value for row in sheet.iter_rows(min_row=2)]
    assert all(isinstance(v, int) for v in populations)


def test_spreadsheet_rule_keeps_plain_numbers() -> None:
    from geo.spreadsheet import csv_text, safe_cell, unneutralise

    assert safe_cell("-2,5") == "-2,5" and safe_cell("+33") == "+33"
    assert safe_cell("-2,5+A1") == "'-2,5+A1"
    assert safe_cell(-2.5) == -2.5
    assert unneutralise(safe_cell("=1+1")) == "=1+1"
    document = csv_text(["a", "b"], [[-2.5, "@x"], [float("nan"), "ok"]])
    rows = list(csv.reader(io.StringIO(document.lstrip("\ufeff")), delimiter=";"))
    assert rows[1] == ["-2,5", "'@x"] and rows[2] == ["", "ok"]


def test_plan_file_round_trip_keeps_formula_like_names(plan_43, communes_43, tmp_path) -> None:
    import copy

    from coverage.planfile import read_plan_file

    source = _hostile_plan_csv(copy.deepcopy(plan_43), communes_43, tmp_path / "p.csv",
                               FORMULAS[:3])
    assert "'=HYPERLINK" in source.read_text(encoding="utf-8-sig")
    back = read_plan_file(source, communes=communes_43, dept="43", name="x")
    assert [a.name for a in back.plan.antennas] == FORMULAS[:3]


# ---- 2. the database: durable, password-protected -------------------------------------------

def _local_cluster() -> bool:
    return not os.environ.get("DATABASE_URL") and not os.environ.get("MAILLAGE_TEST_DATABASE_URL")


def test_cluster_is_durable_and_asks_for_a_password(db_engine: Engine) -> None:
    with db_engine.connect() as conn:
        for name in ("fsync", "full_page_writes"):
            assert conn.execute(text(f"SHOW {name}")).scalar() == "on", name
        cluster_default = conn.execute(text(
            "SELECT boot_val FROM pg_settings WHERE name = 'synchronous_commit'")).scalar()
        reset = conn.execute(text(
            "SELECT reset_val FROM pg_settings WHERE name = 'synchronous_commit'")).scalar()
        hba = conn.execute(text("SELECT DISTINCT auth_method FROM pg_hba_file_rules")).scalars()
        methods = set(hba)
    assert cluster_default == "on"
    assert reset in {"on", "off"}  # only the test database's sessions may relax it
    if not _local_cluster():
        pytest.skip("serveur PostGIS externe : sa configuration n'est pas celle du projet")
    assert methods == {"scram-sha-256"}
    conf = (settings.VAR_DIR / "pgdata" / "postgresql.conf").read_text(encoding="utf-8")
    assert re.search(r"^fsync = on$", conf, re.M) and "fsync = off" not in conf
    passfile = settings.VAR_DIR / "pgpass"
    assert stat.S_IMODE(passfile.stat().st_mode) == 0o600
    run_dir = settings.VAR_DIR / "run"
    assert not stat.S_IMODE(run_dir.stat().st_mode) & 0o002, "socket folder world-writable"
    with db_engine.connect() as conn:
        main_sync = conn.execute(text(
            "SELECT setconfig FROM pg_db_role_setting s JOIN pg_database d "
            "ON d.oid = s.setdatabase WHERE d.datname = 'maillage'")).scalar()
    assert not main_sync, "the main database must keep synchronous_commit on"
    # Without the password file, the server refuses the connection.
    import psycopg

    with pytest.raises(psycopg.OperationalError, match="password"):
        psycopg.connect(host=str(run_dir), dbname="maillage_test", user="postgres",
                        passfile="/nonexistent", connect_timeout=5).close()


# ---- 4. coordinates and numbers are real ------------------------------------------------------

@pytest.mark.parametrize(("lon", "lat"), [(3.8, 95.0), (500.0, 45.0), ("nan", 45.0),
                                          (3.8, "infinity")])
def test_database_refuses_impossible_points(communes_loaded: Engine, lon, lat) -> None:
    with pytest.raises(IntegrityError, match="structures_point_range"), \
            communes_loaded.begin() as conn:
        conn.execute(text(
            "INSERT INTO structures (source, source_id, name, point) VALUES ('test', :id, 'x', "
            "ST_SetSRID(ST_MakePoint(CAST(:lon AS float8), CAST(:lat AS float8)), 4326))"),
            {"id": uuid.uuid4().hex, "lon": str(lon), "lat": str(lat)})


def test_database_refuses_negative_or_nan_coordinators(communes_loaded: Engine) -> None:
    for value in ("-1", "NaN", "1e9"):
        with pytest.raises(IntegrityError, match="antennas_coordinators_range"), \
                communes_loaded.begin() as conn:
            plan_id = conn.execute(text(
                "INSERT INTO plans (name, departement) VALUES ('t', '43') RETURNING id")).scalar()
            structure = conn.execute(text(
                "INSERT INTO plan_structures (plan_id, name) VALUES (:p, 's') RETURNING id"),
                {"p": plan_id}).scalar()
            conn.execute(text("INSERT INTO plan_antennas (structure_id, name, coordinators) "
                              "VALUES (:s, 'a', CAST(:c AS float8))"),
                         {"s": structure, "c": value})


def test_json_api_never_emits_nan(app) -> None:
    response = app.test_client().get("/_test/nan")
    assert response.status_code == 500
    body = response.get_data(as_text=True)
    assert "NaN" not in body and "Traceback" not in body


def test_plan_reader_refuses_nan_and_absurd_coordinators(communes_43, tmp_path) -> None:
    from coverage.planfile import read_plan_file

    path = tmp_path / "p.csv"
    path.write_text("code_insee;antenne;coordinateurs\n43157;A;nan\n43040;B;inf\n"
                    "43268;C;-1\n43001;D;5000\n43002;E;2,5\n", encoding="utf-8")
    result = read_plan_file(path, communes=communes_43, dept="43", name="x")
    lines = sorted(p.line for p in result.problems)
    assert lines == [2, 3, 4, 5], [str(p) for p in result.problems]
    assert [a.coordinators for a in result.plan.antennas if a.name == "E"] == [2.5]


# ---- 5. bounded parsing ----------------------------------------------------------------------

def _xlsx_bomb(path: Path, *, rows: int, varied: bool = False) -> Path:
    """A valid XLSX whose only sheet has ``rows`` tiny rows (highly compressible unless
    ``varied``: then each row holds a different number and the ratio stays normal)."""
    head = ('<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
            '<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
            '<sheetData>')
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=9) as z:
        z.writestr("[Content_Types].xml", (
            '<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.'
            'org/package/2006/content-types"><Default Extension="rels" ContentType="application/'
            'vnd.openxmlformats-package.relationships+xml"/><Default Extension="xml" '
            'ContentType="application/xml"/><Override PartName="/xl/workbook.xml" ContentType='
            '"application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
            '<Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.'
            'openxmlformats-officedocument.spreadsheetml.worksheet+xml"/></Types>'))
        z.writestr("_rels/.rels", (
            '<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.'
            'openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http:'
            '//schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" '
            'Target="xl/workbook.xml"/></Relationships>'))
        z.writestr("xl/workbook.xml", (
            '<?xml version="1.0" encoding="UTF-8"?><workbook xmlns="http://schemas.'
            'openxmlformats.org/spreadsheetml/2006/main" xmlns:r="http://schemas.openxmlformats'
            '.org/officeDocument/2006/relationships"><sheets><sheet name="A" sheetId="1" '
            'r:id="rId1"/></sheets></workbook>'))
        z.writestr("xl/_rels/workbook.xml.rels", (
            '<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.'
            'openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http:'
            '//schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" '
            'Target="worksheets/sheet1.xml"/></Relationships>'))
        with z.open("xl/worksheets/sheet1.xml", "w", force_zip64=True) as sheet:
            sheet.write(head.encode())
            sheet.write(b'<row><c t="inlineStr"><is><t>code_insee</t></is></c></row>')
            chunk = b'<row><c><v>1</v></c></row>' * 10_000
            for block in range(rows // 10_000):
                if varied:
                    chunk = b"".join(b"<row><c><v>%d</v></c></row>" % (block * 7919 + i * 104729)
                                     for i in range(10_000))
                sheet.write(chunk)
            sheet.write(b"</sheetData></worksheet>")
    return path


def test_xlsx_bomb_is_refused_before_opening(tmp_path) -> None:
    from geo.errors import MaillageError
    from geo.tables import read_table

    bomb = _xlsx_bomb(tmp_path / "bombe.xlsx", rows=3_000_000)
    assert bomb.stat().st_size < 1_500_000
    with pytest.raises(MaillageError, match="décompress"):
        read_table(bomb)
    # Under the size limits but past the row cap: refused while streaming.
    many = _xlsx_bomb(tmp_path / "grand.xlsx", rows=150_000, varied=True)
    with pytest.raises(MaillageError, match="plus de 100000 lignes"):
        read_table(many)


def test_xlsx_bomb_through_cli_and_web(app, users, communes_loaded, tmp_path) -> None:
    bomb = _xlsx_bomb(tmp_path / "bombe.xlsx", rows=3_000_000)
    done = _cli("plan", "check", str(bomb), "--dept", "43", timeout=60,
                env=_db_env(communes_loaded))
    assert done.returncode == 1
    assert "refusé" in done.stderr and "Traceback" not in done.stderr
    client, _ = _login(app, users["p"][0])
    response = _upload(client, bomb, "bombe")
    assert response.status_code in (302, 400)
    shown = client.get("/plans").get_data(as_text=True) if response.status_code == 302 \
        else response.get_data(as_text=True)
    assert "refusé" in shown


def test_zip_with_path_traversal_is_refused(tmp_path) -> None:
    from geo.archives import check_zip, unsafe_member_path
    from geo.errors import MaillageError

    path = tmp_path / "x.xlsx"
    with zipfile.ZipFile(path, "w") as z:
        z.writestr("../../etc/evil", "x")
    with pytest.raises(MaillageError, match="chemin interdit"):
        check_zip(path)
    assert unsafe_member_path("/abs") and unsafe_member_path("a/../../b")
    assert unsafe_member_path("C:/x") and not unsafe_member_path("xl/workbook.xml")


def test_overlong_csv_field_is_a_french_error(tmp_path) -> None:
    from geo.errors import MaillageError
    from geo.tables import read_table

    path = tmp_path / "long.csv"
    path.write_text("code_insee;antenne\n43157;" + "x" * 200_000 + "\n", encoding="utf-8")
    with pytest.raises(MaillageError, match="ligne"):
        read_table(path)


# ---- 6. login hardening ------------------------------------------------------------------------

def test_login_is_throttled_per_account_even_with_the_right_password(app, users) -> None:
    email = users["victim"][0]
    for _ in range(5):
        _, response = _login(app, email, "mauvais-mot-de-passe", ip="10.66.0.1")
        assert response.status_code == 401
    _, response = _login(app, email, PASSWORD, ip="10.66.0.2")
    assert response.status_code == 429
    assert "Trop de tentatives" in response.get_data(as_text=True)
    assert int(response.headers["Retry-After"]) > 0


def test_login_is_throttled_per_address(app, communes_loaded: Engine) -> None:
    ip = "10.66.1.1"
    for i in range(20):
        _login(app, f"inconnu-{i}-{uuid.uuid4().hex[:6]}@securite.test", "x", ip=ip)
    _, response = _login(app, "encore@securite.test", "x", ip=ip)
    assert response.status_code == 429
    with communes_loaded.begin() as conn:
        conn.execute(text("DELETE FROM login_failures WHERE ip = :ip"), {"ip": ip})


def test_unknown_email_costs_a_real_hash() -> None:
    from werkzeug.security import generate_password_hash

    from web.accounts import _dummy_hash

    # Same method and parameters as a real account: same time to refuse.
    assert _dummy_hash().split("$")[0] == generate_password_hash("x").split("$")[0]


def test_logout_and_password_change_end_copied_sessions(app, users, communes_loaded) -> None:
    from web.accounts import set_password

    client, response = _login(app, users["p"][0])
    assert response.status_code == 302
    copy = app.test_client()
    cookie = client.get_cookie("session")
    assert cookie is not None
    copy.set_cookie("session", cookie.value)
    assert copy.get("/plans").status_code == 200
    client.post("/deconnexion", data={"csrf_token": _token(client, "/plans")})
    assert copy.get("/plans").status_code == 302, "a saved cookie survived the logout"
    client, _ = _login(app, users["p"][0])
    with communes_loaded.begin() as conn:
        set_password(conn, email=users["p"][0], password=PASSWORD)
    assert client.get("/plans").status_code == 302, "a session survived a password change"


@pytest.mark.parametrize("target", ["//evil.example", "/%09/evil.example", "/\\evil.example",
                                    "/%2F%2Fevil.example", "https://evil.example",
                                    "/%5Cevil.example", "/\t/evil.example", "javascript:alert(1)",
                                    "/%250D%250Aevil"])
def test_next_is_only_a_local_path(app, users, target: str) -> None:
    _, response = _login(app, users["ars"][0], next_=target)
    assert response.status_code == 302
    assert response.headers["Location"] == "/"


def test_next_keeps_a_real_local_path(app, users) -> None:
    _, response = _login(app, users["ars"][0], next_="/plans")
    assert response.headers["Location"] == "/plans"


# ---- 7. no traceback reaches a user --------------------------------------------------------------

@pytest.mark.parametrize("query", ["/api/v1/search?q=" + "x" * 6000, "/recherche?q=a%00b",
                                   "/api/v1/search?page=99999999999999999999",
                                   "/api/v1/search?page=-1", "/api/v1/search?per_page=%C2%B2"])
def test_hostile_web_input_is_a_french_400(app, query: str) -> None:
    response = app.test_client().get(query)
    assert response.status_code == 400
    body = response.get_json()["erreur"] if response.is_json else response.get_data(as_text=True)
    assert "Traceback" not in body
    assert "Saisie refusée" in body or "Numéro de page" in body


def test_overlong_plan_name_is_a_french_message(app, users, plan_43, communes_43,
                                                tmp_path) -> None:
    from coverage.assign import write_plan_csv

    path = tmp_path / "p.csv"
    write_plan_csv(plan_43, path, communes=communes_43)
    client, _ = _login(app, users["p"][0])
    response = _upload(client, path, "n" * 300)
    assert response.status_code == 400
    assert "trop long" in response.get_data(as_text=True)


def test_cli_unexpected_error_is_french_with_a_log(tmp_path, communes_loaded: Engine) -> None:
    broken = "postgresql+psycopg://postgres@/maillage?host=/nonexistent-socket-dir"
    done = _cli("communes", "summary", "--dept", "43",
                env={"DATABASE_URL": broken, "MAILLAGE_VAR_DIR": str(tmp_path)})
    assert done.returncode != 0
    assert "Traceback" not in done.stderr
    assert "Erreur" in done.stderr and "injoignable" in done.stderr
    assert (tmp_path / "log" / "maillage-erreurs.log").read_text(encoding="utf-8")
    debug = _cli("--debug", "communes", "summary", "--dept", "43",
                 env={"DATABASE_URL": broken, "MAILLAGE_VAR_DIR": str(tmp_path)})
    assert "Traceback" in debug.stderr


# ---- 8. production serving ------------------------------------------------------------------------

def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_serve_runs_gunicorn_and_answers(communes_loaded: Engine, tmp_path) -> None:
    port = _free_port()
    env = {**os.environ, **_db_env(communes_loaded), "MAILLAGE_VAR_DIR": str(tmp_path)}
    server = subprocess.Popen([sys.executable, "-m", "maillage_cli.main", "serve", "--port",
                               str(port), "--workers", "2", "--behind-proxy"], cwd=ROOT, env=env,
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        import urllib.request

        body = ""
        for _ in range(150):
            try:
                request = urllib.request.Request(  # noqa: S310 - loopback only
                    f"http://127.0.0.1:{port}/connexion",
                    headers={"X-Forwarded-Proto": "https", "X-Forwarded-Host": "dac.example.fr"})
                with urllib.request.urlopen(request, timeout=2) as response:  # noqa: S310
                    body = response.read().decode("utf-8")
                    headers = response.headers
                break
            except OSError:
                time.sleep(0.2)
        assert "Connexion" in body
        # Behind the proxy the request is HTTPS: HSTS and Secure cookies.
        assert "max-age" in headers.get("Strict-Transport-Security", "")
        assert "Secure" in (headers.get("Set-Cookie") or "Secure")
        assert (tmp_path / "secret_key").exists()
        assert stat.S_IMODE((tmp_path / "secret_key").stat().st_mode) == 0o600
    finally:
        server.terminate()
        output = server.communicate(timeout=30)[0]
    assert "gunicorn" in output.lower() or "Booting worker" in output
