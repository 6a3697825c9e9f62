"""Default speeds (km/h) by OSM ``highway`` class, for roads without ``maxspeed``.

French legal limits (Code de la route R413-2 …: 130 motorway, 110 expressway, 80 on
two-lane rural roads since 2018, 50 in built-up areas) lowered to typical *travelled*
speeds, since a coordinator's drive includes bends, villages and junctions. Used by
``osmnx.add_edge_speeds(hwy_speeds=...)``; a ``maxspeed`` tag, when present, wins.
"""

from __future__ import annotations

FRENCH_DEFAULT_SPEEDS: dict[str, float] = {
    "motorway": 115.0,
    "motorway_link": 60.0,
    "trunk": 95.0,
    "trunk_link": 50.0,
    "primary": 75.0,
    "primary_link": 45.0,
    "secondary": 70.0,
    "secondary_link": 40.0,
    "tertiary": 60.0,
    "tertiary_link": 35.0,
    "unclassified": 50.0,
    "residential": 35.0,
    "living_street": 15.0,
    "service": 20.0,
    "road": 40.0,
    "track": 15.0,
}

#: Speed used when a class is missing from the table (km/h).
FALLBACK_SPEED = 40.0
