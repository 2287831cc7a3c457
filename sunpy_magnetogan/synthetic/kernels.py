"""
Evaluation of a set of flux concentrations ("sources") on points of the solar surface.

Every source is a von Mises-Fisher bump on the sphere, the spherical analogue of a 2-D
Gaussian of angular width ``sigma``::

    B_r(p) = flux * kappa / (2 pi R^2 (1 - exp(-2 kappa))) * exp(-kappa * c^2 / 2)

with ``kappa = 1 / sigma^2`` (radians) and ``c`` the chord between the unit vectors of the
source and of ``p`` (``c^2 / 2 = 1 - cos(angle)``). It integrates to ``flux`` over the
sphere exactly and equals a Gaussian of standard deviation ``sigma`` for small widths. Each
bump is cut at `CUTOFF` widths, so that a source only costs the points it touches:

* `evaluate_on_points`: any points (e.g. a Carrington grid), through k-d trees;
* `evaluate_on_image`: the on-disk pixels of an image, through pixel boxes around each
  source's projected position, vectorised over all sources of similar size; with
  ``inclination`` it also returns the line-of-sight part of an inclined (fanning) field,
  horizontal field ``B_h = B_r * inclination * angle / sigma`` pointing away from the
  source's centre along the surface (0 at the centre: a sunspot's field is vertical in the
  umbra and nearly horizontal in the outer penumbra);
* `splat_on_image`: unresolved sources (the quiet-Sun network, about a pixel wide), whose
  projected flux is deposited at their sub-pixel positions and spread by a Gaussian of
  their width in the image plane: flux-conserving, foreshortened by ``mu`` as any
  unresolved feature, and far cheaper than evaluating tens of thousands of bumps.
"""

import numpy as np
from scipy import ndimage
from scipy.spatial import cKDTree

__all__ = ["CUTOFF", "evaluate_on_image", "evaluate_on_points", "kernel_amplitude", "splat_on_image"]

#: Sources are evaluated out to this many widths (exp(-8) = 3e-4 of the peak).
CUTOFF = 4.0

# Sources are grouped by width; each group shares one search radius / box size.
_GROUP_FACTOR = 1.5
# Largest number of (source, pixel) pairs evaluated at once.
_CHUNK = 2_000_000


def kernel_amplitude(flux, sigma, radius):
    """
    Peak radial field of a source, ``flux * kappa / (2 pi R^2 (1 - exp(-2 kappa)))``.

    Parameters
    ----------
    flux : numpy.ndarray
        Signed flux (Mx).
    sigma : numpy.ndarray
        Angular width in radians.
    radius : float
        Solar radius in cm.

    Returns
    -------
    numpy.ndarray
        Peak field in Gauss.
    """
    kappa = 1.0 / np.square(sigma)
    return flux * kappa / (2.0 * np.pi * radius**2 * -np.expm1(-2.0 * kappa))


def _groups(sigma):
    """Indices of the sources grouped by width (factor `_GROUP_FACTOR`), with each group's max."""
    if sigma.size == 0:
        return []
    level = np.floor(np.log(sigma / sigma.min()) / np.log(_GROUP_FACTOR)).astype(int)
    out = []
    for value in np.unique(level):
        members = np.flatnonzero(level == value)
        out.append((members, float(sigma[members].max())))
    return out


