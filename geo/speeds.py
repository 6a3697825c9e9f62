"""Default speeds (km/h) by OSM ``highway`` class, for roads without a ``maxspeed`` tag.

French legal limits (Code de la route, art. R413-2 and following): 130 km/h on motorways,
110 on dual carriageways (voies express), 80 on two-lane rural roads since 2018 (90 again
on some départemental roads), 50 in built-up areas, 20-30 in zones de rencontre / zones 30.
Motorway and expressway values are lowered to a realistic free-flow *travelled* speed
(traffic, junctions, slopes); rural classes keep the limit that applies to them, since
villages crossed by those roads are usually tagged ``maxspeed=50`` (or ``FR:urban``) in
OpenStreetMap. Ramps (``*_link``) are short and slow.

A ``maxspeed`` tag, when present and parsable (``"80"``, ``"FR:urban"``, ``"FR:rural"``,
``"50;30"`` …), wins: :func:`osmnx.add_edge_speeds` reads it first and uses this table only
for edges without it.
"""

from __future__ import annotations

FRENCH_DEFAULT_SPEEDS: dict[str, float] = {
    "motorway": 115.0,        # autoroute, 130 legal
    "motorway_link": 60.0,    # bretelle
    "trunk": 100.0,           # voie express / route nationale à 2×2 voies, 110 legal
    "trunk_link": 60.0,
    "primary": 80.0,          # route nationale ou grande départementale, 80 legal
    "primary_link": 50.0,
    "secondary": 80.0,        # route départementale, 80 legal
    "secondary_link": 50.0,
    "tertiary": 70.0,         # petite départementale, sinueuse
    "tertiary_link": 40.0,
    "unclassified": 60.0,     # route communale hors agglomération
    "residential": 40.0,      # rue, 50 legal, often zone 30
    "living_street": 20.0,    # zone de rencontre, 20 legal
    "service": 25.0,          # voie de desserte (kept by the "drive_service" filter only)
    "road": 50.0,             # class not yet known to OSM contributors
}

#: Speed (km/h) for a class missing from the table and without any tagged ``maxspeed``.
FALLBACK_SPEED = 50.0

#: ``highway`` values a car cannot use (the osmnx ``network_type="drive"`` filter), for
#: graphs read from local OSM files, which osmnx does not filter by network type.
NOT_DRIVABLE_HIGHWAYS = frozenset({
    "abandoned", "bridleway", "bus_guideway", "construction", "corridor", "cycleway",
    "elevator", "escalator", "footway", "no", "path", "pedestrian", "planned", "platform",
    "proposed", "raceway", "razed", "rest_area", "service", "services", "steps", "track",
    "bus_stop", "busway", "via_ferrata", "emergency_bay",
})


def speed_table_markdown() -> str:
    """The speed table as Markdown (for the documentation and reports)."""
    lines = ["| highway | km/h |", "|---|---|"]
    lines += [f"| {k} | {v:g} |" for k, v in FRENCH_DEFAULT_SPEEDS.items()]
    return "\n".join(lines)
