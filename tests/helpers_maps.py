"""
Small EUV and magnetogram maps with known features, for testing the map pipeline.

Features are Gaussian blobs placed at known helioprojective coordinates; they are drawn in
pixel space around the WCS position of their centre, so maps of 4096 px are cheap to make.
"""

import astropy.units as u
import numpy as np
import sunpy.map
from astropy.coordinates import SkyCoord
from sunpy.coordinates import HeliographicStonyhurst, Helioprojective

__all__ = ["DEFAULT_FEATURES", "make_observer", "make_test_map"]

DATE = "2022-03-01T12:00:00"

#: Helioprojective (Tx, Ty) of the default features, in arcsec, as seen from near Earth.
DEFAULT_FEATURES = [(-400, 250), (300, -350), (0, 0), (650, 450), (-700, -300)]

_INSTRUMENTS = {
    "AIA": dict(
        telescope="SDO/AIA", instrument="AIA_4", detector="AIA", observatory="SDO", wavelength=304 * u.AA
    ),
    "EUVI": dict(
        telescope="STEREO",
        instrument="SECCHI",
        detector="EUVI",
        observatory="STEREO_A",
        wavelength=304 * u.AA,
    ),
    "HMI": dict(
        telescope="SDO/HMI", instrument="HMI_SIDE1", detector="HMI", observatory="SDO", wavelength=6173 * u.AA
    ),
}


def make_observer(lon=0 * u.deg, *, lat=-7 * u.deg, distance=1 * u.AU, date=DATE):
    """An observer in Heliographic Stonyhurst coordinates."""
    return SkyCoord(lon, lat, distance, frame=HeliographicStonyhurst(obstime=date))


def make_test_map(
    npix,
    *,
    roll=0 * u.deg,
    observer=None,
    instrument="AIA",
    features=None,
    wavelength=None,
    disk_fraction=0.385,
    offset=(0, 0),
    amplitude=400.0,
    sigma=25 * u.arcsec,
    background=100.0,
    unit=None,
):
    """
    A full-disk map with Gaussian blobs at given helioprojective coordinates.

    Parameters
    ----------
    npix : int
        Size of the square image.
    roll : Quantity
        Roll angle (CROTA2): 180 deg flips the image as in level-1 HMI.
    observer : SkyCoord
        Observer (Earth-like by default).
    instrument : {"AIA", "EUVI", "HMI"}
        Header keywords of that instrument.
    features : list of (Tx, Ty) in arcsec
        Blob centres, as seen by ``observer``.
    disk_fraction : float
        Solar radius as a fraction of ``npix`` (sets the plate scale).
    offset : tuple of float
        Pointing offset of the image centre (arcsec).

    Returns
    -------
    sunpy.map.GenericMap
        Data: ``background`` on the disk, 0 off the disk, plus the blobs of peak ``amplitude``.
    """
    observer = observer if observer is not None else make_observer()
    features = DEFAULT_FEATURES if features is None else features
    frame = Helioprojective(observer=observer, obstime=observer.obstime)
    rsun_arcsec = np.arcsin(695700 * u.km / observer.radius).to_value(u.arcsec)
    scale = rsun_arcsec / (disk_fraction * npix)
    keys = dict(_INSTRUMENTS[instrument])
    if wavelength is not None:
        keys["wavelength"] = wavelength
    centre = SkyCoord(offset[0] * u.arcsec, offset[1] * u.arcsec, frame=frame)
    header = sunpy.map.make_fitswcs_header(
        (npix, npix),
        centre,
        scale=[scale, scale] * u.arcsec / u.pix,
        rotation_angle=roll,
        unit=unit,
        **keys,
    )
    header["exptime"] = 2.0
    empty = sunpy.map.Map(np.zeros((npix, npix), np.float32), header)
    # Disk: a circle in pixel space around the Sun centre.
    cx, cy = empty.wcs.world_to_pixel(SkyCoord(0 * u.arcsec, 0 * u.arcsec, frame=frame))
    yy, xx = np.ogrid[:npix, :npix]
    radius_px = rsun_arcsec / scale
    data = np.where(np.hypot(xx - cx, yy - cy) <= radius_px, np.float32(background), np.float32(0))
    sig_px = sigma.to_value(u.arcsec) / scale
    half = int(np.ceil(5 * sig_px))
    for tx, ty in features:
        fx, fy = empty.wcs.world_to_pixel(SkyCoord(tx * u.arcsec, ty * u.arcsec, frame=frame))
        x0, y0 = round(float(fx)), round(float(fy))
        ys = slice(max(0, y0 - half), min(npix, y0 + half + 1))
        xs = slice(max(0, x0 - half), min(npix, x0 + half + 1))
        gy, gx = np.ogrid[ys, xs]
        data[ys, xs] += amplitude * np.exp(-((gx - fx) ** 2 + (gy - fy) ** 2) / (2 * sig_px**2))
    return sunpy.map.Map(data.astype(np.float32), header)
