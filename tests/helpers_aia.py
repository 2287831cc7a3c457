"""AIA calibration tables in aiapy's format, for testing the calibration steps offline."""

import astropy.units as u
from astropy.table import QTable
from astropy.time import Time

__all__ = ["aia304_correction_table"]


def aia304_correction_table(change, effective_areas):
    """
    A two-epoch AIA 304 A degradation correction table.

    In the format of ``aiapy.calibrate.util.get_correction_table``: the first epoch runs
    from the mission's start (2010-03-24) to ``change``, the second from ``change`` to
    2024-12-31, with constant effective areas (no polynomial drift within an epoch).

    Parameters
    ----------
    change : str
        ISOT time at which the second epoch starts.
    effective_areas : tuple of float
        Effective area of the two epochs, in cm^2.

    Returns
    -------
    `~astropy.table.QTable`
    """
    return QTable(
        {
            "DATE": ["2010-03-24T00:00:00", change],
            "VER_NUM": [10, 10],
            "WAVE_STR": ["304_THIN", "304_THIN"],
            "WAVELNTH": [304, 304] * u.AA,
            "T_START": Time(["2010-03-24T00:00:00", change]),
            "T_STOP": Time([change, "2024-12-31T00:00:00"]),
            "EFFA_P1": [0.0, 0.0],
            "EFFA_P2": [0.0, 0.0],
            "EFFA_P3": [0.0, 0.0],
            "EFF_AREA": list(effective_areas) * u.cm**2,
            "EFF_WVLN": [304.0, 304.0] * u.AA,
        }
    )
