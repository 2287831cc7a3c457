"""
``sunpy-magnetogan train``: train a pyramid GAN preset on a pair-store directory.

Examples::

    sunpy-magnetogan train pairs/ --preset compact --out runs/compact
    sunpy-magnetogan train pairs/ --out runs/compact --resume          # after a crash
    sunpy-magnetogan train pairs/ --config my.toml --out runs/mine --steps 5000
    torchrun --nproc_per_node 4 -m sunpy_magnetogan.cli.train pairs/ --preset paper --out runs/paper
"""

import json
import logging
import sys
from pathlib import Path

from sunpy_magnetogan.cli import main as cli_main
from sunpy_magnetogan.cli._types import positive_duration

__all__ = ["PRESET_NAMES", "add_parser", "build_configs", "main", "run"]

#: The names of `sunpy_magnetogan.training.presets.PRESETS`, written out so that building the
#: parser does not import torch (a test checks they agree).
PRESET_NAMES = (
    "compact",
    "default",
    "multilayer-patch64",
    "paper",
    "pix2pix-compact",
    "pix2pix-compact-imagegan",
    "pix2pix-imagegan",
    "pix2pix-patch64",
)

log = logging.getLogger(__name__)


def add_parser(subparsers):
    """
    Register the ``train`` sub-command.

    Parameters
    ----------
    subparsers : argparse._SubParsersAction
        From `argparse.ArgumentParser.add_subparsers`.

    Returns
    -------
    argparse.ArgumentParser
    """
    parser = subparsers.add_parser(
        "train",
        help="train a pyramid GAN on a pair-store directory",
        description=(
            "Train a pyramid GAN preset on a pair-store directory (synthetic or prepared real pairs). "
            "Run it under torchrun for data-parallel training on several GPUs or nodes."
        ),
    )
    parser.add_argument(
        "dataset", type=Path, help="pair-store directory (holds dataset.json and manifest.csv)"
    )
    parser.add_argument("--out", type=Path, required=True, help="run directory for logs and checkpoints")
    parser.add_argument(
        "--preset",
        choices=PRESET_NAMES,
        default=None,
        help="named configuration (default: compact, or the run's own config.toml with --resume)",
    )
    parser.add_argument("--config", type=Path, help="TOML/YAML file overriding [model] and [train] fields")
    parser.add_argument(
        "--steps", type=int, help="total number of training steps (default: the preset's or --config's)"
    )
    parser.add_argument(
        "--batch-size", type=int, help="pairs per step and per process (default: the preset's or --config's)"
    )
    parser.add_argument("--seed", type=int, help="random seed (default: the preset's or --config's)")
    parser.add_argument("--device", default="auto", help="cpu, cuda, cuda:N or auto (default: auto)")
    parser.add_argument(
        "--resume", action="store_true", help="continue from the newest valid checkpoint in --out"
    )
    parser.add_argument(
        "--time-limit",
        type=positive_duration,
        help=(
            "stop this session after training this long, e.g. 45min or 2h (evaluated and "
            "checkpointed; --resume continues it)"
        ),
    )
    parser.add_argument("--deterministic", action="store_true", help="use deterministic algorithms only")
    parser.add_argument("--no-progress", action="store_true", help="hide the progress bar")
    return parser


def build_configs(args):
    """
    The model and training configurations the arguments describe.

    Parameters
    ----------
    args : argparse.Namespace
        Parsed ``train`` arguments.

    Returns
    -------
    model : `~sunpy_magnetogan.training.ModelConfig`
    train : `~sunpy_magnetogan.training.TrainConfig`
    """
    # lazy: a command's dependencies load only when it runs, so that --help answers at once.
    from sunpy_magnetogan.training import get_preset, load_config

    saved = args.out / "config.toml"
    if args.config is not None:
        model, train = load_config(args.config, preset=args.preset)
    elif args.preset is None and args.resume and saved.is_file():
        model, train = load_config(saved)
        log.info("resuming with the configuration saved in %s", saved)
    else:
        model, train = get_preset(args.preset or "compact")
    changes = {
        name: value
        for name, value in (("steps", args.steps), ("batch_size", args.batch_size), ("seed", args.seed))
        if value is not None
    }
    if args.deterministic:
        changes["deterministic"] = True
    if changes:
        train = train.replace(**changes)
    train.check_model(model)
    return model, train


def run(args):
    """
    Train; returns the exit code.

    Parameters
    ----------
    args : argparse.Namespace
        Parsed ``train`` arguments.

    Returns
    -------
    int
        0 on success.
    """
    # lazy: a command's dependencies load only when it runs, so that --help answers at once.
    import astropy.units as u

    from sunpy_magnetogan.training import Trainer

    model, train = build_configs(args)
    trainer = Trainer(
        model,
        train,
        args.dataset,
        args.out,
        device=args.device,
        resume=args.resume,
        progress=not args.no_progress,
    )
    try:
        summary = trainer.train(time_limit=None if args.time_limit is None else args.time_limit * u.s)
    finally:
        trainer.close()
    if trainer.context.is_main:
        evaluation = summary.get("eval") or {}
        print(  # noqa: T201 - the command's output
            json.dumps(
                {
                    "run": str(args.out),
                    "step": summary["step"],
                    "stopped_early": summary["stopped_early"],
                    "steps_per_s": round(summary["steps_per_s"], 3),
                    **{k: round(v, 5) for k, v in evaluation.items() if k != "step"},
                }
            )
        )
    return 0


def main(argv=None):
    """
    Entry point for ``python -m sunpy_magnetogan.cli.train`` (e.g. under ``torchrun -m``).

    Parameters
    ----------
    argv : list of str, optional
        The ``train`` arguments; ``sys.argv[1:]`` by default.

    Returns
    -------
    int
        The exit code.
    """
    return cli_main(["train", *(sys.argv[1:] if argv is None else argv)])


if __name__ == "__main__":
    sys.exit(main())
