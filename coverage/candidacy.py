"""Candidacies: a promoter's plan submitted to the ARS, and the review across candidacies.

A plan is a draft (``brouillon``) private to its promoter's organisation until it is
submitted: the submission stores an immutable snapshot of the plan (the ``candidacies``
table, ``0007_candidacies``) with its date, author and organisation. Submitting again
(after a change) adds a new version; the latest version of each candidate in a
département is the *current* one, the only one the review compares and the ARS decides on
(``retenue`` / ``non retenue``).

:func:`review_candidacies` is the single computation behind the ARS review page, its CSV
and XLSX exports and its printable report.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from coverage.checks import check_plan
from coverage.drivetimes import plan_drive_times
from coverage.models import CandidacyRow
from coverage.plan import Antenna, Plan
from coverage.store import load_plan, plan_info
from geo import settings
from geo.errors import MaillageError

if TYPE_CHECKING:
    import geopandas as gpd

#: Statuses as the pages show them. ``brouillon`` is a plan never submitted.
STATUS_LABELS = {"brouillon": "brouillon", "deposee": "déposée", "retenue": "retenue",
                 "non_retenue": "non retenue"}
#: What the ARS may decide on a current candidacy.
DECISIONS = ("retenue", "non_retenue")
MAX_COMMENT = 2000


# --- snapshots ------------------------------------------------------------------------

def plan_snapshot(plan: Plan) -> dict[str, Any]:
    """The plan as plain JSON data (what a submission freezes)."""
    return {"name": plan.name, "dept": plan.dept, "author": plan.author,
            "antennas": [{"name": a.name, "seat": a.seat, "structure": a.structure,
                          "lon": a.lon, "lat": a.lat, "coordinators": a.coordinators,
                          "communes": list(a.communes)} for a in plan.antennas]}


def plan_from_snapshot(data: dict[str, Any]) -> Plan:
    """The :class:`Plan` frozen in a snapshot."""
    plan = Plan(name=str(data["name"]), dept=str(data["dept"]), author=data.get("author"))
    for a in data.get("antennas", []):
        plan.antennas.append(Antenna(
            name=str(a["name"]), seat=a.get("seat"), structure=str(a.get("structure") or "DAC"),
            lon=a.get("lon"), lat=a.get("lat"), coordinators=a.get("coordinators"),
            communes=[str(c) for c in a.get("communes", [])]))
    return plan


def candidate_key(*, organisation_id: int | None, user_id: int | None) -> str:
    """Who the candidate is: the organisation, else the promoter alone."""
    return f"o{organisation_id}" if organisation_id is not None else f"u{user_id}"


# --- storage --------------------------------------------------------------------------

def _info(row: CandidacyRow, *, current: bool | None = None) -> dict[str, Any]:
    author = row.submitted_by_name
    return {"id": row.id, "plan_id": row.plan_id, "departement": row.departement,
            "organisation_id": row.organisation_id, "organisation": row.organisation_name,
            "candidate_key": row.candidate_key, "version": row.version, "name": row.name,
            "submitted_at": row.submitted_at, "submitted_by": row.submitted_by,
            "author": author,
            "signature": f"{author} ({row.organisation_name})" if row.organisation_name
            else author,
            "status": row.status, "status_label": STATUS_LABELS[row.status],
            "decision_comment": row.decision_comment, "decided_at": row.decided_at,
            "decided_by_name": row.decided_by_name, "current": current}


def label(info: dict[str, Any]) -> str:
    """How a candidacy is named in the review: plan name, candidate, version."""
    who = info.get("organisation") or info.get("author") or "?"
    return f"{info['name']} — {who} (v{info['version']})"


def submit_plan(session: Session, plan_id: int, *, user_id: int, user_name: str,
                organisation_id: int | None, organisation_name: str | None) -> dict[str, Any]:
    """Submit a stored plan as a candidacy and return the new candidacy.

    Raises
    ------
    MaillageError
        Unknown plan, a plan without any commune, or a plan identical to the candidate's
        current candidacy (nothing changed since the last submission).
    """
    info = plan_info(session, plan_id)
    plan = load_plan(session, plan_id)
    if not plan.claims():
        raise MaillageError("Ce plan n'affecte aucune commune : rien à déposer.")
    snapshot = plan_snapshot(plan)
    key = candidate_key(organisation_id=organisation_id, user_id=user_id)
    latest = session.execute(
        select(CandidacyRow).where(CandidacyRow.departement == info["departement"],
                                   CandidacyRow.candidate_key == key)
        .order_by(CandidacyRow.version.desc()).limit(1).with_for_update()).scalar_one_or_none()
    if latest is not None and latest.snapshot == snapshot and latest.plan_id == plan_id:
        raise MaillageError(f"Ce plan est déjà déposé tel quel (version {latest.version}) : "
                            "modifiez-le avant un nouveau dépôt.")
    row = CandidacyRow(plan_id=plan_id, departement=info["departement"],
                       organisation_id=organisation_id, organisation_name=organisation_name,
                       candidate_key=key, version=1 if latest is None else latest.version + 1,
                       name=plan.name, snapshot=snapshot, submitted_by=user_id,
                       submitted_by_name=user_name[:200], status="deposee")
    session.add(row)
    session.flush()
    session.refresh(row)
    return _info(row, current=True)


def _current_ids(rows: Sequence[CandidacyRow]) -> set[int]:
    best: dict[tuple[str, str], CandidacyRow] = {}
    for row in rows:
        k = (row.departement, row.candidate_key)
        if k not in best or row.version > best[k].version:
            best[k] = row
    return {r.id for r in best.values()}


def list_candidacies(session: Session, *, depts: Sequence[str] | None = None,
                     candidate_keys: Sequence[str] | None = None,
                     current_only: bool = False) -> list[dict[str, Any]]:
    """Candidacies, newest first, with ``current`` telling the latest of each candidate."""
    query = select(CandidacyRow).order_by(CandidacyRow.departement,
                                          CandidacyRow.submitted_at.desc(),
                                          CandidacyRow.id.desc())
    if depts is not None:
        query = query.where(CandidacyRow.departement.in_(list(depts)))
    rows = list(session.execute(query).scalars())
    current = _current_ids(rows)
    out = [_info(r, current=r.id in current) for r in rows
           if candidate_keys is None or r.candidate_key in candidate_keys]
    return [c for c in out if c["current"]] if current_only else out


def get_candidacy(session: Session, candidacy_id: int) -> tuple[dict[str, Any], Plan]:
    """A candidacy and its frozen plan."""
    row = session.get(CandidacyRow, candidacy_id)
    if row is None:
        raise MaillageError(f"Candidature n° {candidacy_id} introuvable.")
    latest = session.execute(
        select(CandidacyRow.id).where(CandidacyRow.departement == row.departement,
                                      CandidacyRow.candidate_key == row.candidate_key)
        .order_by(CandidacyRow.version.desc()).limit(1)).scalar_one()
    return _info(row, current=latest == row.id), plan_from_snapshot(row.snapshot)


def latest_by_plan(session: Session, plan_ids: Sequence[int]) -> dict[int, dict[str, Any]]:
    """The latest candidacy submitted from each of these plans (plans never submitted
    are absent: they are drafts)."""
    if not plan_ids:
        return {}
    rows = session.execute(select(CandidacyRow).where(CandidacyRow.plan_id.in_(list(plan_ids)))
                           .order_by(CandidacyRow.submitted_at, CandidacyRow.id)).scalars()
    return {int(r.plan_id): _info(r) for r in rows if r.plan_id is not None}


def decide(session: Session, candidacy_id: int, *, status: str, comment: str,
           user_id: int, user_name: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """Record the ARS decision on a current candidacy; return (before, after) for the log.

    Raises
    ------
    MaillageError
        Unknown status, a comment over :data:`MAX_COMMENT` characters, a ``non retenue``
        decision without a comment, or a candidacy replaced by a newer version.
    """
    if status not in DECISIONS:
        raise MaillageError("Décision inconnue : « retenue » ou « non retenue » attendue.")
    comment = (comment or "").strip()
    if len(comment) > MAX_COMMENT:
        raise MaillageError(f"Commentaire trop long ({MAX_COMMENT} caractères au plus).")
    if status == "non_retenue" and not comment:
        raise MaillageError("Motivez une candidature non retenue par un commentaire.")
    info, _ = get_candidacy(session, candidacy_id)
    if not info["current"]:
        raise MaillageError("Cette version a été remplacée par un dépôt plus récent : "
                            "décidez sur la dernière version.")
    before = {"statut": info["status"], "commentaire": info["decision_comment"]}
    session.execute(update(CandidacyRow).where(CandidacyRow.id == candidacy_id).values(
        status=status, decision_comment=comment or None, decided_by=user_id,
        decided_by_name=user_name[:200], decided_at=func.now()))
    return before, {"statut": status, "commentaire": comment or None}


def retained(session: Session, *, dept: str) -> list[tuple[dict[str, Any], Plan]]:
    """The current candidacies of ``dept`` that the ARS retained, with their plans."""
    return [(info, plan) for info, plan in current_candidacies(session, dept=dept)
            if info["status"] == "retenue"]


# --- the review across candidacies -------------------------------------------------

@dataclass
class CandidacySummary:
    """One line of the review's summary."""

    id: int
    label: str
    signature: str
    status: str
    antennas: int
    communes: int
    population: int
    coverage_pct: float
    uncovered: int
    uncovered_population: int
    duplicates: int
    duplicates_population: int
    conflicts: int
    conflicts_population: int
    beyond: int
    beyond_population: int
    coordinators_proposed: float | None
    coordinators_needed: int


