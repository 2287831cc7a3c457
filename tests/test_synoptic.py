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
from sunpy_magnetogan.exceptions import CorruptFileError, InputMapError, TimeSpanError, TimeSpanWarning
from sunpy_magnetogan.mapsource import TELESCOPE, MagnetoGANMap
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


# --------------------------------------------------------------------------- time span, layers


def as_generated(smap):
    """The same magnetogram as a `MagnetoGANMap` (what generate_magnetogram returns)."""
    meta = smap.meta.copy()
    meta["telescop"] = TELESCOPE
    generated = sunpy.map.Map(smap.data, meta)
    assert isinstance(generated, MagnetoGANMap)
    return generated


def test_inputs_spread_over_more_than_a_rotation_are_refused(bipoles):
    # Issue #18: maps 3.3 years apart were merged under their mean date.
    front = magnetogram_map(bipoles, earth_observer(DATE), size=128)
    later = DATE + 1205 * u.day
    far = magnetogram_map(bipoles, stonyhurst_observer(later, 180 * u.deg), size=128)
    with pytest.raises(TimeSpanError, match=r"1205\.0 d .* 27\.3 d"):
        make_synoptic_map([front, far], shape=(45, 90))
    assert issubclass(TimeSpanError, InputMapError)
    # by option: a warning naming the span, and the map
    with pytest.warns(TimeSpanWarning, match=r"1205\.0 d"):
        warned = make_synoptic_map([front, far], shape=(45, 90), on_long_span="warn")
    assert warned.map.meta["tspan"] == pytest.approx(1205.0)
    # a larger limit, or none
    make_synoptic_map([front, far], shape=(45, 90), max_span=4 * u.year)
    make_synoptic_map([front, far], shape=(45, 90), max_span=None)
    # within one rotation (the default limit) the maps are combined as before
    near = magnetogram_map(bipoles, stonyhurst_observer(DATE + 20 * u.day, 180 * u.deg), size=128)
    assert make_synoptic_map([front, near], shape=(45, 90)).map.meta["tspan"] == pytest.approx(20.0)
    with pytest.raises(TimeSpanError, match=r"20\.0 d"):
        make_synoptic_map([front, near], shape=(45, 90), max_span=10 * u.day)
    with pytest.raises(ValueError, match="on_long_span"):
        make_synoptic_map([front, near], shape=(45, 90), on_long_span="ignore")


def test_time_layer_gives_the_observation_time_of_each_pixel(bipoles):
    # Front side at DATE, far side 10 days later (rigid Carrington map): each hemisphere's
    # pixels carry the time of the map that supplied them.
    later = DATE + 10 * u.day
    front = magnetogram_map(bipoles, earth_observer(DATE), size=128)
    # the Carrington hemisphere opposite the front view, as seen 10 days later
    far_lon = 180 * u.deg + L0(DATE) - L0(later)
    far = magnetogram_map(bipoles, stonyhurst_observer(later, far_lon), size=128)
    synoptic = make_synoptic_map([front, far], shape=(45, 90), labels=["front", "far"])
    times = synoptic.observation_time()
    assert isinstance(times, Time)
    assert times.shape == synoptic.map.data.shape
    assert synoptic.time.meta["bunit"] == "d"
    covered = np.isfinite(synoptic.map.data)
    assert np.all(np.isfinite(synoptic.time.data[covered]))
    assert np.all(np.isnan(synoptic.time.data[~covered]))
    for label, expected in (("front", DATE), ("far", later)):
        # away from the overlap each pixel has one source: its time, to the second
        only = synoptic.source_mask(label) & covered
        assert only.sum() > 200
        offsets = np.abs((times[only] - expected).to_value(u.s))
        assert np.median(offsets) < 1
    assert times[covered].min() >= DATE - 1 * u.s
    assert times[covered].max() <= later + 1 * u.s


def test_time_layer_is_the_weighted_mean_time_where_maps_overlap(bipoles):
    # The same view an hour apart: both weigh alike at disk centre, whose time is halfway.
    first = magnetogram_map(bipoles, earth_observer(DATE), size=128)
    second = magnetogram_map(bipoles, earth_observer(DATE + 1 * u.hour), size=128)
    synoptic = make_synoptic_map([first, second], shape=(90, 180))
    x, y = synoptic.map.wcs.world_to_pixel(
        SkyCoord(carrington(0 * u.deg), 0 * u.deg, frame=synoptic.map.coordinate_frame)
    )
    centre = synoptic.observation_time()[round(float(y)), round(float(x))]
    assert abs((centre - (DATE + 30 * u.min)).to_value(u.min)) < 3


