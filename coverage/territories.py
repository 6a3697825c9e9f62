"""Build a plan from a grouping of EPCI into territories (a user's file, not a source).

File format: ``code_epci;nom_epci;territoire`` — one antenna per territory, seated in
the given commune (which must lie in the territory).
"""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd

from coverage.plan import Antenna, Plan
from geo.errors import MaillageError
from geo.tables import read_table


def plan_from_epci_grouping(path: str | Path, *, communes: gpd.GeoDataFrame, dept: str,
                            seats: list[str], name: str, structure: str = "DAC") -> Plan:
    """One antenna per territory; ``seats`` are INSEE codes, one inside each territory."""
    table = read_table(path)
    epci_col = table.column({"code epci", "epci", "siren", "code siren"})
    territory_col = table.column({"territoire", "territory", "antenne"})
    if epci_col is None or territory_col is None:
        raise MaillageError(f"« {table.path.name} » : colonnes « code_epci » et « territoire » "
                            "attendues.")
    territory_of: dict[str, str] = {}
    for line, row in table.rows:
        epci, territory = row[epci_col].strip(), row[territory_col].strip()
        if not territory:
            raise MaillageError(f"« {table.path.name} », ligne {line} : territoire vide.")
        territory_of[epci] = territory
    antennas: dict[str, Antenna] = {}
    for code, epci in zip(communes.index, communes["epci"], strict=True):
        group = territory_of.get(str(epci))
        if group is None:
            continue  # left uncovered: the checks will say so
        antennas.setdefault(group, Antenna(name=group, structure=structure)
                            ).communes.append(str(code))
    for seat in seats:
        owner = next((a for a in antennas.values() if seat in a.communes), None)
        if owner is None:
            raise MaillageError(f"Le siège {seat} n'est dans aucun territoire de « {table.path.name} ».")
        if owner.seat is not None and owner.seat != seat:
            raise MaillageError(
                f"Les sièges {owner.seat} et {seat} sont tous deux dans le territoire "
                f"« {owner.name} » : un siège par territoire.")
        owner.seat = seat
    return Plan(name=name, dept=dept, antennas=list(antennas.values()))
