"""Candidacies: organisations, submission, the ARS review, decisions, publication API.

Real PostGIS, real Haute-Loire communes, Flask's test client; exports opened with the
csv module and openpyxl; ``zone_eligibilite`` validated against the data·inclusion v1
schema of the shared data.
"""

from __future__ import annotations

import copy
import csv
import io
import json
import uuid
from pathlib import Path

import pytest
from sqlalchemy import Engine, text

from coverage.assign import write_plan_csv
from coverage.candidacy import plan_from_snapshot, plan_snapshot, review_candidacies
from coverage.drivetimes import plan_drive_times
from coverage.territories import plan_from_epci_grouping
from geo.errors import MaillageError
from tests.webclient import csrf_token, post_login, remove_accounts
from web.accounts import add_user, ensure_organisation, get_user

PASSWORD = "mot-de-passe-candidatures"


def _clear_candidacies(engine: Engine) -> None:
    # The test database is shared by the test modules: a candidacy left by an earlier
    # run would take part in the review and the publication of département 43.
    with engine.begin() as conn:
        conn.execute(text("DELETE FROM candidacies WHERE departement = '43'"))


@pytest.fixture(scope="module")
def app(communes_loaded: Engine):
    from web.app import create_app

    return create_app(database_url=communes_loaded.url.render_as_string(hide_password=False),
                      testing=True)


@pytest.fixture(scope="module")
def users(communes_loaded: Engine):
    _clear_candidacies(communes_loaded)
    tag = uuid.uuid4().hex[:8]
    created: dict[str, tuple[str, int]] = {}
    orgs = {"A": f"Association A {tag}", "B": f"Association B {tag}"}
    with communes_loaded.begin() as conn:
        for key, role, dept, org in (("a1", "promoteur", "43", "A"), ("a2", "promoteur", "43", "A"),
                                     ("b", "promoteur", "43", "B"), ("ars", "ars", "43", None),
                                     ("ars63", "ars", "63", None), ("ed", "editeur", None, None),
                                     ("admin", "admin", None, None)):
            email = f"{key}-{tag}@candidatures.test"
            created[key] = (email, add_user(conn, email=email, password=PASSWORD, role=role,
                                            departement=dept, name=f"Personne {key}",
                                            organisation=orgs[org] if org else None))
    yield created | {"orgs": orgs}  # type: ignore[operator]
    ids = [v[1] for k, v in created.items()]
    with communes_loaded.begin() as conn:
        remove_accounts(conn, ids)
        conn.execute(text("DELETE FROM organisations WHERE name = ANY(:n)"),
                     {"n": list(orgs.values())})


def _token(client, path: str = "/plans") -> str:
    return csrf_token(client, path)


def login(app, email: str):
    client, r = post_login(app, email, PASSWORD)
    assert r.status_code == 302
    return client


@pytest.fixture(scope="module")
def plan_a(shared_data: Path, communes_43):
    return plan_from_epci_grouping(
        shared_data / "territories" / "haute-loire-3-territoires-hypothese.csv",
        communes=communes_43, dept="43", seats=["43157", "43268", "43040"], name="Candidature A")


@pytest.fixture(scope="module")
def files(tmp_path_factory, plan_a, communes_43) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("candidatures")
    full = folder / "a.csv"
    write_plan_csv(plan_a, full, communes=communes_43)
    rows = full.read_text(encoding="utf-8-sig").splitlines()
    partial = folder / "b.csv"
    partial.write_text("\n".join(rows[:11]) + "\n", encoding="utf-8")  # 10 communes
    return {"a": full, "b": partial}


def upload(client, path: Path, name: str) -> int:
    r = client.post("/plans/importer", data={
        "nom": name, "csrf_token": _token(client),
        "fichier": (io.BytesIO(path.read_bytes()), "plan.csv")}, content_type="multipart/form-data")
    assert r.status_code == 302, r.get_data(as_text=True)[:300]
    return int(r.headers["Location"].rsplit("/", 1)[1])


def submit(client, plan_id: int):
    return client.post(f"/plans/{plan_id}/deposer", data={"csrf_token": _token(client)})


