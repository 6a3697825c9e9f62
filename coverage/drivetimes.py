"""Drive time from every covered commune to its antenna, and the uncovered zones.

Antenna sites are the exact point given in the plan, else the representative point of
the seat commune. Times come from the road engine when a graph is given, otherwise
from the estimated mode (straight line × detour ÷ speed) — the label says which.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import geopandas as gpd
import numpy as np

from coverage.plan import Plan
from geo import settings
from geo.crs import transform_xy
from geo.estimated import DEFAULT_DETOUR, DEFAULT_SPEED_KMH, estimated_matrix
from geo.traveltime import TravelTimeEngine, TravelTimeMatrix, times_label


@dataclass
class DriveTimes:
    """Per commune: minutes to the antenna covering it (first antenna if duplicated)."""

    mode: str
    threshold: float
    minutes: dict[str, float] = field(default_factory=dict)
    antenna_of: dict[str, str] = field(default_factory=dict)
    sites: dict[str, tuple[float, float]] = field(default_factory=dict)  # Lambert-93
    parameters: dict[str, float] = field(default_factory=dict)
    far_from_road: list[str] = field(default_factory=list)
    #: Where road times come from, with the data's date (empty when estimated).
    source: str = ""

    @property
    def label(self) -> str:
        """French label shown by every output, with the road extract and its date."""
        return times_label(self.mode, self.source)

    def beyond(self) -> list[tuple[str, float]]:
        """Communes farther than the threshold, sorted by decreasing time."""
        out = [(c, m) for c, m in self.minutes.items() if not m <= self.threshold]
        return sorted(out, key=lambda cm: (-cm[1], cm[0]))


def antenna_sites(plan: Plan, communes: gpd.GeoDataFrame) -> dict[str, tuple[float, float]]:
    """Lambert-93 site of each antenna that has a seat or an exact point."""
    sites: dict[str, tuple[float, float]] = {}
    for antenna in plan.antennas:
        if antenna.lon is not None and antenna.lat is not None:
            x, y = transform_xy(antenna.lon, antenna.lat, source=settings.WGS84,
                                target=settings.LAMBERT93)
            sites[antenna.name] = (float(x), float(y))
        elif antenna.seat and antenna.seat in communes.index:
            row = communes.loc[antenna.seat]
            sites[antenna.name] = (float(row["point_x"]), float(row["point_y"]))
    return sites


def site_matrix(sites_xy: np.ndarray, communes: gpd.GeoDataFrame, *,
                engine: TravelTimeEngine | None = None, detour: float = DEFAULT_DETOUR,
                speed_kmh: float = DEFAULT_SPEED_KMH) -> TravelTimeMatrix:
    """Sites × communes matrix, by road when ``engine`` is given, else estimated."""
    points = communes[["point_x", "point_y"]].to_numpy(dtype=float)
    if engine is not None:
        return engine.matrix(sites_xy, points, crs=settings.LAMBERT93)
    return estimated_matrix(sites_xy, points, detour=detour, speed_kmh=speed_kmh)


def plan_drive_times(plan: Plan, communes: gpd.GeoDataFrame, *,
                     threshold: float = settings.DEFAULT_THRESHOLD_MINUTES,
                     engine: TravelTimeEngine | None = None, detour: float = DEFAULT_DETOUR,
                     speed_kmh: float = DEFAULT_SPEED_KMH) -> DriveTimes:
    """Drive time from each covered commune to its antenna's site."""
    sites = antenna_sites(plan, communes)
    names = list(sites)
    if names:
        matrix = site_matrix(np.array([sites[n] for n in names]), communes, engine=engine,
                             detour=detour, speed_kmh=speed_kmh)
    else:
        matrix = estimated_matrix(np.zeros((0, 2)), np.zeros((0, 2)))
    result = DriveTimes(mode=matrix.mode, threshold=threshold, sites=sites,
                        parameters=dict(matrix.parameters), source=matrix.source)
    position = {code: j for j, code in enumerate(communes.index)}
    row_of = {name: i for i, name in enumerate(names)}
    if engine is not None:
        far = set(matrix.far_from_road().tolist())
        result.far_from_road = [communes.index[j] for j in sorted(far)]
    for antenna in plan.antennas:
        if antenna.name not in row_of:
            continue
        i = row_of[antenna.name]
        for code in antenna.communes:
            if code in position and code not in result.minutes:
                result.minutes[code] = float(matrix.minutes[i, position[code]])
                result.antenna_of[code] = antenna.name
    return result
