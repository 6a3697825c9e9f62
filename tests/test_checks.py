"""The checks on hand-made plans over the real Haute-Loire communes, with known answers."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from coverage.checks import adjacency, check_plan, format_check
from coverage.plan import Antenna, Plan
from coverage.territories import plan_from_epci_grouping

STABLE_KEYS = {"departement", "communes_total", "communes_covered", "uncovered", "duplicates",
               "unknown", "antennas", "demand_total", "ok"}
ANTENNA_KEYS = {"name", "seat", "communes", "population", "demand", "coordinators_needed"}


def _ant(plan: Plan, name: str) -> Antenna:
    antenna = plan.antenna(name)
    assert antenna is not None, name
    return antenna


@pytest.fixture
def demo(shared_data: Path, communes_43) -> Plan:
    return plan_from_epci_grouping(
        shared_data / "territories" / "haute-loire-3-territoires-hypothese.csv",
        communes=communes_43, dept="43", seats=["43157", "43268", "43040"], name="démo")


def _antenna(result, name: str):
    return next(a for a in result.antennas if a.name == name)


def test_full_plan(demo: Plan, communes_43) -> None:
    result = check_plan(demo, communes_43)
    data = result.to_json()
    assert set(data) >= STABLE_KEYS and data["ok"] is True
    assert all(set(a) >= ANTENNA_KEYS for a in data["antennas"])
    assert (data["departement"], data["communes_total"], data["communes_covered"]) == (
        "43", 257, 257)
    assert data["uncovered"] == [] and data["duplicates"] == [] and data["unknown"] == []
    assert sum(a["communes"] for a in data["antennas"]) == 257
    assert sum(a["population"] for a in data["antennas"]) == 228_654
    assert sum(a.area_km2 for a in result.antennas) == pytest.approx(
        communes_43["area_km2"].sum())
    assert all(a.enclaves == [] and a.seat_in_territory for a in result.antennas)
    assert data["epci_split"] == []
    # the drive-time hook is present and empty until the lead fills it
    assert data["drive_times"] is None and data["beyond_threshold"] == []
    json.dumps(data)  # plain JSON types only


def test_three_missing_two_duplicated_exactly_named(demo: Plan, communes_43) -> None:
    velay, jeune = demo.antenna("Velay"), demo.antenna("Jeune Loire")
    assert velay is not None and jeune is not None
    missing = ["43002", "43089", "43152"]  # Aiguilhe, Espaly-Saint-Marcel, Polignac
    for code in missing:
        velay.communes.remove(code)
    duplicated = ["43268", "43137"]  # Yssingeaux, Monistrol-sur-Loire also given to Velay
    velay.communes.extend(duplicated)
    result = check_plan(demo, communes_43)
    data = result.to_json()
    assert data["ok"] is False
    assert data["uncovered"] == missing
    assert data["uncovered_population"] == int(communes_43.loc[missing, "population"].sum())
    assert data["duplicates"] == [{"code": "43137", "antennas": ["Velay", "Jeune Loire"]},
                                  {"code": "43268", "antennas": ["Velay", "Jeune Loire"]}]
    assert data["communes_covered"] == 254
    # population is counted in every antenna that claims a commune; demand is shared
    # (1/k for each of k claims) so that the demand total stays true
    pops = communes_43["population"]
    assert sum(a["population"] for a in data["antennas"]) == (
        228_654 - pops[missing].sum() + pops[duplicated].sum())
    assert result.demand_total == pytest.approx(
        1000 * (1 - communes_43.loc[missing, "population"].sum() / 228_654))
    text = format_check(result)
    assert "NON CONFORME" in text and "254/257" in text
    for code in missing + duplicated:
        assert f"{code} {communes_43.loc[code, 'nom']}" in text
    assert "Velay, Jeune Loire" in text


def test_adjacency_uses_shared_borders(communes_43) -> None:
    codes = list(communes_43.index)
    pairs = {frozenset((codes[a], codes[b])) for a, b in adjacency(communes_43)}
    assert frozenset(("43002", "43089")) in pairs  # Aiguilhe – Espaly-Saint-Marcel
    assert frozenset(("43114", "43142")) in pairs  # Lapte – Montregard: a ~40 m border
    assert frozenset(("43157", "43040")) not in pairs  # Le Puy – Brioude
    neighbours = {c for p in pairs if "43157" in p for c in p} - {"43157"}
    assert neighbours == {"43002", "43041", "43046", "43078", "43084", "43089", "43152",
                          "43174", "43251"}


def test_enclave_handed_to_another_antenna(demo: Plan, communes_43) -> None:
    # Ally (43006), deep in Lafayette's territory, handed to Velay.
    _ant(demo, "Lafayette").communes.remove("43006")
    _ant(demo, "Velay").communes.append("43006")
    result = check_plan(demo, communes_43)
    assert _antenna(result, "Velay").enclaves == [["43006"]]
    assert _antenna(result, "Lafayette").enclaves == []
    assert "enclave (non contiguë) : 43006 Ally" in format_check(result)
    split = result.to_json()["epci_split"]
    assert [s["antennas"] for s in split] == [["Lafayette", "Velay"]]
    assert split[0]["epci"] == communes_43.loc["43006", "epci"]


def test_enclave_is_what_is_cut_off_from_the_seat_not_the_smallest_part(communes_43) -> None:
    # The seat (Le Puy) stands alone; Brioude and its seven neighbours form a bigger
    # block elsewhere: that block is the enclave.
    block = ["43040", "43022", "43074", "43096", "43110", "43147", "43207", "43262"]
    plan = Plan(name="t", dept="43", antennas=[
        Antenna(name="A", seat="43157", communes=["43157", *block])])
    a = check_plan(plan, communes_43).antennas[0]
    assert a.enclaves == [sorted(block)]
    assert a.seat_in_territory is True


def test_seat_outside_and_foreign_codes(communes_43) -> None:
    plan = Plan(name="t", dept="43", antennas=[
        Antenna(name="A", seat="43040", communes=["43157", "43002", "63113"])])
    result = check_plan(plan, communes_43, unknown=["Commune Imaginaire"])
    assert result.antennas[0].seat_in_territory is False
    assert result.antennas[0].communes == ["43157", "43002"]
    assert result.unknown == ["Commune Imaginaire", "63113"]
    data = result.to_json()
    assert data["antennas"][0]["seat_in_territory"] is False
    assert data["uncovered"] == sorted(set(communes_43.index) - {"43157", "43002"})
    assert "n'est pas dans le territoire" in format_check(result)


def test_empty_antenna_and_empty_plan(communes_43) -> None:
    plan = Plan(name="vide", dept="43", antennas=[Antenna(name="Seule", seat="43157")])
    data = check_plan(plan, communes_43).to_json()
    assert data["communes_covered"] == 0 and len(data["uncovered"]) == 257
    assert data["antennas"][0]["communes"] == 0
    assert data["antennas"][0]["coordinators_needed"] == 0
    assert data["demand_total"] == 0


def test_text_rendering_is_french(demo: Plan, communes_43) -> None:
    text = format_check(check_plan(demo, communes_43))
    assert "257/257 communes couvertes" in text
    assert "couverture complète et unique" in text
    assert "Velay (siège 43157 Le Puy-en-Velay) : 114 communes" in text
    assert "File active totale : 1\u202f000,0 patients par an" in text
