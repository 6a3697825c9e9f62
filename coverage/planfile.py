"""Import a promoter's plan file: one row per commune → antenna.

Accepted column names (matched regardless of case, accents and separators) are listed in
:data:`COLUMN_ALIASES` and in ``docs/plans.md``. Every problem is reported with its line
number (header = line 1); lines with a problem are left out, the others are imported.
A file that cannot be read at all raises :class:`MaillageError` and nothing is imported.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path

import geopandas as gpd

from coverage.plan import Antenna, Plan
from geo.communes import INSEE_CODE_RE
from geo.errors import MaillageError
from geo.names import NameIndex
from geo.spreadsheet import unneutralise
from geo.tables import Table, read_table
from geo.text import fold

COLUMN_ALIASES: dict[str, set[str]] = {
    "code": {"code insee", "code_insee", "insee", "code commune", "code com", "codgeo",
             "depcom", "com", "code"},
    "commune": {"commune", "nom commune", "nom de la commune", "libelle", "nom", "libelle commune",
                "nom com"},
    "antenna": {"antenne", "antenna", "antenne de proximite", "nom antenne", "nom de l antenne"},
    "seat": {"siege", "siege antenne", "siege de l antenne", "commune siege", "code siege",
             "code insee siege", "seat"},
    "structure": {"dac", "structure", "dispositif", "nom dac", "porteur"},
    "coordinators": {"coordinateurs", "nb coordinateurs", "nombre de coordinateurs",
                     "etp coordinateurs", "coordinators"},
    "seat_code": {"code insee siege", "code siege"},
    "status": {"statut"},
    "lat": {"lat", "latitude"},
    "lon": {"lon", "lng", "longitude"},
}


def _aliases(key: str) -> set[str]:
    # Headers are folded ("Code INSEE" → "code insee"), aliases written with "_" too.
    return {a.replace("_", " ") for a in COLUMN_ALIASES[key]}


@dataclass
class Problem:
    line: int
    message: str

    def __str__(self) -> str:
        return f"ligne {self.line} : {self.message}"


@dataclass
class PlanFile:
    """Result of reading a plan file."""

    plan: Plan
    unknown: list[str] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    warnings: list[Problem] = field(default_factory=list)
    source: str = ""


class CommuneResolver:
    """Resolve what a user typed (INSEE code or name) to a commune of the département."""

    def __init__(self, communes: gpd.GeoDataFrame, *, dept: str) -> None:
        self.dept = dept
        self.names = dict(zip(communes["code"], communes["nom"], strict=True))
        self.index = NameIndex(self.names.items())

    def resolve(self, value: str) -> tuple[str | None, str | None]:
        """``(code, None)`` or ``(None, French reason)``."""
        value = value.strip()
        if not value:
            return None, "commune vide"
        candidate = value.upper()
        if candidate.isdigit() and len(candidate) == 4:
            candidate = "0" + candidate  # a spreadsheet dropped the leading zero
        if INSEE_CODE_RE.match(candidate):
            if candidate in self.names:
                return candidate, None
            if not candidate.startswith(self.dept):
                # We only know this département's communes: say what is wrong, not a guess.
                return None, (f"code INSEE « {value} » absent du département {self.dept} "
                              f"(les codes du {self.dept} commencent par {self.dept})")
            return None, f"code INSEE inconnu « {value} » dans le département {self.dept}"
        matches = self.index.lookup(value)
        if len(matches) == 1:
            return matches[0][0], None
        if len(matches) > 1:
            listed = ", ".join(f"{code} {name}" for code, name in sorted(matches))
            return None, f"nom ambigu « {value} » : {listed} ; indiquez le code INSEE"
        return None, f"commune inconnue « {value} » dans le département {self.dept}"


def _column(table: Table, key: str) -> int | None:
    return table.column(_aliases(key))


#: Longest antenna or structure name the database keeps.
MAX_NAME = 200
#: More coordinators than this for one antenna is a typing error, not a plan.
MAX_COORDINATORS = 1000


def _float(value: str) -> float | None:
    """A finite number (French or English decimal mark); ``ValueError`` otherwise."""
    value = value.strip().replace(",", ".").replace("\u202f", "").replace(" ", "")
    if not value:
        return None
    number = float(value)
    if not math.isfinite(number):  # "nan", "inf", "1e999"
        raise ValueError(value)
    return number


def read_plan_file(path: str | Path, *, communes: gpd.GeoDataFrame, dept: str,
                   name: str | None = None, antennas_path: str | Path | None = None
                   ) -> PlanFile:
    """Read a plan (CSV or XLSX) against the communes of ``dept``.

    Parameters
    ----------
    path
        One row per commune: a commune column (INSEE code or name) and an antenna column;
        optional ``siege``, ``structure``, ``coordinateurs``.
    communes
        The communes frame of the département (``geo.communes.communes_frame``).
    antennas_path
        Optional second file: antenna, seat commune, optional lat/lon and coordinators.
    """
    table = read_table(path)
    code_col = _column(table, "code")
    name_col = _column(table, "commune")
    antenna_col = _column(table, "antenna")
    if (code_col is None and name_col is None) or antenna_col is None:
        raise MaillageError(
            f"« {table.path.name} » : colonnes obligatoires introuvables. En-tête lu : "
            f"{', '.join(table.header) or '(vide)'}. Il faut une colonne commune "
            f"(« code_insee », « insee », « code commune » ou « commune ») et une colonne "
            "« antenne »."
        )
    seat_col = _column(table, "seat")
    structure_col = _column(table, "structure")
    coord_col = _column(table, "coordinators")
    resolver = CommuneResolver(communes, dept=dept)
    result = PlanFile(plan=Plan(name=name or table.path.stem, dept=dept),
                      source=str(table.path))
    seen: dict[str, tuple[int, str]] = {}

    def cell(row: list[str], col: int | None) -> str:
        # Our own exports prefix formula-like text with « ' »: drop it on the way back.
        return unneutralise(row[col].strip()) if col is not None and col < len(row) else ""

    # The Annex 1 marks the seat's row « siege : oui » and repeats the seat's code in
    # « code_insee_siege »: the code column wins over the yes/no one.
    seat_code_col = _column(table, "seat_code")
    if seat_code_col is not None:
        seat_col = seat_code_col
    status_col = _column(table, "status")
    for line, row in table.rows:
        typed = cell(row, code_col) or cell(row, name_col)
        antenna_name = cell(row, antenna_col)
        if not antenna_name and fold(cell(row, status_col)) == "non couverte":
            continue  # an Annex 1 lists the uncovered communes too: nothing to assign
        if not antenna_name:
            result.problems.append(Problem(line, f"antenne vide pour la commune « {typed} »"))
            continue
        if len(antenna_name) > MAX_NAME or len(cell(row, structure_col)) > MAX_NAME:
            result.problems.append(Problem(
                line, f"nom d'antenne ou de structure trop long (plus de {MAX_NAME} caractères)"))
            continue
        code, reason = resolver.resolve(typed)
        if code is None:
            result.problems.append(Problem(line, reason or "commune illisible"))
            if typed:
                result.unknown.append(typed)
            continue
        antenna = result.plan.antenna(antenna_name)
        if antenna is None:
            antenna = Antenna(name=antenna_name,
                              structure=cell(row, structure_col) or "DAC")
            result.plan.antennas.append(antenna)
        _read_antenna_extras(result, antenna, line=line, seat=cell(row, seat_col),
                             coordinators=cell(row, coord_col), resolver=resolver,
                             commune=code)
        if code in seen:
            first_line, first_antenna = seen[code]
            label = f"{code} {resolver.names[code]}"
            if first_antenna == antenna_name:
                result.warnings.append(Problem(
                    line, f"ligne en double : {label} déjà affectée à « {antenna_name} » "
                          f"(ligne {first_line})"))
                continue
            result.problems.append(Problem(
                line, f"unicité non respectée : {label} est affectée à « {antenna_name} » "
                      f"et à « {first_antenna} » (ligne {first_line})"))
        else:
            seen[code] = (line, antenna_name)
        if code not in antenna.communes:
            antenna.communes.append(code)

    if antennas_path is not None:
        _read_antennas_file(result, antennas_path, resolver=resolver)
    for antenna in result.plan.antennas:
        if antenna.seat is None and antenna.lon is None:
            result.warnings.append(Problem(
                1, f"antenne « {antenna.name} » sans siège : indiquez la colonne « siege » "
                   "ou un fichier d'antennes (--antennas)"))
    return result


#: Values of a yes/no « siege » column (the row's commune is, or is not, the seat).
_YES = {"oui", "o", "x", "1", "vrai", "yes", "y", "true"}
_NO = {"non", "n", "0", "faux", "no", "false"}


def _read_antenna_extras(result: PlanFile, antenna: Antenna, *, line: int, seat: str,
                         coordinators: str, resolver: CommuneResolver,
                         commune: str | None = None) -> None:
    if fold(seat) in _YES | _NO:
        seat = commune or "" if fold(seat) in _YES else ""
    if seat:
        code, reason = resolver.resolve(seat)
        if code is None:
            result.problems.append(Problem(line, f"siège de « {antenna.name} » : {reason}"))
        elif antenna.seat is None:
            antenna.seat = code
        elif antenna.seat != code:
            result.problems.append(Problem(
                line, f"l'antenne « {antenna.name} » a deux sièges : {antenna.seat} et {code}"))
    if coordinators:
        try:
            value = _float(coordinators)
        except ValueError:
            result.problems.append(Problem(
                line, f"nombre de coordinateurs illisible « {coordinators} »"))
            return
        if value is not None and value < 0:
            result.problems.append(Problem(line, "nombre de coordinateurs négatif"))
        elif value is not None and value > MAX_COORDINATORS:
            result.problems.append(Problem(
                line, f"nombre de coordinateurs invraisemblable ({coordinators}, au plus "
                      f"{MAX_COORDINATORS})"))
        elif value is not None:
            antenna.coordinators = value


def _read_antennas_file(result: PlanFile, path: str | Path, *,
                        resolver: CommuneResolver) -> None:
    table = read_table(path)
    antenna_col = _column(table, "antenna")
    seat_col = _column(table, "seat")
    if seat_col is None:
        seat_col = _column(table, "code")
    if seat_col is None:
        seat_col = _column(table, "commune")
    if antenna_col is None or seat_col is None:
        raise MaillageError(
            f"« {table.path.name} » : il faut les colonnes « antenne » et « siege » "
            f"(en-tête lu : {', '.join(table.header)}).")
    lat_col, lon_col = _column(table, "lat"), _column(table, "lon")
    coord_col = _column(table, "coordinators")
    structure_col = _column(table, "structure")
    for line, row in table.rows:
        def cell(col: int | None, row: list[str] = row) -> str:
            return unneutralise(row[col].strip()) if col is not None and col < len(row) else ""

        name = cell(antenna_col)
        if not name:
            result.problems.append(Problem(line, f"{table.path.name} : antenne vide"))
            continue
        antenna = result.plan.antenna(name)
        if antenna is None:
            result.warnings.append(Problem(
                line, f"{table.path.name} : l'antenne « {name} » ne couvre aucune commune"))
            antenna = Antenna(name=name)
            result.plan.antennas.append(antenna)
        if cell(structure_col):
            antenna.structure = cell(structure_col)
        _read_antenna_extras(result, antenna, line=line, seat=cell(seat_col),
                             coordinators=cell(coord_col), resolver=resolver)
        if cell(lat_col) and cell(lon_col):
            try:
                lat, lon = _float(cell(lat_col)), _float(cell(lon_col))
            except ValueError:
                result.problems.append(Problem(line, f"{table.path.name} : coordonnées illisibles"))
                continue
            if lat is None or lon is None or not (-90 <= lat <= 90 and -180 <= lon <= 180):
                result.problems.append(Problem(
                    line, f"{table.path.name} : coordonnées hors limites ({lat}, {lon})"))
                continue
            antenna.lat, antenna.lon = lat, lon


def read_antennas(path: str | Path, *, communes: gpd.GeoDataFrame, dept: str) -> list[Antenna]:
    """Antennas from a file (antenne, siège, optional lat/lon, coordinators, structure)."""
    result = PlanFile(plan=Plan(name="antennes", dept=dept), source=str(path))
    _read_antennas_file(result, path, resolver=CommuneResolver(communes, dept=dept))
    if result.problems:
        raise MaillageError(f"Fichier d'antennes « {Path(path).name} » refusé.",
                            details=[str(p) for p in result.problems])
    missing = [a.name for a in result.plan.antennas if a.seat is None and a.lon is None]
    if missing:
        raise MaillageError(f"Antennes sans siège ni coordonnées : {', '.join(missing)}.")
    return result.plan.antennas
