"""
Time and peak memory of the map <-> model-grid pipeline for 4096 x 4096 inputs.

Targets (issue "Foundation"): preprocessing a 4096 px map to the 512 grid in under 0.5 s
(median, 2 CPU cores) with a peak under 1 GB beyond the input; the same for the inverse
(model grid -> output map, and back onto the 4096 px input grid).

Run: ``python benchmarks/bench_preprocess.py``
"""

import sys
from pathlib import Path

import astropy.units as u
import numpy as np
import sunpy.map
from astropy.coordinates import SkyCoord
from sunpy.coordinates import get_earth

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import REAL_DATA_DIR, describe_machine, measure, print_table

from sunpy_magnetogan.data.inputs import prepare_input_map
from sunpy_magnetogan.geometry import resample_to_input
from sunpy_magnetogan.output import magnetogram_map
from sunpy_magnetogan.preprocess import prepare_magnetogram_map


def synthetic_aia_4096(roll=0 * u.deg):
    """A 4096 px AIA-like float32 map with random texture (no file needed)."""
    date = "2022-01-01T00:00:00"
    frame_centre = SkyCoord(
        0 * u.arcsec, 0 * u.arcsec, frame="helioprojective", observer=get_earth(date), obstime=date
    )
    header = sunpy.map.make_fitswcs_header(
        (4096, 4096),
        frame_centre,
        scale=[0.6, 0.6] * u.arcsec / u.pix,
        rotation_angle=roll,
        instrument="AIA_4",
        telescope="SDO/AIA",
        detector="AIA",
        observatory="SDO",
        wavelength=304 * u.AA,
        exposure=2.9 * u.s,
        unit=u.DN,
    )
    rng = np.random.default_rng(0)
    data = rng.gamma(4.0, 25.0, (4096, 4096)).astype(np.float32)
    return sunpy.map.Map(data, header)


def main():
    print(describe_machine())
    inputs = {"synthetic AIA 4096 float32 roll 180": synthetic_aia_4096(180 * u.deg)}
    aia_file = REAL_DATA_DIR / "2021_06_01__00_01_29_132__SDO_AIA_AIA_304.jp2"
    hmi_file = REAL_DATA_DIR / "hmi_m_720s_2011-12-17T055810.fits"
    if aia_file.is_file():
        inputs["real AIA 304 JP2 4096 uint8"] = sunpy.map.Map(aia_file)
    rows = []
    for name, smap in inputs.items():
        np.asarray(smap.data)  # read the file outside the timing
        stats = measure(lambda smap=smap: prepare_input_map(smap))
        rows.append({"step": "prepare_input_map -> 512", "input": name, **stats})
    if hmi_file.is_file():
        hmi = sunpy.map.Map(hmi_file)
        np.asarray(hmi.data)
        stats = measure(lambda: prepare_magnetogram_map(hmi))
        rows.append(
            {"step": "prepare_magnetogram_map -> 512", "input": "real HMI 4096 float64 CROTA2=180", **stats}
        )
    smap = next(iter(inputs.values()))
    prepared = prepare_input_map(smap)
    field = prepared.data * 1000
    stats = measure(
        lambda: magnetogram_map(field, prepared.geometry, model_name="bench", valid=prepared.disk)
    )
    rows.append({"step": "inverse: 512 array -> output Map", "input": "model grid", **stats})
    stats = measure(lambda: resample_to_input(field, prepared.geometry), repeat=5)
    rows.append({"step": "inverse: 512 grid -> 4096 input grid", "input": "model grid", **stats})
    print_table(rows, ["step", "input", "median_s", "min_s", "max_s", "stdev_s", "peak_mb"])
    print("targets: prepare 4096 -> 512 median < 0.5 s, peak < 1024 MB beyond the input")


if __name__ == "__main__":
    main()
