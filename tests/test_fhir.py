"""FHIR R4 reader: the real FINESS extract (43 + 63, one national archive) and hostile input."""

from __future__ import annotations

import io
import json
import math
import tarfile
from datetime import date
from pathlib import Path

import pytest

from directory.archive import check_tar
from directory.fhir import FhirReader, read_fhir
from directory.names import city_name, display_name, unquote
from directory.records import check_position
from directory.taxonomy import category_codes, load_categories
from geo.errors import MaillageError

FIX = Path(__file__).parent / "fixtures" / "directory"


@pytest.fixture(scope="module")
def real(shared_data: Path) -> Path:
    return shared_data / "finess" / "finess-20210108-fhir-43-63.ndjson"


@pytest.fixture(scope="module")
def known(shared_data: Path) -> frozenset[str]:
    return category_codes(shared_data)


@pytest.fixture(scope="module")
def real_result(real: Path, known: frozenset[str]):
    return read_fhir(real, known_categories=known)


def _lines(path: Path) -> list[str]:
    return path.read_text(encoding="utf-8").splitlines()


# --- the real extract ------------------------------------------------------------------

def test_real_file_counts_per_departement(real_result) -> None:
    records = real_result.records
    assert len(records) == 1446 and real_result.rejections == []
    assert sum(r.postal_code.startswith("43") for r in records) == 437
    assert sum(r.postal_code.startswith("63") for r in records) == 1009
    assert all(r.lat is not None and r.lon is not None for r in records)
    assert len({r.source_id for r in records}) == 1446
    assert real_result.metadata["date"] == "2021-01-08"


def test_progress_reports_both_passes(real: Path, known: frozenset[str]) -> None:
    calls: list[tuple[int, int]] = []
    reader = FhirReader(real, known_categories=known, progress=lambda d, t: calls.append((d, t)))
    assert sum(1 for _ in reader.records()) == 1446
    assert [c for c in calls if c[1] == 0] == [(n, 0) for n in range(1000, 2892, 1000)]
    assert [c for c in calls if c[1]] == [(1000, 2892), (2000, 2892), (2892, 2892)]


def test_real_file_dept_filter(real: Path, known: frozenset[str]) -> None:
    result = read_fhir(real, dept="43", known_categories=known)
    assert len(result.records) == 437
    assert result.metadata["hors_departement"] == "1009"


def test_real_record_fields(real_result) -> None:
    chs = next(r for r in real_result.records if r.source_id == "430000026")
    assert (chs.source, chs.finess_et, chs.finess_ej) == ("finess", "430000026", "630786754")
    assert chs.siret == "77563330800033" and chs.category_code == "292"
    assert chs.name == "CHS SAINTE MARIE LE PUY"                  # the register's name
    assert chs.display_name == "CHS Sainte Marie le Puy"          # for people
    assert chs.phone == "04 71 07 55 55"                          # 0471075555 in the file
    assert chs.address == "50 RTE DE MONTREDON, CS 10021, 43009 LE PUY EN VELAY CEDEX"
    assert chs.commune_name == "Le Puy en Velay"                  # CEDEX dropped
    assert (chs.lat, chs.lon) == pytest.approx((45.0510745, 3.8999752))
    assert chs.source_updated_on == date(2020, 2, 4)              # meta.lastUpdated
    assert chs.last_verified == date(2021, 1, 8)                  # the extract's date
    assert chs.opened_on == date(1901, 1, 1) and chs.closed is False
    # SOURCES.md §10a check: CH Émile Roux in Le Puy-en-Velay.
    roux = next(r for r in real_result.records if r.source_id == "430000117")
    assert (roux.lat, roux.lon) == pytest.approx((45.0433, 3.8840), abs=1e-3)


def test_real_csv_escaped_quotes_repaired(real: Path, real_result) -> None:
    raw = next(line for line in _lines(real) if "MARC ROCHER" in line)
    assert '\\"EHPAD \\"\\"MARC ROCHER\\"\\"\\"' in raw           # the quirk is in the file
    rocher = next(r for r in real_result.records if "MARC ROCHER" in r.name)
    assert rocher.name == "EHPAD « MARC ROCHER »"
    assert rocher.display_name == "EHPAD « Marc Rocher »"
    assert not any('"' in r.name or '"' in (r.display_name or "") for r in real_result.records)


