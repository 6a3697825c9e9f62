"""Maps in a real headless Chromium with the network unplugged (loopback only).

The default online background (Plan IGN) cannot load: the pages must still show our own
base map, the offline notice, a legend naming every symbol, the same antenna colours on
the plan page, the comparison page and the report, and the report's map on the first
printed page. Screenshots and the PDF are kept in ``var/test-artefacts/``.
"""

from __future__ import annotations

import base64
import io
import re
import uuid
from pathlib import Path

import pytest
from sqlalchemy import Engine

from coverage.maplayers import antenna_colours
from coverage.territories import plan_from_epci_grouping
from directory.gisco import read_gisco_hospitals
from directory.store import sync_categories, upsert
from directory.taxonomy import load_categories
from geo import settings
from geo.db import session_scope
from tests.browser import chromium, require_chromium, serve, sign_in
from tests.browser import wait as _wait
from tests.webclient import remove_accounts
from web.accounts import add_user

PASSWORD = "mot-de-passe-cartes"
ARTEFACTS = settings.PROJECT_ROOT / "var" / "test-artefacts"
SEATS = ["43157", "43268", "43040"]
XSS = "<img src=x onerror=window.__xss=1>"


@pytest.fixture(scope="module")
def site(communes_loaded: Engine, shared_data: Path, communes_43):
    require_chromium()
    from coverage.store import save_plan
    from web.app import create_app

    ARTEFACTS.mkdir(parents=True, exist_ok=True)
    with session_scope(communes_loaded) as session:
        sync_categories(session, load_categories(shared_data))
        upsert(session, read_gisco_hospitals(
            shared_data / "health" / "gisco_healthcare_FR_2020_hospitals_43_63.csv"),
            source_label="gisco")
    tag = uuid.uuid4().hex[:8]
    emails = {k: f"{k}-{tag}@cartes.test" for k in ("p1", "ars")}
    with communes_loaded.begin() as conn:
        ids = [add_user(conn, email=emails["p1"], password=PASSWORD, role="promoteur",
                        departement="43"),
               add_user(conn, email=emails["ars"], password=PASSWORD, role="ars",
                        departement="43")]
    demo = plan_from_epci_grouping(
        shared_data / "territories" / "haute-loire-3-territoires-hypothese.csv",
        communes=communes_43, dept="43", seats=SEATS, name=f"Plan démo {tag}")
    other = plan_from_epci_grouping(
        shared_data / "territories" / "haute-loire-3-territoires-hypothese.csv",
        communes=communes_43, dept="43", seats=SEATS, name=f"Plan rival {tag} {XSS}")
    other.antennas = other.antennas[:2]
    other.antennas[0].name = f"Antenne {XSS}"   # names come from users' files
    from coverage.candidacy import submit_plan

    with session_scope(communes_loaded) as session:
        demo_id = save_plan(session, demo, owner_id=ids[0])
        other_id = save_plan(session, other, owner_id=ids[0])
        # The ARS compares submitted candidacies only (drafts stay private).
        for plan_id in (demo_id, other_id):
            submit_plan(session, plan_id, user_id=ids[0], user_name="Promoteur cartes",
                        organisation_id=None, organisation_name=None)
    app = create_app(database_url=communes_loaded.url.render_as_string(hide_password=False),
                     testing=True, config={"MAILLAGE_TILES": "ign"})
    with serve(app) as base, chromium(offline=True, window_size=(1280, 1000)) as driver:
        yield {"base": base, "driver": driver, "emails": emails, "demo": demo,
               "demo_id": demo_id, "other_id": other_id,
               "colours": antenna_colours(demo, communes_43)}
    with communes_loaded.begin() as conn:
        remove_accounts(conn, ids)


def _login(site, who: str) -> None:
    sign_in(site["driver"], site["base"], site["emails"][who], PASSWORD)


def _shot(driver, name: str) -> Path:
    path = ARTEFACTS / name
    driver.save_screenshot(str(path))
    return path


