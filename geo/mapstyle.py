"""Every map style in one place: palette, symbols, legend labels, tile layers.

The web pages (``web/static/js/maplib.js`` receives these values as JSON), the folium
export (``coverage/mapping.py``) and the static SVG map of the report
(``coverage/svgmap.py``) all read their colours and line styles here, so that a
symbol looks the same and is named the same wherever it is drawn.

Styles use Leaflet's path option names (``color``, ``weight``, ``dashArray``,
``fillColor``, ``fillOpacity``, ``opacity``); :func:`svg_attrs` turns them into SVG
presentation attributes.
"""

from __future__ import annotations

import os
from dataclasses import asdict, dataclass
from typing import Any
from urllib.parse import urlsplit

from geo.errors import MaillageError

#: Antenna fills: 14 distinct colours (Tableau 10 without its red and grey, which mean
#: « en double » and « non couverte », then lighter companions). Adjacent antennas never
#: share one (see ``coverage.maplayers.antenna_colours``).
PALETTE: tuple[str, ...] = (
    "#1f77b4", "#ff7f0e", "#2ca02c", "#9467bd", "#8c564b", "#e377c2", "#17becf",
    "#bcbd22", "#aec7e8", "#ffbb78", "#98df8a", "#c5b0d5", "#c49c94", "#dbdb8d",
)
#: Hue family of each palette colour (a light colour shares its dark one's family):
#: neighbours get different families whenever the palette allows.
PALETTE_FAMILY: tuple[int, ...] = (0, 1, 2, 3, 4, 5, 6, 7, 0, 1, 2, 3, 4, 7)
#: Id of the SVG hatch pattern of uncovered communes (defined once per page).
HATCH_ID = "maillage-hachures"
UNCOVERED_GREY = "#8a8a8a"
DUPLICATE_RED = "#d7191c"
BEYOND_INK = "#1a1a1a"

#: Commune polygons of a plan, by status (``s`` in the web payload).
STYLES: dict[str, dict[str, Any]] = {
    # fillColor of an antenna commune is the antenna's colour.
    "antenna": {"color": "#ffffff", "weight": 0.6, "opacity": 0.9, "fillOpacity": 0.62},
    "uncovered": {"color": UNCOVERED_GREY, "weight": 0.8, "opacity": 1,
                  "fillColor": f"url(#{HATCH_ID})", "fillOpacity": 1},
    "duplicate": {"color": "#7f0000", "weight": 1.2, "opacity": 1,
                  "fillColor": DUPLICATE_RED, "fillOpacity": 0.8},
    # Drawn over the fill of a commune beyond the drive-time threshold: a dashed dark
    # outline, never red (red means « couverte plusieurs fois »).
    "beyond": {"color": BEYOND_INK, "weight": 1.8, "opacity": 1, "dashArray": "5 4"},
    # Comparison of candidacies: communes claimed by exactly one plan.
    "single": {"color": "#ffffff", "weight": 0.6, "opacity": 0.9, "fillColor": "#7fb8d6",
               "fillOpacity": 0.6},
}
#: Seat of an antenna: a white-rimmed disc of the antenna's colour, with its name.
SEAT: dict[str, Any] = {"radius": 7, "color": "#111111", "weight": 2, "fillOpacity": 1}
#: Base map drawn from our own data, under any tile layer.
BASEMAP: dict[str, dict[str, Any]] = {
    "departement": {"color": "#3b3b5c", "weight": 2.2, "opacity": 0.9, "fill": False},
    "commune": {"color": "#6f7785", "weight": 0.5, "opacity": 0.7, "fillColor": "#f4f1ea",
                "fillOpacity": 0.55},
}
#: Isochrone fills by minutes (toggleable layers).
ISOCHRONES = {15: "#2c7fb8", 30: "#7fcdbb", 45: "#edf8b1"}

#: Legend words of each symbol.
LABELS = {
    "seat": "Siège d'antenne (nom de l'antenne)",
    "uncovered": "Commune non couverte",
    "duplicate": "Commune couverte plusieurs fois",
    "single": "Revendiquée par un seul plan",
    "multiple": "Revendiquée par plusieurs plans",
    "none": "Revendiquée par aucun plan",
    "departement": "Limite de département",
    "commune": "Limite de commune",
}
#: The hatch of uncovered communes (grey diagonal lines on a light ground).
HATCH = {"id": HATCH_ID, "size": 7, "stroke": UNCOVERED_GREY, "width": 2.2,
         "background": "#f1f1f1"}
