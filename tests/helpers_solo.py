"""
Solar Orbiter product keywords, and synthetic maps relabelled as Solar Orbiter products.

The keywords are those of the real level-2 products that say what a file is: the EUI/FSI
``eui-fsi304-image`` product (sunpy's test header
``solo_L1_eui-fsi304-image_20201021T145510206_V03.header``; level 2 differs by ``LEVEL``
and ``BUNIT``) and the PHI/FDT ``phi-fdt-blos`` product (sunpy's test header
``solo_LL02_phi-fdt-blos_20240305T041509_V202405151730C_0403057611.header``). Used by the
tests and by ``benchmarks/bench_solo_farside.py``.
"""

import numpy as np
import sunpy.map

__all__ = ["EUI_FSI_KEYWORDS", "INSTRUMENT_KEYWORDS", "PHI_FDT_BLOS_KEYWORDS", "relabel"]

#: The keywords of a level-2 EUI/FSI 304 A image (``eui-fsi304-image``) that say what it is.
EUI_FSI_KEYWORDS = {
    "obsrvtry": "Solar Orbiter",
    "instrume": "EUI",
    "telescop": "SOLO/EUI/FSI",
    "detector": "FSI",
    "btype": "Intensity",
    "bunit": "DN/s",
    "level": "L2",
}

#: The keywords of a level-2 PHI/FDT ``phi-fdt-blos`` magnetogram that say what it is.
PHI_FDT_BLOS_KEYWORDS = {
    "obsrvtry": "Solar Orbiter",
    "instrume": "PHI",
    "telescop": "SOLO/PHI/FDT",
    "detector": "FDT Magnetogram",
    "btype": "LOS Magnetic Field Strength",
    "bunit": "G",
    "level": "L2",
}

#: The keywords of the original instrument that a relabelled map loses.
INSTRUMENT_KEYWORDS = ("exptime", "telescop", "instrume", "detector", "obsrvtry")


def relabel(smap, keywords, *, scale=1.0):
    """
    A copy of a map with another instrument's keywords (and its data scaled).

    Parameters
    ----------
    smap : `~sunpy.map.GenericMap`
        The map, e.g. a synthetic EUVI image or HMI magnetogram.
    keywords : dict
        Header keywords to set, e.g. `EUI_FSI_KEYWORDS`; the map's own
        `INSTRUMENT_KEYWORDS` are removed first.
    scale : float, optional
        Factor applied to the data (in float32), e.g. ``1 / EXPTIME`` for DN/s.

    Returns
    -------
    `~sunpy.map.GenericMap`
        float32 data; sunpy picks the map class from the new keywords.
    """
    meta = smap.meta.copy()
    for key in INSTRUMENT_KEYWORDS:
        meta.pop(key, None)
    meta.update(keywords)
    return sunpy.map.Map(np.asarray(smap.data, dtype=np.float32) * np.float32(scale), meta)
