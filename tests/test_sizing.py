"""Sizing arithmetic: demand per commune and antenna, coordinators, caseload flags, weights."""

from __future__ import annotations

import math
from pathlib import Path

import pytest

from coverage.checks import check_plan
from coverage.plan import Antenna, Plan
from coverage.sizing import (
    SizingParameters,
    caseload_flag,
    commune_demand,
    coordinators_needed,
    read_weights,
)
from coverage.territories import plan_from_epci_grouping
from geo.errors import MaillageError

TOTAL_43 = 228_654


def _ant(plan: Plan, name: str) -> Antenna:
    antenna = plan.antenna(name)
    assert antenna is not None, name
    return antenna


@pytest.fixture
def demo(shared_data: Path, communes_43) -> Plan:
    return plan_from_epci_grouping(
        shared_data / "territories" / "haute-loire-3-territoires-hypothese.csv",
        communes=communes_43, dept="43", seats=["43157", "43268", "43040"], name="démo")


def test_1000_patients_over_three_antennas_by_population(demo: Plan, communes_43) -> None:
    result = check_plan(demo, communes_43)
    by_name = {a.name: a for a in result.antennas}
    # populations of the three territories (municipal population 2023)
    assert {n: a.population for n, a in by_name.items()} == {
        "Velay": 99_327, "Jeune Loire": 86_730, "Lafayette": 42_597}
    for a in result.antennas:
        assert a.demand == pytest.approx(1000 * a.population / TOTAL_43)
    assert by_name["Velay"].demand == pytest.approx(434.40, abs=0.01)
    assert by_name["Jeune Loire"].demand == pytest.approx(379.31, abs=0.01)
    assert by_name["Lafayette"].demand == pytest.approx(186.29, abs=0.01)
    assert result.demand_total == pytest.approx(1000)
    assert by_name["Velay"].coordinators_needed == {150: 3, 175: 3, 200: 3}
    assert by_name["Jeune Loire"].coordinators_needed == {150: 3, 175: 3, 200: 2}
    assert by_name["Lafayette"].coordinators_needed == {150: 2, 175: 2, 200: 1}
    assert result.structures == [{"name": "DAC", "antennas": ["Lafayette", "Velay",
                                                               "Jeune Loire"],
                                  "demand": 1000.0, "norm_ratio": 1.0}]


def test_coordinators_are_rounded_up() -> None:
    assert coordinators_needed(350.0) == {150: 3, 175: 2, 200: 2}
    assert coordinators_needed(175.0) == {150: 2, 175: 1, 200: 1}
    assert coordinators_needed(175.01) == {150: 2, 175: 2, 200: 1}
    assert coordinators_needed(0.2) == {150: 1, 175: 1, 200: 1}
    assert coordinators_needed(0.0) == {150: 0, 175: 0, 200: 0}
    # a float sum that lands a hair above an exact multiple does not add a coordinator
    assert coordinators_needed(0.1 * 3500) == {150: 3, 175: 2, 200: 2}
    assert coordinators_needed(320.0, ratios=(160,)) == {160: 2}


def test_caseload_flag_outside_150_200() -> None:
    assert caseload_flag(300.0, 2) is None  # 150: at the lower limit
    assert caseload_flag(400.0, 2) is None  # 200: at the upper limit
    assert caseload_flag(350.0, 2) is None
    under = caseload_flag(298.0, 2)
    assert under is not None and "sous-charge" in under and "149" in under
    over = caseload_flag(401.0, 2)
    assert over is not None and "surcharge" in over and "200" in over
    assert caseload_flag(300.0, 1.5) is None  # fractional FTE: 200 a coordinator
    assert caseload_flag(100.0, 0) == "aucun coordinateur proposé"
    assert caseload_flag(0.0, 0) is None
    assert caseload_flag(100.0, None) is None  # nothing proposed, nothing to flag