#: Legend of the base map, and of the resource markers of the search page.
BASEMAP_LEGEND: list[dict[str, Any]] = [
    {"kind": "outline", "key": "departement", "label": "Limite de département",
     "style": BASEMAP["departement"]},
    {"kind": "fill", "key": "commune", "label": "Limite de commune",
     "style": BASEMAP["commune"]},
]
MARKERS_LEGEND: list[dict[str, Any]] = [
    {"kind": "image", "key": "resource", "label": "Ressource (sa fiche au clic)",
     "style": {"src": "/static/vendor/leaflet/images/marker-icon.png"}},
    # leaflet.markercluster's default small cluster colours.
    {"kind": "cluster", "key": "cluster", "label": "Ressources proches regroupées (nombre)",
     "style": {"color": "rgba(181, 226, 140, 0.6)", "fillColor": "rgba(110, 204, 57, 0.6)"}},
]
OFFLINE_NOTICE = "fond de carte indisponible : affichage hors ligne"


def beyond_label(threshold: float, mode_label: str) -> str:
    """« au-delà de 30 min — temps estimés à vol d'oiseau »."""
    return f"au-delà de {threshold:g} min — {mode_label}"


def svg_attrs(style: dict[str, Any], *, fill: str | None = None) -> dict[str, str]:
    """SVG presentation attributes of a Leaflet-style dict."""
    out: dict[str, str] = {}
    colour = fill or style.get("fillColor")
    if style.get("fill") is False or colour is None:
        out["fill"] = "none"
    else:
        out["fill"] = str(colour)
        out["fill-opacity"] = f"{style.get('fillOpacity', 0.2):g}"
    if style.get("stroke", True) and "color" in style:
        out["stroke"] = str(style["color"])
        out["stroke-width"] = f"{style.get('weight', 1):g}"
        out["stroke-opacity"] = f"{style.get('opacity', 1):g}"
        if style.get("dashArray"):
            out["stroke-dasharray"] = str(style["dashArray"])
    return out


def hatch_defs() -> str:
    """``<defs>`` of the hatch pattern, for an SVG document or a page's hidden SVG."""
    h = HATCH
    return (f'<defs><pattern id="{h["id"]}" patternUnits="userSpaceOnUse" width="{h["size"]}" '
            f'height="{h["size"]}" patternTransform="rotate(45)">'
            f'<rect width="{h["size"]}" height="{h["size"]}" fill="{h["background"]}"/>'
            f'<line x1="0" y1="0" x2="0" y2="{h["size"]}" stroke="{h["stroke"]}" '
            f'stroke-width="{h["width"]}"/></pattern></defs>')


def swatch_svg(entry: dict[str, Any], *, size: int = 18) -> str:
    """A small inline SVG of a legend entry, drawn with the entry's own style."""
    style = dict(entry["style"])
    if entry["kind"] == "outline":
        style["fill"] = False
    attrs = " ".join(f'{k}="{v}"' for k, v in svg_attrs(style).items())
    if entry["kind"] == "seat":
        r = size / 2 - 2
        body = f'<circle cx="{size / 2:g}" cy="{size / 2:g}" r="{r:g}" {attrs}/>'
    elif entry["kind"] == "outline":
        body = f'<rect x="2" y="3" width="{size - 4}" height="{size - 6}" {attrs}/>'
    else:
        body = f'<rect x="1" y="2" width="{size - 2}" height="{size - 4}" {attrs}/>'
    return (f'<svg width="{size}" height="{size}" viewBox="0 0 {size} {size}" '
            f'aria-hidden="true" style="vertical-align:-4px;margin-right:6px">{body}</svg>')


# --- online background ----------------------------------------------------------------

@dataclass(frozen=True)
class TileLayer:
    """An online raster background (``url`` is a Leaflet template)."""

    name: str
    url: str
    attribution: str
    max_zoom: int = 19

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


TILE_LAYERS = {
    # The French public default: Géoplateforme WMTS, « Plan IGN » (no key needed).
    "ign": TileLayer(
        name="Plan IGN",
        url=("https://data.geopf.fr/wmts?SERVICE=WMTS&REQUEST=GetTile&VERSION=1.0.0"
             "&LAYER=GEOGRAPHICALGRIDSYSTEMS.PLANIGNV2&STYLE=normal&TILEMATRIXSET=PM"
             "&FORMAT=image/png&TILEMATRIX={z}&TILEROW={y}&TILECOL={x}"),
        attribution="Plan IGN © IGN – Géoplateforme", max_zoom=19),
    "osm": TileLayer(name="OpenStreetMap", url="https://tile.openstreetmap.org/{z}/{x}/{y}.png",
                     attribution="© contributeurs OpenStreetMap", max_zoom=19),
}
DEFAULT_TILES = "ign"


