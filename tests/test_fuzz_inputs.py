"""
Property-based fuzzing of the input preparation (issue 21).

Real and synthetic EUV maps have their headers and data mutated (keywords removed, values
of other types or non-finite, NaN/inf patches, rolls, crops with and without the header
following, transposes, scales, dtypes), and each mutant goes through
`~sunpy_magnetogan.data.inputs.prepare_input_map` and the output map's header
(`~sunpy_magnetogan.output.magnetogram_map`). The property: either a
`~sunpy_magnetogan.exceptions.MagnetoGANError` subclass with a message, or a prepared image
with finite values in [-1, 1], a disk inside the grid's and a WCS that puts the Sun centre at
the grid centre, seen from outside the Sun. Never another exception.

The model adds nothing to input handling, so the fuzz stops at the output header (a 64 px
grid keeps each case cheap). The examples are derandomised (a fixed seed per test).
``SUNPY_MAGNETOGAN_FUZZ_EXAMPLES`` sets the number of cases per base map (150 by default,
which keeps the module under a minute); ``SUNPY_MAGNETOGAN_FUZZ_REPORT=<file.json>`` writes
the count of each outcome. The large run (documented in ``docs/topic_guide/limits.rst``)::

    SUNPY_MAGNETOGAN_FUZZ_EXAMPLES=3334 SUNPY_MAGNETOGAN_FUZZ_REPORT=fuzz.json \\
        python -m pytest tests/test_fuzz_inputs.py -p no:cacheprovider
"""

import json
import os
import warnings
from collections import Counter

import astropy.units as u
import numpy as np
import pytest
import sunpy.map
from astropy.coordinates import SkyCoord

hypothesis = pytest.importorskip("hypothesis")
from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from sunpy_magnetogan.data.inputs import SYNTHETIC_PREPARATION, prepare_input_map  # noqa: E402
from sunpy_magnetogan.exceptions import MagnetoGANError  # noqa: E402
from sunpy_magnetogan.grid import SOLAR_RADIUS, ModelGrid, disk_mask  # noqa: E402
from sunpy_magnetogan.output import magnetogram_map  # noqa: E402
from sunpy_magnetogan.sample import SAMPLE_AIA304  # noqa: E402

EXAMPLES = int(os.environ.get("SUNPY_MAGNETOGAN_FUZZ_EXAMPLES", "150"))
REPORT = os.environ.get("SUNPY_MAGNETOGAN_FUZZ_REPORT")
GRID = ModelGrid(64)
#: Outcome counts per base map: "accepted" or the error class.
OUTCOMES = {}

FUZZ_SETTINGS = settings(
    max_examples=EXAMPLES,
    derandomize=True,
    database=None,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.filter_too_much],
)

#: Header keywords the preparation reads (removed or given other values by the fuzz).
KEYS = [
    "date-obs", "t_obs", "dsun_obs", "hgln_obs", "hglt_obs", "crln_obs", "crlt_obs",
    "cdelt1", "cdelt2", "crpix1", "crpix2", "crval1", "crval2", "ctype1", "ctype2",
    "cunit1", "cunit2", "wavelnth", "waveunit", "bunit", "exptime", "instrume", "telescop",
    "detector", "obsrvtry", "rsun_ref", "rsun_obs", "crota2", "pc1_1", "pc1_2", "pc2_1",
    "pc2_2", "lvl_num", "origin", "hv_zero", "hvs_file", "summed",
]  # fmt: skip

_values = st.one_of(
    st.just(""),
    st.text(max_size=6),
    st.floats(allow_nan=True, allow_infinity=True),
    st.sampled_from([0, -1, 1, 304, 1e30, -1e30, 6.957e8, 1.5e11, "304", "DN", "G", "HPLN-TAN", "deg"]),
    st.integers(-(10**9), 10**9),
    st.booleans(),
)
_factors = st.one_of(st.sampled_from([0.0, -1.0, 1e-30, 1e30, np.inf]), st.floats(-1e6, 1e6))
_dtypes = st.sampled_from(
    ["float16", "float32", "float64", "int16", "int32", "uint8", "uint16", ">f4", ">i2"]
)
_fraction = st.floats(0, 1)
_operations = st.one_of(
    st.tuples(st.just("remove"), st.sampled_from(KEYS)),
    st.tuples(st.just("set"), st.sampled_from(KEYS), _values),
    st.tuples(st.just("patch"), _fraction, _fraction, _fraction, _fraction, st.sampled_from([np.nan, np.inf, -np.inf])),
    st.tuples(st.just("roll"), _fraction, _fraction),
    st.tuples(st.just("crop"), _fraction, _fraction, _fraction, _fraction, st.booleans()),
    st.tuples(st.just("scale"), _factors),
    st.tuples(st.just("dtype"), _dtypes),
    st.tuples(st.just("transpose")),
    st.tuples(st.just("flip")),
)  # fmt: skip


