"""
Where a map's pixels lie on the model grid, and back.

`ModelGeometry` records everything needed to move an image between an input map's pixel
grid and a `~sunpy_magnetogan.grid.ModelGrid`: the observer and date, the apparent solar
radius, and the affine transform between the two pixel grids. It is computed once per
input map (`geometry_from_map`) from the map's own WCS, so rolls (CROTA2 = 180 for level-1
HMI), off-centre pointing, any plate scale and any observer are handled alike.

Over the few arcminutes of the solar disk, the helioprojective TAN projection differs
from a linear map by far less than 1e-3 pixel, so an affine transform fitted to the WCS
at a grid of points reproduces it exactly for our purposes; the fit residual is checked.
"""

import logging
from dataclasses import dataclass, field, replace

import astropy.units as u
import numpy as np
from astropy.coordinates import SkyCoord
from astropy.time import Time
from astropy.wcs import WCS
from scipy import ndimage
from sunpy.coordinates import Helioprojective
from sunpy.map import make_fitswcs_header

from sunpy_magnetogan.grid import ModelGrid
from sunpy_magnetogan.sphere import SOLAR_RADIUS

__all__ = ["ModelGeometry", "geometry_from_map", "resample_from_input", "resample_to_input"]

log = logging.getLogger(__name__)

#: Largest acceptable departure (in input pixels) of the fitted affine transform from the WCS.
_MAX_FIT_RESIDUAL = 0.02


@dataclass(frozen=True)
class ModelGeometry:
    """
    The placement of an input map on a model grid.

    Attributes
    ----------
    grid : `~sunpy_magnetogan.grid.ModelGrid`
        The model grid.
    observer : `~astropy.coordinates.SkyCoord`
        The input's observer in Heliographic Stonyhurst coordinates.
    date : `~astropy.time.Time`
        The input's reference date (the obstime of its coordinate frame).
    input_shape : tuple of int
        Shape ``(rows, columns)`` of the input map's data.
    matrix : numpy.ndarray
        2 x 2 matrix ``A`` of the affine map from model pixel ``(x, y)`` to input pixel
        ``(x, y)`` (0-based, x = column): ``p_in = A @ p_model + offset``.
    offset : numpy.ndarray
        Length-2 offset of that map.
    source : dict
        What the input was: instrument, detector, wavelength, observatory, date, unit.

    Examples
    --------
    >>> import sunpy.map
    >>> from sunpy_magnetogan.geometry import geometry_from_map
    >>> from sunpy_magnetogan.sample import SAMPLE_AIA304
    >>> geometry = geometry_from_map(sunpy.map.Map(SAMPLE_AIA304))
    >>> geometry.input_shape, geometry.grid.size
    ((1024, 1024), 512)
    >>> a = geometry.matrix  # about 2 input pixels per model pixel, no roll
    >>> round(float(a[0, 0]), 2), round(float(a[1, 1]), 2), round(abs(float(a[0, 1])), 6)
    (1.98, 1.98, 0.0)
    >>> geometry.header()["ctype1"]
    'HPLN-TAN'
    """

    grid: ModelGrid
    observer: SkyCoord
    date: Time
    input_shape: tuple
    matrix: np.ndarray = field(repr=False)
    offset: np.ndarray = field(repr=False)
    source: dict = field(default_factory=dict)

    @property
    def rsun_obs(self):
        """Apparent photospheric radius seen by the observer (`~astropy.units.Quantity`, arcsec)."""
        return np.arcsin(SOLAR_RADIUS / self.observer.radius).to(u.arcsec)

    @property
    def scale(self):
        """Plate scale of the model grid (`~astropy.units.Quantity`, arcsec / pixel)."""
        return self.rsun_obs / (self.grid.radius_px * u.pix)

    @property
    def input_pixels_per_model_pixel(self):
        """Linear size of a model pixel in input pixels (> 1 when the input is finer)."""
        return float(np.sqrt(abs(np.linalg.det(self.matrix))))

    def frame(self):
        """The helioprojective frame of the observer at the date (rsun = `SOLAR_RADIUS`)."""
        return Helioprojective(observer=self.observer, obstime=self.date, rsun=SOLAR_RADIUS)

    def header(self):
        """
        FITS-WCS header of the model grid: helioprojective TAN, solar north up, Sun centred.

        Returns
        -------
        `~sunpy.util.MetaDict`
            Includes the observer keywords (``hgln_obs``, ``hglt_obs``, ``dsun_obs``),
            ``date-obs``, ``rsun_ref`` and ``rsun_obs``.
        """
        centre = SkyCoord(0 * u.arcsec, 0 * u.arcsec, frame=self.frame())
        c = self.grid.center_px
        return make_fitswcs_header(
            self.grid.shape,
            centre,
            reference_pixel=[c, c] * u.pix,
            scale=u.Quantity([self.scale, self.scale]),
        )

    def wcs(self):
        """The `~astropy.wcs.WCS` of the model grid."""
        return WCS(dict(self.header()))

    def with_size(self, size):
        """
        The same placement on a grid of another size (e.g. a coarser pyramid level).

        Parameters
        ----------
        size : int
            The new grid size.

        Returns
        -------
        ModelGeometry
        """
        new = self.grid.with_size(size)
        # model pixel on the new grid -> on this grid: p = s * (p' - c') + c
        s = self.grid.size / new.size
        shift = self.grid.center_px - s * new.center_px
        matrix = self.matrix * s
        offset = self.matrix @ np.array([shift, shift]) + self.offset
        return replace(self, grid=new, matrix=matrix, offset=offset)

    def model_to_input(self, x, y):
        """
        Model-grid pixel coordinates to input pixel coordinates (0-based, x = column).

        Parameters
        ----------
        x, y : array-like
            Model-grid pixel coordinates.

        Returns
        -------
        tuple of numpy.ndarray
            ``(x_in, y_in)``.
        """
        p = np.stack([np.asarray(x, float), np.asarray(y, float)])
        out = np.tensordot(self.matrix, p, axes=1) + self.offset.reshape((2,) + (1,) * (p.ndim - 1))
        return out[0], out[1]

    def input_to_model(self, x, y):
        """
        Input pixel coordinates to model-grid pixel coordinates (inverse of `model_to_input`).
        """
        p = np.stack([np.asarray(x, float), np.asarray(y, float)])
        p = p - self.offset.reshape((2,) + (1,) * (p.ndim - 1))
        out = np.tensordot(np.linalg.inv(self.matrix), p, axes=1)
        return out[0], out[1]


