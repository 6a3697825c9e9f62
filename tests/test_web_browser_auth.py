"""The web foundation in a real headless Chromium: home, login, search page assets, XSS.

Set ``MAILLAGE_SCREENSHOT_DIR`` to keep screenshots of the pages (desktop and phone).
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, text

from directory.gisco import read_gisco_hospitals
from directory.store import sync_categories, upsert
from directory.taxonomy import load_categories
from geo.db import session_scope
from tests.browser import chromium, require_chromium, resource_urls, serve
from tests.browser import wait as _wait
from web.accounts import add_user

PASSWORD = "mot-de-passe-du-navigateur"
XSS_NAME = "<img src=x onerror=alert(1)>"
# Nothing listens on port 9 (discard): the tile server is unreachable, deterministically.
DEAD_TILES = "http://127.0.0.1:9/tuiles/{z}/{x}/{y}.png"


@pytest.fixture(scope="module")
def site(communes_loaded: Engine, shared_data: Path) -> Iterator[dict[str, Any]]:
    require_chromium()
    from web.app import create_app

    with session_scope(communes_loaded) as session:
        sync_categories(session, load_categories(shared_data))
        upsert(session, read_gisco_hospitals(
            shared_data / "health" / "gisco_healthcare_FR_2020_hospitals_43_63.csv"),
            source_label="gisco")
    email = f"xss-{uuid.uuid4().hex[:8]}@navigateur.test"
    with communes_loaded.begin() as conn:
        user_id = add_user(conn, email=email, password=PASSWORD, role="promoteur",
                           departement="43", name=XSS_NAME)
    app = create_app(database_url=communes_loaded.url.render_as_string(hide_password=False),
                     testing=True, config={"MAILLAGE_TILE_URL": DEAD_TILES})
    try:
        with serve(app) as base, chromium() as driver:
            yield {"base": base, "driver": driver, "email": email}
    finally:
        with communes_loaded.begin() as conn:
            conn.execute(text("DELETE FROM users WHERE id = :i"), {"i": user_id})


def _screenshot(driver: Any, name: str) -> None:
    folder = os.environ.get("MAILLAGE_SCREENSHOT_DIR")
    if folder:
        Path(folder).mkdir(parents=True, exist_ok=True)
        driver.save_screenshot(str(Path(folder) / name))


def _foreign(urls: list[str], base: str) -> list[str]:
    """Requests to another origin than the app's, map tiles excepted."""
    tiles = DEAD_TILES.split("/tuiles/")[0] + "/tuiles/"
    return [u for u in urls if not u.startswith(base + "/") and not u.startswith(tiles)]


def _no_alert(driver: Any) -> bool:
    from selenium.common.exceptions import NoAlertPresentException

    try:
        driver.switch_to.alert.dismiss()
    except NoAlertPresentException:
        return True
    return False


def test_home_page_renders(site: dict[str, Any]) -> None:
    from selenium.webdriver.common.by import By

    driver = site["driver"]
    driver.delete_all_cookies()
    driver.get(site["base"] + "/")
    assert driver.title == "Accueil — Maillage"
    assert driver.find_element(By.TAG_NAME, "h1").text == "Maillage des territoires de santé"
    cards = driver.find_elements(By.CSS_SELECTOR, ".cards .card h2")
    assert [c.text for c in cards] == ["Professionnels", "Promoteurs de DAC",
                                       "Agence régionale de santé"]
    # The stylesheet applied: the main title of the brand is the public-service blue.
    colour = driver.find_element(By.CSS_SELECTOR, ".brand-name").value_of_css_property("color")
    assert colour in {"rgba(0, 0, 145, 1)", "rgb(0, 0, 145)"}
    assert _foreign(resource_urls(driver), site["base"]) == []
    _screenshot(driver, "maillage-accueil.png")


