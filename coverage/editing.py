"""The plan editor's model: validate a plan state, apply one edit, compute the live checks.

The editor keeps the plan being drawn as plain JSON (the snapshot format of
:func:`coverage.candidacy.plan_snapshot`). Every edit goes through :func:`apply_edit`
(a new plan, the old one untouched, so undo/redo is a stack of states) and every state
is checked by :func:`live_state`, which runs the *same* functions as ``plan check``
(:func:`coverage.checks.check_plan` with :func:`coverage.drivetimes.plan_drive_times`)
and the same map layers as the plan page (:func:`coverage.maplayers.plan_layers`): the
panel's numbers are ``plan check --json``'s numbers, the colours are the plan page's.
"""

from __future__ import annotations

import copy
import math
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from coverage.candidacy import plan_snapshot
from coverage.checks import CheckResult, check_plan
from coverage.drivetimes import plan_drive_times
from coverage.plan import Antenna, Plan
from geo import settings
from geo.errors import MaillageError
from geo.fmt import fr_int, plural

if TYPE_CHECKING:
    import geopandas as gpd

#: Limits of a plan drawn in the editor (hostile input is normal).
MAX_ANTENNAS = 60
MAX_NAME = 200
MAX_COORDINATORS = 100.0
#: Longest list the panel shows before « n de plus » (the rest comes on demand).
LIST_PREVIEW = 10

EDIT_OPS = ("assign", "add_antenna", "rename_antenna", "remove_antenna", "set_seat",
            "set_coordinators")


