"""Coordinate reference systems: measure in Lambert-93 (EPSG:2154), serve in WGS84.

One cached :class:`pyproj.Transformer` per CRS pair, always with ``always_xy=True`` so
that coordinates are (x, y) = (lon, lat) whatever the CRS axis order. No other module
builds its own Transformer: call :func:`transformer` or the helpers below.
"""

from __future__ import annotations

from functools import lru_cache
from typing import TYPE_CHECKING

import numpy as np
import shapely
from pyproj import CRS, Transformer

from geo.settings import LAMBERT93, WGS84

if TYPE_CHECKING:
    from shapely.geometry.base import BaseGeometry

__all__ = ["LAMBERT93", "WGS84", "transformer", "to_lambert93", "to_wgs84",
           "transform_xy", "transform_geometry", "utm_crs_for_dept"]


@lru_cache(maxsize=32)
def transformer(source: str, target: str) -> Transformer:
    """Return the cached transformer from ``source`` to ``target`` (``always_xy=True``)."""
    return Transformer.from_crs(CRS.from_user_input(source), CRS.from_user_input(target),
                                always_xy=True)


def transform_xy(x: np.ndarray | float, y: np.ndarray | float, *, source: str,
                 target: str) -> tuple[np.ndarray, np.ndarray]:
    """Transform coordinate arrays (x = easting/longitude, y = northing/latitude)."""
    tx, ty = transformer(source, target).transform(np.asarray(x, dtype=float),
                                                   np.asarray(y, dtype=float))
    return np.asarray(tx), np.asarray(ty)


def transform_geometry(geom: BaseGeometry, *, source: str, target: str) -> BaseGeometry:
    """Transform a shapely geometry between two CRS."""
    t = transformer(source, target)

    def project(coords: np.ndarray) -> np.ndarray:
        x, y = t.transform(coords[:, 0], coords[:, 1])
        return np.column_stack([x, y])

    return shapely.transform(geom, project)


def to_lambert93(geom: BaseGeometry, *, source: str = WGS84) -> BaseGeometry:
    """Project a WGS84 geometry to Lambert-93 (metres), for measuring."""
    return transform_geometry(geom, source=source, target=LAMBERT93)


def to_wgs84(geom: BaseGeometry, *, source: str = LAMBERT93) -> BaseGeometry:
    """Project a Lambert-93 geometry to WGS84 (degrees), for serving."""
    return transform_geometry(geom, source=source, target=WGS84)


def utm_crs_for_dept(dept: str) -> str:
    """UTM CRS used by FINESS for overseas départements (metropolitan: Lambert-93)."""
    return {
        "971": "EPSG:32620", "972": "EPSG:32620", "973": "EPSG:2972",
        "974": "EPSG:2975", "976": "EPSG:4471", "975": "EPSG:32621",
    }.get(dept, LAMBERT93)
