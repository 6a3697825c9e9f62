"""Outputs: Annex 1 (CSV/XLSX), the offline map and the French report."""

from __future__ import annotations

import re
from pathlib import Path

import folium
import pandas as pd
import pytest

from coverage.annex import annex_table, write_annex
from coverage.checks import check_plan
from coverage.mapping import build_map, save_map
from coverage.plan import Antenna, Plan
from coverage.report import write_report
from coverage.territories import plan_from_epci_grouping

NASTY = "Velay </script><script>alert(1)</script> `${alert(2)}`"
CDN = re.compile(r"<(?:script|link)[^>]*(?:src|href)=[\"']?(?:https?:)?//", re.I)


def _ant(plan: Plan, name: str) -> Antenna:
    antenna = plan.antenna(name)
    assert antenna is not None, name
    return antenna


def _demo(shared_data: Path, communes) -> Plan:
    return plan_from_epci_grouping(
        shared_data / "territories" / "haute-loire-3-territoires-hypothese.csv",
        communes=communes, dept="43", seats=["43157", "43268", "43040"], name="Hypothèse 3")


@pytest.fixture(scope="module")
def written(tmp_path_factory: pytest.TempPathFactory, shared_data: Path, communes_43):
    plan = _demo(shared_data, communes_43)
    _ant(plan, "Velay").name = NASTY  # antenna names come from user files
    check = check_plan(plan, communes_43)
    out = tmp_path_factory.mktemp("rapport")
    paths = write_report(out, plan=plan, communes=communes_43, check=check,
                         notes=["Le découpage est une hypothèse de travail."],
                         communes_source="communes-43.geojson")
    return paths


def test_writes_the_four_files(written) -> None:
    assert {k: p.name for k, p in written.items()} == {
        "annex_csv": "annexe1.csv", "annex_xlsx": "annexe1.xlsx", "map": "carte.html",
        "report": "rapport.html"}


def test_annex_csv_has_257_rows_and_accents(written) -> None:
    raw = written["annex_csv"].read_bytes()
    assert raw[:3] == b"\xef\xbb\xbf"
    table = pd.read_csv(written["annex_csv"], sep=";", encoding="utf-8-sig", dtype=str)
    assert len(table) == 257 and table["code_insee"].is_unique
    assert list(table.columns[:7]) == ["code_insee", "commune", "population", "code_epci",
                                      "epci", "antenne", "dac"]
    row = table.set_index("code_insee").loc["43181"]
    assert row["commune"] == "Saint-Étienne-Lardeyrol" and row["antenne"] == NASTY
    assert table["population"].astype(int).sum() == 228_654
    assert set(table["statut"]) == {"couverte"}
    xlsx = pd.read_excel(written["annex_xlsx"], dtype=str)
    assert len(xlsx) == 257 and "Saint-Étienne-Lardeyrol" in set(xlsx["commune"])


def test_annex_lists_duplicates_once_per_antenna_and_uncovered_empty(
        tmp_path: Path, shared_data: Path, communes_43) -> None:
    plan = _demo(shared_data, communes_43)
    _ant(plan, "Velay").communes.remove("43002")
    _ant(plan, "Velay").communes.append("43268")
    table = annex_table(plan, communes_43, check_plan(plan, communes_43))
    # every commune once, the uncovered one included, plus one row for the second claim
    assert len(table) == 258 and table["code_insee"].nunique() == 257
    assert table.loc[table.code_insee == "43002", ["antenne", "statut"]].values.tolist() == [
        ["", "non couverte"]]
    dup = table[table.code_insee == "43268"]
    assert sorted(dup["antenne"]) == ["Jeune Loire", "Velay"]
    assert set(dup["statut"]) == {"doublon"}
    paths = write_annex(table, tmp_path)
    back = pd.read_csv(paths["annex_csv"], sep=";", encoding="utf-8-sig", dtype=str,
                       keep_default_na=False)
    assert (back.code_insee == "43268").sum() == 2
    assert back.loc[back.code_insee == "43002", "antenne"].tolist() == [""]


def test_report_key_figures_and_escaping(written) -> None:
    html = written["report"].read_text(encoding="utf-8")
    assert "257/257" in html and "228\u202f654" in html
    assert "Le découpage est une hypothèse de travail." in html
    assert "Jeune Loire" in html and "Lafayette" in html
    assert "Velay &lt;/script&gt;" in html and "<script>alert" not in html
    assert "@page" in html and "<script" not in html  # prints without any script
    assert "communes-43.geojson" in html
    assert "file active cible du DAC : 1\u202f000 patients par an" in html  # parameters
    assert "Code officiel géographique" in html  # the communes vintage
    # The plan map (SVG) comes before the first section, so it prints on page 1.
    assert html.index('<figure class="map-figure" id="carte"><svg') < html.index(
        "<h2>Couverture et unicité</h2>")
    assert "Velay &lt;/script&gt;" in html.split('id="carte"')[1].split("</svg>")[0]


def test_map_offline_small_and_escaped(written) -> None:
    path = written["map"]
    html = path.read_text(encoding="utf-8")
    size = path.stat().st_size
    assert size < 1_500_000, size
    assert '<script src="http' not in html and not CDN.search(html)
    assert "L.map(" in html and "Leaflet" in html  # Leaflet inlined
    assert "Saint-\u00c9tienne-Lardeyrol" in html or "Saint-\\u00c9tienne-Lardeyrol" in html
    assert "Jeune Loire" in html and "Lafayette" in html
    assert "<script>alert" not in html and "${alert" not in html
    assert "Velay &lt;/script&gt;" in html  # legend


def test_map_highlights_problems_and_takes_extra_layers(tmp_path: Path, shared_data: Path,
                                                        communes_43) -> None:
    plan = _demo(shared_data, communes_43)
    _ant(plan, "Velay").communes.remove("43002")
    _ant(plan, "Velay").communes.append("43268")
    extra = folium.FeatureGroup(name="Isochrones de test")
    m = build_map(plan, communes_43, check_plan(plan, communes_43), extra_layers=[extra])
    html = save_map(m, tmp_path / "carte.html").read_text(encoding="utf-8")
    assert "Isochrones de test" in html
    assert "Commune non couverte (1)" in html and "Commune couverte plusieurs fois (1)" in html
    assert html.count('"status": "uncovered"') == 1
    assert html.count('"status": "duplicate"') == 1