def test_real_abbreviations_readable(real_result) -> None:
    names = {r.name: r.display_name for r in real_result.records}
    assert names["MAIS. DE RETRAITE ST MAURICE DE LIGNON"] == \
        "Maison de Retraite Saint Maurice de Lignon"
    ctre = next(n for n in names if n.startswith("CTRE DE CONSULTATIONS"))
    assert names[ctre] == "Centre de Consultations « Emile Roux »"
    hop = next(n for n in names if n.startswith("HOP "))
    assert names[hop].startswith("Hôpital ")
    assert names["CLINIQUE PSYCHIATRIQUE DE L AUZON"] == "Clinique Psychiatrique de l'Auzon"


def test_every_category_of_the_file_has_a_sector(real: Path, shared_data: Path) -> None:
    sectors = {c.code: c.sector for c in load_categories(shared_data)}
    codes = set()
    for line in _lines(real):
        resource = json.loads(line)
        for concept in resource.get("type", []):
            codes |= {c["code"] for c in concept["coding"] if c["system"].endswith("CAT_ETAB")}
    assert len(codes) == 97
    assert {c: sectors.get(c) for c in codes if sectors.get(c) is None} == {}


def test_national_archive_streams(shared_data: Path, known: frozenset[str]) -> None:
    archive = shared_data / "finess" / "fhir-20210108-france" / "etab0-10000.tar.gz"
    assert check_tar(archive) == ["etab0-10000.ndjson"]
    reader = FhirReader(archive, dept="43", known_categories=known)
    records = list(reader.records())
    organizations = int(reader.metadata["organisations"]) + int(reader.metadata["hors_departement"])
    rejected_orgs = [r for r in reader.rejections if "catégorie FINESS inconnue" in r.reason]
    assert organizations + len(rejected_orgs) == int(reader.metadata["ressources"]) // 2
    assert all(r.finess_et.startswith("43") for r in records)
    assert reader.extract_date is None            # no date in the archive name


def test_folder_and_bundle_give_the_same_records(real: Path, tmp_path: Path,
                                                 known: frozenset[str], real_result) -> None:
    lines = _lines(real)
    folder = tmp_path / "finess-20210108"
    folder.mkdir()
    (folder / "a.ndjson").write_text("\n".join(lines[:1000]) + "\n", encoding="utf-8")
    (folder / "b.ndjson").write_text("\n".join(lines[1000:]) + "\n", encoding="utf-8")
    from_folder = read_fhir(folder, known_categories=known)
    assert from_folder.records == real_result.records and from_folder.rejections == []
    bundle = {"resourceType": "Bundle", "type": "searchset",
              "meta": {"lastUpdated": "2021-01-08T04:27:00+01:00"},
              "entry": [{"fullUrl": "x", "resource": json.loads(line)} for line in lines[:40]]}
    path = tmp_path / "annuaire.json"
    path.write_text(json.dumps(bundle), encoding="utf-8")
    from_bundle = read_fhir(path, known_categories=known)
    assert from_bundle.records == real_result.records[:20]


# --- hostile input ---------------------------------------------------------------------

def _org(finess: str, *, name: str = "EHPAD TEST", category: str = "500",
         postal: str = "43000", updated: str = "2020-01-01T00:00:00+00:00",
         identifier: bool = True) -> dict:
    org = {"resourceType": "Organization", "id": f"430000018-{finess}",
           "meta": {"lastUpdated": updated}, "active": True, "name": name,
           "address": [{"line": ["1 R DU TEST"], "postalCode": postal,
                        "city": "LE PUY EN VELAY CEDEX"}],
           "telecom": [{"system": "phone", "value": "0471000000"}],
           "type": [{"coding": [{"system": "http://finess.sante.gouv.fr/valuesets/CAT_ETAB",
                                 "code": category, "display": "x"}]}]}
    if identifier:
        org["identifier"] = [{"system": "urn:oid:1.2.250.1.71.4.2.2", "value": finess}]
    return org


def _loc(finess: str, lat: object = 45.04, lon: object = 3.88, **extra: object) -> dict:
    return {"resourceType": "Location", "id": f"430000018-{finess}-loc",
            "managingOrganization": {"reference": f"Organization/430000018-{finess}"},
            "position": {"latitude": lat, "longitude": lon}, **extra}