def test_confidence_layer_is_carried_through(bipoles, observed):
    front, far = observed
    confidence = [np.full(front.data.shape, 0.9), sunpy.map.Map(np.full(far.data.shape, 0.3), far.meta)]
    synoptic = make_synoptic_map(observed, shape=SHAPE, confidence=confidence)
    assert synoptic.confidence is not None
    covered = np.isfinite(synoptic.map.data)
    data = synoptic.confidence.data
    assert np.all(np.isnan(data[~covered]))
    assert np.nanmedian(data[synoptic.source_mask(SDO)]) == pytest.approx(0.9, abs=0.01)
    assert np.nanmedian(data[synoptic.source_mask(FAR)]) == pytest.approx(0.3, abs=0.01)
    # a map without a confidence layer contributes none
    partial = make_synoptic_map(observed, shape=SHAPE, confidence=[confidence[0], None])
    # (but where the front side's weight reaches past the limb)
    assert np.isnan(partial.confidence.data[partial.source_mask(FAR)]).mean() > 0.9
    assert np.nanmedian(partial.confidence.data[partial.source_mask(SDO)]) == pytest.approx(0.9, abs=0.01)
    # none given: no layer
    assert make_synoptic_map(observed, shape=(45, 90)).confidence is None
    with pytest.raises(ValueError, match="confidence"):
        make_synoptic_map(observed, shape=SHAPE, confidence=[confidence[0]])
    with pytest.raises(ValueError, match="shape"):
        make_synoptic_map(observed, shape=SHAPE, confidence=[np.ones((3, 3)), None])


def test_farside_predictions_are_marked(observed):
    front, far = observed
    # an observed front side and a generated far side
    synoptic = make_synoptic_map([front, as_generated(far)], shape=SHAPE, labels=["HMI", "GAN farside"])
    covered = np.isfinite(synoptic.map.data)
    generated = synoptic.generated.data
    # the fraction of the weight: the source with the larger weight has more than half
    assert np.all(generated[synoptic.source_mask("HMI")] < 0.5)
    assert np.median(generated[synoptic.source_mask("HMI")]) == 0
    assert np.all(generated[synoptic.source_mask("GAN farside")] > 0.5)
    assert np.median(generated[synoptic.source_mask("GAN farside")]) == 1
    assert np.all(np.isnan(generated[~covered]))
    assert synoptic.map.meta["srcgen1"] is False
    assert synoptic.map.meta["srcgen2"] is True
    farside = synoptic.farside_prediction_mask()
    assert np.mean(farside == synoptic.source_mask("GAN farside")) > 0.99
    assert not farside[synoptic.source_mask("HMI")].any()
    # an observed far side (e.g. Solar Orbiter/PHI behind the Sun) is farside, not predicted
    observed_far = make_synoptic_map([front, far], shape=SHAPE, labels=["HMI", "far"])
    assert np.median(observed_far.farside.data[observed_far.source_mask("far")]) == 1
    assert np.median(observed_far.farside.data[observed_far.source_mask("HMI")]) == 0
    assert not observed_far.farside_prediction_mask().any()
    # a generated front side (from AIA) is a prediction, but not a farside one
    both = make_synoptic_map(
        [as_generated(front), as_generated(far)], shape=SHAPE, labels=["GAN", "GAN farside"]
    )
    assert np.all(both.generated.data[np.isfinite(both.map.data)] == 1)
    assert not both.farside_prediction_mask()[both.source_mask("GAN")].any()
    assert both.farside_prediction_mask()[both.source_mask("GAN farside")].mean() > 0.95
    # the plot marks them
    ax = plot_synoptic_map(synoptic)
    legend = [t.get_text() for t in ax.get_legend().get_texts()]
    assert "farside prediction" in legend
    matplotlib.pyplot.close(ax.figure)


def test_layers_are_saved_and_read_back(observed, tmp_path):
    front, far = observed
    synoptic = make_synoptic_map(
        [front, as_generated(far)], shape=(45, 90), confidence=[np.full(front.data.shape, 0.9), None]
    )
    path = tmp_path / "layers.fits"
    synoptic.save(path)
    back = read_synoptic_map(path)
    assert np.array_equal(back.time.data, synoptic.time.data, equal_nan=True)
    assert np.allclose(back.confidence.data, synoptic.confidence.data, equal_nan=True)
    assert np.allclose(back.generated.data, synoptic.generated.data, equal_nan=True)
    assert np.allclose(back.farside.data, synoptic.farside.data, equal_nan=True)
    covered = np.isfinite(synoptic.map.data)
    assert np.all(back.observation_time()[covered] == synoptic.observation_time()[covered])
    assert np.array_equal(back.farside_prediction_mask(), synoptic.farside_prediction_mask())


def test_synoptic_command_refuses_inputs_spread_over_years(bipoles, tmp_path, capsys):
    front = magnetogram_map(bipoles, earth_observer(DATE), size=96)
    far = magnetogram_map(bipoles, stonyhurst_observer(DATE + 1205 * u.day, 180 * u.deg), size=96)
    files = []
    for k, smap in enumerate((front, far)):
        files.append(str(tmp_path / f"in_{k}.fits"))
        smap.save(files[-1])
    out = tmp_path / "syn.fits"
    assert main(["synoptic", *files, "-o", str(out), "--shape", "45", "90"]) == 2
    assert "1205.0 d" in capsys.readouterr().err
    assert not out.exists()
    assert main(["synoptic", *files, "-o", str(out), "--shape", "45", "90", "--max-span", "inf"]) == 0
    assert read_synoptic_map(out).map.meta["tspan"] == pytest.approx(1205.0)
