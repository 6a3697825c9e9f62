"""Accessibility in a real headless Chromium: axe-core on every page, for every role.

axe-core (``tests/vendor/axe-core/``, from npm, never served to users) is injected by
Selenium into each page and run there. Violations of impact ``serious`` or ``critical``
fail the test; the others are printed (``pytest -s`` shows them). A second pass renders
every page at 390 × 844 (a phone), saves a screenshot under ``var/test-artefacts/`` and
checks that nothing scrolls sideways. Keyboard-only tests open a search result.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, text

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

PASSWORD = "mot-de-passe-accessibilite"
AXE = Path(__file__).resolve().parent / "vendor" / "axe-core" / "axe.min.js"
ARTEFACTS = settings.PROJECT_ROOT / "var" / "test-artefacts"
SEATS = ["43157", "43268", "43040"]
BLOCKING = {"serious", "critical"}


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
    emails = {k: f"{k}-{tag}@accessibilite.test" for k in ("promoteur", "ars", "editeur",
                                                            "admin")}
    with communes_loaded.begin() as conn:
        ids = {
            "promoteur": add_user(conn, email=emails["promoteur"], password=PASSWORD,
                                  role="promoteur", departement="43", name="Alice Martin",
                                  organisation=f"Association Appui Santé {tag}"),
            "ars": add_user(conn, email=emails["ars"], password=PASSWORD, role="ars",
                            departement="43", name="Claire Durand"),
            "editeur": add_user(conn, email=emails["editeur"], password=PASSWORD,
                                role="editeur", name="Éric Petit"),
            "admin": add_user(conn, email=emails["admin"], password=PASSWORD, role="admin",
                              name="Ada Admin"),
        }
        structure_id = conn.execute(text(
            # GISCO hospitals merge into FINESS records already loaded by other tests.
            "SELECT structure_id FROM structure_sources WHERE source LIKE 'gisco%' "
            "ORDER BY structure_id LIMIT 1")).scalar_one()
        org_id = conn.execute(text("SELECT organisation_id FROM users WHERE id = :i"),
                              {"i": ids["promoteur"]}).scalar_one()
    plan = plan_from_epci_grouping(
        shared_data / "territories" / "haute-loire-3-territoires-hypothese.csv",
        communes=communes_43, dept="43", seats=SEATS, name=f"Plan accessible {tag}")
    plan.author = f"Alice Martin (Association Appui Santé {tag})"
    with session_scope(communes_loaded) as session:
        plan_id = save_plan(session, plan, owner_id=ids["promoteur"], organisation_id=org_id)
    app = create_app(database_url=communes_loaded.url.render_as_string(hide_password=False),
                     testing=True)
    with serve(app) as base, chromium(offline=True) as driver:
        driver.set_script_timeout(120)
        yield {"base": base, "driver": driver, "emails": emails, "plan_id": plan_id,
               "structure_id": structure_id, "candidacy_id": None}
    with communes_loaded.begin() as conn:
        remove_accounts(conn, ids.values())
        conn.execute(text("DELETE FROM organisations WHERE id = :i"), {"i": org_id})


def _login(site, role: str | None) -> None:
    if role is None:
        site["driver"].delete_all_cookies()
        return
    sign_in(site["driver"], site["base"], site["emails"][role], PASSWORD)


def _search_results(driver) -> None:
    from selenium.webdriver.common.by import By

    driver.find_element(By.ID, "q").send_keys("hopital")
    driver.find_element(By.CSS_SELECTOR, "#search-form button[type=submit]").click()
    _wait(driver, lambda d: d.find_elements(By.CSS_SELECTOR, "#results li"))


def _map_drawn(driver) -> None:
    _wait(driver, lambda d: d.execute_script(
        "return document.querySelectorAll('#map path.leaflet-interactive').length > 0"))


def _ensure_candidacy(site) -> None:
    """The promoter submits the plan once (through the page), for the ARS pages."""
    from selenium.webdriver.common.by import By

    if site["candidacy_id"]:
        return
    driver = site["driver"]
    _login(site, "promoteur")
    driver.get(f"{site['base']}/plans/{site['plan_id']}")
    driver.find_element(By.CSS_SELECTOR, "#submit-candidacy button").click()
    _wait(driver, lambda d: "/candidatures/" in d.current_url)
    site["candidacy_id"] = int(re.search(r"/candidatures/(\d+)", driver.current_url).group(1))


Ready = Callable[[Any], None] | None

#: (role, page name, path, wait for) — ``{plan}``, ``{structure}``, ``{candidacy}`` filled in.
PAGES: list[tuple[str | None, str, str, Ready]] = [
    (None, "accueil", "/", None),
    (None, "recherche", "/recherche", _search_results),
    (None, "structure", "/structure/{structure}", None),
    (None, "connexion", "/connexion", None),
    (None, "accessibilite", "/accessibilite", None),
    (None, "glossaire", "/glossaire", None),
    (None, "erreur-404", "/page-qui-n-existe-pas", None),
    (None, "erreur-connexion-requise", "/plans", None),
    ("promoteur", "accueil", "/", None),
    ("promoteur", "plans", "/plans", None),
    ("promoteur", "plan", "/plans/{plan}", _map_drawn),
    ("promoteur", "rapport", "/plans/{plan}/rapport", None),
    ("promoteur", "editeur-de-plan", "/plans/{plan}/editer", _map_drawn),
    ("promoteur", "candidature", "/candidatures/{candidacy}", None),
    ("promoteur", "erreur-403", "/ars/candidatures", None),
    ("ars", "accueil", "/", None),
    ("ars", "plans", "/plans", None),
    ("ars", "candidatures", "/ars/candidatures", _map_drawn),
    ("ars", "candidatures-region", "/ars/candidatures?perimetre=region", None),
    ("ars", "candidatures-rapport", "/ars/candidatures/rapport", None),
    ("ars", "candidature", "/candidatures/{candidacy}", None),
    ("ars", "comparer", "/ars/comparer", None),
    ("ars", "comparer-resultat", "/ars/comparer?plans={plan}", _map_drawn),
    ("editeur", "accueil", "/", None),
    ("editeur", "structure", "/structure/{structure}", None),
    ("editeur", "modifier-structure", "/structure/{structure}/modifier", None),
    ("editeur", "a-verifier", "/a-verifier", None),
    ("admin", "accueil", "/", None),
    ("admin", "plans", "/plans", None),
    ("admin", "journal", "/admin/journal", None),
    ("admin", "candidatures", "/ars/candidatures?dept=43", _map_drawn),
]


def _visit(site, path: str, ready: Ready) -> None:
    driver = site["driver"]
    driver.get(site["base"] + path.format(plan=site["plan_id"], structure=site["structure_id"],
                                          candidacy=site["candidacy_id"]))
    _wait(driver, lambda d: d.execute_script("return document.readyState") == "complete")
    if ready is not None:
        ready(driver)


def _axe(driver) -> list[dict[str, Any]]:
    """The axe-core violations of the current page (WCAG 2.x A/AA and best practices)."""
    driver.execute_script(AXE.read_text(encoding="utf-8"))
    result = driver.execute_async_script("""
        var done = arguments[arguments.length - 1];
        axe.run(document, {resultTypes: ['violations']}).then(function (r) {
          done(r.violations.map(function (v) {
            return {id: v.id, impact: v.impact, help: v.help,
                    nodes: v.nodes.slice(0, 4).map(function (n) { return n.target.join(' '); })};
          }));
        }).catch(function (e) { done({error: String(e)}); });
    """)
    assert not isinstance(result, dict), result
    return list(result)


def _pages_of(role: str | None) -> list[tuple[str | None, str, str, Ready]]:
    return [p for p in PAGES if p[0] == role]


@pytest.mark.parametrize("role", [None, "promoteur", "ars", "editeur", "admin"],
                         ids=["anonyme", "promoteur", "ars", "editeur", "admin"])
def test_axe_finds_no_serious_violation(site, role: str | None) -> None:
    if role in ("ars", "promoteur"):
        _ensure_candidacy(site)
    _login(site, role)
    driver = site["driver"]
    driver.set_window_size(1280, 900)
    blocking: list[str] = []
    checked = 0
    for _, name, path, ready in _pages_of(role):
        _visit(site, path, ready)
        checked += 1
        for v in _axe(driver):
            line = f"[{role or 'anonyme'}] {name} {path}: {v['impact']} {v['id']} — {v['help']} " \
                   f"{v['nodes']}"
            print(line)
            if v["impact"] in BLOCKING:
                blocking.append(line)
    assert checked >= 3
    assert blocking == [], "\n".join(blocking)


@pytest.mark.parametrize("role", [None, "promoteur", "ars", "editeur", "admin"],
                         ids=["anonyme", "promoteur", "ars", "editeur", "admin"])
def test_every_page_fits_a_390px_phone(site, role: str | None) -> None:
    if role in ("ars", "promoteur"):
        _ensure_candidacy(site)
    _login(site, role)
    driver = site["driver"]
    driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", {
        "width": 390, "height": 844, "deviceScaleFactor": 1, "mobile": False})
    too_wide: list[str] = []
    too_small: list[str] = []
    try:
        for _, name, path, ready in _pages_of(role):
            _visit(site, path, ready)
            assert driver.execute_script("return window.innerWidth") == 390
            driver.save_screenshot(str(ARTEFACTS / f"a11y-390-{role or 'anonyme'}-{name}.png"))
            width = driver.execute_script("return document.documentElement.scrollWidth")
            if width > 390:
                culprits = driver.execute_script("""
                    return Array.from(document.querySelectorAll('body *')).filter(function (e) {
                      var r = e.getBoundingClientRect(); return r.right > 391 && r.width > 0;
                    }).slice(0, 5).map(function (e) {
                      return e.tagName + (e.id ? '#' + e.id : '') + '.' + e.className; });""")
                too_wide.append(f"{name} {path}: {width} px {culprits}")
            small = driver.execute_script(TOO_SMALL_TARGETS)
            if small:
                too_small.append(f"{name} {path}: {small}")
    finally:
        driver.execute_cdp_cmd("Emulation.clearDeviceMetricsOverride", {})
    assert too_wide == [], "\n".join(too_wide)
    assert too_small == [], "\n".join(too_small)


#: Buttons, navigation links, form fields and map controls under 44 px high (links inside
#: a sentence are exempt, as in WCAG 2.5.5).
TOO_SMALL_TARGETS = """
  var selector = 'a.button, button, header.site nav a, .footer-links a, summary, select, ' +
    'textarea, input:not([type=hidden]):not([type=checkbox]):not([type=radio]), ' +
    '.leaflet-control-zoom a, .leaflet-control-layers-toggle';
  return Array.from(document.querySelectorAll(selector)).filter(function (e) {
    var r = e.getBoundingClientRect();
    return r.width > 0 && r.height > 0 && getComputedStyle(e).visibility !== 'hidden' &&
      Math.min(r.height, r.width) < 43.5;
  }).slice(0, 6).map(function (e) {
    var r = e.getBoundingClientRect();
    return e.tagName + (e.id ? '#' + e.id : '') + '.' + e.className + ' ' +
      Math.round(r.width) + 'x' + Math.round(r.height) + ' « ' +
      (e.textContent || e.value || '').trim().slice(0, 30) + ' »';
  });