def _write(path: Path, items: list) -> Path:
    path.write_text("\n".join(i if isinstance(i, str) else json.dumps(i) for i in items) + "\n",
                    encoding="utf-8")
    return path


def test_hostile_ndjson_rejections_and_the_rest_imports(tmp_path: Path,
                                                        known: frozenset[str]) -> None:
    hours = [{"daysOfWeek": ["mon", "tue", "wed", "thu", "fri"], "openingTime": "09:00:00",
              "closingTime": "12:00:00"},
             {"daysOfWeek": ["mon", "tue", "wed", "thu", "fri"], "openingTime": "14:00:00",
              "closingTime": "17:00:00"}]
    items = [
        _org("430100019"), _loc("430100019", hoursOfOperation=hours),         # 1-2 good
        "{not json",                                                          # 3
        {"resourceType": "Patient", "id": "p1"},                              # 4
        _org("430100027", identifier=False),                                  # 5
        _loc("439999999"),                                                    # 6 orphan
        _org("430100035"), _loc("430100035", lat=0.0, lon=0.0),               # 7-8 outside
        _org("430100043", category="999"),                                    # 9
        _org("430100019"),                                                    # 10 duplicate
        _org("430100050", name="X" * 400),                                    # 11 too long
        _org("430100068", updated="9999-12-31T00:00:00+00:00"),               # 12 absurd
        '{"resourceType": "Location", "id": "nan", "managingOrganization": '
        '{"reference": "Organization/430000018-430100076"}, "position": '
        '{"latitude": NaN, "longitude": Infinity}}',                          # 13
        _org("430100076"),                                                    # 14
        "[1, 2]",                                                             # 15
        {"resourceType": "HealthcareService", "id": "hs1", "name": "Equipe mobile",
         "providedBy": {"reference": "Organization/430000018-430100019"},
         "coverageArea": [{"display": "43157"}, {"identifier": {"value": "43040"}}],
         "availableTime": [{"daysOfWeek": ["sat"], "allDay": True}]},          # 16
    ]
    result = read_fhir(_write(tmp_path / "hostile.ndjson", items), known_categories=known)
    reasons = {r.line: r.reason for r in result.rejections}
    assert "n'est pas du JSON" in reasons[3]
    assert "type de ressource inconnu « Patient »" in reasons[4]
    assert "sans identifiant" in reasons[5]
    assert "organisation absente du fichier" in reasons[6]
    assert "hors de France" in reasons[8] and "gardé" in reasons[8]
    assert "catégorie FINESS inconnue « 999 »" in reasons[9]
    assert "en double (déjà ligne 1)" in reasons[10]
    assert "trop long (400 caractères, 300 au plus)" in reasons[11]
    assert "impossible « 9999-12-31 » (date future)" in reasons[12]
    assert "non finies" in reasons[13]
    assert "pas un objet JSON" in reasons[15]
    assert set(reasons) == {3, 4, 5, 6, 8, 9, 10, 11, 12, 13, 15}
    by_id = {r.source_id: r for r in result.records}
    assert list(by_id) == ["430100019", "430100035", "430100076"]
    good = by_id["430100019"]
    assert good.opening_hours == "Mo-Fr 09:00-12:00,14:00-17:00"
    assert good.services[0].zone_codes == ["43157", "43040"]
    assert good.services[0].zone_type == "commune"
    assert good.services[0].opening_hours == "Sa 00:00-24:00"
    assert by_id["430100035"].lat is None and by_id["430100076"].lat is None  # placed later
    assert all(isinstance(r.reason, str) and r.reason for r in result.rejections)


