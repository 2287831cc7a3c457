"""
===================================================
A synoptic map with the farside prediction outlined
===================================================

A synoptic map puts the whole solar surface on one Carrington grid. From the Earth only
the front side is observed, so the map of a given day is either half empty or stale by
up to two weeks. With a farside magnetogram generated from a STEREO/EUVI 304 Å image the
other half can be filled with a same-day prediction, as long as the map says which part
is observed and which is predicted. This example combines a frontside HMI-like
magnetogram with a magnetogram generated from a farside EUVI image, outlines the part
each contributes, and compares the result with the synthetic Sun's true surface field.
"""

import astropy.units as u
import matplotlib.pyplot as plt
import numpy as np
from scipy import ndimage

from sunpy_magnetogan.generate import generate_magnetogram
from sunpy_magnetogan.synthetic import SyntheticSun, farside_observer, observe_euvi, observe_hmi
from sunpy_magnetogan.tracking import make_synoptic_map, plot_synoptic_map

###############################################################################
# One date, two observers: SDO sees the front side (here its synthetic HMI
# magnetogram, as a real HMI map would be used), and an EUVI imager above the far
# side sees the other hemisphere, which has no magnetogram.

sun = SyntheticSun(3004)
date = "2014-09-11T00:00"
hmi = observe_hmi(sun, date, npix=512)
euvi = observe_euvi(sun, date, farside_observer(date), npix=512, observatory="STEREO_B")
farside = generate_magnetogram(euvi, device="cpu")
for smap in (hmi, farside):
    print(
        f"{smap.nickname}: observer at Stonyhurst longitude {smap.observer_coordinate.lon.to_value(u.deg):.0f} deg"
    )

###############################################################################
# Combine them. Each input pixel is weighted by ``mu ** 2`` (views near disk centre
# dominate; limb pixels with ``mu < 0.1`` get no weight), the line-of-sight field is
# turned into an estimate of the radial field (``B_los / mu``), and both are reprojected
# onto one 1-degree Carrington grid with `reproject`. The labels name the sources.

synoptic = make_synoptic_map([hmi, farside], labels=["SDO/HMI (observed)", "GAN from EUVI (far side)"])
for k, label in enumerate(synoptic.labels):
    fraction = np.mean(synoptic.source_mask(k))
    print(f"{label:28} {fraction:6.1%} of the map")
print(f"no coverage:                 {np.mean(np.asarray(synoptic.source.data) < 0):6.1%}")

###############################################################################
# The synoptic map with the region each source contributed outlined; light grey
# marks pixels no observer covered (the two views do not quite meet at the limbs).
# The hatched part is the farside prediction
# (``synoptic.farside_prediction_mask()``: generated magnetograms of pixels hidden from
# the Earth), and ``synoptic.observation_time()`` says when each pixel was observed.

fig = plt.figure(figsize=(10, 5))
ax = fig.add_subplot(projection=synoptic.map)
plot_synoptic_map(synoptic, ax=ax, vmax=300 * u.G)
plt.show()

###############################################################################
# The synthetic Sun's true radial field on the same grid, on the same colour scale,
# with the farside part outlined: the front half should match closely (it is observed),
# the far half shows how well the farside prediction recovers the regions.

truth = sun.carrington_map(date)
fig = plt.figure(figsize=(10, 5))
ax = fig.add_subplot(projection=truth)
truth.plot(axes=ax, cmap="gray", vmin=-300, vmax=300, title="True radial field (synthetic Sun)")
ax.contour(synoptic.source_mask(1).astype(float), levels=[0.5], colors="tab:blue", linewidths=1.2)
plt.show()

###############################################################################
# How close is each part to the truth? The correlation of the synoptic field with the
# true radial field over the observed and over the predicted pixels, once for the signed
# field and once for the field strength smoothed over about 2° (where the flux is,
# whatever its sign). EUV images do not show the sign of the field (:ref:`limits`),
# the farside EUVI view is coarser than AIA's, and the default model was trained on
# SDO views only (see its card): expect the farside prediction to place the regions
# far better than it signs them.

strength_map = ndimage.gaussian_filter(np.abs(np.nan_to_num(synoptic.map.data)), 2)
strength_truth = ndimage.gaussian_filter(np.abs(truth.data), 2)
for k, label in enumerate(synoptic.labels):
    inside = synoptic.source_mask(k) & np.isfinite(synoptic.map.data)
    cc_signed = np.corrcoef(synoptic.map.data[inside], truth.data[inside])[0, 1]
    cc_strength = np.corrcoef(strength_map[inside], strength_truth[inside])[0, 1]
    print(f"{label:28} CC with the truth: B {cc_signed:5.2f}, |B| smoothed {cc_strength:5.2f}")

# sphinx_gallery_thumbnail_number = 1
