"""End to end in a real headless Chromium: the three users' jobs, and XSS safety."""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest
from sqlalchemy import Engine, text

from coverage.assign import write_plan_csv
from coverage.territories import plan_from_epci_grouping
from directory.gisco import read_gisco_hospitals
from directory.store import sync_categories, upsert
from directory.taxonomy import load_categories
from geo.db import session_scope
from tests.browser import chromium, require_chromium, serve, sign_in
from tests.browser import wait as _wait
from tests.webclient import remove_accounts
from web.accounts import add_user

PASSWORD = "mot-de-passe-navigateur"
XSS = "<img src=x onerror=window.__xss=1>"


@pytest.fixture(scope="module")
def site(communes_loaded: Engine, shared_data: Path):
    require_chromium()
    from web.app import create_app

    with session_scope(communes_loaded) as session:
        sync_categories(session, load_categories(shared_data))
        upsert(session, read_gisco_hospitals(
            shared_data / "health" / "gisco_healthcare_FR_2020_hospitals_43_63.csv"),
            source_label="gisco")
    tag = uuid.uuid4().hex[:8]
    emails = {k: f"{k}-{tag}@navigateur.test" for k in ("p1", "p2", "ars")}
    with communes_loaded.begin() as conn:
        ids = [add_user(conn, email=emails["p1"], password=PASSWORD, role="promoteur",
                        departement="43"),
               add_user(conn, email=emails["p2"], password=PASSWORD, role="promoteur",
                        departement="43"),
               add_user(conn, email=emails["ars"], password=PASSWORD, role="ars",
                        departement="43")]
        xss_id = conn.execute(text(
            "INSERT INTO structures (source, source_id, name, category_code, sector, point, "
            "search_text) VALUES ('test-xss', :u, :n, '355', 'sanitaire', "
            "ST_SetSRID(ST_MakePoint(3.9, 45.05), 4326), 'structure piege xss') RETURNING id"),
            {"u": tag, "n": XSS}).scalar_one()
    app = create_app(database_url=communes_loaded.url.render_as_string(hide_password=False),
                     testing=True)
    with serve(app) as base, chromium() as driver:
        yield {"base": base, "driver": driver, "emails": emails}
    with communes_loaded.begin() as conn:
        remove_accounts(conn, ids)
        conn.execute(text("DELETE FROM structures WHERE id = :i"), {"i": xss_id})


def _login(site, who: str) -> None:
    sign_in(site["driver"], site["base"], site["emails"][who], PASSWORD)


def _upload(site, path: Path, name: str) -> str:
    from selenium.webdriver.common.by import By

    driver = site["driver"]
    driver.get(site["base"] + "/plans")
    driver.find_element(By.ID, "nom").send_keys(name)
    driver.find_element(By.ID, "fichier").send_keys(str(path))
    driver.find_element(By.CSS_SELECTOR, "form[enctype] button").click()
    _wait(driver, lambda d: "/plans/" in d.current_url and d.current_url.rstrip("/")[-1].isdigit())
    return driver.current_url


def test_search_shows_hospital_in_list_and_on_map(site) -> None:
    from selenium.webdriver.common.by import By

    driver = site["driver"]
    driver.get(site["base"] + "/recherche")
    box = driver.find_element(By.ID, "q")
    box.send_keys("hopital brioude")
    driver.find_element(By.CSS_SELECTOR, "#search-form button").click()
    _wait(driver, lambda d: "BRIOUDE" in d.find_element(By.ID, "results").text.upper())
    markers = driver.find_elements(By.CSS_SELECTOR, ".leaflet-marker-icon")
    assert markers, "no marker on the map"
    # The result's own button (keyboard-reachable) shows it on the map.
    first = driver.find_element(By.CSS_SELECTOR, "#results li .result-show")
    first.click()
    _wait(driver, lambda d: d.find_elements(By.CSS_SELECTOR, ".leaflet-popup-content"))
    # Only the app's own origin (and map tiles) are ever requested: no CDN.
    urls = driver.execute_script(
        "return performance.getEntriesByType('resource').map(function (e) { return e.name; });")
    foreign = [u for u in urls if not u.startswith(site["base"])
               and not u.startswith("https://data.geopf.fr/")]   # MAILLAGE_TILES default
    assert foreign == []
    assert any("/static/vendor/leaflet/leaflet.js" in u for u in urls)


