"""
Figure tests of the package's plotting functions.

Every test draws a figure from fixed, analytic inputs (no random numbers, no synthetic Sun,
no version strings or run dates in the figure), checks the artists a user relies on
(titles, axis labels, colour scales, one line per track, the outlines of a synoptic map,
...), then removes the text, whose rendering depends on the fonts installed, and returns
the figure. With ``--mpl`` pytest-mpl compares it with the baseline image committed in
``tests/figure_baselines/`` (regenerate them with
``pytest tests/test_figures.py --mpl-generate-path=tests/figure_baselines``); without
``--mpl`` only the artist checks run.
"""

import astropy.units as u
import matplotlib
import matplotlib.pyplot as plt
import numpy as np
import pytest
import sunpy.map
from astropy.coordinates import SkyCoord
from astropy.table import QTable
from astropy.time import Time
from astropy.visualization import ImageNormalize
from sunpy.coordinates import HeliographicStonyhurst
from sunpy.map.header_helper import make_heliographic_header

from sunpy_magnetogan.evaluation import plot_comparison, plot_flux_scatter
from sunpy_magnetogan.mapsource import MagnetoGANMap
from sunpy_magnetogan.metrics import flux_cc
from sunpy_magnetogan.tracking import SynopticMap, plot_flux_history, plot_synoptic_map, plot_tracks

DATE = Time("2014-02-05T12:00:00")
NPIX = 64
SCALE = 40.0  # arcsec per pixel: the disk (about 975 arcsec) spans 24 px of radius

#: pytest-mpl comparison settings shared by every test: baselines beside this file, the
#: matplotlib default style, and a small RMS tolerance for anti-aliasing differences.
figure_test = pytest.mark.mpl_image_compare(
    baseline_dir="figure_baselines", style="default", tolerance=3, savefig_kwargs={"dpi": 50}
)


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


def hpc_map(data, *, unit="G", extra=None):
    """A helioprojective map of the Sun seen from 1 AU, Sun centred, north up."""
    observer = SkyCoord(0 * u.deg, 0 * u.deg, 1 * u.AU, frame=HeliographicStonyhurst, obstime=DATE)
    reference = SkyCoord(0 * u.arcsec, 0 * u.arcsec, frame="helioprojective", observer=observer, obstime=DATE)
    header = sunpy.map.make_fitswcs_header(
        data, reference, scale=[SCALE, SCALE] * u.arcsec / u.pix, unit=u.Unit(unit) if unit else None
    )
    header.update(extra or {})
    return sunpy.map.Map(data, header)


def bipole_field(shift=0.0, npix=NPIX):
    """An analytic bipole plus a weak unipolar patch, NaN off the disk (G)."""
    y, x = np.mgrid[:npix, :npix] - (npix - 1) / 2
    radius = 975.0 / SCALE
    field = 1200 * np.exp(-((x - 6 - shift) ** 2 + (y - 4) ** 2) / 8.0)
    field -= 1000 * np.exp(-((x + 2 - shift) ** 2 + (y - 2) ** 2) / 10.0)
    field += 150 * np.exp(-((x + 8) ** 2 + (y + 10) ** 2) / 30.0)
    return np.where(x**2 + y**2 < radius**2, field, np.nan)


def euv_image(npix=NPIX):
    """A limb-darkened disk brightened where the bipole is (arbitrary units)."""
    y, x = np.mgrid[:npix, :npix] - (npix - 1) / 2
    r = np.hypot(x, y) / (975.0 / SCALE)
    disk = np.where(r < 1, 100.0 * np.sqrt(np.clip(1 - r**2, 0, 1)) + 20.0, 5.0)
    return disk + 300 * np.exp(-((x - 2) ** 2 + (y - 3) ** 2) / 20.0)


def strip_text(fig):
    """Remove every text artist (titles, labels, tick labels, legends) before comparison."""
    for ax in fig.axes:
        ax.set_title("")
        legend = ax.get_legend()
        if legend is not None:
            legend.remove()
        for text in list(ax.texts):
            text.remove()
        if hasattr(ax, "coords"):
            for coord in ax.coords:
                coord.set_ticklabel_visible(False)
                coord.set_axislabel("")
        else:
            ax.set_xlabel("")
            ax.set_ylabel("")
            ax.xaxis.set_major_formatter(matplotlib.ticker.NullFormatter())
            ax.yaxis.set_major_formatter(matplotlib.ticker.NullFormatter())
            ax.xaxis.set_minor_formatter(matplotlib.ticker.NullFormatter())
            ax.yaxis.set_minor_formatter(matplotlib.ticker.NullFormatter())
    fig.suptitle("")
    return fig