def _visible_labels(driver) -> list[str]:
    """Town names drawn inside the visible map frame."""
    labels: list[str] = driver.execute_script(
        "var box = document.getElementById('map').getBoundingClientRect();"
        "return Array.from(document.querySelectorAll('#map .place-label')).filter(function (e) {"
        " var r = e.getBoundingClientRect(); return r.width > 0 && r.left >= box.left &&"
        " r.right <= box.right && r.top >= box.top && r.bottom <= box.bottom; })"
        ".map(function (e) { return e.textContent; });")
    return labels


def test_search_offline_shows_our_base_map(site) -> None:
    from selenium.webdriver.common.by import By

    driver = site["driver"]
    driver.get(site["base"] + "/recherche")
    _wait(driver, lambda d: d.find_element(By.ID, "map").get_attribute("data-basemap") == "1")
    driver.find_element(By.ID, "q").send_keys("hopital brioude")
    driver.find_element(By.CSS_SELECTOR, "#search-form button").click()
    _wait(driver, lambda d: "BRIOUDE" in d.find_element(By.ID, "results").text.upper())
    _wait(driver, lambda d: d.find_elements(By.CSS_SELECTOR, ".leaflet-marker-icon"))
    # The Plan IGN tiles cannot load: the notice says so, in words.
    note = driver.find_element(By.ID, "map-note")
    _wait(driver, lambda d: note.is_displayed())
    assert "Fond de carte indisponible : affichage hors ligne" in note.text
    # Our own base map is drawn under the markers: outlines, boundaries, town names.
    pane = driver.find_element(By.CSS_SELECTOR, "#map .leaflet-basemap-pane")
    assert len(pane.find_elements(By.CSS_SELECTOR, "path")) >= 4   # 2 outlines + communes
    _wait(driver, lambda d: len(_visible_labels(d)) >= 3)
    labels = _visible_labels(driver)
    assert "Brioude" in labels, labels
    z_labels = driver.execute_script(
        "return Number(getComputedStyle(document.querySelector('.leaflet-labels-pane')).zIndex)")
    z_markers = driver.execute_script(
        "return Number(getComputedStyle(document.querySelector('.leaflet-marker-pane')).zIndex)")
    z_base = driver.execute_script(
        "return Number(getComputedStyle(document.querySelector('.leaflet-basemap-pane')).zIndex)")
    assert z_base < z_markers, "the base map must be under the markers"
    assert z_labels > z_base
    # Leaflet speaks French, and the map is reachable from the keyboard.
    assert driver.find_element(By.CSS_SELECTOR, ".leaflet-control-zoom-in").get_attribute(
        "title") == "Zoom avant"
    assert driver.find_element(By.CSS_SELECTOR, ".leaflet-control-zoom-out").get_attribute(
        "title") == "Zoom arrière"
    assert driver.find_element(By.ID, "map").get_attribute("tabindex") == "0"
    markers = driver.find_elements(By.CSS_SELECTOR, ".leaflet-marker-icon")
    assert all(m.get_attribute("alt") != "Marker" for m in markers)
    # The list next to the map gives the same results.
    assert driver.find_elements(By.CSS_SELECTOR, "#results li")
    # The legend names the markers, the clusters and the base map's lines.
    assert [e["key"] for e in _legend(driver)] == ["resource", "cluster", "departement",
                                                   "commune"]
    # Zoom out with the keyboard to the département: outline, boundaries, names.
    driver.execute_script("document.getElementById('map').scrollIntoView();")
    node = driver.find_element(By.ID, "map")
    for _ in range(4):
        node.send_keys("-")
    _wait(driver, lambda d: len(_visible_labels(d)) >= 8, timeout=45)
    assert driver.find_element(By.CSS_SELECTOR, "#map .map-offline").is_displayed()
    _shot(driver, "recherche-hors-ligne.png")
    # Nothing was fetched from another origin but the (failing) tile server.
    urls = driver.execute_script(
        "return performance.getEntriesByType('resource').map(function (e) { return e.name; });")
    assert [u for u in urls if not u.startswith(site["base"])
            and not u.startswith("https://data.geopf.fr/")] == []


