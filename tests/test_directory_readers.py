"""Resource-directory readers (no database): taxonomy, opening hours, FINESS, data·inclusion,
coordinators' CSV template, GISCO hospitals."""

from __future__ import annotations

import csv
import json
from collections import Counter
from pathlib import Path

import pytest

from directory import opening_hours
from directory.csv_template import COLUMNS, parse_territory, read_csv_template
from directory.datainclusion import enumeration, read_datainclusion
from directory.encoding import decode_extract
from directory.finess import crs_of, read_finess
from directory.gisco import LABEL_TO_CODE, read_gisco_hospitals
from directory.records import normalise_phone, zone_kind, zone_type_of
from directory.taxonomy import (
    SECTORS,
    TRAINING,
    category_codes,
    load_categories,
    resolve_category,
    sector_of,
)
from geo.errors import MaillageError

FIX = Path(__file__).parent / "fixtures" / "directory"
TEMPLATE = Path(__file__).parent.parent / "directory" / "templates" / "ressources-modele.csv"


@pytest.fixture(scope="module")
def sectors(shared_data: Path) -> dict[str, str]:
    return {c.code: c.sector for c in load_categories(shared_data)}


@pytest.fixture(scope="module")
def known(shared_data: Path) -> frozenset[str]:
    return category_codes(shared_data)


# --- taxonomy ---------------------------------------------------------------------------

@pytest.mark.parametrize(("code", "sector"), [
    ("500", "medico-social"),   # EHPAD (4401 in 4400)
    ("355", "sanitaire"),       # CH (1000)
    ("214", "social"),          # CHRS (4601)
    ("609", "medico-social"),   # MDPH (4606)
    ("354", "medico-social"),   # SSIAD (4605)
    ("156", "sanitaire"),       # CMP (1111)
    ("197", "medico-social"),   # CSAPA (4604)
    ("178", "medico-social"),   # CAARUD (4604)
    ("463", "medico-social"),   # CLIC (4606)
    ("182", "medico-social"),   # SESSAD (4100)
    ("603", "sanitaire"),       # Maison de santé (2103)
    ("604", "sanitaire"),       # CPTS (2103)
    ("606", "sanitaire"),       # DAC (3408)
    ("236", "social"),          # Service de placement familial (4501, 4500)
    ("340", "social"),          # MJPM (4608)
    ("259", "social"),          # Autres résidences sociales (4607)
    ("701", "sanitaire"),       # MDA: ROR-only, our choice
    ("702", "social"),          # PAEJ: ROR-only, our choice
    ("705", "medico-social"),   # GEM: ROR-only, our choice
    ("hors-finess:ccas", "social"),
    ("hors-finess:pass", "sanitaire"),
])
def test_sector_split_known_codes(sectors: dict[str, str], code: str, sector: str) -> None:
    assert sectors[code] == sector


def test_sector_rule_on_aggregates() -> None:
    assert sector_of("1000", "1100", "1102") == "sanitaire"
    assert sector_of("3000", "3400", "3408") == "sanitaire"
    assert sector_of("4000", "4400", "4401") == "medico-social"
    assert sector_of("4000", "4600", "4609") == "medico-social"
    assert sector_of("4000", "4500", "4504") == "social"
    assert sector_of("4000", "4600", "4602") == "social"
    assert sector_of("5000", "5100", "5101") == "social"
    assert sector_of("4000", "4600", "4603") == "medico-social"  # experimental (adults)
    assert sector_of("4000", "4200", "4201") is None   # special-education classes
    assert sector_of("6000", "6100", "6101") == "sanitaire"      # health schools (in FINESS)
    assert sector_of("6000", "6200", "6201") == "social"
    assert sector_of("0100", "0110", "0101") is None   # administration