def geometry_from_map(smap, grid=None):
    """
    Compute how a (validated) map lies on a model grid.

    Parameters
    ----------
    smap : `~sunpy.map.GenericMap`
        A map with a helioprojective WCS, an observer and a date (see
        `~sunpy_magnetogan.validation.validate_euv_map`).
    grid : `~sunpy_magnetogan.grid.ModelGrid`, optional
        The target grid; ``ModelGrid(512)`` by default.

    Returns
    -------
    ModelGeometry

    Examples
    --------
    >>> import sunpy.map
    >>> from sunpy_magnetogan.geometry import geometry_from_map
    >>> from sunpy_magnetogan.grid import ModelGrid
    >>> from sunpy_magnetogan.sample import SAMPLE_AIA304
    >>> geometry = geometry_from_map(sunpy.map.Map(SAMPLE_AIA304), ModelGrid(128))
    >>> geometry.grid.radius_px, geometry.source["instrument"]
    (51.2, 'AIA 4')
    """
    grid = grid or ModelGrid()
    observer = smap.observer_coordinate.transform_to("heliographic_stonyhurst")
    source = {
        "instrument": str(smap.instrument or ""),
        "detector": str(smap.detector or ""),
        "observatory": str(smap.observatory or ""),
        "wavelength": None
        if smap.wavelength is None
        else float(smap.wavelength.to_value(u.AA, equivalencies=u.spectral())),
        "date": smap.date.isot,
        "unit": "" if smap.unit is None else smap.unit.to_string(),
    }
    date = smap.reference_date
    provisional = ModelGeometry(grid, observer, date, smap.data.shape, np.eye(2), np.zeros(2), source)
    model_wcs = provisional.wcs()
    # Fit the model -> input pixel map on a grid of points covering the disk and the margin.
    c, r = grid.center_px, grid.radius_px * 1.2
    xs, ys = np.meshgrid(np.linspace(c - r, c + r, 9), np.linspace(c - r, c + r, 9))
    lon, lat = model_wcs.pixel_to_world_values(xs.ravel(), ys.ravel())
    # Both WCSs are helioprojective for the same observer: no frame transformation needed.
    x_in, y_in = smap.wcs.world_to_pixel_values(lon, lat)
    design = np.column_stack([xs.ravel(), ys.ravel(), np.ones(xs.size)])
    target = np.column_stack([x_in, y_in])
    coef, *_ = np.linalg.lstsq(design, target, rcond=None)
    residual = np.abs(design @ coef - target).max()
    scale_in = np.sqrt(abs(np.linalg.det(coef[:2].T)))
    if residual > _MAX_FIT_RESIDUAL * max(1.0, scale_in):
        log.warning("the affine fit to the input WCS departs by %.3g input pixels", residual)
    log.debug("geometry: %.3f input px per model px, fit residual %.2e px", scale_in, residual)
    return replace(provisional, matrix=coef[:2].T.copy(), offset=coef[2].copy())


