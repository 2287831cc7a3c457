"""Inclined (non-radial) sunspot and plage fields of the synthetic Sun and what they do to B_los."""

import numpy as np
import pytest

from sunpy_magnetogan.evaluation.activity import evaluate_activity
from sunpy_magnetogan.synthetic import FluxModel, SyntheticSun, observe_aia, observe_hmi
from sunpy_magnetogan.synthetic.activity import activity_samples
from sunpy_magnetogan.synthetic.kernels import evaluate_on_image
from sunpy_magnetogan.synthetic.projection import ImagePlane
from sunpy_magnetogan.synthetic.sources import NETWORK, PLAGE, SPOT

DATE = "2014-02-15T06:00"
INCLINED = FluxModel(spot_inclination=1.0, plage_inclination=0.2)


def _spot(angle_deg, *, inclination, sigma=0.03, npix=129, extended=False):
    """B_r, the horizontal field's z part and B_los of one positive source ``angle_deg`` west of disk centre."""
    plane = ImagePlane((npix, npix), 2400.0 / npix, 215.0)
    geometry = plane.surface()
    angle = np.deg2rad(angle_deg)
    src = np.array([[np.sin(angle), 0.0, np.cos(angle)]])
    radial, horizontal = evaluate_on_image(
        src,
        plane.project(src),
        np.array([2000.0]),
        np.array([sigma]),
        geometry.xyz,
        plane.radius_px,
        extended_xyz=geometry.extended_xyz if extended else None,
        inclination=np.array([inclination]),
    )
    b_los = np.where(geometry.on_disk, radial * geometry.mu + horizontal, 0.0)
    return radial, horizontal, b_los, geometry, plane.project(src)[0][0]


def test_no_inclination_is_the_radial_field():
    """Inclination 0 adds nothing, and without ``inclination`` only the radial field is returned."""
    radial, horizontal, *_ = _spot(40.0, inclination=0.0)
    assert np.all(horizontal == 0.0)
    plane = ImagePlane((129, 129), 2400.0 / 129, 215.0)
    src = np.array([[np.sin(np.deg2rad(40.0)), 0.0, np.cos(np.deg2rad(40.0))]])
    alone = evaluate_on_image(
        src, plane.project(src), np.array([2000.0]), np.array([0.03]), plane.surface().xyz, plane.radius_px
    )
    assert isinstance(alone, np.ndarray)
    np.testing.assert_array_equal(alone, radial)


def test_inclined_spot_at_disk_centre_barely_changes_b_los():
    """Seen from above, a fanning field is nearly across the line of sight."""
    radial, horizontal, _, geometry, _ = _spot(0.0, inclination=1.0)
    on = geometry.on_disk
    assert np.nanmax(np.abs(horizontal[on])) < 0.05 * radial[on].max()


def test_inclined_spot_near_the_limb_shows_the_opposite_polarity_on_its_limb_side():
    """A positive spot at mu 0.5: negative B_los beyond it towards the limb, stronger B_los towards disk centre."""
    radial, _, b_los, geometry, x_spot = _spot(60.0, inclination=1.0)
    on = geometry.on_disk
    assert radial[on].min() >= 0
    row = b_los[b_los.shape[0] // 2]
    columns = np.arange(row.size)
    assert row[columns > x_spot].min() < -100  # G, limb side
    assert row[columns < x_spot].max() > 1.1 * np.nanmax(np.where(on, radial * geometry.mu, 0.0))


def test_horizontal_field_of_wide_sources_matches_the_exact_evaluation():
    """The coarse (interpolated) evaluation of wide sources carries the horizontal field, as accurately as the radial one."""
    radial_fine, fine, _, geometry, _ = _spot(50.0, inclination=0.5, sigma=0.12, npix=257)
    radial_coarse, coarse, _, _, _ = _spot(50.0, inclination=0.5, sigma=0.12, npix=257, extended=True)
    inside = geometry.on_disk & (geometry.rho < 0.95)
    assert np.abs(fine[inside]).max() > 200  # G
    assert (
        np.abs(coarse[inside] - fine[inside]).max()
        <= np.abs(radial_coarse[inside] - radial_fine[inside]).max()
    )
    assert np.abs(coarse[inside] - fine[inside]).max() < 0.1 * np.abs(fine[inside]).max()


def test_flux_model_inclination_per_kind_and_validation():
    model = FluxModel(spot_inclination=1.0, plage_inclination=0.2)
    np.testing.assert_array_equal(model.inclination(np.array([SPOT, PLAGE, NETWORK])), [1.0, 0.2, 0.0])
    assert FluxModel().radial
    assert not model.radial
    with pytest.raises(ValueError, match="non-negative"):
        FluxModel(spot_inclination=-0.1)


@pytest.fixture(scope="module")
def observed():
    """Radial and inclined HMI and AIA views of the same Sun, date and noise."""
    return {
        name: (
            observe_hmi(SyntheticSun(21, flux_model=model), DATE, npix=256),
            observe_aia(SyntheticSun(21, flux_model=model), DATE, npix=256),
        )
        for name, model in (("radial", None), ("inclined", INCLINED))
    }


def test_inclination_perturbs_the_magnetogram(observed):
    """The inclined magnetogram differs by hundreds of G in places but stays close to the radial one overall."""
    radial, inclined = observed["radial"][0].data, observed["inclined"][0].data
    on = np.isfinite(radial)
    assert np.abs(inclined[on] - radial[on]).max() > 100  # G
    assert 0.8 < np.corrcoef(radial[on], inclined[on])[0, 1] < 0.9999


def test_inclination_leaves_the_euv_image_unchanged(observed):
    """The chromosphere's brightness follows the field's strength, not the viewing angle."""
    np.testing.assert_array_equal(observed["radial"][1].data, observed["inclined"][1].data)


def test_evaluate_activity_observes_the_given_flux_model():
    sample = activity_samples(1)[4:5]  # one Sun at maximum

    def zero(euv, meta):
        return np.zeros_like(euv)

    radial, inclined = (
        evaluate_activity(zero, sample, size=64, recipe="pair", flux_model=model)[0]
        for model in (None, INCLINED)
    )
    assert radial["flux_true"] != inclined["flux_true"]
