"""Resource directory: readers, imports into PostGIS, search, JSON API."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import jsonschema
import pytest
from sqlalchemy import Engine, text

from directory import opening_hours
from directory.csv_template import read_csv_template
from directory.datainclusion import enumeration, read_datainclusion
from directory.finess import read_finess
from directory.gisco import read_gisco_hospitals
from directory.search import SearchQuery, search
from directory.store import stale, sync_categories, upsert
from directory.taxonomy import load_categories
from geo.db import session_scope
from geo.errors import MaillageError

FIX = Path(__file__).parent / "fixtures" / "directory"


@pytest.fixture(scope="module")
def categories(shared_data: Path):
    return load_categories(shared_data)


@pytest.fixture(scope="module")
def known(categories) -> set[str]:
    return {c.code for c in categories}


@pytest.fixture(scope="module")
def directory_db(communes_loaded: Engine, shared_data: Path, categories) -> Engine:
    """Test DB with the taxonomy, the 71 hospitals and the synthetic fixtures loaded."""
    with communes_loaded.begin() as conn:
        conn.execute(text("DELETE FROM structures"))
    known_codes = {c.code for c in categories}
    with session_scope(communes_loaded) as session:
        sync_categories(session, categories)
        upsert(session, read_gisco_hospitals(
            shared_data / "health" / "gisco_healthcare_FR_2020_hospitals_43_63.csv"),
            source_label="gisco")
        upsert(session, read_finess(FIX / "finess_synthetic_utf8.csv", dept="43",
                                    known_categories=known_codes), source_label="finess")
        upsert(session, read_datainclusion(FIX / "datainclusion_synthetic.json",
                                           data_dir=shared_data), source_label="di")
        upsert(session, read_csv_template(FIX / "ressources_cp1252.csv",
                                          known_categories=known_codes,
                                          known_publics=enumeration(shared_data, "publics")),
               source_label="csv")
    return communes_loaded


# --- taxonomy and opening hours -------------------------------------------------------

def test_sector_split(categories) -> None:
    sector = {c.code: c.sector for c in categories}
    assert sector["500"] == "medico-social"   # EHPAD
    assert sector["354"] == "medico-social"   # SSIAD
    assert sector["355"] == "sanitaire"       # CH
    assert sector["156"] == "sanitaire"       # CMP
    assert sector["214"] == "social"          # CHRS
    assert sector["609"] == "medico-social"   # MDPH
    assert sector["hors-finess:ccas"] == "social"


@pytest.mark.parametrize("value", ["24/7", "Mo-Fr 09:00-12:00,14:00-17:00; Sa 09:00-12:00; PH off",
                                   "Mo,We 08:30-12:00", "off"])
def test_opening_hours_valid(value: str) -> None:
    assert opening_hours.validate(value) is None


@pytest.mark.parametrize(("value", "expected"), [
    ("Lu-Ve 9h-12h", "jour"), ("Mo-Fr 09:00-25:00", "plage horaire"),
    ("Mo-Fr 12:00-09:00", "la fin précède"), ("Mo-Fr", "incomplète")])
def test_opening_hours_invalid(value: str, expected: str) -> None:
    assert expected in (opening_hours.validate(value) or "")


def test_opening_hours_in_french() -> None:
    assert opening_hours.to_french("Mo-Fr 09:00-12:00,14:00-17:30; Sa 09:00-12:00") == \
        "lundi–vendredi 9 h–12 h, 14 h–17 h 30 ; samedi 9 h–12 h"


# --- readers ---------------------------------------------------------------------------

@pytest.mark.parametrize("name", ["finess_synthetic_utf8.csv", "finess_synthetic_latin1.csv"])
def test_finess_both_encodings_and_layouts(name: str, known: set[str]) -> None:
    result = read_finess(FIX / name, dept="43", known_categories=known)
    by_id = {r.source_id: r for r in result.records}
    assert set(by_id) == {"430000026", "430000034", "430000042", "430000067", "430000083"}
    ehpad = by_id["430000026"]
    assert ehpad.name == "EHPAD LES GENÊTS D'YSSINGEAUX"
    assert ehpad.commune_code == "43268" and ehpad.category_code == "500"
    assert ehpad.lon == pytest.approx(4.12, abs=0.05) and ehpad.lat == pytest.approx(45.14, abs=0.05)
    assert by_id["430000034"].lat is not None  # older layout: source split by ";"
    assert by_id["430000067"].lat is None      # no coordinates: placed at the commune later
    reasons = {r.line: r.reason for r in result.rejections}
    assert "numéro FINESS ET manquant" in reasons[5]
    assert "catégorie FINESS inconnue « 999 »" in reasons[6]
    assert "32 attendus" in reasons[9]
    assert "coordonnées illisibles" in reasons[15]
    assert result.metadata["date"] == "2026-05-12"


def test_finess_wrong_file_is_fatal(known: set[str]) -> None:
    with pytest.raises(MaillageError, match="n'est pas une extraction FINESS"):
        read_finess(FIX / "finess_not_finess.csv", known_categories=known)


def test_datainclusion_validation(shared_data: Path) -> None:
    result = read_datainclusion(FIX / "datainclusion_synthetic.json", data_dir=shared_data)
    assert [r.source_id for r in result.records] == ["ccas-le-puy"]
    ccas = result.records[0]
    assert ccas.category_code == "hors-finess:ccas"
    assert [s.name for s in ccas.services] == ["Aide aux seniors isolés"]
    assert ccas.services[0].zone_type == "epci"
    reasons = " ".join(r.reason for r in result.rejections)
    assert "structure" in reasons and "date_maj" in reasons
    assert "martiens" in reasons


def test_csv_template_windows_1252(shared_data: Path, known: set[str]) -> None:
    result = read_csv_template(FIX / "ressources_cp1252.csv", known_categories=known,
                               known_publics=enumeration(shared_data, "publics"))
    ids = [r.source_id for r in result.records]
    assert ids == ["ssiad-ysg", "vieux"]
    assert result.records[0].services[0].name == "Soins infirmiers à domicile"
    reasons = {r.line: r.reason for r in result.rejections}
    assert "courriel invalide" in reasons[3] and "horaires" in reasons[3]
    assert "catégorie inconnue « licorne »" in reasons[4]


def test_template_file_is_readable(known: set[str], shared_data: Path) -> None:
    template = Path(__file__).parent.parent / "directory" / "templates" / "ressources-modele.csv"
    result = read_csv_template(template, known_categories=known,
                               known_publics=enumeration(shared_data, "publics"))
    assert len(result.records) == 1 and not result.rejections


# --- imports into PostGIS --------------------------------------------------------------

def test_import_report_and_idempotent_reimport(directory_db: Engine, known: set[str]) -> None:
    result = read_finess(FIX / "finess_synthetic_utf8.csv", dept="43", known_categories=known)
    with session_scope(directory_db) as session:
        report = upsert(session, result, source_label="finess")
    assert report.created == [] and report.updated == []
    assert len(report.unchanged) == 5
    assert len(report.rejected) == 4


def test_record_without_coordinates_is_approximate(directory_db: Engine) -> None:
    with directory_db.connect() as conn:
        row = conn.execute(text(
            "SELECT s.approximate_location, ST_DWithin(ST_Transform(s.point, 2154), c.point, 0.01) "
            "FROM structures s JOIN communes c ON c.code = s.commune_code "
            "WHERE s.source = 'finess' AND s.source_id = '430000067'")).one()
    assert row[0] is True and row[1] is True


def test_fatal_error_writes_nothing(directory_db: Engine, known: set[str]) -> None:
    with directory_db.connect() as conn:
        before = conn.execute(text("SELECT count(*) FROM structures")).scalar()
    with pytest.raises(MaillageError):
        read_finess(FIX / "finess_not_finess.csv", known_categories=known)
    with directory_db.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM structures")).scalar() == before


# --- search ----------------------------------------------------------------------------

def _names(engine: Engine, **kwargs) -> list[str]:
    with engine.connect() as conn:
        result = search(conn, SearchQuery(**kwargs))
    return [f["properties"]["name"] for f in result["features"]]


def test_typo_and_accent_tolerant(directory_db: Engine) -> None:
    assert _names(directory_db, q="ehpad ysingeaux")[0] == "EHPAD LES GENÊTS D'YSSINGEAUX"
    assert "EHPAD LES GENÊTS D'YSSINGEAUX" in _names(directory_db, q="genets")
    assert _names(directory_db, q="CCAS Le Puy")[0] == "CCAS du Puy-en-Velay"


def test_hospitals_near_le_puy_nearest_first(directory_db: Engine) -> None:
    with directory_db.connect() as conn:
        result = search(conn, SearchQuery(q="hopital", commune="43157", radius_km=20,
                                          sort="distance"))
    distances = [f["properties"]["distance_km"] for f in result["features"]]
    assert len(distances) >= 5
    assert distances == sorted(distances) and distances[-1] <= 20
    assert "Centre Hospitalier du Puy en Velay" in [f["properties"]["name"]
                                                    for f in result["features"]]


def test_filters_sector_category_public_and_territory(directory_db: Engine) -> None:
    assert set(_names(directory_db, category="500")) == {
        "EHPAD LES GENÊTS D'YSSINGEAUX", "EHPAD COORDONNEES FAUSSES", "EHPAD SANS COORDONNEES"}
    assert "SSIAD DU PLATEAU" in _names(directory_db, sector="medico-social")
    assert "SSIAD DU PLATEAU" not in _names(directory_db, sector="sanitaire")
    # Yssingeaux (43268) is in the CC des Sucs (244301016): the EPCI-wide services serve it.
    assert set(_names(directory_db, serves="43268")) == {"SSIAD des Sucs", "CCAS du Puy-en-Velay"}
    assert _names(directory_db, serves="43040") == ["Point accueil ancien"]
    assert "SSIAD des Sucs" in _names(directory_db, public="seniors")


def test_pagination_and_cap(directory_db: Engine) -> None:
    with directory_db.connect() as conn:
        first = search(conn, SearchQuery(per_page=10, page=1))
        second = search(conn, SearchQuery(per_page=10, page=2))
        with pytest.raises(MaillageError, match="limitée"):
            search(conn, SearchQuery(per_page=1000))
    assert first["total"] == second["total"] >= 75
    ids1 = {f["properties"]["id"] for f in first["features"]}
    assert not ids1 & {f["properties"]["id"] for f in second["features"]}


def test_stale_records(directory_db: Engine) -> None:
    with session_scope(directory_db) as session:
        rows = stale(session, dept="43", today=date(2026, 11, 23))
    names = {r["name"] for r in rows}
    assert "Point accueil ancien" in names          # verified 2023-01-15
    assert "SSIAD des Sucs" not in names            # verified 2026-10-01


# --- JSON API --------------------------------------------------------------------------

@pytest.fixture(scope="module")
def client(directory_db: Engine):
    from web.app import create_app

    app = create_app(database_url=directory_db.url.render_as_string(hide_password=False),
                     testing=True)
    return app.test_client()


def test_api_search_detail_categories(client) -> None:
    r = client.get("/api/v1/search?q=hopital&commune=43157&radius_km=20&sort=distance")
    assert r.status_code == 200
    body = r.get_json()
    assert body["type"] == "FeatureCollection" and body["total"] >= 5
    first = body["features"][0]["properties"]
    detail = client.get(f"/api/v1/structures/{first['id']}")
    assert detail.status_code == 200 and detail.get_json()["name"] == first["name"]
    cats = client.get("/api/v1/categories").get_json()
    assert any(c["code"] == "355" and c["sector"] == "sanitaire" for c in cats)
    communes = client.get("/api/v1/communes?q=ysingeaux").get_json()
    assert communes[0]["code"] == "43268"


@pytest.mark.parametrize(("url", "status"), [
    ("/api/v1/search?per_page=1000", 400), ("/api/v1/search?sector=magie", 400),
    ("/api/v1/search?lat=abc&lon=3", 400), ("/api/v1/search?commune=99999", 400),
    ("/api/v1/structures/999999", 404), ("/api/v1/communes?q=a", 400), ("/api/v1/nope", 404)])
def test_api_errors_are_french_json(client, url: str, status: int) -> None:
    r = client.get(url)
    assert r.status_code == status
    assert r.is_json and r.get_json()["erreur"]


def test_openapi_is_valid(client) -> None:
    from jsonschema.validators import Draft202012Validator

    doc = client.get("/api/v1/openapi.json").get_json()
    assert doc["openapi"].startswith("3.")
    assert {"/api/v1/search", "/api/v1/structures/{id}", "/api/v1/categories",
            "/api/v1/communes"} <= set(doc["paths"])
    # Every parameter schema is a valid JSON Schema, every $ref resolves.
    for path in doc["paths"].values():
        for op in path.values():
            for param in op.get("parameters", []):
                Draft202012Validator.check_schema(param["schema"])
    search_schema = {**doc["components"]["schemas"]["Resultats"],
                     "$defs": doc["components"]["schemas"]}
    jsonschema.validate(client.get("/api/v1/search?q=ehpad").get_json(), search_schema)
