"""French copy of the rendered pages: no « (s) », no « de Le », no « à les », no
« déposé par ? », no raw role code; dates in words; author and organisation shown.

The pages are rendered by Flask's test client on real data: the communes of the
Haute-Loire, a plan proposed by the real p-median solver (antennas named after their
seat), the real EPCI grouping submitted as a candidacy, a plan imported without author
(command line), and real hospitals for the structure pages.
"""

from __future__ import annotations

import html as html_lib
import re
import uuid
from pathlib import Path

import pytest
from sqlalchemy import Engine, text

from coverage.territories import plan_from_epci_grouping
from directory.gisco import read_gisco_hospitals
from directory.store import sync_categories, upsert
from directory.taxonomy import load_categories
from geo.db import session_scope
from geo.fmt import MONTHS, de
from tests.webclient import csrf_token, post_login, remove_accounts
from web.accounts import add_user

PASSWORD = "mot-de-passe-redaction"
ROLE_CODES = ("editeur", "promoteur", "ars", "admin")
#: (pattern, why): what a professional proofreader would never sign.
BAD = [
    (re.compile(r"\(s\)"), "pluriel « (s) »"),
    (re.compile(r"\b[Dd]e Les? [A-ZÉÈÂ]"), "« de Le » / « de Les » au lieu de « du » / « des »"),
    (re.compile(r"\b[Àà] [Ll]es? [A-ZÉÈÂ]"), "« à le » / « à les » au lieu de « au » / « aux »"),
    (re.compile(r"\b[Dd]e [AEIOUYÉÈ][a-zé]"), "« de » non élidé devant une voyelle"),
    (re.compile(r"déposée? par \?"), "auteur inconnu « déposé par ? »"),
    (re.compile(r"\((?:" + "|".join(ROLE_CODES) + r")\)"), "code de rôle brut"),
    (re.compile(r"\b\d{4}-\d{2}-\d{2}\b"), "date ISO"),
]
# « de Europe » never occurs; « de Yssingeaux » must be « d'Yssingeaux ». Words that
# legitimately follow « de » with a vowel and no elision are few in French (h aspiré);
# none is used in these pages.


def problems(page: str) -> list[str]:
    """The copy problems of an HTML page (scripts and styles left out)."""
    body = re.sub(r"<(script|style)\b.*?</\1>", " ", page, flags=re.S | re.I)
    body = html_lib.unescape(re.sub(r"<[^>]+>", " ", body))
    body = re.sub(r"\s+", " ", body)
    found = []
    for pattern, why in BAD:
        for m in pattern.finditer(body):
            found.append(f"{why} : « …{body[max(0, m.start() - 40):m.end() + 40]}… »")
    return found


def test_the_detector_finds_every_listed_pattern() -> None:
    for sample in ("3 antenne(s)", "Antenne de Le Puy-en-Velay", "communes de Les Estables",
                   "à Le Puy-en-Velay", "déposé par ?", "Alice (editeur)", "le 2026-11-23",
                   "Antenne de Yssingeaux"):
        assert problems(f"<p>{sample}</p>"), sample
    assert problems("<p>Antenne du Puy-en-Velay, 3 antennes, le 23 novembre 2026</p>") == []


@pytest.fixture(scope="module")
def site(communes_loaded: Engine, shared_data: Path, communes_43):
    from coverage.store import save_plan
    from web.app import create_app

    with session_scope(communes_loaded) as session:
        sync_categories(session, load_categories(shared_data))
        upsert(session, read_gisco_hospitals(
            shared_data / "health" / "gisco_healthcare_FR_2020_hospitals_43_63.csv"),
            source_label="gisco")
    tag = uuid.uuid4().hex[:8]
    org = f"Association Appui Santé Velay {tag}"
    emails = {k: f"{k}-{tag}@redaction.test" for k in ROLE_CODES}
    with communes_loaded.begin() as conn:
        ids = {
            "promoteur": add_user(conn, email=emails["promoteur"], password=PASSWORD,
                                  role="promoteur", departement="43", name="Alice Martin",
                                  organisation=org),
            "ars": add_user(conn, email=emails["ars"], password=PASSWORD, role="ars",
                            departement="43", name="Claire Durand"),
            "editeur": add_user(conn, email=emails["editeur"], password=PASSWORD,
                                role="editeur", name="Éric Petit"),
            "admin": add_user(conn, email=emails["admin"], password=PASSWORD, role="admin",
                              name="Ada Admin"),
        }
        structure_id = conn.execute(text(
            "SELECT structure_id FROM structure_sources WHERE source LIKE 'gisco%' "
            "ORDER BY structure_id LIMIT 1")
        ).scalar_one()
    # A plan imported by the command line: no owner, no author.
    orphan = plan_from_epci_grouping(
        shared_data / "territories" / "haute-loire-3-territoires-hypothese.csv",
        communes=communes_43, dept="43", seats=["43157", "43268", "43040"],
        name=f"Plan en ligne de commande {tag}")
    orphan.author = None
    with session_scope(communes_loaded) as session:
        orphan_id = save_plan(session, orphan, owner_id=None)
    app = create_app(database_url=communes_loaded.url.render_as_string(hide_password=False),
                     testing=True)
    clients = {role: _login(app, emails[role]) for role in ROLE_CODES}
    promoter = clients["promoteur"]
    r = promoter.post("/plans/proposer", data={"k": "3", "csrf_token": _token(promoter, "/plans")})
    assert r.status_code == 302, r.status_code
    plan_id = int(r.headers["Location"].rstrip("/").rsplit("/", 1)[1])
    r = promoter.post(f"/plans/{plan_id}/deposer",
                      data={"csrf_token": _token(promoter, f"/plans/{plan_id}")})
    assert r.status_code == 302 and "/candidatures/" in r.headers["Location"]
    candidacy_id = int(r.headers["Location"].rstrip("/").rsplit("/", 1)[1])
    yield {"app": app, "clients": clients, "plan_id": plan_id, "orphan_id": orphan_id,
           "candidacy_id": candidacy_id, "structure_id": structure_id, "org": org}
    with communes_loaded.begin() as conn:
        remove_accounts(conn, ids.values())
        conn.execute(text("DELETE FROM plans WHERE id = :o"), {"o": orphan_id})
        conn.execute(text("DELETE FROM organisations WHERE name = :n"), {"n": org})


