"""
The periodic evaluation of a training run: the generator on the held-out split, in eval
mode and on whole images, with the columns of ``eval_log.csv``.
"""

import torch

__all__ = ["DISK_METRICS", "eval_columns", "evaluate_generator"]

#: The metrics on the solar disk at the finest level, in Gauss (``cc`` has no unit).
DISK_METRICS = ("mae_G", "rmse_G", "cc")


def eval_columns(n_levels):
    """
    The columns of ``eval_log.csv``.

    Parameters
    ----------
    n_levels : int
        Levels of the pyramid.

    Returns
    -------
    list of str
        ``step``, ``l2_level{m}`` for every level, then `DISK_METRICS`.
    """
    return ["step", *(f"l2_level{m}" for m in range(n_levels)), *DISK_METRICS]


def _batches(dataset, batch_size):
    """The items of ``dataset`` in order, stacked into batches of ``batch_size``."""
    for start in range(0, len(dataset), batch_size):
        items = [dataset[i] for i in range(start, min(start + batch_size, len(dataset)))]
        yield {key: torch.stack([item[key] for item in items]) for key in items[0]}


def _disk_sums(truth, guess):
    """Sums over on-disk pixels: n, |e|, e^2, x, y, x^2, y^2, xy (x: truth, y: guess)."""
    error = guess - truth
    return torch.stack(
        [
            torch.tensor(float(truth.numel()), dtype=torch.float64, device=truth.device),
            error.abs().sum(),
            (error**2).sum(),
            truth.sum(),
            guess.sum(),
            (truth**2).sum(),
            (guess**2).sum(),
            (truth * guess).sum(),
        ]
    ).cpu()


def _disk_metrics(sums):
    """`DISK_METRICS` from the sums of `_disk_sums`; empty without pixels."""
    n, abs_err, sq_err, sx, sy, sxx, syy, sxy = (float(v) for v in sums)
    if n <= 0:
        return {}
    var_x, var_y = sxx / n - (sx / n) ** 2, syy / n - (sy / n) ** 2
    cov = sxy / n - sx * sy / n**2
    return {
        "mae_G": abs_err / n,
        "rmse_G": (sq_err / n) ** 0.5,
        "cc": cov / (var_x * var_y) ** 0.5 if var_x > 0 and var_y > 0 else float("nan"),
    }


@torch.inference_mode()
def evaluate_generator(generator, dataset, *, batch_size, pyramids, autocast, normalization, n_levels):
    """
    Evaluate a pyramid generator on a dataset (in eval mode, whole images).

    Parameters
    ----------
    generator : `~sunpy_magnetogan.nn.PyramidGenerator`
        The generators; their training mode is restored afterwards.
    dataset : `~sunpy_magnetogan.training.PairDataset`
        The held-out pairs.
    batch_size : int
        Pairs per forward pass.
    pyramids : callable
        ``pyramids(batch) -> (euv, inputs, targets)``: the batch on the generator's device
        with its normalised target pyramid (a list of ``(B, 1, N_m, N_m)`` tensors).
    autocast : callable
        Returns the autocast context of the forward passes.
    normalization : `~sunpy_magnetogan.normalization.MagnetogramNormalization`
        Turns the finest prediction back into Gauss.
    n_levels : int
        Levels of the pyramid.

    Returns
    -------
    dict
        ``l2_level{m}`` (mean squared error of the normalised magnetogram per level), and
        at the finest level on the disk: ``mae_G`` and ``rmse_G`` (Gauss) and ``cc``
        (pixel-to-pixel Pearson correlation).
    """
    was_training = generator.training
    generator.eval()
    sq = torch.zeros(n_levels, dtype=torch.float64)
    counts = torch.zeros(n_levels, dtype=torch.float64)
    sums = torch.zeros(8, dtype=torch.float64)
    for batch in _batches(dataset, batch_size):
        euv, _, targets = pyramids(batch)
        with autocast():
            predictions = generator(euv)
        for m, (prediction, target) in enumerate(zip(predictions, targets, strict=True)):
            sq[m] += float(((prediction.float() - target) ** 2).sum())
            counts[m] += target.numel()
        disk = batch["disk"].to(euv.device) > 0.5
        truth = batch["mag"].to(euv.device)[disk].double()
        guess = normalization.inverse(predictions[-1].float())[disk].double()
        sums += _disk_sums(truth, guess)
    generator.train(was_training)
    results = {f"l2_level{m}": float(sq[m] / counts[m]) for m in range(n_levels)}
    results.update(_disk_metrics(sums))
    return results
