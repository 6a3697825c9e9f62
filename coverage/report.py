"""The French report of a plan (HTML that prints cleanly to PDF) and its companions."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import folium
import geopandas as gpd
from jinja2 import Environment, FileSystemLoader, select_autoescape
from markupsafe import Markup

from coverage.annex import annex_table, write_annex
from coverage.checks import CheckResult
from coverage.maplayers import plan_layers
from coverage.mapping import build_map, save_map
from coverage.plan import Plan
from coverage.svgmap import plan_svg
from geo import settings
from geo.fmt import fr_date, fr_float, fr_int

_ENV = Environment(loader=FileSystemLoader(Path(__file__).parent / "templates"),
                   autoescape=select_autoescape(["html"]))
_ENV.globals.update(fr_int=fr_int, fr_float=fr_float)


@dataclass
class Section:
    """An extra report section; ``html`` must already be escaped (it is trusted)."""

    title: str
    html: Markup


#: Sources printed under the report's map.
MAP_SOURCES = ("Sources : INSEE (COG 2026, populations légales), DGCL (EPCI), "
               "IGN ADMIN EXPRESS (contours) ; Licence Ouverte 2.0.")
#: Simplification of the printed map (metres): lighter than the screen's, invisible on A4.
PRINT_SIMPLIFY_M = 150.0


def report_map(plan: Plan, communes: gpd.GeoDataFrame, check: CheckResult) -> Markup:
    """The static SVG map of the plan for the report (safe markup: user text escaped)."""
    # plan_svg escapes every name it writes (tested with template and markup payloads).
    return Markup(plan_svg(plan_layers(plan, communes, check, tolerance=PRINT_SIMPLIFY_M),  # noqa: S704
                           sources=MAP_SOURCES))


def render_report(check: CheckResult, *, notes: Iterable[str] = (),
                  extra_sections: Iterable[Section] = (),
                  communes_source: str | None = None, map_svg: Markup | None = None,
                  files: dict[str, str] | None = None) -> str:
    """The report as one HTML page (French, print CSS, no script).

    Parameters
    ----------
    check
        The checks of the plan; they carry the sizing parameters that are printed.
    notes
        Warnings shown at the top, e.g. « Le découpage est une hypothèse de travail ».
    extra_sections
        Sections added by later steps (solver proposals, drive-time scenarios).
    communes_source
        Where the communes frame was read (file or database), printed with the sources.
    map_svg
        The plan map (:func:`report_map`), printed on the first page.
    files
        Links to the companion files (label -> URL), shown when the report is served by
        the web application.
    """
    return _ENV.get_template("report.html").render(
        check=check, notes=list(notes), extra_sections=list(extra_sections),
        communes_source=communes_source, map_svg=map_svg, files=files or {},
        generated=f"{fr_date(datetime.now())} à {datetime.now():%H:%M}",
        norm=settings.DAC_FILE_ACTIVE_NORM,
        uncovered_population=sum(check.populations[c] for c in check.uncovered))


def write_report(out_dir: str | Path, *, plan: Plan, communes: gpd.GeoDataFrame,
                 check: CheckResult, notes: Iterable[str] = (),
                 extra_layers: Iterable[folium.map.Layer] = (),
                 extra_sections: Iterable[Section] = (),
                 communes_source: str | None = None) -> dict[str, Path]:
    """Write ``annexe1.csv``, ``annexe1.xlsx``, ``carte.html`` and ``rapport.html``.

    The sizing parameters are those of ``check`` (``check.sizing``). Returns the written
    paths under the keys ``annex_csv``, ``annex_xlsx``, ``map`` and ``report``.
    """
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    paths = write_annex(annex_table(plan, communes, check), out)
    paths["map"] = save_map(build_map(plan, communes, check, extra_layers=extra_layers),
                            out / "carte.html")
    report = out / "rapport.html"
    report.write_text(render_report(check, notes=notes, extra_sections=extra_sections,
                                    communes_source=communes_source,
                                    map_svg=report_map(plan, communes, check)),
                      encoding="utf-8")
    paths["report"] = report
    return paths