def test_structure_name_with_markup_is_shown_as_text(site) -> None:
    from selenium.webdriver.common.by import By

    driver = site["driver"]
    driver.get(site["base"] + "/recherche")
    driver.find_element(By.ID, "q").send_keys("structure piege xss")
    driver.find_element(By.CSS_SELECTOR, "#search-form button").click()
    _wait(driver, lambda d: XSS in d.find_element(By.ID, "results").text)
    item = next(li for li in driver.find_elements(By.CSS_SELECTOR, "#results li")
                if XSS in li.text)
    item.click()
    # The popup opens after the cluster's zoom animation: wait for its text.
    _wait(driver, lambda d: any(XSS in p.text for p in
                                d.find_elements(By.CSS_SELECTOR, ".leaflet-popup-content")))
    assert driver.find_elements(By.CSS_SELECTOR, "#results img, .leaflet-popup-content img") == []
    driver.find_element(By.LINK_TEXT, "Voir la fiche").click()
    _wait(driver, lambda d: "/structure/" in d.current_url)
    assert driver.find_element(By.TAG_NAME, "h1").text == XSS
    assert driver.execute_script("return window.__xss === undefined")


def test_promoter_uploads_plan_and_sees_coverage(site, tmp_path: Path, shared_data: Path,
                                                 communes_43) -> None:
    from selenium.webdriver.common.by import By

    plan = plan_from_epci_grouping(
        shared_data / "territories" / "haute-loire-3-territoires-hypothese.csv",
        communes=communes_43, dept="43", seats=["43157", "43268", "43040"], name="x")
    path = tmp_path / "plan-navigateur.csv"
    write_plan_csv(plan, path, communes=communes_43)
    _login(site, "p1")
    url = _upload(site, path, "Plan navigateur")
    driver = site["driver"]
    assert driver.find_element(By.ID, "covered").text == "257/257"
    assert "Couverture complète et unique" in driver.page_source
    _wait(driver, lambda d: len(d.find_elements(By.CSS_SELECTOR, "#map path.leaflet-interactive")) >= 257)
    site["plan_url"] = url
    site["plan_path"] = path


def test_other_promoter_cannot_open_the_plan(site) -> None:
    from selenium.webdriver.common.by import By

    _login(site, "p2")
    driver = site["driver"]
    driver.get(site["plan_url"])
    assert "Erreur 403" in driver.find_element(By.TAG_NAME, "h1").text
    assert "Plan navigateur" not in driver.page_source


def test_ars_compares_two_overlapping_plans(site, tmp_path: Path) -> None:
    from selenium.webdriver.common.by import By

    rows = site["plan_path"].read_text(encoding="utf-8-sig").splitlines()
    partial = tmp_path / "concurrent.csv"
    partial.write_text("\n".join(rows[:6]) + "\n", encoding="utf-8")  # 5 overlapping communes
    driver = site["driver"]
    # The ARS compares submitted candidacies only: both promoters submit their plan.
    _upload(site, partial, "Plan concurrent")   # still logged in as p2
    driver.find_element(By.CSS_SELECTOR, "#submit-candidacy button").click()
    _wait(driver, lambda d: "/candidatures/" in d.current_url)
    _login(site, "p1")
    driver.get(site["plan_url"])
    driver.find_element(By.CSS_SELECTOR, "#submit-candidacy button").click()
    _wait(driver, lambda d: "/candidatures/" in d.current_url)
    _login(site, "ars")
    driver.get(site["base"] + "/ars/comparer")
    for label in driver.find_elements(By.CSS_SELECTOR, "fieldset label"):
        if "Plan navigateur" in label.text or "Plan concurrent" in label.text:
            label.find_element(By.TAG_NAME, "input").click()
    driver.find_element(By.CSS_SELECTOR, "form.form button").click()
    _wait(driver, lambda d: d.find_elements(By.ID, "overlaps"))
    overlaps = driver.find_elements(By.CSS_SELECTOR, "#overlaps tr")
    assert len(overlaps) == 1 + 5
    expected = [r.split(";")[0] for r in rows[1:6]]
    assert sorted(r.find_elements(By.TAG_NAME, "td")[0].text for r in overlaps[1:]) == sorted(expected)
