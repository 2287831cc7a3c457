"""
The figures of an evaluation, now `sunpy_magnetogan.evaluation.plots`.

This module keeps the old import path working (``from sunpy_magnetogan.evaluation_plots
import plot_comparison``); new code imports from `sunpy_magnetogan.evaluation`.
"""

from sunpy_magnetogan.evaluation.plots import plot_comparison, plot_flux_scatter, plot_reliability

__all__ = ["plot_comparison", "plot_flux_scatter", "plot_reliability"]