def test_ror_style_bundle_with_zone_intervention(tmp_path: Path, known: frozenset[str]) -> None:
    ext = [{"url": "https://interop.esante.gouv.fr/ig/fhir/ror/StructureDefinition/"
                   "ror-healthcareservice-zone-intervention",
            "extension": [{"url": "zoneInterventionType", "valueCode": "COM"},
                          {"url": "zoneInterventionCode",
                           "valueCodeableConcept": {"coding": [{"code": "43040"},
                                                               {"code": "43157"}]}}]},
           {"url": "https://example.org/other", "valueCode": "43268"}]   # not a zone
    service = {"resourceType": "HealthcareService", "id": "hs-ror",
               "providedBy": {"reference": "Organization/430000018-430100019"},
               "name": "Consultations mémoire", "extension": ext,
               "type": [{"coding": [{"code": "x", "display": "Consultation"}]}]}
    bundle = {"resourceType": "Bundle", "type": "collection",
              "timestamp": "2024-05-02T10:00:00+02:00",
              "entry": [{"resource": _org("430100019")}, {"resource": _loc("430100019")},
                        {"resource": service}]}
    path = tmp_path / "ror.json"
    path.write_text(json.dumps(bundle), encoding="utf-8")
    result = read_fhir(path, known_categories=known, source="ror")
    assert result.rejections == []
    (record,) = result.records
    assert record.source == "ror" and record.last_verified == date(2024, 5, 2)
    (svc,) = record.services
    assert svc.name == "Consultations mémoire" and svc.types == ["Consultation"]
    assert svc.zone_codes == ["43040", "43157"] and svc.zone_type == "commune"


def test_file_that_is_not_fhir_is_refused(tmp_path: Path, known: frozenset[str]) -> None:
    path = tmp_path / "x.ndjson"
    path.write_bytes(b"\x00\xff garbage\nnot json either\n")
    with pytest.raises(MaillageError, match="aucune ressource FHIR lisible"):
        read_fhir(path, known_categories=known)
    bad = tmp_path / "bundle.json"
    bad.write_text('{"resourceType": "Bundle", "entry": [', encoding="utf-8")
    with pytest.raises(MaillageError, match="pas un document JSON lisible"):
        read_fhir(bad, known_categories=known)
    other = tmp_path / "x.txt"
    other.write_text("{}", encoding="utf-8")
    with pytest.raises(MaillageError, match="format non reconnu"):
        read_fhir(other, known_categories=known)
    with pytest.raises(MaillageError, match="introuvable"):
        read_fhir(tmp_path / "absent.ndjson", known_categories=known)


def test_giant_and_deeply_nested_lines(tmp_path: Path, known: frozenset[str],
                                       monkeypatch) -> None:
    import directory.fhir as fhir

    monkeypatch.setattr(fhir, "MAX_LINE_BYTES", 500_000)
    items = [json.dumps(_org("430100019")), json.dumps(_loc("430100019")),
             '{"resourceType": "Organization", "name": "' + "x" * 600_000 + '"}',
             "[" * 100_000 + "]" * 100_000, json.dumps(_org("430100027"))]
    path = tmp_path / "geant.ndjson"
    path.write_text("\n".join(items) + "\n", encoding="utf-8")
    result = read_fhir(path, known_categories=known)
    reasons = {r.line: r.reason for r in result.rejections}
    assert reasons[3].startswith("ligne de plus de") and reasons[3].endswith("ignorée")
    assert "imbrication" in reasons[4]
    assert [r.source_id for r in result.records] == ["430100019", "430100027"]


def _tar(path: Path, members: list[tuple[tarfile.TarInfo, bytes | None]]) -> Path:
    with tarfile.open(path, "w:gz") as tar:
        for info, data in members:
            tar.addfile(info, io.BytesIO(data) if data is not None else None)
    return path


def test_tar_with_path_outside_is_refused(tmp_path: Path, known: frozenset[str]) -> None:
    data = json.dumps(_org("430100019")).encode() + b"\n"
    info = tarfile.TarInfo("../../evil.ndjson")
    info.size = len(data)
    path = _tar(tmp_path / "evil.tar.gz", [(info, data)])
    with pytest.raises(MaillageError, match="sort de l'archive"):
        read_fhir(path, known_categories=known)
    absolute = tarfile.TarInfo("/etc/evil.ndjson")
    absolute.size = len(data)
    with pytest.raises(MaillageError, match="sort de l'archive"):
        check_tar(_tar(tmp_path / "abs.tar.gz", [(absolute, data)]))
    link = tarfile.TarInfo("link.ndjson")
    link.type, link.linkname = tarfile.SYMTYPE, "/etc/passwd"
    with pytest.raises(MaillageError, match="lien ou fichier spécial"):
        check_tar(_tar(tmp_path / "link.tar.gz", [(link, None)]))
    assert not (tmp_path.parent / "evil.ndjson").exists()


