"""
Sample input that ships with the package, so that the demo and the gallery run offline.

The files are synthetic (made by `sunpy_magnetogan.synthetic` with `make_sample_files`, from
a held-out seed of the benchmark test split that no shipped model was trained on): an
SDO/AIA-like 304 A image of 1024 x 1024 pixels and the HMI-like magnetogram of the same
observer and time, its ground truth. They are RICE-compressed FITS files with complete
headers, read by `sunpy.map.Map` like real AIA and HMI files.
"""

from pathlib import Path

__all__ = ["SAMPLE_AIA304", "SAMPLE_DATE", "SAMPLE_HMI", "SAMPLE_SEED", "make_sample_files"]

_DIR = Path(__file__).parent / "data" / "sample"

#: Synthetic AIA 304 A sample image (1024 px, FITS).
SAMPLE_AIA304 = _DIR / "synthetic_aia304_20140205T1200.fits"
#: The ground-truth synthetic HMI magnetogram of the same observer and time (1024 px, FITS).
SAMPLE_HMI = _DIR / "synthetic_hmi_20140205T1200.fits"
#: The synthetic Sun and date the samples show (a held-out test seed).
SAMPLE_SEED = 1003
SAMPLE_DATE = "2014-02-05T12:00:00"


def make_sample_files(directory=_DIR, *, npix=1024):
    """
    (Re)make the sample files.

    Parameters
    ----------
    directory : str or os.PathLike, optional
        Where to write them (the package's sample folder by default).
    npix : int, optional
        Image size.

    Returns
    -------
    tuple of pathlib.Path
        The AIA 304 and HMI files.

    Examples
    --------
    >>> import sunpy.map
    >>> from sunpy_magnetogan.sample import make_sample_files
    >>> aia_path, hmi_path = make_sample_files(tmp_path, npix=128)
    >>> aia, hmi = sunpy.map.Map(aia_path), sunpy.map.Map(hmi_path)
    >>> aia.detector, hmi.detector, aia.date == hmi.date, aia.data.shape
    ('AIA', 'HMI', True, (128, 128))
    """
    from astropy.io import fits

    # lazy: the sample paths are imported everywhere; the synthetic Sun loads only to (re)make the files.
    from sunpy_magnetogan.synthetic import SyntheticSun, observe_pair

    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    euv, mag = observe_pair(SyntheticSun(SAMPLE_SEED), SAMPLE_DATE, npix=npix)
    paths = (directory / SAMPLE_AIA304.name, directory / SAMPLE_HMI.name)
    for smap, path in zip((euv, mag), paths, strict=True):
        smap.meta["history"] = (
            f"synthetic sample made by sunpy_magnetogan.sample.make_sample_files (seed {SAMPLE_SEED})"
        )
        smap.save(path, overwrite=True, hdu_type=fits.CompImageHDU)
    return paths
