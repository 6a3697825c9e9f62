"""Editing a real FINESS card through the web form: findability kept, validation next to
the fields, verification as its own action, history on the card, journal, work list."""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import text
from sqlalchemy.engine import Engine

from directory.edits import check, normalise_phone, normalise_website
from directory.search import SearchQuery, search
from directory.store import reindex_structure
from tests.test_search import import_real_directory
from tests.webclient import csrf_token, post_login, remove_accounts
from web.accounts import add_user

PASSWORD = "mot-de-passe-edition"
#: Queries that find, before an edit, the EHPAD of the CH of Yssingeaux (FINESS
#: 430006353) and the CH itself (430000356, one of the 2 answers to « hopital ysingeaux »).
QUERIES = {"430006353": ["ehpad ysingeaux", "ehpad yssingeaux", "maison de retraite yssingeaux",
                         "personnes agees yssingeaux", "EHPAD CH Yssingeaux", "ehpad"],
           "430000356": ["hopital ysingeaux", "hôpital yssingeaux", "ch yssingeaux",
                         "urgences yssingeaux", "centre hospitalier", "CH d'Yssingeaux"]}


@pytest.fixture(scope="module")
def site(communes_loaded: Engine, shared_data: Path) -> Iterator[dict]:
    from web.app import create_app

    import_real_directory(communes_loaded, shared_data)
    tag = uuid.uuid4().hex[:8]
    emails = {k: f"{k}-{tag}@edition.test" for k in ("editeur", "admin", "promoteur")}
    with communes_loaded.begin() as conn:
        ids = [add_user(conn, email=emails["editeur"], password=PASSWORD, role="editeur",
                        departement="43"),
               add_user(conn, email=emails["admin"], password=PASSWORD, role="admin"),
               add_user(conn, email=emails["promoteur"], password=PASSWORD,
                        role="promoteur", departement="43")]
        sid = conn.execute(text("SELECT id FROM structures WHERE finess_et = '430006353'"
                                )).scalar_one()
    app = create_app(database_url=communes_loaded.url.render_as_string(hide_password=False),
                     testing=True)
    yield {"app": app, "engine": communes_loaded, "emails": emails, "sid": sid}
    with communes_loaded.begin() as conn:
        remove_accounts(conn, ids)


def _token(client: FlaskClient, path: str) -> str:
    return csrf_token(client, path)


def _login(app: Flask, email: str) -> FlaskClient:
    client, r = post_login(app, email, PASSWORD)
    assert r.status_code == 302
    return client


def _found(engine: Engine, sid: int) -> dict[str, bool]:
    out = {}
    with engine.connect() as conn:
        finess = conn.execute(text("SELECT finess_et FROM structures WHERE id = :i"),
                              {"i": sid}).scalar_one()
        for q in QUERIES[finess]:
            result = search(conn, SearchQuery(q=q, per_page=100))
            out[q] = sid in {f["properties"]["id"] for f in result["features"]}
    return out


def _row(engine: Engine, sid: int):
    with engine.connect() as conn:
        return conn.execute(text("SELECT * FROM structures WHERE id = :i"), {"i": sid}).one()


# ---- validation (no database) ---------------------------------------------------------

@pytest.mark.parametrize(("raw", "phone"), [
    ("0471075555", "04 71 07 55 55"), ("04.71.07.55.55", "04 71 07 55 55"),
    ("+33 4 71 07 55 55", "04 71 07 55 55"), ("+33 (0)4 71 07 55 55", "04 71 07 55 55"),
    ("0033471075555", "04 71 07 55 55"), ("04-71-07-55-55", "04 71 07 55 55"),
    ("3919", "3919"), ("15", "15"), ("+32 2 123 45 67", "+3221234567"),
])
def test_phone_is_normalised(raw: str, phone: str) -> None:
    assert normalise_phone(raw) == phone


@pytest.mark.parametrize("raw", ["abc", "04 71 07 55", "4471075555", "04 71 07 55 55 55",
                                 "06 12 34 56 7a"])
def test_bad_phones_are_refused(raw: str) -> None:
    with pytest.raises(ValueError):
        normalise_phone(raw)


def test_websites_http_only() -> None:
    assert normalise_website("www.ch-yssingeaux.fr") == "https://www.ch-yssingeaux.fr"
    assert normalise_website("http://exemple.fr/a?b=1") == "http://exemple.fr/a?b=1"
    for bad in ("javascript:alert(1)", "JavaScript:alert(1)", "data:text/html,x",
                "ftp://exemple.fr", "https://", "http://exemple", "mailto:a@b.fr"):
        with pytest.raises(ValueError):
            normalise_website(bad)