@pytest.fixture(scope="module")
def scenario(app, users, files):
    """A's draft and submitted candidacy, and B's submitted candidacy (10 communes)."""
    a1, b = login(app, users["a1"][0]), login(app, users["b"][0])
    draft = upload(a1, files["a"], "Brouillon A (essai)")
    plan_a = upload(a1, files["a"], "Candidature A")
    r = submit(a1, plan_a)
    assert r.status_code == 302 and "/candidatures/" in r.headers["Location"]
    cand_a = int(r.headers["Location"].rsplit("/", 1)[1])
    plan_b = upload(b, files["b"], "Candidature B")
    cand_b = int(submit(b, plan_b).headers["Location"].rsplit("/", 1)[1])
    return {"draft": draft, "plan_a": plan_a, "plan_b": plan_b, "cand_a": cand_a,
            "cand_b": cand_b}


# --- organisations ----------------------------------------------------------------------

def test_organisations(communes_loaded: Engine, users) -> None:
    with communes_loaded.begin() as conn:
        user = get_user(conn, users["a1"][1])
        assert user.organisation == users["orgs"]["A"]
        assert user.signature == f"Personne a1 ({users['orgs']['A']})"
        assert get_user(conn, users["a2"][1]).organisation_id == user.organisation_id
        assert ensure_organisation(conn, "  " + users["orgs"]["A"].upper()) == user.organisation_id
        with pytest.raises(MaillageError, match="SIRET invalide"):
            ensure_organisation(conn, "Autre", siret="1234")
        with pytest.raises(MaillageError, match="Seul un compte « promoteur »"):
            add_user(conn, email=f"x-{uuid.uuid4().hex[:6]}@t.fr", password=PASSWORD,
                     role="ars", departement="43", organisation="X")


def test_cli_users_add_with_organisation(communes_loaded: Engine, monkeypatch, capsys) -> None:
    from maillage_cli.main import main

    email = f"cli-{uuid.uuid4().hex[:8]}@candidatures.test"
    org = f"Structure porteuse {uuid.uuid4().hex[:6]}"
    monkeypatch.setenv("DATABASE_URL", communes_loaded.url.render_as_string(hide_password=False))
    monkeypatch.setattr("sys.stdin", io.StringIO(PASSWORD + "\n"))
    try:
        assert main(["users", "add", "--email", email, "--role", "promoteur", "--dept", "43",
                     "--organisation", org, "--siret", "12345678901234",
                     "--password-stdin"]) == 0
        assert f"organisation « {org} »" in capsys.readouterr().out
        assert main(["users", "list"]) == 0 and org in capsys.readouterr().out
    finally:
        with communes_loaded.begin() as conn:
            conn.execute(text("DELETE FROM users WHERE email = :e"), {"e": email})
            siret = conn.execute(text("DELETE FROM organisations WHERE name = :n "
                                      "RETURNING siret"), {"n": org}).scalar()
    assert siret == "12345678901234"


# --- drafts, submission, statuses -------------------------------------------------------

def test_drafts_are_private_to_the_organisation(app, users, scenario) -> None:
    draft = scenario["draft"]
    assert login(app, users["a2"][0]).get(f"/plans/{draft}").status_code == 200  # same org
    assert login(app, users["b"][0]).get(f"/plans/{draft}").status_code == 403
    ars = login(app, users["ars"][0])
    assert ars.get(f"/plans/{draft}").status_code == 403
    listing = ars.get("/plans").get_data(as_text=True)
    assert "Brouillon A (essai)" not in listing and "Candidature A" in listing
    review = ars.get("/ars/candidatures").get_data(as_text=True)
    assert "Brouillon A" not in review
    own = login(app, users["a1"][0]).get("/plans").get_data(as_text=True)
    assert "brouillon" in own and "déposée (version 1 du " in own
    assert f"Personne a1 ({users['orgs']['A']})" in own


def test_submission_is_an_immutable_snapshot(app, users, scenario, communes_loaded) -> None:
    a1 = login(app, users["a1"][0])
    r = submit(a1, scenario["plan_a"])  # unchanged: refused
    assert r.status_code == 302
    assert "déjà déposé tel quel" in a1.get(r.headers["Location"]).get_data(as_text=True)
    with communes_loaded.connect() as conn:
        row = conn.execute(text("SELECT version, status, snapshot, submitted_by_name, "
                                "organisation_name FROM candidacies WHERE id = :i"),
                           {"i": scenario["cand_a"]}).one()
    assert (row.version, row.status) == (1, "deposee")
    assert row.organisation_name == users["orgs"]["A"]
    assert len(plan_from_snapshot(row.snapshot).claims()) == 257
    from sqlalchemy.exc import DBAPIError

    with pytest.raises(DBAPIError, match="immuable"), communes_loaded.begin() as conn:
        conn.execute(text("UPDATE candidacies SET snapshot = '{}'::jsonb WHERE id = :i"),
                     {"i": scenario["cand_a"]})
    page = a1.get(f"/candidatures/{scenario['cand_a']}").get_data(as_text=True)
    assert "déposée" in page and "257/257" in page and "dépôt" in page


