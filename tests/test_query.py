"""Query understanding on the real communes of 43 and 63 (COG 2026)."""

from __future__ import annotations

from pathlib import Path

import pytest

from directory.query import Commune, CommuneMatcher, understand


@pytest.fixture(scope="module")
def matcher(shared_data: Path) -> CommuneMatcher:
    from geo.communes import frame_from_source, read_communes_source

    communes = []
    for dept in ("43", "63"):
        frame = frame_from_source(read_communes_source(shared_data / "communes", dept=dept))
        communes += [Commune(code=str(code), name=str(row["nom"]),
                             population=int(row["population"]))
                     for code, row in frame.iterrows()]
    return CommuneMatcher(communes)


@pytest.mark.parametrize(("query", "text", "code"), [
    ("ehpad brioude", "ehpad", "43040"),
    ("cmp clermont", "cmp", "63113"),
    ("maison de retraite le puy", "maison de retraite", "43157"),
    ("hopital de jour brioude", "hopital de jour", "43040"),
    ("ehpad ysingeaux", "ehpad", "43268"),
    ("EHPAD Le Puy-en-Velay", "EHPAD", "43157"),
    ("Brioude ehpad", "ehpad", "43040"),
    ("ssiad st paulien", "ssiad", "43216"),
    ("brioude", "", "43040"),
])
def test_place_is_found_in_the_query(matcher, query: str, text: str, code: str) -> None:
    understood = understand(query, matcher)
    assert understood.place is not None, query
    assert understood.place.code == code
    assert understood.text == text


@pytest.mark.parametrize("query", ["centre de sante", "hopital", "maison de sante",
                                   "soins infirmiers a domicile", "aide a domicile", "ehpad",
                                   "centre medico psychologique", ""])
def test_vocabulary_is_never_a_place(matcher, query: str) -> None:
    understood = understand(query, matcher)
    assert understood.place is None, (query, understood)
    assert understood.text == query
