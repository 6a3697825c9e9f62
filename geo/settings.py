"""Settings in one place (as osmnx does): data folder, database URLs and defaults.

Every value can be overridden by an environment variable so that a user can point
Maillage at another data folder or an existing PostGIS server without editing code.
"""

from __future__ import annotations

import os
from pathlib import Path

#: Root of the project checkout (where ``var/`` lives).
PROJECT_ROOT = Path(__file__).resolve().parent.parent

#: Project-local runtime folder (database cluster, caches, demo outputs). Git-ignored.
VAR_DIR = Path(os.environ.get("MAILLAGE_VAR_DIR", PROJECT_ROOT / "var"))

#: Official CRS used for measuring (metres) and for serving (degrees).
LAMBERT93 = "EPSG:2154"
WGS84 = "EPSG:4326"

#: Official API Découpage administratif (communes, EPCI).
GEO_API_URL = os.environ.get("MAILLAGE_GEO_API_URL", "https://geo.api.gouv.fr")

#: Drive-time threshold (minutes) beyond which a commune counts as an uncovered zone.
DEFAULT_THRESHOLD_MINUTES = 30.0

#: Estimated mode (:mod:`geo.estimated`): road distance ÷ straight-line distance (typical
#: of French rural networks: 1.2–1.4) and average door-to-door speed (km/h). Here so that
#: the command line can show them without importing the geometry stack.
DEFAULT_DETOUR = 1.3
DEFAULT_SPEED_KMH = 60.0

#: Default vintages of the communes reference (:mod:`geo.communes_db`).
DEFAULT_COG_VINTAGE = 2026
DEFAULT_POPULATION_VINTAGE = 2023

#: Caseload norms (DGOS guide, 2012).
PATIENTS_PER_COORDINATOR_MIN = 150
PATIENTS_PER_COORDINATOR_DEFAULT = 175
PATIENTS_PER_COORDINATOR_MAX = 200
DAC_FILE_ACTIVE_NORM = 1000


def data_dir() -> Path:
    """Folder of the open data the project reads (never copied into the repository).

    ``MAILLAGE_DATA_DIR`` wins; otherwise ``../shared/data`` next to the checkout.
    """
    env = os.environ.get("MAILLAGE_DATA_DIR")
    if env:
        return Path(env).expanduser().resolve()
    return (PROJECT_ROOT.parent / "shared" / "data").resolve()


def _local_socket_url(database: str) -> str:
    # The project-local cluster listens on a socket in var/run and asks for the
    # generated SCRAM password kept in var/pgpass (0600, libpq password-file format).
    socket_dir = VAR_DIR / "run"
    return (f"postgresql+psycopg://postgres@/{database}?host={socket_dir}"
            f"&passfile={VAR_DIR / 'pgpass'}")


def database_url() -> str:
    """URL of the main database: ``DATABASE_URL`` or the project-local cluster."""
    url = os.environ.get("DATABASE_URL") or _local_socket_url("maillage")
    return normalise_url(url)


def test_database_url() -> str:
    """URL of the database the test suite uses (separate from the demo's)."""
    # With an external server, tests use MAILLAGE_TEST_DATABASE_URL, else DATABASE_URL.
    url = (os.environ.get("MAILLAGE_TEST_DATABASE_URL") or os.environ.get("DATABASE_URL")
           or _local_socket_url("maillage_test"))
    return normalise_url(url)


def bench_database_url() -> str | None:
    """URL of the benchmarks' database (the national directory stays there between runs):
    ``MAILLAGE_BENCH_DATABASE_URL``, else ``maillage_bench`` of the project-local cluster;
    ``None`` with an external server and no benchmark URL (never the main database)."""
    url = os.environ.get("MAILLAGE_BENCH_DATABASE_URL")
    if url:
        return normalise_url(url)
    return None if os.environ.get("DATABASE_URL") else _local_socket_url("maillage_bench")


def normalise_url(url: str) -> str:
    """Make a plain ``postgresql://`` URL use the psycopg 3 driver."""
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix):]
    return url
