"""The plan editor in a real headless Chromium (issue 14): a promoter opens the demo plan
in the editor, moves three communes by clicking the map and one by the keyboard path,
sees the checks change without a reload, undoes one move, saves, and the saved version's
``plan check --plan-id --json`` equals what the panel showed."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid
from pathlib import Path

import pytest
from sqlalchemy import Engine, text

from coverage.checks import adjacency
from coverage.territories import plan_from_epci_grouping
from geo import settings
from geo.crs import transform_xy
from geo.db import session_scope
from tests.browser import chromium, require_chromium, serve
from tests.browser import wait as _wait
from web.accounts import add_user

PASSWORD = "mot-de-passe-editeur-navigateur"
ROOT = Path(__file__).resolve().parent.parent
ARTEFACTS = settings.PROJECT_ROOT / "var" / "test-artefacts"


@pytest.fixture(scope="module")
def site(communes_loaded: Engine, shared_data: Path, communes_43):
    require_chromium()
    from coverage.store import save_plan
    from web.app import create_app

    ARTEFACTS.mkdir(parents=True, exist_ok=True)
    tag = uuid.uuid4().hex[:8]
    email = f"promoteur-{tag}@editeur-navigateur.test"
    with communes_loaded.begin() as conn:
        user_id = add_user(conn, email=email, password=PASSWORD, role="promoteur",
                           departement="43", name="Paule")
    demo = plan_from_epci_grouping(
        shared_data / "territories" / "haute-loire-3-territoires-hypothese.csv",
        communes=communes_43, dept="43", seats=["43157", "43268", "43040"],
        name=f"Plan démo {tag}")
    with session_scope(communes_loaded) as session:
        plan_id = save_plan(session, demo, owner_id=user_id)
    app = create_app(database_url=communes_loaded.url.render_as_string(hide_password=False),
                     testing=True, config={"MAILLAGE_TILES": "none"})
    with serve(app) as base, chromium(offline=True, window_size=(1400, 1000)) as driver:
        yield {"base": base, "driver": driver, "email": email, "plan_id": plan_id,
               "demo": demo}
    with communes_loaded.begin() as conn:
        conn.execute(text("DELETE FROM plans WHERE owner_id = :i"), {"i": user_id})
        conn.execute(text("DELETE FROM audit_log WHERE user_id = :i"), {"i": user_id})
        conn.execute(text("DELETE FROM users WHERE id = :i"), {"i": user_id})


def _revision(driver) -> int:
    return int(driver.find_element("id", "editor").get_attribute("data-revision") or 0)


def _row(driver, antenna: str) -> dict:
    return driver.execute_script("""
        var tr = document.querySelector('#antenna-table tr[data-antenna="' + arguments[0] + '"]');
        return {communes: Number(tr.querySelector('.n-communes').textContent),
                demand: tr.querySelector('.demand').textContent,
                badges: Array.from(tr.querySelectorAll('.badge')).map(b => b.textContent)};
    """, antenna)


def _click_commune(driver, code: str, communes) -> None:
    """A real mouse click (viewport coordinates) on the commune's representative point."""
    from selenium.webdriver.common.actions.action_builder import ActionBuilder

    lon, lat = transform_xy(float(communes.loc[code, "point_x"]),
                            float(communes.loc[code, "point_y"]),
                            source=settings.LAMBERT93, target=settings.WGS84)
    node = driver.find_element("id", "map")
    driver.execute_script("arguments[0].scrollIntoView({block: 'center'});", node)
    x, y, under = driver.execute_script("""
        var r = arguments[0].getBoundingClientRect();
        var p = window.MaillageEditor.map.latLngToContainerPoint([arguments[1], arguments[2]]);
        var x = r.left + p.x, y = r.top + p.y, hit = document.elementFromPoint(x, y);
        var layers = window.MaillageEditor.layers, under = null;
        for (var c in layers) { if (layers[c].getElement() === hit) { under = c; } }
        return [x, y, under];""", node, float(lat), float(lon))
    assert under == code   # nothing (label, seat, legend) covers the point
    builder = ActionBuilder(driver)
    builder.pointer_action.move_to_location(round(x), round(y))
    builder.pointer_action.click()
    builder.perform()


