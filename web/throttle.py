"""Login throttling: growing delays per account and per address, shared by all workers.

Failures are rows of ``login_failures`` (migration ``0005_security``), so the limit holds
across the server's processes and restarts. After :data:`FREE_TRIES` failures within
:data:`WINDOW` for one e-mail (or :data:`FREE_TRIES_IP` for one address), each further
try must wait twice as long as the previous one, up to :data:`MAX_WAIT` — even with the
right password, so that guessing cannot go on in parallel with a correct login.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.engine import Connection

FREE_TRIES = 5
FREE_TRIES_IP = 20
WINDOW = timedelta(minutes=15)
BASE_WAIT = timedelta(seconds=30)
MAX_WAIT = timedelta(minutes=15)


def wait_before_login(conn: Connection, *, email: str, ip: str,
                      now: datetime | None = None) -> timedelta:
    """How long this e-mail / address must still wait before a try (zero: go ahead)."""
    now = now or datetime.now(UTC)
    since = now - WINDOW
    waits = []
    for column, value, free in (("email", _email(email), FREE_TRIES), ("ip", ip, FREE_TRIES_IP)):
        row = conn.execute(sa.text(
            f"SELECT count(*), max(at) FROM login_failures WHERE {column} = :v AND at > :since"),  # noqa: S608 (column is one of two constants)
            {"v": value, "since": since}).one()
        count, last = int(row[0]), row[1]
        if count >= free and last is not None:
            wait = min(BASE_WAIT * (2 ** (count - free)), MAX_WAIT)
            waits.append(last + wait - now)
    remaining = max(waits, default=timedelta(0))
    return remaining if remaining > timedelta(0) else timedelta(0)


def record_failure(conn: Connection, *, email: str, ip: str) -> None:
    conn.execute(sa.text("INSERT INTO login_failures (email, ip) VALUES (:e, :ip)"),
                 {"e": _email(email), "ip": ip[:64]})
    # Keep the table small: nothing older than the window matters.
    conn.execute(sa.text("DELETE FROM login_failures WHERE at < now() - interval '1 day'"))


def clear_failures(conn: Connection, *, email: str) -> None:
    conn.execute(sa.text("DELETE FROM login_failures WHERE email = :e"), {"e": _email(email)})


def _email(email: str) -> str:
    return email.strip().lower()[:200]
