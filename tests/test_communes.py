"""The communes reference: loading into PostGIS, idempotency, bad input, geometry."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import geopandas as gpd
import pytest
from shapely.geometry import Polygon, mapping
from sqlalchemy import Engine, text

from geo.communes import communes_frame, read_communes_source
from geo.communes_db import store_communes
from geo.db import session_scope
from geo.errors import MaillageError
from maillage_cli.main import main


def _counts(engine: Engine, dept: str) -> tuple[int, int, int]:
    with engine.connect() as conn:
        row = conn.execute(text(
            "SELECT count(*), sum(population), count(DISTINCT epci) FROM communes "
            "WHERE departement = :d"), {"d": dept}).one()
    return int(row[0]), int(row[1]), int(row[2])


def test_both_departements_loaded(communes_loaded: Engine) -> None:
    assert _counts(communes_loaded, "43") == (257, 228_654, 11)
    assert _counts(communes_loaded, "63") == (463, 664_453, 14)
    with communes_loaded.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM epcis")).scalar() == 25


def test_reload_is_a_no_op(communes_loaded: Engine, shared_data: Path) -> None:
    with communes_loaded.connect() as conn:
        before = conn.execute(text("SELECT max(updated_at) FROM communes")).scalar()
    src = read_communes_source(shared_data / "communes", dept="43")
    with session_scope(communes_loaded) as session:
        report = store_communes(session, src)
    assert not report.changed
    assert report.added == report.removed == report.updated == []
    with communes_loaded.connect() as conn:
        after = conn.execute(text("SELECT max(updated_at) FROM communes")).scalar()
    assert after == before


def test_cli_reports_no_change_on_second_load(communes_loaded: Engine, shared_data: Path,
                                              capsys: pytest.CaptureFixture[str],
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DATABASE_URL", communes_loaded.url.render_as_string(hide_password=False))
    from geo.db import get_engine

    get_engine.cache_clear()
    assert main(["communes", "load", "--dept", "43", "--source",
                 str(shared_data / "communes")]) == 0
    out = capsys.readouterr().out
    assert "257 communes" in out
    assert "Aucun changement" in out


def test_le_puy_area_matches_geopandas(communes_loaded: Engine, shared_data: Path) -> None:
    with communes_loaded.connect() as conn:
        area_db = conn.execute(text(
            "SELECT ST_Area(geom) / 1e6 FROM communes WHERE code = '43157'")).scalar()
    source = gpd.read_file(shared_data / "communes" / "communes-43.geojson")
    area_gpd = source.loc[source["code"] == "43157"].to_crs(2154).area.iloc[0] / 1e6
    assert area_db == pytest.approx(area_gpd, rel=1e-3)
    assert 16 < area_db < 17.5  # Le Puy-en-Velay: about 16.8 km²


def test_representative_points_lie_inside(communes_loaded: Engine) -> None:
    with communes_loaded.connect() as conn:
        outside = conn.execute(text(
            "SELECT code FROM communes WHERE NOT ST_Within(point, geom)")).all()
    assert outside == []


def test_communes_frame_is_in_lambert93(communes_loaded: Engine) -> None:
    with communes_loaded.connect() as conn:
        frame = communes_frame(conn, dept="43")
    assert len(frame) == 257
    assert frame.crs.to_epsg() == 2154
    assert frame.loc["43157", "nom"] == "Le Puy-en-Velay"
    assert frame["population"].sum() == 228_654


def test_geometry_indexes_exist_once(db_engine: Engine) -> None:
    with db_engine.connect() as conn:
        rows = conn.execute(text(
            "SELECT indexname FROM pg_indexes WHERE tablename = 'communes' "
            "AND indexdef ILIKE '%USING gist%'")).scalars().all()
    assert sorted(rows) == ["ix_communes_geom", "ix_communes_point"]


# --- bad input: a clear French error naming the file and feature, nothing written ----

def _write_source(tmp: Path, shared: Path, mutate) -> Path:
    folder = tmp / "src"
    folder.mkdir()
    doc = json.loads((shared / "communes" / "communes-43.geojson").read_text(encoding="utf-8"))
    mutate(doc)
    (folder / "communes-43.geojson").write_text(json.dumps(doc), encoding="utf-8")
    shutil.copy(shared / "communes" / "epcis-43-63.json", folder / "epcis-43-63.json")
    return folder


def _table_snapshot(engine: Engine) -> tuple[int, int]:
    with engine.connect() as conn:
        return (conn.execute(text("SELECT count(*) FROM communes")).scalar_one(),
                conn.execute(text("SELECT count(*) FROM commune_loads")).scalar_one())


def _drop_code(doc):
    del doc["features"][3]["properties"]["code"]


def _drop_geometry(doc):
    doc["features"][5]["geometry"] = None


def _other_dept(doc):
    doc["features"][7]["properties"]["code"] = "63113"
    doc["features"][7]["properties"]["codeDepartement"] = "63"


def _duplicate(doc):
    doc["features"][9]["properties"]["code"] = doc["features"][8]["properties"]["code"]


def _truncate(doc):
    doc["features"] = doc["features"][:100]


@pytest.mark.parametrize(("mutate", "expected"), [
    (_drop_code, "code INSEE manquant"),
    (_drop_geometry, "géométrie manquante"),
    (_other_dept, "commune d'un autre département"),
    (_duplicate, "code en double"),
    (_truncate, "source tronquée"),
])
def test_bad_feature_is_refused_and_nothing_written(
        communes_loaded: Engine, shared_data: Path, tmp_path: Path, mutate, expected: str,
        capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    folder = _write_source(tmp_path, shared_data, mutate)
    monkeypatch.setenv("DATABASE_URL", communes_loaded.url.render_as_string(hide_password=False))
    from geo.db import get_engine

    get_engine.cache_clear()
    before = _table_snapshot(communes_loaded)
    assert main(["communes", "load", "--dept", "43", "--source", str(folder)]) == 1
    err = capsys.readouterr().err
    assert expected in err
    assert "communes-43.geojson" in err
    assert _table_snapshot(communes_loaded) == before


def test_missing_file_and_not_json(tmp_path: Path) -> None:
    with pytest.raises(MaillageError, match="Fichier introuvable"):
        read_communes_source(tmp_path, dept="43")
    (tmp_path / "communes-43.geojson").write_text("{pas du json", encoding="utf-8")
    (tmp_path / "epcis.json").write_text("[]", encoding="utf-8")
    with pytest.raises(MaillageError, match="n'est pas un JSON valide") as info:
        read_communes_source(tmp_path, dept="43")
    assert "communes-43.geojson" in str(info.value)


def test_invalid_polygon_is_repaired_and_reported(tmp_path: Path, shared_data: Path) -> None:
    bowtie = Polygon([(3.88, 45.04), (3.90, 45.06), (3.90, 45.04), (3.88, 45.06), (3.88, 45.04)])
    assert not bowtie.is_valid

    def mutate(doc):
        doc["features"][0]["geometry"] = mapping(bowtie)

    folder = _write_source(tmp_path, shared_data, mutate)
    src = read_communes_source(folder, dept="43")
    code = src.communes.iloc[0]["code"]
    assert code in src.repaired
    assert src.communes.geometry.is_valid.all()


def test_insee_code_accepts_corsica(tmp_path: Path) -> None:
    doc = {"type": "FeatureCollection", "features": [{
        "type": "Feature",
        "properties": {"nom": "Ajaccio", "code": "2A004", "codeDepartement": "2A",
                       "codeRegion": "94", "codeEpci": None, "population": 1},
        "geometry": mapping(Polygon([(8.7, 41.9), (8.8, 41.9), (8.8, 42.0), (8.7, 41.9)])),
    }]}
    (tmp_path / "communes-2A.geojson").write_text(json.dumps(doc), encoding="utf-8")
    (tmp_path / "epcis.json").write_text("[]", encoding="utf-8")
    src = read_communes_source(tmp_path, dept="2a")
    assert list(src.communes["code"]) == ["2A004"]