def test_check_names_each_faulty_field() -> None:
    checked = check({"name": " ", "phone": "abc", "email": "pas-un-courriel",
                     "website": "javascript:alert(1)", "opening_hours": "lundi 25h-26h",
                     "closed_from": "2026-12-10", "closed_until": "2026-12-01"})
    assert set(checked.errors) == {"name", "phone", "email", "website", "opening_hours",
                                   "closed_until"}
    assert checked.errors["phone"].startswith("Téléphone : ")
    assert checked.errors["email"].startswith("Courriel : ")
    assert checked.errors["website"].startswith("Site web : ")
    assert checked.errors["name"] == "Nom : le nom est obligatoire"
    good = check({"name": "EHPAD", "opening_hours": "lundi-vendredi 9h-12h, 14h-17h",
                  "phone": "04.71.65.71.00", "closed_until": "", "email": "a@b.fr"})
    assert not good.errors
    assert good.values["opening_hours"] == "Mo-Fr 09:00-12:00,14:00-17:00"
    assert good.values["phone"] == "04 71 65 71 00"


# ---- the one index builder -------------------------------------------------------------

def test_reindex_gives_an_imported_record_the_same_words(site) -> None:
    engine, sid = site["engine"], site["sid"]
    with engine.begin() as conn:
        imported = conn.execute(text("SELECT search_text FROM structures WHERE id = :i"),
                                {"i": sid}).scalar_one()
        rebuilt = reindex_structure(conn, sid)
        conn.execute(text("UPDATE structures SET search_text = :t WHERE id = :i"),
                     {"t": imported, "i": sid})
    assert set(rebuilt.split()) == set(imported.split())


# ---- editing through the web form ------------------------------------------------------

@pytest.mark.parametrize("finess", ["430000356", "430006353"])
def test_edit_keeps_findability_and_is_in_the_history(site, finess: str) -> None:
    app, engine = site["app"], site["engine"]
    with engine.connect() as conn:
        sid = conn.execute(text("SELECT id FROM structures WHERE finess_et = :f"),
                           {"f": finess}).scalar_one()
    before = _found(engine, sid)
    assert all(before.values()), before
    with engine.connect() as conn:
        hits = search(conn, SearchQuery(q="hopital ysingeaux", per_page=100))["total"]
    verified = _row(engine, sid).last_verified
    editor = _login(app, site["emails"]["editeur"])
    path = f"/structure/{sid}/modifier"
    form = {k: v or "" for k, v in _row(engine, sid)._mapping.items()
            if k in ("name", "address", "description")}
    r = editor.post(path, data={**form, "phone": "04.71.65.71.00",
                                "email": "accueil@ch-yssingeaux.fr",
                                "website": "www.ch-yssingeaux.fr",
                                "opening_hours": "lundi-vendredi 9h-12h, 14h-17h",
                                "description": "Accueil des familles l'après-midi.",
                                "csrf_token": _token(editor, path)})
    assert r.status_code == 302, r.get_data(as_text=True)
    row = _row(engine, sid)
    assert row.phone == "04 71 65 71 00" and row.website == "https://www.ch-yssingeaux.fr"
    assert row.opening_hours == "Mo-Fr 09:00-12:00,14:00-17:00"
    assert row.last_verified == verified                 # saving is not verifying
    assert _found(engine, sid) == before                 # every earlier query still finds it
    with engine.connect() as conn:
        assert search(conn, SearchQuery(q="hopital ysingeaux", per_page=100))["total"] == hits
        assert sid in {f["properties"]["id"] for f in search(conn, SearchQuery(
            q="familles yssingeaux", per_page=100))["features"]}   # the edited field counts
    card = editor.get(f"/structure/{sid}").get_data(as_text=True)
    assert "Historique" in card and site["emails"]["editeur"] in card
    history = card[card.index('id="history"'):]
    assert "Téléphone" in history and "04 71 65 71 00" in history
    assert "Horaires" in history and "Mo-Fr 09:00-12:00,14:00-17:00" in history
    assert "lundi–vendredi 9 h–12 h, 14 h–17 h" in card      # hours shown in French
    assert 'href="tel:0471657100"' in card and 'href="mailto:accueil@ch-yssingeaux.fr"' in card
    anonymous = site["app"].test_client().get(f"/structure/{sid}").get_data(as_text=True)
    assert "Historique" in anonymous and site["emails"]["editeur"] not in anonymous


