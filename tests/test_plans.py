"""Coverage plans: reading files, checks, sizing, Annex 1, map and report, CLI."""

from __future__ import annotations

import json
import math
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pytest
from shapely.geometry import MultiPolygon, box

from coverage.annex import annex_table
from coverage.checks import check_plan
from coverage.drivetimes import plan_drive_times
from coverage.plan import Plan
from coverage.planfile import read_plan_file
from coverage.report import write_report
from coverage.sizing import SizingParameters, caseload_flag, commune_demand, coordinators_needed
from coverage.territories import plan_from_epci_grouping
from geo.errors import MaillageError

PLANS = Path(__file__).parent / "fixtures" / "plans"


def demo_plan(shared_data: Path, communes) -> Plan:
    return plan_from_epci_grouping(
        shared_data / "territories" / "haute-loire-3-territoires-hypothese.csv",
        communes=communes, dept="43", seats=["43157", "43268", "43040"], name="démo")


# --- reading files -----------------------------------------------------------------

def test_codes_semicolon_utf8(communes_43) -> None:
    pf = read_plan_file(PLANS / "small_codes_utf8.csv", communes=communes_43, dept="43")
    assert [(a.name, a.seat, a.communes) for a in pf.plan.antennas] == [
        ("Velay", "43157", ["43157"]), ("Jeune Loire", "43268", ["43268"]),
        ("Lafayette", "43040", ["43040"])]
    assert pf.problems == []


def test_names_comma_utf8_bom_with_article_case_and_abbreviation(communes_43) -> None:
    pf = read_plan_file(PLANS / "small_names_utf8bom_comma.csv", communes=communes_43, dept="43")
    velay = pf.plan.antenna("Velay")
    assert velay is not None and velay.seat == "43157"
    assert velay.communes == ["43157", "43200"]  # "St Julien Chapteuil" = Saint-Julien-Chapteuil
    assert pf.plan.antenna("Jeune Loire").communes == ["43268"]
    assert pf.problems == []


def test_names_windows_1252(communes_43) -> None:
    pf = read_plan_file(PLANS / "small_names_cp1252.csv", communes=communes_43, dept="43")
    assert pf.plan.antenna("Velay").communes == ["43157", "43181"]  # Saint-Étienne-Lardeyrol
    assert pf.plan.antenna("Lafayette").seat == "43040"


def test_every_problem_has_its_line(communes_43) -> None:
    pf = read_plan_file(PLANS / "problems.csv", communes=communes_43, dept="43")
    text = {p.line: p.message for p in pf.problems}
    assert "absent du département" in text[3]
    assert "code INSEE inconnu" in text[4]
    assert "commune inconnue" in text[5]
    assert "antenne vide" in text[6]
    assert "unicité non respectée" in text[8] and "ligne 7" in text[8]
    assert [w.line for w in pf.warnings if "en double" in w.message] == [10]
    assert pf.unknown == ["63113", "43999", "Commune Imaginaire"]
    # the unicity violation is kept so that the check reports the duplicate
    assert sorted(pf.plan.claims()["43040"]) == ["Lafayette", "Velay"]


def test_ambiguous_name_lists_candidates(tmp_path: Path) -> None:
    square = MultiPolygon([box(0, 0, 1000, 1000)])
    communes = gpd.GeoDataFrame(
        {"code": ["99001", "99002", "99003"], "nom": ["Saint-Paul", "Saint-Paul", "Lavoûte"],
         "population": [10, 20, 30], "epci": [None] * 3},
        geometry=[square] * 3, crs=2154, index=["99001", "99002", "99003"])
    path = tmp_path / "plan.csv"
    path.write_text("commune;antenne\nSAINT PAUL;A\nlavoute;A\n", encoding="utf-8")
    pf = read_plan_file(path, communes=communes, dept="99")
    assert len(pf.problems) == 1
    message = pf.problems[0].message
    assert pf.problems[0].line == 2
    assert "ambigu" in message and "99001 Saint-Paul" in message and "99002 Saint-Paul" in message
    assert pf.plan.antenna("A").communes == ["99003"]


