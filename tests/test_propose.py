"""``plan propose`` and ``plan scenarios`` end to end against PostGIS."""

from __future__ import annotations

import json
from pathlib import Path

import pytest


@pytest.fixture
def cli_db(communes_loaded, monkeypatch: pytest.MonkeyPatch, tmp_path: Path):
    from geo.db import get_engine

    monkeypatch.setenv("DATABASE_URL", communes_loaded.url.render_as_string(hide_password=False))
    monkeypatch.setenv("MAILLAGE_VAR_DIR", str(tmp_path / "var"))
    get_engine.cache_clear()
    yield communes_loaded
    get_engine.cache_clear()


def test_propose_k3_gives_a_plan_that_check_accepts(cli_db, tmp_path: Path,
                                                    capsys: pytest.CaptureFixture[str]) -> None:
    from maillage_cli.main import main

    out = tmp_path / "prop"
    assert main(["plan", "propose", "--dept", "43", "--k", "3", "--fixed", "43268",
                 "--out", str(out)]) == 0
    assert "statut optimal" in capsys.readouterr().out
    assert (out / "rapport.html").exists() and (out / "carte.html").exists()
    assert main(["plan", "check", str(out / "plan.csv"), "--dept", "43", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["ok"] and data["communes_covered"] == 257 and len(data["antennas"]) == 3
    assert "43268" in {a["seat"] for a in data["antennas"]}


def test_lscp_and_mclp_from_cli(cli_db, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from maillage_cli.main import main

    assert main(["plan", "propose", "--dept", "43", "--model", "lscp", "--max-minutes", "30",
                 "--out", str(tmp_path / "l")]) == 0
    out = capsys.readouterr().out
    assert "Modèle lscp" in out
    assert main(["plan", "propose", "--dept", "43", "--model", "mclp", "--k", "2",
                 "--out", str(tmp_path / "m")]) == 0
    assert main(["plan", "propose", "--dept", "43", "--model", "pmedian"]) == 1
    assert "--k" in capsys.readouterr().err


def test_scenarios_table(cli_db, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from maillage_cli.main import main

    csv_path = tmp_path / "scenarios.csv"
    assert main(["plan", "scenarios", "--dept", "43", "--k", "2..4", "--out", str(csv_path)]) == 0
    out = capsys.readouterr().out
    assert "temps estimés à vol d'oiseau" in out
    lines = csv_path.read_text(encoding="utf-8-sig").splitlines()
    assert [line.split(";")[0] for line in lines[1:]] == ["2", "3", "4"]
    means = [float(line.split(";")[2]) for line in lines[1:]]
    assert means == sorted(means, reverse=True)  # more antennas, shorter drives