def tile_layer(setting: str | None = None) -> TileLayer | None:
    """The online background named by ``setting`` (default ``MAILLAGE_TILES``).

    ``ign`` (default), ``osm``, ``none`` (no online background: the base map from our
    own data only), or a URL template ``https://…/{z}/{x}/{y}.png`` (its attribution in
    ``MAILLAGE_TILES_ATTRIBUTION``).

    Raises
    ------
    MaillageError
        When the setting is neither a known name nor an http(s) template with
        ``{z}``, ``{x}`` and ``{y}``.
    """
    value = (os.environ.get("MAILLAGE_TILES", DEFAULT_TILES) if setting is None
             else setting).strip()
    key = value.lower() or DEFAULT_TILES
    if key == "none":
        return None
    if key in TILE_LAYERS:
        return TILE_LAYERS[key]
    parts = urlsplit(value)
    if (parts.scheme not in {"http", "https"} or not parts.netloc
            or any(p not in value for p in ("{z}", "{x}", "{y}"))
            or any(c in value for c in " \"'<>;")):
        raise MaillageError(
            f"MAILLAGE_TILES invalide : « {value[:80]} ». Valeurs possibles : ign, osm, none "
            "ou une adresse https://…/{z}/{x}/{y}.png")
    attribution = os.environ.get("MAILLAGE_TILES_ATTRIBUTION", "").strip()
    return TileLayer(name="Fond de carte", url=value,
                     attribution=attribution or f"Fond de carte : {parts.hostname}")


def tile_origin(layer: TileLayer | None) -> str:
    """``scheme://host`` of the tiles for the CSP (``{s}`` sub-domains as a wildcard)."""
    if layer is None:
        return ""
    parts = urlsplit(layer.url.replace("{s}", "*"))
    return f"{parts.scheme}://{parts.netloc}" if parts.scheme and parts.netloc else ""


# --- Leaflet in French ------------------------------------------------------------------

#: Leaflet's default texts, in French (zoom buttons, markers, attribution prefix).
LEAFLET_FR = {
    "zoomInTitle": "Zoom avant",
    "zoomOutTitle": "Zoom arrière",
    "markerAlt": "Repère",
    "attributionPrefix": ('<a href="https://leafletjs.com" '
                          'title="Bibliothèque de cartes interactives">Leaflet</a>'),
    "layersTitle": "Couches de la carte",
    "closePopup": "Fermer la bulle",
}


def leaflet_fr_js() -> str:
    """A script that sets Leaflet's defaults to French; run it after ``leaflet.js``.

    Served by the web application (``/carte/leaflet-fr.js``) and inlined in the folium
    export: one source for the strings.
    """
    import json

    t = json.dumps(LEAFLET_FR, ensure_ascii=False).replace("</", "<\\/")
    return (
        "(function (t) {\n"
        "  if (!window.L) { return; }\n"
        "  L.Control.Zoom.prototype.options.zoomInTitle = t.zoomInTitle;\n"
        "  L.Control.Zoom.prototype.options.zoomOutTitle = t.zoomOutTitle;\n"
        "  L.Marker.prototype.options.alt = t.markerAlt;\n"
        "  L.Control.Attribution.prototype.options.prefix = t.attributionPrefix;\n"
        "  L.Control.Layers.prototype.options.title = t.layersTitle;\n"
        "  var expand = L.Control.Layers.prototype._initLayout;\n"
        "  L.Control.Layers.prototype._initLayout = function () {\n"
        "    expand.call(this);\n"
        "    if (this._layersLink) { this._layersLink.title = t.layersTitle;\n"
        "      this._layersLink.setAttribute('aria-label', t.layersTitle); }\n"
        "  };\n"
        "  var popupLayout = L.Popup.prototype._initLayout;\n"
        "  L.Popup.prototype._initLayout = function () {\n"
        "    popupLayout.call(this);\n"
        "    if (this._closeButton) { this._closeButton.setAttribute('aria-label', t.closePopup);\n"
        "      this._closeButton.title = t.closePopup; }\n"
        "  };\n"
        f"}})({t});\n")
