"""French wording helpers: elision, contraction, plurals, dates."""

from __future__ import annotations

from datetime import date

import pytest

from geo.fmt import a, de, fr_date, plural


@pytest.mark.parametrize(("name", "expected"), [
    ("Le Puy-en-Velay", "du Puy-en-Velay"), ("Les Estables", "des Estables"),
    ("La Chaise-Dieu", "de La Chaise-Dieu"), ("L'Hôpital-sous-Rochefort", "de L'Hôpital-sous-Rochefort"),
    ("Yssingeaux", "d'Yssingeaux"), ("Aurec-sur-Loire", "d'Aurec-sur-Loire"),
    ("Brioude", "de Brioude"), ("Issoire", "d'Issoire"), ("Haute-Rivoire", "de Haute-Rivoire"),
])
def test_de(name: str, expected: str) -> None:
    assert de(name) == expected


def test_a_plural_and_dates() -> None:
    assert a("Le Puy-en-Velay") == "au Puy-en-Velay" and a("Brioude") == "à Brioude"
    assert a("Les Estables") == "aux Estables"
    assert plural(1, "antenne") == "1 antenne" and plural(3, "antenne") == "3 antennes"
    assert plural(0, "commune") == "0 commune"
    assert plural(1200, "habitant") == "1\u202f200 habitants"
    assert fr_date(date(2026, 11, 23)) == "23 novembre 2026"
    assert fr_date(date(2021, 1, 1)) == "1er janvier 2021"
