"""A standalone folium map of a plan that works offline.

Leaflet is inlined from the vendored copy (``geo/vendor``, taken from npm) instead of
folium's CDN links; no jQuery, Bootstrap or icon fonts are needed because seats are
circle markers. What is drawn and how comes from :mod:`coverage.maplayers` and
:mod:`geo.mapstyle`, the same as the web pages and the report's SVG map: same colours,
same symbols, same legend words. The département outline and the names of the main
communes are drawn from our own data, under the online tiles (``MAILLAGE_TILES``), so
the map still reads without Internet. All user text is HTML-escaped in popups; user
text is never given to ``folium.Element`` (see :func:`raw_html`).
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
from coverage.maplayers import SIMPLIFY_M, PlanLayers, plan_layers, simplified_shapes
from coverage.plan import Plan
from geo import mapstyle, settings
from geo.basemap import basemap_from_frame, declutter, to_wgs84
from geo.fmt import fr_float, fr_int

VENDOR = Path(__file__).resolve().parent.parent / "geo" / "vendor"


def simplified_wgs84(frame: gpd.GeoDataFrame, *, tolerance: float = SIMPLIFY_M) -> gpd.GeoSeries:
    """Simplify in metres keeping shared borders, then project to WGS84, 5 decimals."""
    series = gpd.GeoSeries(simplified_shapes(frame, tolerance=tolerance), index=frame.index,
                           crs=settings.LAMBERT93)
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


def _offline_map(location: tuple[float, float], zoom: int) -> folium.Map:
    m = folium.Map(location=location, zoom_start=zoom, tiles=None)
    # Drop folium's CDN links: Leaflet is inlined below from the vendored copy.
    m.default_js = []
    m.default_css = []
    js = (VENDOR / "leaflet" / "leaflet.js").read_text(encoding="utf-8")
    css = (VENDOR / "leaflet" / "leaflet.css").read_text(encoding="utf-8")
    root: Any = m.get_root()
    root.header.add_child(raw_html(f"<style>{css}</style>"), name="leaflet_css")
    root.header.add_child(raw_html(f"<script>{js}</script>"), name="leaflet_js")
    # French controls: the same strings as the web pages, before the map is built.
    root.header.add_child(raw_html(f"<script>{mapstyle.leaflet_fr_js()}</script>"),
                          name="leaflet_fr")
    # folium's popups call jQuery's $(html)[0] to build their content: jQuery is not
    # loaded (offline), this one-liner does that job (the HTML is ours, escaped).
    root.header.add_child(raw_html(
        "<script>window.$ = window.$ || function (html) { var t = document.createElement("
        "'template'); t.innerHTML = String(html).trim(); return [t.content.firstChild]; };"
        "</script>"), name="popup_shim")
    tiles = mapstyle.tile_layer()
    if tiles is not None:
        folium.TileLayer(tiles.url, name=f"{tiles.name} (en ligne)", attr=tiles.attribution,
                         max_zoom=tiles.max_zoom, show=True).add_to(m)
    return m


def _popup(feature: Any) -> str:
    status = {"antenna": "couverte", "duplicate": "couverte plusieurs fois",
              "uncovered": "non couverte"}[feature.status]
    text = (f"<b>{_esc(feature.name)}</b> ({_esc(feature.code)})<br>"
            f"Population : {fr_int(feature.population)}<br>"
            f"Antenne : {_esc(', '.join(feature.antennas) or 'aucune')}<br>"
            f"Statut : {status}")
    if feature.minutes is not None:
        m = feature.minutes
        text += (f"<br>Temps vers l'antenne : "
                 f"{fr_float(m) + ' min' if np.isfinite(m) else 'inaccessible'}")
    return text


def _collection(features: list[Any], shapes: Any, style: Any) -> dict[str, Any]:
    return {"type": "FeatureCollection", "features": [
        {"type": "Feature", "geometry": shapely.geometry.mapping(g),
         "properties": {"popup": _popup(f), "status": f.status, "style": style(f)}}
        for f, g in zip(features, shapes, strict=True)]}


def build_map(plan: Plan, communes: gpd.GeoDataFrame, check: CheckResult, *,
              extra_layers: Iterable[folium.map.Layer] = ()) -> folium.Map:
    """Communes coloured by antenna, seats, uncovered and duplicated communes, legend."""
    layers = plan_layers(plan, communes, check)
    shapes = [shapely.set_precision(g, 1e-5)
              for g in to_wgs84([f.geometry for f in layers.communes])]
    x0, y0, x1, y1 = shapely.total_bounds(shapes)
    m = _offline_map(((y0 + y1) / 2, (x0 + x1) / 2), 9)
    root: Any = m.get_root()
    root.html.add_child(raw_html(
        '<svg width="0" height="0" style="position:absolute" aria-hidden="true">'
        f"{mapstyle.hatch_defs()}</svg>"))
    base = basemap_from_frame(communes, dept=plan.dept)
    folium.GeoJson(shapely.geometry.mapping(base.outline), name=mapstyle.LABELS["departement"],
                   style_function=lambda _f: mapstyle.BASEMAP["departement"],
                   interactive=False).add_to(m)

    def style_of(feature: Any) -> dict[str, Any]:
        return layers.style(feature)

    folium.GeoJson(_collection(layers.communes, shapes, style_of), name="Communes",
                   style_function=lambda f: f["properties"]["style"],
                   popup=folium.GeoJsonPopup(fields=["popup"], labels=False)).add_to(m)
    beyond = [(f, g) for f, g in zip(layers.communes, shapes, strict=True) if f.beyond]
    if beyond and layers.threshold is not None and layers.mode_label:
        outline = {**mapstyle.STYLES["beyond"], "fill": False}
        folium.GeoJson(
            _collection([f for f, _ in beyond], [g for _, g in beyond], lambda _f: outline),
            name=_esc(mapstyle.beyond_label(layers.threshold, layers.mode_label)),
            style_function=lambda f: f["properties"]["style"], interactive=False).add_to(m)
    labels = folium.FeatureGroup(name="Noms des communes principales")
    # The seats' own labels name the antennas; names that would overlap are left out.
    seat_codes = frozenset(s.commune for s in layers.seats if s.commune)
    for lab in declutter(base.labels, zoom=10, skip=seat_codes):
        folium.Marker(location=lab["ll"], icon=folium.DivIcon(
            html=f'<span class="maillage-label">{_esc(lab["n"])}</span>',
            icon_size=(0, 0), class_name="maillage-label-icon")).add_to(labels)
    labels.add_to(m)
    seats = folium.FeatureGroup(name="Sièges des antennes")
    folium.map.CustomPane("sieges", z_index=650).add_to(m)   # seats over the names
    for seat in layers.seats:
        where = f" ({_esc(seat.commune_name)})" if seat.commune_name else ""
        marker = folium.CircleMarker(
            location=(seat.lat, seat.lon), radius=mapstyle.SEAT["radius"],
            color=mapstyle.SEAT["color"], weight=mapstyle.SEAT["weight"], fill=True,
            fill_color=seat.colour, fill_opacity=mapstyle.SEAT["fillOpacity"],
            tooltip=folium.Tooltip(_esc(seat.antenna), permanent=True, direction="right"),
            popup=folium.Popup(f"<b>Siège : {_esc(seat.antenna)}</b>{where}", max_width=250),
        )
        marker.options["pane"] = "sieges"   # folium's path options leave ``pane`` out
        marker.add_to(seats)
    seats.add_to(m)
    for extra in extra_layers:
        extra.add_to(m)
    folium.LayerControl(collapsed=False).add_to(m)
    # Metric scale only (folium's control_scale adds miles). The name is folium's own id.
    root.html.add_child(raw_html(
        f'<script>window.addEventListener("load", function () {{ '
        f'L.control.scale({{imperial: false}}).addTo({m.get_name()}); }});</script>'))
    root.html.add_child(raw_html(_offline_notice(m)))
    root.html.add_child(raw_html(legend_html(layers, extra=_iso_legend(extra_layers))))
    m.fit_bounds([[y0, x0], [y1, x1]])
    return m


def _offline_notice(m: folium.Map) -> str:
    """« fond de carte indisponible : affichage hors ligne » when no tile loads."""
    return (
        '<div id="maillage-offline" role="status" hidden style="position:fixed;top:10px;'
        'left:60px;z-index:9999;background:rgba(255,255,255,.92);padding:2px 8px;'
        'border:1px solid #999;border-radius:3px;font:13px system-ui,sans-serif">'
        f'{html.escape(mapstyle.OFFLINE_NOTICE)}</div>'
        '<script>window.addEventListener("load", function () {'
        ' var note = document.getElementById("maillage-offline");'
        ' function check() { var tiles = document.querySelectorAll(".leaflet-tile");'
        '  note.hidden = !(tiles.length && !document.querySelector(".leaflet-tile-loaded")); }'
        f' {m.get_name()}.on("moveend", function () {{ setTimeout(check, 3000); }});'
        ' setTimeout(check, 3000); });</script>')


def _iso_legend(extra_layers: Iterable[folium.map.Layer]) -> list[dict[str, Any]]:
    names = [getattr(e, "layer_name", "") for e in extra_layers]
    if not any(n.startswith("Isochrones") for n in names):
        return []
    return [{"kind": "fill", "key": f"iso{k}", "label": f"Isochrone {k} min (couche à afficher)",
             "style": {"color": c, "weight": 1, "fillColor": c, "fillOpacity": 0.25}}
            for k, c in mapstyle.ISOCHRONES.items()]


def legend_html(layers: PlanLayers, *, extra: list[dict[str, Any]] | None = None) -> str:
    """The legend block: every symbol, drawn with its own style, and its words."""
    items = "".join(
        f'<div data-key="{_esc(e["key"])}">{mapstyle.swatch_svg(e)}{_esc(e["label"])}</div>'
        for e in [*layers.legend, *(extra or [])])
    return (
        '<div id="maillage-legend" role="region" aria-label="Légende" '
        'style="position:fixed;bottom:28px;right:12px;z-index:9999;'
        'background:#fff;padding:8px 10px;border:1px solid #999;border-radius:4px;'
        'font:13px/1.6 system-ui,sans-serif;max-width:320px">'
        f'<b>{_esc(layers.plan_name)}</b>{items}</div>'
        '<style>.maillage-label{font:600 12px system-ui,sans-serif;color:#222;white-space:nowrap;'
        'text-shadow:0 0 3px #fff,0 0 3px #fff,0 0 3px #fff;transform:translate(-50%,-50%);'
        'display:inline-block;pointer-events:none}</style>'
    )


def isochrone_layer(isochrones: gpd.GeoDataFrame, *, name: str) -> folium.FeatureGroup:
    """Isochrone polygons (columns ``site``, ``minutes``, geometry in Lambert-93)."""
    group = folium.FeatureGroup(name=_esc(name), show=False)
    data = isochrones.copy()
    data["geometry"] = data.geometry.simplify(100)
    data = data.to_crs(settings.WGS84)
    for _, row in data.sort_values("minutes", ascending=False).iterrows():
        colour = mapstyle.ISOCHRONES.get(int(row["minutes"]), "#cccccc")
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
