"""Every directory reader rejects impossible positions, over-long fields, absurd dates and
duplicated ids with a French, line-numbered reason, and keeps the rest."""

from __future__ import annotations

import json
from datetime import date, timedelta
from pathlib import Path

import pytest

from directory.csv_template import read_csv_template
from directory.datainclusion import read_datainclusion
from directory.france_services import day_spans, hours_to_osm, read_france_services
from directory.gisco import read_gisco_hospitals
from directory.records import StructureRecord, check_record
from directory.taxonomy import category_codes
from geo.errors import MaillageError

FIX = Path(__file__).parent / "fixtures" / "directory"
TEMPLATE = Path(__file__).parent.parent / "directory" / "templates" / "ressources-modele.csv"
TOMORROW = (date.today() + timedelta(days=2)).isoformat()


def _reasons(result) -> dict[int, str]:
    return {r.line: r.reason for r in result.rejections}


def test_check_record_limits_and_dates() -> None:
    ok = StructureRecord(source="s", source_id="1", name="EHPAD", lat=45.04, lon=3.88)
    assert check_record(ok) is None
    assert "trop long" in (check_record(StructureRecord(source="s", source_id="1",
                                                        name="N" * 301)) or "")
    assert "trop long" in (check_record(StructureRecord(source="s", source_id="1", name="N",
                                                        phone="0" * 41)) or "")
    future = StructureRecord(source="s", source_id="1", name="N",
                             last_verified=date.today() + timedelta(days=30))
    assert "date future" in (check_record(future) or "")
    old = StructureRecord(source="s", source_id="1", name="N", opened_on=date(1500, 1, 1))
    assert "date d'ouverture impossible" in (check_record(old) or "")
    nan = StructureRecord(source="s", source_id="1", name="N", lat=float("nan"), lon=3.0)
    assert "non finies" in (check_record(nan) or "")


GISCO_HEADER = ("id,hospital_name,site_name,lat,lon,geo_qual,street,house_number,postcode,city,"
                "cc,country,cap_beds,cap_prac,cap_rooms,emergency,facility_type,public_private,"
                "list_specs,tel,email,url,ref_date,pub_date,comments")


def _gisco_row(finess: str, *, name: str = "CENTRE HOSPITALIER DE TEST", lat: str = "45.04",
               lon: str = "3.88", ref: str = "06/03/2020") -> str:
    return (f"{finess},{name},,{lat},{lon},1,RUE DU TEST,1,43000,LE PUY EN VELAY,FR,France,,,,,"
            f"Centre Hospitalier (C.H.),public,,471000000,,,{ref},16/04/2020,")


def test_gisco_hostile_rows(tmp_path: Path, shared_data: Path) -> None:
    rows = [GISCO_HEADER,
            _gisco_row("430000117"),                                  # 2 good
            _gisco_row("430000125", lat="nan", lon="3.88"),           # 3 NaN: kept, placed
            _gisco_row("430000133", lat="inf", lon="-inf"),           # 4
            _gisco_row("430000141", lat="3.88", lon="45.04"),         # 5 swapped
            _gisco_row("430000158", name="X" * 400),                  # 6 too long
            _gisco_row("430000166", ref="31/12/9999"),                # 7 absurd
            _gisco_row("430000174", ref="hier"),                      # 8 unreadable
            _gisco_row("430000117"),                                  # 9 duplicate
            _gisco_row("430000182", lat="95", lon="3.88")]            # 10 out of range
    path = tmp_path / "gisco.csv"
    path.write_text("\n".join(rows) + "\n", encoding="utf-8")
    result = read_gisco_hospitals(path)
    reasons = _reasons(result)
    assert "non finies" in reasons[3] and "gardé" in reasons[3]
    assert "non finies" in reasons[4]
    assert "hors de France" in reasons[5] or "hors du département" in reasons[5]
    assert "trop long (400 caractères, 300 au plus)" in reasons[6]
    assert "impossible « 9999-12-31 » (date future)" in reasons[7]
    assert "date de référence illisible « hier »" in reasons[8]
    assert "en double" in reasons[9]
    assert "hors limites" in reasons[10]
    ids = [r.source_id for r in result.records]
    assert ids == ["430000117", "430000125", "430000133", "430000141", "430000182"]
    assert all(r.lat is None for r in result.records[1:])     # placed at their commune
    assert [r.kept for r in result.rejections if r.line in (3, 4, 5, 10)] == [True] * 4
    assert [r.kept for r in result.rejections if r.line in (6, 7, 8, 9)] == [False] * 4


def test_empty_gisco_file_is_an_error(tmp_path: Path) -> None:
    header_only = tmp_path / "vide.csv"
    header_only.write_text(GISCO_HEADER + "\n", encoding="utf-8")
    with pytest.raises(MaillageError, match="vide"):
        read_gisco_hospitals(header_only)
    empty = tmp_path / "zero.csv"
    empty.write_bytes(b"")
    with pytest.raises(MaillageError):
        read_gisco_hospitals(empty)


def test_gisco_giant_field_is_an_error_not_a_traceback(tmp_path: Path) -> None:
    path = tmp_path / "geant.csv"
    path.write_text(GISCO_HEADER + "\n" + _gisco_row("430000117", name="X" * 200_000) + "\n",
                    encoding="utf-8")
    with pytest.raises(MaillageError, match="CSV illisible"):
        read_gisco_hospitals(path)


