"""End to end in headless Chromium: two promoters submit, the ARS reviews and retains one,
the retained territory is published and shown on the resource search page."""

from __future__ import annotations

import json
import uuid
from pathlib import Path

import pytest
from sqlalchemy import Engine, text

from coverage.assign import write_plan_csv
from coverage.territories import plan_from_epci_grouping
from directory.store import sync_categories
from directory.taxonomy import load_categories
from geo.db import session_scope
from tests.browser import chromium, require_chromium, serve, sign_in
from tests.browser import wait as _wait
from tests.webclient import remove_accounts
from web.accounts import add_user

PASSWORD = "mot-de-passe-navigateur-dac"


@pytest.fixture(scope="module")
def site(communes_loaded: Engine, shared_data: Path, tmp_path_factory, communes_43):
    require_chromium()
    from web.app import create_app

    with session_scope(communes_loaded) as session:
        sync_categories(session, load_categories(shared_data))
    tag = uuid.uuid4().hex[:8]
    emails = {k: f"{k}-{tag}@dac-navigateur.test" for k in ("a", "b", "ars")}
    orgs = {"a": f"Porteur A {tag}", "b": f"Porteur B {tag}"}
    with communes_loaded.begin() as conn:
        # Earlier runs must not take part in this review or publication.
        conn.execute(text("DELETE FROM candidacies WHERE departement = '43'"))
        ids = [add_user(conn, email=emails["a"], password=PASSWORD, role="promoteur",
                        departement="43", name="Alice", organisation=orgs["a"]),
               add_user(conn, email=emails["b"], password=PASSWORD, role="promoteur",
                        departement="43", name="Bruno", organisation=orgs["b"]),
               add_user(conn, email=emails["ars"], password=PASSWORD, role="ars",
                        departement="43")]
        dac_id = conn.execute(text(
            "INSERT INTO structures (source, source_id, name, category_code, sector, point, "
            "commune_code, commune_name, postal_code, phone, search_text) VALUES "
            "('test-dac', :u, 'DAC test de la Haute-Loire', '606', 'sanitaire', "
            "ST_SetSRID(ST_MakePoint(3.885, 45.043), 4326), '43157', 'Le Puy-en-Velay', "
            "'43000', '04 71 00 00 00', 'dac test') RETURNING id"), {"u": tag}).scalar_one()
    plan = plan_from_epci_grouping(
        shared_data / "territories" / "haute-loire-3-territoires-hypothese.csv",
        communes=communes_43, dept="43", seats=["43157", "43268", "43040"], name="x")
    folder = tmp_path_factory.mktemp("dac-navigateur")
    full = folder / "a.csv"
    write_plan_csv(plan, full, communes=communes_43)
    rows = full.read_text(encoding="utf-8-sig").splitlines()
    partial = folder / "b.csv"
    partial.write_text("\n".join(rows[:8]) + "\n", encoding="utf-8")  # 7 communes
    app = create_app(database_url=communes_loaded.url.render_as_string(hide_password=False),
                     testing=True)
    with serve(app) as base, chromium() as driver:
        yield {"base": base, "driver": driver, "emails": emails, "orgs": orgs, "plan": plan,
               "full": full, "partial": partial, "contested": [r.split(";")[0] for r in rows[1:8]]}
    with communes_loaded.begin() as conn:
        remove_accounts(conn, ids)
        conn.execute(text("DELETE FROM organisations WHERE name = ANY(:n)"),
                     {"n": list(orgs.values())})
        conn.execute(text("DELETE FROM structures WHERE id = :i"), {"i": dac_id})


def _login(site, who: str) -> None:
    sign_in(site["driver"], site["base"], site["emails"][who], PASSWORD)


def _upload(site, path: Path, name: str, *, submit: bool) -> str:
    from selenium.webdriver.common.by import By

    driver = site["driver"]
    driver.get(site["base"] + "/plans")
    driver.find_element(By.ID, "nom").send_keys(name)
    driver.find_element(By.ID, "fichier").send_keys(str(path))
    driver.find_element(By.CSS_SELECTOR, "form[enctype] button").click()
    _wait(driver, lambda d: "/plans/" in d.current_url and d.current_url.rstrip("/")[-1].isdigit())
    url = driver.current_url
    if submit:
        driver.find_element(By.CSS_SELECTOR, "#submit-candidacy button").click()
        _wait(driver, lambda d: "/candidatures/" in d.current_url)
        assert driver.find_element(By.ID, "status").text == "déposée"
    return url


