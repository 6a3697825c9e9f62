"""Real headless Chromium (Debian's ``chromium`` + ``chromium-driver``) against the app
served on 127.0.0.1 in a thread.

``require_chromium()`` skips with the reason on a machine without Chromium and fails
under ``CI=true``; ``serve(app)`` yields the base URL of the app on a free port;
``chromium()`` yields a selenium driver with a throw-away profile.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from flask import Flask
from werkzeug.serving import make_server

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMEDRIVER = shutil.which("chromedriver") or "/usr/bin/chromedriver"


def require_chromium() -> None:
    if os.path.exists(CHROMIUM) and os.path.exists(CHROMEDRIVER):
        return
    reason = "Chromium absent : installez les paquets Debian chromium et chromium-driver"
    if os.environ.get("CI", "").lower() in {"1", "true", "yes"}:
        pytest.fail(reason)
    pytest.skip(reason)


@contextmanager
def serve(app: Flask) -> Iterator[str]:
    """Serve ``app`` on 127.0.0.1 (port chosen by the system) in a daemon thread."""
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        thread.join(timeout=5)


@contextmanager
def chromium(*, window_size: tuple[int, int] = (1280, 900), offline: bool = False) -> Iterator[Any]:
    """A headless Chromium driver; no network beyond what the pages ask for.

    ``offline=True`` unplugs the network for the browser: every host name but the
    loopback address fails to resolve, as on a hospital network without Internet.
    """
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    profile = tempfile.mkdtemp(prefix="maillage-chromium-")
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    flags = ["--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1"] if offline else []
    for flag in (*flags, "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                 "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run",
                 f"--window-size={window_size[0]},{window_size[1]}",
                 f"--user-data-dir={profile}"):
        options.add_argument(flag)
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
    driver.set_page_load_timeout(30)
    try:
        yield driver
    finally:
        driver.quit()
        shutil.rmtree(profile, ignore_errors=True)


def resource_urls(driver: Any) -> list[str]:
    """Every URL the current page fetched (scripts, styles, images, XHR/fetch)."""
    urls: list[str] = driver.execute_script(
        "return performance.getEntriesByType('resource').map(function (e) { return e.name; });")
    return urls


def wait(driver: Any, condition: Any, timeout: float = 30) -> Any:
    """Wait until ``condition(driver)`` is truthy; a stale element (the page re-rendered
    under the check) is retried, not an error."""
    from selenium.common.exceptions import StaleElementReferenceException
    from selenium.webdriver.support.ui import WebDriverWait

    return WebDriverWait(driver, timeout, ignored_exceptions=(
        StaleElementReferenceException,)).until(condition)


def sign_in(driver: Any, base: str, email: str, password: str) -> None:
    """Sign in through the real login form (a fresh session: cookies cleared first)."""
    from selenium.webdriver.common.by import By

    driver.delete_all_cookies()
    driver.get(base + "/connexion")
    driver.find_element(By.ID, "email").send_keys(email)
    driver.find_element(By.ID, "password").send_keys(password)
    driver.find_element(By.CSS_SELECTOR, "form.form button").click()
    wait(driver, lambda d: "/connexion" not in d.current_url)
