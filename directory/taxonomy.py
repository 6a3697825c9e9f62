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

* 6000 training schools: 6100 (health professions) → sanitaire, 6200 (social
  professions) → social, 6300 (both, and the public-health school) → sanitaire; they are
  in the FINESS extract, so a directory fed with it must be able to classify them;
* 4603 experimental establishments for other adults (category 380) → médico-social.

Left out (not resources of a coordination directory): 0100 administration and 4200
special-education classes (all deprecated).

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
MEDICO_SOCIAL = frozenset({"4100", "4300", "4400", "4603", "4604", "4605", "4606", "4609"})
SOCIAL = frozenset({"4500", "4601", "4602", "4607", "4608"})
#: Training schools (level-1 aggregate 6000), by level-2 aggregate.
TRAINING = {"6100": "sanitaire", "6200": "social", "6300": "sanitaire"}

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
    if niv1 == "6000":
        return TRAINING.get(niv2)
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
#: Folded (no accents, lower case), like the indexed text.
_HOSPITAL = "hopital hopitaux"
_ELDERLY = "personnes agees seniors"
_DISABILITY = "handicap personnes handicapees"
_MENTAL = "psychiatrie sante mentale"
_ADDICTION = "addictologie addiction drogue alcool"
KEYWORDS: dict[str, str] = {
    **{code: _HOSPITAL for code in ("101", "106", "109", "131", "355", "362", "365", "127")},
    "101": "chu chr " + _HOSPITAL + " urgences", "355": "ch " + _HOSPITAL + " urgences",
    "292": "chs " + _MENTAL + " " + _HOSPITAL, "366": _MENTAL + " clinique",
    "109": "ssr smr soins de suite readaptation reeducation " + _HOSPITAL,
    "362": "usld soins de longue duree " + _ELDERLY + " " + _HOSPITAL,
    "127": "had hospitalisation a domicile " + _HOSPITAL,
    "156": "cmp " + _MENTAL + " consultation", "425": "cattp " + _MENTAL,
    "161": "maison de sante pour maladies mentales " + _MENTAL,
    "412": "appartement therapeutique " + _MENTAL,
    "444": "centre de crise " + _MENTAL,
    "430": "postcure " + _MENTAL, "146": "dialyse", "141": "dialyse",
    "500": "ehpad maison de retraite " + _ELDERLY, "502": "ehpa maison de retraite " + _ELDERLY,
    "202": "residence autonomie foyer logement " + _ELDERLY,
    "207": "accueil de jour alzheimer " + _ELDERLY,
    "354": "ssiad soins infirmiers a domicile soins a domicile " + _ELDERLY,
    "209": "spasad aide et soins a domicile", "460": "saad aide a domicile " + _ELDERLY,
    "381": "accueil " + _ELDERLY, "220": "centre social",
    "462": "lieu de vie et d accueil", "463": "clic " + _ELDERLY + " information coordination",
    "603": "msp maison de sante pluriprofessionnelle medecin generaliste",
    "124": "centre de sante medecin consultation", "620": "pharmacie officine medicaments",
    "611": "laboratoire analyses biologie medicale prise de sang",
    "197": "csapa " + _ADDICTION, "178": "caarud reduction des risques " + _ADDICTION,
    "165": "act appartement de coordination therapeutique",
    "180": "lhss lits halte soins sante", "213": "lam lits d accueil medicalises",
    "214": "chrs hebergement d urgence reinsertion sociale",
    "219": "centre d accueil hebergement d urgence", "443": "cada demandeurs d asile",
    "442": "cph centre provisoire d hebergement refugies",
    "223": "pmi protection maternelle infantile", "228": "planification familiale",
    "183": "ime " + _DISABILITY + " enfants", "186": "itep " + _DISABILITY + " enfants",
    "182": "sessad " + _DISABILITY + " enfants", "190": "camsp " + _DISABILITY + " enfants",
    "189": "cmpp " + _MENTAL + " enfants", "246": "esat travail protege " + _DISABILITY,
    "255": "mas maison d accueil specialisee " + _DISABILITY,
    "437": "fam foyer d accueil medicalise " + _DISABILITY,
    "448": "eam fam " + _DISABILITY, "382": "foyer de vie " + _DISABILITY,
    "252": "foyer d hebergement " + _DISABILITY, "445": "samsah " + _DISABILITY,
    "446": "savs " + _DISABILITY, "449": "eanm foyer de vie " + _DISABILITY,
    "395": "accueil temporaire " + _DISABILITY, "188": _DISABILITY + " enfants polyhandicap",
    "192": _DISABILITY + " enfants", "194": _DISABILITY + " enfants deficients visuels",
    "195": _DISABILITY + " enfants deficients auditifs",
    "177": "mecs protection de l enfance", "359": "circonscription action sociale",
    "604": "cpts", "606": "dac coordination parcours complexes",
    "701": "mda adolescents", "702": "paej jeunes ecoute",
    "300": "ecole formation", "330": "ecole formation", "436": "ecole formation",
    "hors-finess:france-services": "france services demarches administratives aide",
}

#: Words people type for a word of the names (« dentiste » for a « centre dentaire »),
#: added to a query word at search time (no re-indexing). Folded, like the indexed text.
QUERY_SYNONYMS: dict[str, tuple[str, ...]] = {
    # An EHPA is the non-medicalised form of an EHPAD: shown after them (exact words first).
    "ehpad": ("ehpa",), "ehpads": ("ehpa",),
    "dentiste": ("dentaire",), "dentistes": ("dentaire",), "dentaire": ("dentiste",),
    "kine": ("kinesitherapeute", "kinesitherapie"), "kines": ("kinesitherapeute",),
    "psy": ("psychiatrie", "psychologue", "psychologie", "psychiatrique"),
    "ophtalmo": ("ophtalmologie", "ophtalmologique"),
    "gyneco": ("gynecologie", "gynecologique"),
    "pediatre": ("pediatrie", "pediatrique"),
    "cardio": ("cardiologie",),
    "radio": ("radiologie", "imagerie"),
    "labo": ("laboratoire",),
    "maternite": ("obstetrique", "perinatalite"),
}