def test_invalid_values_are_refused_next_to_their_field(site) -> None:
    app, engine, sid = site["app"], site["engine"], site["sid"]
    before = _row(engine, sid)
    editor = _login(app, site["emails"]["editeur"])
    path = f"/structure/{sid}/modifier"
    r = editor.post(path, data={"name": before.name, "phone": "abc",
                                "email": "pas-un-courriel", "website": "javascript:alert(1)",
                                "csrf_token": _token(editor, path)})
    assert r.status_code == 400
    html = r.get_data(as_text=True)
    for field, label in (("phone", "Téléphone"), ("email", "Courriel"), ("website", "Site web")):
        error = re.search(rf'<input id="{field}"[^>]*aria-invalid="true"[^>]*>\s*'
                          rf'<p id="{field}-error" class="field-error" role="alert">'
                          rf'{label} : ([^<]+)</p>', html)
        assert error, field
    assert "3 champs à corriger" in html
    assert 'value="abc"' in html                         # what was typed is kept
    after = _row(engine, sid)
    assert (after.phone, after.email, after.website, after.last_verified) == \
        (before.phone, before.email, before.website, before.last_verified)
    r = editor.post(path, data={"name": "", "csrf_token": _token(editor, path)})
    assert r.status_code == 400 and "Nom : le nom est obligatoire" in r.get_data(as_text=True)


def test_verification_is_a_separate_logged_action(site) -> None:
    app, engine, sid = site["app"], site["engine"], site["sid"]
    editor = _login(app, site["emails"]["editeur"])
    promoter = _login(app, site["emails"]["promoteur"])
    card = f"/structure/{sid}"
    assert promoter.post(f"{card}/verifier", data={"csrf_token": _token(promoter, "/")}
                         ).status_code == 403
    r = editor.post(f"{card}/verifier", data={"csrf_token": _token(editor, card)})
    assert r.status_code == 302
    assert _row(engine, sid).last_verified == date.today()
    html = editor.get(card).get_data(as_text=True)
    assert "Vérifiée le" in html[html.index('id="history"'):]
    assert f"{date.today():%d/%m/%Y}" in html


def test_temporary_closure_banner(site) -> None:
    app, engine, sid = site["app"], site["engine"], site["sid"]
    editor = _login(app, site["emails"]["editeur"])
    path = f"/structure/{sid}/modifier"
    row = _row(engine, sid)
    start, end = date.today() - timedelta(days=1), date.today() + timedelta(days=6)
    data = {k: getattr(row, k) or "" for k in ("name", "address", "phone", "email",
                                               "website", "opening_hours", "description")}
    r = editor.post(path, data={**data, "closed_from": start.isoformat(),
                                "closed_until": end.isoformat(), "closure_reason": "travaux",
                                "csrf_token": _token(editor, path)})
    assert r.status_code == 302
    card = app.test_client().get(f"/structure/{sid}").get_data(as_text=True)
    assert re.search(r'id="closure"[^>]*>Fermé temporairement du .+ au .+ : travaux\.', card)
    r = editor.post(path, data={**data, "closed_from": "", "closed_until": "",
                                "closure_reason": "", "csrf_token": _token(editor, path)})
    assert r.status_code == 302
    assert 'id="closure"' not in app.test_client().get(f"/structure/{sid}").get_data(
        as_text=True)


def test_structure_page_details(site) -> None:
    app, sid = site["app"], site["sid"]
    html = app.test_client().get(
        f"/structure/{sid}?depuis=q%3Dehpad%2Bbrioude%26rayon%3D50").get_data(as_text=True)
    assert 'id="back" href="/recherche?q=ehpad+brioude&amp;rayon=50"' in html
    assert "Source : FINESS (08/01/2021)" in html
    assert re.search(r"id=\"distance\">[\d,]+ km à vol d'oiseau de Brioude \(43040\)", html)
    assert re.search(r'href="geo:45\.\d+,4\.\d+"', html)
    assert "https://www.openstreetmap.org/directions?" in html
    assert "yssingeaux" in html[html.index('id="address"'):][:300].lower()
    assert "43268" not in html[html.index('id="address"'):][:300]


