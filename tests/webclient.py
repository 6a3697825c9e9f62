"""Flask test-client helpers shared by the web tests: the CSRF token of a page and a
login through the real form (no session forged by hand)."""

from __future__ import annotations

import re
from typing import Any

_CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


def csrf_token(client: Any, path: str = "/connexion") -> str:
    """The CSRF token of the form on ``path`` (fails when the page has none)."""
    found = _CSRF.search(client.get(path).get_data(as_text=True))
    assert found, f"no CSRF field on {path}"
    return found.group(1)


def post_login(app: Any, email: str, password: str, *, ip: str | None = None,
               next_: str | None = None) -> tuple[Any, Any]:
    """A new client signed in through ``/connexion``; returns ``(client, response)``."""
    client = app.test_client()
    if ip is not None:
        client.environ_base["REMOTE_ADDR"] = ip
    url = "/connexion" + (f"?next={next_}" if next_ is not None else "")
    response = client.post(url, data={"email": email, "password": password,
                                      "csrf_token": csrf_token(client)})
    return client, response
