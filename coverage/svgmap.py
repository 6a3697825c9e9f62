"""A static SVG map of a plan for the printable report (no script, prints on A4).

Drawn from :func:`coverage.maplayers.plan_layers` with the styles of
:mod:`geo.mapstyle`, in Lambert-93 (a conformal projection: north is up, lengths are
true enough for a scale bar at département scale).
"""

from __future__ import annotations

from datetime import datetime
from html import escape
from typing import Any

from coverage.maplayers import PlanLayers
from geo import mapstyle

WIDTH = 1000.0          # viewBox units; the map frame is on the left, the legend right
MAP_W = 680.0
MARGIN = 10.0


def _path(geom: Any, x0: float, y1: float, k: float) -> str:
    """SVG path data of a Lambert-93 (Multi)Polygon (y axis flipped)."""
    parts = list(geom.geoms) if hasattr(geom, "geoms") else [geom]
    out = []
    for poly in parts:
        if poly.is_empty or poly.geom_type != "Polygon":
            continue
        for ring in [poly.exterior, *poly.interiors]:
            pts = [f"{(x - x0) * k + MARGIN:.0f} {(y1 - y) * k + MARGIN:.0f}"
                   for x, y in ring.coords[:-1]]
            if pts:
                out.append("M" + "L".join(pts) + "Z")
    return "".join(out)


def _attrs(style: dict[str, Any], *, fill: str | None = None) -> str:
    return " ".join(f'{k}="{escape(v)}"' for k, v in mapstyle.svg_attrs(style, fill=fill).items())


def _nice_length(max_m: float) -> float:
    for km in (100, 50, 20, 10, 5, 2, 1):
        if km * 1000 <= max_m:
            return km * 1000.0
    return 500.0


