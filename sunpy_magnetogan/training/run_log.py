"""
The logs of a training run: CSV files of the training and evaluation rows (cut back to the
checkpoint's step on resume) and the optional TensorBoard writer.
"""

import csv
import logging
from pathlib import Path

from sunpy_magnetogan._io import atomic_write_csv

__all__ = ["CSVLog", "open_tensorboard"]

log = logging.getLogger("sunpy_magnetogan.training.trainer")


class CSVLog:
    """Append-only CSV log; on resume, rows after the checkpoint's step are dropped."""

    def __init__(self, path, columns, *, resume_step=None):
        self.path = Path(path)
        self.columns = list(columns)
        rows = []
        if resume_step is not None and self.path.is_file():
            with self.path.open(newline="") as f:
                reader = csv.DictReader(f)
                if reader.fieldnames == self.columns:
                    rows = [row for row in reader if int(row["step"]) <= resume_step]
        atomic_write_csv(self.path, rows, fieldnames=self.columns)

    def append(self, row):
        with self.path.open("a", newline="") as f:
            csv.DictWriter(f, fieldnames=self.columns, restval="").writerow(row)


def open_tensorboard(log_dir, purge_step):
    """A TensorBoard writer for ``log_dir``, or None (with a log message) without tensorboard."""
    try:
        from torch.utils.tensorboard import SummaryWriter
    except ImportError:
        log.info(
            "TensorBoard logging is off: the tensorboard package is not installed (pip install tensorboard)"
        )
        return None
    return SummaryWriter(log_dir=str(log_dir), purge_step=purge_step)
