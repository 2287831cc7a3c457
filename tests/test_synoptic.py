"""
Tests of synoptic maps (sunpy_magnetogan.tracking.synoptic), their figure and ``sunpy-magnetogan synoptic``.

Frontside (SDO-like, rsun 696000 km) and farside (Stonyhurst longitude 180 deg, rsun 695700 km)
magnetograms of a known Carrington truth of Gaussian bipoles (tests/helpers_bipoles.py) are
combined and compared with the truth.
"""

import astropy.units as u
import matplotlib
import numpy as np
import pytest
import sunpy.map
from astropy.coordinates import SkyCoord
from astropy.time import Time
from astropy.wcs import WCS
from sunpy.coordinates import HeliographicCarrington
from sunpy.coordinates.sun import L0

from sunpy_magnetogan.cli import main
from sunpy_magnetogan.exceptions import CorruptFileError
from sunpy_magnetogan.tracking import SynopticMap, make_synoptic_map, plot_synoptic_map, read_synoptic_map

from .helpers_bipoles import (
    RSUN_SDO,
    RSUN_STEREO,
    Bipole,
    bipole_field,
    carrington_truth_map,
    earth_observer,
    magnetogram_map,
    rotate_bipoles,
    stonyhurst_observer,
)

matplotlib.use("Agg")

DATE = Time("2012-06-06T00:00:00")  # B0 close to 0: both observers see up to the poles alike
SHAPE = (90, 180)
SDO = "SDO/bipole truth"
FAR = "STEREO/bipole truth"


def carrington(stonyhurst_lon):
    return (L0(DATE) + stonyhurst_lon) % (360 * u.deg)


@pytest.fixture(scope="module")
def bipoles():
    spots = [(-60, 20), (-10, -15), (30, 25), (70, -10), (120, 15), (160, -25), (-150, 5), (-100, -20)]
    return [
        Bipole(carrington(lon * u.deg), lat * u.deg, flux=3e22 * u.Mx, width=3 * u.deg, separation=8 * u.deg)
        for lon, lat in spots
    ]


@pytest.fixture(scope="module")
def observed(bipoles):
    front = magnetogram_map(bipoles, earth_observer(DATE), size=256, rsun=RSUN_SDO)
    far = magnetogram_map(bipoles, stonyhurst_observer(DATE, 180 * u.deg), size=256, rsun=RSUN_STEREO)
    return front, far


@pytest.fixture(scope="module")
def synoptic(observed):
    return make_synoptic_map(observed, shape=SHAPE)


@pytest.fixture(scope="module")
def truth(bipoles):
    return carrington_truth_map(bipoles, date=DATE, shape=SHAPE)


def correlation(a, b, mask):
    return float(np.corrcoef(a[mask], b[mask])[0, 1])


def test_truth_helper_holds_the_bipole_flux():
    # The helper's field integrates to the flux it was given (0.5 deg grid, whole sphere),
    # for a bipole whose polarities do not overlap.
    bipole = Bipole(100 * u.deg, 20 * u.deg, flux=3e22 * u.Mx, width=1.5 * u.deg, separation=15 * u.deg)
    lat = np.linspace(-89.75, 89.75, 360) * u.deg
    lon = np.linspace(0.25, 359.75, 720) * u.deg
    lon2, lat2 = np.meshgrid(lon, lat)
    field = bipole_field(lon2, lat2, [bipole], rsun=RSUN_STEREO)
    pixel = (np.deg2rad(0.5) ** 2 * np.cos(lat2) * RSUN_STEREO**2).to(u.cm**2)
    unsigned = np.sum(np.abs(field) * pixel).to_value(u.Mx)
    net = np.sum(field * pixel).to_value(u.Mx)
    assert unsigned == pytest.approx(3e22, rel=0.02)
    assert abs(net) < 1e-3 * unsigned


def test_synoptic_map_matches_the_truth(synoptic, truth):
    assert isinstance(synoptic, SynopticMap)
    data = synoptic.map.data
    covered = np.isfinite(data)
    assert covered.mean() > 0.75  # both hemispheres but the limbs (min_mu = 0.1)
    cc = correlation(data, truth.data, covered)
    assert cc > 0.98, f"CC with the Carrington truth: {cc:.4f}"
    # strong field at the truth's strongest pixels, with the right sign
    strong = covered & (np.abs(truth.data) > 0.5 * np.abs(truth.data).max())
    assert strong.sum() > 50
    assert np.all(np.sign(data[strong]) == np.sign(truth.data[strong]))