@dataclass
class ContestedGroup:
    """Communes two candidacies both claim, for one pair of antennas and one EPCI."""

    antenna_a: str
    antenna_b: str
    epci: str
    epci_nom: str
    communes: list[tuple[str, str, int]]

    @property
    def population(self) -> int:
        return sum(p for _, _, p in self.communes)


@dataclass
class PairConflict:
    a: str
    b: str
    groups: list[ContestedGroup]

    @property
    def communes(self) -> int:
        return sum(len(g.communes) for g in self.groups)

    @property
    def population(self) -> int:
        return sum(g.population for g in self.groups)


@dataclass
class Review:
    """Everything the ARS review shows and exports, for one département."""

    dept: str
    threshold: float
    mode_label: str
    communes_total: int
    population_total: int
    names: dict[str, str]
    populations: dict[str, int]
    summaries: list[CandidacySummary]
    pairs: list[PairConflict]
    #: (code, nom, epci_nom, population) of the communes nobody claims.
    unclaimed: list[tuple[str, str, str, int]]
    #: (candidacy label, antenna, code, nom, minutes, population), slowest first.
    beyond: list[tuple[str, str, str, str, float, int]]
    #: (candidacy label, code, nom, antennas) of a candidacy's own duplicates.
    duplicates: list[tuple[str, str, str, list[str]]]
    #: commune code → labels of the candidacies that claim it.
    claims: dict[str, list[str]] = field(default_factory=dict)
    #: commune codes beyond the threshold in at least one candidacy that claims them.
    beyond_codes: set[str] = field(default_factory=set)

    @property
    def unclaimed_population(self) -> int:
        return sum(p for *_, p in self.unclaimed)

    @property
    def contested(self) -> list[str]:
        return sorted(c for c, owners in self.claims.items() if len(owners) > 1)

    @property
    def contested_population(self) -> int:
        return sum(self.populations[c] for c in self.contested)

    def state(self, code: str) -> str:
        """``aucune``, ``unique`` or ``conflit`` (the map's symbols)."""
        n = len(self.claims.get(code, []))
        return "aucune" if n == 0 else "unique" if n == 1 else "conflit"

    def sections(self) -> list[tuple[str, list[str], list[list[Any]]]]:
        """``(title, header, rows)`` of every section, for the CSV and XLSX exports."""
        summary = [[s.label, s.signature, STATUS_LABELS.get(s.status, s.status), s.antennas,
                    s.communes, s.population, s.coverage_pct, s.uncovered,
                    s.uncovered_population, s.duplicates, s.duplicates_population, s.conflicts,
                    s.conflicts_population, s.beyond, s.beyond_population,
                    s.coordinators_proposed, s.coordinators_needed] for s in self.summaries]
        conflicts = [[p.a, p.b, g.antenna_a, g.antenna_b, g.epci, g.epci_nom, code, nom, pop]
                     for p in self.pairs for g in p.groups for code, nom, pop in g.communes]
        return [
            ("Synthèse", ["candidature", "déposée par", "statut", "antennes", "communes",
                          "population couverte", "couverture (%)", "communes non couvertes",
                          "population non couverte", "doublons internes",
                          "population en doublon", "communes en conflit",
                          "population en conflit", f"communes au-delà de {self.threshold:g} min",
                          "population au-delà du seuil", "coordinateurs proposés",
                          "coordinateurs nécessaires"], summary),
            ("Conflits", ["candidature A", "candidature B", "antenne A", "antenne B",
                          "code EPCI", "EPCI", "code INSEE", "commune", "population"],
             conflicts),
            ("Non revendiquées", ["code INSEE", "commune", "EPCI", "population"],
             [list(r) for r in self.unclaimed]),
            ("Au-delà du seuil", ["candidature", "antenne", "code INSEE", "commune",
                                  "minutes", "population"],
             [[c, a, code, nom, None if m == float("inf") else round(m, 1), pop]
              for c, a, code, nom, m, pop in self.beyond]),
            ("Doublons internes", ["candidature", "code INSEE", "commune", "antennes"],
             [[c, code, nom, " | ".join(ants)] for c, code, nom, ants in self.duplicates]),
        ]