def _mutate(data, meta, operation):
    kind, *args = operation
    ny, nx = data.shape
    if kind == "remove":
        meta.pop(args[0], None)
    elif kind == "set":
        meta[args[0]] = args[1]
    elif kind == "patch":
        r0, c0 = int(args[0] * ny), int(args[1] * nx)
        data = data.astype(np.float32) if not np.issubdtype(data.dtype, np.floating) else data.copy()
        data[r0 : r0 + 1 + int(args[2] * ny), c0 : c0 + 1 + int(args[3] * nx)] = args[4]
    elif kind == "roll":
        data = np.roll(data, (int(args[0] * ny), int(args[1] * nx)), axis=(0, 1))
    elif kind == "crop":
        r0, c0 = int(args[0] * ny / 2), int(args[1] * nx / 2)
        r1, c1 = ny - int(args[2] * ny / 2), nx - int(args[3] * nx / 2)
        data = data[r0:r1, c0:c1]
        if args[4]:  # the header follows the crop (as submap would)
            for axis, start in (("1", c0), ("2", r0)):
                if isinstance(meta.get("crpix" + axis), int | float):
                    meta["crpix" + axis] = meta["crpix" + axis] - start
    elif kind == "scale":
        with np.errstate(all="ignore"):
            data = data * args[0]
    elif kind == "dtype":
        with np.errstate(all="ignore"), warnings.catch_warnings():
            warnings.simplefilter("ignore")
            data = data.astype(args[0])
    elif kind == "transpose":
        data = data.T
    elif kind == "flip":
        data = data[::-1]
    meta["naxis1"], meta["naxis2"] = data.shape[1], data.shape[0]
    return data, meta


def _check_prepared(prepared):
    """The accepted outcome: finite data in [-1, 1] on the grid and a WCS that is the Sun's."""
    assert prepared.data.shape == GRID.shape
    assert prepared.data.dtype == np.float32
    assert np.isfinite(prepared.data).all()
    assert prepared.data.min() >= -1 - 1e-6
    assert prepared.data.max() <= 1 + 1e-6
    assert not (prepared.disk & ~disk_mask(GRID)).any()
    assert prepared.disk.any()
    geometry = prepared.geometry
    assert np.isfinite(geometry.matrix).all()
    assert np.isfinite(geometry.offset).all()
    assert geometry.observer.radius > SOLAR_RADIUS
    out = magnetogram_map(np.zeros(GRID.shape, np.float32), geometry, model_name="fuzz", valid=prepared.disk)
    centre = out.wcs.world_to_pixel(SkyCoord(0 * u.arcsec, 0 * u.arcsec, frame=out.coordinate_frame))
    np.testing.assert_allclose([float(c) for c in centre], [GRID.center_px] * 2, atol=1e-6)
    assert np.isfinite(out.rsun_obs.value)
    assert out.rsun_obs > 0 * u.arcsec


def _run_case(name, base, operations):
    data, meta = np.asarray(base.data), base.meta.copy()
    for operation in operations:
        data, meta = _mutate(data, meta, operation)
    counts = OUTCOMES.setdefault(name, Counter())
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # warnings are allowed; only the outcome is checked
        try:
            smap = sunpy.map.Map(data, meta)
        except Exception:  # sunpy refuses to make a map: not an input the package ever sees
            counts["no map (sunpy refused the header)"] += 1
            return
        try:
            prepared = prepare_input_map(smap, grid=GRID, preparation=SYNTHETIC_PREPARATION)
        except MagnetoGANError as exc:
            error = exc
        else:
            error = None
    if error is not None:
        assert str(error).strip(), f"{type(error).__name__} without a message"
        counts[type(error).__name__] += 1
        return
    _check_prepared(prepared)
    counts["accepted"] += 1


@pytest.fixture(scope="module", autouse=True)
def _report():
    yield
    total = {name: dict(c) for name, c in OUTCOMES.items()}
    if REPORT:
        with open(REPORT, "w") as f:
            json.dump({"examples_per_base": EXAMPLES, "outcomes": total}, f, indent=1)


def _decimated(smap, factor):
    """Every ``factor``-th pixel of a map (its dtype kept), with the header to match."""
    meta = smap.meta.copy()
    for axis in ("1", "2"):
        meta["crpix" + axis] = (meta["crpix" + axis] - 0.5) / factor + 0.5
        meta["cdelt" + axis] = meta["cdelt" + axis] * factor
    data = np.asarray(smap.data)[::factor, ::factor]
    meta["naxis1"], meta["naxis2"] = data.shape[1], data.shape[0]
    return sunpy.map.Map(data.copy(), meta)


@pytest.fixture(scope="module")
def synthetic_aia():
    return _decimated(sunpy.map.Map(SAMPLE_AIA304), 4)


@pytest.fixture(scope="module")
def real_aia(real_aia304_map):
    return _decimated(real_aia304_map, 16)  # the Helioviewer bytes and header, 256 px


@pytest.fixture(scope="module")
def real_euvi(real_euvi171_path):
    smap = sunpy.map.Map(real_euvi171_path)  # the real header, said to be at 304 A
    return sunpy.map.Map(np.asarray(smap.data), {**smap.meta, "wavelnth": 304})


_cases = st.lists(_operations, min_size=1, max_size=4)


def test_unmutated_bases_are_accepted(synthetic_aia):
    _check_prepared(prepare_input_map(synthetic_aia, grid=GRID, preparation=SYNTHETIC_PREPARATION))


@FUZZ_SETTINGS
@given(operations=_cases)
def test_fuzz_synthetic_aia(synthetic_aia, operations):
    _run_case("synthetic AIA 304 (256 px)", synthetic_aia, operations)


@FUZZ_SETTINGS
@given(operations=_cases)
def test_fuzz_real_aia_helioviewer(real_aia, operations):
    _run_case("real AIA 304 Helioviewer JP2 (256 px)", real_aia, operations)


@FUZZ_SETTINGS
@given(operations=_cases)
def test_fuzz_real_euvi_header(real_euvi, operations):
    _run_case("real EUVI header (128 px)", real_euvi, operations)