def test_header_is_a_valid_carrington_wcs(synoptic):
    smap = synoptic.map
    assert smap.meta["ctype1"] == "CRLN-CAR"
    assert smap.meta["ctype2"] == "CRLT-CAR"
    assert isinstance(smap.coordinate_frame, HeliographicCarrington)
    assert smap.unit == u.G
    wcs = WCS(smap.fits_header)
    assert wcs.wcs.ctype[0] == "CRLN-CAR"
    # the grid spans 0..360 deg of longitude and -90..90 deg of latitude, 2 deg pixels
    corner = smap.wcs.pixel_to_world(0, 0)
    assert corner.lon.to_value(u.deg) == pytest.approx(1.0)
    assert corner.lat.to_value(u.deg) == pytest.approx(-89.0)
    x, y = smap.wcs.world_to_pixel(SkyCoord(181 * u.deg, 1 * u.deg, frame=smap.coordinate_frame))
    assert (float(x), float(y)) == pytest.approx((90.0, 45.0))
    assert u.Quantity(smap.rsun_meters).to_value(u.km) == pytest.approx(695700)
    assert smap.meta["nsource"] == 2
    assert smap.meta["srclab1"] == SDO
    assert smap.meta["srclab2"] == FAR


def test_source_map_says_which_observer_each_pixel_came_from(synoptic):
    assert synoptic.labels == (SDO, FAR)
    source = synoptic.source.data
    frame = synoptic.map.coordinate_frame
    for stonyhurst_lon, index in ((0 * u.deg, 0), (180 * u.deg, 1)):
        x, y = synoptic.map.wcs.world_to_pixel(SkyCoord(carrington(stonyhurst_lon), 0 * u.deg, frame=frame))
        assert source[round(float(y)), round(float(x))] == index
    assert np.array_equal(synoptic.source_mask(FAR), source == 1)
    # no source where there is no coverage, and each hemisphere is about half the covered map
    assert np.all(source[~np.isfinite(synoptic.map.data)] == -1)
    assert np.all(synoptic.coverage.data[source >= 0] > 0)
    assert synoptic.source_mask(SDO).sum() == pytest.approx(synoptic.source_mask(FAR).sum(), rel=0.1)


def test_rsun_conventions_do_not_open_a_gap_at_the_limbs(bipoles):
    # With min_mu = 0, two opposite observers cover the whole equator, whatever their rsun.
    def equator_gap(front_rsun, far_rsun):
        front = magnetogram_map(bipoles, earth_observer(DATE), size=256, rsun=front_rsun)
        far = magnetogram_map(bipoles, stonyhurst_observer(DATE, 180 * u.deg), size=256, rsun=far_rsun)
        synoptic = make_synoptic_map([front, far], shape=(90, 360), min_mu=0)
        return np.count_nonzero(~np.isfinite(synoptic.map.data[43:47])), synoptic

    gap, synoptic = equator_gap(RSUN_SDO, RSUN_STEREO)
    assert gap == 0
    assert u.Quantity(synoptic.map.rsun_meters).to_value(u.km) == pytest.approx(695700)
    # a sphere larger than the inputs' disks loses the limbs: the choice of rsun matters
    front = magnetogram_map(bipoles, earth_observer(DATE), size=256, rsun=RSUN_SDO)
    far = magnetogram_map(bipoles, stonyhurst_observer(DATE, 180 * u.deg), size=256, rsun=RSUN_STEREO)
    too_big = make_synoptic_map([front, far], shape=(90, 360), min_mu=0, rsun=700000 * u.km)
    assert np.count_nonzero(~np.isfinite(too_big.map.data[43:47])) > 20