"""


def test_keyboard_only_opens_a_search_result(site) -> None:
    from selenium.webdriver.common.action_chains import ActionChains
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys

    _login(site, None)
    driver = site["driver"]
    driver.set_window_size(1280, 900)
    driver.get(site["base"] + "/recherche")
    # The skip link is the first stop and leads to the main content.
    ActionChains(driver).send_keys(Keys.TAB).perform()
    first = driver.switch_to.active_element
    assert first.text == "Aller au contenu" and first.is_displayed()
    _wait(driver, lambda d: d.find_element(By.ID, "q"))
    driver.find_element(By.ID, "q").send_keys("hopital brioude", Keys.ENTER)
    _wait(driver, lambda d: "BRIOUDE" in d.find_element(By.ID, "results").text.upper())
    # Tab from the search box until the focus reaches a result's page link, then Enter.
    for _ in range(60):
        ActionChains(driver).send_keys(Keys.TAB).perform()
        href = driver.switch_to.active_element.get_attribute("href") or ""
        if "/structure/" in href:
            break
    else:
        pytest.fail("no result link reachable with the Tab key")
    outline = driver.execute_script(
        "var s = getComputedStyle(document.activeElement); return s.outlineStyle + ' ' + s.outlineWidth;")
    assert not outline.startswith("none"), f"no visible focus on the result link: {outline}"
    ActionChains(driver).send_keys(Keys.ENTER).perform()
    _wait(driver, lambda d: "/structure/" in d.current_url)
    assert driver.find_element(By.TAG_NAME, "h1").text


def test_keyboard_only_skip_link_moves_focus_to_main(site) -> None:
    from selenium.webdriver.common.action_chains import ActionChains
    from selenium.webdriver.common.keys import Keys

    _login(site, None)
    driver = site["driver"]
    driver.get(site["base"] + "/")
    ActionChains(driver).send_keys(Keys.TAB).perform()
    ActionChains(driver).send_keys(Keys.ENTER).perform()
    _wait(driver, lambda d: d.switch_to.active_element.get_attribute("id") == "contenu")


def test_form_errors_are_tied_to_their_fields_and_take_focus(site) -> None:
    from selenium.webdriver.common.by import By

    driver = site["driver"]
    driver.set_window_size(1280, 900)
    # Wrong password: the message is announced and described by both fields.
    _login(site, None)
    driver.get(site["base"] + "/connexion")
    driver.find_element(By.ID, "email").send_keys(site["emails"]["editeur"])
    driver.find_element(By.ID, "password").send_keys("pas le bon mot de passe")
    driver.find_element(By.CSS_SELECTOR, "form.form button").click()
    _wait(driver, lambda d: d.find_elements(By.ID, "login-error"))
    for field in ("email", "password"):
        node = driver.find_element(By.ID, field)
        assert node.get_attribute("aria-invalid") == "true"
        assert node.get_attribute("aria-describedby") == "login-error"
    assert "incorrect" in driver.find_element(By.ID, "login-error").text
    assert driver.switch_to.active_element.get_attribute("id") == "email"
    blocking = [v for v in _axe(driver) if v["impact"] in BLOCKING]
    assert blocking == []
    # An editor empties the name and writes invalid hours: two errors under their fields,
    # focus on the first.
    _login(site, "editeur")
    driver.get(f"{site['base']}/structure/{site['structure_id']}/modifier")
    driver.find_element(By.ID, "name").clear()
    hours = driver.find_element(By.ID, "opening_hours")
    hours.clear()
    hours.send_keys("lundi le matin")
    driver.find_element(By.CSS_SELECTOR, "form.form button[type=submit]").click()
    _wait(driver, lambda d: d.find_elements(By.ID, "name-error"))
    for field in ("name", "opening_hours"):
        node = driver.find_element(By.ID, field)
        described = node.get_attribute("aria-describedby")
        assert node.get_attribute("aria-invalid") == "true" and described == f"{field}-error"
        assert driver.find_element(By.ID, described).text
    assert driver.switch_to.active_element.get_attribute("id") == "name"
    blocking = [v for v in _axe(driver) if v["impact"] in BLOCKING]
    assert blocking == []


def test_keyboard_only_changes_a_search_filter(site) -> None:
    from selenium.webdriver.common.action_chains import ActionChains
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys

    _login(site, None)
    driver = site["driver"]
    driver.set_window_size(1280, 900)
    driver.get(site["base"] + "/recherche")
    driver.find_element(By.ID, "q").send_keys("hopital", Keys.ENTER)
    _wait(driver, lambda d: d.find_elements(By.CSS_SELECTOR, "#results li"))
    for _ in range(15):
        ActionChains(driver).send_keys(Keys.TAB).perform()
        if driver.switch_to.active_element.get_attribute("id") == "sector":
            break
    else:
        pytest.fail("the sector filter is not reachable with the Tab key")
    for _ in range(3):   # Tous → Sanitaire → Médico-social → Social
        ActionChains(driver).send_keys(Keys.ARROW_DOWN).perform()
    assert driver.find_element(By.ID, "sector").get_attribute("value") == "social"
    _wait(driver, lambda d: any("sector=social" in u for u in d.execute_script(
        "return performance.getEntriesByType('resource').map(function (e) { return e.name; });")))
    _wait(driver, lambda d: d.find_element(By.ID, "status").text
          and "en cours" not in d.find_element(By.ID, "status").text)
    # The count is announced in a live region.
    status = driver.find_element(By.ID, "status")
    assert status.get_attribute("role") == "status" or status.get_attribute("aria-live") == "polite"


def test_declaration_states_the_audited_scope(site) -> None:
    """The declaration's page count is the one this module audits, and every footer
    links to it."""
    _login(site, None)
    driver = site["driver"]
    driver.get(site["base"] + "/accessibilite")
    text_ = " ".join(driver.find_element("tag name", "main").text.split())
    assert f"soit {len(PAGES)} pages contrôlées" in text_
    assert "non conforme" in text_ and "Défenseur des droits" in text_
    assert driver.find_element("css selector", "footer a[href='/accessibilite']").is_displayed()


def test_refused_decision_is_explained_under_the_comment_field(site) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import Select

    _ensure_candidacy(site)
    _login(site, "ars")
    driver = site["driver"]
    driver.set_window_size(1280, 900)
    driver.get(f"{site['base']}/candidatures/{site['candidacy_id']}")
    Select(driver.find_element(By.ID, "statut")).select_by_value("non_retenue")
    driver.find_element(By.CSS_SELECTOR, "#decision button[type=submit]").click()
    _wait(driver, lambda d: d.find_elements(By.ID, "commentaire-error"))
    comment = driver.find_element(By.ID, "commentaire")
    assert comment.get_attribute("aria-invalid") == "true"
    assert comment.get_attribute("aria-describedby") == "commentaire-error"
    assert "Motivez" in driver.find_element(By.ID, "commentaire-error").text
    assert driver.switch_to.active_element.get_attribute("id") == "commentaire"
    # The choice made is kept; nothing was decided.
    assert Select(driver.find_element(By.ID, "statut")).first_selected_option.get_attribute(
        "value") == "non_retenue"
    assert driver.find_element(By.ID, "status").text == "déposée"
    assert [v for v in _axe(driver) if v["impact"] in BLOCKING] == []


def test_refused_upload_is_tied_to_the_file_field(site, tmp_path: Path) -> None:
    from selenium.webdriver.common.by import By

    bad = tmp_path / "plan.txt"
    bad.write_text("ceci n'est pas un plan\n", encoding="utf-8")
    _login(site, "promoteur")
    driver = site["driver"]
    driver.set_window_size(1280, 900)
    driver.get(site["base"] + "/plans")
    driver.find_element(By.ID, "nom").send_keys("Plan refusé")
    driver.find_element(By.ID, "fichier").send_keys(str(bad))
    driver.find_element(By.CSS_SELECTOR, "form[enctype] button").click()
    # The refusal comes back to the upload form (#upload-errors), tied to the file field.
    _wait(driver, lambda d: d.find_elements(By.CSS_SELECTOR,
                                            "#messages .flash.erreur, #upload-errors"))
    field = driver.find_element(By.ID, "fichier")
    assert field.get_attribute("aria-invalid") == "true"
    described = field.get_attribute("aria-describedby")
    assert described in {"messages", "upload-errors"}
    assert "Type de fichier refusé" in driver.find_element(By.ID, described).text
    assert driver.switch_to.active_element.get_attribute("id") == "fichier"
    assert driver.find_element(By.ID, "k").get_attribute("aria-invalid") is None
