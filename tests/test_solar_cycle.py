"""The solar cycle table, Hale's law and the cycle frame the models use."""

import astropy.units as u
import numpy as np
import pytest

from sunpy_magnetogan.grid import ModelGrid
from sunpy_magnetogan.solar_cycle import CYCLE_MINIMA, SolarCycle, cycle_frame


@pytest.mark.parametrize(
    ("before", "after", "number"),
    [
        # The published minima (13-month smoothed sunspot number, WDC-SILSO).
        ("1976-01-15", "1976-05-15", 21),
        ("1986-07-15", "1986-11-15", 22),
        ("1996-06-15", "1996-10-15", 23),
        ("2008-10-15", "2009-02-15", 24),
        ("2019-10-15", "2020-02-15", 25),
    ],
)
def test_cycles_start_at_the_published_minima(before, after, number):
    cycle = SolarCycle()
    assert cycle.cycle_number(before) == number - 1
    assert cycle.cycle_number(after) == number


def test_cycle_table_matches_the_published_minima():
    published = {21: 1976.2, 22: 1986.7, 23: 1996.6, 24: 2008.9, 25: 2019.9}
    for number, year in published.items():
        assert CYCLE_MINIMA[number] == pytest.approx(year, abs=0.05)


def test_hale_parity():
    # Odd cycles: positive leading polarity in the north; even cycles: negative.
    assert SolarCycle.north_leading_sign(23) == 1
    assert SolarCycle.north_leading_sign(24) == -1
    assert SolarCycle.north_leading_sign(25) == 1


def test_frame_sign_follows_the_cycle_of_the_date():
    latitudes = np.linspace(-60, 60, 25) * u.deg
    assert np.all(cycle_frame(latitudes, "2014-06-01").sign == 1)  # cycle 24, even
    assert np.all(cycle_frame(latitudes, "2023-06-01").sign == -1)  # cycle 25, odd
    assert np.all(cycle_frame(latitudes, "2003-06-01").sign == -1)  # cycle 23, odd
    assert np.all(cycle_frame(latitudes, "2023-06-01").probability > 0.99)


def test_old_and_new_cycles_coexist_around_a_minimum():
    # In 2020, a few months after the minimum of December 2019, cycle 24's last regions
    # emerge near the equator and cycle 25's first ones at mid latitudes, in both hemispheres.
    frame = cycle_frame([3, 30, -3, -30] * u.deg, "2020-06-01")
    assert frame.cycle.tolist() == [24, 25, 24, 25]
    assert frame.sign.tolist() == [1, -1, 1, -1]
    # Between the two belts neither cycle is certain.
    boundary = cycle_frame(np.arange(0, 40, 0.5) * u.deg, "2020-06-01")
    assert 0.5 <= boundary.probability.min() < 0.7
    assert boundary.probability.max() > 0.99


def test_polar_caps_belong_to_the_current_cycle():
    # No flux emerges at 80 deg: the polar field goes with the most recent cycle.
    assert cycle_frame([80, -80] * u.deg, "2019-06-01").cycle.tolist() == [24, 24]
    assert cycle_frame([80, -80] * u.deg, "2020-06-01").cycle.tolist() == [25, 25]


def test_frame_off_the_disk_is_neutral():
    lat = ModelGrid(64).latitude_array(0 * u.deg)
    frame = cycle_frame(lat, "2023-01-01")
    off = np.isnan(lat.value)
    assert off.any()
    assert np.all(frame.sign[off] == 0)
    assert np.all(np.isnan(frame.probability[off]))
    assert np.all(frame.sign[~off] == -1)


@pytest.mark.parametrize("b0", [-7.2, 0.0, 7.2])
def test_grid_latitudes_follow_the_b0_angle(b0):
    grid = ModelGrid(129)
    lat = grid.latitude_array(b0 * u.deg).to_value(u.deg)
    centre = int(grid.center_px)
    assert lat[centre, centre] == pytest.approx(b0, abs=1e-9)
    # North is up (row index grows northward); the north pole is visible when b0 > 0.
    assert lat[centre + 40, centre] > lat[centre, centre] > lat[centre - 40, centre]
    # On the central meridian, latitude = arcsin(y) + b0 for the orthographic disk.
    y = 30 / grid.radius_px
    expected = np.degrees(np.arcsin(y * np.cos(np.radians(b0)) + np.sqrt(1 - y**2) * np.sin(np.radians(b0))))
    assert lat[centre + 30, centre] == pytest.approx(expected, abs=1e-9)
    assert abs(lat[centre + 30, centre] - (np.degrees(np.arcsin(y)) + b0)) < 0.1