def test_snapshot_round_trip(plan_a) -> None:
    back = plan_from_snapshot(json.loads(json.dumps(plan_snapshot(plan_a))))
    assert back.claims() == plan_a.claims() and [a.seat for a in back.antennas] == \
        [a.seat for a in plan_a.antennas]


WRITE_ROUTES = ("importer", "proposer", "supprimer", "deposer", "decision")


def test_role_route_matrix(app, users, scenario, files, communes_loaded) -> None:
    """Every write route refuses every role that must not use it; nothing changes."""
    plan_a, cand_a = scenario["plan_a"], scenario["cand_a"]

    def attempt(client, route: str) -> int:
        token = _token(client, "/connexion")
        if route == "importer":
            return client.post("/plans/importer", data={
                "nom": "intrus", "csrf_token": token,
                "fichier": (io.BytesIO(files["b"].read_bytes()), "p.csv")},
                content_type="multipart/form-data").status_code
        path = {"proposer": "/plans/proposer", "supprimer": f"/plans/{plan_a}/supprimer",
                "deposer": f"/plans/{plan_a}/deposer",
                "decision": f"/candidatures/{cand_a}/decision"}[route]
        return client.post(path, data={"csrf_token": token, "k": "2", "statut": "retenue",
                                       "commentaire": "intrus"}).status_code

    clients = {"anonyme": app.test_client(), "editeur": login(app, users["ed"][0]),
               "autre promoteur": login(app, users["b"][0]),
               "ARS 63": login(app, users["ars63"][0]), "ARS 43": login(app, users["ars"][0]),
               "promoteur A": login(app, users["a2"][0])}
    allowed = {("ARS 43", "decision")}
    # The other promoter may import and propose for themselves: not a refusal to test.
    own_work = {("autre promoteur", "importer"), ("autre promoteur", "proposer"),
                ("promoteur A", "importer"), ("promoteur A", "proposer")}
    refused = []
    for who, client in clients.items():
        for route in WRITE_ROUTES:
            if (who, route) in allowed | own_work or (who, route) == ("promoteur A", "supprimer"):
                continue
            if (who, route) == ("promoteur A", "deposer"):
                continue
            status = attempt(client, route)
            expected = 302 if who == "anonyme" else 403
            assert status == expected, (who, route, status)
            refused.append((who, route))
    assert len(refused) >= 20
    # Not even an admin submits on a promoter's behalf.
    assert attempt(login(app, users["admin"][0]), "deposer") == 403
    with communes_loaded.connect() as conn:
        row = conn.execute(text("SELECT status, decided_by FROM candidacies WHERE id = :i"),
                           {"i": cand_a}).one()
        assert (row.status, row.decided_by) == ("deposee", None)
        assert conn.execute(text("SELECT count(*) FROM plans WHERE id = :i"),
                            {"i": plan_a}).scalar() == 1
        assert conn.execute(text("SELECT count(*) FROM plans WHERE name = 'intrus' AND "
                                 "owner_id IN (SELECT id FROM users WHERE role <> 'promoteur')"
                                 )).scalar() == 0
    # Read routes of the review: ARS and admin only.
    for who in ("editeur", "autre promoteur", "promoteur A"):
        for path in ("/ars/candidatures", "/ars/candidatures.csv", "/ars/candidatures.xlsx",
                     "/ars/candidatures/rapport", "/ars/candidatures/carte.json"):
            assert clients[who].get(path).status_code == 403, (who, path)
    # A candidacy page: its candidate and the ARS of the département only.
    assert clients["autre promoteur"].get(f"/candidatures/{cand_a}").status_code == 403
    assert clients["ARS 63"].get(f"/candidatures/{cand_a}").status_code == 403
    assert clients["editeur"].get(f"/candidatures/{cand_a}").status_code == 403
    assert clients["promoteur A"].get(f"/candidatures/{cand_a}").status_code == 200


# --- the review computation ------------------------------------------------------------

