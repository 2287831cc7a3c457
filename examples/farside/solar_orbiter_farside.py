"""
=================================================================
Farside magnetograms from Solar Orbiter EUI, scored against PHI
=================================================================

Solar Orbiter spends much of its time on the far side of the Sun from the Earth, and it
carries both an EUV imager and a magnetograph: the Full Sun Imager of EUI takes 304 Å
images of the whole disk and the Full Disc Telescope of PHI measures the line-of-sight
field at the same time. That makes it the first place where a farside magnetogram
generated from an EUV image can be checked against a measured one.

This example does it offline on the synthetic Sun of the held-out ``test_solo`` split:
two far-side views from the analytic Solar Orbiter ephemeris
(`~sunpy_magnetogan.synthetic.solo_observer`), an EUI/FSI-like 304 Å image and a
PHI/FDT-like magnetogram of each (`~sunpy_magnetogan.synthetic.observe_pair` with
``instrument="FSI"``). Their headers carry the keywords of the real level-2 products, so
sunpy reads the 304 Å image as an ``EUIMap`` and the package recognises the magnetogram
as a ``phi-fdt-blos`` product. A magnetogram is generated from each FSI image and scored
against the PHI-like truth with the paper's Table 1 metrics, and the truth regions above
1e22 Mx that the Earth cannot see are looked for in the generated maps.
"""

import astropy.units as u
import matplotlib.pyplot as plt
import numpy as np
import sunpy.map
from sunpy.coordinates import HeliographicCarrington

from sunpy_magnetogan.data.solo import is_eui_fsi, is_phi_fdt_blos, phi_to_hmi
from sunpy_magnetogan.evaluation import evaluate_pairs, format_summary, summarize
from sunpy_magnetogan.evaluation.tracking import attribute_detections
from sunpy_magnetogan.generate import generate_magnetogram
from sunpy_magnetogan.synthetic import BENCHMARK_SPLIT, SyntheticSun, observe_pair, sdo_observer
from sunpy_magnetogan.tracking import detect_active_regions

###############################################################################
# Two views of the ``test_solo`` split, both with Solar Orbiter behind the Sun: Sun 2200
# in September 2025, after the inclination was raised (0.48 AU, 16° below the solar
# equator), and Sun 2207 in May 2024, near aphelion (0.81 AU, 9° from the anti-Earth
# direction).

views = [
    item
    for item in BENCHMARK_SPLIT["test_solo"].items("test_solo")
    if (item[0], item[1].isot[:10]) in {(2207, "2024-05-23"), (2200, "2025-09-08")}
]
scenes = []
for seed, when, _, observer_at in views:
    solo = observer_at(when)
    sun = SyntheticSun(seed)
    fsi, phi = observe_pair(sun, when, solo, instrument="FSI", npix=512)
    scenes.append((sun, when, solo, fsi, phi))
    print(
        f"Sun {seed} {when.isot[:16]}: Stonyhurst lon {solo.lon.wrap_at(180 * u.deg).to_value(u.deg):.0f} deg, "
        f"lat {solo.lat.to_value(u.deg):.1f} deg, {solo.radius.to_value(u.AU):.2f} AU"
    )

###############################################################################
# What sunpy and the package make of the two synthetic products: an ``EUIMap`` binned
# on board (``NBIN1``) as little as holds the disk, and a PHI/FDT B_los map.

for _, _, _, fsi, phi in scenes:
    print(
        f"{type(fsi).__name__} {fsi.meta['telescop']} level {fsi.processing_level}, {fsi.unit}, "
        f"{fsi.scale.axis1:.2f} (NBIN1={fsi.meta['nbin1']}), is_eui_fsi={is_eui_fsi(fsi)}; "
        f"{phi.meta['telescop']} {phi.meta['btype']!r}, is_phi_fdt_blos={is_phi_fdt_blos(phi)}"
    )

###############################################################################
# Generate a magnetogram from each FSI image. The PHI-like truth is put on the HMI scale
# with `~sunpy_magnetogan.data.solo.phi_to_hmi`: with real data the factor comes from a
# PHI/FDT-HMI cross-calibration; the synthetic field is HMI-like, so it is 1 here, and the
# header says so.

pairs = []
for _, _, _, fsi, phi in scenes:
    truth = phi_to_hmi(phi, factor=1.0, reference="synthetic truth (HMI-like)")
    pairs.append((truth, generate_magnetogram(fsi, device="cpu")))

