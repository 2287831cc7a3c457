"""
The fixed image grid the networks see.

Every input map, whatever its size, roll, observer or field of view, is resampled onto a
`ModelGrid`: an N x N helioprojective image of the input's observer with solar north up,
the Sun's centre at the middle of the array and the photospheric limb at a fixed radius of
``disk_radius * N`` pixels. Because the grid is fixed, the networks never have to learn
about plate scales or rolls, and a model-grid array maps back to the sky exactly.
"""

from dataclasses import dataclass

import astropy.units as u
import numpy as np

from sunpy_magnetogan.sphere import SOLAR_RADIUS

__all__ = ["SOLAR_RADIUS", "ModelGrid", "disk_mask"]

# The photospheric solar radius used for the geometry of every model grid is
# `sunpy_magnetogan.sphere.SOLAR_RADIUS` (IAU 2015 nominal value, 695 700 km), re-exported
# here. SDO headers say 696 000 km, STEREO 695 700 km; using one value puts inputs from both
# on exactly the same physical scale.


@dataclass(frozen=True)
class ModelGrid:
    """
    An N x N model grid: solar north up, Sun centred, limb at ``disk_radius * size`` pixels.

    Parameters
    ----------
    size : int
        Number of pixels along each axis (512 for the finest pyramid level by default;
        256 and 128 for the coarser ones).
    disk_radius : float
        Radius of the photospheric disk as a fraction of ``size`` (0.4 leaves a margin of
        0.1 * size pixels between the limb and the edge of the image).

    Examples
    --------
    >>> from sunpy_magnetogan.grid import ModelGrid
    >>> grid = ModelGrid(512)
    >>> grid.radius_px, grid.center_px
    (204.8, 255.5)
    >>> grid.with_size(128).radius_px
    51.2
    """

    size: int = 512
    disk_radius: float = 0.4

    def __post_init__(self):
        if int(self.size) != self.size or self.size < 16:
            raise ValueError(f"grid size must be an integer of at least 16 pixels, got {self.size!r}")
        if not 0.05 <= self.disk_radius <= 0.5:
            raise ValueError(
                f"disk_radius must lie in [0.05, 0.5] (fraction of the size), got {self.disk_radius!r}"
            )
        object.__setattr__(self, "size", int(self.size))
        object.__setattr__(self, "disk_radius", float(self.disk_radius))

    @property
    def radius_px(self):
        """Radius of the photospheric disk in pixels (float)."""
        return self.disk_radius * self.size

    @property
    def center_px(self):
        """0-based pixel coordinate of the Sun's centre along either axis (float)."""
        return (self.size - 1) / 2

    @property
    def shape(self):
        """Array shape ``(size, size)``."""
        return (self.size, self.size)

    def with_size(self, size):
        """
        The same grid (same ``disk_radius``) at another size, e.g. a coarser pyramid level.

        Parameters
        ----------
        size : int
            New number of pixels along each axis.

        Returns
        -------
        ModelGrid
        """
        return ModelGrid(size=size, disk_radius=self.disk_radius)

    def radius_array(self):
        """
        Distance of every pixel centre from the disk centre, in units of the solar radius.

        Returns
        -------
        numpy.ndarray
            Shape ``(size, size)``, float64.
        """
        coords = (np.arange(self.size) - self.center_px) / self.radius_px
        return np.hypot(coords[np.newaxis, :], coords[:, np.newaxis])

    def mu_array(self):
        """
        Cosine of the heliocentric angle of every pixel centre on the disk.

        Orthographic, like `latitude_array` (an observer far from the Sun compared with
        its radius).

        Returns
        -------
        numpy.ndarray
            Shape ``(size, size)``, float64, in (0, 1] on the disk and NaN off it.

        Examples
        --------
        >>> from sunpy_magnetogan.grid import ModelGrid
        >>> mu = ModelGrid(65).mu_array()
        >>> float(mu[32, 32]), bool(np.isnan(mu[0, 0]))
        (1.0, True)
        """
        r2 = self.radius_array() ** 2
        with np.errstate(invalid="ignore"):
            return np.where(r2 < 1.0, np.sqrt(1.0 - r2), np.nan)

    @u.quantity_input
    def latitude_array(self, b0: u.deg = 0 * u.deg):
        """
        Heliographic latitude of every pixel centre on the disk.

        The grid is solar north up, so the latitude depends only on the observer's
        heliographic latitude ``b0`` (the B0 angle); the disk is seen in orthographic
        projection (an observer far from the Sun compared with its radius).

        Parameters
        ----------
        b0 : `~astropy.units.Quantity`
            The observer's heliographic latitude.

        Returns
        -------
        `~astropy.units.Quantity`
            Shape ``(size, size)``, degrees, NaN off the disk.

        Examples
        --------
        >>> import astropy.units as u
        >>> import numpy as np
        >>> from sunpy_magnetogan.grid import ModelGrid
        >>> lat = ModelGrid(65).latitude_array(7 * u.deg)  # the disk centre is pixel (32, 32)
        >>> lat[32, 32].round(1), bool(np.isnan(lat[0, 32]))
        (<Quantity 7. deg>, True)
        """
        coords = (np.arange(self.size) - self.center_px) / self.radius_px
        x, y = coords[np.newaxis, :], coords[:, np.newaxis]
        r2 = x**2 + y**2
        z = np.sqrt(np.clip(1.0 - r2, 0.0, None))
        b = b0.to_value(u.rad)
        sin_lat = np.clip(y * np.cos(b) + z * np.sin(b), -1.0, 1.0)
        lat = np.degrees(np.arcsin(sin_lat))
        return np.where(r2 <= 1.0, lat, np.nan) * u.deg

    def to_dict(self):
        """The grid as a JSON-friendly dict (saved in model cards and datasets)."""
        return {"size": self.size, "disk_radius": self.disk_radius}


def disk_mask(grid, *, radius=1.0):
    """
    Boolean mask of the pixels whose centres lie on the solar disk.

    Parameters
    ----------
    grid : ModelGrid
        The grid.
    radius : float, optional
        Radius of the mask in units of the photospheric radius.

    Returns
    -------
    numpy.ndarray
        Shape ``(grid.size, grid.size)``, bool, True on the disk.

    Examples
    --------
    >>> from sunpy_magnetogan.grid import ModelGrid, disk_mask
    >>> mask = disk_mask(ModelGrid(128))
    >>> mask.shape, bool(mask[64, 64]), bool(mask[0, 0])
    ((128, 128), True, False)
    """
    return grid.radius_array() <= radius
