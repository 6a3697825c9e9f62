"""Caseload sizing: expected file active per commune and coordinators per antenna.

Norms (DGOS guide, 2012): a coordinator follows 150 to 200 patients a year; a DAC about
1,000. Two demand modes:

* ``target``: the DAC's target file active (default 1,000) shared among the communes of
  the département in proportion to their weight (population, or a weights file);
* ``rate``: a number of patients per 1,000 inhabitants (or per 1,000 weight units).
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from pathlib import Path

import pandas as pd

from geo import settings
from geo.errors import MaillageError
from geo.fmt import fr_float
from geo.tables import read_table

RATIOS = (settings.PATIENTS_PER_COORDINATOR_MIN, settings.PATIENTS_PER_COORDINATOR_DEFAULT,
          settings.PATIENTS_PER_COORDINATOR_MAX)


@dataclass
class SizingParameters:
    """Parameters of the demand model, printed in every report."""

    mode: str = "target"
    target: float = float(settings.DAC_FILE_ACTIVE_NORM)
    rate_per_1000: float = 4.4
    patients_per_coordinator: int = settings.PATIENTS_PER_COORDINATOR_DEFAULT
    weights_source: str | None = None

    def __post_init__(self) -> None:
        if self.mode not in {"target", "rate"}:
            raise MaillageError(f"Mode de demande inconnu « {self.mode} » (target ou rate).")
        if self.target <= 0 or self.rate_per_1000 <= 0:
            raise MaillageError("La file active cible et le taux doivent être positifs.")
        if not 1 <= self.patients_per_coordinator <= 1000:
            raise MaillageError("Le nombre de patients par coordinateur doit être entre 1 et 1000.")

    @property
    def ratios(self) -> tuple[int, ...]:
        """The DGOS ratios 150/175/200, plus the chosen one when it differs."""
        return tuple(sorted({*RATIOS, self.patients_per_coordinator}))

    def to_dict(self) -> dict[str, object]:
        return asdict(self)

    def describe_fr(self) -> str:
        if self.mode == "target":
            base = (f"file active cible du DAC : {fr_float(self.target, 0)} patients par an, "
                    "répartie entre "
                    "les communes au prorata de la population")
        else:
            base = (f"{fr_float(self.rate_per_1000, 2).rstrip('0').rstrip(',')} patients par an "
                    "pour 1 000 habitants")
        if self.weights_source:
            base += f" (pondération : {self.weights_source})"
        return base + f" ; {self.patients_per_coordinator} patients par coordinateur"


def read_weights(path: str | Path, *, codes: set[str]) -> pd.Series:
    """Weights per commune from a CSV ``code;poids`` (e.g. population aged 75+).

    Communes absent from the file weigh 0. Every bad line (unreadable or negative
    weight, unknown commune, commune given twice) is reported with its line number and
    the whole file is refused; so is a file whose weights are all zero.
    """
    table = read_table(path)
    code_col = table.column({"code insee", "insee", "code", "code commune", "codgeo", "com"})
    weight_col = table.column({"poids", "weight", "pop75", "population 75", "pop 75 plus",
                               "valeur", "population"})
    if code_col is None or weight_col is None:
        raise MaillageError(f"« {table.path.name} » : il faut une colonne code INSEE et une "
                            f"colonne « poids » (en-tête lu : {', '.join(table.header)}).")
    values: dict[str, float] = {}
    first_line: dict[str, int] = {}
    errors = []
    for line, row in table.rows:
        code = row[code_col].strip().upper() if code_col < len(row) else ""
        if code.isdigit() and len(code) == 4:
            code = "0" + code  # a spreadsheet dropped the leading zero
        raw = row[weight_col] if weight_col < len(row) else ""
        try:
            value = float(raw.replace(",", ".").replace(" ", "").replace("\u202f", ""))
        except ValueError:
            errors.append(f"ligne {line} : poids illisible « {raw} »")
            continue
        if value < 0:
            errors.append(f"ligne {line} : poids négatif")
        elif code not in codes:
            errors.append(f"ligne {line} : commune inconnue « {code} »")
        elif code in first_line:
            errors.append(f"ligne {line} : commune {code} déjà pondérée (ligne {first_line[code]})")
        else:
            values[code] = value
            first_line[code] = line
    if errors:
        raise MaillageError(f"Fichier de pondération « {table.path.name} » refusé.",
                            details=errors[:30])
    if not values or sum(values.values()) <= 0:
        raise MaillageError(f"Fichier de pondération « {table.path.name} » refusé : "
                            "aucun poids positif.")
    return pd.Series(values, dtype=float)


def commune_demand(communes: pd.DataFrame, params: SizingParameters, *,
                   weights: pd.Series | None = None) -> pd.Series:
    """Expected patients a year for every commune of the département (index = code)."""
    w = communes["population"].astype(float)
    if weights is not None:
        w = weights.reindex(communes.index).fillna(0.0)
    if params.mode == "target":
        total = float(w.sum())
        return w * (params.target / total) if total > 0 else w * 0.0
    return w * params.rate_per_1000 / 1000.0


def coordinators_needed(demand: float, *, ratios: tuple[int, ...] = RATIOS) -> dict[int, int]:
    """Coordinators needed at 150, 175 and 200 patients each (rounded up).

    The demand is rounded to 9 decimals first so that 350.0000000001 (a float sum)
    does not ask for one coordinator more than 350.
    """
    return {ratio: math.ceil(round(demand, 9) / ratio) for ratio in ratios}


def caseload_flag(demand: float, proposed: float | None) -> str | None:
    """French flag when the proposed coordinators put the caseload outside 150–200."""
    if proposed is None:
        return None
    if proposed <= 0:
        return "aucun coordinateur proposé" if demand > 0 else None
    caseload = demand / proposed
    if caseload < settings.PATIENTS_PER_COORDINATOR_MIN:
        return f"sous-charge : {caseload:.0f} patients par coordinateur (< 150)"
    if caseload > settings.PATIENTS_PER_COORDINATOR_MAX:
        return f"surcharge : {caseload:.0f} patients par coordinateur (> 200)"
    return None

