"""
Solar Orbiter inputs and truth: EUI/FSI 304 A images and PHI/FDT line-of-sight magnetograms.

Solar Orbiter observes the Sun from 0.28 to 1 AU and, in cycle 25, often from behind it.
Two of its instruments give the far side what STEREO never had:

- the Full Sun Imager of the Extreme Ultraviolet Imager (EUI/FSI, Rochus et al. 2020,
  A&A 642, A8) takes 304 A images of the whole disk (SOAR product ``eui-fsi304-image``);
  sunpy reads them as `~sunpy.map.sources.EUIMap` (``OBSRVTRY = 'Solar Orbiter'``,
  ``INSTRUME = 'EUI'``, ``DETECTOR = 'FSI'``, ``WAVELNTH = 304``), and
  `~sunpy_magnetogan.validation.validate_euv_map` accepts them as ``"FSI"`` inputs of
  `~sunpy_magnetogan.generate.generate_magnetogram`;
- the Full Disc Telescope of the Polarimetric and Helioseismic Imager (PHI/FDT, Solanki et
  al. 2020, A&A 642, A11) measures the line-of-sight field at the same time (SOAR product
  ``phi-fdt-blos``; ``TELESCOP = 'SOLO/PHI/FDT'``, ``INSTRUME = 'PHI'``,
  ``BTYPE = 'LOS Magnetic Field Strength'``, ``BUNIT = 'G'``), a farside truth for the
  generated magnetograms.

The keywords are those of the Solar Orbiter metadata standard (SOL-SGS-TN-0009, "Metadata
Definition for Solar Orbiter Science Data") as they appear in the EUI and PHI files that
sunpy's own tests read (``solo_L1_eui-fsi304-image_20201021T145510206_V03.header`` and
``solo_LL02_phi-fdt-blos_20240305T041509_V202405151730C_0403057611.header`` in
``sunpy/data/test``).

**FSI to the AIA scale.** FSI's pixels (4.44 arcsec at full resolution, 3072 px over a
3.8 deg field) are coarser than AIA's (0.6 arcsec) and its 304 A channel has its own
response and degradation. As for EUVI (`~sunpy_magnetogan.data.intercalibration`), the
image is mapped onto the AIA training distribution by a power law fitted per image to the
quiet-Sun percentiles on the model grid (`intercalibrate_fsi`): the plate scale is handled
by the model grid, the per-image fit follows the degradation, and the fit is recorded in
the header with its source.

**PHI to the HMI scale.** PHI and HMI measure the same Fe I 6173 A line but do not read
the same field strengths, and no published factor holds for the ``phi-fdt-blos`` product
in general, so the package hard-codes none: `phi_to_hmi` applies the factor the caller
takes from the literature for the data at hand and records it, with its reference, in the
header (``PHI2HMI``, ``PHI2HREF``) and the history, so that every score against PHI truth
says which scale it used. The published comparisons found (searched in December 2026):

- PHI/HRT against HMI (Sinjan et al. 2023, A&A 673, A31, "Magnetic fields inferred by
  Solar Orbiter: A comparison between SO/PHI-HRT and SDO/HMI", arXiv:2303.16771): data of
  the inferior conjunction of 7 March 2022 (3 deg between the observatories), HRT degraded
  to HMI's resolution; line-of-sight fields with a slope of 0.97, an offset below 1 G and
  a Pearson correlation of 0.97, HRT reading weaker fields in the strongest features. It
  is the High Resolution Telescope, not the FDT, and the abstract does not say which
  instrument is the regressor.
- PHI/HRT after a stray-light correction (Sinjan et al. 2026, arXiv:2603.18744, "A stray
  light analysis for SO/PHI-HRT and an updated comparison of the inferred magnetic field
  with SDO/HMI"; March 2023 conjunction): HRT now infers stronger line-of-sight fields than
  HMI in most features, so the 2023 relation depends on the HRT processing.
- PHI/FDT against HMI (Moreno Vacas et al. 2024, A&A 685, A28, "Comparison of magnetic
  data products from Solar Orbiter SO/PHI-FDT and SDO/HMI"): data of 8 March 2022 (3.4 deg
  between the observatories, four active regions), plate scales matched, linear
  correlation coefficients of B, inclination, B_LoS and azimuth. Its fitted B_LoS relation
  could not be read from the sources available when this was written.

All three come from data taken near an inferior conjunction (a few degrees from the
Sun-Earth line), whereas the FDT's resolution changes with the distance to the Sun and cross-calibration
factors of other magnetographs change with the centre-to-limb distance and the field
strength (Liu et al. 2025, Sol. Phys. 300, for GONG, MDI, SOLIS, MWO and WSO against HMI).
"""

