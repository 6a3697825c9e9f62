"""Estimated travel times when no road network is available.

time = straight-line distance (Lambert-93, metres) × detour factor ÷ average speed.
The defaults (1.3 and 60 km/h) are keyword settings; every output labels these times
« temps estimés à vol d'oiseau » (:data:`geo.traveltime.MODE_LABELS`). The matching
isochrones are discs of radius speed × t ÷ detour.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike
from shapely.geometry import Point
from shapely.geometry.base import BaseGeometry

from geo.errors import MaillageError
from geo.settings import DEFAULT_DETOUR, DEFAULT_SPEED_KMH
from geo.traveltime import MODE_ESTIMATED, MODE_LABELS, TravelTimeMatrix

__all__ = ["DEFAULT_DETOUR", "DEFAULT_SPEED_KMH", "ESTIMATED_LABEL", "estimated_matrix",
           "estimated_minutes", "estimated_radius_m", "estimated_isochrone"]

#: The label every output in this mode must show.
ESTIMATED_LABEL = MODE_LABELS[MODE_ESTIMATED]


def _check(detour: float, speed_kmh: float) -> None:
    if not (np.isfinite(detour) and detour >= 1.0):
        raise MaillageError(f"Facteur de détour invalide : {detour} (attendu : ≥ 1, ex. 1,3).")
    if not (np.isfinite(speed_kmh) and speed_kmh > 0):
        raise MaillageError(f"Vitesse moyenne invalide : {speed_kmh} km/h (attendu : > 0).")


def estimated_minutes(distance_m: ArrayLike, *, detour: float = DEFAULT_DETOUR,
                      speed_kmh: float = DEFAULT_SPEED_KMH) -> np.ndarray:
    """Minutes for straight-line distances in metres: ``d × detour ÷ speed``."""
    _check(detour, speed_kmh)
    return np.asarray(distance_m, dtype=float) * detour / (speed_kmh * 1000.0 / 60.0)


def estimated_matrix(origins_xy: ArrayLike, destinations_xy: ArrayLike, *,
                     detour: float = DEFAULT_DETOUR,
                     speed_kmh: float = DEFAULT_SPEED_KMH) -> TravelTimeMatrix:
    """Minutes between Lambert-93 points (``(n, 2)`` arrays), mode ``"estimated"``.

    Examples
    --------
    >>> estimated_matrix([[0, 0]], [[10_000, 0]]).minutes   # 10 km × 1.3 at 60 km/h
    array([[13.]])
    """
    o = np.asarray(origins_xy, dtype=float).reshape(-1, 2)
    d = np.asarray(destinations_xy, dtype=float).reshape(-1, 2)
    metres = np.hypot(o[:, None, 0] - d[None, :, 0], o[:, None, 1] - d[None, :, 1])
    minutes = estimated_minutes(metres, detour=detour, speed_kmh=speed_kmh)
    return TravelTimeMatrix(minutes=minutes, mode=MODE_ESTIMATED,
                            origin_snap_m=np.zeros(len(o)), destination_snap_m=np.zeros(len(d)),
                            parameters={"detour": float(detour), "speed_kmh": float(speed_kmh)})


def estimated_radius_m(minutes: float, *, detour: float = DEFAULT_DETOUR,
                       speed_kmh: float = DEFAULT_SPEED_KMH) -> float:
    """Straight-line distance (m) covered in ``minutes``: speed × t ÷ detour."""
    _check(detour, speed_kmh)
    return speed_kmh * 1000.0 / 60.0 * float(minutes) / detour


def estimated_isochrone(x: float, y: float, *, minutes: float, detour: float = DEFAULT_DETOUR,
                        speed_kmh: float = DEFAULT_SPEED_KMH) -> BaseGeometry:
    """Disc reachable within ``minutes`` in estimated mode, around a Lambert-93 point."""
    radius = estimated_radius_m(minutes, detour=detour, speed_kmh=speed_kmh)
    return Point(x, y).buffer(radius, quad_segs=32)