def plan_svg(layers: PlanLayers, *, sources: str, generated: datetime | None = None) -> str:
    """The SVG document (a string, user text escaped) of a plan map with its legend,
    scale bar, north arrow, sources and date."""
    import shapely

    geoms = [f.geometry for f in layers.communes]
    x0, y0, x1, y1 = shapely.total_bounds(geoms)
    k = (MAP_W - 2 * MARGIN) / max(x1 - x0, 1.0)
    map_h = (y1 - y0) * k + 2 * MARGIN
    legend_h = 36 + sum(10 + 15 * len(_wrap(e["label"])) for e in layers.legend)
    height = max(map_h, legend_h) + 70
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH:g} {height:.0f}" '
           f'role="img" aria-labelledby="carte-titre" class="plan-map" '
           f'font-family="system-ui, sans-serif">',
           f'<title id="carte-titre">Carte du plan {escape(layers.plan_name)}</title>',
           mapstyle.hatch_defs(),
           f'<rect x="0" y="0" width="{MAP_W:g}" height="{map_h:.0f}" fill="#ffffff" '
           f'stroke="#999" stroke-width="0.8"/>']
    out.append('<g class="communes">')
    for f in layers.communes:
        d = _path(f.geometry, x0, y1, k)
        style = layers.style(f)
        out.append(f'<path d="{d}" {_attrs(style)} fill-rule="evenodd" data-code="{f.code}" '
                   f'data-status="{f.status}"><title>{escape(f.name)}</title></path>')
    out.append('</g><g class="beyond">')
    for f in layers.communes:
        if f.beyond:
            out.append(f'<path d="{_path(f.geometry, x0, y1, k)}" '
                       f'{_attrs({**mapstyle.STYLES["beyond"], "fill": False})}/>')
    outline = shapely.coverage_union_all(geoms)
    out.append(f'</g><path class="departement" d="{_path(outline, x0, y1, k)}" '
               f'{_attrs(mapstyle.BASEMAP["departement"])} fill-rule="evenodd"/>')
    out.append('<g class="seats">')
    for s in layers.seats:
        cx, cy = (s.x - x0) * k + MARGIN, (y1 - s.y) * k + MARGIN
        out.append(f'<circle cx="{cx:.1f}" cy="{cy:.1f}" r="{mapstyle.SEAT["radius"]}" '
                   f'{_attrs(mapstyle.SEAT, fill=s.colour)} data-antenna="{escape(s.antenna)}"/>'
                   f'<text x="{cx + 10:.1f}" y="{cy + 4:.1f}" font-size="13" font-weight="bold" '
                   f'fill="#111" stroke="#fff" stroke-width="3" paint-order="stroke">'
                   f'{escape(s.antenna)}</text>')
    out.append('</g>')
    # North arrow (top right of the map frame) and scale bar (bottom left).
    ax = MAP_W - 30
    out.append(f'<g class="north"><path d="M{ax} 18 L{ax + 8} 42 L{ax} 36 L{ax - 8} 42 Z" '
               f'fill="#111"/><text x="{ax}" y="56" font-size="13" text-anchor="middle" '
               f'font-weight="bold">N</text></g>')
    length = _nice_length((x1 - x0) / 4)
    bar = length * k
    by = map_h - 16
    out.append(f'<g class="scale"><rect x="16" y="{by - 6:.0f}" width="{bar:.1f}" height="6" '
               f'fill="#111"/><rect x="{16 + bar / 2:.1f}" y="{by - 6:.0f}" width="{bar / 2:.1f}" '
               f'height="6" fill="#fff" stroke="#111" stroke-width="1"/>'
               f'<text x="16" y="{by - 10:.0f}" font-size="12">0</text>'
               f'<text x="{16 + bar:.1f}" y="{by - 10:.0f}" font-size="12" text-anchor="middle">'
               f'{length / 1000:g} km</text></g>')
    # Legend on the right: every symbol drawn, in words.
    lx = MAP_W + 20
    out.append(f'<g class="legend"><text x="{lx}" y="22" font-size="15" font-weight="bold">'
               f'Légende</text>')
    y = 36.0
    for entry in layers.legend:
        style = dict(entry["style"])
        if entry["kind"] == "seat":
            sym = f'<circle cx="{lx + 9}" cy="{y + 8:.0f}" r="6" {_attrs(style)}/>'
        elif entry["kind"] == "outline":
            sym = (f'<rect x="{lx + 1}" y="{y + 1:.0f}" width="16" height="14" '
                   f'{_attrs({**style, "fill": False})}/>')
        else:
            sym = f'<rect x="{lx}" y="{y:.0f}" width="18" height="16" {_attrs(style)}/>'
        lines = _wrap(entry["label"])
        spans = "".join(f'<tspan x="{lx + 26}" dy="{0 if i == 0 else 15}">{escape(t)}</tspan>'
                        for i, t in enumerate(lines))
        out.append(f'{sym}<text x="{lx + 26}" y="{y + 13:.0f}" font-size="12.5" '
                   f'data-key="{entry["key"]}">{spans}</text>')
        y += 10 + 15 * len(lines)
    out.append('</g>')
    when = (generated or datetime.now()).strftime("%d/%m/%Y")
    out.append(f'<text x="0" y="{height - 40:.0f}" font-size="11" fill="#444">'
               f'{escape(sources)}</text>'
               f'<text x="0" y="{height - 24:.0f}" font-size="11" fill="#444">'
               f'Lambert-93 (EPSG:2154). Carte générée le {when} par Maillage.</text>')
    out.append('</svg>')
    return "".join(out)


def _wrap(label: str, width: int = 40) -> list[str]:
    """Legend words on lines of about ``width`` characters (at most three)."""
    lines: list[str] = []
    for word in label.split():
        if lines and len(lines[-1]) + 1 + len(word) <= width:
            lines[-1] += " " + word
        else:
            lines.append(word)
    if len(lines) > 3:
        lines = lines[:2] + [" ".join(lines[2:])[:width - 1] + "…"]
    return lines or [""]
