"""Pieces shared by the ``maillage plan`` verbs (``plan``, ``plan_drive``, ``plan_propose``).

Kept free of heavy imports: the parser is built for every command, ``--help`` included.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import TYPE_CHECKING

from geo import settings
from geo.settings import DEFAULT_DETOUR, DEFAULT_SPEED_KMH

if TYPE_CHECKING:
    import geopandas as gpd

    from geo.traveltime import TravelTimeEngine


def add_drive(p: argparse.ArgumentParser) -> None:
    """The travel-time options: threshold, road network, detour and speed."""
    g = p.add_argument_group("temps de trajet")
    g.add_argument("--threshold", type=float, default=settings.DEFAULT_THRESHOLD_MINUTES,
                   help="seuil en minutes au-delà duquel une commune est une zone non couverte")
    g.add_argument("--roads", help="réseau routier : GraphML, .osm ou .osm.pbf ; sans : temps "
                                   "estimés à vol d'oiseau")
    g.add_argument("--detour", type=float, default=DEFAULT_DETOUR, help="facteur de détour (1,3)")
    g.add_argument("--speed", type=float, default=DEFAULT_SPEED_KMH, help="vitesse moyenne (km/h)")


def communes_for(dept: str) -> gpd.GeoDataFrame:
    """The communes of ``dept`` from the database."""
    from geo.communes import communes_frame
    from geo.db import get_engine

    with get_engine().connect() as conn:
        return communes_frame(conn, dept=dept)


def road_engine(args: argparse.Namespace) -> TravelTimeEngine | None:
    """The road engine of ``--roads``, or ``None`` for estimated times."""
    if not getattr(args, "roads", None):
        return None
    from geo.network import load_road_file
    from geo.traveltime import TravelTimeEngine

    return TravelTimeEngine.from_graph(load_road_file(Path(args.roads)))
