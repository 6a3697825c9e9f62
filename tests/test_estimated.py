"""Estimated mode: straight line × detour ÷ speed, its label and its discs."""

from __future__ import annotations

import numpy as np
import pytest
import shapely

from geo.errors import MaillageError
from geo.estimated import (
    ESTIMATED_LABEL,
    estimated_isochrone,
    estimated_matrix,
    estimated_minutes,
    estimated_radius_m,
)
from geo.isochrones import estimated_isochrones
from geo.traveltime import MODE_LABELS


def test_ten_km_straight_is_thirteen_minutes() -> None:
    m = estimated_matrix(np.array([[0.0, 0.0]]), np.array([[10_000.0, 0.0], [0.0, 30_000.0],
                                                          [6_000.0, 8_000.0]]))
    np.testing.assert_allclose(m.minutes, [[13.0, 39.0, 13.0]])  # 10 × 1.3 / 60 h
    assert m.mode == "estimated" and m.parameters == {"detour": 1.3, "speed_kmh": 60.0}
    assert m.label == ESTIMATED_LABEL == MODE_LABELS["estimated"] == "temps estimés à vol d'oiseau"
    np.testing.assert_array_equal(m.destination_snap_m, np.zeros(3))
    assert len(m.far_from_road()) == 0


def test_settings_change_the_times() -> None:
    m = estimated_matrix([[0.0, 0.0]], [[10_000.0, 0.0]], detour=1.5, speed_kmh=45.0)
    assert m.minutes[0, 0] == pytest.approx(20.0)  # 10 × 1.5 / 45 h
    assert estimated_minutes(45_000.0, detour=1.0, speed_kmh=90.0) == pytest.approx(30.0)
    assert m.minutes.shape == (1, 1)
    assert estimated_matrix(np.zeros((0, 2)), np.zeros((3, 2))).minutes.shape == (0, 3)


@pytest.mark.parametrize("kwargs", [{"detour": 0.9}, {"speed_kmh": 0.0},
                                    {"speed_kmh": float("nan")}])
def test_invalid_settings_raise_a_french_error(kwargs: dict[str, float]) -> None:
    with pytest.raises(MaillageError, match="invalide"):
        estimated_matrix([[0.0, 0.0]], [[1.0, 1.0]], **kwargs)


def test_estimated_isochrones_are_discs_of_speed_times_t_over_detour() -> None:
    assert estimated_radius_m(13.0) == pytest.approx(10_000.0)
    disc = estimated_isochrone(0.0, 0.0, minutes=13.0)
    assert disc.contains(shapely.Point(9_990, 0)) and not disc.contains(shapely.Point(10_010, 0))
    iso = estimated_isochrones({"A": (0.0, 0.0), "B": (50_000.0, 0.0)}, thresholds=[30.0, 15.0])
    assert list(iso["minutes"]) == [15.0, 30.0, 15.0, 30.0]
    assert iso.crs.to_epsg() == 2154
    # A point at exactly t minutes by the estimated matrix lies on the disc of t.
    t = estimated_matrix([[0.0, 0.0]], [[12_000.0, 5_000.0]]).minutes[0, 0]
    edge = estimated_isochrone(0.0, 0.0, minutes=t)
    assert edge.boundary.distance(shapely.Point(12_000.0, 5_000.0)) < 10.0
