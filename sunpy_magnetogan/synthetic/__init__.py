"""
A synthetic Sun: surface magnetic field, observations and EUV 304 A images.

No archive of co-temporal AIA 304 / HMI pairs is reachable offline, and the far side of
the Sun has no magnetograms at all. This subpackage makes a synthetic Sun whose field is
known everywhere, at every time, and observes it like SDO/HMI, SDO/AIA 304 and
STEREO/EUVI 304 would from any vantage point, and like Solar Orbiter's EUI/FSI 304 and
PHI/FDT would from its orbit:

* `SyntheticSun`: active regions emerging on the butterfly diagram (Hale's and Joy's
  laws, realistic fluxes, complex regions), decaying and rotating differentially, with a
  quiet-Sun network and polar fields; ground-truth Carrington maps and region tables;
* `observe_hmi`, `observe_aia`, `observe_euvi`, `observe_fsi`, `observe_phi`:
  `sunpy.map.Map` objects with complete headers for any observer (`sdo_observer`,
  `stereo_observer`, `farside_observer`, `solo_observer`);
* `euv304_from_magnetogram`: the EUV 304 A forward model, usable on any magnetogram
  (also real HMI maps, for semi-real pairs);
* `write_synthetic_dataset`, `write_time_series`, `open_synthetic_dataset` and the fixed
  `BENCHMARK_SPLIT`.
"""

from sunpy_magnetogan.solar_cycle import SolarCycle
from sunpy_magnetogan.synthetic.dataset import (
    BENCHMARK_SERIES,
    BENCHMARK_SPLIT,
    SeriesSpec,
    SplitSpec,
    open_synthetic_dataset,
    read_region_truth,
    write_synthetic_dataset,
    write_time_series,
)
from sunpy_magnetogan.synthetic.euv import EUV304Model, euv304_from_magnetogram, euv304_intensity
from sunpy_magnetogan.synthetic.instruments import AIA304, EUVI304, FSI304, HMI, PHI_FDT, Instrument
from sunpy_magnetogan.synthetic.network import NetworkModel
from sunpy_magnetogan.synthetic.observe import (
    farside_observer,
    line_of_sight_field,
    observe_aia,
    observe_euvi,
    observe_fsi,
    observe_hmi,
    observe_pair,
    observe_phi,
    observer_view,
    sdo_observer,
    solo_observer,
    stereo_observer,
)
from sunpy_magnetogan.synthetic.sources import FluxModel, SourceSet, carrington_drift
from sunpy_magnetogan.synthetic.sun import SyntheticSun

__all__ = [
    "AIA304",
    "BENCHMARK_SERIES",
    "BENCHMARK_SPLIT",
    "EUVI304",
    "FSI304",
    "HMI",
    "PHI_FDT",
    "EUV304Model",
    "FluxModel",
    "Instrument",
    "NetworkModel",
    "SeriesSpec",
    "SolarCycle",
    "SourceSet",
    "SplitSpec",
    "SyntheticSun",
    "carrington_drift",
    "euv304_from_magnetogram",
    "euv304_intensity",
    "farside_observer",
    "line_of_sight_field",
    "observe_aia",
    "observe_euvi",
    "observe_fsi",
    "observe_hmi",
    "observe_pair",
    "observe_phi",
    "observer_view",
    "open_synthetic_dataset",
    "read_region_truth",
    "sdo_observer",
    "solo_observer",
    "stereo_observer",
    "write_synthetic_dataset",
    "write_time_series",
]
