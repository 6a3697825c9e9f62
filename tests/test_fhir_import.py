"""Import of the real offer into PostGIS: FINESS as FHIR, GISCO merged, France Services,
closed records, and the searches a professional of Haute-Loire types."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.engine import Engine

from directory.fhir import FhirReader
from directory.france_services import read_france_services
from directory.gisco import read_gisco_hospitals
from directory.search import SearchQuery, search, structure_detail
from directory.store import ImportReport, StreamResult, counts_by_dept, sync_categories, upsert
from directory.taxonomy import load_categories
from geo.db import session_scope


def _import_fhir(engine: Engine, path: Path, *, dept: str | None = None,
                 close_missing: bool = True) -> ImportReport:
    categories = load_categories()
    reader = FhirReader(path, dept=dept, known_categories=frozenset(c.code for c in categories))
    with session_scope(engine) as session:
        sync_categories(session, categories)
        return upsert(session, StreamResult(reader.records(), reader.rejections,
                                            reader.metadata),
                      source_label="fhir", close_missing=close_missing, dept=dept)


@pytest.fixture(scope="module")
def real(shared_data: Path) -> Path:
    return shared_data / "finess" / "finess-20210108-fhir-43-63.ndjson"


@pytest.fixture(scope="module")
def fhir_db(communes_loaded: Engine, real: Path) -> dict[str, ImportReport]:
    """Test DB with the FINESS FHIR file imported twice, then the GISCO hospitals twice."""
    with communes_loaded.begin() as conn:
        conn.execute(text("DELETE FROM structures"))
    reports = {"first": _import_fhir(communes_loaded, real),
               "second": _import_fhir(communes_loaded, real)}
    gisco = Path(real).parent.parent / "health" / "gisco_healthcare_FR_2020_hospitals_43_63.csv"
    for key in ("gisco", "gisco_again"):
        with session_scope(communes_loaded) as session:
            reports[key] = upsert(session, read_gisco_hospitals(gisco), source_label="gisco")
    return reports


def test_real_file_imports_every_establishment_in_a_commune(communes_loaded: Engine,
                                                            fhir_db) -> None:
    first = fhir_db["first"]
    assert len(first.created) == 1446 and first.rejected == []
    assert first.outside_communes == [] and first.approximate == []
    assert first.by_dept == {"43": 437, "63": 1009}
    with communes_loaded.connect() as conn:
        per_dept = dict(conn.execute(text(
            "SELECT left(commune_code, 2), count(*) FROM structures WHERE source = 'finess' "
            "GROUP BY 1")).all())
        assert per_dept == {"43": 437, "63": 1009}
        assert conn.execute(text("SELECT count(*) FROM structures WHERE commune_code IS NULL"
                                 )).scalar() == 0
        chs = conn.execute(text(
            "SELECT commune_code, commune_name, phone, display_name, official_name, "
            "last_updated FROM structures WHERE finess_et = '430000026'")).one()
    assert chs.commune_code == "43157" and chs.commune_name == "Le Puy-en-Velay"  # polygon
    assert chs.phone == "04 71 07 55 55" and chs.official_name == "CHS SAINTE MARIE LE PUY"
    assert str(chs.last_updated) == "2021-01-08"


def test_second_run_changes_nothing(fhir_db) -> None:
    second = fhir_db["second"]
    assert len(second.unchanged) == 1446
    assert second.created == second.updated == second.merged == second.closed == []


def test_cli_import_and_search(communes_loaded: Engine, real: Path, fhir_db, monkeypatch,
                               capsys) -> None:
    from maillage_cli.main import main

    monkeypatch.setenv("DATABASE_URL", communes_loaded.url.render_as_string(hide_password=False))
    assert main(["directory", "import", "fhir", str(real)]) == 0
    out = capsys.readouterr().out
    assert "0 créée, 0 fusionnée avec une structure existante, 0 mise à jour, " \
           "1446 inchangées, 0 rejetée." in out
    assert "Par département : 43 : 437 ; 63 : 1009" in out
    assert main(["directory", "search", "ehpad", "--commune", "43040", "--radius", "15",
                 "--json"]) == 0
    features = json.loads(capsys.readouterr().out)["features"]
    assert features[0]["properties"]["commune_name"] == "Brioude"
    assert all(f["properties"]["finess_et"] for f in features)
    assert main(["directory", "import", "fhir", str(real.parent / "absent.ndjson")]) == 1
    assert "introuvable" in capsys.readouterr().err


def test_finess_et_is_unique_in_the_database(communes_loaded: Engine, fhir_db) -> None:
    from sqlalchemy.exc import IntegrityError

    with pytest.raises(IntegrityError), communes_loaded.begin() as conn:
        conn.execute(text(
            "INSERT INTO structures (source, source_id, name, finess_et, point) VALUES "
            "('test', 'dup', 'Doublon', '430000026', ST_SetSRID(ST_MakePoint(3.9, 45.0), 4326))"))


def test_gisco_merges_into_finess_no_duplicate_finess_et(communes_loaded: Engine,
                                                         fhir_db) -> None:
    gisco, again = fhir_db["gisco"], fhir_db["gisco_again"]
    assert gisco.created == [] and len(gisco.merged) == 71
    assert len(again.unchanged) == 71 and again.merged == again.updated == []
    with communes_loaded.connect() as conn:
        assert conn.execute(text(
            "SELECT count(*) FROM (SELECT finess_et FROM structures WHERE finess_et IS NOT NULL "
            "GROUP BY 1 HAVING count(*) > 1) d")).scalar() == 0
        assert conn.execute(text("SELECT count(*) FROM structures")).scalar() == 1446
        sid = conn.execute(text("SELECT id FROM structures WHERE finess_et = '430000026'"
                                )).scalar_one()
        detail = structure_detail(conn, sid)
    assert detail is not None
    # FINESS (2021) is more recent than GISCO (2020): its name and position win.
    assert detail["official_name"] == "CHS SAINTE MARIE LE PUY"
    assert [s["label"] for s in detail["sources"]] == [
        "FINESS (extraction du 08/01/2021)",
        "Eurostat GISCO (hôpitaux, dérivé de FINESS) (extraction du 06/03/2020)"]
    assert (detail["lat"], detail["lon"]) == pytest.approx((45.0510745, 3.8999752))


def test_ehpad_near_brioude_nearest_first(communes_loaded: Engine, fhir_db) -> None:
    with communes_loaded.connect() as conn:
        result = search(conn, SearchQuery(q="ehpad", commune="43040", radius_km=15,
                                          sort="distance", per_page=50))
    features = [f["properties"] for f in result["features"]]
    assert features and features[0]["commune_code"] == "43040"
    distances = [p["distance_km"] for p in features]
    assert distances == sorted(distances) and distances[-1] <= 15
    assert all(p["finess_et"] and p["category_code"] == "500" for p in features)
    first = features[0]
    assert first["sources"][0]["label"] == "FINESS (extraction du 08/01/2021)"
    assert first["official_name"] and first["display_name"] and first["last_updated"]


@pytest.mark.parametrize(("words", "category"), [
    ("ssiad", "354"), ("cmp", "156"), ("csapa", "197"), ("maison de santé", "603"),
    ("caarud", "178"), ("clic", "463"), ("chrs", "214"), ("maison de retraite", "500"),
    ("soins infirmiers à domicile", "354"), ("addictologie", "197"), ("laboratoire", "611"),
    ("pharmacie", "620"), ("ime", "183"), ("esat", "246"), ("aide à domicile", "460"),
    ("psychiatrie", "156"), ("centre de santé", "124"),
])
def test_everyday_words_find_real_establishments(communes_loaded: Engine, fhir_db,
                                                  words: str, category: str) -> None:
    with communes_loaded.connect() as conn:
        result = search(conn, SearchQuery(q=words, per_page=100))
    assert result["total"] > 0
    assert category in {f["properties"]["category_code"] for f in result["features"]}


def test_france_services_import(communes_loaded: Engine, shared_data: Path, fhir_db) -> None:
    result = read_france_services(shared_data / "inclusion" /
                                  "france-services-20221201-43-63.csv")
    assert len(result.records) == 55
    with session_scope(communes_loaded) as session:
        sync_categories(session, load_categories())
        report = upsert(session, result, source_label="fs", close_missing=True)
        again = upsert(session, read_france_services(
            shared_data / "inclusion" / "france-services-20221201-43-63.csv"),
            source_label="fs", close_missing=True)
        counts = counts_by_dept(session, depts=["43", "63"])
    assert len(report.created) == 55 and len(again.unchanged) == 55
    assert [r.kept for r in report.rejected] == [True]          # unreadable hours, kept
    assert counts["43"]["total"] == 437 + 20 and counts["63"]["total"] == 1009 + 35
    with communes_loaded.connect() as conn:
        hours = conn.execute(text(
            "SELECT opening_hours FROM structures WHERE source = 'france-services' "
            "AND source_id = '255'")).scalar_one()
        found = search(conn, SearchQuery(q="france services", commune="43157", radius_km=30))
    assert hours == "Mo 09:00-12:00; Tu 09:00-16:30; We,Th 09:00-12:00,14:00-16:30; " \
                    "Fr 09:00-12:00"
    assert found["total"] > 0


def test_structure_page_and_api_name_the_sources(communes_loaded: Engine, db_url: str,
                                                fhir_db) -> None:
    from web.app import create_app

    client = create_app(database_url=db_url, testing=True).test_client()
    with communes_loaded.connect() as conn:
        sid = conn.execute(text("SELECT id FROM structures WHERE finess_et = '430000026'"
                                )).scalar_one()
    html = client.get(f"/structure/{sid}").get_data(as_text=True)
    assert "FINESS (extraction du 08/01/2021)" in html
    assert "Nom officiel : CHS SAINTE MARIE LE PUY" in html
    assert "gisco-finess-2020" not in html and ">finess<" not in html
    feature = client.get("/api/v1/search?q=ehpad&commune=43040&radius_km=15").get_json()[
        "features"][0]["properties"]
    assert {"finess_et", "sources", "display_name", "official_name", "opening_hours",
            "last_updated"} <= set(feature)
    categories = client.get("/api/v1/categories").get_json()
    offered = {c["code"] for c in categories if c["structures"]}
    assert {"500", "354", "156", "197", "603"} <= offered
    assert "hors-finess:caf" not in offered          # no record: not offered in filters


def test_ror_bundle_service_with_territory_and_hours(communes_loaded: Engine, tmp_path: Path,
                                                     fhir_db) -> None:
    org = {"resourceType": "Organization", "id": "ror-1", "name": "EQUIPE MOBILE GERIATRIE",
           "identifier": [{"system": "urn:oid:1.2.250.1.71.4.2.2", "value": "430999991"}],
           "address": [{"postalCode": "43000", "city": "LE PUY EN VELAY"}],
           "type": [{"coding": [{"system": "https://x/CAT_ETAB", "code": "355"}]}]}
    loc = {"resourceType": "Location", "id": "ror-1-loc",
           "managingOrganization": {"reference": "Organization/ror-1"},
           "position": {"latitude": 45.0433, "longitude": 3.8840}}
    service = {"resourceType": "HealthcareService", "id": "hs-1", "name": "Équipe mobile",
               "providedBy": {"reference": "Organization/ror-1"},
               "coverageArea": [{"display": "43268"}],
               "availableTime": [{"daysOfWeek": ["mon", "tue", "wed"],
                                  "availableStartTime": "09:00:00",
                                  "availableEndTime": "17:00:00"}]}
    bundle = {"resourceType": "Bundle", "type": "searchset", "timestamp": "2024-05-02T10:00:00Z",
              "entry": [{"resource": r} for r in (org, loc, service)]}
    path = tmp_path / "ror.json"
    path.write_text(json.dumps(bundle), encoding="utf-8")
    categories = load_categories()
    reader = FhirReader(path, source="ror",
                        known_categories=frozenset(c.code for c in categories))
    with session_scope(communes_loaded) as session:
        report = upsert(session, StreamResult(reader.records(), reader.rejections,
                                              reader.metadata), source_label="ror")
    assert report.created == ["430999991"]
    with communes_loaded.connect() as conn:
        found = search(conn, SearchQuery(serves="43268", q="equipe mobile"))
        (feature,) = found["features"]
        detail = structure_detail(conn, feature["properties"]["id"])
    assert detail is not None and detail["commune_code"] == "43157"
    (svc,) = detail["services"]
    assert svc["opening_hours"] == "Mo-We 09:00-17:00" and svc["zone_codes"] == ["43268"]
    assert detail["sources"][0]["label"] == "ROR (extraction du 02/05/2024)"


def test_newer_extract_closes_missing_records(communes_loaded: Engine, real: Path,
                                              tmp_path: Path, fhir_db) -> None:
    """Runs last: a 2022 extract of 43 without the EHPAD of the CH of Brioude and with
    one establishment made inactive closes both; they leave search, are not deleted."""
    lines = [line for line in real.read_text(encoding="utf-8").splitlines()
             if "430004143" not in line]
    out = []
    for line in lines:
        resource = json.loads(line)
        if resource["resourceType"] == "Organization" and resource["id"].endswith("430000026"):
            resource["active"] = False
        out.append(json.dumps(resource))
    newer = tmp_path / "finess-20220301-fhir-43.ndjson"
    newer.write_text("\n".join(out) + "\n", encoding="utf-8")
    report = _import_fhir(communes_loaded, newer, dept="43")
    assert report.closed == ["430004143"]
    assert len(report.updated) == 436            # same records, newer extract date
    with communes_loaded.connect() as conn:
        rows = dict(conn.execute(text(
            "SELECT finess_et, status FROM structures WHERE finess_et IN "
            "('430004143', '430000026', '430000117')")).all())
        assert rows == {"430004143": "closed", "430000026": "closed", "430000117": "open"}
        result = search(conn, SearchQuery(q="ehpad", commune="43040", radius_km=15,
                                          per_page=100))
        assert "430004143" not in {f["properties"]["finess_et"] for f in result["features"]}
        # The records of 63 were outside the extract's scope: none closed.
        assert conn.execute(text("SELECT count(*) FROM structures WHERE status = 'closed' "
                                 "AND commune_code LIKE '63%'")).scalar() == 0
    # Re-importing the older (2021) extract undoes nothing.
    older = _import_fhir(communes_loaded, real, dept="43")
    assert len(older.older) == 437 and older.updated == older.created == older.closed == []
    with communes_loaded.connect() as conn:
        assert conn.execute(text("SELECT status FROM structures WHERE finess_et = '430004143'"
                                 )).scalar_one() == "closed"
