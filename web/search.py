"""Public resource search page: map and list fed by ``/api/v1/search`` (no login).

The search lives in the address bar (``/recherche?q=…&commune=…&rayon=…&secteur=…``):
the page is rendered with the form filled from it, so a bookmark, a shared link or
« Retour à la recherche » restores the search. A commune typed without picking it in the
list is resolved here (one match → used; several → links to choose; none → a message).
"""

from __future__ import annotations

import csv
import re
from functools import lru_cache
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from flask import Blueprint, current_app, render_template, request

from geo import settings

bp = Blueprint("search", __name__)

SECTORS = (("sanitaire", "Sanitaire"), ("medico-social", "Médico-social"), ("social", "Social"))
RADII_KM = (5, 10, 20, 30, 50, 100)
DEFAULT_RADIUS_KM = 20
#: Search parameters of the page's address (French names) and what they hold.
URL_PARAMS = ("q", "commune", "rayon", "secteur", "categorie", "public", "ouvert", "lieu")


@lru_cache(maxsize=4)
def publics_choices(data_dir: Path) -> tuple[tuple[str, str], ...]:
    """(value, label) of the data·inclusion ``publics`` list, or ``()`` when absent."""
    path = data_dir / "data_inclusion" / "publics.csv"
    if not path.is_file():
        return ()
    with path.open(encoding="utf-8") as fh:
        return tuple((row["value"], row["label"]) for row in csv.DictReader(fh)
                     if row.get("value") and row.get("label"))


def search_state(args: Any) -> dict[str, str]:
    """The page's search parameters from ``args`` (unknown keys and odd values dropped)."""
    state = {k: str(args.get(k, "")).strip()[:200] for k in URL_PARAMS if args.get(k)}
    if "rayon" in state and state["rayon"] not in {str(r) for r in RADII_KM} | {"0"}:
        state.pop("rayon")
    if "secteur" in state and state["secteur"] not in {v for v, _ in SECTORS}:
        state.pop("secteur")
    ouvert = state.get("ouvert", "")
    if ouvert and ouvert != "maintenant" and not re.fullmatch(r"\d{4}-\d{2}-\d{2}", ouvert):
        state.pop("ouvert")
    return state


def search_url(state: dict[str, str]) -> str:
    """``/recherche?…`` for a search state (only the known parameters)."""
    query = urlencode([(k, state[k]) for k in URL_PARAMS if state.get(k)])
    return "/recherche" + (f"?{query}" if query else "")


@bp.get("/recherche")
def page() -> str:
    from directory.query import resolve_commune

    data_dir = Path(current_app.config.get("MAILLAGE_DATA_DIR") or settings.data_dir())
    state = search_state(request.args)
    commune: dict[str, str] | None = None
    choices: list[dict[str, str]] = []
    message = None
    if state.get("commune"):
        with current_app.extensions["maillage_engine"].connect() as conn:
            found = resolve_commune(conn, state["commune"])
        commune, message = found.commune, found.message
        choices = [{**c, "url": search_url({**state, "commune": c["code"]})}
                   for c in found.choices]
    return render_template("search.html", sectors=SECTORS, radii=RADII_KM,
                           default_radius=DEFAULT_RADIUS_KM, publics=publics_choices(data_dir),
                           tile_url=current_app.config["MAILLAGE_TILE_URL"], state=state,
                           commune=commune, commune_choices=choices,
                           commune_message=message)