def test_review_computation_on_haute_loire(plan_a, communes_43) -> None:
    partial = copy.deepcopy(plan_a)
    partial.name = "B"
    first = partial.antennas[0]
    taken = first.communes[:10]
    first.communes = list(taken)
    partial.antennas = [first]
    doubled = copy.deepcopy(plan_a)
    doubled.name = "C"
    moved = doubled.antennas[1].communes[0]
    doubled.antennas[0].communes.append(moved)   # one internal duplicate
    doubled.antennas[2].communes = doubled.antennas[2].communes[3:]   # 3 unclaimed by C
    entries = [({"id": 1, "name": "A", "version": 1, "organisation": "Org A"}, plan_a),
               ({"id": 2, "name": "B", "version": 1, "organisation": "Org B"}, partial)]
    review = review_candidacies(entries, communes_43)
    pop = {c: int(p) for c, p in communes_43["population"].items()}
    a, b = review.summaries
    assert (a.communes, b.communes) == (257, 10)
    assert a.conflicts == b.conflicts == 10
    assert a.conflicts_population == b.conflicts_population == sum(pop[c] for c in taken)
    assert review.unclaimed == [] and review.contested == sorted(taken)
    assert len(review.pairs) == 1 and review.pairs[0].communes == 10
    assert review.pairs[0].population == sum(pop[c] for c in taken)
    assert sum(len(g.communes) for g in review.pairs[0].groups) == 10
    assert all(g.antenna_a == first.name == g.antenna_b for g in review.pairs[0].groups)
    assert {g.epci for g in review.pairs[0].groups} == {communes_43.loc[c, "epci"] for c in taken}
    drive = plan_drive_times(plan_a, communes_43)
    assert a.beyond == len(drive.beyond())
    assert a.beyond_population == sum(pop[c] for c, _ in drive.beyond())
    assert a.duplicates == 0 and a.coverage_pct == 100.0
    # B alone leaves 247 communes to nobody; C has its own duplicate.
    alone = review_candidacies([entries[1]], communes_43)
    assert len(alone.unclaimed) == 247
    assert alone.unclaimed_population == sum(pop.values()) - sum(pop[c] for c in taken)
    three = review_candidacies(entries + [({"id": 3, "name": "C", "version": 2}, doubled)],
                               communes_43)
    c = three.summaries[2]
    assert c.duplicates == 1 and c.duplicates_population == pop[moved]
    assert c.uncovered == 3 and c.label == "C — ? (v2)"
    assert len(three.pairs) == 3
    assert [d[1] for d in three.duplicates] == [moved]
    sections = dict((t, rows) for t, _, rows in three.sections())
    assert len(sections["Conflits"]) == sum(p.communes for p in three.pairs)
    assert len(sections["Synthèse"]) == 3


# --- the review page and its exports ---------------------------------------------------

def test_review_page_and_exports(app, users, scenario) -> None:
    from openpyxl import load_workbook

    ars = login(app, users["ars"][0])
    page = ars.get("/ars/candidatures").get_data(as_text=True)
    assert "Candidature A" in page and "Candidature B" in page
    assert '<b id="n-contested">10</b>' in page
    assert f"Personne b ({users['orgs']['B']})" in page
    assert "10 communes (" in page  # conflicts of each candidacy, with population
    body = ars.get("/ars/candidatures.csv").get_data(as_text=True)
    rows = list(csv.reader(io.StringIO(body.lstrip("\ufeff")), delimiter=";"))
    by_section: dict[str, int] = {}
    for row in rows[1:]:
        by_section[row[0]] = by_section.get(row[0], 0) + 1
    assert set(by_section) == {"Synthèse", "Conflits", "Non revendiquées", "Au-delà du seuil",
                               "Doublons internes"}
    assert by_section["Conflits"] == 1 + 10 and by_section["Synthèse"] == 1 + 2
    response = ars.get("/ars/candidatures.xlsx")
    assert response.status_code == 200
    book = load_workbook(io.BytesIO(response.data))
    assert book.sheetnames == ["Synthèse", "Conflits", "Non revendiquées", "Au-delà du seuil",
                               "Doublons internes"]
    assert book["Conflits"].max_row == 1 + 10 and book["Synthèse"].max_row == 1 + 2
    beyond = [r for r in rows if r[0] == "Au-delà du seuil"]
    assert book["Au-delà du seuil"].max_row == len(beyond)
    report = ars.get("/ars/candidatures/rapport").get_data(as_text=True)
    assert "Revue des candidatures DAC" in report and "Doublons internes" in report
    region = ars.get("/ars/candidatures?perimetre=region").get_data(as_text=True)
    assert 'id="dept-43"' in region and "Candidature A" in region
    geo = ars.get("/ars/candidatures/carte.json").get_json()
    states = {c["s"] for c in geo["communes"]}
    assert states == {"single", "duplicate"} and len(geo["communes"]) == 257
    assert len(geo["plans"]) == 2
    admin = login(app, users["admin"][0])
    assert admin.get("/ars/candidatures?dept=43").status_code == 200
    assert admin.get("/ars/candidatures").status_code == 400


