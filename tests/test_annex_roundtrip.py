"""The Annex 1 (CSV and XLSX) keeps the whole plan: importing it back gives the same plan,
seats, coordinators and drive times included (issue 14, item 5)."""

from __future__ import annotations

import copy
from pathlib import Path

import pytest


@pytest.fixture(scope="module")
def demo_plan(shared_data: Path, communes_43):
    from coverage.territories import plan_from_epci_grouping

    plan = plan_from_epci_grouping(
        shared_data / "territories" / "haute-loire-3-territoires-hypothese.csv",
        communes=communes_43, dept="43", seats=["43157", "43268", "43040"], name="Démo")
    plan.antennas[0].coordinators = 2.5
    # An uncovered commune and a commune claimed twice: the Annex lists both.
    plan.antennas[0].communes.remove("43001")
    plan.antennas[1].communes.append(plan.antennas[2].communes[0])
    return plan


def _summary(plan) -> list[tuple]:
    return sorted((a.name, a.seat, a.structure, a.coordinators, tuple(sorted(a.communes)))
                  for a in plan.antennas)


@pytest.mark.parametrize("kind", ["annex_csv", "annex_xlsx"])
def test_annex_round_trip_restores_the_plan(demo_plan, communes_43, tmp_path, kind) -> None:
    from coverage.annex import annex_table, write_annex
    from coverage.checks import check_plan
    from coverage.drivetimes import plan_drive_times
    from coverage.planfile import read_plan_file

    plan = copy.deepcopy(demo_plan)
    check = check_plan(plan, communes_43, drive_times=plan_drive_times(plan, communes_43))
    paths = write_annex(annex_table(plan, communes_43, check), tmp_path)
    back = read_plan_file(paths[kind], communes=communes_43, dept="43", name="Démo")
    # The commune claimed twice is reported (as in any promoter's file), nothing else.
    assert [p.message.split(" :")[0] for p in back.problems] == ["unicité non respectée"]
    assert _summary(back.plan) == _summary(plan)
    again = check_plan(back.plan, communes_43,
                       drive_times=plan_drive_times(back.plan, communes_43))
    assert again.drive_times is not None and check.drive_times is not None
    assert again.drive_times.minutes == check.drive_times.minutes
    assert again.drive_times.label == check.drive_times.label
    assert again.uncovered == check.uncovered == ["43001"]
    assert again.duplicates == check.duplicates


def test_annex_names_the_seat_and_time_mode(demo_plan, communes_43) -> None:
    from coverage.annex import annex_table
    from coverage.checks import check_plan
    from coverage.drivetimes import plan_drive_times

    check = check_plan(demo_plan, communes_43,
                       drive_times=plan_drive_times(demo_plan, communes_43))
    table = annex_table(demo_plan, communes_43, check).set_index("code_insee")
    assert table.loc["43157", "siege"] == "oui"
    assert (table["code_insee_siege"].loc[table["antenne"] == demo_plan.antennas[0].name]
            == demo_plan.antennas[0].seat).all()
    assert "vol d'oiseau" in table.loc["43157", "mode_temps"]
    assert table.loc["43001", "statut"] == "non couverte"