def _token(client, path: str) -> str:
    return csrf_token(client, path)


def _login(app, email: str):
    client, r = post_login(app, email, PASSWORD)
    assert r.status_code == 302
    return client


PAGES = {
    None: ["/", "/recherche", "/connexion", "/accessibilite", "/glossaire",
           "/structure/{structure}", "/page-absente"],
    "promoteur": ["/", "/plans", "/plans/{plan}", "/plans/{plan}/rapport",
                  "/candidatures/{candidacy}", "/ars/candidatures"],
    "ars": ["/", "/plans", "/ars/candidatures", "/ars/candidatures?perimetre=region",
            "/ars/candidatures/rapport", "/candidatures/{candidacy}",
            "/ars/comparer?plans={plan}"],
    "editeur": ["/", "/structure/{structure}", "/structure/{structure}/modifier"],
    "admin": ["/", "/plans", "/plans/{orphan}", "/ars/candidatures?dept=43"],
}


@pytest.mark.parametrize("role", list(PAGES), ids=["anonyme", *ROLE_CODES])
def test_pages_have_no_copy_problem(site, role: str | None) -> None:
    client = site["clients"][role] if role else site["app"].test_client()
    found = []
    for path in PAGES[role]:
        url = path.format(plan=site["plan_id"], orphan=site["orphan_id"],
                          candidacy=site["candidacy_id"], structure=site["structure_id"])
        response = client.get(url)
        assert response.status_code in (200, 403, 404), (url, response.status_code)
        page = response.get_data(as_text=True)
        found += [f"{url} : {p}" for p in problems(page)]
        if "rapport" not in url:   # printable reports have no site footer
            assert 'href="/accessibilite"' in page and 'href="/glossaire"' in page, url
    assert found == [], "\n".join(found)


def test_header_names_each_role_in_words(site) -> None:
    expected = {"promoteur": "Promoteur de DAC", "ars": "ARS",
                "editeur": "Éditeur de l'annuaire", "admin": "Administrateur"}
    for role, words in expected.items():
        page = html_lib.unescape(site["clients"][role].get("/").get_data(as_text=True))
        who = re.search(r'<span class="who-role">(.*?)</span>', page, flags=re.S).group(1)
        assert words in who, (role, who)
        assert not re.search(r"\b(editeur|promoteur|admin)\b", who), who


def test_home_page_offers_each_role_only_what_it_can_use(site) -> None:
    clients = site["clients"]
    promoter = clients["promoteur"].get("/").get_data(as_text=True)
    assert "Mes plans" in promoter and "/ars/candidatures" not in promoter
    ars = clients["ars"].get("/").get_data(as_text=True)
    assert "Examiner les candidatures" in ars and "Mes plans" not in ars
    editor = clients["editeur"].get("/").get_data(as_text=True)
    assert "/plans" not in editor and "/ars/" not in editor and "Trouver une fiche" in editor
    anonymous = site["app"].test_client().get("/").get_data(as_text=True)
    assert "Se connecter" in anonymous and "Mes plans" not in anonymous
    # Every link of the home page opens for the role that sees it (no 403).
    for role, client in clients.items():
        page = client.get("/").get_data(as_text=True)
        for href in re.findall(r'<a class="button" href="([^"]+)"', page):
            assert client.get(href).status_code == 200, (role, href)


def test_plan_and_candidacy_name_author_organisation_and_dates_in_words(site) -> None:
    from datetime import date

    promoter = site["clients"]["promoteur"]
    page = html_lib.unescape(promoter.get(f"/plans/{site['plan_id']}").get_data(as_text=True))
    today = date.today()
    in_words = f"{'1er' if today.day == 1 else today.day} {MONTHS[today.month - 1]} {today.year}"
    assert f"importé par Alice Martin ({site['org']})" in page
    assert in_words in page
    plans = html_lib.unescape(promoter.get("/plans").get_data(as_text=True))
    assert f"Alice Martin ({site['org']})" in plans and in_words in plans
    shown = html_lib.unescape(site["clients"]["ars"].get(
        f"/candidatures/{site['candidacy_id']}").get_data(as_text=True))
    assert f"par Alice Martin ({site['org']})" in shown and in_words in shown
    orphan = html_lib.unescape(site["clients"]["admin"].get(
        f"/plans/{site['orphan_id']}").get_data(as_text=True))
    assert "importé en ligne de commande" in orphan


def test_proposed_antennas_are_named_with_the_right_preposition(site, communes_43) -> None:
    page = html_lib.unescape(site["clients"]["promoteur"].get(
        f"/plans/{site['plan_id']}").get_data(as_text=True))
    names = re.findall(r'<tr data-antenna="([^"]+)"', page)
    assert len(names) == 3
    seats = dict(zip(communes_43["code"], communes_43["nom"], strict=False))
    expected = {f"Antenne {de(n)}" for n in seats.values()}
    assert all(n in expected for n in names), names
    assert "Proposition optimale : 3 antennes (p-médiane)" in page
