"""The search page and the editor in a real headless Chromium, on the real FINESS file:
a commune typed without picking it, the URL round trip, the place read in the query and
its undo, zero-result help, the opening filters, the editor's validation and history."""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from sqlalchemy import Engine, text

from directory.search import SearchQuery, search
from tests.browser import chromium, require_chromium, serve
from tests.browser import wait as _wait
from tests.test_search import import_real_directory
from web.accounts import add_user

PASSWORD = "mot-de-passe-recherche"
DEAD_TILES = "http://127.0.0.1:9/tuiles/{z}/{x}/{y}.png"


@pytest.fixture(scope="module")
def site(communes_loaded: Engine, shared_data: Path) -> Iterator[dict[str, Any]]:
    require_chromium()
    from web.app import create_app

    import_real_directory(communes_loaded, shared_data)
    email = f"editeur-{uuid.uuid4().hex[:8]}@recherche.test"
    with communes_loaded.begin() as conn:
        user_id = add_user(conn, email=email, password=PASSWORD, role="editeur",
                           departement="43")
    app = create_app(database_url=communes_loaded.url.render_as_string(hide_password=False),
                     testing=True, config={"MAILLAGE_TILE_URL": DEAD_TILES})
    try:
        with serve(app) as base, chromium() as driver:
            yield {"base": base, "driver": driver, "email": email, "engine": communes_loaded}
    finally:
        with communes_loaded.begin() as conn:
            conn.execute(text("DELETE FROM audit_log WHERE user_id = :i"), {"i": user_id})
            conn.execute(text("DELETE FROM users WHERE id = :i"), {"i": user_id})


def _by_id(driver: Any, node_id: str) -> Any:
    from selenium.webdriver.common.by import By

    return driver.find_element(By.ID, node_id)


def _status(driver: Any) -> str:
    return str(_by_id(driver, "status").text)


def _settled(driver: Any) -> str:
    """Wait until the search answered; returns the status text."""
    _wait(driver, lambda d: _status(d) and "en cours" not in _status(d)
          and "Recherche de la commune" not in _status(d))
    return _status(driver)


def _total(status: str) -> int:
    found = re.match(r"([\d\u202f ]+) résultats?", status)
    return int(re.sub(r"\D", "", found.group(1))) if found else 0


def _submit(driver: Any) -> None:
    from selenium.webdriver.common.by import By

    driver.find_element(By.CSS_SELECTOR, "#search-form button[type=submit]").click()


def _params(driver: Any) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(urlsplit(driver.current_url).query).items()}


def _api_total(site: dict[str, Any], **kwargs: Any) -> int:
    with site["engine"].connect() as conn:
        return int(search(conn, SearchQuery(**kwargs))["total"])


def test_typed_commune_without_picking_is_resolved(site) -> None:
    driver = site["driver"]
    driver.get(site["base"] + "/recherche")
    _settled(driver)
    _by_id(driver, "q").send_keys("ehpad")
    _by_id(driver, "commune-input").send_keys("Brioude")
    _submit(driver)
    _wait(driver, lambda d: "autour de Brioude (43040)" in _status(d))
    status = _settled(driver)
    assert _total(status) == _api_total(site, q="ehpad", commune="43040", radius_km=20) < 71
    assert _params(driver)["commune"] == "43040"
    assert _by_id(driver, "commune-input").get_attribute("value") == "Brioude (43040)"
    # Several communes: the user picks; none: a message next to the field, no search.
    field = _by_id(driver, "commune-input")
    field.clear()
    field.send_keys("saint")
    _submit(driver)
    _wait(driver, lambda d: _by_id(d, "commune-choices").is_displayed())
    from selenium.webdriver.common.by import By

    choice = driver.find_elements(By.CSS_SELECTOR, "#commune-choices button")[0]
    label = choice.text
    choice.click()
    _wait(driver, lambda d: "autour" in _status(d) and "en cours" not in _status(d))
    assert _by_id(driver, "commune-input").get_attribute("value") == label
    field = _by_id(driver, "commune-input")
    field.clear()
    field.send_keys("Zzzzville")
    _submit(driver)
    _wait(driver, lambda d: _by_id(d, "commune-error").is_displayed())
    assert "Aucune commune ne s'appelle « Zzzzville »" in _by_id(driver, "commune-error").text
    assert _by_id(driver, "commune-input").get_attribute("aria-invalid") == "true"
    # Without JavaScript's help (a typed link), the server resolves it too.
    driver.get(site["base"] + "/recherche?q=ehpad&commune=brioude")
    _wait(driver, lambda d: "autour de Brioude (43040)" in _status(d))
    driver.get(site["base"] + "/recherche?commune=zzzz")
    assert _by_id(driver, "commune-error").is_displayed()
    assert _status(driver) == "Précisez la commune."