def _legend(driver) -> list[dict[str, str]]:
    return driver.execute_script(
        "return Array.from(document.querySelectorAll('#map .legend-row')).map(function (r) {"
        " return {key: r.dataset.key, antenna: r.dataset.antenna || '',"
        " colour: r.dataset.colour, label: r.textContent}; });")


def test_plan_page_legend_names_every_symbol(site) -> None:
    from selenium.webdriver.common.by import By

    _login(site, "p1")
    driver = site["driver"]
    driver.get(f"{site['base']}/plans/{site['demo_id']}")
    _wait(driver, lambda d: d.find_element(By.ID, "map").get_attribute("data-ready") == "1")
    legend = _legend(driver)
    keys = [e["key"] for e in legend]
    # Every symbol drawn has its words: antennas, seat, uncovered, duplicate, beyond, outline.
    assert keys.count("antenna") == 3
    for key in ("seat", "uncovered", "duplicate", "beyond", "departement"):
        assert key in keys, keys
    assert [k for k in keys if k.startswith("isochrone")] == [
        "isochrone-15", "isochrone-30", "isochrone-45"]
    beyond = next(e for e in legend if e["key"] == "beyond")
    assert "au-delà de 30 min — temps estimés à vol d'oiseau" in beyond["label"]
    # The beyond-threshold outline is dashed and not red (red means « en double »).
    dashed = driver.find_elements(By.CSS_SELECTOR, "#map path[stroke-dasharray='5 4']")
    n_beyond = int(re.search(r"\((\d+) communes?\)", beyond["label"]).group(1))
    assert n_beyond > 0 and len(dashed) == n_beyond
    assert {p.get_attribute("stroke") for p in dashed} == {"#1a1a1a"}
    # Seats are drawn, in the antenna's colour, with the antenna's name.
    seats = driver.find_elements(By.CSS_SELECTOR, "#map path.seat")
    assert len(seats) == 3
    names = [t.text for t in driver.find_elements(By.CSS_SELECTOR, ".seat-label")]
    assert sorted(names) == sorted(site["colours"])
    assert sorted(s.get_attribute("fill") for s in seats) == sorted(site["colours"].values())
    # Colours: legend, table and the server's colouring agree; all distinct here.
    legend_colours = {e["antenna"]: e["colour"] for e in legend if e["key"] == "antenna"}
    assert legend_colours == site["colours"]
    table = {r.get_attribute("data-antenna"):
             r.find_element(By.CSS_SELECTOR, ".swatch").get_attribute("data-colour")
             for r in driver.find_elements(By.CSS_SELECTOR, "#antennas tr[data-antenna]")}
    assert table == site["colours"]
    # Filled communes use exactly the antenna colours (no colour outside the legend).
    fills = set(driver.execute_script(
        "return Array.from(document.querySelectorAll('#map .leaflet-overlay-pane path'))"
        ".map(function (p) { return p.getAttribute('fill'); });"))
    assert fills - {"none"} <= set(site["colours"].values()) | {"url(#maillage-hachures)",
                                                               "#d7191c"}
    note = driver.find_element(By.CSS_SELECTOR, "#map .map-offline")
    _wait(driver, lambda d: note.is_displayed())
    assert note.text == "fond de carte indisponible : affichage hors ligne"
    # Isochrones are toggleable layers, off at first.
    assert driver.find_elements(By.CSS_SELECTOR, "#map path.isochrone") == []
    driver.find_element(By.CSS_SELECTOR, ".leaflet-control-layers-toggle").click()
    for label in driver.find_elements(By.CSS_SELECTOR, ".leaflet-control-layers-overlays label"):
        if "Isochrone 30 min" in label.text:
            label.find_element(By.TAG_NAME, "input").click()
    _wait(driver, lambda d: len(d.find_elements(By.CSS_SELECTOR, "#map path.isochrone")) == 1)
    # Town names from our data; a seat's town is named by the seat's own label.
    labels = _visible_labels(driver)
    assert "Monistrol-sur-Loire" in labels and "Le Puy-en-Velay" not in labels
    _shot(driver, "plan-demo.png")
    # A plan whose names carry markup: seat labels, legend and layers show it as text.
    driver.get(f"{site['base']}/plans/{site['other_id']}")
    _wait(driver, lambda d: d.find_element(By.ID, "map").get_attribute("data-ready") == "1")
    assert any(XSS in t.text for t in driver.find_elements(By.CSS_SELECTOR, ".seat-label"))
    assert any(XSS in e["label"] for e in _legend(driver))
    assert driver.execute_script("return window.__xss === undefined")


