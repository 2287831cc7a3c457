"""
The instruments the synthetic Sun is observed with: plate scale, resolution, noise, header.

Values are nominal, from the instrument papers (Schou et al. 2012 for HMI, Lemen et al.
2012 for AIA, Howard et al. 2008 / Wuelser et al. 2004 for SECCHI/EUVI, Rochus et al. 2020,
A&A 642, A8 for Solar Orbiter EUI/FSI, Solanki et al. 2020, A&A 642, A11 for Solar Orbiter
PHI/FDT), rounded:

========  ============  ========  ===========  ===========================================
name      native scale  detector  PSF sigma    noise / signal
========  ============  ========  ===========  ===========================================
HMI       0.504 arcsec  4096 px   0.45 arcsec  10 G per native pixel (LOS field)
AIA 304   0.600 arcsec  4096 px   0.65 arcsec  quiet Sun 60 DN/s, 2.9 s, 0.63 DN/photon
EUVI 304  1.590 arcsec  2048 px   1.40 arcsec  quiet Sun 25 DN/s, 8 s, 1.7 DN/photon
FSI 304   4.440 arcsec  3072 px   3.80 arcsec  quiet Sun 30 DN/s, 10 s, 1.0 DN/photon
PHI/FDT   3.574 arcsec  2048 px   3.20 arcsec  10 G per native pixel (LOS field)
========  ============  ========  ===========  ===========================================

FSI's 3072 px of 4.44 arcsec cover its 3.8 deg field of view (the whole disk even at the
0.28 AU perihelion, where the Sun is 1.9 deg across); the PSF is a FWHM of two pixels.
PHI/FDT's plate scale is the ``RPLTSCL`` of the ``phi-fdt-blos`` file read in sunpy's tests
(``solo_LL02_phi-fdt-blos_20240305T041509_V202405151730C_0403057611.header``); its 2048 px
cover 2 deg, and the PSF is that of its 17.5 mm aperture at 6173 A (FWHM 7.5 arcsec). The
FSI count rate, gain and read noise and the PHI noise are our choices, of the order of
those of the EUVI and HMI entries.

The quiet-Sun count rates are our choice: AIA 304 level-1 disk medians range from about 100
DN/s early in the mission to some tens of DN/s after degradation; EUVI 304 has a smaller
effective area, hence fewer photons per pixel and a lower signal-to-noise ratio. An image of
``npix`` pixels emulates the native detector rebinned by ``native_npix / npix``: the plate
scale is multiplied and the noise divided by that factor (the mean of ``k x k`` pixels).
"""

from dataclasses import dataclass

import astropy.units as u

__all__ = ["AIA304", "EUVI304", "FSI304", "HMI", "INSTRUMENTS", "PHI_FDT", "Instrument"]


@dataclass(frozen=True)
class Instrument:
    """
    Nominal properties of an imager, used to observe the synthetic Sun.

    Parameters
    ----------
    name : str
        Short name (``"HMI"``, ``"AIA"``, ``"EUVI"``, ``"FSI"``, ``"PHI"``).
    native_scale : `~astropy.units.Quantity`
        Plate scale of the detector, arcsec / pixel.
    native_npix : int
        Detector size (pixels per side) emulated by ``npix = native_npix``.
    psf_sigma : `~astropy.units.Quantity`
        Standard deviation of the Gaussian point-spread function, arcsec.
    telescope, instrument, detector : str
        Header values ``TELESCOP``, ``INSTRUME``, ``DETECTOR`` (the observatory is
        prefixed to the telescope for HMI and AIA when it is not SDO).
    wavelength : `~astropy.units.Quantity`
        ``WAVELNTH``.
    unit : str
        ``BUNIT``.
    exposure : `~astropy.units.Quantity`
        ``EXPTIME`` (``XPOSURE`` for Solar Orbiter); imagers whose ``unit`` is ``"DN/s"``
        give the counts divided by it.
    noise : `~astropy.units.Quantity`
        Magnetographs: noise per native pixel (G). Imagers: unused.
    quiet_rate : `~astropy.units.Quantity`
        Imagers: quiet-Sun disk-centre count rate per native pixel (DN/s).
    dn_per_photon : float
        Imagers: gain, for photon (Poisson) noise.
    read_noise : float
        Imagers: read noise per native pixel (DN).
    scatter : float
        Imagers: fraction of the light scattered into a broad halo (stray light).

    Examples
    --------
    >>> from sunpy_magnetogan.synthetic import AIA304, EUVI304, FSI304
    >>> AIA304.scale_for(512), EUVI304.scale_for(512), FSI304.scale_for(512)
    (<Quantity 4.8 arcsec>, <Quantity 6.36 arcsec>, <Quantity 26.64 arcsec>)
    """

    name: str
    native_scale: u.Quantity
    native_npix: int
    psf_sigma: u.Quantity
    telescope: str
    instrument: str
    detector: str
    wavelength: u.Quantity
    unit: str
    exposure: u.Quantity
    noise: u.Quantity = 0 * u.G
    quiet_rate: u.Quantity = 0 * u.ct / u.s
    dn_per_photon: float = 1.0
    read_noise: float = 0.0
    scatter: float = 0.0

    def scale_for(self, npix):
        """
        Plate scale of an ``npix`` image emulating the rebinned detector.

        Parameters
        ----------
        npix : int
            Pixels per side.

        Returns
        -------
        `~astropy.units.Quantity`
            arcsec / pixel.
        """
        return (self.native_scale * self.native_npix / npix).to(u.arcsec)

    def binning_for(self, npix):
        """Native pixels per image pixel along one axis (at least 1)."""
        return max(self.native_npix / npix, 1.0)


