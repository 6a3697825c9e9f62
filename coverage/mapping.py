"""A standalone folium map of a plan that works offline.

Leaflet is inlined from the vendored copy (``geo/vendor``, taken from npm) instead of
folium's CDN links; no jQuery, Bootstrap or icon fonts are needed because seats are
circle markers. Polygons are simplified in Lambert-93 (shared borders kept by
``coverage_simplify``) and coordinates rounded to 5 decimals (≈ 1 m), which keeps the
Haute-Loire map well under 1.5 MB. All user text is HTML-escaped in popups.
"""

from __future__ import annotations

import html
import json
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import folium
import geopandas as gpd
import numpy as np
import shapely

from coverage.checks import CheckResult
from coverage.drivetimes import antenna_sites
from coverage.plan import Plan
from geo import settings
from geo.fmt import fr_float, fr_int

VENDOR = Path(__file__).resolve().parent.parent / "geo" / "vendor"
PALETTE = ["#1b9e77", "#d95f02", "#7570b3", "#e7298a", "#66a61e", "#e6ab02", "#a6761d",
           "#1f78b4", "#b2df8a", "#fb9a99", "#cab2d6", "#fdbf6f"]
UNCOVERED = "#9e9e9e"
DUPLICATE = "#e31a1c"
SIMPLIFY_M = 60.0


def simplified_wgs84(frame: gpd.GeoDataFrame, *, tolerance: float = SIMPLIFY_M) -> gpd.GeoSeries:
    """Simplify in metres keeping shared borders, then project to WGS84, 5 decimals."""
    geoms = frame.geometry.to_numpy()
    try:
        simple = shapely.coverage_simplify(geoms, tolerance)
    except Exception:  # not a clean coverage (overlaps): fall back per polygon
        simple = shapely.simplify(geoms, tolerance, preserve_topology=True)
    series = gpd.GeoSeries(simple, index=frame.index, crs=settings.LAMBERT93)
    return series.to_crs(settings.WGS84).set_precision(1e-5)


def _esc(text: str) -> str:
    """HTML-escape user text, and ``$``, backtick and braces too.

    folium puts popup HTML inside a JavaScript template literal (`` `...` ``): it
    escapes backticks but not ``${…}``, which would run as code. And branca compiles
    the rendered script of every folium layer as a Jinja2 template a second time, so
    ``{{ … }}`` or ``{% … %}`` in a popup or tooltip would run on the server: braces
    become HTML entities, shown the same by the browser.
    """
    return (html.escape(text).replace("$", "&#36;").replace("`", "&#96;")
            .replace("{", "&#123;").replace("}", "&#125;"))


def raw_html(html_text: str) -> Any:
    """A branca element that renders ``html_text`` verbatim.

    ``folium.Element(text)`` compiles ``text`` as a Jinja2 template, so a plan or antenna
    named ``{{ lipsum.__globals__… }}`` would run code. Here the text is only data,
    inserted through a variable of a fixed template.
    """
    from branca.element import Element
    from jinja2 import Template

    class _RawHtml(Element):
        _template = Template("{{ this.raw_html }}")

        def __init__(self, text: str) -> None:
            super().__init__()
            self._name = "RawHtml"
            self.raw_html = text

    return _RawHtml(html_text)


def _colours(names: list[str]) -> dict[str, str]:
    return {n: PALETTE[i % len(PALETTE)] for i, n in enumerate(names)}


def _offline_map(location: tuple[float, float], zoom: int) -> folium.Map:
    m = folium.Map(location=location, zoom_start=zoom, tiles=None, control_scale=True)
    # Drop folium's CDN links: Leaflet is inlined below from the vendored copy.
    m.default_js = []
    m.default_css = []
    js = (VENDOR / "leaflet" / "leaflet.js").read_text(encoding="utf-8")
    css = (VENDOR / "leaflet" / "leaflet.css").read_text(encoding="utf-8")
    root: Any = m.get_root()
    root.header.add_child(raw_html(f"<style>{css}</style>"), name="leaflet_css")
    root.header.add_child(raw_html(f"<script>{js}</script>"), name="leaflet_js")
    folium.TileLayer("OpenStreetMap", name="Fond OpenStreetMap (en ligne)",
                     attr="© contributeurs OpenStreetMap", show=True).add_to(m)
    return m


