"""The ARS checks on a plan: full coverage, unicity, contiguity, EPCI split, sizing.

``CheckResult.to_json()`` is the plan's machine interface: the keys ``departement``,
``communes_total``, ``communes_covered``, ``uncovered``, ``duplicates``, ``unknown``,
``antennas`` (``name``, ``seat``, ``communes``, ``population``, ``demand``,
``coordinators_needed``), ``demand_total``, ``beyond_threshold`` are stable. Later checks
add keys (drive times are an optional section, ``None`` when absent), never rename them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
from shapely import STRtree

from coverage.drivetimes import DriveTimes
from coverage.plan import Plan
from coverage.sizing import (
    SizingParameters,
    caseload_flag,
    commune_demand,
    coordinators_needed,
)
from geo import settings
from geo.fmt import fr_float, fr_int, plural

#: Tolerance (metres) for shared borders: the source contours were simplified, so two
#: neighbours may be separated by a sliver of a few metres.
ADJACENCY_TOLERANCE_M = 25.0


@dataclass
class AntennaCheck:
    name: str
    structure: str
    seat: str | None
    communes: list[str]
    population: int
    area_km2: float
    demand: float
    coordinators_proposed: float | None
    coordinators_needed: dict[int, int]
    caseload_flag: str | None
    enclaves: list[list[str]] = field(default_factory=list)
    #: False when the seat commune is not among the antenna's communes; None without seat.
    seat_in_territory: bool | None = None
    max_minutes: float | None = None
    mean_minutes_weighted: float | None = None


@dataclass
class CheckResult:
    departement: str
    plan_name: str
    communes_total: int
    population_total: int
    covered: list[str]
    uncovered: list[str]
    duplicates: dict[str, list[str]]
    unknown: list[str]
    antennas: list[AntennaCheck]
    epci_split: dict[str, list[str]]
    demand_total: float
    sizing: SizingParameters
    names: dict[str, str]
    populations: dict[str, int]
    epci_names: dict[str, str]
    drive_times: DriveTimes | None = None
    problems: list[str] = field(default_factory=list)

    @property
    def structures(self) -> list[dict[str, Any]]:
        """Per DAC (structure): antennas and total demand, against the ~1,000 norm."""
        out: dict[str, dict[str, Any]] = {}
        for a in self.antennas:
            entry = out.setdefault(a.structure, {"name": a.structure, "antennas": [],
                                                 "demand": 0.0})
            entry["antennas"].append(a.name)
            entry["demand"] += a.demand
        for entry in out.values():
            entry["demand"] = round(entry["demand"], 1)
            entry["norm_ratio"] = round(entry["demand"] / settings.DAC_FILE_ACTIVE_NORM, 2)
        return list(out.values())

    @property
    def ok(self) -> bool:
        """Coverage full and unique: the condition of exit code 0."""
        return not self.uncovered and not self.duplicates

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "departement": self.departement,
            "plan": self.plan_name,
            "ok": self.ok,
            "communes_total": self.communes_total,
            "communes_covered": len(self.covered),
            "population_total": self.population_total,
            "uncovered": self.uncovered,
            "uncovered_population": sum(self.populations[c] for c in self.uncovered),
            "duplicates": [{"code": c, "antennas": a} for c, a in sorted(self.duplicates.items())],
            "unknown": self.unknown,
            "problems": self.problems,
            "epci_split": [{"epci": e, "nom": self.epci_names.get(e), "antennas": a}
                           for e, a in sorted(self.epci_split.items())],
            "antennas": [{
                "name": a.name, "structure": a.structure, "seat": a.seat,
                "communes": len(a.communes), "population": a.population,
                "area_km2": round(a.area_km2, 2), "demand": round(a.demand, 1),
                "coordinators_proposed": a.coordinators_proposed,
                "coordinators_needed": a.coordinators_needed[self.sizing.patients_per_coordinator],
                "coordinators_needed_by_ratio": {str(k): v for k, v in a.coordinators_needed.items()},
                "caseload_flag": a.caseload_flag,
                "enclaves": a.enclaves,
                "seat_in_territory": a.seat_in_territory,
                "max_minutes": None if a.max_minutes is None else round(a.max_minutes, 1),
                "mean_minutes_weighted": None if a.mean_minutes_weighted is None
                else round(a.mean_minutes_weighted, 1),
            } for a in self.antennas],
            "demand_total": round(self.demand_total, 1),
            "structures": self.structures,
            "dac_norm": settings.DAC_FILE_ACTIVE_NORM,
            "sizing": self.sizing.to_dict(),
        }
        dt = self.drive_times
        out["drive_times"] = None if dt is None else {
            "mode": dt.mode, "label": dt.label, "threshold_minutes": dt.threshold,
            "parameters": dt.parameters, "far_from_road": dt.far_from_road}
        out["beyond_threshold"] = [] if dt is None else [
            {"code": c, "minutes": round(m, 1) if np.isfinite(m) else None,
             "population": self.populations[c]} for c, m in dt.beyond()]
        return out


def adjacency(communes: gpd.GeoDataFrame) -> list[tuple[int, int]]:
    """Pairs of positions of communes sharing a border (within the tolerance).

    Cached by the codes and a fingerprint of the coordinates (about 1 ms, where
    serialising every polygon took 20 ms: the editor checks a plan at every edit).
    """
    import hashlib

    import shapely

    geoms = communes.geometry.to_numpy()
    digest = hashlib.blake2b(shapely.get_coordinates(geoms).tobytes()
                             + shapely.get_num_coordinates(geoms).tobytes()
                             + shapely.get_num_geometries(geoms).tobytes()).digest()
    key = (tuple(communes.index), digest)
    if key not in _ADJACENCY:
        if len(_ADJACENCY) >= 4:
            _ADJACENCY.pop(next(iter(_ADJACENCY)))
        _ADJACENCY[key] = _adjacency_of(geoms)
    return list(_ADJACENCY[key])


_ADJACENCY: dict[tuple[tuple[str, ...], bytes], tuple[tuple[int, int], ...]] = {}


def _adjacency_of(geoms: np.ndarray) -> tuple[tuple[int, int], ...]:
    tree = STRtree(geoms)
    left, right = tree.query(geoms, predicate="dwithin", distance=ADJACENCY_TOLERANCE_M)
    keep = left < right
    return tuple(zip(left[keep].tolist(), right[keep].tolist(), strict=True))


def _components(members: list[int], pairs: list[tuple[int, int]]) -> list[list[int]]:
    """Connected parts of an antenna's communes (union-find: a few hundred communes; it
    spares ``plan check`` the import of scipy.sparse, a quarter of a second)."""
    parent = {m: m for m in members}

    def root(m: int) -> int:
        while parent[m] != m:
            parent[m] = parent[parent[m]]  # path halving
            m = parent[m]
        return m

    for a, b in pairs:
        if a in parent and b in parent:
            ra, rb = root(a), root(b)
            if ra != rb:
                parent[max(ra, rb)] = min(ra, rb)
    groups: dict[int, list[int]] = {}
    for m in members:
        groups.setdefault(root(m), []).append(m)
    return list(groups.values())


def check_plan(plan: Plan, communes: gpd.GeoDataFrame, *,
               sizing: SizingParameters | None = None, weights: pd.Series | None = None,
               unknown: list[str] | None = None, problems: list[str] | None = None,
               drive_times: DriveTimes | None = None) -> CheckResult:
    """Run every check of a plan against the communes of its département."""
    sizing = sizing or SizingParameters()
    codes = list(communes.index)
    names = dict(zip(codes, communes["nom"], strict=True))
    populations = {c: int(p) for c, p in zip(codes, communes["population"], strict=True)}
    all_claims = plan.claims()
    claims = {c: a for c, a in all_claims.items() if c in names}
    # A stored or hand-built plan may name codes outside the département: say so.
    foreign = [c for c in all_claims if c not in names]
    demand = commune_demand(communes, sizing, weights=weights)
    pairs = adjacency(communes)
    position = {c: i for i, c in enumerate(codes)}

    antennas: list[AntennaCheck] = []
    for antenna in plan.antennas:
        members = [c for c in antenna.communes if c in names]
        # A commune claimed by k antennas counts 1/k for each, so totals stay true.
        share = {c: 1.0 / len(claims[c]) for c in members}
        ant_demand = float(sum(demand[c] * share[c] for c in members))
        components = _components([position[c] for c in members], pairs)
        seat_pos = position.get(antenna.seat) if antenna.seat else None
        main = next((comp for comp in components if seat_pos in comp),
                    max(components, key=len) if components else [])
        enclaves = [sorted(codes[i] for i in comp) for comp in components if comp is not main]
        check = AntennaCheck(
            name=antenna.name, structure=antenna.structure, seat=antenna.seat,
            communes=members, population=sum(populations[c] for c in members),
            area_km2=float(communes.loc[members, "area_km2"].sum()) if members else 0.0,
            demand=ant_demand, coordinators_proposed=antenna.coordinators,
            coordinators_needed=coordinators_needed(ant_demand, ratios=sizing.ratios),
            caseload_flag=caseload_flag(ant_demand, antenna.coordinators),
            enclaves=sorted(enclaves),
            seat_in_territory=None if not antenna.seat else antenna.seat in members)
        if drive_times is not None:
            times = [(drive_times.minutes[c], populations[c]) for c in members
                     if drive_times.antenna_of.get(c) == antenna.name]
            if times:
                mins = np.array([t for t, _ in times])
                pops = np.array([p for _, p in times], dtype=float)
                check.max_minutes = float(mins.max())
                finite = np.isfinite(mins)
                if pops[finite].sum() > 0:
                    check.mean_minutes_weighted = float(
                        (mins[finite] * pops[finite]).sum() / pops[finite].sum())
        antennas.append(check)

    epci_of = dict(zip(codes, communes["epci"], strict=True))
    epci_antennas: dict[str, set[str]] = {}
    for code, ants in claims.items():
        if epci_of.get(code):
            epci_antennas.setdefault(epci_of[code], set()).update(ants)
    epci_split = {e: sorted(a) for e, a in epci_antennas.items() if len(a) > 1}
    epci_names = dict(zip(communes["epci"], communes["epci_nom"], strict=True)) \
        if "epci_nom" in communes else {}
    return CheckResult(
        departement=plan.dept, plan_name=plan.name, communes_total=len(codes),
        population_total=sum(populations.values()),
        covered=sorted(claims), uncovered=sorted(set(codes) - set(claims)),
        duplicates={c: a for c, a in sorted(claims.items()) if len(a) > 1},
        unknown=list(unknown or []) + [c for c in foreign if c not in (unknown or [])],
        antennas=antennas, epci_split=epci_split,
        demand_total=float(sum(a.demand for a in antennas)), sizing=sizing, names=names,
        populations=populations, epci_names={k: v for k, v in epci_names.items() if k},
        drive_times=drive_times, problems=list(problems or []))


def format_check(result: CheckResult) -> str:
    """The checks as French text for the terminal."""
    r = result
    lines = [f"Plan « {r.plan_name} » — département {r.departement}",
             f"Couverture : {len(r.covered)}/{r.communes_total} communes couvertes."]
    if r.uncovered:
        pop = sum(r.populations[c] for c in r.uncovered)
        lines.append(f"Communes non couvertes ({len(r.uncovered)}, {fr_int(pop)} habitants) :")
        lines += [f"  - {c} {r.names[c]} ({fr_int(r.populations[c])} hab.)" for c in r.uncovered]
    if r.duplicates:
        lines.append(f"Unicité non respectée : {plural(len(r.duplicates), 'commune couverte', 'communes couvertes')} "
                     "plusieurs fois :")
        lines += [f"  - {c} {r.names[c]} : {', '.join(a)}" for c, a in r.duplicates.items()]
    if r.unknown:
        lines.append(f"Valeurs non reconnues ({len(r.unknown)}) : {', '.join(r.unknown)}")
    for problem in r.problems:
        lines.append(f"  ! {problem}")
    lines.append(f"Résultat : {'couverture complète et unique' if r.ok else 'NON CONFORME'}.")
    lines.append("")
    lines.append("Par antenne :")
    for a in r.antennas:
        needed = " / ".join(f"{a.coordinators_needed[k]} à {k}" for k in r.sizing.ratios)
        text = (f"  {a.name} (siège {a.seat or '?'} {r.names.get(a.seat or '', '')}) : "
                f"{len(a.communes)} communes, {fr_int(a.population)} hab., "
                f"{fr_float(a.area_km2, 0)} km², file active {fr_float(a.demand)} ; "
                f"coordinateurs nécessaires {needed}")
        if a.coordinators_proposed is not None:
            text += f" ; proposés : {a.coordinators_proposed:g}"
        lines.append(text)
        if a.caseload_flag:
            lines.append(f"    ! {a.caseload_flag}")
        if a.seat_in_territory is False:
            lines.append(f"    ! le siège {a.seat} n'est pas dans le territoire de l'antenne")
        for enclave in a.enclaves:
            lines.append("    enclave (non contiguë) : "
                         + ", ".join(f"{c} {r.names[c]}" for c in enclave))
        if a.max_minutes is not None:
            mean = "—" if a.mean_minutes_weighted is None else fr_float(a.mean_minutes_weighted)
            lines.append(f"    temps de trajet : max {fr_float(a.max_minutes)} min, "
                         f"moyenne pondérée {mean} min")
    lines.append(f"File active totale : {fr_float(r.demand_total)} patients par an "
                 f"(norme DAC ≈ {fr_int(settings.DAC_FILE_ACTIVE_NORM)}).")
    if len(r.structures) > 1:
        lines += [f"  DAC {s['name']} : {fr_float(s['demand'])} patients par an "
                  f"({plural(len(s['antennas']), 'antenne')})" for s in r.structures]
    lines.append(f"Paramètres : {r.sizing.describe_fr()}.")
    if r.epci_split:
        lines.append("EPCI partagés entre antennes (information) :")
        lines += [f"  - {r.epci_names.get(e, e)} : {', '.join(a)}" for e, a in r.epci_split.items()]
    dt = r.drive_times
    if dt is not None:
        params = ""
        if dt.parameters:
            params = (f" (détour ×{fr_float(dt.parameters['detour'], 2).rstrip('0')}, "
                      f"{dt.parameters['speed_kmh']:g} km/h)")
        lines.append(f"Temps de trajet : {dt.label}{params} ; seuil {dt.threshold:g} min.")
        beyond = dt.beyond()
        if beyond:
            pop = sum(r.populations[c] for c, _ in beyond)
            lines.append(f"Zones non couvertes au-delà de {dt.threshold:g} min "
                         f"({len(beyond)} communes, {fr_int(pop)} habitants) :")
            lines += [f"  - {c} {r.names[c]} : "
                      f"{fr_float(m) + ' min' if np.isfinite(m) else 'inaccessible'} "
                      f"({dt.antenna_of.get(c)})" for c, m in beyond]
        else:
            lines.append(f"Toutes les communes couvertes sont à moins de {dt.threshold:g} min.")
    return "\n".join(lines)
