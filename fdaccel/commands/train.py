"""``fdaccel train``: train a network, print a line per epoch, write a JSON report.

Training runs with single-threaded BLAS (threadpoolctl): the per-bin GEMMs and the
spatial reference's im2col products are small, and on a shared 2-core machine
multi-threaded OpenBLAS made 10 epochs of the spatial reference on lenet-digits take
22 s instead of 2.1 s (the frequency model: 4.3 s instead of 2.5 s).
"""
from __future__ import annotations

import time

from threadpoolctl import threadpool_limits

from accel.config import ConfigError, load_accelerator
from accel.data import load_dataset
from accel.network import latent_size, load_network

from ..options import TrainOptions
from ..report import check_outputs, write_json
from ..training import MODELS, apply_overrides, metric, pca_mse, train


def run_train(opts: TrainOptions) -> int:
    """The ``train`` subcommand: load, train, report.  Bad input -> ConfigError."""
    check_outputs({"train --json": opts.json})
    if opts.accel is not None:
        load_accelerator(opts.accel)      # checked whatever the mode (only --fixed uses it)
    mode = opts.mode
    if mode not in MODELS:
        raise ConfigError(f"train --{mode}: no {mode} model is available yet "
                          f"(fdaccel.training.MODELS has {', '.join(sorted(MODELS))})")
    cfg = apply_overrides(load_network(opts.network), opts)
    data = load_dataset(cfg, opts.data, seed=cfg.training.seed)
    start = time.perf_counter()
    model = MODELS[mode](cfg, opts)
    print(f"{cfg.name}: {mode} model, {len(data.y_train)} train / {len(data.y_test)} test images "
          f"({data.name}), {cfg.training.epochs} epochs, batch {cfg.training.batch}, lr {cfg.training.lr}")
    with threadpool_limits(limits=1, user_api="blas"):
        result = train(model, data, cfg)
    seconds = time.perf_counter() - start
    name = metric(cfg)
    final = result[f"{name}_per_epoch"][-1]
    baseline = {}
    if cfg.loss == "mse":
        latent = latent_size(cfg)
        baseline = {"pca_components": latent, "pca_test_mse": pca_mse(data, latent)}
        print(f"test reconstruction MSE {final:.4f} after {cfg.training.epochs} epochs, {seconds:.1f} s; "
              f"PCA with the same latent size ({latent} components): {baseline['pca_test_mse']:.4f}")
    else:
        print(f"test accuracy {final:.4f} after {cfg.training.epochs} epochs, {seconds:.1f} s")
    if hasattr(model, "sat"):
        print(f"saturated values: {model.sat.total} {model.sat.as_dict() or ''}")
    if opts.json:
        write_json(opts.json, {
            "network": cfg.name, "mode": mode, "dataset": data.name,
            "epochs": cfg.training.epochs, "batch": cfg.training.batch, "lr": cfg.training.lr,
            "momentum": cfg.training.momentum, "seed": cfg.training.seed,
            "train_loss": result["train_loss"], name: final,
            f"{name}_per_epoch": result[f"{name}_per_epoch"], **baseline,
            "seconds": round(seconds, 3),
            **({"saturations": model.sat.as_dict()} if hasattr(model, "sat") else {})})
    return 0
