"""
Tests of active-region detection (sunpy_magnetogan.tracking.detection).

Synthetic magnetograms of Gaussian bipoles at known Carrington positions (tests/helpers_bipoles.py)
check positions, fluxes, tilts, grouping and the limb flag; the real HMI map checks that the
large active regions found by an independent, simple method are detected.
"""

import astropy.units as u
import numpy as np
import pytest
import sunpy.map
from astropy.coordinates import SkyCoord
from astropy.table import QTable
from astropy.time import Time
from scipy import ndimage
from sunpy.coordinates import HeliographicCarrington
from sunpy.coordinates.sun import L0

from sunpy_magnetogan.exceptions import InputMapError, MissingMetadataError
from sunpy_magnetogan.tracking import (
    DETECTION_COLUMNS,
    GENERATED_THRESHOLD,
    MSH,
    OBSERVED_THRESHOLD,
    default_threshold,
    detect_active_regions,
)

from .helpers_bipoles import (
    RSUN_SDO,
    Bipole,
    carrington_truth_map,
    earth_observer,
    magnetogram_map,
    stonyhurst_observer,
)

DATE = Time("2012-03-01T00:00:00")


def carrington(stonyhurst_lon):
    """Carrington longitude of a Stonyhurst longitude at DATE (Earth view)."""
    return (L0(DATE) + stonyhurst_lon) % (360 * u.deg)


@pytest.fixture(scope="module")
def bipoles():
    return [
        # near disk centre, northern, Joy tilt 10 deg
        Bipole(carrington(10 * u.deg), 15 * u.deg, flux=5e22 * u.Mx, tilt=10 * u.deg),
        # southern, leading negative, tilt -5 deg
        Bipole(carrington(-30 * u.deg), -20 * u.deg, flux=2e22 * u.Mx, tilt=-5 * u.deg, leading_sign=-1),
        # near the west limb
        Bipole(carrington(78 * u.deg), 10 * u.deg, flux=3e22 * u.Mx),
        # on the farside
        Bipole(carrington(180 * u.deg), 5 * u.deg, flux=3e22 * u.Mx),
    ]


@pytest.fixture(scope="module")
def sdo_map(bipoles):
    return magnetogram_map(bipoles, earth_observer(DATE), size=256, rsun=RSUN_SDO)


@pytest.fixture(scope="module")
def sdo_table(sdo_map):
    return detect_active_regions(sdo_map)


def nearest(table, bipole):
    """The row of ``table`` closest to the bipole, and the distance in deg."""
    truth = SkyCoord(bipole.lon, bipole.lat, frame=HeliographicCarrington(observer="earth", obstime=DATE))
    found = SkyCoord(table["lon"], table["lat"], frame=HeliographicCarrington(observer="earth", obstime=DATE))
    sep = truth.separation(found)
    return table[int(np.argmin(sep))], sep.min().to(u.deg)


def test_table_has_documented_columns_and_units(sdo_table):
    assert isinstance(sdo_table, QTable)
    assert list(sdo_table.colnames) == list(DETECTION_COLUMNS)
    for name, unit in DETECTION_COLUMNS.items():
        if unit is not None:
            assert sdo_table[name].unit.is_equivalent(unit), name
    assert sdo_table["area"].unit == MSH
    assert sdo_table["unsigned_flux"].unit == u.Mx
    assert np.all(sdo_table["observer"] == "SDO/bipole truth")
    assert sdo_table.meta["observer_coordinate"].lon.to_value(u.deg) == pytest.approx(0, abs=1e-6)
    # sorted by decreasing unsigned flux, labels 1..n
    assert np.all(np.diff(sdo_table["unsigned_flux"]) <= 0)
    assert list(sdo_table["label"]) == list(range(1, len(sdo_table) + 1))


def test_finds_each_visible_bipole_at_its_carrington_position(sdo_table, bipoles):
    visible = bipoles[:3]
    assert len(sdo_table) == len(visible)  # the farside bipole is not seen
    for bp in visible:
        _, distance = nearest(sdo_table, bp)
        assert distance < 0.5 * u.deg