def test_hostile_input_is_refused_in_french(app, users, scenario, communes_loaded) -> None:
    ars = login(app, users["ars"][0])
    cand = scenario["cand_b"]
    for data, message in (({"statut": "retenue", "commentaire": "x" * 2001}, "trop long"),
                          ({"statut": "annulee", "commentaire": ""}, "Décision inconnue"),
                          ({"statut": "", "commentaire": ""}, "Décision inconnue")):
        r = ars.post(f"/candidatures/{cand}/decision",
                     data=data | {"csrf_token": _token(ars, "/ars/candidatures")})
        assert r.status_code == 302
        assert message in ars.get(r.headers["Location"]).get_data(as_text=True)
    with communes_loaded.connect() as conn:
        assert conn.execute(text("SELECT status FROM candidacies WHERE id = :i"),
                            {"i": cand}).scalar_one() == "deposee"
    assert ars.get("/candidatures/999999").status_code == 404
    a1 = login(app, users["a1"][0])
    assert submit(a1, 999999).status_code == 404
    client = app.test_client()
    for code in ("abc", "43157' OR 1=1", "4315"):
        r = client.get(f"/api/v1/communes/{code}/dac")
        assert r.status_code == 400 and "Code commune" in r.get_json()["erreur"]
    assert client.get("/api/v1/dac/43/nope").status_code == 404


# --- decisions, versions, audit, publication ------------------------------------------

