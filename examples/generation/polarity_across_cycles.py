"""
=====================================================================
Polarities across solar cycles: the date, a prior and the confidence
=====================================================================

An EUV 304 Å image shows where the magnetic field is strong, not which way it points. The
default model infers polarities from Hale's law, which flips from one solar cycle to the
next: the observation date decides which order applies (:ref:`polarity`). This example
shows the cycle frame the model uses, the same image dated in two cycles, the polarity
confidence that comes with every generated map and how calibrated it is, and how an
earlier magnetogram sets the signs of the regions it has seen. It runs on the synthetic
AIA 304 Å sample of a held-out synthetic Sun (:ref:`synthetic_sun`) and its true
magnetogram.
"""

import tempfile
from pathlib import Path

import astropy.units as u
import matplotlib.pyplot as plt
import numpy as np
import sunpy.map
from astropy.time import Time

from sunpy_magnetogan.evaluation import plot_reliability
from sunpy_magnetogan.generate import generate_magnetogram
from sunpy_magnetogan.output import save_magnetogram
from sunpy_magnetogan.polarity import sign_is_right
from sunpy_magnetogan.preprocess import prepare_magnetogram_map
from sunpy_magnetogan.sample import SAMPLE_AIA304, SAMPLE_HMI
from sunpy_magnetogan.solar_cycle import cycle_frame

###############################################################################
# The cycle frame: for each latitude and date, the cycle whose flux emerges there (the
# butterfly diagram) and so the sign by which the model's output is multiplied: +1 for
# even cycles, -1 for odd ones. Around each minimum the new cycle's first regions appear
# at high latitude while the old one's last regions still emerge near the equator.

years = np.linspace(1996, 2027, 311)
latitudes = np.linspace(-60, 60, 121)
signs = np.empty((latitudes.size, years.size))
confidence = np.empty_like(signs)
for k, year in enumerate(years):
    frame = cycle_frame(latitudes * u.deg, Time(year, format="decimalyear"))
    signs[:, k], confidence[:, k] = frame.sign, frame.probability

fig, ax = plt.subplots(figsize=(9, 3.5), layout="constrained")
image = ax.pcolormesh(years, latitudes, signs * confidence, cmap="RdBu", vmin=-1, vmax=1, shading="auto")
ax.set_xlabel("year")
ax.set_ylabel("latitude (deg)")
ax.set_title("cycle frame: +1 even cycle, -1 odd cycle (pale where two cycles overlap)")
fig.colorbar(image, ax=ax, label="frame sign x probability")

###############################################################################
# The same EUV image generated with its own date (2014, cycle 24) and re-dated to 2023
# (cycle 25): the field of every region flips sign, its strength does not change (white is
# positive, black negative, on a +-300 G grey scale). The confidence is near 0.5 (a coin
# flip) for the weak mixed-sign network and rises to 0.8-0.9 in strong active-region field.

aia = sunpy.map.Map(SAMPLE_AIA304)
magnetogram, confidence_2014 = generate_magnetogram(aia, device="cpu", return_confidence=True)
meta = aia.meta.copy()
meta["date-obs"] = meta["t_obs"] = "2023-02-05T12:00:00"
meta.pop("date_obs", None)
redated = generate_magnetogram(sunpy.map.Map(aia.data, meta), device="cpu")
print("cycles applied:", magnetogram.meta["mgancycl"], "and", redated.meta["mgancycl"])

fig = plt.figure(figsize=(14, 4.8), layout="constrained")
for k, (smap, title) in enumerate(
    ((magnetogram, "dated 2014-02-05 (cycle 24)"), (redated, "re-dated 2023-02-05 (cycle 25)"))
):
    ax = fig.add_subplot(1, 3, k + 1, projection=smap)
    im = smap.plot(axes=ax, title=title, cmap="gray", vmin=-300, vmax=300)
    fig.colorbar(im, ax=ax, shrink=0.8, label="B_los (G)")
ax = fig.add_subplot(1, 3, 3, projection=confidence_2014)
im = confidence_2014.plot(axes=ax, title="probability that the sign is right")
fig.colorbar(im, ax=ax, shrink=0.8)

###############################################################################
# How calibrated is the confidence? Against the true magnetogram of this held-out Sun,
# pixels stated at probability p should have the right sign a fraction p of the time (the
# diagonal). Only pixels whose true field reaches 10 G are scored: a weaker field's sign
# means nothing. ``benchmarks/bench_polarity.py`` draws the same diagram for hundreds of
# held-out pairs of three parts of the cycle.

truth = prepare_magnetogram_map(sunpy.map.Map(SAMPLE_HMI)).data
scored, right = sign_is_right(magnetogram.data, truth, valid=np.isfinite(magnetogram.data))
fig = plot_reliability({"held-out sample": (confidence_2014.data[scored], right[scored])})
print(f"{right[scored].mean():.1%} of the {scored.sum()} scored pixels have the right sign")

###############################################################################
# A prior magnetogram: here the true magnetogram of this Sun, dated three days earlier,
# as a frontside HMI map of the days before would be. ``generate_magnetogram`` rotates it
# to the EUV image's date with the solar differential rotation and gives the generated
# field the prior's sign wherever the prior clearly sees field; the east limb, which has
# rotated into view since, keeps the model's own polarity.

hmi = sunpy.map.Map(SAMPLE_HMI)
earlier = hmi.meta.copy()
earlier["date-obs"] = earlier["t_obs"] = "2014-02-02T12:00:00"
earlier.pop("date_obs", None)
prior = sunpy.map.Map(hmi.data, earlier)
with_prior, confidence_prior = generate_magnetogram(aia, device="cpu", prior=prior, return_confidence=True)
print(f"prior from {with_prior.meta['mganprio']}: {with_prior.meta['mganprpx']:.0%} of the disk signed by it")

fig = plt.figure(figsize=(10, 4.8), layout="constrained")
ax = fig.add_subplot(1, 2, 1, projection=with_prior)
im = with_prior.plot(axes=ax, title="with a 3-day-old prior", cmap="gray", vmin=-300, vmax=300)
fig.colorbar(im, ax=ax, shrink=0.8, label="B_los (G)")
ax = fig.add_subplot(1, 2, 2, projection=confidence_prior)
im = confidence_prior.plot(axes=ax, title="polarity confidence with the prior")
fig.colorbar(im, ax=ax, shrink=0.8)

###############################################################################
# Save the magnetogram with its confidence: one FITS file, two image HDUs, which
# ``sunpy.map.Map`` reads back as two maps.

with tempfile.TemporaryDirectory() as tmp:
    path = save_magnetogram(Path(tmp) / "magnetogram.fits", with_prior, confidence=confidence_prior)
    field, probability = sunpy.map.Map(path)
    print(type(field).__name__, field.unit, "|", probability.meta["content"])

plt.show()