def test_fluxes_match_the_truth(sdo_table, bipoles):
    for bp in bipoles[:2]:  # the regions away from the limb
        row, _ = nearest(sdo_table, bp)
        assert row["unsigned_flux"].to_value(u.Mx) == pytest.approx(bp.flux.to_value(u.Mx), rel=0.12)
        assert abs(row["net_flux"]) < 0.02 * row["unsigned_flux"]
        assert row["positive_flux"] > 0 * u.Mx > row["negative_flux"]
        total = (row["positive_flux"] - row["negative_flux"]).to_value(u.Mx)
        assert total == pytest.approx(row["unsigned_flux"].to_value(u.Mx))
        assert row["max_field"] > 100 * u.G


def test_tilt_follows_joys_law_convention(sdo_table, bipoles):
    for bp in bipoles[:2]:
        row, _ = nearest(sdo_table, bp)
        assert row["tilt"].to_value(u.deg) == pytest.approx(bp.tilt.to_value(u.deg), abs=1.5)


def test_limb_regions_are_flagged(sdo_table, bipoles):
    limb, _ = nearest(sdo_table, bipoles[2])
    assert limb["near_limb"]
    assert limb["mu"] < 0.3
    centre, _ = nearest(sdo_table, bipoles[0])
    assert not centre["near_limb"]
    # mu of a point 10 deg in longitude and 15 deg in latitude from disk centre (B0 ~ -7 deg)
    assert 0.85 < centre["mu"] < 0.95


def test_helioprojective_centroid_points_at_the_region(sdo_map, sdo_table):
    row = sdo_table[0]
    centroid = SkyCoord(row["hpc_x"], row["hpc_y"], frame=sdo_map.coordinate_frame)
    hgc = centroid.transform_to(HeliographicCarrington(observer=sdo_map.observer_coordinate, obstime=DATE))
    assert hgc.lon.to_value(u.deg) == pytest.approx(row["lon"].to_value(u.deg), abs=0.05)
    assert hgc.lat.to_value(u.deg) == pytest.approx(row["lat"].to_value(u.deg), abs=0.05)


def test_farside_observer_sees_the_other_hemisphere(bipoles):
    far = magnetogram_map(bipoles, stonyhurst_observer(DATE, 180 * u.deg), size=256)
    table = detect_active_regions(far)
    assert len(table) == 1
    _, distance = nearest(table, bipoles[3])
    assert distance < 0.5 * u.deg
    assert table["observer"][0] == "STEREO/bipole truth"
    assert table.meta["observer_coordinate"].lon.wrap_at(360 * u.deg).to_value(u.deg) == pytest.approx(180)
    assert table["unsigned_flux"][0].to_value(u.Mx) == pytest.approx(3e22, rel=0.12)


def test_without_mu_correction_the_flux_is_the_line_of_sight_one():
    # B_los = B_r * mu, so the line-of-sight flux is the radial flux times mu.
    bp = Bipole(carrington(50 * u.deg), 0 * u.deg)
    smap = magnetogram_map([bp], earth_observer(DATE), size=256)
    radial = detect_active_regions(smap)[0]
    los = detect_active_regions(smap, mu_correction=False)[0]
    ratio = (los["unsigned_flux"] / radial["unsigned_flux"]).to_value(u.one)
    assert ratio == pytest.approx(float(radial["mu"]), rel=0.05)


def test_polarities_are_grouped_within_group_distance():
    # Compact polarities 12 deg apart: separate patches after thresholding.
    bp = Bipole(carrington(0 * u.deg), 10 * u.deg, separation=12 * u.deg, width=1 * u.deg)
    smap = magnetogram_map([bp], earth_observer(DATE), size=256)
    grouped = detect_active_regions(smap, group_distance=8 * u.deg)
    assert len(grouped) == 1
    assert grouped["unsigned_flux"][0].to_value(u.Mx) == pytest.approx(5e22, rel=0.1)
    assert np.isfinite(grouped["tilt"][0])
    split = detect_active_regions(smap, group_distance=0 * u.deg)
    assert len(split) == 2
    # each part is unipolar: no tilt, and opposite net fluxes
    assert np.all(np.isnan(split["tilt"]))
    assert split["net_flux"][0] * split["net_flux"][1] < 0