def test_url_round_trip_and_back_from_the_card(site) -> None:
    from selenium.webdriver.common.by import By

    driver = site["driver"]
    url = "/recherche?q=ehpad&commune=43157&rayon=10&secteur=medico-social"
    driver.get(site["base"] + url)
    status = _settled(driver)
    expected = _api_total(site, q="ehpad", commune="43157", radius_km=10,
                          sector="medico-social")
    assert _total(status) == expected > 0
    assert _by_id(driver, "radius_km").get_attribute("value") == "10"
    assert _by_id(driver, "sector").get_attribute("value") == "medico-social"
    assert _params(driver) == {"q": "ehpad", "commune": "43157", "rayon": "10",
                               "secteur": "medico-social"}
    driver.find_element(By.CSS_SELECTOR, "#results li .result-foot a").click()
    _wait(driver, lambda d: "/structure/" in d.current_url)
    assert "km à vol d'oiseau du Puy-en-Velay (43157)" in _by_id(driver, "distance").text
    _by_id(driver, "back").click()
    _wait(driver, lambda d: "/recherche" in d.current_url)
    assert _total(_settled(driver)) == expected
    assert _params(driver)["rayon"] == "10" and _params(driver)["commune"] == "43157"
    assert _by_id(driver, "q").get_attribute("value") == "ehpad"


def test_place_read_in_the_query_can_be_undone(site) -> None:
    driver = site["driver"]
    driver.get(site["base"] + "/recherche")
    _settled(driver)
    _by_id(driver, "q").send_keys("ehpad brioude")
    _submit(driver)
    _wait(driver, lambda d: _by_id(d, "place").is_displayed())
    around = _total(_settled(driver))
    assert "Commune lue dans votre recherche : Brioude (43040)." in _by_id(driver, "place").text
    assert around == _api_total(site, q="ehpad brioude")
    _by_id(driver, "place-undo").click()
    _wait(driver, lambda d: not _by_id(d, "place").is_displayed())
    plain = _total(_settled(driver))
    assert plain == _api_total(site, q="ehpad brioude", understand=False) < around
    assert _params(driver)["lieu"] == "0"


def test_zero_results_offer_help(site) -> None:
    from selenium.webdriver.common.by import By

    driver = site["driver"]
    driver.get(site["base"] + "/recherche?q=dentiste+brioude&rayon=5")
    _wait(driver, lambda d: _by_id(d, "help").is_displayed())
    assert _status(driver).startswith("Aucun résultat autour de Brioude (43040)")
    help_text = _by_id(driver, "help").text
    assert "Aucune ressource ne correspond à « dentiste »" in help_text
    assert driver.find_elements(By.CSS_SELECTOR, "#help .help-closest a")
    widen = next(b for b in driver.find_elements(By.CSS_SELECTOR, "#help button")
                 if b.text.startswith("Élargir le rayon à 30 km"))
    widen.click()
    _wait(driver, lambda d: _total(_status(d)) > 0)
    assert not _by_id(driver, "help").is_displayed()
    assert _params(driver)["rayon"] == "30"