def images(ax):
    return ax.get_images() + [c for c in ax.collections if isinstance(c, matplotlib.collections.QuadMesh)]


# ---------------------------------------------------------------- evaluation plots


@figure_test
def test_plot_comparison_maps():
    truth = hpc_map(bipole_field())
    generated = hpc_map(0.8 * bipole_field(shift=1.0))
    euv = hpc_map(euv_image(), unit=None)
    fig = plot_comparison(truth, generated, euv, vmax=1000 * u.G, diff_vmax=500, title="pair 1")

    image_axes = [ax for ax in fig.axes if ax.get_title()]
    assert [ax.get_title() for ax in image_axes] == ["Input (EUV)", "Truth", "Generated", "Generated - truth"]
    # Maps are drawn on their own WCS, with sunpy's names for the axes.
    for ax in image_axes:
        assert ax.coords[0].get_axislabel() == "Helioprojective Longitude (Solar-X)"
        assert "custom:" not in ax.coords[1].get_axislabel()
    assert image_axes[0].coords[1].get_axislabel() == "Helioprojective Latitude (Solar-Y)"
    # Symmetric colour scales as requested, and the difference of the two fields.
    truth_image, generated_image, diff_image = (images(ax)[0] for ax in image_axes[1:])
    assert truth_image.get_clim() == (-1000, 1000)
    assert generated_image.get_clim() == (-1000, 1000)
    assert diff_image.get_clim() == (-500, 500)
    np.testing.assert_allclose(
        np.asarray(diff_image.get_array()),
        0.8 * bipole_field(shift=1.0) - bipole_field(),
        equal_nan=True,
    )
    # A colour bar for every panel (truth and generated share theirs), named with units.
    colorbar_labels = [ax.get_ylabel() for ax in fig.axes if not ax.get_title()]
    assert colorbar_labels == ["EUV intensity", "B$_{LOS}$ (G)", "ΔB$_{LOS}$ (G)"]
    assert truth_image.get_cmap().name.startswith("gray")  # no colour steps near 0 G
    assert fig._suptitle.get_text() == "pair 1"
    return strip_text(fig)


@figure_test
def test_plot_comparison_arrays_with_mask():
    truth = np.nan_to_num(bipole_field())
    generated = np.nan_to_num(bipole_field(shift=2.0))
    mask = np.isfinite(bipole_field())
    fig = plot_comparison(truth, generated, mask=mask)

    image_axes = [ax for ax in fig.axes if ax.get_title()]
    assert [ax.get_title() for ax in image_axes] == ["Truth", "Generated", "Generated - truth"]
    shown = np.asarray(images(image_axes[0])[0].get_array())
    assert np.all(np.isnan(shown[~mask]))  # masked pixels drawn as missing
    # The scale from the data: the 99.9th percentile of |truth|, rounded up to one significant
    # figure; the difference on the same scale.
    limit = images(image_axes[0])[0].get_clim()[1]
    percentile = np.percentile(np.abs(truth[mask]), 99.9)
    assert percentile <= limit < percentile * 2
    leading_digit = limit / 10 ** np.floor(np.log10(limit))
    assert leading_digit == pytest.approx(round(leading_digit))
    assert images(image_axes[2])[0].get_clim() == (-limit, limit)
    return strip_text(fig)


@figure_test
def test_plot_flux_scatter():
    true = [1.0e22, 2.0e22, 3.5e22, 5.0e22, 8.0e22] * u.Mx
    generated = [1.3e22, 1.8e22, 3.9e22, 4.4e22, 8.5e22] * u.Mx
    fig = plt.figure(figsize=(5, 5))
    ax = plot_flux_scatter(true, generated, ax=fig.add_subplot(), label="test pairs")

    np.testing.assert_allclose(ax.collections[0].get_offsets(), np.c_[true.value, generated.value])
    (one_to_one,) = ax.get_lines()
    np.testing.assert_allclose(one_to_one.get_xdata(), one_to_one.get_ydata())
    assert ax.get_title() == f"Total unsigned flux, CC = {flux_cc(true, generated):.3f}"
    assert ax.get_xlabel() == "True total unsigned flux (Mx)"
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["test pairs", "1:1"]
    return strip_text(fig)


