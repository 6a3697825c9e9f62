"""Public resource search page: map and list fed by ``/api/v1/search`` (no login)."""

from __future__ import annotations

import csv
from functools import lru_cache
from pathlib import Path

from flask import Blueprint, current_app, render_template

from geo import settings

bp = Blueprint("search", __name__)

SECTORS = (("sanitaire", "Sanitaire"), ("medico-social", "Médico-social"), ("social", "Social"))
RADII_KM = (5, 10, 20, 30, 50, 100)
DEFAULT_RADIUS_KM = 20


@lru_cache(maxsize=4)
def publics_choices(data_dir: Path) -> tuple[tuple[str, str], ...]:
    """(value, label) of the data·inclusion ``publics`` list, or ``()`` when absent."""
    path = data_dir / "data_inclusion" / "publics.csv"
    if not path.is_file():
        return ()
    with path.open(encoding="utf-8") as fh:
        return tuple((row["value"], row["label"]) for row in csv.DictReader(fh)
                     if row.get("value") and row.get("label"))


@bp.get("/recherche")
def page() -> str:
    data_dir = Path(current_app.config.get("MAILLAGE_DATA_DIR") or settings.data_dir())
    return render_template("search.html", sectors=SECTORS, radii=RADII_KM,
                           default_radius=DEFAULT_RADIUS_KM, publics=publics_choices(data_dir),
                           tile_url=current_app.config["MAILLAGE_TILE_URL"])