def test_taxonomy_codes_leading_zeros_and_scope(shared_data: Path) -> None:
    categories = load_categories(shared_data)
    codes = [c.code for c in categories]
    assert len(codes) == len(set(codes))
    assert {"001", "002", "003"} <= set(codes) and "1" not in codes
    assert not {"261", "375"} & set(codes)  # administration, 4200 special classes
    assert {"300", "330", "380"} <= set(codes)  # schools and 4603 are in the FINESS extract
    finess = [c for c in categories if c.source == "finess"]
    outside = [c for c in categories if c.source == "hors-finess"]
    # 322 TRE_R397 categories minus 3 administration, 6 special education (4201, 4202):
    # 313 (training schools and the experimental 4603 are in the FINESS extract).
    with (shared_data / "finess" / "nomenclature_categories.csv").open(encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    out_of_scope = [r for r in rows if r["agregat_niv1"] == "0100"
                    or r["agregat_niv2"] == "4200"
                    or r["agregat_niv1"] == "6000" and r["agregat_niv2"] not in TRAINING]
    assert len(finess) == len(rows) - len(out_of_scope) == 313
    assert all(c.code.startswith("hors-finess:") for c in outside)
    assert all(c.sector in SECTORS for c in categories)
    labels = {r["categetab"]: r["libcategetab"] for r in rows}
    assert all(c.label == labels[c.code] for c in finess)  # joined on the code
    assert next(c for c in finess if c.code == "500").short_label == "EHPAD"


@pytest.mark.parametrize(("typed", "code"), [
    ("CPTS", "604"), ("msp", "603"), ("DAC", "606"), ("clic", "463"), ("MDPH", "609"),
    ("csapa", "197"), ("CAARUD", "178"), ("Maison des adolescents", "701"), ("PAEJ", "702"),
    ("CCAS", "hors-finess:ccas"), ("cias", "hors-finess:cias"), ("PASS", "hors-finess:pass"),
    ("France Services", "hors-finess:france-services"), ("EHPAD", "500"), ("500", "500"),
    ("1", "001"), ("hors-finess:mda", "701"), ("Centre de santé", "124"), ("licorne", None),
])
def test_resolve_category(known: frozenset[str], typed: str, code: str | None) -> None:
    assert resolve_category(typed, known) == code


# --- opening hours ---------------------------------------------------------------------

@pytest.mark.parametrize("value", [
    "24/7", "off", "closed", "Mo-Fr 09:00-12:00,14:00-17:00; Sa 09:00-12:00; PH off",
    "Mo,We 08:30-12:00", "Mo-Fr 08:00-24:00", "Sa-Mo 10:00-12:00", "Su,PH off",
    'Tu,Th 14:00-17:00 "sur rendez-vous"', "Mo-Fr 09:00-12:00; SH off", "PH 10:00-12:00"])
def test_opening_hours_valid(value: str) -> None:
    assert opening_hours.validate(value) is None


@pytest.mark.parametrize(("value", "expected"), [
    ("", "horaires vides"), (" ; ", "horaires vides"),
    ("Lu-Ve 9h-12h", "abréviations anglaises"), ("Xx 09:00-12:00", "jour « Xx » inconnu"),
    ("Mo-Fr 9:00-12:00", "attendu HH:MM-HH:MM"), ("Mo-Fr 09:00-25:00", "heure impossible"),
    ("Mo-Fr 09:60-10:00", "heure impossible"), ("Mo-Fr 12:00-09:00", "la fin précède"),
    ("Mo-Fr 20:00-02:00", "la fin précède"), ("Mo-Fr", "incomplète"),
    ("09:00-12:00", "sans jours"), ("Mo-Fr 09:00-12:00,11:00-13:00", "se chevauchent"),
    ("Mo-Fr 09:00-12:00 || PH off", "« || »"), ('Mo "rdv" 09:00-12:00', "guillemets"),
    ("mo-fr 09:00-12:00", "jour « mo-fr » inconnu")])
def test_opening_hours_invalid(value: str, expected: str) -> None:
    problem = opening_hours.validate(value)
    assert problem is not None and expected in problem


@pytest.mark.parametrize(("value", "french"), [
    ("Mo-Fr 09:00-12:00,14:00-17:00; Sa 09:00-12:00",
     "lundi–vendredi 9 h–12 h, 14 h–17 h ; samedi 9 h–12 h"),
    ("Mo-Fr 09:00-12:00,14:00-17:30; Sa 09:00-12:00; PH off",
     "lundi–vendredi 9 h–12 h, 14 h–17 h 30 ; samedi 9 h–12 h ; fermé les jours fériés"),
    ("Mo,We 08:30-12:00", "lundi, mercredi 8 h 30–12 h"),
    ("24/7", "24 h/24, 7 j/7"), ("off", "fermé"), ("Su,PH off", "dimanche, jours fériés : fermé"),
    ('Tu 14:00-17:00 "sur rendez-vous"', "mardi 14 h–17 h (sur rendez-vous)")])
def test_opening_hours_in_french(value: str, french: str) -> None:
    assert opening_hours.to_french(value) == french


def test_opening_hours_parse_and_invalid_rendering() -> None:
    rules = opening_hours.parse("Mo-Fr 09:00-12:00,14:00-17:00; PH off")
    assert rules[0].days == ("Mo-Fr",) and rules[0].spans == ((540, 720), (840, 1020))
    assert rules[1].days == ("PH",) and rules[1].off
    with pytest.raises(opening_hours.OpeningHoursError, match="incomplète"):
        opening_hours.to_french("Mo-Fr")


# --- small normalisers -----------------------------------------------------------------

@pytest.mark.parametrize(("raw", "phone"), [
    ("0471000000", "04 71 00 00 00"), ("04.71.00.00.00", "04 71 00 00 00"),
    ("+33 4 71 00 00 00", "04 71 00 00 00"), ("0033471000000", "04 71 00 00 00"),
    ("471000000", "04 71 00 00 00"), ("12 34", None), ("", None), ("1471000000", None)])
def test_normalise_phone(raw: str, phone: str | None) -> None:
    assert normalise_phone(raw) == phone


def test_zone_kinds() -> None:
    assert [zone_kind(c) for c in ("43157", "2A004", "97101", "244301016", "43", "2B", "971",
                                   "4X")] == ["commune", "commune", "commune", "epci",
                                              "departement", "departement", "departement", None]
    assert zone_type_of(["43157", "43040"]) == "commune"
    assert zone_type_of(["43", "244301016"]) == "mixte"
    assert zone_type_of([]) is None


# --- FINESS ----------------------------------------------------------------------------

FINESS_REJECTIONS = {
    7: "numéro FINESS ET manquant",
    8: "catégorie FINESS inconnue « 999 » (Inconnue)",
    10: "ligne structureet de 4 champs (32 attendus)",
    13: "numéro FINESS ET en double (déjà ligne 2)",
    15: "type de ligne inconnu « structurej »",
    23: "coordonnées illisibles « abc ; 6466586.3 » : établissement gardé",
    24: "coordonnées hors du département 43",
    26: "ligne geolocalisation de 3 champs",
}


@pytest.mark.parametrize(("name", "encoding"), [
    ("finess_synthetic_lambert93_utf8.csv", "utf-8"),
    ("finess_synthetic_lambert93_latin1.csv", "iso-8859-1")])
def test_finess_lambert93_both_layouts_and_encodings(name: str, encoding: str,
                                                      known: frozenset[str]) -> None:
    result = read_finess(FIX / name, dept="43", known_categories=known)
    assert result.metadata == {"version": "111", "date": "2026-05-12", "encoding": encoding,
                               "hors_departement": "1", "geoloc_recente": "8",
                               "geoloc_ancienne": "1"}
    by_id = {r.source_id: r for r in result.records}
    assert list(by_id) == ["430100019", "430100027", "430100035", "430100043", "430100050",
                           "430100076", "430100092", "430100100", "430100118"]
    assert by_id["430100076"].category_code == "300"   # training school: now classified
    ehpad = by_id["430100019"]
    assert ehpad.name == "EHPAD LES GENÊTS D'YSSINGEAUX"   # rslongue, accents decoded
    assert (ehpad.source, ehpad.finess_et, ehpad.finess_ej) == ("finess", "430100019",
                                                                 "430000018")
    assert ehpad.category_code == "500" and ehpad.commune_code == "43268"
    assert ehpad.address == "12 bis rue DES ÉCOLES, 43200 YSSINGEAUX"
    assert (ehpad.postal_code, ehpad.commune_name) == ("43200", "YSSINGEAUX")
    assert ehpad.siret == "26430001800019" and ehpad.phone == "04 71 65 00 00"
    assert str(ehpad.opened_on) == "2001-03-01" and str(ehpad.authorized_on) == "2000-12-15"
    assert str(ehpad.source_updated_on) == "2025-11-02"
    assert str(ehpad.last_verified) == "2026-05-12"      # the extract's date
    # Recent layout, "EPSG:2154 …" source: Yssingeaux.
    assert (ehpad.lon, ehpad.lat) == pytest.approx((4.1237, 45.1428), abs=1e-4)
    # Older layout (source split by ";", LAMBERT_93): Le Puy-en-Velay.
    ssiad = by_id["430100027"]
    assert (ssiad.lon, ssiad.lat) == pytest.approx((3.8853, 45.0434), abs=1e-4)
    assert ssiad.siret is None                  # "2,601E+13": unusable, dropped
    assert ssiad.phone == "04 71 00 00 01"      # 9 digits: leading zero restored
    assert by_id["430100035"].lat == pytest.approx(45.044, abs=1e-3)   # decimal comma
    # No projection named: Lambert-93 by default in metropolitan France (Brioude).
    assert (by_id["430100043"].lon, by_id["430100043"].lat) == pytest.approx((3.3833, 45.2942),
                                                                             abs=1e-4)
    mdph = by_id["430100050"]
    assert mdph.name == "MDPH DE LA HAUTE-LOIRE" and mdph.category_code == "609"  # rs
    for ident in ("430100050", "430100092", "430100100", "430100118"):
        # empty, unreadable, implausible or absent coordinates: kept, placed later
        assert by_id[ident].lat is None and by_id[ident].lon is None
        assert by_id[ident].approximate_location is False
    reasons = {r.line: r.reason for r in result.rejections}
    assert set(reasons) == set(FINESS_REJECTIONS)
    for line, expected in FINESS_REJECTIONS.items():
        assert expected in reasons[line]


def test_finess_encodings_give_identical_records(known: frozenset[str]) -> None:
    utf8 = read_finess(FIX / "finess_synthetic_lambert93_utf8.csv", known_categories=known)
    latin1 = read_finess(FIX / "finess_synthetic_lambert93_latin1.csv", known_categories=known)
    assert utf8.records == latin1.records and utf8.rejections == latin1.rejections


def test_finess_without_dept_filter_and_default_taxonomy(shared_data: Path) -> None:
    result = read_finess(FIX / "finess_synthetic_lambert93_utf8.csv")
    clermont = next(r for r in result.records if r.source_id == "630100014")
    assert clermont.commune_code == "63113"
    assert (clermont.lon, clermont.lat) == pytest.approx((3.0870, 45.7772), abs=1e-4)
    assert result.metadata["hors_departement"] == "0"


def test_finess_overseas_utm_and_corsica(known: frozenset[str]) -> None:
    result = read_finess(FIX / "finess_synthetic_outremer_corse_utm_utf8.csv",
                         known_categories=known)
    assert result.rejections == []
    by_id = {r.source_id: r for r in result.records}
    # Control values computed independently with pyproj (5 decimals).
    expected = {"970100012": ("97101", -61.52874, 16.23400),   # EPSG:5490 named
                "970100020": ("97101", -61.52874, 16.23400),   # older layout, UTM_N20
                "970400017": ("97416", 55.29821, -20.97571),   # none named: UTM of 974
                "970600015": ("97611", 45.22868, -12.77989),   # EPSG:4471
                "975000012": ("97502", -56.17201, 46.77332),   # "WGS84/UTM zone 21N"
                "2A0000014": ("2A004", 8.7369, 41.9192)}       # Corsica, Lambert-93
    for ident, (commune, lon, lat) in expected.items():
        record = by_id[ident]
        assert record.commune_code == commune
        assert (record.lon, record.lat) == pytest.approx((lon, lat), abs=1e-5)
    guadeloupe = read_finess(FIX / "finess_synthetic_outremer_corse_utm_utf8.csv", dept="971",
                             known_categories=known)
    assert [r.source_id for r in guadeloupe.records] == ["970100012", "970100020"]
    corse = read_finess(FIX / "finess_synthetic_outremer_corse_utm_utf8.csv", dept="2a",
                        known_categories=known)
    assert [r.source_id for r in corse.records] == ["2A0000014"]


def test_finess_out_of_bounds_overseas_point(tmp_path: Path, known: frozenset[str]) -> None:
    text = (FIX / "finess_synthetic_outremer_corse_utm_utf8.csv").read_text(encoding="utf-8")
    # Guadeloupe coordinates declared in Lambert-93: lands in the Atlantic, not in 971.
    path = tmp_path / "finess.csv"
    path.write_text(text.replace("EPSG:5490 RGAF09/UTM Zone 20N (Antilles)", "LAMBERT_93"),
                    encoding="utf-8")
    result = read_finess(path, dept="971", known_categories=known)
    assert [r.line for r in result.rejections] == [8]
    assert "coordonnées hors de France" in result.rejections[0].reason  # check_position
    assert result.records[0].lat is None


def test_crs_of() -> None:
    assert crs_of("1,ATLASANTE,96,BAN,EPSG:2154 RGF93 / Lambert-93 (Métropole)", dept="43") \
        == "EPSG:2154"
    assert crs_of("1,ATLASANTE,100,IGN,BD_ADRESSE,V2.1,LAMBERT_93", dept="43") == "EPSG:2154"
    assert crs_of("1,ATLASANTE,100,IGN,BD_ADRESSE,V2.1,UTM_S40", dept="974") == "EPSG:2975"
    assert crs_of("2,ATLASANTE,90,BAN,WGS84/UTM zone 21N (St-Pierre)", dept="975") == \
        "EPSG:32621"
    assert crs_of("", dept="43") == "EPSG:2154"
    assert crs_of("", dept="974") == "EPSG:2975"


@pytest.mark.parametrize(("name", "match"), [
    ("finess_synthetic_utf16.csv", "finess_synthetic_utf16.csv » : encodage non reconnu"),
    ("finess_synthetic_sans_metadonnees.csv",
     "finess_synthetic_sans_metadonnees.csv » n'est pas une extraction FINESS"),
    ("finess_not_finess.csv", "n'est pas une extraction FINESS"),
    ("absent.csv", "introuvable")])
def test_finess_fatal_errors_name_the_file(name: str, match: str,
                                           known: frozenset[str]) -> None:
    with pytest.raises(MaillageError, match=match):
        read_finess(FIX / name, known_categories=known)


def test_decode_extract() -> None:
    path = Path("x.csv")
    assert decode_extract("é".encode(), path=path) == ("é", "utf-8")
    assert decode_extract("\ufeffé".encode(), path=path) == ("é", "utf-8")
    assert decode_extract("é".encode("iso-8859-1"), path=path) == ("é", "iso-8859-1")
    assert decode_extract("Œuvre’".encode("cp1252"), path=path) == ("Œuvre’", "windows-1252")
    with pytest.raises(MaillageError, match="x.csv » : encodage non reconnu"):
        decode_extract(b"abc\x81\x8d", path=path)     # undefined in Windows-1252 too
    with pytest.raises(MaillageError, match="archive compressée"):
        decode_extract(b"PK\x03\x04rest", path=path)


# --- data·inclusion --------------------------------------------------------------------

def test_datainclusion_json(shared_data: Path) -> None:
    result = read_datainclusion(FIX / "datainclusion_synthetic_v1.json", data_dir=shared_data)
    assert [r.source_id for r in result.records] == ["csapa-puy", "sans-coordonnees"]
    csapa, assoc = result.records
    assert csapa.source == "data-inclusion:demo-di"
    assert csapa.category_code == "197"                      # reseaux_porteurs: csapa
    assert csapa.siret == "78520378600243" and csapa.phone == "04 71 09 00 00"
    assert csapa.address == "2 rue du Collège, 2e étage, 43000 Le Puy-en-Velay"
    assert (csapa.commune_code, csapa.lat, csapa.lon) == ("43157", 45.0441, 3.8846)
    assert csapa.opening_hours == "Mo-Fr 09:00-12:30,13:30-17:00; PH off"
    assert csapa.website == "https://example.org/csapa" and str(csapa.last_verified) == \
        "2026-09-15"
    [service] = csapa.services
    assert service.name == "Consultations jeunes consommateurs"
    assert service.publics == ["jeunes", "familles"] and service.fees == "gratuit"
    assert service.thematiques == ["sante--addictions"] and service.types == ["accompagnement"]
    assert service.reception_modes == ["en-presentiel", "a-distance"]
    assert service.access_conditions == "Sans rendez-vous le mercredi après-midi"
    assert (service.zone_type, service.zone_codes) == ("mixte", ["43", "244300026"])
    assert service.opening_hours == "We 14:00-17:00"
    assert assoc.category_code == "hors-finess:autre"
    assert assoc.lat is None and assoc.approximate_location is False
    assert [(s.zone_type, s.zone_codes) for s in assoc.services] == [
        ("commune", ["43268", "43137"])]
    structures = {r.line: r.reason for r in result.rejections if r.reason.startswith("structure")}
    services = {r.line: r.reason for r in result.rejections if r.reason.startswith("service")}
    assert "reseaux_porteurs : valeur inconnue « licornes-solidaires »" in structures[3]
    assert "siret : longueur minimale 14" in structures[3]
    assert "horaires_accueil : jour « Lu-Ve » inconnu" in structures[4]
    assert "en double" in structures[5]
    assert "date_maj : format date invalide « 15/09/2026 »" in structures[6]
    assert "objet attendu" in structures[7]
    for expected in ("frais : valeur inconnue « selon-humeur »",
                     "modes_accueil : valeur inconnue « par-telepathie »",
                     "publics : valeur inconnue « martiens »",
                     "type : valeur inconnue « teleportation »"):
        assert expected in services[2]
    assert "zone_eligibilite : code « 4X »" in services[3]
    assert "structure « structure-absente » absente du fichier" in services[4]
    assert len(result.rejections) == 8


def test_datainclusion_list_of_structures(tmp_path: Path, shared_data: Path) -> None:
    doc = json.loads((FIX / "datainclusion_synthetic_v1.json").read_text(encoding="utf-8"))
    path = tmp_path / "structures.json"
    path.write_text(json.dumps(doc["structures"][:2]), encoding="utf-8")
    result = read_datainclusion(path, data_dir=shared_data)
    assert [r.source_id for r in result.records] == ["csapa-puy", "sans-coordonnees"]
    assert not result.rejections and result.records[0].services == []


def test_datainclusion_csv(shared_data: Path) -> None:
    result = read_datainclusion(FIX / "datainclusion_structures.csv", data_dir=shared_data)
    ccas, mission = result.records
    assert (ccas.source_id, ccas.category_code) == ("ccas-brioude", "hors-finess:ccas")
    assert (ccas.lat, ccas.lon) == (45.2942, 3.3833)          # decimal commas
    assert mission.category_code == "hors-finess:mission-locale"
    reasons = {r.line: r.reason for r in result.rejections}
    assert "latitude : type attendu nombre" in reasons[4]
    assert "courriel : format email invalide" in reasons[5]


@pytest.mark.parametrize(("content", "match"), [
    ("{not json", "n'est pas un JSON valide"), ('{"services": []}', "est attendu"),
    ('"texte"', "est attendu")])
def test_datainclusion_fatal(tmp_path: Path, shared_data: Path, content: str,
                             match: str) -> None:
    path = tmp_path / "di.json"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(MaillageError, match=match):
        read_datainclusion(path, data_dir=shared_data)


def test_datainclusion_services_csv_is_refused(tmp_path: Path, shared_data: Path) -> None:
    path = tmp_path / "services.csv"
    path.write_text("source,structure_id,id,nom\nx,y,z,Service\n", encoding="utf-8")
    with pytest.raises(MaillageError, match="fichier de services"):
        read_datainclusion(path, data_dir=shared_data)


# --- coordinators' CSV template --------------------------------------------------------

def test_template_columns_and_file(shared_data: Path) -> None:
    header = TEMPLATE.read_text(encoding="utf-8").splitlines()[0].split(";")
    assert tuple(header) == COLUMNS
    result = read_csv_template(TEMPLATE, categories=load_categories(shared_data),
                               known_publics=enumeration(shared_data, "publics"))
    assert not result.rejections
    [record] = result.records
    assert (record.category_code, record.lat, record.lon) == ("463", 45.1428, 4.1237)
    assert record.opening_hours == "Mo-Fr 09:00-12:00,14:00-17:00; PH off"  # quoted ";"
    assert record.services[0].zone_codes == ["244301016"]


def test_csv_template_utf8_bom_comma(shared_data: Path) -> None:
    result = read_csv_template(FIX / "ressources_utf8_bom_virgule.csv",
                               categories=load_categories(shared_data),
                               known_publics=enumeration(shared_data, "publics"))
    assert result.metadata["encoding"] == "utf-8" and result.metadata["separateur"] == ","
    by_id = {r.source_id: r for r in result.records}
    assert list(by_id) == ["cpts-velay", "mdph-43", "gem-puy"]
    cpts = by_id["cpts-velay"]
    assert cpts.source == "saisie-coordination" and cpts.category_code == "604"
    assert cpts.phone == "04 71 00 00 10" and cpts.website == "https://cpts-velay.example"
    assert str(cpts.last_verified) == "2026-10-15"            # JJ/MM/AAAA accepted
    [service] = cpts.services
    assert (service.zone_type, service.zone_codes) == ("epci", ["244300026", "244301016"])
    assert service.publics == ["tous-publics"] and service.fees == "gratuit"
    assert by_id["mdph-43"].services[0].zone_codes == ["43"]   # "Médico-social" accepted
    assert by_id["gem-puy"].category_code == "705"
    reasons = {r.line: r.reason for r in result.rejections}
    assert "secteur « sanitaire » incohérent avec la catégorie 500 (medico-social)" in reasons[4]
    assert "téléphone invalide « 12 34 »" in reasons[5]
    assert "territoire « canton:4310 » invalide" in reasons[6]
    assert "secteur « hopital » inconnu" in reasons[7]
    assert "date de vérification invalide « 2026-13-45 »" in reasons[7]
    assert "identifiant en double dans le fichier (déjà ligne 2)" in reasons[8]


def test_csv_template_windows_1252(shared_data: Path) -> None:
    result = read_csv_template(FIX / "ressources_windows1252.csv",
                               categories=load_categories(shared_data))
    assert result.metadata["encoding"] == "windows-1252"
    [record] = result.records
    assert record.name == "Œuvre d’entraide des Sucs"     # œ and ’ only exist in cp1252
    assert record.address == "2 place de l’Église" and record.commune_code == "43268"
    assert record.category_code == "hors-finess:association"
    assert opening_hours.to_french(record.opening_hours or "") == \
        "mardi, jeudi 14 h–17 h (sur rendez-vous)"
    assert record.services[0].name == "Écoute et entraide – aidants"


def test_csv_template_missing_column(tmp_path: Path, shared_data: Path) -> None:
    path = tmp_path / "r.csv"
    path.write_text("identifiant;nom\nx;y\n", encoding="utf-8")
    with pytest.raises(MaillageError, match="colonne\\(s\\) obligatoire\\(s\\) absente\\(s\\) "
                                            ": categorie"):
        read_csv_template(path, categories=load_categories(shared_data))


@pytest.mark.parametrize(("value", "parsed"), [
    ("", (None, [], None)), ("commune:43157, 43040", ("commune", ["43157", "43040"], None)),
    ("Communes:2a004", ("commune", ["2A004"], None)), ("epci:244301016", ("epci", ["244301016"],
                                                                         None)),
    ("departement:43", ("departement", ["43"], None)), ("département:971",
                                                        ("departement", ["971"], None))])
def test_parse_territory(value: str, parsed: tuple[object, ...]) -> None:
    assert parse_territory(value) == parsed


@pytest.mark.parametrize("value", ["canton:4310", "commune:4315", "epci:24430101", "43157"])
def test_parse_territory_errors(value: str) -> None:
    kind, codes, error = parse_territory(value)
    assert kind is None and codes == [] and error


# --- GISCO hospitals (real file) -------------------------------------------------------

def test_gisco_hospitals_real_file(shared_data: Path) -> None:
    path = shared_data / "health" / "gisco_healthcare_FR_2020_hospitals_43_63.csv"
    result = read_gisco_hospitals(path)
    assert len(result.records) == 71
    assert len({r.source_id for r in result.records}) == 71
    assert all(r.source == "gisco-finess-2020" and r.finess_et == r.source_id
               and len(r.source_id) == 9 for r in result.records)
    assert Counter(r.category_code for r in result.records) == {
        "109": 19, "292": 16, "362": 13, "355": 12, "365": 5, "101": 5, "131": 1}
    assert all(r.commune_code and r.commune_code[:2] == r.source_id[:2]
               for r in result.records)                       # found from the city name
    # One row of the file puts a Clermont-Ferrand day hospital at lon 4.77 (near Lyon).
    [rejection] = result.rejections
    assert rejection.source_id == "630013878" and "hors du département 63" in rejection.reason
    bad = next(r for r in result.records if r.source_id == "630013878")
    assert bad.lat is None and bad.commune_code == "63113"
    assert sum(r.lat is not None for r in result.records) == 70
    puy = next(r for r in result.records if r.source_id == "430000026")
    assert puy.phone == "04 71 07 55 55" and str(puy.last_verified) == "2020-03-06"
    assert puy.commune_code == "43157"
    assert len(read_gisco_hospitals(path, dept="43").records) == 25
    assert len(read_gisco_hospitals(path, dept="63").records) == 46


def test_gisco_labels_match_the_nomenclature(shared_data: Path) -> None:
    with (shared_data / "finess" / "nomenclature_categories.csv").open(encoding="utf-8") as fh:
        labels = {r["categetab"]: r["libcategetab"] for r in csv.DictReader(fh)}
    for label, code in LABEL_TO_CODE.items():
        assert labels[code] == label