def test_login_with_wrong_then_right_password(site: dict[str, Any]) -> None:
    from selenium.webdriver.common.by import By

    driver = site["driver"]
    driver.delete_all_cookies()
    for password in ("pas-le-bon-mot-de-passe", PASSWORD):
        driver.get(site["base"] + "/connexion")
        driver.find_element(By.ID, "email").clear()
        driver.find_element(By.ID, "email").send_keys(site["email"])
        driver.find_element(By.ID, "password").send_keys(password)
        driver.find_element(By.CSS_SELECTOR, "form.form button[type=submit]").click()
        if password != PASSWORD:
            _wait(driver, lambda d: d.find_elements(By.CSS_SELECTOR, ".flash.erreur"))
            assert "Adresse ou mot de passe incorrect" in driver.page_source
    _wait(driver, lambda d: "/connexion" not in d.current_url)
    # The display name is markup-like: it must show as text, run nothing, add no image.
    who = driver.find_element(By.CSS_SELECTOR, "header .who-name")
    assert who.text == XSS_NAME
    assert driver.find_elements(By.CSS_SELECTOR, "header img, main img") == []
    assert _no_alert(driver)
    driver.find_element(By.CSS_SELECTOR, "header form.inline button").click()
    _wait(driver, lambda d: d.find_elements(By.LINK_TEXT, "Se connecter"))
    assert "Vous êtes déconnecté" in driver.page_source


def test_search_page_loads_leaflet_locally_and_shows_markers_without_tiles(
        site: dict[str, Any]) -> None:
    from selenium.webdriver.common.by import By

    driver = site["driver"]
    driver.get(site["base"] + "/recherche")
    _wait(driver, lambda d: "résultat" in d.find_element(By.ID, "status").text)
    assert driver.execute_script("return typeof L === 'object' && typeof L.markerClusterGroup")\
        == "function"
    # Markers (or clusters) are drawn although no tile could be fetched.
    _wait(driver, lambda d: d.find_elements(By.CSS_SELECTOR, ".leaflet-marker-icon"))
    _wait(driver, lambda d: d.find_element(By.ID, "map-note").is_displayed())
    assert driver.find_elements(By.CSS_SELECTOR, "#results li")
    urls = resource_urls(driver)
    assert _foreign(urls, site["base"]) == []
    for path in ("/static/vendor/leaflet/leaflet.js", "/static/vendor/leaflet/leaflet.css",
                 "/static/vendor/leaflet.markercluster/leaflet.markercluster.js",
                 "/api/v1/search?", "/api/v1/categories"):
        assert any(u.startswith(site["base"] + path) for u in urls), path
    _screenshot(driver, "maillage-recherche.png")


def test_search_list_and_map_stay_in_step(site: dict[str, Any]) -> None:
    from selenium.webdriver.common.action_chains import ActionChains
    from selenium.webdriver.common.by import By

    driver = site["driver"]
    driver.get(site["base"] + "/recherche?q=hopital+brioude")
    _wait(driver, lambda d: "BRIOUDE" in d.find_element(By.ID, "results").text.upper())
    assert driver.find_element(By.ID, "q").get_attribute("value") == "hopital brioude"
    driver.find_element(By.CSS_SELECTOR, "#results li .result-show").click()
    _wait(driver, lambda d: "BRIOUDE" in " ".join(
        p.text.upper() for p in d.find_elements(By.CSS_SELECTOR, ".leaflet-popup-content")))
    assert "active" in driver.find_element(By.CSS_SELECTOR, "#results li").get_attribute("class")
    # Dragging the map (from a corner, away from the popup) searches in the area shown.
    map_node = driver.find_element(By.ID, "map")
    driver.execute_script("arguments[0].scrollIntoView({block: 'start'});", map_node)
    corner = (map_node.rect["width"] // 2 - 200, -map_node.rect["height"] // 2 + 60)
    ActionChains(driver).move_to_element_with_offset(map_node, *corner).click_and_hold() \
        .move_by_offset(60, 20).move_by_offset(60, 20).release().perform()
    _wait(driver, lambda d: "zone affichée" in d.find_element(By.ID, "status").text)
    last = [u for u in resource_urls(driver) if "/api/v1/search?" in u][-1]
    assert "lat=" in last and "lon=" in last and "radius_km=" in last


def test_search_page_on_a_phone(site: dict[str, Any]) -> None:
    from selenium.webdriver.common.by import By

    driver = site["driver"]
    driver.set_window_size(390, 844)
    try:
        driver.get(site["base"] + "/recherche")
        _wait(driver, lambda d: "résultat" in d.find_element(By.ID, "status").text)
        # One column, nothing wider than the screen.
        width = driver.execute_script("return document.documentElement.scrollWidth")
        viewport = driver.execute_script("return window.innerWidth")
        assert width <= viewport
        map_box = driver.find_element(By.ID, "map").rect
        list_box = driver.find_element(By.ID, "results").rect
        assert map_box["y"] < list_box["y"] and map_box["width"] >= viewport * 0.85
        _screenshot(driver, "maillage-recherche-mobile.png")
    finally:
        driver.set_window_size(1280, 900)
