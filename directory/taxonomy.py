"""Categories of resources: the FINESS categories plus the actors outside FINESS.

FINESS categories come from ``finess/nomenclature_categories.csv`` (ANS TRE_R397), joined
on the ``categetab`` code (text, leading zeros kept), never on labels: FINESS extracts
shorten labels to 60 characters.

The sector (``sanitaire`` / ``medico-social`` / ``social``) is **our reading** of the
FINESS aggregates (the TRE_R62 domain does not separate medico-social from social: EHPAD
and SSIAD are « SOC »), as described in the data sources (SOURCES.md §9a):

* level-1 aggregates 1000, 2000, 3000 → sanitaire;
* inside 4000, sub-groups 4100, 4300, 4400, 4604, 4605, 4606, 4609 → médico-social and
  4500, 4601, 4602, 4607, 4608 → social;
* 5000 → social.

Left out (not resources of a coordination directory, or not classified by that reading):
0100 administration, 6000 training schools, 4200 special-education classes (all
deprecated) and 4603 experimental establishments for other adults (category 380).

Codes 700–705 (Maison sport-santé, MDA, PAEJ, ESJ, other territorial service, GEM) are
ROR-only concepts of TRE_R397 without any aggregate: their sector is our choice
(:data:`ROR_ONLY_SECTORS`). Actors with no code at all get ``hors-finess:<name>`` codes.
All of this must be reviewed by the ARS.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from geo import settings
from geo.errors import MaillageError
from geo.text import fold

SECTORS = ("sanitaire", "medico-social", "social")
HEALTH_NIV1 = frozenset({"1000", "2000", "3000"})
MEDICO_SOCIAL = frozenset({"4100", "4300", "4400", "4604", "4605", "4606", "4609"})
SOCIAL = frozenset({"4500", "4601", "4602", "4607", "4608"})

#: TRE_R397 codes without aggregate (ROR-only): the sector is ours, to be reviewed.
ROR_ONLY_SECTORS = {
    "700": "sanitaire",      # Maison sport-santé (prescribed physical activity)
    "701": "sanitaire",      # Maison des adolescents: mostly ARS-funded health reception
    "702": "social",         # Point accueil écoute jeunes: prevention, social cohesion funding
    "703": "sanitaire",      # Espace santé jeunes
    "704": "social",         # Autre service territorial
    "705": "medico-social",  # GEM (CASF L.114-1-1), ARS-funded
}


@dataclass(frozen=True)
class Category:
    """One category of the directory (``source`` is ``finess`` or ``hors-finess``)."""

    code: str
    label: str
    short_label: str | None
    sector: str
    source: str
    active: bool = True


def _outside(name: str, label: str, short: str, sector: str) -> Category:
    return Category(f"hors-finess:{name}", label, short, sector, "hors-finess")


#: Actors with no FINESS / TRE_R397 code, with stable codes. CPTS (604), MSP (603),
#: DAC (606), CLIC (463), MDPH (609), CSAPA (197), CAARUD (178), MDA (701) and PAEJ (702)
#: have codes and are not repeated here.
OUTSIDE_FINESS: tuple[Category, ...] = (
    _outside("ccas", "Centre communal d'action sociale (CCAS)", "CCAS", "social"),
    _outside("cias", "Centre intercommunal d'action sociale (CIAS)", "CIAS", "social"),
    _outside("pass", "Permanence d'accès aux soins de santé (PASS)", "PASS", "sanitaire"),
    _outside("france-services", "France Services", "France Services", "social"),
    _outside("cd", "Conseil départemental (solidarités, maisons des solidarités)", "CD",
             "social"),
    _outside("caf", "Caisse d'allocations familiales (CAF)", "CAF", "social"),
    _outside("cpam", "Caisse primaire d'assurance maladie (CPAM)", "CPAM", "social"),
    _outside("msa", "Mutualité sociale agricole (MSA)", "MSA", "social"),
    _outside("mission-locale", "Mission locale", "Mission locale", "social"),
    _outside("association", "Association d'aide ou d'usagers", "Association", "social"),
    _outside("autre", "Autre ressource", "Autre", "social"),
)

#: Short names a coordinator may type in the CSV template, folded (see ``geo.text.fold``),
#: mapped to a category code. Old ``hors-finess`` codes now covered by a TRE_R397 code are
#: kept as aliases so that earlier files still read.
ALIASES = {
    "cpts": "604", "msp": "603", "maison de sante": "603", "dac": "606", "clic": "463",
    "mdph": "609", "csapa": "197", "caarud": "178", "ehpad": "500", "ssiad": "354",
    "saas": "209", "spasad": "209", "saa": "460", "saad": "460", "cmp": "156", "cattp": "425",
    "cmpp": "189", "camsp": "190", "sessad": "182", "ime": "183", "mas": "255", "eam": "448",
    "fam": "448", "esat": "246", "samsah": "445", "savs": "446", "had": "127", "ch": "355",
    "chr": "101", "chu": "101", "chs": "292", "ssr": "109", "smr": "109", "usld": "362",
    "chrs": "214", "cada": "443", "lhss": "180", "lam": "213", "act": "165",
    "centre de sante": "124", "pmi": "223", "cegidd": "638", "clat": "637",
    "residence autonomie": "202", "accueil de jour": "207", "pharmacie": "620",
    "mda": "701", "maison des adolescents": "701", "paej": "702", "esj": "703", "gem": "705",
    "maison sport sante": "700",
    "ccas": "hors-finess:ccas", "cias": "hors-finess:cias", "pass": "hors-finess:pass",
    "france services": "hors-finess:france-services", "caf": "hors-finess:caf",
    "cpam": "hors-finess:cpam", "msa": "hors-finess:msa",
    "mission locale": "hors-finess:mission-locale",
    "association": "hors-finess:association", "autre": "hors-finess:autre",
    "cd": "hors-finess:cd", "conseil departemental": "hors-finess:cd",
    "hors finess caarud": "178", "hors finess mda": "701", "hors finess paej": "702",
}


def sector_of(niv1: str, niv2: str, niv3: str) -> str | None:
    """Sector of a FINESS category from its aggregates (our reading), ``None`` if out."""
    if niv1 in HEALTH_NIV1:
        return "sanitaire"
    if niv1 == "4000":
        for key in (niv2, niv3):
            if key in MEDICO_SOCIAL:
                return "medico-social"
            if key in SOCIAL:
                return "social"
        return None
    if niv1 == "5000":
        return "social"
    return None


def load_categories(data_dir: Path | None = None) -> list[Category]:
    """FINESS categories with a sector, then the actors outside FINESS.

    Parameters
    ----------
    data_dir
        Open-data folder (default :func:`geo.settings.data_dir`); reads
        ``finess/nomenclature_categories.csv``.

    Raises
    ------
    MaillageError
        When the nomenclature is missing or lacks its columns.
    """
    return list(_load(Path(data_dir) if data_dir is not None else settings.data_dir()))


@lru_cache(maxsize=4)
def _load(data_dir: Path) -> tuple[Category, ...]:
    path = data_dir / "finess" / "nomenclature_categories.csv"
    if not path.is_file():
        raise MaillageError(f"Nomenclature FINESS introuvable : « {path} ».")
    categories: list[Category] = []
    with path.open(encoding="utf-8", newline="") as fh:
        reader = csv.DictReader(fh)
        needed = {"categetab", "libcategetab", "libcourtcategetab", "categagretab",
                  "agregat_niv2", "agregat_niv1", "statut"}
        if not needed <= set(reader.fieldnames or []):
            raise MaillageError(f"« {path.name} » : colonnes attendues absentes "
                                f"({', '.join(sorted(needed - set(reader.fieldnames or [])))}).")
        for row in reader:
            code = row["categetab"].strip()
            sector = (sector_of(row["agregat_niv1"], row["agregat_niv2"], row["categagretab"])
                      if row["agregat_niv1"] else ROR_ONLY_SECTORS.get(code))
            if sector is None:
                continue
            categories.append(Category(
                code=code, label=row["libcategetab"].strip(),
                short_label=row["libcourtcategetab"].strip() or None, sector=sector,
                source="finess", active=row["statut"] == "active"))
    return tuple(categories) + OUTSIDE_FINESS


def category_codes(data_dir: Path | None = None) -> frozenset[str]:
    """Codes of :func:`load_categories` (what the readers accept)."""
    return frozenset(c.code for c in load_categories(data_dir))


def resolve_category(value: str, known: set[str] | frozenset[str]) -> str | None:
    """A code or a short name (``ehpad``, ``CCAS``…) → known category code, else ``None``."""
    value = value.strip()
    if value in known:
        return value
    if value.isdigit() and value.zfill(3) in known:
        return value.zfill(3)  # a spreadsheet dropped the leading zeros of 001–003
    code = ALIASES.get(fold(value))
    return code if code in known else None


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
    "701": "mda adolescents", "702": "paej jeunes ecoute",
}