def test_decompression_bomb_is_refused(tmp_path: Path, known: frozenset[str]) -> None:
    data = b"\n" * (8 * 1024 * 1024)      # 8 MiB of newlines: about 8 KiB compressed
    info = tarfile.TarInfo("bomb.ndjson")
    info.size = len(data)
    path = _tar(tmp_path / "bomb.tar.gz", [(info, data)])
    with pytest.raises(MaillageError, match="bombe de décompression"):
        read_fhir(path, known_categories=known)
    small = tarfile.TarInfo("a.ndjson")
    payload = json.dumps(_org("430100019")).encode()
    small.size = len(payload)
    many = _tar(tmp_path / "many.tar.gz", [(small, payload)] * 3)
    with pytest.raises(MaillageError, match="plus de 2 fichiers"):
        check_tar(many, max_members=2)


# --- shared checks and names -----------------------------------------------------------

@pytest.mark.parametrize(("lat", "lon", "expected"), [
    (45.04, 3.88, None), (42.7, 9.45, None),              # Le Puy, Corsica (Bastia)
    (16.24, -61.53, None), (-21.1, 55.5, None),           # Guadeloupe, La Réunion
    (4.93, -52.33, None), (-12.78, 45.23, None),          # Guyane, Mayotte
    (0.0, 0.0, "hors de France"), (3.88, 45.04, "hors de France"),   # swapped
    (95.0, 3.0, "hors limites"), (45.0, 200.0, "hors limites"),
    (math.nan, 3.0, "non finies"), (45.0, math.inf, "non finies"),
    ("45", 3.0, "non numériques"), (True, 3.0, "non numériques"), (None, None, "non numériques"),
    (10 ** 400, 3.0, "démesuré"),
])
def test_check_position(lat: object, lon: object, expected: str | None) -> None:
    problem = check_position(lat, lon)
    assert problem is None if expected is None else expected in (problem or "")


def test_names() -> None:
    assert unquote('"EHPAD ""MARC ROCHER"""') == "EHPAD « MARC ROCHER »"
    assert unquote('"FOYER HEBGT TEMP.""LES BERGES FLEURIES"""') == \
        "FOYER HEBGT TEMP. « LES BERGES FLEURIES »"
    assert unquote('PHARMACIE  REGIONALE') == "PHARMACIE REGIONALE"
    assert display_name("SERV. DPF LE PUY - UDAF 43") == "Service DPF le Puy - UDAF 43"
    assert display_name("A.E.M.O.(A.S.E.A.A.H.I.)") == "A.E.M.O.(A.S.E.A.A.H.I.)"
    assert display_name("MSP D'ALLEGRE") == "MSP d'Allegre"
    assert display_name("Centre social du Puy") == "Centre social du Puy"   # already mixed
    assert city_name("CLERMONT FERRAND CEDEX 1") == "Clermont Ferrand"


WEIRD = [None, 1, 2.5, "x", [], {}, [1], ["x"], {"a": 1}, [{"a": 1}], True, [None]]


def test_wrong_json_types_never_raise(tmp_path: Path, known: frozenset[str]) -> None:
    """Each field of an Organization, a Location and a HealthcareService replaced by a
    value of the wrong type: rejected or ignored, never an exception."""
    service = {"resourceType": "HealthcareService", "id": "hs",
               "providedBy": {"reference": "Organization/430000018-430100019"},
               "name": "S", "coverageArea": [{"display": "43157"}],
               "availableTime": [{"daysOfWeek": ["mon"], "allDay": True}],
               "extension": [{"url": "zoneIntervention", "valueCode": "43"}]}
    bases = [_org("430100019"), _loc("430100019"), service]
    items: list = []
    for base in bases:
        for key in base:
            if key == "resourceType":
                continue
            for value in WEIRD:
                items += [_org("430100019"), dict(base, **{key: value})]
        items.append(dict(base, position={"latitude": [], "longitude": {}}))
        items.append(dict(base, address=[{"line": "R DU TEST", "postalCode": 43000}]))
        items.append(dict(base, meta="x", extension=[{"url": "organization-period",
                                                      "valuePeriod": "1990"}]))
    path = tmp_path / "types.ndjson"
    path.write_text("\n".join(json.dumps(i) for i in items) + "\n", encoding="utf-8")
    result = read_fhir(path, known_categories=known)
    assert result.records and all(isinstance(r.reason, str) for r in result.rejections)
    assert all(isinstance(r.name, str) and len(r.name) <= 300 for r in result.records)
