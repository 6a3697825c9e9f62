"""Categories of resources: the FINESS categories plus the actors outside FINESS.

FINESS categories come from ``finess/nomenclature_categories.csv`` (ANS TRE_R397), joined
on the ``categetab`` code, never on labels. The sector (sanitaire / médico-social /
social) is **our reading** of the FINESS aggregates, as documented in the data sources:
level-1 aggregates 1000, 2000, 3000 are health; inside 4000 the sub-groups 4100, 4300,
4400, 4604, 4605, 4606, 4609 are medico-social and 4500, 4601, 4602, 4607, 4608 social;
5000 is social. It should be reviewed by the ARS.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path

from geo.errors import MaillageError

MEDICO_SOCIAL = {"4100", "4300", "4400", "4604", "4605", "4606", "4609"}
SOCIAL = {"4500", "4601", "4602", "4607", "4608"}


@dataclass(frozen=True)
class Category:
    code: str
    label: str
    short_label: str | None
    sector: str
    source: str  # "finess" or "hors-finess"
    active: bool = True


#: Actors the FINESS file does not list (or that are ROR-only), with stable codes.
OUTSIDE_FINESS: tuple[Category, ...] = (
    Category("hors-finess:ccas", "Centre communal d'action sociale (CCAS)", "CCAS", "social", "hors-finess"),
    Category("hors-finess:cias", "Centre intercommunal d'action sociale (CIAS)", "CIAS", "social", "hors-finess"),
    Category("hors-finess:pass", "Permanence d'accès aux soins de santé (PASS)", "PASS", "sanitaire", "hors-finess"),
    Category("hors-finess:caarud", "Centre d'accueil et d'accompagnement à la réduction des risques (CAARUD)", "CAARUD", "medico-social", "hors-finess"),
    Category("hors-finess:mda", "Maison des adolescents", "MDA", "medico-social", "hors-finess"),
    Category("hors-finess:paej", "Point accueil écoute jeunes (PAEJ)", "PAEJ", "social", "hors-finess"),
    Category("hors-finess:france-services", "France Services", "France Services", "social", "hors-finess"),
    Category("hors-finess:cd", "Conseil départemental (solidarités)", "CD", "social", "hors-finess"),
    Category("hors-finess:caf", "Caisse d'allocations familiales", "CAF", "social", "hors-finess"),
    Category("hors-finess:cpam", "Caisse primaire d'assurance maladie", "CPAM", "social", "hors-finess"),
    Category("hors-finess:association", "Association d'aide ou d'usagers", "Association", "social", "hors-finess"),
    Category("hors-finess:autre", "Autre ressource", "Autre", "social", "hors-finess"),
)

#: Short names a coordinator may type in a CSV, mapped to a category code.
ALIASES = {
    "cpts": "604", "msp": "603", "dac": "606", "clic": "463", "mdph": "609", "csapa": "197",
    "ehpad": "500", "ssiad": "354", "saas": "209", "saa": "460", "cmp": "156", "cattp": "425",
    "had": "127", "ch": "355", "chrs": "214", "centre de sante": "124",
    "ccas": "hors-finess:ccas", "cias": "hors-finess:cias", "pass": "hors-finess:pass",
    "caarud": "hors-finess:caarud", "mda": "hors-finess:mda", "paej": "hors-finess:paej",
    "france services": "hors-finess:france-services",
}


def sector_of(niv1: str, niv2: str, niv3: str) -> str | None:
    if niv1 in {"1000", "2000", "3000"}:
        return "sanitaire"
    if niv1 == "4000":
        for key in (niv2, niv3):
            if key in MEDICO_SOCIAL:
                return "medico-social"
            if key in SOCIAL:
                return "social"
    if niv1 == "5000":
        return "social"
    return None


def load_categories(data_dir: Path) -> list[Category]:
    """FINESS categories (with a sector) followed by the actors outside FINESS."""
    path = data_dir / "finess" / "nomenclature_categories.csv"
    if not path.is_file():
        raise MaillageError(f"Nomenclature FINESS introuvable : « {path} ».")
    categories: list[Category] = []
    with path.open(encoding="utf-8") as fh:
        for row in csv.DictReader(fh):
            sector = sector_of(row["agregat_niv1"], row["agregat_niv2"], row["categagretab"])
            if sector is None:
                continue
            categories.append(Category(
                code=row["categetab"], label=row["libcategetab"],
                short_label=row["libcourtcategetab"] or None, sector=sector, source="finess",
                active=row["statut"] == "active"))
    return categories + list(OUTSIDE_FINESS)


#: Everyday words people search with, added to the indexed text of a category's
#: structures (the official labels say « Centre Hospitalier », people type « hôpital »).
_HOSPITAL = "hopital hopitaux"
KEYWORDS: dict[str, str] = {
    **{code: _HOSPITAL for code in ("101", "106", "109", "131", "292", "355", "362", "365",
                                    "127")},
    "156": "psychiatrie sante mentale " + _HOSPITAL, "425": "psychiatrie sante mentale",
    "500": "maison de retraite personnes agees", "202": "foyer logement personnes agees",
    "354": "soins a domicile infirmiers", "209": "aide et soins a domicile",
    "460": "aide a domicile", "603": "maison de sante pluriprofessionnelle",
    "604": "cpts", "606": "dac coordination parcours complexes",
}
