"""
=========================================================
Sunspot fields near the limb: radial against inclined
=========================================================

A line-of-sight magnetogram sees ``B_los``, the component of the field along the line of
sight. For a radial field that is ``mu B_r``; a sunspot's field, though, fans out, vertical
at its centre and 60-70° from the vertical in the outer penumbra. Near the limb the
limb-side penumbra then points away from the observer and shows the opposite polarity.
The synthetic Sun is radial by default; this example observes the same synthetic Sun with
inclined sunspot and plage fields (`~sunpy_magnetogan.synthetic.FluxModel`), looks at a
large sunspot group at ``mu`` 0.45, and measures how much the unsigned flux near the limb
changes (:ref:`synthetic_sun`, "Inclined fields near the limb").
"""

import astropy.units as u
import matplotlib.pyplot as plt
import numpy as np
import sunpy.map
from astropy.coordinates import SkyCoord
from matplotlib.colors import Normalize

from sunpy_magnetogan.metrics import flux_by_mu, grid_geometry
from sunpy_magnetogan.preprocess import prepare_magnetogram_map
from sunpy_magnetogan.synthetic import FluxModel, SyntheticSun, observe_hmi

###############################################################################
# The same Sun (seed 7) and date, radial and inclined: 1.0 is the tangent of the
# sunspot field's inclination at one source width (45°; 63° at two widths), 0.2 that of
# plage. Noise is the same in both: the seed fixes it.

date = "2014-02-23T12:00"
inclined_model = FluxModel(spot_inclination=1.0, plage_inclination=0.2)
radial = observe_hmi(SyntheticSun(7), date, npix=1024)
inclined = observe_hmi(SyntheticSun(7, flux_model=inclined_model), date, npix=1024)

###############################################################################
# A 200 arcsec box around the sunspot group 58° west of the central meridian, in the
# north. In the inclined map the umbra is weaker, the penumbra on the disk-centre side
# (left) stronger, and the limb side (right) of each spot turns to the opposite sign.

centre = SkyCoord(760 * u.arcsec, 540 * u.arcsec, frame=radial.coordinate_frame)
half = 100 * u.arcsec
boxes = [
    m.submap(
        SkyCoord(centre.Tx - half, centre.Ty - half, frame=m.coordinate_frame),
        top_right=SkyCoord(centre.Tx + half, centre.Ty + half, frame=m.coordinate_frame),
    )
    for m in (radial, inclined)
]
difference = sunpy.map.Map(boxes[1].data - boxes[0].data, boxes[1].meta)

fig = plt.figure(figsize=(12, 4.2))
for i, (smap, title) in enumerate(
    zip((*boxes, difference), ("radial", "inclined", "inclined - radial"), strict=True)
):
    ax = fig.add_subplot(1, 3, i + 1, projection=smap)
    image = smap.plot(axes=ax, cmap="RdBu_r", norm=Normalize(-1000, 1000), title=title)
    ax.coords[1].set_axislabel(" " if i else "Helioprojective Latitude (Solar-Y)")
fig.colorbar(image, ax=fig.axes, shrink=0.8, label=r"$B_\mathrm{los}$ (G)")
plt.show()

###############################################################################
# Along a cut through the group's strongest spot, east to west: the radial ``B_los``
# keeps one sign; the inclined one rises on the disk-centre side and crosses zero on the
# limb side.

row = np.nanargmax(np.nanmax(np.abs(boxes[0].data), axis=1))
x = boxes[0].pixel_to_world(np.arange(boxes[0].data.shape[1]) * u.pix, row * u.pix).Tx
fig, ax = plt.subplots(figsize=(7, 3.5))
ax.plot(x, boxes[0].data[row], label="radial")
ax.plot(x, boxes[1].data[row], label="inclined")
ax.axhline(0, color="0.5", lw=0.8)
ax.set_xlabel("Solar-X (arcsec)")
ax.set_ylabel(r"$B_\mathrm{los}$ (G)")
ax.legend()
plt.show()

###############################################################################
# Over the whole disk, the unsigned flux estimated as ``B_los / mu`` in annuli of
# ``mu``, inclined over radial, with both maps placed on the model grid
# (`~sunpy_magnetogan.preprocess.prepare_magnetogram_map`, 512 px): the inclination adds
# apparent flux near the limb and almost none at disk centre. This is one Sun on one
# date; ``benchmarks/bench_inclination.py`` measures it over 20 Suns from minimum to
# maximum.

geometry = grid_geometry(512)
fields = [prepare_magnetogram_map(m).data.astype(float) for m in (radial, inclined)]
table = flux_by_mu(fields[0], fields[1], geometry, mask=np.isfinite(geometry.mu))
for low, high, ratio in zip(table["mu_low"], table["mu_high"], table["ratio"], strict=True):
    print(f"mu {low:.1f}-{high:.1f}: inclined / radial unsigned flux {ratio:.3f}")
