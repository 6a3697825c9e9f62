"""The Annex 1 table: every commune of the département with its antenna and DAC.

A commune claimed by several antennas appears once per claim (flagged « doublon ») so
that the ARS sees every conflicting claim; an uncovered commune appears once with an
empty antenna (flagged « non couverte »).

The table keeps everything a plan is made of — the seat of each antenna (``siege``:
oui/non on the seat's row, and ``code_insee_siege`` on every row), the coordinators
chosen for an antenna, the drive time and how it was computed (``mode_temps``) — so
that ``plan import`` of an Annex 1 (CSV or XLSX) gives back the same plan.
"""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import pandas as pd

from coverage.checks import CheckResult
from coverage.plan import Plan

COLUMNS = ["code_insee", "commune", "population", "code_epci", "epci", "antenne", "dac",
           "siege", "code_insee_siege", "coordinateurs", "temps_minutes", "mode_temps",
           "statut"]


def annex_table(plan: Plan, communes: gpd.GeoDataFrame, check: CheckResult) -> pd.DataFrame:
    """One row per commune (per claim for duplicates), sorted by INSEE code."""
    structure_of = {a.name: a.structure for a in plan.antennas}
    seat_of = {a.name: a.seat for a in plan.antennas}
    coordinators_of = {a.name: a.coordinators for a in plan.antennas}
    claims = plan.claims()
    minutes = check.drive_times.minutes if check.drive_times else {}
    antenna_of = check.drive_times.antenna_of if check.drive_times else {}
    mode = check.drive_times.label if check.drive_times else ""
    rows = []
    for code, row in communes.iterrows():
        ants = claims.get(str(code), [])
        base = {"code_insee": code, "commune": row["nom"], "population": int(row["population"]),
                "code_epci": row.get("epci") or "", "epci": row.get("epci_nom") or ""}
        if not ants:
            rows.append({**base, "antenne": "", "dac": "", "siege": "",
                         "code_insee_siege": "", "coordinateurs": None,
                         "temps_minutes": None, "mode_temps": "", "statut": "non couverte"})
        for ant in ants:
            t = minutes.get(str(code)) if antenna_of.get(str(code)) == ant else None
            finite = t is not None and t == t and t != float("inf")
            rows.append({**base, "antenne": ant, "dac": structure_of.get(ant, ""),
                         "siege": "oui" if seat_of.get(ant) == str(code) else "non",
                         "code_insee_siege": seat_of.get(ant) or "",
                         "coordinateurs": coordinators_of.get(ant),
                         "temps_minutes": round(t, 1) if finite and t is not None else None,
                         "mode_temps": mode if finite else "",
                         "statut": "doublon" if len(ants) > 1 else "couverte"})
    return pd.DataFrame(rows, columns=COLUMNS)


def write_annex(table: pd.DataFrame, out_dir: Path, *, stem: str = "annexe1") -> dict[str, Path]:
    """CSV (``;``, UTF-8 with BOM so that Excel shows the accents) and XLSX.

    Both go through ``geo.spreadsheet``: a name starting with ``=``, ``+``, ``-`` or
    ``@`` can never become a formula in the ARS's spreadsheet.
    """
    from geo.spreadsheet import write_csv, write_xlsx

    out_dir.mkdir(parents=True, exist_ok=True)
    rows = annex_rows(table)
    csv_path = write_csv(out_dir / f"{stem}.csv", list(table.columns), rows)
    xlsx_path = write_xlsx(out_dir / f"{stem}.xlsx", [("Annexe 1", list(table.columns), rows)],
                           widths={"Annexe 1": ANNEX_WIDTHS})
    return {"annex_csv": csv_path, "annex_xlsx": xlsx_path}


ANNEX_WIDTHS = (11, 32, 11, 12, 40, 24, 24, 7, 12, 13, 14, 34, 13)


def annex_rows(table: pd.DataFrame) -> list[list[object]]:
    """The table's rows as plain Python values (NaN as empty cells)."""
    return [[None if isinstance(v, float) and v != v else v for v in row]
            for row in table.itertuples(index=False, name=None)]
