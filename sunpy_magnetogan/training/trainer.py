"""
The trainer of the pyramid GAN: one object that owns networks, optimisers, data, logs and
checkpoints, so that a training script is a few lines::

    from sunpy_magnetogan.training import Trainer, get_preset

    model, train = get_preset("compact")
    trainer = Trainer(model, train.replace(steps=500), "pairs/", "runs/compact")
    summary = trainer.train()           # resumable: Trainer(..., resume=True).train()
    generator = trainer.generator       # PyramidGenerator; outputs [y0, ..., yM] in [-1, 1]

A run directory holds ``config.toml`` (the exact configuration), ``train_log.csv`` and
``eval_log.csv`` (always), ``tensorboard/`` (when the ``tensorboard`` package is
installed), ``checkpoints/`` (see `sunpy_magnetogan.training.checkpoint`) and
``final.json`` (step, timing, last evaluation, and a fingerprint of the weights of every
data-parallel replica).

The trainer holds the run together and runs its loop; the parts live beside it in
`sunpy_magnetogan.training`: ``runtime`` (device, autocast, determinism), ``gan_step``
(the pyramids and losses of one update), ``evaluation`` (the held-out metrics), ``run_log``
(logs and progress bar), ``dataset`` (the batches) and ``checkpoint``.
"""

import json
import logging
import math
import time
from pathlib import Path

import astropy.units as u
import torch
from torch.nn.parallel import DistributedDataParallel

from sunpy_magnetogan._io import atomic_write_text
from sunpy_magnetogan.architecture import ModelConfig
from sunpy_magnetogan.exceptions import MagnetoGANError, TrainingConfigError
from sunpy_magnetogan.nn import GANLoss, build_optimizer, init_weights
from sunpy_magnetogan.pairs import PairStore
from sunpy_magnetogan.training import checkpoint as ckpt
from sunpy_magnetogan.training.config_files import save_config
from sunpy_magnetogan.training.dataset import PairDataset, training_loader
from sunpy_magnetogan.training.distributed import (
    all_gather_object,
    barrier,
    broadcast_buffers,
    init_distributed,
    parameters_fingerprint,
    reduce_mean,
)
from sunpy_magnetogan.training.evaluation import evaluate_generator
from sunpy_magnetogan.training.gan_step import (
    DiscriminatorStep,
    batch_pyramids,
    optimizer_step,
    pyramid_discriminator_loss,
    pyramid_generator_loss,
)
from sunpy_magnetogan.training.run_log import LossWindow, RunLogs
from sunpy_magnetogan.training.runtime import (
    autocast,
    autocast_dtype,
    deterministic_algorithms,
    select_device,
)
from sunpy_magnetogan.weights import load_state_dict
from sunpy_magnetogan.weights.safetensors_io import load_safetensors

__all__ = ["Trainer", "select_device"]

log = logging.getLogger(__name__)