def _choose_view(driver, name: str) -> str:
    """Pick a base view in the layer control (opened if needed); its label text."""
    from selenium.webdriver.common.by import By

    if not driver.find_elements(By.CSS_SELECTOR, ".leaflet-control-layers-expanded"):
        driver.find_element(By.CSS_SELECTOR, ".leaflet-control-layers-toggle").click()
    for label in driver.find_elements(By.CSS_SELECTOR, ".leaflet-control-layers-base label"):
        if name in label.text:
            label.find_element(By.TAG_NAME, "input").click()
            return str(label.text)
    raise AssertionError(f"no view {name!r}")


def test_colours_equal_on_comparison_and_report(site) -> None:
    from selenium.webdriver.common.by import By

    _login(site, "ars")
    driver = site["driver"]
    driver.get(f"{site['base']}/ars/comparer?plans={site['demo_id']}&plans={site['other_id']}")
    _wait(driver, lambda d: d.find_element(By.ID, "map").get_attribute("data-ready") == "1")
    table = {r.get_attribute("data-antenna"):
             r.find_element(By.CSS_SELECTOR, ".swatch").get_attribute("data-colour")
             for r in driver.find_elements(
                 By.CSS_SELECTOR, f"#plan-antennas tr[data-plan='{site['demo_id']}']")}
    assert table == site["colours"]
    # Show the demo plan on the comparison map: its legend uses the same colours.
    _choose_view(driver, site["demo"].name)
    _wait(driver, lambda d: any(e["key"] == "antenna" for e in _legend(d)))
    assert {e["antenna"]: e["colour"] for e in _legend(driver)
            if e["key"] == "antenna"} == site["colours"]
    seats = driver.find_elements(By.CSS_SELECTOR, "#map path.seat")
    assert sorted(s.get_attribute("fill") for s in seats) == sorted(site["colours"].values())
    assert "seat" in [e["key"] for e in _legend(driver)]
    _shot(driver, "comparaison.png")
    # The rival's names (markup) are shown as text in the layer control and legend.
    assert XSS in _choose_view(driver, "Plan rival")
    _wait(driver, lambda d: any(XSS in e["label"] for e in _legend(d)))
    assert driver.execute_script("return window.__xss === undefined")
    assert driver.find_elements(By.CSS_SELECTOR, "#map img[src='x']") == []
    driver.get(f"{site['base']}/plans/{site['demo_id']}/rapport")
    circles = driver.find_elements(By.CSS_SELECTOR, "#carte svg circle[data-antenna]")
    assert {c.get_attribute("data-antenna"): c.get_attribute("fill") for c in circles} \
        == site["colours"]


