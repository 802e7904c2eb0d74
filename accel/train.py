"""``fdaccel train``: train a network, print a line per epoch, write a JSON report.

The model is chosen by mode from :data:`MODELS`: ``frequency`` (the golden model,
half-spectrum storage as in hardware), ``spatial`` (the spatial reference,
``--spatial``) and ``fixed`` (``--fixed``).  A model factory takes the network config
(training overrides applied) and the parsed arguments and returns an object with
``train_step(x, labels) -> float`` (one SGD step, returns the batch loss) and
``predict(x) -> labels``; the fixed-point model plugs in as ``MODELS["fixed"]``.

Training runs with single-threaded BLAS (threadpoolctl): the per-bin GEMMs and the
spatial reference's im2col products are small, and on a shared 2-core machine
multi-threaded OpenBLAS made 10 epochs of the spatial reference on lenet-digits take
22 s instead of 2.1 s (the frequency model: 4.3 s instead of 2.5 s).
"""
from __future__ import annotations

import argparse
import dataclasses
import sys
import time
from typing import Callable, Protocol

import numpy as np
from threadpoolctl import threadpool_limits
from tqdm import tqdm

from accel.config import ConfigError, NetworkConfig, load_network
from accel.data import Dataset, load_dataset
from accel.golden import GoldenNet, SpatialNet
from accel.report import write_json


class Trainable(Protocol):
    def train_step(self, x: np.ndarray, labels: np.ndarray) -> float: ...

    def predict(self, x: np.ndarray) -> np.ndarray: ...


ModelFactory = Callable[[NetworkConfig, argparse.Namespace], Trainable]

def _fixed_model(cfg: NetworkConfig, args: argparse.Namespace) -> Trainable:
    from accel.config import load_accelerator
    from accel.fixed.net import FixedNet

    return FixedNet(cfg, load_accelerator(getattr(args, "accel", None)))


MODELS: dict[str, ModelFactory] = {
    "frequency": lambda cfg, args: GoldenNet(cfg, half=True),
    "spatial": lambda cfg, args: SpatialNet(cfg),
    "fixed": _fixed_model,
}


def apply_overrides(cfg: NetworkConfig, args: argparse.Namespace) -> NetworkConfig:
    """The network config with --epochs/--batch/--lr/--seed applied, checked."""
    t = cfg.training
    changes = {}
    for key, ok, why in (("epochs", lambda v: v > 0, "must be a positive integer"),
                         ("batch", lambda v: v > 0, "must be a positive integer"),
                         ("lr", lambda v: v > 0 and np.isfinite(v), "must be a positive number"),
                         ("seed", lambda v: v >= 0, "must be >= 0")):
        value = getattr(args, key, None)
        if value is None:
            continue
        if not ok(value):
            raise ConfigError(f"train --{key}: {why}, got {value}")
        changes[key] = value
    return dataclasses.replace(cfg, training=dataclasses.replace(t, **changes))


def mode_of(args: argparse.Namespace) -> str:
    if getattr(args, "fixed", False):
        return "fixed"
    return "spatial" if getattr(args, "spatial", False) else "frequency"


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


def run_train(args: argparse.Namespace) -> int:
    """The ``train`` subcommand: load, train, report.  Bad input -> ConfigError."""
    mode = mode_of(args)
    if mode not in MODELS:
        raise ConfigError(f"train --{mode}: no {mode} model is available yet "
                          f"(accel.train.MODELS has {', '.join(sorted(MODELS))})")
    cfg = apply_overrides(load_network(args.network), args)
    data = load_dataset(cfg, getattr(args, "data", None), seed=cfg.training.seed)
    start = time.perf_counter()
    model = MODELS[mode](cfg, args)
    print(f"{cfg.name}: {mode} model, {len(data.y_train)} train / {len(data.y_test)} test images "
          f"({data.name}), {cfg.training.epochs} epochs, batch {cfg.training.batch}, lr {cfg.training.lr}")
    with threadpool_limits(limits=1, user_api="blas"):
        result = train(model, data, cfg)
    seconds = time.perf_counter() - start
    final = result["test_accuracy_per_epoch"][-1]
    print(f"test accuracy {final:.4f} after {cfg.training.epochs} epochs, {seconds:.1f} s")
    if hasattr(model, "sat"):
        print(f"saturated values: {model.sat.total} {model.sat.as_dict() or ''}")
    if getattr(args, "json", None):
        write_json(args.json, {
            "network": cfg.name, "mode": mode, "dataset": data.name,
            "epochs": cfg.training.epochs, "batch": cfg.training.batch, "lr": cfg.training.lr,
            "momentum": cfg.training.momentum, "seed": cfg.training.seed,
            "train_loss": result["train_loss"], "test_accuracy": final,
            "test_accuracy_per_epoch": result["test_accuracy_per_epoch"],
            "seconds": round(seconds, 3),
            **({"saturations": model.sat.as_dict()} if hasattr(model, "sat") else {})})
    return 0
