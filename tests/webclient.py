"""Helpers shared by the web tests: the CSRF token of a page, a login through the real
form (no session forged by hand), and the removal of the test accounts."""

from __future__ import annotations

import re
from collections.abc import Iterable
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


def remove_accounts(conn: Any, ids: Iterable[int]) -> None:
    """Delete test accounts and what they left: candidacies, owned plans, audit lines.

    Runs in the caller's transaction, so a module can delete its other rows (its
    organisations, structures) in the same one, after the accounts.
    """
    from sqlalchemy import text

    params = {"i": list(ids)}
    for sql in ("DELETE FROM candidacies WHERE submitted_by = ANY(:i)",
                "DELETE FROM plans WHERE owner_id = ANY(:i)",
                "DELETE FROM audit_log WHERE user_id = ANY(:i)",
                "DELETE FROM users WHERE id = ANY(:i)"):
        conn.execute(text(sql), params)