def test_proposed_coordinators_flagged_per_antenna(demo: Plan, communes_43) -> None:
    _ant(demo, "Velay").coordinators = 2  # 434 / 2 = 217 > 200
    _ant(demo, "Jeune Loire").coordinators = 2  # 379 / 2 = 190: fine
    _ant(demo, "Lafayette").coordinators = 2  # 186 / 2 = 93 < 150
    result = check_plan(demo, communes_43)
    flags = {a.name: a.caseload_flag for a in result.antennas}
    assert flags["Jeune Loire"] is None
    assert flags["Velay"] is not None and "surcharge" in flags["Velay"]
    assert flags["Lafayette"] is not None and "sous-charge" in flags["Lafayette"]
    data = result.to_json()
    assert {a["name"]: a["coordinators_proposed"] for a in data["antennas"]} == {
        "Velay": 2, "Jeune Loire": 2, "Lafayette": 2}


def test_rate_mode(demo: Plan, communes_43) -> None:
    params = SizingParameters(mode="rate", rate_per_1000=5)
    demand = commune_demand(communes_43, params)
    assert demand["43157"] == pytest.approx(18_540 * 5 / 1000)
    result = check_plan(demo, communes_43, sizing=params)
    assert result.demand_total == pytest.approx(TOTAL_43 * 5 / 1000)
    assert {s["name"]: s["norm_ratio"] for s in result.structures} == {"DAC": 1.14}
    velay = next(a for a in result.antennas if a.name == "Velay")
    assert velay.demand == pytest.approx(99_327 * 5 / 1000)
    assert velay.coordinators_needed[175] == math.ceil(99_327 * 5 / 1000 / 175)


def test_chosen_ratio_drives_the_json_count(demo: Plan, communes_43) -> None:
    params = SizingParameters(patients_per_coordinator=160)
    assert params.ratios == (150, 160, 175, 200)
    data = check_plan(demo, communes_43, sizing=params).to_json()
    velay = next(a for a in data["antennas"] if a["name"] == "Velay")
    assert velay["coordinators_needed"] == math.ceil(434.4 / 160)
    assert set(velay["coordinators_needed_by_ratio"]) == {"150", "160", "175", "200"}
    assert data["sizing"]["patients_per_coordinator"] == 160


@pytest.mark.parametrize("kwargs", [{"mode": "besoin"}, {"target": 0}, {"rate_per_1000": -1},
                                    {"patients_per_coordinator": 0}])
def test_bad_parameters_are_refused(kwargs: dict) -> None:
    with pytest.raises(MaillageError):
        SizingParameters(**kwargs)


def test_parameters_describe_themselves_in_french() -> None:
    assert SizingParameters().describe_fr().startswith(
        "file active cible du DAC : 1\u202f000 patients par an")
    assert "4,4 patients par an pour 1 000 habitants" in SizingParameters(
        mode="rate", rate_per_1000=4.4).describe_fr()
    assert "pondération : pop75.csv" in SizingParameters(weights_source="pop75.csv").describe_fr()


def test_weights_share_the_target(tmp_path: Path, communes_43) -> None:
    path = tmp_path / "pop75.csv"
    path.write_text("code_insee;pop75\n43157;3000\n43040;1000\n", encoding="utf-8")
    weights = read_weights(path, codes=set(communes_43.index))
    demand = commune_demand(communes_43, SizingParameters(), weights=weights)
    assert demand["43157"] == pytest.approx(750.0)
    assert demand["43040"] == pytest.approx(250.0)
    assert demand.drop(["43157", "43040"]).sum() == 0
    rate = commune_demand(communes_43, SizingParameters(mode="rate", rate_per_1000=50),
                          weights=weights)
    assert rate.sum() == pytest.approx(4000 * 50 / 1000)


@pytest.mark.parametrize("body, message", [
    ("code;poids\n43157;abc\n", "ligne 2 : poids illisible"),
    ("code;poids\n43157;10\n43157;12\n", "ligne 3 : commune 43157 déjà pondérée (ligne 2)"),
    ("code;poids\n43157;10\n63113;5\n", "ligne 3 : commune inconnue"),
    ("code;poids\n43157;-4\n", "ligne 2 : poids négatif"),
    ("code;poids\n43157;0\n", "aucun poids positif"),
    ("commune;age\n43157;4\n", "colonne « poids »"),
])
def test_weights_errors_are_clear(tmp_path: Path, communes_43, body: str, message: str) -> None:
    path = tmp_path / "poids.csv"
    path.write_text(body, encoding="utf-8")
    with pytest.raises(MaillageError, match="poids.csv") as info:
        read_weights(path, codes=set(communes_43.index))
    assert message in str(info.value)