def _name(value: Any, *, what: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise MaillageError(f"{what} : un nom est obligatoire.")
    name = " ".join(value.split())
    if len(name) > MAX_NAME:
        raise MaillageError(f"{what} : nom trop long ({MAX_NAME} caractères au plus).")
    return name


def _coordinators(value: Any) -> float | None:
    if value is None or value == "":
        return None
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise MaillageError("Nombre de coordinateurs invalide.") from None
    if not math.isfinite(number) or not 0 <= number <= MAX_COORDINATORS:
        raise MaillageError(f"Nombre de coordinateurs entre 0 et {MAX_COORDINATORS:g}.")
    return number


def _point(value: Any, *, low: float, high: float) -> float | None:
    if value is None:
        return None
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if math.isfinite(number) and low <= number <= high else None


def plan_from_state(data: Any, communes: gpd.GeoDataFrame, *, dept: str) -> Plan:
    """The :class:`Plan` described by an editor state, checked against the communes.

    Raises
    ------
    MaillageError
        Not a plan of ``dept``, too many antennas, duplicate or empty antenna names,
        a code that is not a commune of the département, an invalid seat or number of
        coordinators.
    """
    if not isinstance(data, dict) or not isinstance(data.get("antennas"), list):
        raise MaillageError("État du plan illisible.")
    if str(data.get("dept", dept)) != dept:
        raise MaillageError(f"Ce plan concerne le département {dept}.")
    antennas = data["antennas"]
    if len(antennas) > MAX_ANTENNAS:
        raise MaillageError(f"Trop d'antennes ({len(antennas)}, {MAX_ANTENNAS} au plus).")
    known = set(map(str, communes.index))
    plan = Plan(name=_name(data.get("name") or "Plan", what="Plan"), dept=dept,
                author=data.get("author") if isinstance(data.get("author"), str) else None)
    seen: set[str] = set()
    for raw in antennas:
        if not isinstance(raw, dict):
            raise MaillageError("Antenne illisible.")
        name = _name(raw.get("name"), what="Antenne")
        if name in seen:
            raise MaillageError(f"Deux antennes portent le nom « {name} ».")
        seen.add(name)
        codes = raw.get("communes") or []
        if not isinstance(codes, list):
            raise MaillageError(f"Antenne « {name} » : liste de communes illisible.")
        codes = [str(c) for c in codes]
        bad = [c for c in codes if c not in known]
        if bad:
            raise MaillageError(f"Antenne « {name} » : {len(bad)} code(s) hors du département "
                                f"{dept} ({', '.join(bad[:5])}).")
        seat = raw.get("seat") or None
        if seat is not None and str(seat) not in known:
            raise MaillageError(f"Antenne « {name} » : le siège {str(seat)[:10]} n'est pas une "
                                f"commune du département {dept}.")
        structure = raw.get("structure") or "DAC"
        plan.antennas.append(Antenna(
            name=name, seat=None if seat is None else str(seat),
            structure=_name(structure, what="Structure"),
            lon=_point(raw.get("lon"), low=-180, high=180),
            lat=_point(raw.get("lat"), low=-90, high=90),
            coordinators=_coordinators(raw.get("coordinators")),
            communes=list(dict.fromkeys(codes))))
    return plan


def _antenna(plan: Plan, name: Any) -> Antenna:
    antenna = plan.antenna(str(name)) if isinstance(name, str) else None
    if antenna is None:
        raise MaillageError(f"Antenne inconnue : « {str(name)[:MAX_NAME]} ».")
    return antenna


def _codes(value: Any, communes: gpd.GeoDataFrame) -> list[str]:
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not value:
        raise MaillageError("Choisissez au moins une commune.")
    if len(value) > len(communes.index):
        raise MaillageError("Trop de communes dans une seule modification.")
    codes = [str(c) for c in value]
    known = set(map(str, communes.index))
    bad = [c for c in codes if c not in known]
    if bad:
        raise MaillageError(f"Commune inconnue dans ce département : {bad[0][:10]}.")
    return list(dict.fromkeys(codes))


def epci_members(code: str, communes: gpd.GeoDataFrame) -> list[str]:
    """Every commune of the EPCI of ``code`` (just ``code`` when it has none)."""
    epci = communes.loc[code, "epci"] if "epci" in communes else None
    if not epci:
        return [code]
    return [str(c) for c in communes.index[communes["epci"] == epci]]


def apply_edit(plan: Plan, edit: Any, communes: gpd.GeoDataFrame) -> Plan:
    """A new plan: ``plan`` with one edit applied (``plan`` is left unchanged).

    Edits (``op``):

    * ``assign``: ``communes`` (codes) to ``antenna`` (a name; ``null`` removes them from
      every antenna); ``epci: true`` extends each commune to its whole EPCI. A commune
      assigned to an antenna leaves every other antenna.
    * ``add_antenna`` (``name``, optional ``structure``), ``rename_antenna``
      (``antenna``, ``name``), ``remove_antenna`` (``antenna``: its communes become
      uncovered).
    * ``set_seat`` (``antenna``, ``commune``; the exact point, if any, is dropped).
    * ``set_coordinators`` (``antenna``, ``value``: a number or ``null``).

    Raises
    ------
    MaillageError
        Unknown operation, antenna or commune; invalid name or number.
    """
    if not isinstance(edit, dict) or edit.get("op") not in EDIT_OPS:
        raise MaillageError("Modification inconnue.")
    new = copy.deepcopy(plan)
    op = edit["op"]
    if op == "assign":
        codes = _codes(edit.get("communes"), communes)
        if edit.get("epci"):
            codes = list(dict.fromkeys(m for c in codes for m in epci_members(c, communes)))
        target = None if edit.get("antenna") in (None, "") else _antenna(new, edit["antenna"])
        moving = set(codes)
        for antenna in new.antennas:
            if antenna is not target:
                antenna.communes = [c for c in antenna.communes if c not in moving]
        if target is not None:
            target.communes = list(dict.fromkeys([*target.communes, *codes]))
    elif op == "add_antenna":
        name = _name(edit.get("name"), what="Antenne")
        if new.antenna(name) is not None:
            raise MaillageError(f"Une antenne s'appelle déjà « {name} ».")
        if len(new.antennas) >= MAX_ANTENNAS:
            raise MaillageError(f"{MAX_ANTENNAS} antennes au plus.")
        structure = edit.get("structure") or (new.antennas[0].structure if new.antennas
                                              else "DAC")
        new.antennas.append(Antenna(name=name, structure=_name(structure, what="Structure")))
    elif op == "rename_antenna":
        antenna = _antenna(new, edit.get("antenna"))
        name = _name(edit.get("name"), what="Antenne")
        if name != antenna.name and new.antenna(name) is not None:
            raise MaillageError(f"Une antenne s'appelle déjà « {name} ».")
        antenna.name = name
    elif op == "remove_antenna":
        antenna = _antenna(new, edit.get("antenna"))
        new.antennas = [a for a in new.antennas if a is not antenna]
    elif op == "set_seat":
        antenna = _antenna(new, edit.get("antenna"))
        antenna.seat = _codes(edit.get("commune"), communes)[0]
        antenna.lon = antenna.lat = None
    elif op == "set_coordinators":
        antenna = _antenna(new, edit.get("antenna"))
        antenna.coordinators = _coordinators(edit.get("value"))
    return new


def run_checks(plan: Plan, communes: gpd.GeoDataFrame) -> CheckResult:
    """The checks of ``plan check`` (default sizing, estimated drive times)."""
    return check_plan(plan, communes, drive_times=plan_drive_times(plan, communes))


def antenna_badges(check: CheckResult) -> dict[str, list[dict[str, str]]]:
    """Per antenna, short French badges: coordinators, longest trip, enclaves, problems.

    Each badge is ``{"kind": "info" | "warn", "text": …}``.
    """
    ratio = check.sizing.patients_per_coordinator
    threshold = check.drive_times.threshold if check.drive_times else None
    out: dict[str, list[dict[str, str]]] = {}
    for a in check.antennas:
        badges: list[dict[str, str]] = []
        count = a.coordinators_proposed if a.coordinators_proposed is not None \
            else a.coordinators_needed[ratio]
        if count and count > 0:
            per = a.demand / count
            badges.append({"kind": "info", "text": f"{plural(count, 'coordinateur')} "
                                                   f"({fr_int(round(per))}/coord.)"})
        if a.caseload_flag:
            badges.append({"kind": "warn", "text": a.caseload_flag})
        if a.max_minutes is not None:
            text = ("trajet max : inaccessible" if not math.isfinite(a.max_minutes)
                    else f"trajet max {fr_int(round(a.max_minutes))} min")
            late = threshold is not None and not a.max_minutes <= threshold
            badges.append({"kind": "warn" if late else "info", "text": text})
        for enclave in a.enclaves:
            shown = ", ".join(enclave[:5]) + (f" (+{len(enclave) - 5} de plus)"
                                              if len(enclave) > 5 else "")
            badges.append({"kind": "warn", "text": f"enclave : {shown}"})
        if a.seat is None:
            badges.append({"kind": "warn", "text": "sans siège : pas de temps de trajet"})
        elif a.seat_in_territory is False:
            badges.append({"kind": "warn", "text": f"siège {a.seat} hors du territoire"})
        if not a.communes:
            badges.append({"kind": "warn", "text": "aucune commune"})
        out[a.name] = badges
    return out


def commune_list(codes_minutes: Sequence[tuple[str, float | None]], check: CheckResult, *,
                 preview: int = LIST_PREVIEW) -> dict[str, Any]:
    """A list for the panel: every item (the page shows ``preview`` of them, then
    « n de plus » with a button that shows the rest — never a silent cut)."""
    items = [{"code": c, "name": check.names.get(c, c), "population": check.populations.get(c, 0),
              "minutes": None if m is None or not math.isfinite(m) else round(m, 1)}
             for c, m in codes_minutes]
    return {"items": items, "preview": preview, "more": max(0, len(items) - preview),
            "population": sum(i["population"] for i in items)}


def live_state(plan: Plan, communes: gpd.GeoDataFrame, *, shapes: Any = None) -> dict[str, Any]:
    """Everything the editor shows after an edit.

    Keys: ``plan`` (the state), ``check`` (exactly ``plan check --json``), ``colours``
    (antenna → colour, as on the plan page), ``communes`` (code → ``[antenna indices,
    minutes, beyond]``), ``seats``, ``legend`` (the plan page's legend entries),
    ``badges`` per antenna and the ``lists`` (uncovered, duplicates, beyond the
    threshold) with their « n de plus ».
    """
    from coverage.maplayers import plan_layers

    check = run_checks(plan, communes)
    layers = plan_layers(plan, communes, check, shapes=shapes if shapes is not None
                         else communes.geometry.to_numpy())
    index = {name: i for i, name in enumerate(layers.colours)}
    features = {f.code: [[index[a] for a in f.antennas],
                         None if f.minutes is None or not math.isfinite(f.minutes)
                         else round(f.minutes, 1), int(f.beyond)] for f in layers.communes}
    dt = check.drive_times
    return {
        "plan": plan_snapshot(plan),
        "check": check.to_json(),
        "colours": [{"name": n, "colour": c} for n, c in layers.colours.items()],
        "communes": features,
        "seats": [{"antenna": s.antenna, "colour": s.colour, "code": s.commune,
                   "commune": s.commune_name, "ll": [round(s.lat, 5), round(s.lon, 5)]}
                  for s in layers.seats],
        "legend": layers.legend,
        "badges": antenna_badges(check),
        "lists": {
            "uncovered": commune_list([(c, None) for c in check.uncovered], check),
            "duplicates": commune_list([(c, None) for c in check.duplicates], check),
            "beyond": commune_list([(c, m) for c, m in dt.beyond()] if dt else [], check),
        },
        "threshold": dt.threshold if dt else settings.DEFAULT_THRESHOLD_MINUTES,
    }
