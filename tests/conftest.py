"""Shared fixtures: the real open data folder and a real PostGIS database.

No mock and no SQLite: DB tests run against the PostGIS database that ``make test``
starts (``maillage_test`` in the project-local cluster, or
``MAILLAGE_TEST_DATABASE_URL``), migrated to the Alembic head.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine, create_engine, text

from geo import settings

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = Path(__file__).resolve().parent / "fixtures"


def _missing(reason: str) -> None:
    # CI always has ../shared: a missing folder there is a failure, not a skip.
    if os.environ.get("CI", "").lower() in {"1", "true", "yes"}:
        pytest.fail(reason + " (CI=true : ce dossier doit exister)")
    pytest.skip(reason)


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """The open data folder (``MAILLAGE_DATA_DIR`` or ``../shared/data``)."""
    path = settings.data_dir()
    if not (path / "communes").is_dir():
        _missing(f"données ouvertes absentes : {path} (définissez MAILLAGE_DATA_DIR)")
    return path


@pytest.fixture(scope="session")
def db_url() -> str:
    return settings.test_database_url()


@pytest.fixture(scope="session")
def db_engine(db_url: str) -> Iterator[Engine]:
    """Engine on the test database, migrated to the Alembic head(s)."""
    from alembic.config import Config

    from alembic import command

    engine = create_engine(db_url, future=True)
    try:
        with engine.connect() as conn:
            conn.execute(text("SELECT postgis_version()"))
    except Exception as exc:  # the server is down or PostGIS is missing
        _missing(f"PostGIS injoignable ({db_url}) : lancez « make test » ({exc.__class__.__name__})")
    os.environ["MAILLAGE_MIGRATE_URL"] = db_url
    try:
        command.upgrade(Config(str(ROOT / "alembic.ini")), "heads")
    finally:
        os.environ.pop("MAILLAGE_MIGRATE_URL", None)
    yield engine
    engine.dispose()


@pytest.fixture(scope="session")
def communes_loaded(db_engine: Engine, shared_data: Path) -> Engine:
    """The test database with the communes of 43 and 63 loaded from the shared data."""
    from geo.communes import read_communes_source
    from geo.communes_db import store_communes
    from geo.db import session_scope

    for dept in ("43", "63"):
        src = read_communes_source(shared_data / "communes", dept=dept)
        with session_scope(db_engine) as session:
            store_communes(session, src)
    return db_engine


@pytest.fixture(scope="session")
def communes_43(shared_data: Path):
    """The 43 communes frame built from the source file (no database)."""
    from geo.communes import frame_from_source, read_communes_source

    return frame_from_source(read_communes_source(shared_data / "communes", dept="43"))
