"""
The logs of a training run: CSV files of the training and evaluation rows (cut back to the
checkpoint's step on resume), the optional TensorBoard writer, the progress bar, and the
window of per-step losses that each training row averages.
"""

import csv
import logging
from pathlib import Path

from tqdm.auto import tqdm

from sunpy_magnetogan._io import atomic_write_csv
from sunpy_magnetogan.training.evaluation import eval_columns

__all__ = ["CSVLog", "LossWindow", "RunLogs", "open_tensorboard", "train_columns"]

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


def train_columns(n_levels):
    """
    The columns of ``train_log.csv`` for a pyramid of ``n_levels`` levels: ``step``,
    ``elapsed_s``, ``steps_per_s``, then the losses in the order of the trainer's step
    (``loss_d``, ``loss_g``, ``gan_g`` and ``l2_level{m}`` per level).
    """
    return [
        "step",
        "elapsed_s",
        "steps_per_s",
        "loss_d",
        "loss_g",
        "gan_g",
        *(f"l2_level{m}" for m in range(n_levels)),
    ]


class LossWindow:
    """
    The per-step losses since the last row of ``train_log.csv``.

    Parameters
    ----------
    start : float
        `time.perf_counter` at the start of the window.
    """

    def __init__(self, start):
        self.reset(start)

    def reset(self, start):
        """Start a new, empty window at ``start`` (`time.perf_counter` seconds)."""
        self.total = None
        self.steps = 0
        self.start = start

    def add(self, values):
        """Add one step's losses (a 1-d tensor)."""
        self.total = values if self.total is None else self.total + values
        self.steps += 1

    def mean(self):
        """The mean losses of the window's steps (a 1-d tensor)."""
        return self.total / self.steps


class RunLogs:
    """
    The logs of one training session: ``train_log.csv``, ``eval_log.csv`` and TensorBoard
    (written by one process only), and the progress bar.

    Parameters
    ----------
    run_dir : pathlib.Path
        The run directory.
    n_levels : int
        Levels of the pyramid.
    start_step, total_steps : int
        Steps done before this session, and at its end; on resume the logs are cut back
        to ``start_step``.
    write : bool
        Whether this process writes the logs (rank 0) and shows the bar.
    progress : bool
        Show a tqdm progress bar.
    """

    def __init__(self, run_dir, n_levels, *, start_step, total_steps, write, progress):
        self.train_columns = train_columns(n_levels)
        self.eval_columns = eval_columns(n_levels)
        self._train_log = self._eval_log = self._tensorboard = None
        if write:
            resume_step = start_step if start_step > 0 else None
            self._train_log = CSVLog(run_dir / "train_log.csv", self.train_columns, resume_step=resume_step)
            self._eval_log = CSVLog(run_dir / "eval_log.csv", self.eval_columns, resume_step=resume_step)
            self._tensorboard = open_tensorboard(run_dir / "tensorboard", start_step or None)
        self._bar = tqdm(
            total=total_steps,
            initial=start_step,
            desc="train",
            unit="step",
            disable=not (progress and write),
            dynamic_ncols=True,
        )

    @property
    def loss_columns(self):
        """The columns of the losses, in the order of the trainer's step."""
        return self.train_columns[3:]

    def advance(self):
        """Count one step on the progress bar."""
        self._bar.update(1)

    def record_train(self, row):
        """Write a row of ``train_log.csv`` (a dict of `train_columns`) and show its losses."""
        if self._train_log is not None:
            self._train_log.append(row)
            if self._tensorboard is not None:
                for key in self.train_columns[2:]:
                    self._tensorboard.add_scalar(f"train/{key}", row[key], row["step"])
        self._bar.set_postfix(loss_d=f"{row['loss_d']:.3f}", loss_g=f"{row['loss_g']:.3f}")

    def record_eval(self, row):
        """Write a row of ``eval_log.csv`` (``step`` and the results of an evaluation) and log it."""
        results = {key: value for key, value in row.items() if key != "step"}
        if self._eval_log is not None:
            self._eval_log.append(row)
            if self._tensorboard is not None:
                for key, value in results.items():
                    self._tensorboard.add_scalar(f"eval/{key}", value, row["step"])
        log.info("step %d evaluation: %s", row["step"], ", ".join(f"{k}={v:.4g}" for k, v in results.items()))

    def close(self):
        """Close the progress bar and the TensorBoard writer."""
        self._bar.close()
        if self._tensorboard is not None:
            self._tensorboard.close()
            self._tensorboard = None