# ---------------------------------------------------------------- tracking plots


def tracking_tables():
    """Two tracks seen from a farside observer and then from SDO; track 2 merged."""
    rows = [
        # track, day, observer, lon, lat, flux (1e22 Mx), near limb
        (1, 0, "STEREO B/MagnetoGAN", 276.0, 19.0, 4.0, False),
        (1, 3, "STEREO B/MagnetoGAN", 276.5, 19.2, 3.7, True),
        (1, 6, "SDO/MagnetoGAN", 277.0, 19.1, 3.3, False),
        (1, 9, "SDO/MagnetoGAN", 277.2, 19.3, 3.0, False),
        (2, 0, "STEREO B/MagnetoGAN", 312.0, 10.0, 2.5, False),
        (2, 3, "STEREO B/MagnetoGAN", 313.0, 10.4, 2.2, False),
        (3, 6, "SDO/MagnetoGAN", 355.0, -9.0, 0.5, False),
        (3, 9, "SDO/MagnetoGAN", 2.0, -9.5, 0.4, True),
    ]
    history = QTable()
    history["track_id"] = [r[0] for r in rows]
    history["time"] = Time("2014-09-14T00:00") + [r[1] for r in rows] * u.day
    history["observer"] = [r[2] for r in rows]
    history["lon"] = [r[3] for r in rows] * u.deg
    history["lat"] = [r[4] for r in rows] * u.deg
    history["unsigned_flux"] = [r[5] * 1e22 for r in rows] * u.Mx
    history["near_limb"] = [r[6] for r in rows]
    tracks = QTable()
    tracks["track_id"] = [1, 2, 3]
    tracks["status"] = ["active", "merged", "active"]
    return history, tracks


@figure_test
def test_plot_tracks_without_background():
    history, tracks = tracking_tables()
    fig = plt.figure(figsize=(8, 4))
    ax = plot_tracks(history, tracks=tracks, ax=fig.add_subplot())

    labelled = {line.get_label(): line for line in ax.get_lines() if line.get_label().startswith("track")}
    assert sorted(labelled) == ["track 1", "track 2", "track 3"]
    assert labelled["track 2"].get_linestyle() == "--"  # merged
    assert labelled["track 1"].get_linestyle() == "-"
    # Track 3 crosses 0/360 deg: drawn as two segments, not a line across the map.
    track3 = [line for line in ax.get_lines() if line.get_color() == labelled["track 3"].get_color()]
    assert max(np.ptp(line.get_xdata()) for line in track3 if line.get_linestyle() == "-") < 10
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["STEREO B/MagnetoGAN", "SDO/MagnetoGAN"]
    assert ax.get_xlim() == (0, 360)
    assert ax.get_ylim() == (-90, 90)
    assert ax.get_xlabel() == "Carrington longitude [deg]"
    assert [t.get_text() for t in ax.texts] == [" 1", " 2", " 3"]
    return strip_text(fig)


def carrington_map(data, date=DATE):
    observer = SkyCoord(0 * u.deg, 0 * u.deg, 1 * u.AU, frame=HeliographicStonyhurst, obstime=date)
    header = make_heliographic_header(
        date, observer, data.shape, frame="carrington", map_center_longitude=180 * u.deg
    )
    header["bunit"] = "G"
    return sunpy.map.Map(data, header)


def carrington_field(shape=(45, 90)):
    lat = np.linspace(-88, 88, shape[0])[:, None]
    lon = np.linspace(2, 358, shape[1])[None, :]
    field = 400 * np.exp(-((lon - 277) ** 2 + (lat - 19) ** 2) / 20.0)
    field -= 350 * np.exp(-((lon - 270) ** 2 + (lat - 17) ** 2) / 20.0)
    return field + 8 * np.sign(lat) * np.abs(np.sin(np.deg2rad(lat))) ** 8


@figure_test
def test_plot_tracks_over_synoptic_background():
    history, tracks = tracking_tables()
    background = carrington_map(carrington_field())
    fig = plt.figure(figsize=(8, 4))
    ax = fig.add_subplot(projection=background)
    plot_tracks(history, tracks=tracks, background=background, ax=ax, vmax=300 * u.G, annotate=False)

    (image,) = images(ax)
    assert (image.norm.vmin, image.norm.vmax) == (-300, 300)
    assert sum(line.get_label() == "track 1" for line in ax.get_lines()) == 1
    assert not ax.texts  # annotate=False
    assert ax.coords[0].get_axislabel() == "Carrington Longitude"
    return strip_text(fig)