def test_cea_projection_and_line_of_sight_option(observed, bipoles):
    cea = make_synoptic_map(observed, shape=SHAPE, projection_code="CEA")
    assert cea.map.meta["ctype2"] == "CRLT-CEA"
    truth = carrington_truth_map(bipoles, date=DATE, shape=SHAPE, projection_code="CEA")
    covered = np.isfinite(cea.map.data)
    assert correlation(cea.map.data, truth.data, covered) > 0.98
    los = make_synoptic_map(observed, shape=SHAPE, radial=False)
    # B_los = B_r * mu, weaker than the radial field away from disk centre
    strong = np.isfinite(los.map.data) & (np.abs(truth.data) > 0.5 * np.abs(truth.data).max())
    assert strong.sum() > 50
    assert np.median(np.abs(los.map.data[strong]) / np.abs(truth.data[strong])) < 0.95


def test_differential_rotation_to_the_map_date():
    # A high-latitude bipole drifts about -1 deg/day in Carrington longitude.
    start = Bipole(carrington(0 * u.deg), 40 * u.deg, flux=3e22 * u.Mx, width=3 * u.deg, separation=8 * u.deg)
    later = DATE + 4 * u.day
    moved = rotate_bipoles([start], 4 * u.day)
    old_map = magnetogram_map([start], earth_observer(DATE), size=256)
    rigid = make_synoptic_map([old_map], shape=(90, 360), date=later, rotation_model="rigid")
    howard = make_synoptic_map([old_map], shape=(90, 360), date=later, rotation_model="howard")
    truth_later = carrington_truth_map(moved, date=later, shape=(90, 360))
    mask = np.isfinite(howard.map.data) & np.isfinite(rigid.map.data)
    assert correlation(howard.map.data, truth_later.data, mask) > 0.97
    assert correlation(rigid.map.data, truth_later.data, mask) < correlation(
        howard.map.data, truth_later.data, mask
    )


def test_save_and_read_back(synoptic, tmp_path):
    path = tmp_path / "synoptic.fits"
    synoptic.save(path)
    back = read_synoptic_map(path)
    assert back.labels == synoptic.labels
    assert np.allclose(back.map.data, synoptic.map.data, equal_nan=True, atol=1e-3)
    assert np.array_equal(back.source.data, synoptic.source.data)
    assert isinstance(back.map.coordinate_frame, HeliographicCarrington)
    with pytest.raises(OSError, match="exists"):
        synoptic.save(path)
    plain = tmp_path / "plain.fits"
    synoptic.map.save(plain)
    with pytest.raises(CorruptFileError, match="not a synoptic map"):
        read_synoptic_map(plain)


def test_input_checks(observed):
    with pytest.raises(ValueError, match="labels"):
        make_synoptic_map(observed, labels=["only one"])
    with pytest.raises(ValueError, match="no maps"):
        make_synoptic_map([])
    with pytest.raises(ValueError, match="projection_code"):
        make_synoptic_map(observed, projection_code="TAN")
    shared = make_synoptic_map(observed, shape=(45, 90), labels=["GAN", "GAN"])
    assert shared.labels == ("GAN",)
    assert set(np.unique(shared.source.data)) == {-1, 0}


def test_plot_outlines_each_source(synoptic):
    ax = plot_synoptic_map(synoptic)
    assert ax.images
    assert len(ax.collections) >= len(synoptic.labels)  # one contour set per source
    legend = [t.get_text() for t in ax.get_legend().get_texts()]
    assert legend == list(synoptic.labels)
    matplotlib.pyplot.close(ax.figure)


def test_synoptic_command(observed, tmp_path, capsys):
    files = []
    for k, smap in enumerate(observed):
        path = tmp_path / f"in_{k}.fits"
        smap.save(path)
        files.append(str(path))
    out = tmp_path / "syn.fits"
    png = tmp_path / "syn.png"
    code = main(["synoptic", *files, "-o", str(out), "--png", str(png), "--labels", "HMI", "farside GAN"])
    assert code == 0
    assert "HMI, farside GAN" in capsys.readouterr().out
    back = read_synoptic_map(out)
    assert back.labels == ("HMI", "farside GAN")
    assert back.map.data.shape == (180, 360)
    assert png.is_file()
    assert png.stat().st_size > 1000
    assert main(["synoptic", *files, "-o", str(out)]) == 1  # exists, no --overwrite
    assert main(["synoptic", *files, "-o", str(out), "--labels", "one"]) == 1
    # the main map of the file reads as a plain sunpy map too
    first = sunpy.map.Map(out)
    first = first[0] if isinstance(first, list) else first
    assert isinstance(first.coordinate_frame, HeliographicCarrington)