import logging

import astropy.units as u
import numpy as np
import sunpy.map
from astropy.time import Time

from sunpy_magnetogan.data.intercalibration import match_reference_distribution
from sunpy_magnetogan.exceptions import DataFetchError, InputMapError
from sunpy_magnetogan.validation import validate_euv_map

__all__ = [
    "EUI_FSI304_PRODUCT",
    "FSI_PLATE_SCALE",
    "PHI_FDT_BLOS_PRODUCT",
    "intercalibrate_fsi",
    "is_eui_fsi",
    "is_phi_fdt_blos",
    "phi_to_hmi",
    "search_solo",
    "soar_query",
]

log = logging.getLogger(__name__)

#: SOAR product name of the EUI/FSI 304 A images (``a.soar.Product`` with sunpy-soar).
EUI_FSI304_PRODUCT = "eui-fsi304-image"
#: SOAR product name of the PHI/FDT line-of-sight magnetograms.
PHI_FDT_BLOS_PRODUCT = "phi-fdt-blos"
#: Instrument of each SOAR product, as ``a.Instrument`` names it.
_PRODUCT_INSTRUMENTS = {EUI_FSI304_PRODUCT: "EUI", PHI_FDT_BLOS_PRODUCT: "PHI"}
#: Plate scale of FSI at full resolution (3072 x 3072 px over a 3.8 deg field of view).
FSI_PLATE_SCALE = 4.44 * u.arcsec / u.pix


def is_eui_fsi(smap):
    """
    Whether a map is a Solar Orbiter EUI Full Sun Imager image.

    Parameters
    ----------
    smap : `~sunpy.map.GenericMap`

    Returns
    -------
    bool
        True for ``OBSRVTRY = 'Solar Orbiter'``, ``INSTRUME = 'EUI'``, ``DETECTOR = 'FSI'``
        (any wavelength).

    Examples
    --------
    >>> from sunpy.data.test import get_dummy_map_from_header, get_test_filepath
    >>> from sunpy_magnetogan.data.solo import is_eui_fsi
    >>> fsi = get_dummy_map_from_header(get_test_filepath("solo_L1_eui-fsi304-image_20201021T145510206_V03.header"))
    >>> is_eui_fsi(fsi), fsi.wavelength
    (True, <Quantity 304. Angstrom>)
    """
    meta = smap.meta
    return (
        "solar orbiter" in str(meta.get("obsrvtry", "")).lower()
        and str(meta.get("instrume", "")).strip().upper().startswith("EUI")
        and str(meta.get("detector", "")).strip().upper() == "FSI"
    )


def is_phi_fdt_blos(smap):
    """
    Whether a map is a Solar Orbiter PHI Full Disc Telescope line-of-sight magnetogram.

    Parameters
    ----------
    smap : `~sunpy.map.GenericMap`

    Returns
    -------
    bool
        True for ``INSTRUME = 'PHI'``, ``TELESCOP = 'SOLO/PHI/FDT'`` and a magnetic field
        (``BTYPE`` naming the line-of-sight field, or ``phi-fdt-blos`` in ``FILENAME``)
        in a unit of magnetic field.

    Examples
    --------
    >>> import sunpy.map
    >>> from sunpy_magnetogan.data.solo import is_phi_fdt_blos
    >>> from sunpy_magnetogan.sample import SAMPLE_HMI
    >>> is_phi_fdt_blos(sunpy.map.Map(SAMPLE_HMI))
    False
    >>> phi = sunpy.map.Map("solo_L2_phi-fdt-blos_20220308T070009_V01.fits")  # doctest: +SKIP
    >>> is_phi_fdt_blos(phi)  # doctest: +SKIP
    True
    """
    meta = smap.meta
    if str(meta.get("instrume", "")).strip().upper() != "PHI":
        return False
    if str(meta.get("telescop", "")).strip().upper() != "SOLO/PHI/FDT":
        return False
    btype = str(meta.get("btype", "")).lower()
    blos = ("los" in btype and "magnetic" in btype) or PHI_FDT_BLOS_PRODUCT in str(meta.get("filename", ""))
    unit = smap.unit
    return bool(blos and unit is not None and unit.is_equivalent(u.G))