def test_open_filters(site) -> None:
    from selenium.webdriver.support.ui import Select

    driver = site["driver"]
    driver.get(site["base"] + "/recherche?q=france+services&rayon=0")
    everyone = _total(_settled(driver))
    monday = date(2026, 11, 23)
    Select(_by_id(driver, "ouvert")).select_by_visible_text("Ouvert le…")
    driver.execute_script(
        "var d = document.getElementById('ouvert-le'); d.value = arguments[0];"
        "d.dispatchEvent(new Event('change'));", monday.isoformat())
    _wait(driver, lambda d: _params(d).get("ouvert") == monday.isoformat())
    open_monday = _total(_settled(driver))
    assert open_monday == _api_total(site, q="france services", open_on=monday) > 0
    assert open_monday < everyone
    sunday = date(2026, 11, 29)
    driver.execute_script(
        "var d = document.getElementById('ouvert-le'); d.value = arguments[0];"
        "d.dispatchEvent(new Event('change'));", sunday.isoformat())
    _wait(driver, lambda d: _params(d).get("ouvert") == sunday.isoformat())
    assert _total(_settled(driver)) == _api_total(site, q="france services", open_on=sunday) \
        < open_monday
    Select(_by_id(driver, "ouvert")).select_by_visible_text("Ouvert maintenant")
    _wait(driver, lambda d: _params(d).get("ouvert") == "maintenant")
    status = _settled(driver)
    from directory.search import now_in_france

    assert _total(status) == _api_total(site, q="france services", open_at=now_in_france())
    if _total(status) == 0:   # outside opening hours: the help offers to drop the filter
        assert "Retirer le filtre d'ouverture" in _by_id(driver, "help").text


def test_editor_validation_and_history(site) -> None:
    from selenium.webdriver.common.by import By

    driver = site["driver"]
    driver.delete_all_cookies()
    driver.get(site["base"] + "/connexion")
    _by_id(driver, "email").send_keys(site["email"])
    _by_id(driver, "password").send_keys(PASSWORD)
    driver.find_element(By.CSS_SELECTOR, "form.form button").click()
    _wait(driver, lambda d: "/connexion" not in d.current_url)
    with site["engine"].connect() as conn:
        sid = conn.execute(text("SELECT id FROM structures WHERE finess_et = '430000356'"
                                )).scalar_one()
    driver.get(f"{site['base']}/structure/{sid}/modifier")
    phone = _by_id(driver, "phone")
    phone.clear()
    phone.send_keys("abc")
    website = _by_id(driver, "website")
    website.clear()
    website.send_keys("javascript:alert(1)")
    driver.find_element(By.CSS_SELECTOR, ".edit-form button[type=submit]").click()
    _wait(driver, lambda d: d.find_elements(By.ID, "phone-error"))
    assert _by_id(driver, "phone-error").text.startswith("Téléphone : ")
    assert _by_id(driver, "website-error").text.startswith("Site web : ")
    assert _by_id(driver, "phone").get_attribute("aria-invalid") == "true"
    phone = _by_id(driver, "phone")
    phone.clear()
    phone.send_keys("04.71.65.71.71")
    _by_id(driver, "website").clear()
    hours = _by_id(driver, "opening_hours")
    hours.clear()
    hours.send_keys("lundi-vendredi 9h-12h, 14h-17h")
    driver.find_element(By.CSS_SELECTOR, ".edit-form button[type=submit]").click()
    _wait(driver, lambda d: re.search(rf"/structure/{sid}$", d.current_url))
    assert _by_id(driver, "hours").text == "lundi–vendredi 9 h–12 h, 14 h–17 h"
    assert _by_id(driver, "phone").get_attribute("href") == "tel:0471657171"
    history = _by_id(driver, "history").text
    assert site["email"] in history and "04 71 65 71 71" in history
    assert "Mo-Fr 09:00-12:00,14:00-17:00" in history
    assert _by_id(driver, "verified").text != date.today().strftime("%d/%m/%Y")
    _by_id(driver, "verify").click()
    _wait(driver, lambda d: _by_id(d, "verified").text == date.today().strftime("%d/%m/%Y"))
    assert "Vérifiée le" in _by_id(driver, "history").text
    # Still found by the query that found it before the edit.
    driver.get(site["base"] + "/recherche?q=hopital+ysingeaux")
    _settled(driver)
    assert any(li.get_attribute("data-id") == str(sid)
               for li in driver.find_elements(By.CSS_SELECTOR, "#results li"))


def test_capped_total_says_plus_de(site, monkeypatch: pytest.MonkeyPatch) -> None:
    """Past the ranking cap (1,000; 30 here) the page says « Plus de » and how to narrow."""
    import directory.search as search_module

    monkeypatch.setattr(search_module, "MAX_RANKED", 30)
    driver = site["driver"]
    driver.get(site["base"] + "/recherche?q=centre")
    status = _settled(driver)
    assert status.startswith("Plus de 30 résultats"), status
    assert "précisez la recherche (un lieu, une catégorie)" in status