def test_decision_versions_audit_and_publication(app, users, scenario, files, shared_data,
                                                 communes_loaded) -> None:
    import jsonschema

    client = app.test_client()
    assert client.get("/api/v1/communes/43157/dac").status_code == 404
    assert client.get("/api/v1/dac/43").get_json()["erreur"].startswith("Aucun DAC retenu")
    ars = login(app, users["ars"][0])
    cand_a, cand_b = scenario["cand_a"], scenario["cand_b"]
    r = ars.post(f"/candidatures/{cand_b}/decision", data={
        "csrf_token": _token(ars, "/ars/candidatures"), "statut": "non_retenue",
        "commentaire": ""})
    assert "Motivez" in ars.get(r.headers["Location"]).get_data(as_text=True)
    ars.post(f"/candidatures/{cand_b}/decision", data={
        "csrf_token": _token(ars, "/ars/candidatures"), "statut": "non_retenue",
        "commentaire": "Territoire trop partiel"})
    ars.post(f"/candidatures/{cand_a}/decision", data={
        "csrf_token": _token(ars, "/ars/candidatures"), "statut": "retenue",
        "commentaire": "Couverture complète"})
    with communes_loaded.connect() as conn:
        log = conn.execute(text("SELECT action, user_email, before, after FROM audit_log "
                                "WHERE entity = 'candidature' AND entity_id = :i ORDER BY id"),
                           {"i": str(cand_a)}).all()
    assert [e.action for e in log] == ["depot", "decision"]
    assert log[0].user_email == users["a1"][0] and log[1].user_email == users["ars"][0]
    assert log[1].before["statut"] == "deposee" and log[1].after["statut"] == "retenue"
    # The promoter's organisation sees the decision and the journal.
    page = login(app, users["a2"][0]).get(f"/candidatures/{cand_a}").get_data(as_text=True)
    assert "retenue" in page and "Couverture complète" in page and users["ars"][0] in page
    assert "retenue" in login(app, users["a1"][0]).get("/plans").get_data(as_text=True)

    # Publication (no login).
    found = client.get("/api/v1/communes/43157/dac").get_json()
    seat_antenna = next(a.name for a in plan_from_snapshot(
        _snapshot(communes_loaded, cand_a)).antennas if "43157" in a.communes)
    assert found["antenne"]["nom"] == seat_antenna
    assert found["dac"]["candidature"] == cand_a
    assert found["temps_trajet"]["minutes"] >= 0 and found["temps_trajet"]["mode"]
    document = client.get("/api/v1/dac/43").get_json()
    assert document["cog_millesime"] and len(document["dac"]) == 1
    antennas = document["dac"][0]["antennes"]
    assert sum(len(a["communes"]) for a in antennas) == 257
    geojson = client.get("/api/v1/dac/43?format=geojson")
    assert geojson.mimetype == "application/geo+json"
    features = json.loads(geojson.data)["features"]
    territories = [f for f in features if f["properties"]["type"] == "territoire"]
    assert len(territories) == len(antennas)
    assert {f["geometry"]["type"] for f in territories} <= {"Polygon", "MultiPolygon"}
    services = client.get("/api/v1/dac/43/data-inclusion").get_json()
    schema = json.loads((shared_data / "data_inclusion" / "schema" / "service.json")
                        .read_text(encoding="utf-8"))
    for service in services:
        jsonschema.validate(service, schema)
    assert sorted(c for s in services for c in s["zone_eligibilite"]) == \
        sorted(c["code"] for a in antennas for c in a["communes"])
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(services[0] | {"zone_eligibilite": ["431570"]}, schema)
    bundle = json.loads(client.get("/api/v1/dac/43/fhir").data)
    assert bundle["resourceType"] == "Bundle"
    resource = bundle["entry"][0]["resource"]
    assert resource["resourceType"] == "HealthcareService"
    codes = [e["extension"][1]["valueCodeableConcept"]["coding"][0]["code"]
             for e in resource["extension"] if e["url"].endswith("ror-territorial-division")]
    assert codes == [c["code"] for c in antennas[0]["communes"]]
    paths = client.get("/api/v1/openapi.json").get_json()["paths"]
    assert {"/api/v1/dac/{dept}", "/api/v1/communes/{code}/dac",
            "/api/v1/dac/{dept}/data-inclusion", "/api/v1/dac/{dept}/fhir"} <= set(paths)
    assert client.get("/api/v1/dac/<script>").status_code == 400
    assert client.get("/api/v1/communes/99999/dac").status_code == 404
    assert client.get("/api/v1/communes/63113/dac").status_code == 404  # no DAC in 63

    # A new version replaces the old one: the retained v1 is no longer current.
    a1 = login(app, users["a1"][0])
    smaller = upload(a1, files["b"], "Candidature A révisée")
    r = submit(a1, smaller)
    new_id = int(r.headers["Location"].rsplit("/", 1)[1])
    page = a1.get(f"/candidatures/{new_id}").get_data(as_text=True)
    assert "version 2" in page and "(remplacée)" in page
    r = ars.post(f"/candidatures/{cand_a}/decision", data={
        "csrf_token": _token(ars, "/ars/candidatures"), "statut": "retenue", "commentaire": ""})
    assert "décidez sur la dernière version" in ars.get(r.headers["Location"]).get_data(as_text=True)
    assert client.get("/api/v1/communes/43157/dac").status_code == 404
    # A plan submitted as a candidacy cannot be deleted (issue 14, item 6).
    assert a1.post(f"/plans/{scenario['plan_a']}/supprimer",
                   data={"csrf_token": _token(a1), "confirmation": "oui"}).status_code == 302
    assert a1.get(f"/plans/{scenario['plan_a']}").status_code == 200
    page = ars.get(f"/candidatures/{cand_a}").get_data(as_text=True)
    assert "257/257" in page and "Couverture complète" in page


def _snapshot(engine: Engine, candidacy_id: int) -> dict:
    with engine.connect() as conn:
        return conn.execute(text("SELECT snapshot FROM candidacies WHERE id = :i"),
                            {"i": candidacy_id}).scalar_one()


def test_exports_neutralise_formulas_in_candidacy_names(app, users, files) -> None:
    from openpyxl import load_workbook

    hostile = "=HYPERLINK(\"http://x.invalid\",\"clic\")"
    b = login(app, users["b"][0])
    assert submit(b, upload(b, files["b"], hostile)).status_code == 302
    ars = login(app, users["ars"][0])
    page = ars.get("/ars/candidatures").get_data(as_text=True)
    assert "=HYPERLINK(&#34;http" in page or "=HYPERLINK(&quot;http" in page
    body = ars.get("/ars/candidatures.csv").get_data(as_text=True)
    cells = [c for row in csv.reader(io.StringIO(body.lstrip("\ufeff")), delimiter=";")
             for c in row]
    assert any(c.startswith("'=HYPERLINK") for c in cells)
    assert not any(c.startswith(("=", "+", "@")) for c in cells)
    book = load_workbook(io.BytesIO(ars.get("/ars/candidatures.xlsx").data))
    values = [cell for row in book["Synthèse"].iter_rows() for cell in row
              if isinstance(cell.value, str) and "HYPERLINK" in cell.value]
    assert values and all(cell.data_type == "s" for cell in values)
