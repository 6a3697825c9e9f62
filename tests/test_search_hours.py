"""Opening hours: French public holidays, open at / on, French input turned into OSM."""

from __future__ import annotations

from datetime import date, datetime

import pytest

from directory.opening_hours import (
    OpeningHoursError,
    day_spans,
    easter,
    from_french,
    open_at,
    open_on,
    public_holidays,
    to_french,
)


@pytest.mark.parametrize(("year", "sunday"), [
    (2021, date(2021, 4, 4)), (2024, date(2024, 3, 31)), (2025, date(2025, 4, 20)),
    (2026, date(2026, 4, 5)), (2038, date(2038, 4, 25)), (2000, date(2000, 4, 23)),
])
def test_easter(year: int, sunday: date) -> None:
    assert easter(year) == sunday


def test_french_public_holidays_2026() -> None:
    days = public_holidays(2026)
    assert len(days) == 11
    assert days[date(2026, 4, 6)] == "lundi de Pâques"
    assert days[date(2026, 5, 14)] == "Ascension"
    assert days[date(2026, 5, 25)] == "lundi de Pentecôte"
    assert date(2026, 11, 11) in days and date(2026, 11, 12) not in days


HOURS = "Mo-Fr 09:00-12:00,14:00-17:00; Sa 09:00-12:00; PH off"


@pytest.mark.parametrize(("moment", "expected"), [
    (datetime(2026, 11, 23, 9, 0), True),      # Monday, opening minute
    (datetime(2026, 11, 23, 12, 0), False),    # closing minute is closed
    (datetime(2026, 11, 23, 13, 0), False),    # lunch
    (datetime(2026, 11, 28, 10, 0), True),     # Saturday
    (datetime(2026, 11, 29, 10, 0), False),    # Sunday: no rule, closed
    (datetime(2026, 11, 11, 10, 0), False),    # Wednesday 11 November: PH off
    (datetime(2026, 5, 25, 10, 0), False),     # Whit Monday
])
def test_open_at(moment: datetime, expected: bool) -> None:
    assert open_at(HOURS, moment) is expected


def test_holiday_without_ph_rule_keeps_weekday_hours_and_ph_hours_replace_them() -> None:
    assert open_at("Mo-Fr 09:00-17:00", datetime(2026, 11, 11, 10, 0)) is True
    assert open_at("Mo-Fr 09:00-17:00; PH 10:00-12:00", datetime(2026, 11, 11, 9, 30)) is False
    assert open_at("Mo-Fr 09:00-17:00; PH 10:00-12:00", datetime(2026, 11, 11, 11, 0)) is True


def test_unknown_is_neither_open_nor_closed() -> None:
    assert open_at('Mo-Fr "sur rendez-vous"', datetime(2026, 11, 23, 10, 0)) is None
    assert open_on("pas des horaires", date(2026, 11, 23)) is None
    assert open_at("24/7", datetime(2026, 12, 25, 3, 0)) is True
    assert open_on("off", date(2026, 11, 23)) is False
    assert day_spans("Sa-Mo 10:00-11:00", date(2026, 11, 29)) == ((600, 660),)  # wraps


@pytest.mark.parametrize(("french", "osm"), [
    ("lundi-vendredi 9h-12h, 14h-17h", "Mo-Fr 09:00-12:00,14:00-17:00"),
    ("du lundi au vendredi de 9h à 17h", "Mo-Fr 09:00-17:00"),
    ("Lundi – Vendredi : 8h30-17h", "Mo-Fr 08:30-17:00"),
    ("lun, mer 8h-12h ; samedi 9h30-12h", "Mo,We 08:00-12:00; Sa 09:30-12:00"),
    ("lundi-vendredi 9h-12h; jours fériés fermé", "Mo-Fr 09:00-12:00; PH off"),
    ("24h/24", "24/7"),
    ("Mo-Fr 09:00-12:00", "Mo-Fr 09:00-12:00"),
])
def test_french_input_becomes_osm_and_reads_back_in_french(french: str, osm: str) -> None:
    assert from_french(french) == osm
    assert to_french(osm)  # valid
    assert to_french(from_french("lundi-vendredi 9h-12h, 14h-17h")) == \
        "lundi–vendredi 9 h–12 h, 14 h–17 h"


@pytest.mark.parametrize(("bad", "words"), [
    ("n'importe quoi", "non reconnu"), ("lundi 25h-26h", "heure impossible"),
    ("lundi", "horaires manquants"), ("lundi 14h-9h", "la fin précède le début"),
])
def test_french_input_errors_are_french(bad: str, words: str) -> None:
    with pytest.raises(OpeningHoursError, match=words):
        from_french(bad)