def _fetch(driver, url: str) -> dict:
    """Status, type, text (or byte count and magic) of a same-origin GET, from the page."""
    return driver.execute_async_script("""
        var done = arguments[arguments.length - 1];
        fetch(arguments[0], {credentials: 'same-origin'}).then(function (r) {
          var type = r.headers.get('Content-Type') || '';
          if (type.indexOf('spreadsheetml') >= 0) {
            return r.arrayBuffer().then(function (b) {
              var head = String.fromCharCode.apply(null, new Uint8Array(b.slice(0, 2)));
              done({status: r.status, type: type, size: b.byteLength, head: head});
            });
          }
          return r.text().then(function (t) { done({status: r.status, type: type, text: t}); });
        }).catch(function (e) { done({status: 0, text: String(e)}); });
    """, url)


def test_two_candidacies_review_retain_publish_and_search(site) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import Select

    driver = site["driver"]
    # Promoter A keeps a draft and submits a candidacy; promoter B submits a partial one.
    _login(site, "a")
    _upload(site, site["full"], "Brouillon secret A", submit=False)
    _upload(site, site["full"], "Candidature navigateur A", submit=True)
    _login(site, "b")
    _upload(site, site["partial"], "Candidature navigateur B", submit=True)

    # The ARS never sees A's draft.
    _login(site, "ars")
    driver.get(site["base"] + "/plans")
    assert "Brouillon secret A" not in driver.page_source
    assert "Candidature navigateur A" in driver.page_source
    driver.find_element(By.LINK_TEXT, "Candidatures").click()
    _wait(driver, lambda d: d.find_elements(By.ID, "summary"))
    assert "Brouillon secret A" not in driver.page_source
    summary = driver.find_elements(By.CSS_SELECTOR, "#summary tr")
    assert len(summary) == 1 + 2
    texts = [r.text for r in summary[1:]]
    assert any("Candidature navigateur A" in t and site["orgs"]["a"] in t for t in texts)
    assert any("Candidature navigateur B" in t and site["orgs"]["b"] in t for t in texts)
    assert driver.find_element(By.ID, "n-contested").text == "7"
    conflicts = [c.text for c in driver.find_elements(By.CSS_SELECTOR, "#summary td.conflicts")]
    assert len(conflicts) == 2 and all(c.startswith("7 communes (") and "hab." in c
                                       for c in conflicts)
    pair_rows = driver.find_elements(By.CSS_SELECTOR, "table.pair tr td:nth-child(4)")
    listed = " ".join(r.text for r in pair_rows)
    assert all(f"({code})" in listed for code in site["contested"])
    # The shared comparison map draws the candidacies, with its legend in words.
    _wait(driver, lambda d: d.find_element(By.ID, "map").get_attribute("data-ready") == "1")
    keys = driver.execute_script(
        "return Array.from(document.querySelectorAll('#map .legend-row'))"
        ".map(function (r) { return r.dataset.key; });")
    assert {"single", "duplicate", "uncovered"} <= set(keys)
    # Every export section, in CSV and XLSX.
    csv_body = _fetch(driver, site["base"] + "/ars/candidatures.csv")
    assert csv_body["status"] == 200
    for section in ("Synthèse", "Conflits", "Non revendiquées", "Au-delà du seuil"):
        assert f"\n{section};" in csv_body["text"]
    xlsx = _fetch(driver, site["base"] + "/ars/candidatures.xlsx")
    assert xlsx["status"] == 200 and xlsx["head"] == "PK" and xlsx["size"] > 2000

    # The ARS retains A.
    link = next(a for a in driver.find_elements(By.CSS_SELECTOR, "#summary a")
                if "Candidature navigateur A" in a.text)
    link.click()
    _wait(driver, lambda d: d.find_elements(By.ID, "decision"))
    Select(driver.find_element(By.ID, "statut")).select_by_value("retenue")
    driver.find_element(By.ID, "commentaire").send_keys("Couverture complète et unique")
    driver.find_element(By.CSS_SELECTOR, "#decision button").click()
    _wait(driver, lambda d: d.find_element(By.ID, "status").text == "retenue")
    assert "décision" in driver.find_element(By.ID, "journal").text

    # Published, without login: the commune of Le Puy-en-Velay names A's antenna.
    driver.delete_all_cookies()
    found = json.loads(_fetch(driver, site["base"] + "/api/v1/communes/43157/dac")["text"])
    antenna = next(a for a in site["plan"].antennas if "43157" in a.communes)
    assert found["antenne"]["nom"] == antenna.name
    assert found["dac"]["nom"] == "Candidature navigateur A"
    assert found["contact"]["name"] == "DAC test de la Haute-Loire"

    # The search page shows the banner for Le Puy-en-Velay.
    driver.get(site["base"] + "/recherche?commune=43157&commune_label=Le%20Puy-en-Velay")
    banner = _wait(driver, lambda d: d.find_element(By.ID, "dac-banner")
                   if d.find_element(By.ID, "dac-banner").is_displayed() else False)
    assert banner.text.startswith("Votre DAC : Candidature navigateur A")
    assert "antenne du Puy-en-Velay (" in banner.text and " min)" in banner.text
    assert "DAC test de la Haute-Loire" in banner.text and "04 71 00 00 00" in banner.text
