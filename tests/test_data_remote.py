"""
Network tests: one day of real data searched, downloaded and prepared (``--remote-data``).

JSOC downloads need a JSOC-registered e-mail address: set ``SUNPY_MAGNETOGAN_JSOC_EMAIL``
to use the JSOC, otherwise the SDO files come through the VSO.
"""

import os

import numpy as np
import pytest

from sunpy_magnetogan.data.download import fetch_dataset
from sunpy_magnetogan.data.pairing import select_farside
from sunpy_magnetogan.data.prepare import prepare_dataset
from sunpy_magnetogan.data.query import search_records
from sunpy_magnetogan.grid import ModelGrid, disk_mask
from sunpy_magnetogan.pairs import PairStore

pytestmark = pytest.mark.remote_data

DAY = ("2014-03-01", "2014-03-01T23:59:59")


def _provider():
    email = os.environ.get("SUNPY_MAGNETOGAN_JSOC_EMAIL")
    return ("jsoc", email) if email else ("vso", None)


def test_fido_finds_euvi_304_at_the_synoptic_times():
    pytest.importorskip("zeep")
    records, _ = search_records("euvi304_a", *DAY)
    assert records
    plans = select_farside(records, prefix="euvi304_a")
    assert [p.target.datetime.hour for p in plans] == [0, 12]


def test_fetch_and_prepare_one_day(tmp_path):
    pytest.importorskip("aiapy")
    provider, email = _provider()
    fetch = tmp_path / "fetch"
    report = fetch_dataset(fetch, *DAY, provider=provider, notify=email)
    assert len(report.plans) == 2
    assert not report.failed
    assert [p.split for p in report.plans] == ["train", "train"]
    # A second run downloads nothing.
    again = fetch_dataset(fetch, *DAY, provider=provider, notify=email)
    assert again.downloaded == 0
    assert again.skipped == 4
    prepared = prepare_dataset(fetch, tmp_path / "pairs", grid_size=256)
    assert len(prepared.added) + len(prepared.rejected) == 2
    assert not prepared.failed
    store = PairStore.open(tmp_path / "pairs")
    for pair_id in store.ids():
        pair = store.load(pair_id)
        assert pair["euv"].shape == (256, 256)
        assert np.mean(pair["disk"][disk_mask(ModelGrid(256))]) > 0.99
        assert "register: done" in pair["meta"]["euv_calibration"]
        assert "exposure: done" in pair["meta"]["euv_calibration"]
    if prepared.added:
        assert (tmp_path / "pairs" / "euv_reference.json").is_file()


def test_calibration_tables_download_and_apply():
    pytest.importorskip("aiapy")
    from sunpy_magnetogan.data.calibrate import CalibrationTables

    tables = CalibrationTables.fetch(*DAY, pointing_source="lmsal", correction_source="ssw")
    assert tables.pointing is not None
    assert len(tables.pointing) > 0
    assert tables.correction is not None
    assert "304_THIN" in set(tables.correction["WAVE_STR"])
