"""The communes reference ("Annex 1"): read the official source, validate it, query it.

Source format: the API Découpage administratif (geo.api.gouv.fr), i.e. a GeoJSON
FeatureCollection whose features carry ``nom``, ``code``, ``codeDepartement``,
``codeRegion``, ``codeEpci`` and ``population``, plus the list of EPCI. The same reader
takes the official API over HTTPS or a local folder holding ``communes-{dept}.geojson``
and ``epcis*.json`` (``MAILLAGE_DATA_DIR`` / ``--source``).

Geometries are returned in Lambert-93 (EPSG:2154): every area, distance and adjacency
in Maillage is measured there. Serving in WGS84 is the caller's job (``geo.crs``).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import geopandas as gpd
import pandas as pd
from shapely import make_valid
from shapely.geometry import MultiPolygon, Polygon, shape
from shapely.geometry.base import BaseGeometry

from geo import settings
from geo.errors import MaillageError

#: INSEE commune code: 2 digits (or 2A/2B) + 3 digits, or 97x + 2 digits overseas.
INSEE_CODE_RE = re.compile(r"^(?:\d{2}|2[AB])\d{3}$")
DEPT_CODE_RE = re.compile(r"^(?:\d{2}|2[AB]|97\d)$")

COMMUNE_FIELDS = "nom,code,codeDepartement,codeRegion,codeEpci,population,contour"
COMMUNE_COLUMNS = ["code", "nom", "departement", "region", "epci", "population", "geometry"]


@dataclass
class CommunesSource:
    """Communes of one département as read from a source, validated.

    Attributes
    ----------
    communes
        One row per commune, columns :data:`COMMUNE_COLUMNS`, geometry MultiPolygon in
        EPSG:2154, index = INSEE code.
    epcis
        EPCI having at least one commune in the département: ``code`` (SIREN), ``nom``,
        ``population``, ``communes`` (member codes in this département).
    origin
        Human-readable origin (file path or URL), for messages.
    repaired
        Codes of communes whose polygon was invalid and repaired with ``make_valid``.
    """

    communes: gpd.GeoDataFrame
    epcis: list[dict[str, Any]]
    origin: str
    repaired: list[str] = field(default_factory=list)


def check_dept_code(dept: str) -> str:
    """Return the normalised département code or raise a French error."""
    dept = str(dept).strip().upper()
    if not DEPT_CODE_RE.match(dept):
        raise MaillageError(f"Code de département invalide : « {dept} » (attendu : 43, 2A, 974…).")
    return dept


def read_communes_source(source: str | Path | None = None, *, dept: str) -> CommunesSource:
    """Read and validate the communes and EPCI of ``dept``.

    Parameters
    ----------
    source
        A folder (offline), an ``https://`` base URL of the API, or ``None`` for the
        default: ``MAILLAGE_DATA_DIR/communes`` when that variable is set, otherwise the
        official API.
    dept
        Département code (``"43"``).

    Raises
    ------
    MaillageError
        Missing file, not JSON, a feature without code or geometry, a code of another
        département, duplicate codes.
    """
    dept = check_dept_code(dept)
    if source is None:
        import os

        source = (settings.data_dir() / "communes") if os.environ.get("MAILLAGE_DATA_DIR") \
            else settings.GEO_API_URL
    src = str(source)
    if src.startswith(("http://", "https://")):
        communes_doc, communes_origin, epcis_doc, epcis_origin = _fetch_api(src, dept)
    else:
        folder = Path(src)
        if folder.is_file():
            communes_path = folder
            folder = folder.parent
        else:
            if not folder.is_dir():
                raise MaillageError(f"Source introuvable : le dossier « {folder} » n'existe pas.")
            communes_path = folder / f"communes-{dept}.geojson"
        communes_doc = _read_json(communes_path)
        communes_origin = str(communes_path)
        epcis_doc, epcis_origin = _read_epcis_folder(folder)

    communes, repaired = _parse_communes(communes_doc, dept=dept, origin=communes_origin)
    epcis = _parse_epcis(epcis_doc, communes=communes, origin=epcis_origin)
    return CommunesSource(communes=communes, epcis=epcis, origin=communes_origin,
                          repaired=repaired)


def _read_json(path: Path) -> Any:
    if not path.exists():
        raise MaillageError(f"Fichier introuvable : « {path} ».")
    try:
        with path.open(encoding="utf-8") as fh:
            return json.load(fh)
    except json.JSONDecodeError as exc:
        raise MaillageError(
            f"Le fichier « {path} » n'est pas un JSON valide (ligne {exc.lineno}, "
            f"colonne {exc.colno} : {exc.msg})."
        ) from exc
    except UnicodeDecodeError as exc:
        raise MaillageError(f"Le fichier « {path} » n'est pas encodé en UTF-8.") from exc


def _read_epcis_folder(folder: Path) -> tuple[Any, str]:
    candidates = sorted(folder.glob("epcis*.json"))
    if not candidates:
        raise MaillageError(f"Fichier des EPCI introuvable : aucun « epcis*.json » dans « {folder} ».")
    return _read_json(candidates[0]), str(candidates[0])


def _fetch_api(base: str, dept: str) -> tuple[Any, str, Any, str]:
    import requests

    base = base.rstrip("/")
    url = (f"{base}/departements/{dept}/communes?fields={COMMUNE_FIELDS}"
           f"&format=geojson&geometry=contour")
    epci_url = f"{base}/epcis?fields=nom,code,codesDepartements,population"
    docs = []
    for u in (url, epci_url):
        try:
            response = requests.get(u, timeout=60)
            response.raise_for_status()
            docs.append(response.json())
        except (requests.RequestException, ValueError) as exc:
            raise MaillageError(
                f"Impossible de lire l'API Découpage administratif ({u}) : {exc}. "
                "Hors ligne, indiquez un dossier local avec --source ou MAILLAGE_DATA_DIR."
            ) from exc
    return docs[0], url, docs[1], epci_url


def _feature_label(index: int, props: dict[str, Any]) -> str:
    name = props.get("nom") or "sans nom"
    code = props.get("code") or "sans code"
    return f"objet n° {index + 1} ({code} {name})"


def _as_multipolygon(geom: BaseGeometry) -> MultiPolygon | None:
    if isinstance(geom, MultiPolygon):
        return geom
    if isinstance(geom, Polygon):
        return MultiPolygon([geom])
    parts = [g for g in getattr(geom, "geoms", []) if isinstance(g, Polygon | MultiPolygon)]
    polys: list[Polygon] = []
    for part in parts:
        polys.extend(part.geoms if isinstance(part, MultiPolygon) else [part])
    return MultiPolygon(polys) if polys else None


def _parse_communes(doc: Any, *, dept: str, origin: str) -> tuple[gpd.GeoDataFrame, list[str]]:
    if not isinstance(doc, dict) or doc.get("type") != "FeatureCollection" \
            or not isinstance(doc.get("features"), list):
        raise MaillageError(f"« {origin} » n'est pas une FeatureCollection GeoJSON.")
    rows: list[dict[str, Any]] = []
    seen: dict[str, int] = {}
    errors: list[str] = []
    repaired: list[str] = []
    for i, feature in enumerate(doc["features"]):
        props = (feature or {}).get("properties") or {}
        label = _feature_label(i, props)
        code = str(props.get("code") or "").strip().upper()
        if not code:
            errors.append(f"{label} : code INSEE manquant")
            continue
        if not INSEE_CODE_RE.match(code):
            errors.append(f"{label} : code INSEE invalide « {code} »")
            continue
        feat_dept = str(props.get("codeDepartement") or "").strip().upper()
        if not code.startswith(dept) or (feat_dept and feat_dept != dept):
            errors.append(f"{label} : commune d'un autre département ({feat_dept or code[:2]})")
            continue
        if code in seen:
            errors.append(f"{label} : code en double (déjà vu à l'objet n° {seen[code] + 1})")
            continue
        seen[code] = i
        raw_geom = feature.get("geometry")
        if not raw_geom:
            errors.append(f"{label} : géométrie manquante")
            continue
        try:
            geom = shape(raw_geom)
        except Exception as exc:  # shapely raises several types on malformed GeoJSON
            errors.append(f"{label} : géométrie illisible ({exc})")
            continue
        if geom.is_empty:
            errors.append(f"{label} : géométrie vide")
            continue
        if not geom.is_valid:
            geom = make_valid(geom)
            repaired.append(code)
        multi = _as_multipolygon(geom)
        if multi is None:
            errors.append(f"{label} : la géométrie n'est pas un polygone")
            continue
        population = props.get("population")
        try:
            population = int(population) if population is not None else None
        except (TypeError, ValueError):
            errors.append(f"{label} : population invalide « {population} »")
            continue
        rows.append({
            "code": code,
            "nom": str(props.get("nom") or "").strip(),
            "departement": dept,
            "region": str(props.get("codeRegion") or "").strip() or None,
            "epci": str(props.get("codeEpci") or "").strip() or None,
            "population": population,
            "geometry": multi,
        })
    if errors:
        raise MaillageError(f"Fichier des communes « {origin} » refusé : {len(errors)} erreur(s).",
                            details=errors[:50])
    if not rows:
        raise MaillageError(f"Aucune commune du département {dept} dans « {origin} ».")
    frame = gpd.GeoDataFrame(rows, columns=COMMUNE_COLUMNS, geometry="geometry",
                             crs=settings.WGS84).to_crs(settings.LAMBERT93)
    # Reprojection can leave slivers invalid again; repair once more in metres.
    invalid = ~frame.geometry.is_valid
    if invalid.any():
        frame.loc[invalid, "geometry"] = frame.loc[invalid, "geometry"].apply(
            lambda g: _as_multipolygon(make_valid(g)))
        repaired.extend(frame.loc[invalid, "code"].tolist())
    frame = frame.set_index("code", drop=False).sort_index()
    frame.index.name = None
    return frame, sorted(set(repaired))


def _parse_epcis(doc: Any, *, communes: gpd.GeoDataFrame, origin: str) -> list[dict[str, Any]]:
    if not isinstance(doc, list):
        raise MaillageError(f"« {origin} » : une liste d'EPCI était attendue.")
    dept_codes = set(communes["code"])
    members_from_communes: dict[str, list[str]] = {}
    for code, epci in zip(communes["code"], communes["epci"], strict=True):
        if epci:
            members_from_communes.setdefault(epci, []).append(code)
    epcis = []
    for i, item in enumerate(doc):
        if not isinstance(item, dict) or not item.get("code"):
            raise MaillageError(f"« {origin} » : EPCI n° {i + 1} sans code SIREN.")
        siren = str(item["code"])
        members = [c for c in item.get("communes") or [] if c in dept_codes]
        members = sorted(set(members) | set(members_from_communes.get(siren, [])))
        if not members:
            continue
        epcis.append({"code": siren, "nom": str(item.get("nom") or siren),
                      "population": item.get("population"), "communes": members})
    known = {e["code"] for e in epcis}
    missing = sorted(set(members_from_communes) - known)
    if missing:
        raise MaillageError(f"EPCI inconnus dans « {origin} » : {', '.join(missing)}.")
    return sorted(epcis, key=lambda e: e["code"])


def communes_frame(connection: Any, *, dept: str) -> gpd.GeoDataFrame:
    """Communes of ``dept`` from PostGIS, as the rest of the code expects them.

    Columns: ``code``, ``nom``, ``departement``, ``region``, ``epci``, ``epci_nom``,
    ``population``, ``area_km2``, ``point_x``/``point_y`` (representative point,
    Lambert-93), ``geometry`` (MultiPolygon, EPSG:2154); index = INSEE code, sorted.
    """
    from sqlalchemy import text

    dept = check_dept_code(dept)
    sql = text(
        """
        SELECT c.code, c.nom, c.departement, c.region, c.epci, e.nom AS epci_nom,
               c.population, ST_Area(c.geom) / 1e6 AS area_km2,
               ST_X(c.point) AS point_x, ST_Y(c.point) AS point_y, c.geom
        FROM communes c LEFT JOIN epcis e ON e.code = c.epci
        WHERE c.departement = :dept ORDER BY c.code
        """
    )
    frame = gpd.read_postgis(sql, connection, geom_col="geom", params={"dept": dept})
    frame = frame.rename_geometry("geometry")
    if frame.empty:
        raise MaillageError(
            f"Aucune commune du département {dept} en base : lancez d'abord "
            f"« maillage communes load --dept {dept} »."
        )
    frame = frame.set_index("code", drop=False)
    frame.index.name = None
    frame["population"] = pd.to_numeric(frame["population"]).fillna(0).astype(int)
    return frame


def frame_from_source(src: CommunesSource) -> gpd.GeoDataFrame:
    """The same frame as :func:`communes_frame`, built from a source without a database.

    Used by tests and by commands that work on files only.
    """
    frame = src.communes.copy()
    names = {e["code"]: e["nom"] for e in src.epcis}
    frame["epci_nom"] = frame["epci"].map(names)
    frame["area_km2"] = frame.geometry.area / 1e6
    points = frame.geometry.representative_point()
    frame["point_x"] = points.x
    frame["point_y"] = points.y
    frame["population"] = frame["population"].fillna(0).astype(int)
    return frame[["code", "nom", "departement", "region", "epci", "epci_nom", "population",
                  "area_km2", "point_x", "point_y", "geometry"]]
