"""Training with the golden, spatial-reference or fixed-point model: the epoch loop.

The model is chosen by mode from :data:`MODELS`: ``frequency`` (the golden model,
half-spectrum storage as in hardware), ``spatial`` (the spatial reference) and ``fixed``
(the bit-accurate fixed-point model).  A model factory takes the network config
(training overrides applied) and the command's options and returns an object with
``train_step(x, labels) -> float`` (one SGD step, returns the batch loss) and
``predict(x) -> labels``; an autoencoder's (``loss: mse``) ``reconstruct(x) -> images``
instead.  Classifiers are scored by test accuracy, autoencoders by the test
reconstruction error, beside PCA's with as many components as the network's latent has
values (:func:`pca_mse`).
"""
from __future__ import annotations

import dataclasses
import sys
from collections.abc import Callable
from typing import Protocol, runtime_checkable

import numpy as np
from tqdm import tqdm

from accel.config import ConfigError, NetworkConfig, TrainingConfig, field_value
from accel.data import Dataset
from accel.golden import GoldenNet
from accel.spatial_net import SpatialNet

from .options import TrainOptions


class Trainable(Protocol):
    def train_step(self, x: np.ndarray, labels: np.ndarray) -> float: ...

    def predict(self, x: np.ndarray) -> np.ndarray: ...


@runtime_checkable
class Autoencoder(Protocol):
    def reconstruct(self, x: np.ndarray) -> np.ndarray: ...


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


def reconstruction_mse(model: Trainable, x: np.ndarray) -> float:
    """Mean squared pixel error of an autoencoder's reconstruction of ``x``."""
    if not isinstance(model, Autoencoder):
        raise ConfigError(f"train: the {type(model).__name__} model does not reconstruct images (loss: mse)")
    return float(np.mean((model.reconstruct(x) - x) ** 2)) if len(x) else float("nan")


def pca_mse(data: Dataset, components: int) -> float:
    """Test reconstruction error of PCA with ``components`` components fitted on the
    training images: the linear baseline of an autoencoder with a latent that size."""
    from sklearn.decomposition import PCA

    flat = data.x_train.reshape(len(data.x_train), -1)
    pca = PCA(n_components=min(components, *flat.shape), svd_solver="full").fit(flat)  # exact, deterministic
    test = data.x_test.reshape(len(data.x_test), -1)
    return float(np.mean((pca.inverse_transform(pca.transform(test)) - test) ** 2))


def metric(cfg: NetworkConfig) -> str:
    """What an epoch is scored by: ``test_mse`` (loss: mse) or ``test_accuracy``."""
    return "test_mse" if cfg.loss == "mse" else "test_accuracy"


def evaluate(model: Trainable, data: Dataset, cfg: NetworkConfig) -> float:
    """The network's score on the test set (:func:`metric`)."""
    if cfg.loss == "mse":
        return reconstruction_mse(model, data.x_test)
    return accuracy(model, data.x_test, data.y_test)


def train(model: Trainable, data: Dataset, cfg: NetworkConfig,
          log: Callable[[str], None] = print, on_step: Callable[[int], None] | None = None) -> dict:
    """Epochs of shuffled mini-batches (seeded by ``cfg.training.seed``); returns the
    per-epoch mean train loss and test score (``{metric}_per_epoch``, :func:`metric`).
    ``on_step(steps)`` runs after every update (the analyses record training with it)."""
    t = cfg.training
    rng = np.random.default_rng(t.seed)
    losses, scores = [], []
    name = metric(cfg)
    steps = 0
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
                steps += 1
                if on_step is not None:
                    on_step(steps)
                bar.set_postfix(loss=f"{loss:.4f}")
        losses.append(total / n)
        scores.append(evaluate(model, data, cfg))
        log(f"epoch {epoch:3d}/{t.epochs}  loss {losses[-1]:.4f}  {name.replace('_', ' ')} {scores[-1]:.4f}")
    return {"train_loss": losses, f"{name}_per_epoch": scores}