def intercalibrate_fsi(smap, *, reference, grid=None, gamma_range=(0.25, 4.0)):
    """
    Map an EUI/FSI 304 A image to AIA-304-equivalent intensities.

    The method of `~sunpy_magnetogan.data.intercalibrate_euvi`: a power law
    ``I_AIA = s * I_FSI ** gamma`` fitted to the quiet-Sun percentiles of the image on the
    model grid against those of the AIA training data, applied to every pixel.

    Parameters
    ----------
    smap : `~sunpy.map.sources.EUIMap`
        An FSI 304 A image (level 2, DN/s).
    reference : `~sunpy_magnetogan.data.QuantileReference`
        The AIA distribution to match (the training data's ``euv_reference.json``).
    grid : `~sunpy_magnetogan.grid.ModelGrid`, optional
        Grid the percentiles are measured on (``ModelGrid(reference.grid_size)`` by default).
    gamma_range : tuple of float, optional
        Accepted range of the fitted exponent; outside it the image is refused.

    Returns
    -------
    `~sunpy.map.sources.EUIMap`
        Same observer, date and WCS; data in AIA-equivalent DN/s (float32); the fit is
        recorded in ``ICALMETH``, ``ICALGAMM``, ``ICALSCAL``, ``ICALRMS``, ``ICALREF``
        and ``HISTORY``.

    Raises
    ------
    TypeError
        If the map is not an EUI/FSI 304 A image.
    InvalidDataError
        If the fit fails or its exponent is outside ``gamma_range``.

    Examples
    --------
    >>> from sunpy_magnetogan.data import QuantileReference
    >>> reference = QuantileReference.load("dataset/euv_reference.json")  # doctest: +SKIP
    >>> fsi = sunpy.map.Map("solo_L2_eui-fsi304-image_20220308T070045_V01.fits")  # doctest: +SKIP
    >>> matched = intercalibrate_fsi(fsi, reference=reference)  # doctest: +SKIP
    >>> matched.meta["icalgamm"]  # the fitted exponent  # doctest: +SKIP
    """
    if validate_euv_map(smap) != "FSI":
        raise TypeError(f"intercalibrate_fsi maps Solar Orbiter EUI/FSI images to AIA; got {smap.nickname}")
    return match_reference_distribution(smap, reference, label="EUI/FSI", grid=grid, gamma_range=gamma_range)


def phi_to_hmi(smap, *, factor, reference):
    """
    Put a PHI/FDT line-of-sight magnetogram on the HMI scale, recording how.

    Parameters
    ----------
    smap : `~sunpy.map.GenericMap`
        A PHI/FDT ``phi-fdt-blos`` map (`is_phi_fdt_blos`).
    factor : float
        ``B_HMI = factor * B_PHI``, from a PHI/FDT-HMI cross-calibration valid for the
        product version, distance and field range in use (e.g. Moreno Vacas et al. 2024,
        A&A 685, A28). There is no default: no published factor holds for the FDT product
        in general (the module notes list the comparisons found and their conditions).
    reference : str
        Where ``factor`` comes from (a citation), written to the header.

    Returns
    -------
    `~sunpy.map.GenericMap`
        The same map (observer, date, WCS) with the data in HMI-equivalent G and the
        keywords ``PHI2HMI`` (the factor), ``PHI2HREF`` (its reference) and a ``HISTORY``
        line. It is accepted wherever a true magnetogram is (metrics, tracking, synoptic
        maps).

    Raises
    ------
    InputMapError
        If the map is not a PHI/FDT line-of-sight magnetogram, or was already scaled.
    ValueError
        If ``factor`` is not a positive finite number or ``reference`` is empty.

    Examples
    --------
    A synthetic magnetogram relabelled as a PHI/FDT product:

    >>> import sunpy.map
    >>> from sunpy_magnetogan.data.solo import phi_to_hmi
    >>> from sunpy_magnetogan.synthetic import SyntheticSun, observe_hmi
    >>> hmi = observe_hmi(SyntheticSun(3004), "2014-09-20", npix=64)
    >>> meta = hmi.meta.copy()
    >>> meta.update({"instrume": "PHI", "telescop": "SOLO/PHI/FDT", "btype": "LOS Magnetic Field Strength"})
    >>> phi = sunpy.map.Map(hmi.data, meta)
    >>> hmi_scale = phi_to_hmi(phi, factor=0.9, reference="an example factor")
    >>> hmi_scale.meta["phi2hmi"], hmi_scale.meta["phi2href"]
    (0.9, 'an example factor')
    """
    if not isinstance(smap, sunpy.map.GenericMap) or not is_phi_fdt_blos(smap):
        raise InputMapError(
            "phi_to_hmi needs a Solar Orbiter PHI/FDT line-of-sight magnetogram (phi-fdt-blos)"
        )
    if "phi2hmi" in smap.meta:
        raise InputMapError(f"the map is already on the HMI scale (PHI2HMI = {smap.meta['phi2hmi']})")
    factor = float(factor)
    if not np.isfinite(factor) or factor <= 0:
        raise ValueError(f"factor must be a positive number, not {factor}")
    if not str(reference).strip():
        raise ValueError("give the reference of the PHI-to-HMI factor")
    to_gauss = (1 * smap.unit).to(u.G)  # a field unit, checked by is_phi_fdt_blos
    meta = smap.meta.copy()
    meta["bunit"] = "G"
    meta["phi2hmi"] = factor
    meta["phi2href"] = str(reference)
    history = f"PHI/FDT to HMI scale: B = {factor:.4g} * B_PHI ({reference})"
    meta["history"] = f"{meta.get('history', '')}\n{history}".strip()
    log.info("%s: %s", smap.date.isot, history)
    data = np.asarray(smap.data, dtype=np.float32) * np.float32(factor * to_gauss.to_value(u.G))
    return smap._new_instance(data, meta, plot_settings=smap.plot_settings)


