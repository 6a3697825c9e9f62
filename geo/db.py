"""Database access: one SQLAlchemy engine per URL, one transaction per unit of work.

The declarative ``Base`` lives here so that the models of ``geo``, ``coverage`` and
``directory`` share one metadata, which Alembic reads. The schema itself is only ever
changed by Alembic migrations (``alembic/versions``), never by ``create_all``.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from functools import lru_cache

from sqlalchemy import Engine, create_engine
from sqlalchemy.orm import DeclarativeBase, Session, sessionmaker

from geo import settings


class Base(DeclarativeBase):
    """Declarative base shared by every model of the project."""


@lru_cache(maxsize=8)
def get_engine(url: str | None = None) -> Engine:
    """Return the cached engine for ``url`` (default: :func:`settings.database_url`)."""
    return create_engine(url or settings.database_url(), pool_pre_ping=True, future=True)


@contextmanager
def session_scope(engine: Engine | None = None) -> Iterator[Session]:
    """A session whose work is committed at the end, or rolled back on any error.

    One import = one ``session_scope``: a failure leaves nothing half-written.
    """
    factory = sessionmaker(bind=engine or get_engine(), expire_on_commit=False)
    session = factory()
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()
