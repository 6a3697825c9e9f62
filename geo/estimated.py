"""Estimated travel times when no road network is available.

time = straight-line distance (Lambert-93) × detour factor ÷ average speed. The defaults
(1.3 and 60 km/h) are settings; every output labels these times
« temps estimés à vol d'oiseau ».
"""

from __future__ import annotations

import numpy as np
from shapely.geometry import Point
from shapely.geometry.base import BaseGeometry

from geo.traveltime import MODE_ESTIMATED, TravelTimeMatrix

DEFAULT_DETOUR = 1.3
DEFAULT_SPEED_KMH = 60.0


def estimated_matrix(origins_xy: np.ndarray, destinations_xy: np.ndarray, *,
                     detour: float = DEFAULT_DETOUR,
                     speed_kmh: float = DEFAULT_SPEED_KMH) -> TravelTimeMatrix:
    """Minutes between Lambert-93 points: distance × ``detour`` at ``speed_kmh``."""
    if detour < 1 or speed_kmh <= 0:
        raise ValueError("detour must be ≥ 1 and speed > 0")
    o = np.asarray(origins_xy, dtype=float).reshape(-1, 2)
    d = np.asarray(destinations_xy, dtype=float).reshape(-1, 2)
    metres = np.hypot(o[:, None, 0] - d[None, :, 0], o[:, None, 1] - d[None, :, 1])
    minutes = metres * detour / (speed_kmh * 1000.0 / 60.0)
    return TravelTimeMatrix(minutes=minutes, mode=MODE_ESTIMATED,
                            origin_snap_m=np.zeros(len(o)), destination_snap_m=np.zeros(len(d)),
                            parameters={"detour": detour, "speed_kmh": speed_kmh})


def estimated_isochrone(x: float, y: float, *, minutes: float, detour: float = DEFAULT_DETOUR,
                        speed_kmh: float = DEFAULT_SPEED_KMH) -> BaseGeometry:
    """Disc reachable within ``minutes`` in estimated mode (Lambert-93)."""
    radius = speed_kmh * 1000.0 / 60.0 * minutes / detour
    return Point(x, y).buffer(radius, quad_segs=32)