#: SDO/HMI line-of-sight magnetograms (hmi.M_720s).
HMI = Instrument(
    name="HMI",
    native_scale=0.504 * u.arcsec,
    native_npix=4096,
    psf_sigma=0.45 * u.arcsec,
    telescope="SDO/HMI",
    instrument="HMI_SIDE1",
    detector="HMI",
    wavelength=6173 * u.AA,
    unit="Gauss",
    exposure=720 * u.s,
    noise=10 * u.G,
)

#: SDO/AIA 304 A.
AIA304 = Instrument(
    name="AIA",
    native_scale=0.600 * u.arcsec,
    native_npix=4096,
    psf_sigma=0.65 * u.arcsec,
    telescope="SDO/AIA",
    instrument="AIA_4",
    detector="AIA",
    wavelength=304 * u.AA,
    unit="DN",
    exposure=2.9 * u.s,
    quiet_rate=60 * u.ct / u.s,
    dn_per_photon=0.63,
    read_noise=1.2,
    scatter=0.04,
)

#: STEREO/SECCHI EUVI 304 A.
EUVI304 = Instrument(
    name="EUVI",
    native_scale=1.590 * u.arcsec,
    native_npix=2048,
    psf_sigma=1.4 * u.arcsec,
    telescope="STEREO",
    instrument="SECCHI",
    detector="EUVI",
    wavelength=304 * u.AA,
    unit="DN",
    exposure=8.0 * u.s,
    quiet_rate=25 * u.ct / u.s,
    dn_per_photon=1.7,
    read_noise=2.5,
    scatter=0.08,
)

#: Solar Orbiter EUI Full Sun Imager, 304 A (level 2: DN/s).
FSI304 = Instrument(
    name="FSI",
    native_scale=4.44 * u.arcsec,
    native_npix=3072,
    psf_sigma=3.8 * u.arcsec,
    telescope="SOLO/EUI/FSI",
    instrument="EUI",
    detector="FSI",
    wavelength=304 * u.AA,
    unit="DN/s",
    exposure=10.0 * u.s,
    quiet_rate=30 * u.ct / u.s,
    dn_per_photon=1.0,
    read_noise=2.0,
    scatter=0.06,
)

#: Solar Orbiter PHI Full Disc Telescope line-of-sight magnetograms (``phi-fdt-blos``).
PHI_FDT = Instrument(
    name="PHI",
    native_scale=3.574 * u.arcsec,
    native_npix=2048,
    psf_sigma=3.2 * u.arcsec,
    telescope="SOLO/PHI/FDT",
    instrument="PHI",
    detector="FDT Magnetogram",
    wavelength=6173 * u.AA,
    unit="G",
    exposure=85 * u.s,
    noise=10 * u.G,
)

#: The instruments by name.
INSTRUMENTS = {"HMI": HMI, "AIA": AIA304, "EUVI": EUVI304, "FSI": FSI304, "PHI": PHI_FDT}
