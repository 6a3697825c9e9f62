"""First assignment of every commune to its nearest antenna by drive time.

With ``keep_epci_whole``, each EPCI goes as a block to the antenna that minimises the
population-weighted time of its communes (partnerships follow EPCI perimeters).
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np

from coverage.plan import Antenna, Plan
from geo.traveltime import TravelTimeMatrix


def assign_nearest(antennas: list[Antenna], communes: gpd.GeoDataFrame,
                   matrix: TravelTimeMatrix, *, dept: str, name: str,
                   keep_epci_whole: bool = False) -> Plan:
    """A plan assigning each commune to an antenna (rows of ``matrix`` = ``antennas``)."""
    minutes = np.where(np.isfinite(matrix.minutes), matrix.minutes, 1e9)
    choice = minutes.argmin(axis=0)
    if keep_epci_whole:
        pops = communes["population"].to_numpy(dtype=float) + 1.0  # empty communes still count
        epcis = communes["epci"].fillna("").to_numpy()
        for epci in set(epcis) - {""}:
            members = np.flatnonzero(epcis == epci)
            cost = (minutes[:, members] * pops[members]).sum(axis=1)
            choice[members] = int(cost.argmin())
    plan = Plan(name=name, dept=dept,
                antennas=[Antenna(name=a.name, seat=a.seat, structure=a.structure, lon=a.lon,
                                  lat=a.lat, coordinators=a.coordinators) for a in antennas])
    codes = list(communes.index)
    for j, i in enumerate(choice):
        plan.antennas[int(i)].communes.append(codes[j])
    return plan


def write_plan_csv(plan: Plan, path, *, communes: gpd.GeoDataFrame,
                   minutes: dict[str, float] | None = None) -> None:
    """The plan in the format ``plan import`` reads (``;``, UTF-8 with BOM)."""
    from geo.spreadsheet import write_csv

    rows = []
    for antenna in plan.antennas:
        for code in antenna.communes:
            t = (minutes or {}).get(code)
            rows.append([code, communes.loc[code, "nom"], antenna.name, antenna.seat or "",
                         antenna.structure,
                         "" if t is None or not np.isfinite(t) else f"{t:.1f}"])
    write_csv(path, ["code_insee", "commune", "antenne", "siege", "structure", "temps_minutes"],
              rows, decimal_comma=False)