def _soar_attrs():
    try:
        import sunpy_soar  # noqa: F401 - registers a.soar with Fido
        from sunpy.net import attrs as a
    except ImportError as exc:
        raise DataFetchError(
            "searching the Solar Orbiter Archive needs sunpy-soar: pip install sunpy-soar "
            "(or the package's 'net' extra)"
        ) from exc
    return a


def soar_query(start, end, product, *, level=2):
    """
    The `sunpy.net.Fido` query of one Solar Orbiter product over a time range.

    Parameters
    ----------
    start, end : str or `~astropy.time.Time`
        The time range.
    product : str
        A SOAR product: `EUI_FSI304_PRODUCT` (``eui-fsi304-image``) or
        `PHI_FDT_BLOS_PRODUCT` (``phi-fdt-blos``).
    level : int
        Processing level (2: calibrated images, B_los in G).

    Returns
    -------
    `sunpy.net.attr.AttrAnd`
        ``a.Time & a.Instrument & a.soar.Product & a.Level``; nothing is sent.

    Raises
    ------
    ValueError
        For another product.
    DataFetchError
        If sunpy-soar is not installed.

    Examples
    --------
    >>> from sunpy.net import Fido
    >>> from sunpy_magnetogan.data.solo import soar_query
    >>> query = soar_query("2022-03-08T00:00", "2022-03-08T06:00", "phi-fdt-blos")  # needs sunpy-soar
    >>> "phi-fdt-blos" in repr(query)
    True
    >>> results = Fido.search(query)  # doctest: +SKIP
    """
    if product not in _PRODUCT_INSTRUMENTS:
        raise ValueError(f"product must be one of {sorted(_PRODUCT_INSTRUMENTS)}, not {product!r}")
    a = _soar_attrs()
    start, end = Time(start), Time(end)
    if end <= start:
        raise ValueError(f"the time range is empty: {start.isot} to {end.isot}")
    return (
        a.Time(start, end)
        & a.Instrument(_PRODUCT_INSTRUMENTS[product])
        & a.soar.Product(product)
        & a.Level(int(level))
    )


def search_solo(start, end, *, products=(EUI_FSI304_PRODUCT, PHI_FDT_BLOS_PRODUCT), level=2):
    """
    Search the Solar Orbiter Archive for EUI/FSI 304 A images and PHI/FDT magnetograms.

    Parameters
    ----------
    start, end : str or `~astropy.time.Time`
        The time range.
    products : iterable of str
        SOAR products (`soar_query`).
    level : int
        Processing level.

    Returns
    -------
    dict
        ``{product: sunpy.net.fido_factory.UnifiedResponse}``; download with
        ``Fido.fetch``.

    Raises
    ------
    DataFetchError
        If sunpy-soar is missing or the archive cannot be searched.

    Examples
    --------
    >>> results = search_solo("2022-03-08T00:00", "2022-03-08T06:00")  # doctest: +SKIP
    >>> sorted(results)  # doctest: +SKIP
    ['eui-fsi304-image', 'phi-fdt-blos']
    """
    queries = {product: soar_query(start, end, product, level=level) for product in products}
    from sunpy.net import Fido

    results = {}
    for product, query in queries.items():
        try:
            results[product] = Fido.search(query)
        except Exception as exc:  # network and archive errors come in many kinds
            raise DataFetchError(f"the SOAR search for {product} failed: {exc}") from exc
        log.info("SOAR %s: %d record(s)", product, len(results[product][0]) if len(results[product]) else 0)
    return results