def test_unreadable_file_raises_and_names_it(tmp_path: Path, communes_43) -> None:
    path = tmp_path / "vide.csv"
    path.write_bytes(b"")
    with pytest.raises(MaillageError, match="vide.csv"):
        read_plan_file(path, communes=communes_43, dept="43")
    path.write_text("foo;bar\n1;2\n", encoding="utf-8")
    with pytest.raises(MaillageError, match="colonnes obligatoires"):
        read_plan_file(path, communes=communes_43, dept="43")


def test_xlsx_with_numeric_codes(tmp_path: Path, communes_43) -> None:
    path = tmp_path / "plan.xlsx"
    pd.DataFrame({"Code INSEE": [43157, 43040], "Antenne": ["Velay", "Lafayette"]}).to_excel(
        path, index=False)
    pf = read_plan_file(path, communes=communes_43, dept="43")
    assert pf.plan.claims() == {"43157": ["Velay"], "43040": ["Lafayette"]}


# --- checks --------------------------------------------------------------------------

def test_full_plan_is_ok(shared_data: Path, communes_43) -> None:
    plan = demo_plan(shared_data, communes_43)
    result = check_plan(plan, communes_43)
    assert result.ok
    data = result.to_json()
    assert data["communes_total"] == data["communes_covered"] == 257
    assert data["uncovered"] == [] and data["duplicates"] == []
    assert sum(a["population"] for a in data["antennas"]) == 228_654
    assert data["demand_total"] == pytest.approx(1000.0)


def test_three_missing_and_two_duplicated_are_named(shared_data: Path, communes_43) -> None:
    plan = demo_plan(shared_data, communes_43)
    velay, jeune = plan.antenna("Velay"), plan.antenna("Jeune Loire")
    missing = velay.communes[-3:]
    del velay.communes[-3:]
    duplicated = jeune.communes[:2]
    velay.communes.extend(duplicated)
    data = check_plan(plan, communes_43).to_json()
    assert not data["ok"]
    assert data["uncovered"] == sorted(missing)
    assert [d["code"] for d in data["duplicates"]] == sorted(duplicated)
    assert all(sorted(d["antennas"]) == ["Jeune Loire", "Velay"] for d in data["duplicates"])
    assert data["communes_covered"] == 254


def test_enclave_is_listed(shared_data: Path, communes_43) -> None:
    plan = demo_plan(shared_data, communes_43)
    # Ally (43006), deep in Lafayette's territory, handed to Velay: an enclave.
    plan.antenna("Lafayette").communes.remove("43006")
    plan.antenna("Velay").communes.append("43006")
    result = check_plan(plan, communes_43)
    velay = next(a for a in result.antennas if a.name == "Velay")
    assert ["43006"] in velay.enclaves
    lafayette = next(a for a in result.antennas if a.name == "Lafayette")
    assert all("43006" not in e for e in lafayette.enclaves)


def test_epci_split_is_reported(shared_data: Path, communes_43) -> None:
    plan = demo_plan(shared_data, communes_43)
    plan.antenna("Lafayette").communes.remove("43006")
    plan.antenna("Velay").communes.append("43006")
    data = check_plan(plan, communes_43).to_json()
    epci = communes_43.loc["43006", "epci"]
    assert {"epci": epci, "nom": communes_43.loc["43006", "epci_nom"],
            "antennas": ["Lafayette", "Velay"]} in data["epci_split"]


# --- sizing ----------------------------------------------------------------------------

def test_target_mode_shares_1000_by_population(communes_43) -> None:
    demand = commune_demand(communes_43, SizingParameters())
    assert demand.sum() == pytest.approx(1000.0)
    le_puy = communes_43.loc["43157", "population"]
    assert demand["43157"] == pytest.approx(1000.0 * le_puy / 228_654)


def test_rate_mode(communes_43) -> None:
    demand = commune_demand(communes_43, SizingParameters(mode="rate", rate_per_1000=5))
    assert demand.sum() == pytest.approx(228_654 * 5 / 1000)