def evaluate_on_points(src_xyz, amplitude, sigma, points_xyz):
    """
    Sum of all sources at arbitrary points on the unit sphere.

    Parameters
    ----------
    src_xyz : numpy.ndarray
        ``(n, 3)`` unit vectors of the sources.
    amplitude : numpy.ndarray
        ``(n,)`` peak fields (G), see `kernel_amplitude`.
    sigma : numpy.ndarray
        ``(n,)`` widths in radians.
    points_xyz : numpy.ndarray
        ``(m, 3)`` unit vectors of the points, in the same frame as the sources.

    Returns
    -------
    numpy.ndarray
        ``(m,)`` field in Gauss, float64.
    """
    points_xyz = np.asarray(points_xyz, dtype=np.float64).reshape(-1, 3)
    out = np.zeros(len(points_xyz))
    if len(src_xyz) == 0 or len(points_xyz) == 0:
        return out
    point_tree = cKDTree(points_xyz)
    for members, sigma_max in _groups(sigma):
        reach = 2.0 * np.sin(min(CUTOFF * sigma_max, np.pi) / 2.0)
        tree = cKDTree(src_xyz[members])
        pairs = tree.sparse_distance_matrix(point_tree, reach, output_type="ndarray")
        if pairs.size == 0:
            continue
        i = members[pairs["i"]]
        chord2 = np.square(pairs["v"])
        keep = chord2 <= np.square(2.0 * np.sin(np.minimum(CUTOFF * sigma[i], np.pi) / 2.0))
        i, chord2, j = i[keep], chord2[keep], pairs["j"][keep]
        values = amplitude[i] * np.exp(-0.5 * chord2 / np.square(sigma[i]))
        out += np.bincount(j, weights=values, minlength=len(points_xyz))
    return out