@figure_test
def test_plot_flux_history():
    history, tracks = tracking_tables()
    fig = plt.figure(figsize=(8, 4))
    ax = plot_flux_history(history, tracks=tracks, ax=fig.add_subplot())

    lines = {line.get_label(): line for line in ax.get_lines() if line.get_label().startswith("track")}
    assert sorted(lines) == ["track 1", "track 2", "track 3"]
    np.testing.assert_allclose(lines["track 1"].get_ydata(), [4.0e22, 3.7e22, 3.3e22, 3.0e22])
    assert ax.get_yscale() == "log"
    assert ax.get_ylabel() == "unsigned flux [Mx]"
    # The near-limb detection of track 1 is drawn as an open marker.
    open_markers = [
        line
        for line in ax.get_lines()
        if not line.get_label().startswith("track") and line.get_markerfacecolor() == "none"
    ]
    assert sum(len(line.get_xdata()) for line in open_markers) == 2
    return strip_text(fig)


@figure_test
def test_plot_synoptic_map_outlines_sources():
    field = carrington_field()
    source = np.full(field.shape, -1, dtype=np.int16)
    source[5:-5, :45] = 0  # front side, observed
    source[5:-5, 45:] = 1  # far side, predicted
    field = np.where(source >= 0, field, np.nan)
    synoptic = SynopticMap(
        map=carrington_map(field),
        coverage=carrington_map(np.where(source >= 0, 1.0, 0.0)),
        source=carrington_map(source),
        labels=("SDO/HMI", "GAN farside", "unused"),
    )
    fig = plt.figure(figsize=(8, 4))
    ax = fig.add_subplot(projection=synoptic.map)
    plot_synoptic_map(synoptic, ax=ax, vmax=300 * u.G)

    (image,) = images(ax)
    assert (image.norm.vmin, image.norm.vmax) == (-300, 300)
    contours = [c for c in ax.collections if isinstance(c, matplotlib.contour.ContourSet)]
    assert len(contours) == 2  # one outline per source present; "unused" has no pixels
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["SDO/HMI", "GAN farside"]
    assert ax.get_title() == "Synoptic map 2014-02-05T12:00"
    assert matplotlib.colors.to_hex(ax.get_facecolor()) == matplotlib.colors.to_hex("0.85")
    return strip_text(fig)


# ---------------------------------------------------------------- the map source


@figure_test
def test_magnetoganmap_plot():
    smap = hpc_map(
        bipole_field(),
        extra={
            "telescop": "sunpy-magnetogan",
            "instrume": "MagnetoGAN",
            "detector": "demo",
            "mganmodl": "demo",
            "src_det": "AIA",
            "src_wave": 304.0,
        },
    )
    assert isinstance(smap, MagnetoGANMap)
    fig = plt.figure(figsize=(5, 5))
    ax = fig.add_subplot(projection=smap)
    image = smap.plot(axes=ax)

    assert image.get_cmap().name == "hmimag"
    assert (image.norm.vmin, image.norm.vmax) == (-1000, 1000)
    assert ax.get_title().startswith("MagnetoGAN demo (AIA 304)")
    assert ax.coords[0].get_axislabel() == "Helioprojective Longitude (Solar-X)"
    return strip_text(fig)


@pytest.mark.parametrize(
    ("kwargs", "limits"),
    [
        ({"vmin": -300, "vmax": 300}, (-300, 300)),
        ({"vmin": -200}, (-200, 1000)),  # the other limit keeps its default
        ({"norm": ImageNormalize(vmin=-50, vmax=50)}, (-50, 50)),
        ({"clip_interval": (0, 100) * u.percent}, None),  # the data's extremes
    ],
)
def test_magnetoganmap_plot_takes_limits_as_sunpy_maps_do(kwargs, limits):
    smap = hpc_map(bipole_field(), extra={"telescop": "sunpy-magnetogan", "mganmodl": "demo"})
    fig = plt.figure()
    image = smap.plot(axes=fig.add_subplot(projection=smap), **kwargs)
    expected = limits or (float(np.nanmin(smap.data)), float(np.nanmax(smap.data)))
    assert (image.norm.vmin, image.norm.vmax) == pytest.approx(expected)
    assert (smap.plot_settings["norm"].vmin, smap.plot_settings["norm"].vmax) == (-1000, 1000)
    plt.close(fig)