#: Input rows read per strip by `resample_from_input` (bounds its temporaries to a few
#: strips of the input, whatever the input's size).
_STRIP_ROWS = 512


def _strip_sums(data, valid, k, origin, shape, clip_negative):
    """
    Sums of the valid values and of the valid count in k x k blocks, strip by strip.

    Block ``(i, j)`` covers input rows ``origin[0] + i k ...`` and columns
    ``origin[1] + j k ...``; pixels outside the input count as invalid. Only one strip of
    the input is converted (finite test, float32, clipping) at a time.
    """
    r0, c0 = origin
    nr, nc = shape
    values = np.zeros(shape, dtype=np.float32)
    weights = np.zeros(shape, dtype=np.float32)
    ny, nx = data.shape
    ca, cb = max(c0, 0), min(c0 + nc * k, nx)
    if cb <= ca:
        return values, weights
    step = max(1, _STRIP_ROWS // k)
    for i0 in range(0, nr, step):
        i1 = min(nr, i0 + step)
        ra, rb = max(r0 + i0 * k, 0), min(r0 + i1 * k, ny)
        if rb <= ra:
            continue
        src = data[ra:rb, ca:cb]
        good = np.isfinite(src)
        if valid is not None:
            good &= valid[ra:rb, ca:cb]
        block = np.zeros(((i1 - i0) * k, nc * k), dtype=np.float32)
        count = np.zeros_like(block)
        rows = slice(ra - (r0 + i0 * k), rb - (r0 + i0 * k))
        cols = slice(ca - c0, cb - c0)
        np.copyto(block[rows, cols], src, where=good, casting="unsafe")
        if clip_negative:
            np.maximum(block, 0, out=block)
        count[rows, cols] = good
        values[i0:i1] = block.reshape(i1 - i0, k, nc, k).sum(axis=(1, 3))
        weights[i0:i1] = count.reshape(i1 - i0, k, nc, k).sum(axis=(1, 3))
    return values, weights


def resample_from_input(data, geometry, *, valid=None, order=1, min_coverage=0.5, clip_negative=False):
    """
    Resample an input-grid image onto the model grid.

    Large inputs are first averaged in k x k blocks (k = the integer part of the number of
    input pixels per model pixel), which is fast and removes the aliasing that direct
    interpolation of a 4096 px image would cause; the blocks are then interpolated onto
    the grid. The input is read in strips of rows and never copied whole (any dtype: each
    strip is converted to float32), so an 8192 px float64 image needs little more memory
    than itself. Missing pixels (``valid`` False, or non-finite data) are excluded by
    normalised interpolation: the data and the coverage are resampled separately.

    Parameters
    ----------
    data : numpy.ndarray
        Input image, shape ``geometry.input_shape``.
    geometry : ModelGeometry
        Placement of the input on the grid.
    valid : numpy.ndarray, optional
        Boolean mask of usable input pixels; all finite pixels by default.
    order : int, optional
        Spline order of the interpolation after binning (1 = bilinear).
    min_coverage : float, optional
        Model pixels with a smaller fraction of valid input behind them are marked invalid.
    clip_negative : bool, optional
        Count negative input values as zero (EUV intensities).

    Returns
    -------
    image : numpy.ndarray
        float32, shape ``geometry.grid.shape``; 0 where invalid.
    coverage : numpy.ndarray
        bool, same shape: True where the image is valid.

    Examples
    --------
    >>> import sunpy.map
    >>> from sunpy_magnetogan.geometry import geometry_from_map, resample_from_input
    >>> from sunpy_magnetogan.sample import SAMPLE_HMI
    >>> hmi = sunpy.map.Map(SAMPLE_HMI)
    >>> geometry = geometry_from_map(hmi)
    >>> image, coverage = resample_from_input(hmi.data, geometry)
    >>> image.shape, bool(coverage[255, 255]), bool(coverage[0, 0])
    ((512, 512), True, False)
    """
    data = np.asarray(data)
    if data.shape != tuple(geometry.input_shape):
        raise ValueError(
            f"data shape {data.shape} does not match the geometry's input shape {geometry.input_shape}"
        )
    matrix, offset = geometry.matrix, geometry.offset
    k = max(1, int(np.floor(geometry.input_pixels_per_model_pixel + 1e-6)))
    size = geometry.grid.size
    # Input-pixel bounding box of the model grid (plus a margin for the interpolation).
    corners = np.array(geometry.model_to_input([-1, size, -1, size], [-1, -1, size, size]))
    lo = np.floor(corners.min(axis=1)).astype(int) - k
    hi = np.ceil(corners.max(axis=1)).astype(int) + k
    ny, nx = data.shape
    lo = np.maximum(lo, [0, 0])
    hi = np.minimum(hi, [nx, ny])
    if np.any(hi <= lo):
        return np.zeros(geometry.grid.shape, np.float32), np.zeros(geometry.grid.shape, bool)
    origin = (lo[1], lo[0])  # rows, columns
    nblocks = (int(np.ceil((hi[1] - lo[1]) / k)), int(np.ceil((hi[0] - lo[0]) / k)))
    values, weights = _strip_sums(data, valid, k, origin, nblocks, clip_negative)
    # binned pixel b <-> input pixel: p_in = k * b + origin + (k - 1) / 2
    bmatrix = matrix / k
    boffset = (offset - np.array([origin[1], origin[0]]) - (k - 1) / 2) / k
    # scipy works in (row, col) = (y, x) order.
    swap = np.array([[0, 1], [1, 0]])
    m_rc = swap @ bmatrix @ swap
    o_rc = swap @ boffset
    kwargs = {
        "output_shape": geometry.grid.shape,
        "order": order,
        "mode": "constant",
        "cval": 0.0,
        "prefilter": False,
    }
    num = ndimage.affine_transform(values, m_rc, offset=o_rc, **kwargs)
    den = ndimage.affine_transform(weights, m_rc, offset=o_rc, **kwargs)
    full = float(k * k)
    coverage = den >= min_coverage * full
    image = np.zeros(geometry.grid.shape, np.float32)
    np.divide(num, den, out=image, where=coverage)
    return image, coverage


def resample_to_input(image, geometry, *, order=1):
    """
    Resample a model-grid image back onto the input map's pixel grid.

    Parameters
    ----------
    image : numpy.ndarray
        Model-grid image, shape ``geometry.grid.shape``; NaNs are allowed.
    geometry : ModelGeometry
        The placement used to make it.
    order : int, optional
        Spline order of the interpolation (1 = bilinear).

    Returns
    -------
    numpy.ndarray
        float32, shape ``geometry.input_shape``; NaN outside the model grid.

    Examples
    --------
    >>> import numpy as np
    >>> import sunpy.map
    >>> from sunpy_magnetogan.geometry import geometry_from_map, resample_to_input
    >>> from sunpy_magnetogan.sample import SAMPLE_AIA304
    >>> geometry = geometry_from_map(sunpy.map.Map(SAMPLE_AIA304))
    >>> back = resample_to_input(np.ones(geometry.grid.shape), geometry)
    >>> back.shape, float(np.nanmax(back))
    ((1024, 1024), 1.0)
    """
    image = np.asarray(image, dtype=np.float32)
    inv = np.linalg.inv(geometry.matrix)
    swap = np.array([[0, 1], [1, 0]])
    m_rc = swap @ inv @ swap
    o_rc = swap @ (-inv @ geometry.offset)
    return ndimage.affine_transform(
        image,
        m_rc,
        offset=o_rc,
        output_shape=tuple(geometry.input_shape),
        order=order,
        mode="constant",
        cval=np.nan,
        prefilter=False,
        output=np.float32,
    )
