"""
Evaluation: generated magnetograms and tracks scored against the truth.

- `sunpy_magnetogan.evaluation.datasets`: the paper's metrics over a data set of
  (truth, generated) pairs, their Table-1 summary, and the files of a run
  (`evaluate_pairs`, `summarize`, `run_evaluation`);
- `sunpy_magnetogan.evaluation.sources`: where the pairs come from (`MapFilePairs`,
  `StorePairs`);
- `sunpy_magnetogan.evaluation.plots`: comparison panels, the flux scatter plot and the
  reliability diagram of the polarity confidence;
- `sunpy_magnetogan.evaluation.activity` (imported on its own: it loads the synthetic Sun):
  semi-real scoring of a model over activity levels, from solar minimum to maximum
  (`~sunpy_magnetogan.evaluation.activity.evaluate_activity`);
- `sunpy_magnetogan.evaluation.tracking` (imported on its own: it loads the synthetic Sun
  and the generator): active-region detection and tracking scored against the ground truth
  of the synthetic Sun (``track_synthetic_sun``, ``score_tracking``), which re-exports
  the steps that live in modules of their own: ``synthetic_views`` (the magnetograms from
  the Earth and the far side), ``attribution`` (detections to truth regions) and
  ``track_scoring`` (the scores and their definitions).

The tracking library (`sunpy_magnetogan.tracking`) itself knows nothing of the synthetic Sun
or of the generator; this package brings the three together.
"""

from sunpy_magnetogan.evaluation.datasets import (
    EvaluationPair,
    EvaluationResult,
    evaluate_pair,
    evaluate_pairs,
    format_summary,
    run_evaluation,
    summarize,
    write_results,
)
from sunpy_magnetogan.evaluation.plots import plot_comparison, plot_flux_scatter, plot_reliability
from sunpy_magnetogan.evaluation.sources import MapFilePairs, StorePairs

__all__ = [
    "EvaluationPair",
    "EvaluationResult",
    "MapFilePairs",
    "StorePairs",
    "evaluate_pair",
    "evaluate_pairs",
    "format_summary",
    "plot_comparison",
    "plot_flux_scatter",
    "plot_reliability",
    "run_evaluation",
    "summarize",
    "write_results",
]
