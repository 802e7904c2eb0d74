"""Training with the golden, spatial-reference or fixed-point model: the epoch loop.

The model is chosen by mode from :data:`MODELS`: ``frequency`` (the golden model,
half-spectrum storage as in hardware), ``spatial`` (the spatial reference) and ``fixed``
(the bit-accurate fixed-point model).  A model factory takes the network config
(training overrides applied) and the command's options and returns an object with
``train_step(x, labels) -> float`` (one SGD step, returns the batch loss) and
``predict(x) -> labels``.
"""
from __future__ import annotations

import dataclasses
import sys
from collections.abc import Callable
from typing import Protocol

import numpy as np
from tqdm import tqdm

from accel.config import ConfigError, NetworkConfig, TrainingConfig, field_value
from accel.data import Dataset
from accel.golden import GoldenNet, SpatialNet

from .options import TrainOptions


class Trainable(Protocol):
    def train_step(self, x: np.ndarray, labels: np.ndarray) -> float: ...

    def predict(self, x: np.ndarray) -> np.ndarray: ...


ModelFactory = Callable[[NetworkConfig, TrainOptions], Trainable]

def _fixed_model(cfg: NetworkConfig, opts: TrainOptions) -> Trainable:
    from accel.config import load_accelerator
    from accel.fixed.net import FixedNet

    return FixedNet(cfg, load_accelerator(opts.accel))


MODELS: dict[str, ModelFactory] = {
    "frequency": lambda cfg, opts: GoldenNet(cfg, half=True),
    "spatial": lambda cfg, opts: SpatialNet(cfg),
    "fixed": _fixed_model,
}


def apply_overrides(cfg: NetworkConfig, opts: TrainOptions) -> NetworkConfig:
    """The network config with --epochs/--batch/--lr/--seed applied, each checked against
    the limits a network file's ``training`` section has (:func:`accel.config.field_value`)."""
    changes = {key: field_value(TrainingConfig, key, getattr(opts, key), f"train --{key}")
               for key in ("epochs", "batch", "lr", "seed") if getattr(opts, key) is not None}
    return dataclasses.replace(cfg, training=dataclasses.replace(cfg.training, **changes))


def accuracy(model: Trainable, x: np.ndarray, y: np.ndarray) -> float:
    return float(np.mean(model.predict(x) == y)) if len(y) else float("nan")


def train(model: Trainable, data: Dataset, cfg: NetworkConfig,
          log: Callable[[str], None] = print) -> dict:
    """Epochs of shuffled mini-batches (seeded by ``cfg.training.seed``); returns the
    per-epoch mean train loss and test accuracy."""
    t = cfg.training
    rng = np.random.default_rng(t.seed)
    losses, accs = [], []
    n = len(data.y_train)
    for epoch in range(1, t.epochs + 1):
        order = rng.permutation(n)
        batches = range(0, n, t.batch)
        total = 0.0
        with tqdm(batches, desc=f"epoch {epoch}/{t.epochs}", unit="batch", file=sys.stderr,
                  leave=False, disable=None) as bar:
            for start in bar:
                idx = order[start:start + t.batch]
                loss = model.train_step(data.x_train[idx], data.y_train[idx])
                if not np.isfinite(loss):
                    raise ConfigError(f"train: loss became {loss} in epoch {epoch}; lower --lr "
                                      f"(now {t.lr}) or training.weight_scale")
                total += loss * len(idx)
                bar.set_postfix(loss=f"{loss:.4f}")
        losses.append(total / n)
        accs.append(accuracy(model, data.x_test, data.y_test))
        log(f"epoch {epoch:3d}/{t.epochs}  loss {losses[-1]:.4f}  test accuracy {accs[-1]:.4f}")
    return {"train_loss": losses, "test_accuracy_per_epoch": accs}
