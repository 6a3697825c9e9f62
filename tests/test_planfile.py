"""Reading plan files: encodings, separators, lenient headers, name matching, line numbers."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import geopandas as gpd
import pytest
from shapely.geometry import MultiPolygon, box

from coverage.assign import write_plan_csv
from coverage.plan import Antenna, Plan
from coverage.planfile import read_antennas, read_plan_file
from coverage.territories import plan_from_epci_grouping
from geo.errors import MaillageError
from geo.names import NameIndex, name_key

PLANS = Path(__file__).parent / "fixtures" / "plans"

# Accents in a name (É), in a header (Siège) and a leading article: what encodings break.
ROWS = [
    ("Commune", "Antenne", "Siège"),
    ("Le Puy-en-Velay", "Velay", "Le Puy-en-Velay"),
    ("Saint-Étienne-Lardeyrol", "Velay", "43157"),
    ("Brioude", "Lafayette", "Brioude"),
]


def _ant(plan: Plan, name: str) -> Antenna:
    antenna = plan.antenna(name)
    assert antenna is not None, name
    return antenna


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "cp1252"])
@pytest.mark.parametrize("sep", [";", ","])
def test_encodings_and_separators_give_the_same_plan(tmp_path: Path, communes_43,
                                                     encoding: str, sep: str) -> None:
    path = tmp_path / "plan.csv"
    path.write_bytes("\r\n".join(sep.join(r) for r in ROWS).encode(encoding))
    pf = read_plan_file(path, communes=communes_43, dept="43")
    assert pf.problems == [] and pf.unknown == []
    assert [(a.name, a.seat, a.communes) for a in pf.plan.antennas] == [
        ("Velay", "43157", ["43157", "43181"]), ("Lafayette", "43040", ["43040"])]


def test_name_key_ignores_case_accents_hyphens_apostrophes_article_and_saint() -> None:
    assert name_key("LE PUY EN VELAY") == name_key("Le Puy-en-Velay") == name_key("puy en velay")
    assert name_key("St Julien Chapteuil") == name_key("Saint-Julien-Chapteuil")
    assert name_key("Ste Sigolène") == name_key("SAINTE-SIGOLENE")
    assert name_key("L'Hôpital") == name_key("hopital")
    assert name_key("La Chapelle-d'Aurec") == name_key("CHAPELLE D AUREC")
    # the article is dropped only in front: "Le" alone stays a name
    assert name_key("Le") == "le"
    assert name_key("Saint-Paul") != name_key("Saint-Pal-de-Mons")


def test_haute_loire_has_no_homonyms(communes_43) -> None:
    # Why the ambiguity test below needs a synthetic frame.
    keys = Counter(name_key(n) for n in communes_43["nom"])
    assert [k for k, n in keys.items() if n > 1] == []
    index = NameIndex(zip(communes_43["code"], communes_43["nom"], strict=True))
    assert index.lookup("le puy en velay") == [("43157", "Le Puy-en-Velay")]


def _homonym_frame() -> gpd.GeoDataFrame:
    codes = ["99001", "99002", "99003"]
    return gpd.GeoDataFrame(
        {"code": codes, "nom": ["Saint-Paul", "Saint-Paul", "Lavoûte-sur-Loire"],
         "population": [10, 20, 30], "epci": [None] * 3},
        geometry=[MultiPolygon([box(i * 1000, 0, i * 1000 + 1000, 1000)]) for i in range(3)],
        crs=2154, index=codes)


def test_ambiguous_name_is_an_error_listing_candidates_but_code_resolves(tmp_path: Path) -> None:
    path = tmp_path / "plan.csv"
    path.write_text("commune;antenne\nST PAUL;A\n99002;B\nLAVOUTE SUR LOIRE;A\n",
                    encoding="utf-8")
    pf = read_plan_file(path, communes=_homonym_frame(), dept="99")
    assert [(p.line, "ambigu" in p.message) for p in pf.problems] == [(2, True)]
    assert "99001 Saint-Paul" in pf.problems[0].message
    assert "99002 Saint-Paul" in pf.problems[0].message
    assert pf.unknown == ["ST PAUL"]
    assert pf.plan.claims() == {"99002": ["B"], "99003": ["A"]}


def test_lenient_headers_structure_and_coordinators(communes_43) -> None:
    pf = read_plan_file(PLANS / "plan_sans_siege.csv", communes=communes_43, dept="43")
    velay, lafayette = pf.plan.antenna("Velay"), pf.plan.antenna("Lafayette")
    assert velay is not None and lafayette is not None
    assert velay.structure == "DAC Haute-Loire" and velay.coordinators == 3
    assert lafayette.coordinators is None
    # empty code cell: the name column is used instead
    assert _ant(pf.plan, "Jeune Loire").communes == ["43268"]
    assert [(p.line, "coordinateurs illisible" in p.message) for p in pf.problems] == [(4, True)]
    # no seat anywhere: one warning per antenna
    assert sum("sans siège" in w.message for w in pf.warnings) == 3


def test_seats_from_a_second_file(communes_43) -> None:
    pf = read_plan_file(PLANS / "plan_sans_siege.csv", communes=communes_43, dept="43",
                        antennas_path=PLANS / "antennes_sieges.csv")
    velay = pf.plan.antenna("Velay")
    assert velay is not None
    assert (velay.seat, velay.lat, velay.lon) == ("43157", 45.0434, 3.8855)
    assert _ant(pf.plan, "Lafayette").coordinators == 1.5  # "1,5" with a French comma
    assert _ant(pf.plan, "Jeune Loire").seat == "43268"  # name matched in upper case
    assert any(p.line == 4 and "hors limites" in p.message for p in pf.problems)
    assert any(w.line == 5 and "Fantôme" in w.message and "aucune commune" in w.message
               for w in pf.warnings)
    assert not any("sans siège" in w.message for w in pf.warnings
                   if "Fantôme" not in w.message)


def test_read_antennas_refuses_a_bad_file(communes_43) -> None:
    with pytest.raises(MaillageError, match="antennes_sieges.csv") as info:
        read_antennas(PLANS / "antennes_sieges.csv", communes=communes_43, dept="43")
    assert any("ligne 4" in d for d in info.value.details)


def test_problems_keep_spreadsheet_line_numbers_across_blank_lines(tmp_path: Path,
                                                                   communes_43) -> None:
    path = tmp_path / "plan.csv"
    path.write_text("insee;antenne\n43157;Velay\n\n;;\n63113;Velay\n43040;\n",
                    encoding="utf-8")
    pf = read_plan_file(path, communes=communes_43, dept="43")
    assert [(p.line, m) for p in pf.problems for m in ["absent du département", "antenne vide"]
            if m in p.message] == [(5, "absent du département"), (6, "antenne vide")]


def test_duplicates_unicity_violation_kept_duplicate_line_warned(communes_43) -> None:
    pf = read_plan_file(PLANS / "problems.csv", communes=communes_43, dept="43")
    assert pf.plan.claims()["43040"] == ["Velay", "Lafayette"]
    assert pf.plan.claims()["43268"] == ["Jeune Loire"]
    assert [w.line for w in pf.warnings if "ligne en double" in w.message] == [10]
    assert all(str(p).startswith(f"ligne {p.line} : ") for p in pf.problems)


@pytest.mark.parametrize("content, match", [
    (b"", "vide"),
    (b"\x00\x01\x02binaire", "pas un fichier texte"),
    (b"code;nom\n43157;x\n", "colonnes obligatoires"),
])
def test_unreadable_files_import_nothing(tmp_path: Path, communes_43, content: bytes,
                                         match: str) -> None:
    path = tmp_path / "mauvais.csv"
    path.write_bytes(content)
    with pytest.raises(MaillageError, match=match) as info:
        read_plan_file(path, communes=communes_43, dept="43")
    assert "mauvais.csv" in str(info.value)


def test_missing_and_xls_files_are_named(tmp_path: Path, communes_43) -> None:
    with pytest.raises(MaillageError, match="introuvable"):
        read_plan_file(tmp_path / "absent.csv", communes=communes_43, dept="43")
    old = tmp_path / "vieux.xls"
    old.write_bytes(b"\xd0\xcf\x11\xe0")
    with pytest.raises(MaillageError, match="vieux.xls"):
        read_plan_file(old, communes=communes_43, dept="43")


def test_xlsx_plan(tmp_path: Path, communes_43) -> None:
    from openpyxl import Workbook

    book = Workbook()
    sheet = book.active
    sheet.append(["codgeo", "antenne", "siège", "coordinateurs"])
    sheet.append([43157, "Velay", "LE PUY EN VELAY", 2])
    sheet.append([43999, "Velay", None, None])
    path = tmp_path / "plan.xlsx"
    book.save(path)
    pf = read_plan_file(path, communes=communes_43, dept="43")
    velay = pf.plan.antenna("Velay")
    assert velay is not None and (velay.communes, velay.seat, velay.coordinators) == (
        ["43157"], "43157", 2.0)
    assert [(p.line, "code INSEE inconnu" in p.message) for p in pf.problems] == [(3, True)]


def test_grouping_to_plan_csv_round_trip(tmp_path: Path, shared_data: Path, communes_43) -> None:
    plan = plan_from_epci_grouping(
        shared_data / "territories" / "haute-loire-3-territoires-hypothese.csv",
        communes=communes_43, dept="43", seats=["43157", "43268", "43040"], name="démo")
    assert {a.name: a.seat for a in plan.antennas} == {
        "Velay": "43157", "Jeune Loire": "43268", "Lafayette": "43040"}
    path = tmp_path / "plan.csv"
    write_plan_csv(plan, path, communes=communes_43)
    header = path.read_text(encoding="utf-8-sig").splitlines()[0].split(";")
    assert header[:4] == ["code_insee", "commune", "antenne", "siege"]
    assert "structure" in header
    pf = read_plan_file(path, communes=communes_43, dept="43")
    assert pf.problems == [] and pf.warnings == []
    assert pf.plan.claims() == plan.claims()
    assert len(pf.plan.claims()) == 257
