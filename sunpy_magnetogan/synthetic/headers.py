"""
The headers of the synthetic observations: WCS, instrument and Solar Orbiter level-2 keywords.

`synthetic_header` writes what ``sunpy_magnetogan.synthetic.observe`` puts on each image, so
that sunpy recognises it as an HMIMap, AIAMap, EUVIMap or EUIMap, and that the Solar
Orbiter images carry the keywords of the real ``eui-fsi304-image`` and ``phi-fdt-blos``
level-2 products.
"""

import astropy.units as u
from astropy.coordinates import SkyCoord
from sunpy.coordinates import HeliocentricInertial, Helioprojective

from sunpy_magnetogan.sphere import SOLAR_RADIUS
from sunpy_magnetogan.synthetic.euv import instrument_header
from sunpy_magnetogan.synthetic.observers import observation_time

__all__ = ["RSUN", "synthetic_header"]

#: Radius of the synthetic photosphere (IAU nominal, `sunpy_magnetogan.sphere.SOLAR_RADIUS`),
#: written as RSUN_REF in the headers.
RSUN = SOLAR_RADIUS.to(u.km)


def synthetic_header(instrument, observer, time, plane, shape, *, observatory, sun, l0, b0):
    """
    The FITS header of a synthetic observation.

    The WCS and instrument keywords of `~sunpy_magnetogan.synthetic.euv.instrument_header`,
    the observer's Carrington position, the roll keyword of the instrument's own files
    (``CROTA2`` for SDO, ``CROTA`` for EUVI and Solar Orbiter), the keywords of the
    Solar Orbiter level-2 products for FSI and PHI, and the synthetic provenance
    (``ORIGIN``, ``SYNSEED``, ``COMMENT``).

    Parameters
    ----------
    instrument : `~sunpy_magnetogan.synthetic.instruments.Instrument`
        The instrument.
    observer : `~astropy.coordinates.SkyCoord`
        The observer (Heliographic Stonyhurst).
    time : `~astropy.time.Time` or str
        Observation time.
    plane : `~sunpy_magnetogan.synthetic.projection.ImagePlane`
        The image's pixel grid (reference pixel, plate scale in arcsec, roll in degrees).
    shape : tuple of int
        ``(ny, nx)`` of the image.
    observatory : str
        ``OBSRVTRY``.
    sun : `~sunpy_magnetogan.synthetic.SyntheticSun`
        The Sun observed (its seed is recorded).
    l0, b0 : float
        Carrington longitude and latitude of the sub-observer point, degrees.

    Returns
    -------
    `~sunpy.util.MetaDict`
        The header.
    """
    obstime = observation_time(time)
    frame = Helioprojective(observer=observer, obstime=obstime, rsun=RSUN)
    telescope = instrument.telescope
    if instrument.name in ("HMI", "AIA") and observatory != "SDO":
        telescope = f"{observatory}/{instrument.name}"
    header = instrument_header(
        instrument,
        shape,
        SkyCoord(0 * u.arcsec, 0 * u.arcsec, frame=frame),
        observatory=observatory,
        telescope=telescope,
        reference_pixel=u.Quantity(plane.crpix, u.pix),
        scale=u.Quantity([plane.scale, plane.scale], u.arcsec / u.pix),
        rotation_angle=plane.roll * u.deg,
    )
    header["crln_obs"] = l0
    header["crlt_obs"] = b0
    if instrument.name in ("FSI", "PHI"):
        _solo_keywords(header, instrument, observer, obstime, plane)
    elif instrument.name == "EUVI":
        header["rsun"] = float(header["rsun_obs"])
        header["crota"] = plane.roll
    else:
        header["crota2"] = plane.roll
    if instrument.name == "HMI":
        header["content"] = "MAGNETOGRAM"
    elif instrument.name in ("AIA", "EUVI"):
        header["lvl_num"] = 1.5
    header["origin"] = "sunpy_magnetogan.synthetic"
    header["synseed"] = sun.seed
    header["comment"] = (
        f"Synthetic {instrument.name} observation of SyntheticSun(seed={sun.seed}); "
        "radial-field approximation B_los = B_r * mu"
    )
    return header


def _solo_keywords(header, instrument, observer, obstime, plane):
    """
    The keywords of the level-2 EUI/FSI and PHI/FDT products (Solar Orbiter metadata standard).

    As in the files read in sunpy's tests: ``solo_L1_eui-fsi304-image_20201021T145510206_V03``
    (EUI; level 2 differs by ``LEVEL = 'L2'`` and ``BUNIT = 'DN/s'``) and
    ``solo_LL02_phi-fdt-blos_20240305T041509_V202405151730C_0403057611`` (PHI).
    """
    exposure = instrument.exposure.to_value(u.s)
    stamp = (obstime - exposure / 2 * u.s).strftime("%Y%m%dT%H%M%S")
    hci = observer.transform_to(HeliocentricInertial(obstime=obstime)).cartesian.xyz.to_value(u.m)
    header.pop("exptime", None)
    header["obsrvtry"] = "Solar Orbiter"
    header["level"] = "L2"
    header["crota"] = plane.roll
    # The synthetic Sun is seen at the middle of the exposure (DATE-AVG, sunpy's reference date).
    header["date-obs"] = header["date-beg"] = (obstime - exposure / 2 * u.s).isot
    header["date-avg"] = obstime.isot
    header["rsun_arc"] = float(header["rsun_obs"])
    header["dsun_au"] = float((observer.radius).to_value(u.AU))
    header["hcix_obs"], header["hciy_obs"], header["hciz_obs"] = (float(v) for v in hci)
    # The read-out window of the detector and its binning (a window centred on the detector).
    binning = plane.scale / instrument.native_scale.to_value(u.arcsec)
    span = min(round(plane.shape[1] * binning), instrument.native_npix)
    header["pxbeg1"] = header["pxbeg2"] = (instrument.native_npix - span) // 2 + 1
    header["pxend1"] = header["pxend2"] = (instrument.native_npix - span) // 2 + span
    binning = round(binning) if abs(binning - round(binning)) < 1e-6 else round(binning, 4)
    header["nbin1"] = header["nbin2"] = binning
    header["nbin"] = binning**2
    if instrument.name == "FSI":
        header["filename"] = f"solo_L2_eui-fsi304-image_{stamp}000_V00.fits"
        header["btype"] = "Intensity"
        header["xposure"] = exposure
        header["filter"] = "Magnesium_304_n4"
        header["wavelnth"] = round(instrument.wavelength.to_value(u.AA))  # an integer, as in the files
        header["waveunit"] = "Angstrom"
        header["wavemin"] = 250
        header["wavemax"] = 350
    else:
        header["filename"] = f"solo_L2_phi-fdt-blos_{stamp}_V00_0000000000.fits"
        header["btype"] = "LOS Magnetic Field Strength"
        header["date-end"] = (obstime + exposure / 2 * u.s).isot
        header["rpltscl"] = instrument.native_scale.to_value(u.arcsec)
        header["wavemin"] = 6172.975
        header["wavemax"] = 6173.411
        for key in ("wavelnth", "waveunit"):
            header.pop(key, None)
