"""A power cut in the middle of an import loses nothing that was committed (issue 10).

A throw-away project-local cluster is made by the real ``scripts/db.sh`` (durable
settings, SCRAM password) in a folder of ``var/``; the Haute-Loire communes are loaded
and committed; the Puy-de-Dôme load is started and the postmaster is killed with
SIGKILL once that transaction has written rows; ``db.sh`` restarts the cluster (crash
recovery); every committed row must be there and the interrupted import must have left
nothing.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from geo import settings

ROOT = Path(__file__).resolve().parent.parent


def _env(var_dir: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items()
           if k not in {"DATABASE_URL", "MAILLAGE_TEST_DATABASE_URL"}}
    env["MAILLAGE_VAR_DIR"] = str(var_dir)
    return env


def _db_sh(var_dir: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["bash", str(ROOT / "scripts" / "db.sh"), *args], cwd=ROOT,
                          env=_env(var_dir), capture_output=True, text=True, timeout=300)


@pytest.fixture()
def cluster():
    if os.environ.get("DATABASE_URL") or os.environ.get("MAILLAGE_TEST_DATABASE_URL"):
        pytest.skip("serveur PostGIS externe : ce test crée un cluster local jetable")
    if not (ROOT / ".venv" / "bin" / "alembic").exists():
        pytest.skip("environnement .venv absent : lancez « make test »")
    var_dir = settings.PROJECT_ROOT / "var" / f"crash-{uuid.uuid4().hex[:8]}"
    var_dir.mkdir(parents=True)
    try:
        done = _db_sh(var_dir)
        assert done.returncode == 0, done.stderr
        yield var_dir
    finally:
        _db_sh(var_dir, "stop")
        shutil.rmtree(var_dir, ignore_errors=True)


def _url(var_dir: Path) -> str:
    return (f"postgresql+psycopg://postgres@/maillage?host={var_dir / 'run'}"
            f"&passfile={var_dir / 'pgpass'}")


def _counts(url: str) -> dict[str, int]:
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            rows = conn.execute(text("SELECT departement, count(*) FROM communes "
                                     "GROUP BY departement")).all()
        return {str(d): int(n) for d, n in rows}
    finally:
        engine.dispose()


def test_sigkill_during_import_loses_nothing_committed(cluster: Path, shared_data: Path) -> None:
    url = _url(cluster)
    env = {**_env(cluster), "DATABASE_URL": url, "MAILLAGE_DATA_DIR": str(shared_data)}
    cli = [sys.executable, "-m", "maillage_cli.main", "communes", "load", "--source",
           str(shared_data / "communes")]
    first = subprocess.run([*cli, "--dept", "43"], cwd=ROOT, env=env, capture_output=True,
                           text=True, timeout=300)
    assert first.returncode == 0, first.stderr
    assert _counts(url) == {"43": 257}

    importer = subprocess.Popen([*cli, "--dept", "63"], cwd=ROOT, env=env,
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    watcher = create_engine(url)
    try:
        written = False
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and importer.poll() is None:
            with watcher.connect() as conn:
                # backend_xid is set once a transaction has written something.
                written = bool(conn.execute(text(
                    "SELECT count(*) FROM pg_stat_activity WHERE datname = 'maillage' "
                    "AND pid <> pg_backend_pid() AND backend_xid IS NOT NULL")).scalar())
            if written:
                break
            time.sleep(0.02)
        assert written, "the import finished before it could be interrupted"
        postmaster = int((cluster / "pgdata" / "postmaster.pid").read_text().split()[0])
        os.kill(postmaster, signal.SIGKILL)
    finally:
        watcher.dispose()
    importer.communicate(timeout=120)
    assert importer.returncode != 0

    # Restart through the same script users run (orphan backends may need a moment).
    for _ in range(30):
        restarted = _db_sh(cluster)
        if restarted.returncode == 0:
            break
        time.sleep(1)
    assert restarted.returncode == 0, restarted.stderr
    assert _counts(url) == {"43": 257}, "committed rows lost or the interrupted import left rows"