def review_candidacies(entries: Sequence[tuple[dict[str, Any], Plan]],
                       communes: gpd.GeoDataFrame, *,
                       threshold: float = settings.DEFAULT_THRESHOLD_MINUTES) -> Review:
    """Compare the candidacies of one département with one another.

    Parameters
    ----------
    entries
        ``(candidacy info, plan)`` pairs, as :func:`list_candidacies` /
        :func:`get_candidacy` give them; all of the same département.
    communes
        The communes of the département (:func:`geo.communes.communes_frame`).
    threshold
        Drive-time threshold (minutes) beyond which a commune counts as too far.

    Returns
    -------
    Review
        Per candidacy: coverage, duplicates inside it, conflicts with the other
        candidacies, communes beyond the threshold, coordinators; per pair of
        candidacies: the contested communes grouped by antenna pair and EPCI; the
        communes nobody claims.
    """
    codes = list(communes.index)
    names = {c: str(n) for c, n in zip(codes, communes["nom"], strict=True)}
    populations = {c: int(p) for c, p in zip(codes, communes["population"], strict=True)}
    epci_of = {c: str(e or "") for c, e in zip(codes, communes["epci"], strict=True)}
    epci_name = {c: str(n or "") for c, n in zip(codes, communes.get("epci_nom", communes["epci"]),
                                                 strict=True)}
    depts = {plan.dept for _, plan in entries}
    if len(depts) > 1:
        raise MaillageError("Les candidatures comparées doivent concerner le même département.")
    dept = depts.pop() if depts else str(communes["departement"].iloc[0])

    labels = [label(info) for info, _ in entries]
    claims: dict[str, list[str]] = {}
    per_plan_claims: list[dict[str, list[str]]] = []
    for lab, (_, plan) in zip(labels, entries, strict=True):
        own = {c: a for c, a in plan.claims().items() if c in names}
        per_plan_claims.append(own)
        for code in own:
            claims.setdefault(code, []).append(lab)

    summaries: list[CandidacySummary] = []
    beyond_rows: list[tuple[str, str, str, str, float, int]] = []
    duplicate_rows: list[tuple[str, str, str, list[str]]] = []
    beyond_codes: set[str] = set()
    mode_label = ""
    for lab, (info, plan), own in zip(labels, entries, per_plan_claims, strict=True):
        drive = plan_drive_times(plan, communes, threshold=threshold)
        mode_label = drive.label
        check = check_plan(plan, communes, drive_times=drive)
        far = drive.beyond()
        for code, minutes in far:
            beyond_rows.append((lab, drive.antenna_of.get(code, ""), code, names[code],
                                minutes, populations[code]))
            beyond_codes.add(code)
        for code, ants in check.duplicates.items():
            duplicate_rows.append((lab, code, names[code], list(ants)))
        conflicts = [c for c in own if len(claims[c]) > 1]
        proposed = [a.coordinators for a in plan.antennas if a.coordinators is not None]
        ratio = check.sizing.patients_per_coordinator
        summaries.append(CandidacySummary(
            id=int(info["id"]), label=lab, signature=str(info.get("signature") or ""),
            status=str(info.get("status") or "deposee"), antennas=len(plan.antennas),
            communes=len(own), population=sum(populations[c] for c in own),
            coverage_pct=round(100.0 * len(own) / len(codes), 1) if codes else 0.0,
            uncovered=len(check.uncovered),
            uncovered_population=sum(populations[c] for c in check.uncovered),
            duplicates=len(check.duplicates),
            duplicates_population=sum(populations[c] for c in check.duplicates),
            conflicts=len(conflicts), conflicts_population=sum(populations[c] for c in conflicts),
            beyond=len(far), beyond_population=sum(populations[c] for c, _ in far),
            coordinators_proposed=float(sum(proposed)) if proposed else None,
            coordinators_needed=sum(a.coordinators_needed[ratio] for a in check.antennas)))

    pairs: list[PairConflict] = []
    for i in range(len(entries)):
        for j in range(i + 1, len(entries)):
            shared = sorted(set(per_plan_claims[i]) & set(per_plan_claims[j]))
            if not shared:
                continue
            groups: dict[tuple[str, str, str], ContestedGroup] = {}
            for code in shared:
                key = (" | ".join(per_plan_claims[i][code]), " | ".join(per_plan_claims[j][code]),
                       epci_of[code])
                group = groups.setdefault(key, ContestedGroup(
                    antenna_a=key[0], antenna_b=key[1], epci=key[2],
                    epci_nom=epci_name[code], communes=[]))
                group.communes.append((code, names[code], populations[code]))
            pairs.append(PairConflict(a=labels[i], b=labels[j], groups=sorted(
                groups.values(), key=lambda g: (g.antenna_a, g.antenna_b, g.epci_nom))))

    unclaimed = [(c, names[c], epci_name[c], populations[c]) for c in codes if c not in claims]
    beyond_rows.sort(key=lambda r: (-r[4], r[0], r[2]))
    return Review(dept=dept, threshold=threshold, mode_label=mode_label,
                  communes_total=len(codes), population_total=sum(populations.values()),
                  names=names, populations=populations, summaries=summaries, pairs=pairs,
                  unclaimed=unclaimed, beyond=beyond_rows, duplicates=duplicate_rows,
                  claims=claims, beyond_codes=beyond_codes)


def current_candidacies(session: Session, *, dept: str) -> list[tuple[dict[str, Any], Plan]]:
    """The current (latest) candidacy of each candidate of ``dept``, with its plan."""
    rows = list(session.execute(select(CandidacyRow)
                                .where(CandidacyRow.departement == dept)).scalars())
    current = _current_ids(rows)
    return [(_info(r, current=True), plan_from_snapshot(r.snapshot))
            for r in sorted(rows, key=lambda r: r.id) if r.id in current]