def test_neighbouring_regions_are_split_apart():
    # Two bipoles 16 deg apart whose thresholded patches touch: one group, split in two.
    big = Bipole(carrington(0 * u.deg), 10 * u.deg, flux=5e22 * u.Mx, width=2 * u.deg)
    small = Bipole(carrington(16 * u.deg), 4 * u.deg, flux=2e22 * u.Mx, width=1.5 * u.deg)
    smap = magnetogram_map([big, small], earth_observer(DATE), size=256)
    whole = detect_active_regions(smap, split_distance=None)
    assert len(whole) == 1
    split = detect_active_regions(smap)
    assert len(split) == 2
    for bp in (big, small):
        row, distance = nearest(split, bp)
        assert distance < 0.5 * u.deg
        assert abs(row["net_flux"]) < 0.05 * row["unsigned_flux"]  # each keeps both polarities
    total = split["unsigned_flux"].sum().to_value(u.Mx)
    assert total == pytest.approx(whole["unsigned_flux"][0].to_value(u.Mx), rel=1e-6)


def test_threshold_and_min_area_remove_regions(sdo_map):
    empty = detect_active_regions(sdo_map, threshold=1e5 * u.G)
    assert len(empty) == 0
    assert list(empty.colnames) == list(DETECTION_COLUMNS)
    assert empty["unsigned_flux"].unit == u.Mx
    assert empty.meta["observer"] == "SDO/bipole truth"
    few = detect_active_regions(sdo_map, min_area=4500 * MSH)
    assert 0 < len(few) < 3
    assert np.all(few["area"] >= 4500 * MSH)


def test_label_map_matches_the_table(sdo_map):
    table, labels = detect_active_regions(sdo_map, return_labels=True)
    assert isinstance(labels, sunpy.map.GenericMap)
    assert labels.data.shape == sdo_map.data.shape
    assert set(np.unique(labels.data)) == {0, *table["label"]}
    for row in table:
        assert np.count_nonzero(labels.data == row["label"]) == row["n_pixels"]


def test_fine_maps_are_binned_and_agree_with_coarse_ones(bipoles):
    coarse = detect_active_regions(magnetogram_map(bipoles[:2], earth_observer(DATE), size=256))
    fine = detect_active_regions(magnetogram_map(bipoles[:2], earth_observer(DATE), size=1024))
    assert coarse.meta["binning"] == 1
    assert fine.meta["binning"] >= 2
    assert len(fine) == len(coarse) == 2
    for a, b in zip(coarse, fine, strict=True):
        assert abs(a["lon"] - b["lon"]) < 0.2 * u.deg
        assert abs(a["lat"] - b["lat"]) < 0.2 * u.deg
        assert a["unsigned_flux"].to_value(u.Mx) == pytest.approx(b["unsigned_flux"].to_value(u.Mx), rel=0.03)


def test_rejects_maps_that_are_not_helioprojective_magnetograms(sdo_map, bipoles):
    with pytest.raises(TypeError, match="GenericMap"):
        detect_active_regions(np.zeros((10, 10)))
    counts = sunpy.map.Map(np.nan_to_num(sdo_map.data), sdo_map.meta.copy())
    counts.meta["bunit"] = "ct"
    with pytest.raises(MissingMetadataError, match="not a magnetic field"):
        detect_active_regions(counts)
    carrington_map = carrington_truth_map(bipoles, date=DATE, shape=(90, 180))
    with pytest.raises(InputMapError, match="helioprojective"):
        detect_active_regions(carrington_map)
    with pytest.raises(ValueError, match="limb_mu"):
        detect_active_regions(sdo_map, limb_mu=1.5)


def test_table_round_trips_through_ecsv(sdo_table, tmp_path):
    path = tmp_path / "regions.ecsv"
    sdo_table.write(path)
    back = QTable.read(path)
    assert back["area"].unit == MSH
    assert np.allclose(back["unsigned_flux"].to_value(u.Mx), sdo_table["unsigned_flux"].to_value(u.Mx))
    assert back.meta["observer_coordinate"].lon.to_value(u.deg) == pytest.approx(0, abs=1e-6)
    assert isinstance(back["date"], Time)


# --------------------------------------------------------------------------- real HMI map

#: Large active regions of hmi_m_720s_2011-12-17T055810 as found by the simple method below
#: (Carrington lon, lat in deg): the big northern complex (three cores), two southern
#: regions and one at the east limb.
EXPECTED_LARGE_REGIONS = [(295, 24), (303, 19), (296, 12), (352, -19), (322, -18), (226, -21)]