def test_csv_template_hostile_rows(tmp_path: Path, shared_data: Path) -> None:
    header = TEMPLATE.read_text(encoding="utf-8-sig").splitlines()[0]
    base = ("{id};{name};clic;medico-social;2 rue de la Paix 43200 Yssingeaux;43268;{lat};{lon};"
            "04 71 00 00 00;contact@example.org;https://example.org;Mo-Fr 09:00-12:00;;;;;;;"
            "{date}")
    rows = [header,
            base.format(id="a", name="Bon", lat="45,1428", lon="4,1237", date="2026-10-01"),
            base.format(id="b", name="NaN", lat="nan", lon="4,1", date=""),
            base.format(id="c", name="Loin", lat="48,85", lon="-74,0", date=""),
            base.format(id="d", name="Long " + "x" * 400, lat="", lon="", date=""),
            base.format(id="e", name="Futur", lat="", lon="", date=TOMORROW),
            base.format(id="f", name="Hier", lat="", lon="", date="hier"),
            base.format(id="a", name="Double", lat="", lon="", date="")]
    path = tmp_path / "ressources.csv"
    path.write_text("\n".join(rows) + "\n", encoding="utf-8")
    result = read_csv_template(path, known_categories=category_codes(shared_data))
    reasons = _reasons(result)
    assert "non finies" in reasons[3]
    assert "hors de France" in reasons[4]
    assert "trop long" in reasons[5]
    assert "date future" in reasons[6]
    assert "date de vérification invalide « hier »" in reasons[7]
    assert "en double" in reasons[8]
    assert [r.source_id for r in result.records] == ["a"]


def test_datainclusion_hostile_structures(tmp_path: Path, shared_data: Path) -> None:
    good = json.loads((FIX / "datainclusion_synthetic.json").read_text(encoding="utf-8"))
    first = good["structures"][0]
    items = [dict(first, id="ok"),
             dict(first, id="far", latitude=40.71, longitude=-74.0),
             dict(first, id="future", date_maj="9999-12-31"),
             dict(first, id="long", adresse="r" * 400),
             dict(first, id="ok"),
             dict(first, id="nan", latitude=float("nan"))]      # json.dumps writes NaN
    path = tmp_path / "di.json"
    path.write_text(json.dumps({"structures": items, "services": []}), encoding="utf-8")
    result = read_datainclusion(path, data_dir=shared_data)
    reasons = _reasons(result)
    assert "hors de France" in reasons[2]
    assert "impossible « 9999-12-31 »" in reasons[3]
    assert "trop long" in reasons[4] or "longueur maximale" in reasons[4]
    assert "en double" in reasons[5]
    assert "non finies" in reasons[6]
    assert [r.source_id for r in result.records] == ["ok"]


FS_HEADER = ("id_fs,insee_dep,lib_fs,adresse,complement_adresse,insee_com,code_postal,lib_com,"
             "latitude,longitude,mail,telephone,h_lundi,h_mardi,h_mercredi,h_jeudi,h_vendredi,"
             "h_samedi,commentaire,itinerance,format_fs,groupe,labellisation")


def _fs(ident: str, *, lat: str = "45.33", lon: str = "3.85", name: str = "France services X",
        monday: str = "09:00 - 12:00 / 14:00 - 16:30", insee: str = "43080") -> str:
    return (f"{ident},43,{name},1 Place,,{insee},43500,Craponne,{lat},{lon},a@b.fr,"
            f"04 71 03 31 40,{monday},{monday},,,09:00 - 12:00,,,Non,Site principal,,")


def test_france_services_hostile_rows(tmp_path: Path) -> None:
    rows = [FS_HEADER, _fs("1"), _fs("2", lat="nan"), _fs("3", lat="0", lon="0"),
            _fs("4", name="F" * 400), _fs("5", monday="le matin"), _fs("1"),
            _fs("6", insee="4308"), _fs("7", lat="abc")]
    path = tmp_path / "liste-fs-20221201.csv"
    path.write_text("\n".join(rows) + "\n", encoding="utf-8")
    result = read_france_services(path)
    reasons = _reasons(result)
    assert "non finies" in reasons[3]
    assert "hors de France" in reasons[4]
    assert "trop long" in reasons[5]
    assert "horaires illisibles (lundi « le matin », mardi « le matin »)" in reasons[6]
    assert "en double (déjà ligne 2)" in reasons[7]
    assert "code commune INSEE invalide" in reasons[8]
    assert "coordonnées illisibles" in reasons[9]
    by_id = {r.source_id: r for r in result.records}
    assert list(by_id) == ["1", "5"]
    assert by_id["1"].opening_hours == "Mo,Tu 09:00-12:00,14:00-16:30; Fr 09:00-12:00"
    assert by_id["5"].opening_hours is None and "Horaires : lundi le matin" in \
        (by_id["5"].description or "")
    assert by_id["1"].last_verified == date(2022, 12, 1)      # the list's date


def test_france_services_hours() -> None:
    assert day_spans("09:00 - 12:00 / 14:00 - 16:30") == ["09:00-12:00", "14:00-16:30"]
    assert day_spans("08:30-12:30/14:00-17:00") == ["08:30-12:30", "14:00-17:00"]
    assert day_spans("09:00 - 12:00 / 09:00 - 12:00") == ["09:00-12:00"]
    assert day_spans("") == [] and day_spans("-") is None
    hours, bad = hours_to_osm({"h_lundi": "09:00 - 12:00", "h_mardi": "09:00 - 12:00",
                               "h_mercredi": "09:00 - 12:00", "h_jeudi": "",
                               "h_vendredi": "14:00 - 17:00", "h_samedi": ""})
    assert (hours, bad) == ("Mo-We 09:00-12:00; Fr 14:00-17:00", [])
    hours, bad = hours_to_osm({"h_lundi": "12:00 - 09:00"})
    assert hours is None and bad and "la fin précède le début" in bad[0]
