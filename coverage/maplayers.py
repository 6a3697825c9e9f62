"""The layers of a plan map, drawn the same way by the web pages, the folium export and
the report's SVG map.

:func:`plan_layers` says *what* is drawn (communes with a status, antennas with their
colour, seats, the legend); the styles come from :mod:`geo.mapstyle`. Antenna colours
come from a graph colouring of the shared-border graph of the antennas, so two
neighbouring antennas never share a colour, and depend only on the plan and the
communes: an antenna has the same colour on every page and in every file.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from coverage.checks import CheckResult, adjacency
from coverage.drivetimes import antenna_sites
from coverage.plan import Plan
from geo import mapstyle
from geo.basemap import coverage_simplified, encode, to_wgs84

if TYPE_CHECKING:
    import geopandas as gpd

#: Simplification of plan maps (metres, Lambert-93), shared borders kept.
SIMPLIFY_M = 60.0


def antenna_graph(plan: Plan, communes: gpd.GeoDataFrame) -> dict[str, set[str]]:
    """Antennas that share a border (or a commune claimed by both)."""
    names = [a.name for a in plan.antennas]
    graph: dict[str, set[str]] = {n: set() for n in names}
    position = {str(code): i for i, code in enumerate(communes.index)}
    owners: dict[int, set[str]] = {}
    for code, ants in plan.claims().items():
        if code in position:
            owners.setdefault(position[code], set()).update(ants)
    for owned in owners.values():   # a commune claimed twice joins its antennas
        for a in owned:
            graph[a].update(owned - {a})
    for i, j in adjacency(communes):
        left, right = owners.get(i), owners.get(j)
        if not left or not right:
            continue
        for a in left:
            for b in right:
                if a != b:
                    graph[a].add(b)
                    graph[b].add(a)
    return graph


def antenna_colours(plan: Plan, communes: gpd.GeoDataFrame, *,
                    palette: tuple[str, ...] = mapstyle.PALETTE) -> dict[str, str]:
    """A colour per antenna; neighbours on the shared-border graph always differ.

    DSatur order (most constrained antenna first, ties by degree then plan order). Each
    antenna takes the first palette colour that no neighbour has, preferring colours
    not used yet, so that up to ``len(palette)`` antennas all get distinct colours and
    more antennas reuse colours only far apart.
    """
    graph = antenna_graph(plan, communes)
    family = (mapstyle.PALETTE_FAMILY if palette == mapstyle.PALETTE
              else tuple(range(len(palette))))
    order = {a.name: i for i, a in enumerate(plan.antennas)}
    colour_of: dict[str, int] = {}
    used: set[int] = set()
    while len(colour_of) < len(graph):
        todo = [n for n in graph if n not in colour_of]

        def key(n: str) -> tuple[int, int, int]:
            sat = len({colour_of[m] for m in graph[n] if m in colour_of})
            return (-sat, -len(graph[n]), order[n])

        name = min(todo, key=key)
        taken = {colour_of[m] for m in graph[name] if m in colour_of}
        families = {family[k] for k in taken}
        # Free colours, those of a hue family no neighbour has first (blue next to light
        # blue is legal but reads badly).
        free = sorted((k for k in range(len(palette)) if k not in taken),
                      key=lambda k: (family[k] in families, k))
        fresh = [k for k in free if k not in used]
        # More neighbours than colours (never seen on real plans): cycle, documented.
        pick = fresh[0] if fresh else (free[0] if free else len(colour_of) % len(palette))
        colour_of[name] = pick
        used.add(pick)
    return {n: palette[colour_of[n]] for n in sorted(graph, key=order.__getitem__)}


@dataclass
class CommuneFeature:
    code: str
    name: str
    population: int
    antennas: list[str]
    status: str              # "antenna", "duplicate", "uncovered"
    geometry: Any            # simplified, Lambert-93
    minutes: float | None = None
    beyond: bool = False


@dataclass
class Seat:
    antenna: str
    colour: str
    commune: str | None
    commune_name: str | None
    x: float                 # Lambert-93
    y: float
    lon: float = 0.0
    lat: float = 0.0


@dataclass
class PlanLayers:
    """What a plan map shows; styles in :mod:`geo.mapstyle`."""

    plan_name: str
    dept: str
    colours: dict[str, str]
    communes: list[CommuneFeature]
    seats: list[Seat]
    threshold: float | None = None
    mode_label: str | None = None
    legend: list[dict[str, Any]] = field(default_factory=list)
    #: (minutes, Lambert-93 union of the sites' isochrones), estimated mode only.
    isochrones: list[tuple[float, Any]] = field(default_factory=list)

    def style(self, feature: CommuneFeature) -> dict[str, Any]:
        """Leaflet path options of a commune (without the beyond-threshold overlay)."""
        style = dict(mapstyle.STYLES[feature.status])
        if feature.status == "antenna":
            style["fillColor"] = self.colours[feature.antennas[0]]
        return style

    def payload(self) -> dict[str, Any]:
        """Compact JSON for the web pages (geometries encoded, see ``geo.basemap``)."""
        shapes = to_wgs84([f.geometry for f in self.communes])
        index = {name: i for i, name in enumerate(self.colours)}
        feats = []
        for f, g in zip(self.communes, shapes, strict=True):
            item: dict[str, Any] = {"c": f.code, "n": f.name, "p": f.population,
                                    "a": [index[a] for a in f.antennas if a in index],
                                    "s": f.status, "g": encode(g)}
            if f.minutes is not None:
                item["m"] = round(f.minutes, 1) if np.isfinite(f.minutes) else None
            if f.beyond:
                item["b"] = 1
            feats.append(item)
        return {
            "name": self.plan_name, "dept": self.dept,
            "antennas": [{"name": n, "colour": c} for n, c in self.colours.items()],
            "seats": [{"antenna": s.antenna, "colour": s.colour, "commune": s.commune_name,
                       "code": s.commune,
                       "ll": [round(s.lat, 5), round(s.lon, 5)]} for s in self.seats],
            "communes": feats, "styles": mapstyle.STYLES, "seat": mapstyle.SEAT,
            "hatch": mapstyle.HATCH, "legend": self.legend,
            "isochrones": [{"minutes": m, "label": isochrone_label(m, self.mode_label or ""),
                            "style": isochrone_style(m), "g": encode(g)}
                           for (m, _), g in zip(self.isochrones,
                                                to_wgs84([g for _, g in self.isochrones]),
                                                strict=True)],
            "beyond_label": (mapstyle.beyond_label(self.threshold, self.mode_label)
                             if self.threshold is not None and self.mode_label else None),
        }


def isochrone_style(minutes: float) -> dict[str, Any]:
    colour = mapstyle.ISOCHRONES.get(int(minutes), "#cccccc")
    return {"color": colour, "weight": 1.5, "opacity": 0.9, "fillColor": colour,
            "fillOpacity": 0.18}


def isochrone_label(minutes: float, mode_label: str) -> str:
    return f"Isochrone {minutes:g} min — {mode_label} (couche à afficher)"


def simplified_shapes(communes: gpd.GeoDataFrame, *, tolerance: float = SIMPLIFY_M) -> Any:
    """Coverage-simplified Lambert-93 commune polygons (array, in frame order)."""
    return coverage_simplified(communes.geometry.to_numpy(), tolerance)


def legend_entries(layers: PlanLayers) -> list[dict[str, Any]]:
    """Every symbol of a plan map, in words and with its style."""
    counts: dict[str, int] = {}
    for f in layers.communes:
        counts[f.status] = counts.get(f.status, 0) + 1
    per_antenna: dict[str, int] = {}
    for f in layers.communes:
        if f.status == "antenna":
            per_antenna[f.antennas[0]] = per_antenna.get(f.antennas[0], 0) + 1
    entries: list[dict[str, Any]] = [
        {"kind": "fill", "key": "antenna", "antenna": name,
         "label": f"{name} ({_communes(per_antenna.get(name, 0))})",
         "style": {**mapstyle.STYLES["antenna"], "fillColor": colour}}
        for name, colour in layers.colours.items()]
    entries.append({"kind": "seat", "key": "seat", "label": mapstyle.LABELS["seat"],
                    "style": {**mapstyle.SEAT, "fillColor": "#ffffff"}})
    for key in ("uncovered", "duplicate"):
        entries.append({"kind": "fill", "key": key,
                        "label": f"{mapstyle.LABELS[key]} ({counts.get(key, 0)})",
                        "style": mapstyle.STYLES[key]})
    if layers.threshold is not None and layers.mode_label:
        n = sum(f.beyond for f in layers.communes)
        entries.append({"kind": "outline", "key": "beyond",
                        "label": f"{mapstyle.beyond_label(layers.threshold, layers.mode_label)}"
                                 f" ({_communes(n)})",
                        "style": mapstyle.STYLES["beyond"]})
    entries.append({"kind": "outline", "key": "departement",
                    "label": mapstyle.LABELS["departement"],
                    "style": mapstyle.BASEMAP["departement"]})
    for minutes, _ in layers.isochrones:
        entries.append({"kind": "fill", "key": f"isochrone-{minutes:g}",
                        "label": isochrone_label(minutes, layers.mode_label or ""),
                        "style": isochrone_style(minutes)})
    return entries


def _communes(n: int) -> str:
    return f"{n} commune" if n <= 1 else f"{n} communes"


def plan_layers(plan: Plan, communes: gpd.GeoDataFrame, check: CheckResult | None = None, *,
                shapes: Any = None, tolerance: float = SIMPLIFY_M,
                with_isochrones: bool = False) -> PlanLayers:
    """The layers of a plan map.

    Parameters
    ----------
    plan, communes
        The plan and the communes frame of its département (Lambert-93).
    check
        Its checks; their drive times give the beyond-threshold communes.
    shapes
        Already simplified Lambert-93 polygons in frame order (a cache), else computed.
    with_isochrones
        Add the 15/30/45 min isochrones of the seats (estimated mode only: discs; road
        isochrones need the road graph and are left to ``coverage.mapping``'s layers).
    """
    from coverage.drivetimes import DriveTimes

    if shapes is None:
        shapes = simplified_shapes(communes, tolerance=tolerance)
    colours = antenna_colours(plan, communes)
    claims = plan.claims()
    dt: DriveTimes | None = check.drive_times if check is not None else None
    feats = []
    for code, name, pop, geom in zip(communes.index, communes["nom"], communes["population"],
                                     shapes, strict=True):
        ants = [a for a in claims.get(str(code), []) if a in colours]
        status = "duplicate" if len(ants) > 1 else ("antenna" if ants else "uncovered")
        minutes = dt.minutes.get(str(code)) if dt else None
        beyond = bool(dt is not None and minutes is not None and not minutes <= dt.threshold)
        feats.append(CommuneFeature(code=str(code), name=str(name), population=int(pop),
                                    antennas=ants, status=status, geometry=geom,
                                    minutes=minutes, beyond=beyond))
    sites = antenna_sites(plan, communes)
    seats = []
    if sites:
        import shapely

        pts = to_wgs84(shapely.points([xy for xy in sites.values()]))
        for (antenna, (x, y)), pt in zip(sites.items(), pts, strict=True):
            seat = (plan.antenna(antenna) or plan.antennas[0]).seat
            seats.append(Seat(antenna=antenna, colour=colours[antenna], commune=seat,
                              commune_name=str(communes.loc[seat, "nom"])
                              if seat and seat in communes.index else None,
                              x=x, y=y, lon=float(pt.x), lat=float(pt.y)))
    layers = PlanLayers(plan_name=plan.name, dept=plan.dept, colours=colours, communes=feats,
                        seats=seats, threshold=dt.threshold if dt else None,
                        mode_label=dt.label if dt else None,
                        isochrones=_estimated_isochrones(dt) if with_isochrones else [])
    layers.legend = legend_entries(layers)
    return layers


def _estimated_isochrones(dt: Any) -> list[tuple[float, Any]]:
    from geo.isochrones import estimated_isochrones, union_by_threshold
    from geo.traveltime import MODE_ESTIMATED

    if dt is None or dt.mode != MODE_ESTIMATED or not dt.sites:
        return []
    from geo.estimated import DEFAULT_DETOUR, DEFAULT_SPEED_KMH

    union = union_by_threshold(estimated_isochrones(
        dt.sites, detour=float(dt.parameters.get("detour", DEFAULT_DETOUR)),
        speed_kmh=float(dt.parameters.get("speed_kmh", DEFAULT_SPEED_KMH))))
    return [(float(m), g.simplify(100)) for m, g in zip(union["minutes"], union.geometry,
                                                        strict=True)]


def comparison_payload(plans: list[Plan], communes: gpd.GeoDataFrame, *,
                       shapes: Any = None) -> dict[str, Any]:
    """Comparison of candidacies: who claims each commune, each plan's antenna colours.

    ``communes[i].k`` lists ``[plan index, antenna index]`` pairs; the page shows either
    the claims (one plan, several plans, none) or one plan in its antenna colours, the
    same colours as on that plan's own page and report.
    """
    if shapes is None:
        shapes = simplified_shapes(communes)
    wgs = to_wgs84(shapes)
    plan_colours = [antenna_colours(p, communes) for p in plans]
    claims = [p.claims() for p in plans]
    feats = []
    for code, name, pop, g in zip(communes.index, communes["nom"], communes["population"], wgs,
                                  strict=True):
        pairs = []
        for pi, (cl, colours) in enumerate(zip(claims, plan_colours, strict=True)):
            names = list(colours)
            pairs += [[pi, names.index(a)] for a in cl.get(str(code), []) if a in colours]
        n_plans = len({pi for pi, _ in pairs})
        status = "duplicate" if n_plans > 1 else ("single" if n_plans else "uncovered")
        feats.append({"c": str(code), "n": str(name), "p": int(pop), "k": pairs, "s": status,
                      "g": encode(g)})
    legend = [
        {"kind": "fill", "key": "single", "label": mapstyle.LABELS["single"],
         "style": mapstyle.STYLES["single"]},
        {"kind": "fill", "key": "duplicate", "label": mapstyle.LABELS["multiple"],
         "style": mapstyle.STYLES["duplicate"]},
        {"kind": "fill", "key": "uncovered", "label": mapstyle.LABELS["none"],
         "style": mapstyle.STYLES["uncovered"]},
        {"kind": "outline", "key": "departement", "label": mapstyle.LABELS["departement"],
         "style": mapstyle.BASEMAP["departement"]},
    ]
    import shapely

    def seats(plan: Plan, colours: dict[str, str]) -> list[dict[str, Any]]:
        sites = antenna_sites(plan, communes)
        if not sites:
            return []
        pts = to_wgs84(shapely.points(list(sites.values())))
        return [{"antenna": name, "colour": colours[name],
                 "ll": [round(float(pt.y), 5), round(float(pt.x), 5)]}
                for name, pt in zip(sites, pts, strict=True) if name in colours]

    return {
        "dept": plans[0].dept if plans else "",
        "plans": [{"name": p.name, "antennas": [{"name": n, "colour": c}
                                                 for n, c in colours.items()],
                   "seats": seats(p, colours)}
                  for p, colours in zip(plans, plan_colours, strict=True)],
        "seat": mapstyle.SEAT, "seat_legend": {"kind": "seat", "key": "seat",
                                               "label": mapstyle.LABELS["seat"],
                                               "style": {**mapstyle.SEAT,
                                                         "fillColor": "#ffffff"}},
        "communes": feats, "styles": mapstyle.STYLES, "hatch": mapstyle.HATCH, "legend": legend,
        "labels": {"uncovered": "Non revendiquée par ce plan",
                   "duplicate": "Revendiquée par plusieurs antennes de ce plan"},
    }