def _boxes(src_xyz, cx, cy, amplitude, sigma, flat_xyz, shape, half, out, tilt=None, out_los=None):
    """
    Add sources (all fitting a box of half-width ``half``) to the flat image ``out``.

    With ``tilt`` (``inclination / sigma`` of each source, per radian) the line-of-sight
    component (``+z``) of their horizontal field is added to ``out_los``.
    """
    ny, nx = shape
    inside = (cx + half >= 0) & (cx - half < nx) & (cy + half >= 0) & (cy - half < ny)
    if not inside.any():
        return
    if tilt is None:
        tilt = np.zeros_like(sigma)
    src_xyz, cx, cy, amplitude, sigma, tilt = (a[inside] for a in (src_xyz, cx, cy, amplitude, sigma, tilt))
    offsets = np.arange(-half, half + 1)
    oy, ox = (a.ravel() for a in np.meshgrid(offsets, offsets, indexing="ij"))
    step = max(1, _CHUNK // oy.size)
    reach2 = np.square(2.0 * np.sin(np.minimum(CUTOFF * sigma, np.pi) / 2.0))
    for start in range(0, len(cx), step):
        m = slice(start, start + step)
        ix = cx[m][:, np.newaxis] + ox
        iy = cy[m][:, np.newaxis] + oy
        valid = (ix >= 0) & (ix < nx) & (iy >= 0) & (iy < ny)
        flat = np.where(valid, iy * nx + ix, 0)
        p = flat_xyz[flat]
        s = src_xyz[m]
        cos = p[..., 0] * s[:, 0:1] + p[..., 1] * s[:, 1:2] + p[..., 2] * s[:, 2:3]
        chord2 = 2.0 - 2.0 * cos
        ok = valid & (chord2 <= reach2[m][:, np.newaxis])  # NaN (off the disk) compares False
        row = np.nonzero(ok)[0]
        values = amplitude[m][row] * np.exp(-0.5 * chord2[ok] / np.square(sigma[m])[row])
        out += np.bincount(flat[ok], weights=values, minlength=ny * nx)
        if out_los is not None:
            # B_h t_z with t = ((s.p) p - s) / sin(angle) and B_h = B_r tilt * angle, taking
            # angle / sin(angle) = 1 (0.7 % high at 4 widths of a 3 deg source).
            along = cos[ok] * p[..., 2][ok] - s[row, 2]
            out_los += np.bincount(flat[ok], weights=values * tilt[m][row] * along, minlength=ny * nx)


def evaluate_on_image(
    src_xyz, src_px, amplitude, sigma, surface_xyz, radius_px, *, extended_xyz=None, inclination=None
):
    """
    Sum of all sources on the on-disk pixels of an image.

    Each source is evaluated on the square box of pixels around its projected position
    that can hold its footprint (``CUTOFF * sigma`` times the apparent radius in pixels:
    foreshortening only shrinks footprints on the image), so the cost is the total box
    area, not the number of sources times the number of pixels. Sources wider than 6
    pixels are smooth on the pixel scale: they are evaluated on every ``k``-th pixel
    (``k`` a power of two, at most a third of their width) of ``extended_xyz`` and
    interpolated bilinearly.

    Parameters
    ----------
    src_xyz : numpy.ndarray
        ``(n, 3)`` unit vectors of the sources in the image's heliocentric frame (``+z``
        towards the observer).
    src_px : tuple of numpy.ndarray
        ``(px, py)``: the projected pixel position of each source (0-based).
    amplitude, sigma : numpy.ndarray
        ``(n,)`` peak fields (G) and widths (radians).
    surface_xyz : numpy.ndarray
        ``(ny, nx, 3)`` unit vectors of the surface point of every pixel (NaN off the
        disk), see `~sunpy_magnetogan.synthetic.projection.ImagePlane.surface`.
    radius_px : float
        Apparent solar radius in pixels.
    extended_xyz : numpy.ndarray, optional
        Like ``surface_xyz`` but defined off the disk too (the limb point below each
        pixel); enables the coarse evaluation of wide sources.
    inclination : numpy.ndarray, optional
        ``(n,)`` tangent of each source's field inclination from the vertical at one width
        from its centre (dimensionless, >= 0). The field then also has a horizontal part
        ``B_r * inclination * angle / sigma`` pointing away from the source's centre along
        the surface, and its component along ``+z`` is returned as well.

    Returns
    -------
    numpy.ndarray or tuple of numpy.ndarray
        ``(ny, nx)`` radial field in Gauss (float64); only on-disk values are meaningful.
        With ``inclination``, ``(radial, horizontal_z)``: the radial field and the ``+z``
        component of the horizontal field (G), so that ``B_los = radial * mu +
        horizontal_z`` for a distant observer.

    Examples
    --------
    A positive sunspot-like source 60 degrees from disk centre (``mu = 0.5``): its field
    fans out, and on the limb side it points away from the observer, so ``B_los`` shows
    a negative (apparent) polarity there although ``B_r`` is positive everywhere.

    >>> import numpy as np
    >>> from sunpy_magnetogan.synthetic.kernels import evaluate_on_image
    >>> from sunpy_magnetogan.synthetic.projection import ImagePlane
    >>> plane = ImagePlane((129, 129), 20.0, 215.0)
    >>> geometry = plane.surface()
    >>> src = np.array([[np.sin(np.pi / 3), 0.0, np.cos(np.pi / 3)]])
    >>> radial, horizontal = evaluate_on_image(src, plane.project(src), np.array([2000.0]),
    ...     np.array([0.03]), geometry.xyz, plane.radius_px, inclination=np.array([1.4]))
    >>> b_los = np.where(geometry.on_disk, radial * geometry.mu + horizontal, 0.0)
    >>> bool(radial[geometry.on_disk].min() >= 0), bool(b_los.min() < -100)  # G
    (True, True)
    """
    ny, nx = surface_xyz.shape[:2]
    with_los = inclination is not None
    tilt = np.asarray(inclination, dtype=np.float64) / sigma if with_los else None
    out = np.zeros(ny * nx)
    out_los = np.zeros(ny * nx) if with_los else None
    if len(src_xyz) == 0:
        return (out.reshape(ny, nx), out_los.reshape(ny, nx)) if with_los else out.reshape(ny, nx)
    flat_xyz = np.ascontiguousarray(surface_xyz.reshape(-1, 3))
    px = np.asarray(src_px[0], dtype=np.float64)
    py = np.asarray(src_px[1], dtype=np.float64)
    coarse = {}
    for members, sigma_max in _groups(sigma):
        member_tilt = None if tilt is None else tilt[members]
        k = 1
        if extended_xyz is not None:
            while 2 * k <= sigma_max * radius_px / 3.0 and min(ny, nx) // (2 * k) >= 16:
                k *= 2
        if k == 1:
            # The projected centre is rounded to a pixel: half a pixel of margin.
            half = int(np.ceil(CUTOFF * sigma_max * radius_px + 0.5))
            cx, cy = np.rint(px[members]).astype(np.int64), np.rint(py[members]).astype(np.int64)
            _boxes(
                src_xyz[members],
                cx,
                cy,
                amplitude[members],
                sigma[members],
                flat_xyz,
                (ny, nx),
                half,
                out,
                member_tilt,
                out_los,
            )
            continue
        off = k // 2
        grid = np.ascontiguousarray(extended_xyz[off::k, off::k])
        shape = grid.shape[:2]
        if k not in coarse:
            coarse[k] = [np.zeros(shape[0] * shape[1]), np.zeros(shape[0] * shape[1]) if with_los else None]
        half = int(np.ceil(CUTOFF * sigma_max * radius_px / k + 0.5))
        cx = np.rint((px[members] - off) / k).astype(np.int64)
        cy = np.rint((py[members] - off) / k).astype(np.int64)
        _boxes(
            src_xyz[members],
            cx,
            cy,
            amplitude[members],
            sigma[members],
            grid.reshape(-1, 3),
            shape,
            half,
            coarse[k][0],
            member_tilt,
            coarse[k][1],
        )
    images = [out.reshape(ny, nx)] + ([out_los.reshape(ny, nx)] if with_los else [])
    for k, fields in coarse.items():
        off = k // 2
        shape = extended_xyz[off::k, off::k].shape[:2]
        for image, field in zip(images, fields, strict=False):
            image += _upsample(field.reshape(shape), k, off, (ny, nx))
    return tuple(images) if with_los else images[0]


def _upsample(field, k, off, shape):
    """Bilinear interpolation of a field sampled on every ``k``-th pixel (from ``off``) to ``shape``."""
    ny, nx = shape
    yy = (np.arange(ny) - off) / k
    xx = (np.arange(nx) - off) / k
    rows = ndimage.map_coordinates(
        field, np.meshgrid(yy, np.arange(field.shape[1]), indexing="ij"), order=1, mode="nearest"
    )
    return ndimage.map_coordinates(
        rows, np.meshgrid(np.arange(ny), xx, indexing="ij"), order=1, mode="nearest"
    )


def splat_on_image(src_px, weights, sigma_px, shape):
    """
    Deposit point-like sources on an image and spread them with a Gaussian.

    Each weight is shared bilinearly between the four pixels around its sub-pixel
    position; the result is convolved with a Gaussian whose width, added in quadrature
    to that of the bilinear deposit (variance 1/6 pixel^2 per axis), is ``sigma_px``. The
    sum of the image equals the sum of the weights that fall inside it.

    Parameters
    ----------
    src_px : tuple of numpy.ndarray
        ``(px, py)`` 0-based pixel positions.
    weights : numpy.ndarray
        What each source deposits (e.g. flux per pixel area, in G).
    sigma_px : float
        Width of the sources in pixels.
    shape : tuple of int
        ``(ny, nx)``.

    Returns
    -------
    numpy.ndarray
        ``(ny, nx)`` float64.
    """
    ny, nx = shape
    px, py = (np.asarray(a, dtype=np.float64) for a in src_px)
    x0, y0 = np.floor(px).astype(np.int64), np.floor(py).astype(np.int64)
    fx, fy = px - x0, py - y0
    out = np.zeros(ny * nx)
    for dx, dy, w in (
        (0, 0, (1 - fx) * (1 - fy)),
        (1, 0, fx * (1 - fy)),
        (0, 1, (1 - fx) * fy),
        (1, 1, fx * fy),
    ):
        ix, iy = x0 + dx, y0 + dy
        ok = (ix >= 0) & (ix < nx) & (iy >= 0) & (iy < ny)
        out += np.bincount((iy * nx + ix)[ok], weights=(weights * w)[ok], minlength=ny * nx)
    out = out.reshape(ny, nx)
    blur = np.sqrt(max(sigma_px**2 - 1.0 / 6.0, 0.0))
    if blur > 0.05:
        out = ndimage.gaussian_filter(out, blur, mode="constant", truncate=4.0)
    return out