###############################################################################
# The Table 1 metrics of the two views (each generated map is reprojected onto its
# truth). The flux correlations across pairs mean nothing with two pairs;
# ``benchmarks/bench_solo_farside.py --split test_solo`` gives every metric for the
# 80 views of the split.

table = evaluate_pairs(pairs, reproject=True, nan_policy="omit")
print(format_summary(summarize(table)))

###############################################################################
# The farside regions: truth regions of more than 1e22 Mx whose flux-weighted centre
# is hidden from the Earth but seen by Solar Orbiter (mu >= 0.3). Each is looked for
# among the active regions detected on the generated map and on the truth map, and the
# flux of its detection compared with its true flux on the visible hemisphere.


def cos_angle(sources, observer, when):
    """Cosine of the angle between each flux source and the sub-observer point."""
    obs = observer.transform_to(HeliographicCarrington(observer=observer, obstime=when))
    lon, lat = np.deg2rad(sources.lon), np.deg2rad(sources.lat)
    o_lon, o_lat = obs.lon.to_value(u.rad), obs.lat.to_value(u.rad)
    return np.sin(lat) * np.sin(o_lat) + np.cos(lat) * np.cos(o_lat) * np.cos(lon - o_lon)


def farside_regions(sun, when, solo, min_flux=1e22):
    """{region ID: flux (Mx) seen by Solar Orbiter} of the regions the Earth cannot see."""
    sources = sun.sources(when, network=False)
    from_solo = cos_angle(sources, solo, when)
    from_earth = cos_angle(sources, sdo_observer(when), when)
    out = {}
    for rid in np.unique(sources.region):
        region = sources.region == rid
        weights = np.abs(sources.flux[region])
        visible = region & (from_solo > 0)
        flux = np.abs(sources.flux[visible]).sum()
        seen = np.average(from_solo[region], weights=weights) >= 0.3
        hidden = np.average(from_earth[region], weights=weights) < 0
        if flux > min_flux and seen and hidden:
            out[int(rid)] = float(flux)
    return out


def detected_flux(smap, sun):
    """{region ID: flux (Mx) of its main detection} on a map."""
    detections, labels = detect_active_regions(smap, return_labels=True)
    detections = attribute_detections(detections, labels, sun)
    main = detections[detections["truth_main"]]
    return {int(row["truth_id"]): row["unsigned_flux"].to_value(u.Mx) for row in main}


for (sun, when, solo, _, _), (truth, generated) in zip(scenes, pairs, strict=True):
    regions = farside_regions(sun, when, solo)
    found = {"generated": detected_flux(generated, sun), "truth": detected_flux(truth, sun)}
    print(f"Sun {sun.seed} {when.isot[:10]}: {len(regions)} farside regions above 1e22 Mx")
    for rid, flux in regions.items():
        cells = [
            f"{name} {found[name][rid] / flux - 1:+.0%}" if rid in found[name] else f"{name} missed"
            for name in ("generated", "truth")
        ]
        print(f"  region {rid}: {flux:.2e} Mx; flux error: {', '.join(cells)}")

###############################################################################
# The FSI-like input, the generated magnetogram and the PHI-like truth of each view.

fig = plt.figure(figsize=(12, 8))
for row, ((_, when, _, fsi, _), (truth, generated)) in enumerate(zip(scenes, pairs, strict=True)):
    panels = [
        (fsi, {"clip_interval": (1, 99.9) * u.percent}, f"EUI/FSI-like 304 Å {when.isot[:10]}"),
        (generated, {}, "generated"),
        (truth, {"cmap": "hmimag", "norm": generated.plot_settings["norm"]}, "PHI/FDT-like truth"),
    ]
    for column, (smap, kwargs, title) in enumerate(panels):
        ax = fig.add_subplot(2, 3, 3 * row + column + 1, projection=smap)
        smap.plot(axes=ax, title=False, **kwargs)
        ax.set_title(title, fontsize=10)
        for coord in ax.coords:
            coord.set_ticklabel_visible(False)
            coord.set_axislabel("")
fig.tight_layout()
plt.show()

###############################################################################
# sunpy 7.0 has no PHI map source (it reads the PHI-like map as a ``GenericMap``; sunpy
# 7.1 adds ``PHIMap``). Whatever the version, the keywords that say what the file is are
# those of the real ``phi-fdt-blos`` product:

phi = scenes[0][4]
print(type(sunpy.map.Map(phi.data, phi.meta)).__name__)
for key in ("obsrvtry", "instrume", "telescop", "detector", "btype", "bunit", "level", "filename"):
    print(f"  {key.upper():8} = {phi.meta[key]!r}")

# sphinx_gallery_thumbnail_number = 1