def build_map(plan: Plan, communes: gpd.GeoDataFrame, check: CheckResult, *,
              extra_layers: Iterable[folium.map.Layer] = ()) -> folium.Map:
    """Communes coloured by antenna, seats, uncovered and duplicated communes, legend."""
    shapes = simplified_wgs84(communes)
    bounds = shapes.total_bounds
    m = _offline_map(((bounds[1] + bounds[3]) / 2, (bounds[0] + bounds[2]) / 2), 9)
    names = [a.name for a in plan.antennas]
    colours = _colours(names)
    claims = plan.claims()
    dt = check.drive_times
    features = []
    for code, geom in shapes.items():
        ants = claims.get(str(code), [])
        row = communes.loc[code]
        status = "doublon" if len(ants) > 1 else ("couverte" if ants else "non couverte")
        colour = DUPLICATE if len(ants) > 1 else (colours[ants[0]] if ants else UNCOVERED)
        minutes = dt.minutes.get(str(code)) if dt else None
        popup = (f"<b>{_esc(str(row['nom']))}</b> ({_esc(str(code))})<br>"
                 f"Population : {fr_int(row['population'])}<br>"
                 f"Antenne : {_esc(', '.join(ants) or 'aucune')}<br>"
                 f"Statut : {status}")
        if minutes is not None:
            popup += (f"<br>Temps vers l'antenne : "
                      f"{fr_float(minutes) + ' min' if np.isfinite(minutes) else 'inaccessible'}")
        beyond = bool(dt and minutes is not None and not minutes <= dt.threshold)
        features.append({"type": "Feature", "geometry": shapely.geometry.mapping(geom),
                         "properties": {"colour": colour, "popup": popup, "status": status,
                                        "beyond": beyond}})
    collection = {"type": "FeatureCollection", "features": features}

    def style(feature: dict) -> dict:
        p = feature["properties"]
        return {"fillColor": p["colour"], "color": "#b10000" if p["beyond"] else "#555555",
                "weight": 2.5 if p["beyond"] or p["status"] != "couverte" else 0.5,
                "dashArray": "4" if p["status"] == "non couverte" else None,
                "fillOpacity": 0.65 if p["status"] != "non couverte" else 0.35}

    layer = folium.GeoJson(collection, name="Communes", style_function=style,
                           popup=folium.GeoJsonPopup(fields=["popup"], labels=False))
    layer.add_to(m)
    seats = folium.FeatureGroup(name="Sièges des antennes")
    sites = antenna_sites(plan, communes)
    for name, (x, y) in sites.items():
        lon, lat = shapely.get_coordinates(
            gpd.GeoSeries.from_xy([x], [y], crs=settings.LAMBERT93).to_crs(settings.WGS84).iloc[0])[0]
        folium.CircleMarker(location=(float(lat), float(lon)), radius=9, color="#000000",
                            weight=2, fill=True, fill_color=colours.get(name, "#000"),
                            fill_opacity=1,
                            popup=folium.Popup(f"<b>Siège : {_esc(name)}</b>",
                                               max_width=250)).add_to(seats)
    seats.add_to(m)
    for extra in extra_layers:
        extra.add_to(m)
    folium.LayerControl(collapsed=False).add_to(m)
    root: Any = m.get_root()
    root.html.add_child(raw_html(_legend(plan, colours, check)))
    m.fit_bounds([[bounds[1], bounds[0]], [bounds[3], bounds[2]]])
    return m


def _legend(plan: Plan, colours: dict[str, str], check: CheckResult) -> str:
    items = "".join(
        f'<div><span style="background:{c}"></span>{_esc(n)}</div>'
        for n, c in colours.items())
    items += (f'<div><span style="background:{UNCOVERED}"></span>Non couverte '
              f'({len(check.uncovered)})</div>'
              f'<div><span style="background:{DUPLICATE}"></span>Couverte plusieurs fois '
              f'({len(check.duplicates)})</div>')
    if check.drive_times:
        dt = check.drive_times
        items += (f'<div><span style="background:#fff;border:2px solid #b10000"></span>'
                  f'Au-delà de {dt.threshold:g} min ({_esc(dt.label)})</div>')
    return (
        '<div id="maillage-legend" style="position:fixed;bottom:24px;left:12px;z-index:9999;'
        'background:#fff;padding:8px 10px;border:1px solid #999;border-radius:4px;'
        'font:13px/1.5 system-ui,sans-serif;max-width:280px">'
        f'<b>{_esc(plan.name)}</b>{items}</div>'
        '<style>#maillage-legend span{display:inline-block;width:14px;height:14px;'
        'margin-right:6px;vertical-align:-2px;border:1px solid #555}</style>'
    )


def isochrone_layer(isochrones: gpd.GeoDataFrame, *, name: str) -> folium.FeatureGroup:
    """Isochrone polygons (columns ``site``, ``minutes``, geometry in Lambert-93)."""
    group = folium.FeatureGroup(name=_esc(name), show=False)
    shades = {15: "#2c7fb8", 30: "#7fcdbb", 45: "#edf8b1"}
    data = isochrones.copy()
    data["geometry"] = data.geometry.simplify(100)
    data = data.to_crs(settings.WGS84)
    for _, row in data.sort_values("minutes", ascending=False).iterrows():
        colour = shades.get(int(row["minutes"]), "#cccccc")
        folium.GeoJson(json.loads(gpd.GeoSeries([row.geometry]).set_precision(1e-4).to_json()),
                       style_function=lambda _f, c=colour: {"fillColor": c, "color": c,
                                                            "weight": 1, "fillOpacity": 0.25},
                       tooltip=_esc(f"{row['site']} — {row['minutes']:g} min")
                       ).add_to(group)
    return group


def save_map(m: folium.Map, path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    m.save(str(path))
    return path