def test_promoter_draws_undoes_and_saves(site, communes_43, communes_loaded) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys
    from selenium.webdriver.support.ui import Select

    driver, demo = site["driver"], site["demo"]
    driver.get(site["base"] + "/connexion")
    driver.find_element(By.ID, "email").send_keys(site["email"])
    driver.find_element(By.ID, "password").send_keys(PASSWORD)
    driver.find_element(By.CSS_SELECTOR, "form.form button").click()
    _wait(driver, lambda d: "/connexion" not in d.current_url)
    driver.get(f"{site['base']}/plans/{site['plan_id']}")
    driver.find_element(By.ID, "edit-plan").click()
    _wait(driver, lambda d: d.find_element(By.ID, "editor").get_attribute("data-ready") == "1"
          and d.find_element(By.ID, "map").get_attribute("data-ready") == "1")
    driver.execute_script("window.__sameDocument = 'oui';")

    source, target = demo.antennas[0], demo.antennas[1]
    codes = list(communes_43.index)
    near: dict[str, set[str]] = {}
    for i, j in adjacency(communes_43):
        near.setdefault(codes[i], set()).add(codes[j])
        near.setdefault(codes[j], set()).add(codes[i])
    seats = {a.seat for a in demo.antennas}
    # Border communes of the source antenna, biggest first (easy to hit with the mouse).
    border = sorted((c for c in source.communes
                     if near.get(c, set()) & set(target.communes) and c not in seats),
                    key=lambda c: -float(communes_43.loc[c, "area_km2"]))
    clicked, typed = border[:3], border[3]

    Select(driver.find_element(By.ID, "target")).select_by_visible_text(target.name)
    before = _row(driver, target.name)
    source_before = _row(driver, source.name)
    for n, code in enumerate(clicked, start=1):
        rev = _revision(driver)
        _click_commune(driver, code, communes_43)
        _wait(driver, lambda d, r=rev: _revision(d) > r)
        assert _row(driver, target.name)["communes"] == before["communes"] + n
    assert _row(driver, source.name)["communes"] == source_before["communes"] - 3
    assert _row(driver, target.name)["demand"] != before["demand"]

    # The keyboard path: the antenna selector and the commune search, Enter to assign.
    search = driver.find_element(By.ID, "commune-search")
    search.send_keys(f"{communes_43.loc[typed, 'nom']} ({typed})")
    rev = _revision(driver)
    search.send_keys(Keys.ENTER)
    _wait(driver, lambda d: _revision(d) > rev)
    assert _row(driver, target.name)["communes"] == before["communes"] + 4
    assert "Couverture 257/257" in driver.find_element(By.ID, "message").text
    assert any(b.startswith("trajet max") for b in _row(driver, target.name)["badges"])
    live = driver.execute_script("return window.MaillageEditor.live.check;")
    assert live["antennas"][1]["communes"] == before["communes"] + 4

    rev = _revision(driver)
    driver.find_element(By.ID, "undo").click()
    _wait(driver, lambda d: _revision(d) > rev)
    assert _row(driver, target.name)["communes"] == before["communes"] + 3
    driver.find_element(By.ID, "comment").send_keys("trois communes vers " + target.name)
    driver.find_element(By.ID, "save").click()
    _wait(driver, lambda d: d.find_element(By.ID, "editor").get_attribute("data-saved-version"))
    assert "enregistrée" in driver.find_element(By.ID, "message").text
    assert driver.execute_script("return window.__sameDocument;") == "oui"   # no reload
    # « Comparer avec le plan affiché » on version 1: the three communes moved.
    driver.find_element(By.CSS_SELECTOR, '#versions tr[data-number="1"] button.compare').click()
    _wait(driver, lambda d: d.find_elements(By.CSS_SELECTOR, "#moved li"))
    moved = [li.get_attribute("textContent") for li in
             driver.find_elements(By.CSS_SELECTOR, "#moved li")]
    assert len(moved) == 3 and all(f"→ {target.name}" in m for m in moved)
    assert driver.find_element(By.ID, "compare-antennas").is_displayed()
    driver.save_screenshot(str(ARTEFACTS / "editeur.png"))

    shown = driver.execute_script("return window.MaillageEditor.live.check;")
    panel = driver.find_element(By.ID, "kpi-covered").text
    assert panel == f"{shown['communes_covered']}/{shown['communes_total']}"
    env = dict(os.environ, PYTHONPATH=str(ROOT),
               DATABASE_URL=communes_loaded.url.render_as_string(hide_password=False))
    out = subprocess.run([sys.executable, "-m", "maillage_cli.main", "plan", "check",
                          "--plan-id", str(site["plan_id"]), "--dept", "43", "--json"],
                         capture_output=True, text=True, env=env, cwd=ROOT, check=False)
    assert out.returncode in (0, 3), out.stderr
    assert json.loads(out.stdout) == shown
    from coverage.store import load_plan

    with session_scope(communes_loaded) as session:
        saved = load_plan(session, site["plan_id"])
    claims = saved.claims()
    moved_codes = sorted(c for c in source.communes if claims.get(c) == [target.name])
    assert all(claims[c] == [target.name] for c in clicked), (clicked, moved_codes)
    assert claims[typed] == [source.name]                     # the undone keyboard move

    # Several at once: « Sélection par rectangle », drag a box, « Affecter la sélection ».
    from selenium.webdriver.common.actions.action_builder import ActionBuilder

    node = driver.find_element(By.ID, "map")
    driver.execute_script("arguments[0].scrollIntoView({block: 'center'});", node)
    lon, lat = transform_xy(float(communes_43.loc[typed, "point_x"]),
                            float(communes_43.loc[typed, "point_y"]),
                            source=settings.LAMBERT93, target=settings.WGS84)
    x, y = driver.execute_script("""
        var r = arguments[0].getBoundingClientRect();
        var p = window.MaillageEditor.map.latLngToContainerPoint([arguments[1], arguments[2]]);
        return [r.left + p.x, r.top + p.y];""", node, float(lat), float(lon))
    driver.find_element(By.ID, "box-select").click()
    builder = ActionBuilder(driver)
    builder.pointer_action.move_to_location(round(x) - 25, round(y) - 25)
    builder.pointer_action.pointer_down()
    builder.pointer_action.move_to_location(round(x), round(y))
    builder.pointer_action.move_to_location(round(x) + 25, round(y) + 25)
    builder.pointer_action.pointer_up()
    builder.perform()
    selected = driver.execute_script("return document.getElementById('selection').textContent;")
    assert selected.startswith("Sélection :"), selected
    n = int(selected.split(":")[1].split()[0])
    assert n >= 1
    rev = _revision(driver)
    driver.find_element(By.ID, "assign-selection").click()
    _wait(driver, lambda d: _revision(d) > rev)
    live = driver.execute_script("return window.MaillageEditor.live;")
    assert live["communes"][typed][0] == [1]            # now in the target antenna

    # « Scénarios K = 2 à 8 »: progress while it runs, then the seven rows in the panel.
    driver.find_element(By.ID, "scenarios").click()
    _wait(driver, lambda d: len(d.find_elements(By.CSS_SELECTOR, "#scenario-table tr[data-k]")) == 7,
          timeout=120)
    ks = [int(r.get_attribute("data-k")) for r in
          driver.find_elements(By.CSS_SELECTOR, "#scenario-table tr[data-k]")]
    assert ks == list(range(2, 9))
    assert "Calcul terminé" in driver.find_element(By.ID, "job-progress").text
    driver.save_screenshot(str(ARTEFACTS / "editeur-scenarios.png"))
