"""
Export the generators of the one-call GPU run, with their cards, for the trip back.

Exports the run's newest checkpoint and, when another checkpoint scored better on the
in-training ``val`` evaluation (``eval_log.csv``: the pixel CC, the one skill figure it
holds), that one too: ``<out>/last.safetensors`` (+ ``.json`` card) and ``<out>/best-val.safetensors``.
The final choice is made afterwards on the whole ``val`` split
(``benchmarks/select_checkpoint.py``), with the calibrations fitted there.

Run: ``python benchmarks/device/export_run.py RUN OUT --store STORE``
"""

import argparse
import csv
import json
from pathlib import Path

from sunpy_magnetogan.grid import ModelGrid
from sunpy_magnetogan.pairs import PairStore
from sunpy_magnetogan.training.checkpoint import checkpoint_step, list_checkpoints
from sunpy_magnetogan.training.export import export_model


def best_val_step(run):
    """The step of ``eval_log.csv``'s row with the highest pixel CC, or None."""
    path = Path(run) / "eval_log.csv"
    if not path.is_file():
        return None
    rows = [row for row in csv.DictReader(path.open()) if row.get("cc")]
    if not rows:
        return None
    return int(max(rows, key=lambda row: float(row["cc"]))["step"])


def main():
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("run", type=Path)
    parser.add_argument("out", type=Path)
    parser.add_argument(
        "--store", type=Path, required=True, help="the run's pair store (it gives the model grid)"
    )
    args = parser.parse_args()
    final = json.loads((args.run / "final.json").read_text())
    grid = ModelGrid(PairStore.open(args.store).grid_size)
    checkpoints = list_checkpoints(args.run / "checkpoints")
    steps = {checkpoint_step(path): path for path in checkpoints}
    chosen = {"last": checkpoints[0]}
    best = best_val_step(args.run)
    if best is not None and best in steps and steps[best] != checkpoints[0]:
        chosen["best-val"] = steps[best]
    description = (
        f"default preset trained on a GPU in one lent session: {final['step']} steps at "
        f"{final['steps_per_s']:.2f} steps/s on {final['device']}"
    )
    for name, path in chosen.items():
        export_model(
            path,
            args.out / f"{name}.safetensors",
            name=f"default-gpu-{name}",
            grid=grid,
            description=f"{description}; checkpoint {path.name}",
            training_data="benchmarks/device/make_pairs.py: synthetic train split, 1998-2018 without 2014",
            version="gpu-candidate",
        )
        print(f"exported {path.name} as {name}")


if __name__ == "__main__":
    main()