def test_coordinators_rounded_up_and_flags() -> None:
    assert coordinators_needed(434.4) == {150: 3, 175: 3, 200: 3}
    assert coordinators_needed(350.0) == {150: 3, 175: 2, 200: 2}
    assert coordinators_needed(0.0) == {150: 0, 175: 0, 200: 0}
    assert caseload_flag(400.0, 2) is None  # 200 per coordinator: at the limit
    assert "surcharge" in caseload_flag(450.0, 2)
    assert "sous-charge" in caseload_flag(280.0, 2)
    assert caseload_flag(300.0, None) is None


def test_plan_sizing_per_antenna(shared_data: Path, communes_43) -> None:
    plan = demo_plan(shared_data, communes_43)
    plan.antenna("Velay").coordinators = 1
    result = check_plan(plan, communes_43)
    velay = next(a for a in result.antennas if a.name == "Velay")
    expected = 1000.0 * velay.population / 228_654
    assert velay.demand == pytest.approx(expected)
    assert velay.coordinators_needed[175] == math.ceil(expected / 175)
    assert "surcharge" in velay.caseload_flag


def test_weights_file(tmp_path: Path, communes_43) -> None:
    from coverage.sizing import read_weights

    path = tmp_path / "pop75.csv"
    path.write_text("code;poids\n43157;300\n43040;100\n", encoding="utf-8")
    weights = read_weights(path, codes=set(communes_43.index))
    demand = commune_demand(communes_43, SizingParameters(), weights=weights)
    assert demand["43157"] == pytest.approx(750.0)
    assert demand["43001"] == 0
    path.write_text("code;poids\n43157;abc\n", encoding="utf-8")
    with pytest.raises(MaillageError, match="ligne 2"):
        read_weights(path, codes=set(communes_43.index))


# --- outputs ---------------------------------------------------------------------------

def test_annex_report_and_map(tmp_path: Path, shared_data: Path, communes_43) -> None:
    plan = demo_plan(shared_data, communes_43)
    plan.antennas[0].name = "<img src=x onerror=alert(1)>"
    result = check_plan(plan, communes_43, drive_times=plan_drive_times(plan, communes_43))
    table = annex_table(plan, communes_43, result)
    assert len(table) == 257
    paths = write_report(tmp_path, plan=plan, communes=communes_43, check=result,
                         notes=["hypothèse de travail"])
    csv_back = pd.read_csv(paths["annex_csv"], sep=";", encoding="utf-8-sig", dtype=str)
    assert len(csv_back) == 257
    assert "Saint-Étienne-Lardeyrol" in set(csv_back["commune"])
    assert paths["annex_csv"].read_bytes()[:3] == b"\xef\xbb\xbf"
    xlsx_back = pd.read_excel(paths["annex_xlsx"], dtype=str)
    assert len(xlsx_back) == 257
    report = paths["report"].read_text(encoding="utf-8")
    assert "257/257" in report and "hypothèse de travail" in report
    assert "temps estimés à vol d" in report
    assert "<img src=x" not in report and "&lt;img src=x" in report
    carte = paths["map"].read_text(encoding="utf-8")
    assert paths["map"].stat().st_size < 1.5e6
    assert '<script src="http' not in carte and 'rel="stylesheet" href="http' not in carte
    assert "Le Puy-en-Velay" in carte and "Lafayette" in carte
    assert "<img src=x" not in carte


# --- CLI against PostGIS ---------------------------------------------------------------

@pytest.fixture
def cli_db(communes_loaded, monkeypatch: pytest.MonkeyPatch):
    from geo.db import get_engine

    monkeypatch.setenv("DATABASE_URL", communes_loaded.url.render_as_string(hide_password=False))
    get_engine.cache_clear()
    yield communes_loaded
    get_engine.cache_clear()


def _write_demo_csv(path: Path, shared_data: Path, communes) -> None:
    from coverage.assign import write_plan_csv

    write_plan_csv(demo_plan(shared_data, communes), path, communes=communes)


