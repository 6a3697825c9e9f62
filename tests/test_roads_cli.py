"""``maillage roads fetch`` end to end: Overpass stand-in, local extract, French errors."""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import osmnx as ox
import pytest

from geo import settings
from maillage_cli.main import main
from tests.overpass_standin import OsmData, helsinki_pbf, overpass_standin
from tests.test_roads_overpass import TERRITORY


@pytest.fixture()
def var_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setattr(settings, "VAR_DIR", tmp_path / "var")
    monkeypatch.setattr(ox.settings, "overpass_url", ox.settings.overpass_url)
    return tmp_path / "var"


@pytest.fixture()
def contour(tmp_path: Path) -> Path:
    path = tmp_path / "helsinki.geojson"
    gpd.GeoDataFrame(geometry=[TERRITORY], crs="EPSG:4326").to_file(path, driver="GeoJSON")
    return path


def test_fetch_downloads_and_caches(var_dir: Path, contour: Path,
                                    capsys: pytest.CaptureFixture[str]) -> None:
    data = OsmData.from_pbf(helsinki_pbf())
    default = ox.settings.overpass_url
    with overpass_standin(data) as standin:
        code = main(["roads", "fetch", "--dept", "43", "--contour", str(contour),
                     "--buffer-km", "0", "--overpass-url", standin.url])
    out = capsys.readouterr()
    assert code == 0, out.err
    assert len(standin.queries) == 1
    assert ox.settings.overpass_url == default  # the users' endpoint is left as it was
    assert "Réseau routier du département 43 : 102 nœuds" in out.out
    assert f"OpenStreetMap téléchargé de l'API Overpass {standin.url}, données au 21/04/2019" \
        in out.out
    cached = var_dir / "cache" / "roads" / "43-osm.graphml"
    assert f"Cache : {cached}" in out.out and cached.is_file()
    assert "[réseau routier] téléchargement OpenStreetMap" in out.err


def test_fetch_reports_an_overpass_error_in_french(var_dir: Path, contour: Path,
                                                   capsys: pytest.CaptureFixture[str]) -> None:
    data = OsmData.from_pbf(helsinki_pbf())
    with overpass_standin(data, mode="http500") as standin:
        code = main(["roads", "fetch", "--dept", "43", "--contour", str(contour),
                     "--overpass-url", standin.url])
    err = capsys.readouterr().err
    assert code == 1 and "Traceback" not in err
    assert f"Erreur : L'API Overpass « {standin.url} » a répondu HTTP 500" in err
    assert not (var_dir / "cache" / "roads").exists()


@pytest.fixture
def cli_db(communes_loaded, monkeypatch: pytest.MonkeyPatch):
    from geo.db import get_engine

    monkeypatch.setenv("DATABASE_URL", communes_loaded.url.render_as_string(hide_password=False))
    get_engine.cache_clear()
    yield communes_loaded
    get_engine.cache_clear()


def test_fetch_with_an_extract_of_another_region(var_dir: Path, cli_db: object,
                                                 capsys: pytest.CaptureFixture[str]) -> None:
    # Haute-Loire's communes (real data, in PostGIS) against the Helsinki extract: no road.
    code = main(["roads", "fetch", "--dept", "43", "--roads", str(helsinki_pbf())])
    err = capsys.readouterr().err
    assert code == 1 and "Traceback" not in err
    assert "Erreur : « Helsinki.osm.pbf » :" in err and "vol d'oiseau" in err
    assert not (var_dir / "cache" / "roads").exists()


def test_fetch_without_communes_in_the_database(var_dir: Path, cli_db: object,
                                               capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["roads", "fetch", "--dept", "2A"])
    err = capsys.readouterr().err
    assert code == 1 and "Traceback" not in err
    assert "Aucune commune du département 2A en base" in err and "--contour" in err