def simple_large_regions(hmi_map):
    """
    Independent, simple method: |B| averaged over 32 x 32 pixel blocks (128 px map),
    thresholded at 80 G, connected components of at least 4 blocks, their |B|-weighted
    centroids converted to Carrington coordinates with the map's WCS.
    """
    absolute = sunpy.map.Map(np.abs(np.nan_to_num(hmi_map.data)), hmi_map.meta)
    binned = absolute.superpixel(u.Quantity([32, 32], u.pix), func=np.mean)
    labels, n = ndimage.label(binned.data > 80)
    sizes = ndimage.sum_labels(np.ones(labels.shape), labels, np.arange(1, n + 1))
    big = np.flatnonzero(sizes >= 4) + 1
    cy, cx = np.array(ndimage.center_of_mass(binned.data, labels, big)).T
    coords = binned.wcs.pixel_to_world(cx, cy)
    return coords.transform_to(
        HeliographicCarrington(observer=hmi_map.observer_coordinate, obstime=hmi_map.reference_date)
    )


@pytest.mark.slow
def test_real_hmi_large_active_regions_are_detected(real_hmi_map):
    simple = simple_large_regions(real_hmi_map)
    # The simple method reproduces the listed positions...
    expected = SkyCoord(
        [e[0] for e in EXPECTED_LARGE_REGIONS] * u.deg,
        [e[1] for e in EXPECTED_LARGE_REGIONS] * u.deg,
        frame=simple.frame,
    )
    idx, sep, _ = expected.match_to_catalog_sky(simple)
    assert np.all(sep < 2 * u.deg)
    assert len(set(idx)) == len(EXPECTED_LARGE_REGIONS)

    # ...and every one of them lies inside a detected region (binned map, as in the docs).
    binned = sunpy.map.Map(np.nan_to_num(real_hmi_map.data), real_hmi_map.meta).superpixel(
        u.Quantity([8, 8], u.pix), func=np.mean
    )
    table, labels = detect_active_regions(binned, return_labels=True)
    px, py = labels.wcs.world_to_pixel(simple)
    dilated = ndimage.grey_dilation(labels.data, size=5)  # a couple of pixels of slack
    hit = dilated[np.round(py).astype(int), np.round(px).astype(int)]
    assert np.all(hit > 0), f"simple-method regions outside every detection: {simple[hit == 0]}"
    # the big northern complex is one region, the strongest away from the limb
    inner = table[~table["near_limb"]]
    assert inner["lon"][0].to_value(u.deg) == pytest.approx(298, abs=4)
    assert inner["lat"][0].to_value(u.deg) == pytest.approx(20, abs=4)
    assert inner["unsigned_flux"][0] > 1e22 * u.Mx
    # the east-limb region is flagged
    east = table[np.argmin(np.abs(table["lon"] - 226 * u.deg))]
    assert east["near_limb"]

    # Detection on the full 4096 px map bins it internally and finds the same regions.
    full = detect_active_regions(real_hmi_map)
    assert full.meta["binning"] >= 4
    for row in inner[:3]:
        sep = np.hypot(full["lon"] - row["lon"], full["lat"] - row["lat"])
        assert sep.min() < 1 * u.deg


def test_generated_maps_get_a_higher_default_threshold(sdo_map):
    # Generated magnetograms carry a quiet-Sun pattern of a few tens of G; at the observed
    # maps' 50 G it joins neighbouring regions once smoothed (benchmarks/bench_tracking.py).
    observed = detect_active_regions(sdo_map)
    assert observed.meta["threshold"] == OBSERVED_THRESHOLD == 50 * u.G
    meta = dict(sdo_map.meta, telescop="sunpy-magnetogan")
    generated_map = sunpy.map.Map(sdo_map.data, meta)
    assert default_threshold(generated_map) == GENERATED_THRESHOLD == 75 * u.G
    generated = detect_active_regions(generated_map)
    assert generated.meta["threshold"] == GENERATED_THRESHOLD
    # the higher threshold keeps less of the regions' periphery
    assert np.sum(generated["area"]) < np.sum(observed["area"])
    # an explicit threshold wins
    assert detect_active_regions(generated_map, threshold=50 * u.G).meta["threshold"] == 50 * u.G