def test_cli_check_demo_plan_exits_0(cli_db, tmp_path: Path, shared_data: Path, communes_43,
                                     capsys: pytest.CaptureFixture[str]) -> None:
    from maillage_cli.main import main

    path = tmp_path / "plan.csv"
    _write_demo_csv(path, shared_data, communes_43)
    assert main(["plan", "check", str(path), "--dept", "43", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert (data["communes_covered"], data["communes_total"]) == (257, 257)
    assert data["drive_times"]["label"] == "temps estimés à vol d'oiseau"
    assert data["beyond_threshold"] and all(b["minutes"] > 30 for b in data["beyond_threshold"])
    assert {"max_minutes", "mean_minutes_weighted"} <= set(data["antennas"][0])
    assert main(["plan", "check", str(path), "--dept", "43"]) == 0
    assert "257/257" in capsys.readouterr().out


def test_cli_check_names_missing_and_duplicated(cli_db, tmp_path: Path, shared_data: Path,
                                                communes_43,
                                                capsys: pytest.CaptureFixture[str]) -> None:
    from maillage_cli.main import main

    path = tmp_path / "plan.csv"
    _write_demo_csv(path, shared_data, communes_43)
    lines = path.read_text(encoding="utf-8-sig").splitlines()
    header, rows = lines[0], lines[1:]
    missing = [r.split(";")[0] for r in rows[:3]]
    dup_rows = [r.replace(r.split(";")[2], "Autre", 1) for r in rows[3:5]]
    path.write_text("\n".join([header, *rows[3:], *dup_rows]) + "\n", encoding="utf-8")
    assert main(["plan", "check", str(path), "--dept", "43", "--json"]) == 3
    data = json.loads(capsys.readouterr().out)
    assert data["uncovered"] == sorted(missing)
    assert [d["code"] for d in data["duplicates"]] == sorted(r.split(";")[0] for r in rows[3:5])


def test_cli_import_store_and_check_stored_plan(cli_db, tmp_path: Path, shared_data: Path,
                                                communes_43,
                                                capsys: pytest.CaptureFixture[str]) -> None:
    from maillage_cli.main import main

    path = tmp_path / "plan.csv"
    _write_demo_csv(path, shared_data, communes_43)
    assert main(["plan", "import", str(path), "--dept", "43", "--name", "Test import"]) == 0
    out = capsys.readouterr().out
    plan_id = int(out.split("n° ")[1].split(")")[0])
    assert main(["plan", "check", "--plan-id", str(plan_id), "--dept", "43", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["plan"] == "Test import" and data["communes_covered"] == 257
    from coverage.store import delete_plan
    from geo.db import get_engine, session_scope

    with session_scope(get_engine()) as session:
        delete_plan(session, plan_id)


def test_cli_report_writes_files(cli_db, tmp_path: Path, shared_data: Path, communes_43,
                                 capsys: pytest.CaptureFixture[str]) -> None:
    from maillage_cli.main import main

    path = tmp_path / "plan.csv"
    _write_demo_csv(path, shared_data, communes_43)
    out = tmp_path / "out"
    assert main(["plan", "report", str(path), "--dept", "43", "--out", str(out)]) == 0
    assert {p.name for p in out.iterdir()} == {"annexe1.csv", "annexe1.xlsx", "carte.html",
                                               "rapport.html"}


def test_cli_assign_nearest_then_check(cli_db, tmp_path: Path,
                                       capsys: pytest.CaptureFixture[str]) -> None:
    from maillage_cli.main import main

    antennas = tmp_path / "antennes.csv"
    antennas.write_text("antenne;siege\nVelay;43157\nJeune Loire;Yssingeaux\nLafayette;43040\n",
                        encoding="utf-8")
    out = tmp_path / "assign.csv"
    for extra in ([], ["--keep-epci-whole"]):
        assert main(["plan", "assign", "--dept", "43", "--antennas", str(antennas),
                     "--out", str(out), *extra]) == 0
        capsys.readouterr()
        assert main(["plan", "check", str(out), "--dept", "43", "--json"]) == 0
        data = json.loads(capsys.readouterr().out)
        assert data["communes_covered"] == 257 and data["duplicates"] == []



def test_two_seats_in_one_territory_are_refused(shared_data: Path, communes_43) -> None:
    with pytest.raises(MaillageError, match="43157 et 43089"):
        plan_from_epci_grouping(
            shared_data / "territories" / "haute-loire-3-territoires-hypothese.csv",
            communes=communes_43, dept="43", seats=["43157", "43089", "43040"], name="x")