def test_report_prints_the_map_on_its_first_page(site) -> None:
    from pypdf import PdfReader
    from selenium.webdriver.common.by import By

    _login(site, "p1")
    driver = site["driver"]
    driver.get(f"{site['base']}/plans/{site['demo_id']}/rapport")
    assert driver.find_elements(By.CSS_SELECTOR, "#carte svg")
    for label in ("Annexe 1 (CSV)", "Annexe 1 (XLSX)", "Carte interactive (HTML)"):
        assert driver.find_element(By.LINK_TEXT, label)
    pdf = base64.b64decode(driver.execute_cdp_cmd("Page.printToPDF", {
        "paperWidth": 8.27, "paperHeight": 11.69, "preferCSSPageSize": True,
        "printBackground": True})["data"])
    (ARTEFACTS / "rapport.pdf").write_bytes(pdf)
    reader = PdfReader(io.BytesIO(pdf))
    first = reader.pages[0].extract_text()
    # The map's own words are on page 1: legend, antennas, scale, north, sources.
    for words in ("Légende", "Siège d'antenne", "au-delà de 30 min", " km", "N",
                  "Lambert-93", *site["colours"]):
        assert words in first, (words, first[:500])
    box = reader.pages[0].mediabox
    assert abs(float(box.width) - 595) < 3 and abs(float(box.height) - 842) < 3  # A4


def test_folium_export_works_offline(site, tmp_path: Path, communes_43) -> None:
    from selenium.webdriver.common.by import By

    from coverage.checks import check_plan
    from coverage.drivetimes import plan_drive_times
    from coverage.mapping import build_map, save_map

    plan = site["demo"]
    check = check_plan(plan, communes_43, drive_times=plan_drive_times(plan, communes_43))
    path = save_map(build_map(plan, communes_43, check), tmp_path / "carte.html")
    driver = site["driver"]
    driver.get(path.as_uri())
    _wait(driver, lambda d: len(d.find_elements(By.CSS_SELECTOR, ".leaflet-sieges-pane path")) == 3)
    errors = [e for e in driver.get_log("browser") if e["source"] == "javascript"]
    assert errors == []
    # Same colours as the web pages, seats drawn over the names, French controls.
    fills = sorted(p.get_attribute("fill") for p in
                   driver.find_elements(By.CSS_SELECTOR, ".leaflet-sieges-pane path"))
    assert fills == sorted(site["colours"].values())
    assert driver.find_element(By.CSS_SELECTOR, ".leaflet-control-zoom-in").get_attribute(
        "title") == "Zoom avant"
    legend = driver.find_element(By.ID, "maillage-legend").text
    for name in site["colours"]:
        assert name in legend
    assert "au-delà de 30 min — temps estimés à vol d'oiseau" in legend
    # Popups work without jQuery; the offline notice shows when no tile loads.
    driver.execute_script(
        "var p = document.querySelector('.leaflet-sieges-pane path');"
        "p.dispatchEvent(new MouseEvent('click', {bubbles: true}));")
    _wait(driver, lambda d: "Siège" in " ".join(
        e.text for e in d.find_elements(By.CSS_SELECTOR, ".leaflet-popup-content")))
    close = driver.find_element(By.CSS_SELECTOR, ".leaflet-popup-close-button")
    assert close.get_attribute("aria-label") == "Fermer la bulle"
    _wait(driver, lambda d: d.find_element(By.ID, "maillage-offline").is_displayed(), timeout=15)
    assert len(driver.find_elements(By.CSS_SELECTOR, ".maillage-label")) >= 10
    _shot(driver, "carte-export.png")


def test_twelve_antenna_proposal_has_twelve_colours(site) -> None:
    from selenium.webdriver.common.by import By

    _login(site, "p1")
    driver = site["driver"]
    driver.get(site["base"] + "/plans")
    k = driver.find_element(By.ID, "k")
    k.clear()
    k.send_keys("12")
    k.find_element(By.XPATH, "./ancestor::form").find_element(By.TAG_NAME, "button").click()
    _wait(driver, lambda d: d.current_url.rstrip("/").split("/")[-1].isdigit(), timeout=120)
    _wait(driver, lambda d: d.find_element(By.ID, "map").get_attribute("data-ready") == "1")
    colours = [e["colour"] for e in _legend(driver) if e["key"] == "antenna"]
    # Twelve antennas, twelve colours: no two antennas (adjacent or not) look alike.
    assert len(colours) == 12 and len(set(colours)) == 12
    assert len(driver.find_elements(By.CSS_SELECTOR, "#map path.seat")) == 12
    _shot(driver, "proposition-12.png")