class Trainer:
    """
    Train a pyramid GAN on a pair store.

    Each step draws a batch, builds the input and target pyramids (targets are
    block-averaged in Gauss, then normalised), updates every discriminator on real and
    generated pairs, then every generator on the adversarial + ``lambda_l2`` * L2 loss of
    all levels.

    Parameters
    ----------
    model_config : `~sunpy_magnetogan.training.ModelConfig`
        The architecture.
    train_config : `~sunpy_magnetogan.training.TrainConfig`
        The run's settings.
    dataset : `~sunpy_magnetogan.pairs.PairStore` or str or os.PathLike
        The pair store (or its directory) with a ``train_config.train_split`` split and,
        optionally, a ``train_config.eval_split`` split for the periodic evaluation.
    run_dir : str or os.PathLike
        Where logs and checkpoints go (created if needed).
    device : str or torch.device, optional
        See `select_device`; by default CUDA when available.
    resume : bool, optional
        Continue from the newest valid checkpoint in ``run_dir`` (exactly: step,
        weights, optimiser, scaler and RNG states, data order). Without a checkpoint
        the run starts from scratch. Without ``resume``, a ``run_dir`` that already holds
        checkpoints is refused.
    progress : bool, optional
        Show a tqdm progress bar (on rank 0).

    Attributes
    ----------
    generator : `~sunpy_magnetogan.nn.PyramidGenerator`
        The generators (unwrapped, on ``device``); ``generator.eval()(x)[-1]`` is the
        model's magnetogram, normalised to [-1, 1], for an EUV image ``x`` ``(B, 1, N, N)``.
    discriminator : `~sunpy_magnetogan.nn.PyramidDiscriminator`
        The discriminators.
    step : int
        Number of optimisation steps done so far (including earlier sessions).
    last_eval : dict
        The latest results of `evaluate`, with their ``step``.
    context : `~sunpy_magnetogan.training.DistributedContext`
        This process's place in a data-parallel run.

    Notes
    -----
    Under ``torchrun`` (``WORLD_SIZE > 1``) the trainer joins the process group (NCCL
    on CUDA, gloo on CPU), wraps the networks in
    `~torch.nn.parallel.DistributedDataParallel`, gives each rank its own slice of every
    batch (``batch_size`` per rank), and lets rank 0 alone evaluate and write files.
    """

    def __init__(
        self, model_config, train_config, dataset, run_dir, *, device=None, resume=False, progress=True
    ):
        train_config.check_model(model_config)
        self.model_config = model_config
        self.train_config = train_config
        self.run_dir = Path(run_dir)
        self.checkpoint_dir = self.run_dir / "checkpoints"
        self.progress = progress
        self.context = init_distributed(select_device(device).type)
        self.device = select_device(device, local_rank=self.context.local_rank)
        self.step = 0
        self.last_eval = {}
        self._elapsed_before = 0.0  # training time of earlier sessions of a resumed run
        self._session_start = None

        # The dataset first: a wrong path must not leave an empty run folder behind.
        store = dataset if isinstance(dataset, PairStore) else PairStore.open(dataset)
        existing = ckpt.list_checkpoints(self.checkpoint_dir)
        if existing and not resume:
            raise TrainingConfigError(
                f"{self.run_dir} already holds checkpoints (newest {existing[0].name}); "
                "resume it (--resume) or choose another output directory"
            )
        if self.context.is_main:
            self.run_dir.mkdir(parents=True, exist_ok=True)
        barrier(self.context)

        cfg = train_config
        torch.manual_seed(cfg.seed)
        init_generator = torch.Generator().manual_seed(cfg.seed)
        self.generator, self.discriminator = model_config.build(cfg.normalization)
        init_weights(self.generator, generator=init_generator)
        init_weights(self.discriminator, generator=init_generator)
        if cfg.init_generator and not (resume and existing):
            self._load_initial_generator(cfg.init_generator)
        memory_format = torch.channels_last if cfg.channels_last else torch.preserve_format
        self._memory_format = memory_format
        self.generator.to(self.device, memory_format=memory_format)
        self.discriminator.to(self.device, memory_format=memory_format)
        self.optimizer_g = build_optimizer(self.generator.parameters(), lr=cfg.lr, betas=cfg.betas)
        self.optimizer_d = build_optimizer(self.discriminator.parameters(), lr=cfg.lr, betas=cfg.betas)
        self.gan_loss = GANLoss(cfg.gan_mode).to(self.device)
        self.normalization = cfg.normalization
        self.level_weights = cfg.level_weights or (1.0,) * model_config.n_levels

        self.amp_dtype = autocast_dtype(self.device, cfg.amp_dtype)
        self.scaler = torch.amp.GradScaler("cuda") if self.amp_dtype is torch.float16 else None

        if resume and existing:
            self._restore()

        if self.context.enabled:
            device_ids = [self.device.index] if self.device.type == "cuda" else None
            self._generator_step = DistributedDataParallel(self.generator, device_ids=device_ids)
            self._discriminator_step = DistributedDataParallel(
                DiscriminatorStep(self.discriminator), device_ids=device_ids
            )
        else:
            self._generator_step = self.generator
            self._discriminator_step = DiscriminatorStep(self.discriminator)

        # The EUV normalisation the pairs were written with travels with every checkpoint,
        # so that an exported model normalises its inputs as in training.
        self.euv_normalization = store.attrs.get("euv_normalization")
        # Likewise the input preparation (sunpy_magnetogan.data.inputs), for the model card.
        self.input_preparation = store.attrs.get("input_preparation")
        self.train_dataset = PairDataset(
            store,
            split=cfg.train_split,
            image_size=model_config.image_size,
            crop_size=cfg.crop_size,
            crop_alignment=2 ** (model_config.n_levels - 1),
            random_flips=cfg.random_flips,
            seed=cfg.seed,
            cycle_frame=model_config.cycle_frame,
        )
        if len(self.train_dataset) == 0:
            raise TrainingConfigError(
                f"the pair store at {store.path} has no {cfg.train_split!r} pairs to train on"
            )
        self.eval_dataset = None
        if store.ids(cfg.eval_split):
            self.eval_dataset = PairDataset(
                store,
                split=cfg.eval_split,
                image_size=model_config.image_size,
                max_pairs=cfg.eval_max_pairs,
                cycle_frame=model_config.cycle_frame,
            )
        else:
            log.info("no %r pairs in %s: periodic evaluation is off", cfg.eval_split, store.path)
        log.info(
            "training %s on %s (%d training pairs), %d process(es), device %s, autocast %s",
            model_config.generator,
            store.path,
            len(self.train_dataset),
            self.context.world_size,
            self.device,
            self.amp_dtype,
        )

    # ------------------------------------------------------------------ state
    def _load_initial_generator(self, source):
        """Load a fine-tuning run's starting generator (a model name or a safetensors file)."""
        if Path(source).is_file():
            state = load_safetensors(source)
        else:
            state, _ = load_state_dict(source, device="cpu")
        try:
            self.generator.load_state_dict(state, strict=True)
        except RuntimeError as exc:
            raise TrainingConfigError(
                f"init_generator {source!r} does not fit this model configuration: {exc}"
            ) from exc
        log.info("generator initialised from %s", source)

    def _restore(self):
        checkpoint = ckpt.load_checkpoint(self.checkpoint_dir, map_location=self.device)
        meta = checkpoint["meta"]
        saved_model = ModelConfig.from_dict(meta["model_config"])
        if saved_model != self.model_config:
            raise TrainingConfigError(
                f"cannot resume {self.run_dir}: its checkpoint was made with a different model configuration "
                f"({saved_model}) than the one given ({self.model_config})"
            )
        self.generator.load_state_dict(checkpoint["generator"])
        self.discriminator.load_state_dict(checkpoint["discriminator"])
        self.optimizer_g.load_state_dict(checkpoint["optimizers"]["generator"])
        self.optimizer_d.load_state_dict(checkpoint["optimizers"]["discriminator"])
        if self.scaler is not None and meta.get("scaler"):
            self.scaler.load_state_dict(meta["scaler"])
        rng_states = meta.get("rng", [])
        if len(rng_states) == self.context.world_size:
            ckpt.restore_rng_state(rng_states[self.context.rank])
        elif rng_states:
            log.info(
                "the checkpoint was written by %d process(es), this run has %d: random states are re-derived",
                len(rng_states),
                self.context.world_size,
            )
            torch.manual_seed(self.train_config.seed + 1_000_003 * checkpoint["step"] + self.context.rank)
        self.step = checkpoint["step"]
        self._elapsed_before = float(meta.get("elapsed_s", 0.0))
        log.info("resumed from %s at step %d", checkpoint["path"], self.step)

    def save_checkpoint(self):
        """
        Write a checkpoint of the current step (collective: every rank must call it).

        Returns
        -------
        pathlib.Path or None
            The checkpoint directory on rank 0, None on the other ranks.
        """
        rng_states = all_gather_object(self.context, ckpt.encode_rng_state())
        path = None
        if self.context.is_main:
            meta = {
                "model_config": self.model_config.to_dict(),
                "train_config": self.train_config.to_dict(),
                "world_size": self.context.world_size,
                "rng": rng_states,
                "scaler": self.scaler.state_dict() if self.scaler is not None else None,
                "normalization": self.normalization.to_dict(),
                "euv_normalization": self.euv_normalization,
                "input_preparation": self.input_preparation,
                "elapsed_s": self._elapsed(),
            }
            path = ckpt.save_checkpoint(
                self.checkpoint_dir,
                self.step,
                generator=self.generator,
                discriminator=self.discriminator,
                optimizers={"generator": self.optimizer_g, "discriminator": self.optimizer_d},
                meta=meta,
                keep=self.train_config.keep_checkpoints,
            )
        barrier(self.context)
        return path

    def _elapsed(self):
        """Training time in seconds over all sessions of this run."""
        if self._session_start is None:
            return self._elapsed_before
        return self._elapsed_before + time.perf_counter() - self._session_start

    # ------------------------------------------------------------------ steps
    def _autocast(self):
        return autocast(self.device, self.amp_dtype)

    def _pyramids(self, batch):
        return batch_pyramids(
            batch,
            self.device,
            self.model_config.n_levels,
            self.normalization,
            channels_last=self._memory_format is torch.channels_last,
        )

    def _train_step(self, batch):
        euv, inputs, targets = self._pyramids(batch)
        with self._autocast():
            fakes = self._generator_step(euv)

        # Discriminators: real pairs -> 1, generated (detached) pairs -> 0.
        self.discriminator.requires_grad_(True)
        with self._autocast():
            real_logits, fake_logits = self._discriminator_step(inputs, targets, [f.detach() for f in fakes])
            loss_d = pyramid_discriminator_loss(self.gan_loss, real_logits, fake_logits, self.level_weights)
        optimizer_step(loss_d, self.optimizer_d, self.scaler)

        # Generators: fool the (frozen) discriminators and stay close to the targets.
        self.discriminator.requires_grad_(False)
        with self._autocast():
            loss_g, gan_g, l2_parts = pyramid_generator_loss(
                self.gan_loss,
                self.discriminator(inputs, fakes),
                fakes,
                targets,
                self.level_weights,
                lambda_l2=self.train_config.lambda_l2,
            )
        optimizer_step(loss_g, self.optimizer_g, self.scaler)
        self.discriminator.requires_grad_(True)
        if self.scaler is not None:
            self.scaler.update()
        # In the order of the loss columns of train_log.csv (run_log.train_columns).
        return torch.stack(
            [loss_d.detach().float(), loss_g.detach().float(), gan_g.float(), *(p.float() for p in l2_parts)]
        )

    # ------------------------------------------------------------------ evaluation
    def evaluate(self):
        """
        Evaluate the generator on the held-out split (in eval mode, whole images).

        Returns
        -------
        dict
            ``l2_level{m}`` (mean squared error of the normalised magnetogram per level),
            and at the finest level on the disk: ``mae_G`` and ``rmse_G`` (Gauss) and
            ``cc`` (pixel-to-pixel Pearson correlation). Empty without an evaluation
            split. On ranks other than 0 it returns an empty dict.
        """
        if self.eval_dataset is None or not self.context.is_main:
            return {}
        return evaluate_generator(
            self.generator,
            self.eval_dataset,
            batch_size=self.train_config.batch_size,
            pyramids=self._pyramids,
            autocast=self._autocast,
            normalization=self.normalization,
            n_levels=self.model_config.n_levels,
        )

    # ------------------------------------------------------------------ loop
    def _determinism(self):
        return deterministic_algorithms(self.train_config.deterministic, self.device)

    def _loader(self):
        return training_loader(
            self.train_dataset,
            self.train_config,
            start_step=self.step,
            rank=self.context.rank,
            world_size=self.context.world_size,
            device=self.device,
        )

    def _record_eval(self, logs):
        results = self.evaluate()
        if results:
            self.last_eval = {"step": self.step, **results}
            logs.record_eval(self.last_eval)
        barrier(self.context)

    def _train_row(self, window, loss_columns):
        """The row of ``train_log.csv`` that closes ``window`` (collective)."""
        means = reduce_mean(self.context, window.mean()).tolist()
        now = time.perf_counter()
        if not all(map(math.isfinite, means)):
            raise MagnetoGANError(f"training diverged: non-finite losses {means} around step {self.step}")
        row = dict(zip(loss_columns, means, strict=True))
        row.update(step=self.step, elapsed_s=self._elapsed(), steps_per_s=window.steps / (now - window.start))
        window.reset(now)
        return row

    def _out_of_time(self, deadline):
        """Whether any process has passed ``deadline`` (`time.perf_counter` seconds; collective)."""
        late = torch.tensor([float(time.perf_counter() >= deadline)], device=self.device)
        return bool(reduce_mean(self.context, late).item() > 0)

    @u.quantity_input(time_limit=u.s)
    def train(self, *, time_limit=None):
        """
        Run (or continue) training up to ``train_config.steps``.

        Parameters
        ----------
        time_limit : `~astropy.units.Quantity`, optional
            Stop this session early once it has trained this long (a time, e.g.
            ``25 * u.min``, for a job or a lent machine with a fixed allowance). The clock is
            read every ``log_every`` steps, by all data-parallel processes together; on
            stopping, the run is evaluated and checkpointed as at its last step, and
            ``resume=True`` continues it later.

        Returns
        -------
        dict
            What ``final.json`` records: ``step``, ``elapsed_s`` (this session) and
            ``total_elapsed_s`` (all sessions of the run), ``steps_per_s``, the last
            ``eval`` results, ``world_size``, the per-rank weight ``fingerprints`` and
            ``stopped_early`` (the time limit ended the session before ``steps``).

        Raises
        ------
        MagnetoGANError
            If a loss becomes non-finite, or data-parallel replicas end with different
            weights.
        """
        cfg = self.train_config
        start_step = self.step
        if self.context.is_main:
            save_config(self.run_dir / "config.toml", self.model_config, self.train_config)
        logs = RunLogs(
            self.run_dir,
            self.model_config.n_levels,
            start_step=start_step,
            total_steps=cfg.steps,
            write=self.context.is_main,
            progress=self.progress,
        )
        began = self._session_start = time.perf_counter()
        deadline = None if time_limit is None else began + time_limit.to_value(u.s)
        stopped_early = False
        window = LossWindow(began)
        evaluated_at = saved_at = None
        self.generator.train()
        self.discriminator.train()
        try:
            with self._determinism():
                for batch in self._loader():
                    window.add(self._train_step(batch))
                    self.step += 1
                    logs.advance()
                    if self.step % cfg.log_every == 0 or self.step == cfg.steps:
                        logs.record_train(self._train_row(window, logs.loss_columns))
                    if cfg.eval_every and self.step % cfg.eval_every == 0:
                        self._record_eval(logs)
                        evaluated_at = self.step
                    if self.step % cfg.checkpoint_every == 0 or self.step == cfg.steps:
                        self.save_checkpoint()
                        saved_at = self.step
                    if (
                        deadline is not None
                        and self.step < cfg.steps
                        and self.step % cfg.log_every == 0
                        and self._out_of_time(deadline)
                    ):
                        stopped_early = True
                        log.info(
                            "time limit of %s reached at step %d of %d: stopping here",
                            time_limit,
                            self.step,
                            cfg.steps,
                        )
                        break
                if evaluated_at != self.step and self.step > start_step:
                    self._record_eval(logs)
                if saved_at != self.step and self.step > start_step:
                    self.save_checkpoint()
        finally:
            logs.close()

        elapsed = time.perf_counter() - began
        self._elapsed_before, self._session_start = self._elapsed(), None
        broadcast_buffers(self.context, self.generator, self.discriminator)
        fingerprints = all_gather_object(
            self.context, parameters_fingerprint(self.generator, self.discriminator)
        )
        summary = {
            "step": self.step,
            "steps_this_session": self.step - start_step,
            "elapsed_s": elapsed,
            "total_elapsed_s": self._elapsed(),
            "steps_per_s": (self.step - start_step) / elapsed if elapsed > 0 else float("nan"),
            "eval": self.last_eval,
            "world_size": self.context.world_size,
            "fingerprints": fingerprints,
            "device": str(self.device),
            "stopped_early": stopped_early,
        }
        if self.context.is_main:
            atomic_write_text(self.run_dir / "final.json", json.dumps(summary, indent=1))
        if len(set(fingerprints)) != 1:
            raise MagnetoGANError(f"data-parallel replicas ended with different weights: {fingerprints}")
        return summary

    def close(self):
        """Leave the process group if this trainer joined it."""
        self.context.close()