def _verify_and_edit_phone(site, editor: FlaskClient) -> None:
    sid = site["sid"]
    card = f"/structure/{sid}"
    assert editor.post(f"{card}/verifier", data={"csrf_token": _token(editor, card)}
                       ).status_code == 302
    row = _row(site["engine"], sid)
    phone = "04 71 65 71 01" if row.phone != "04 71 65 71 01" else "04 71 65 71 02"
    assert editor.post(f"{card}/modifier", data={
        "name": row.name, "phone": phone,
        "csrf_token": _token(editor, f"{card}/modifier")}).status_code == 302
    after = _row(site["engine"], sid)       # fields not sent are kept, not emptied
    assert (after.phone, after.address, after.opening_hours) == \
        (phone, row.address, row.opening_hours)


def test_journal_is_admin_only_and_filters(site) -> None:
    app, sid = site["app"], site["sid"]
    editor = _login(app, site["emails"]["editeur"])
    _verify_and_edit_phone(site, editor)
    assert editor.get("/admin/journal").status_code == 403
    admin = _login(app, site["emails"]["admin"])
    page = admin.get(f"/admin/journal?utilisateur=editeur-&fiche={sid}").get_data(as_text=True)
    assert site["emails"]["editeur"] in page and "verification" in page
    assert "Téléphone : " in page
    none = admin.get(f"/admin/journal?utilisateur={site['emails']['admin']}&fiche={sid}")
    assert "Aucune entrée pour ces filtres." in none.get_data(as_text=True)
    by_name = admin.get("/admin/journal?fiche=CH+Yssingeaux").get_data(as_text=True)
    assert site["emails"]["editeur"] in by_name
    future = (date.today() + timedelta(days=2)).isoformat()
    assert "Aucune entrée" in admin.get(f"/admin/journal?du={future}").get_data(as_text=True)
    assert "invalide" in admin.get("/admin/journal?du=hier").get_data(as_text=True)


def test_work_list_oldest_first_with_counts(site) -> None:
    app, engine, sid = site["app"], site["engine"], site["sid"]
    editor = _login(app, site["emails"]["editeur"])
    _verify_and_edit_phone(site, editor)
    html = editor.get("/a-verifier").get_data(as_text=True)
    total = int(re.search(r'id="to-verify-total">([\d\u202f]+)<', html).group(1)
                .replace("\u202f", ""))
    with engine.connect() as conn:
        expected = conn.execute(text(
            "SELECT count(*) FROM structures WHERE status = 'open' AND commune_code LIKE '43%' "
            "AND (last_verified IS NULL OR last_verified < :d)"),
            {"d": date.today() - timedelta(days=365)}).scalar()
    assert total == expected > 0                          # the editor's département (43)
    assert f"/structure/{sid}\"" not in html               # verified today: not listed
    assert "Etablissement d&#39;hébergement pour personnes âgées dépendantes" in html or \
        "EHPAD" in html
    days = re.findall(r"<td>(\d\d/\d\d/\d{4})</td>", html)
    parsed = [date(int(d[6:]), int(d[3:5]), int(d[:2])) for d in days]
    assert parsed == sorted(parsed)                      # oldest first


def test_hostile_parameters_get_french_answers_not_tracebacks(site) -> None:
    app, sid = site["app"], site["sid"]
    anonymous = app.test_client()
    card = anonymous.get(f"/structure/{sid}?depuis=" + "%26commune%3D%27%3B" * 200)
    assert card.status_code == 200 and 'id="distance"' not in card.get_data(as_text=True)
    page = anonymous.get("/recherche?commune=" + "x" * 4000 + "&rayon=abc&ouvert=hier")
    assert page.status_code == 200 and "Aucune commune ne s&#39;appelle" in page.get_data(
        as_text=True)
    too_long = anonymous.get("/recherche?commune=" + "x" * 6000)
    assert too_long.status_code == 400 and "Saisie refusée" in too_long.get_data(as_text=True)
    assert anonymous.get("/api/v1/communes/resolve?q=%27%3B--").status_code == 404
    admin = _login(app, site["emails"]["admin"])
    page = admin.get("/admin/journal?fiche=%27%3B+DROP+TABLE+audit_log%3B--&utilisateur=%25")
    assert page.status_code == 200
    assert admin.get("/a-verifier?dept=4%273").status_code == 400
    editor = _login(app, site["emails"]["editeur"])
    path = f"/structure/{sid}/modifier"
    r = editor.post(path, data={"name": "x" * 301, "phone": "0" * 41,
                                "closed_from": "2026-13-45",
                                "csrf_token": _token(editor, path)})
    html = r.get_data(as_text=True)
    assert r.status_code == 400
    assert "Nom : 300 caractères au plus" in html and "Téléphone : 40 caractères au plus" in html
    assert "Fermeture temporaire : du : date invalide" in html
