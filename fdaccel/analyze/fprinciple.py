"""The F-principle: does training fit the low frequencies first?

Method.  A network is trained (seeded) and recorded at initialization and after
``RECORDS`` updates spaced evenly in log(step) (fine early, where the fitting happens).
At each record, a relative error per frequency:

* decoder (``autoencoder-digits``): the frequencies of its output image.  Per radial band
  b of the 16 x 16 spectrum (:func:`fdaccel.analyze.common.radial_bands`), on the test
  images, ``sum_b |Y - X|^2 / sum_b |X|^2`` with X the input's spectrum and Y the
  reconstruction's;
* classifier (``lenet-digits``): the frequencies of its output *function* over the input
  space, by the projection method of Xu et al. ("Frequency principle", 2019, Sec. 4):
  the training images are projected on their first principal direction, t_i = p . x_i
  (standardized), and the non-uniform DFT along t of the one-hot labels and of the
  softmax outputs, ``F[f](k) = mean_i f(x_i) exp(-2 pi i k t_i)``, gives
  ``|F[h](k) - F[y](k)| / |F[y](k)|`` (norms over the 10 classes) for k = 0 .. K_MAX;
  beyond K_MAX the labels' own |F[y](k)| is at the sampling-noise floor of 1437 images.

The number that matters: for each frequency, the training time (epochs) at which its
error first falls below a threshold delta (0.5, 0.2, 0.1; never: null), as Xu et al.
plot it; the F-principle says it grows with the frequency (the report gives the rank
correlation of the two over the frequencies that get there).

Independent reference (tests): the band errors against per-bin loops over the spatial
images' DFTs, the projection DFT against an explicit sum.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from accel.config import NetworkConfig
from accel.data import Dataset, load_dataset
from accel.golden import GoldenNet

from ..training import evaluate, train
from .common import Context, Model, radial_bands
from .figures import figure, save_png

EPOCHS = 8
RECORDS = 40
BANDS = 8
K_MAX, K_STEPS = 1.0, 11
THRESHOLDS = (0.5, 0.2, 0.1)


def band_errors(y: np.ndarray, x: np.ndarray, count: int = BANDS) -> np.ndarray:
    """Relative error per radial band of output images y against targets x (B, C, n, n)."""
    bands = radial_bands(x.shape[-1], count).ravel()
    err = (np.abs(np.fft.fft2(y - x)) ** 2).sum(axis=(0, 1)).ravel()
    ref = (np.abs(np.fft.fft2(x)) ** 2).sum(axis=(0, 1)).ravel()
    return np.bincount(bands, err, count) / np.bincount(bands, ref, count)


def projection(x: np.ndarray) -> np.ndarray:
    """Standardized coordinates of images x along their first principal direction."""
    from sklearn.decomposition import PCA

    t = PCA(n_components=1, svd_solver="full").fit_transform(x.reshape(len(x), -1))[:, 0]
    return t / t.std()


def nudft(values: np.ndarray, t: np.ndarray, k: np.ndarray) -> np.ndarray:
    """``F[f](k) = mean_i f_i exp(-2 pi i k t_i)`` for values f_i (N, D): (len(k), D)."""
    return np.exp(-2j * np.pi * k[:, None] * t[None, :]) @ values / len(t)


def softmax(z: np.ndarray) -> np.ndarray:
    e = np.exp(z - z.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


def frequency_errors(net: Model, x: np.ndarray, target: np.ndarray, t: np.ndarray, k: np.ndarray) -> np.ndarray:
    """``|F[h](k) - F[y](k)| / |F[y](k)|`` of a classifier's softmax outputs h on x."""
    h = np.concatenate([softmax(net.forward(x[i:i + 256])[0]) for i in range(0, len(x), 256)])
    Fy = nudft(target, t, k)
    return np.linalg.norm(nudft(h, t, k) - Fy, axis=1) / np.linalg.norm(Fy, axis=1)


def time_below(errors: np.ndarray, times: np.ndarray, delta: float) -> list[float | None]:
    """Per frequency (column), the first time its error is below ``delta`` (None: never)."""
    done = errors < delta
    return [float(times[np.argmax(done[:, j])]) if done[:, j].any() else None for j in range(errors.shape[1])]


def thresholds(errors: np.ndarray, times: np.ndarray) -> dict[str, list[float | None]]:
    return {str(delta): time_below(errors, times, delta) for delta in THRESHOLDS}


def record(cfg: NetworkConfig, data: Dataset, measure: Any) -> tuple[Model, np.ndarray, np.ndarray]:
    """Train ``cfg`` and ``measure(net)`` at initialization and after RECORDS log-spaced
    steps: (net, times in epochs, measurements)."""
    steps_per_epoch = -(-len(data.y_train) // cfg.training.batch)
    total = steps_per_epoch * cfg.training.epochs
    at = set(np.unique(np.geomspace(1, total, RECORDS).astype(int)).tolist())
    net = GoldenNet(cfg, half=True)
    rows, times = [measure(net)], [0.0]

    def on_step(step: int) -> None:
        if step in at:
            rows.append(measure(net))
            times.append(step / steps_per_epoch)

    train(net, data, cfg, log=lambda _: None, on_step=on_step)
    return net, np.array(times), np.array(rows)


def decoder(cfg: NetworkConfig, data: Dataset) -> dict[str, Any]:
    x = data.x_test
    net, times, errors = record(cfg, data, lambda net: band_errors(net.reconstruct(x), x))
    return {"network": cfg.name, "kind": "output image, radial bands of the 16 x 16 spectrum",
            "frequencies": [b / BANDS for b in range(BANDS)], "times": times, "errors": errors,
            "epoch_below": thresholds(errors, times), "test_mse": evaluate(net, data, cfg)}


def classifier(cfg: NetworkConfig, data: Dataset) -> dict[str, Any]:
    x, y = data.x_train, np.eye(data.classes)[data.y_train]
    t, k = projection(x), np.linspace(0.0, K_MAX, K_STEPS)
    net, times, errors = record(cfg, data, lambda net: frequency_errors(net, x, y, t, k))
    return {"network": cfg.name, "kind": "output function along the first principal direction (projection method)",
            "frequencies": k, "times": times, "errors": errors, "epoch_below": thresholds(errors, times),
            "test_accuracy": evaluate(net, data, cfg)}


def run(ctx: Context) -> dict[str, Any]:
    out = {}
    for role, cfg in ctx.roles(EPOCHS).items():
        data = load_dataset(cfg, seed=ctx.seed)
        out[role] = decoder(cfg, data) if role == "decoder" else classifier(cfg, data)
    return {"records": RECORDS, "networks": out}


def rank_correlation(times: list[float | None]) -> float:
    """Spearman rank correlation of the times with the frequency index, over the
    frequencies that reach the threshold (nan if fewer than 3)."""
    from scipy.stats import spearmanr

    idx = [i for i, t in enumerate(times) if t is not None]
    if len(idx) < 3:
        return float("nan")
    return float(spearmanr(idx, [times[i] for i in idx]).statistic)


def summary(data: dict[str, Any]) -> list[str]:
    lines = []
    for role, r in data["networks"].items():
        f = np.asarray(r["frequencies"])
        final = np.asarray(r["errors"])[-1]
        lines.append(f"{role} {r['network']} ({r['kind']}): first epoch each frequency's relative error is "
                     f"below delta (-: never; rho: rank correlation with frequency)")
        lines.append("  frequency  " + " ".join(f"{v:5.2f}" for v in f))
        for delta, times in r["epoch_below"].items():
            cells = " ".join("    -" if t is None else f"{t:5.2f}" for t in times)
            lines.append(f"  < {delta:7s} {cells}  rho {rank_correlation(times):+.2f}")
        lines.append("  final err  " + " ".join(f"{v:5.3f}" for v in final))
    return lines


def plot(data: dict[str, Any], folder: str | Path) -> list[Path]:
    nets = list(data["networks"].items())
    fig, axes = figure(1, len(nets), 6 * len(nets), 4)
    for ax, (role, r) in zip(axes[0], nets):
        err = np.asarray(r["errors"])
        times, f = np.asarray(r["times"]), np.asarray(r["frequencies"])
        df = f[1] - f[0]
        edges = np.r_[times[1] / 2, (times[1:-1] + times[2:]) / 2, times[-1]]
        im = ax.pcolormesh(edges, np.r_[f, f[-1] + df], np.log10(err[1:].T), cmap="viridis")
        below = r["epoch_below"][str(THRESHOLDS[1])]
        reached = [i for i, t in enumerate(below) if t is not None]
        ax.plot([below[i] for i in reached], f[reached] + df / 2, "w.-", label=f"error < {THRESHOLDS[1]}")
        ax.set_xscale("log")
        ax.set_xlabel("epoch (log)")
        ax.set_ylabel("radial frequency / Nyquist" if role == "decoder" else "frequency k along the 1st PC")
        ax.set_title(f"{role}: log10 relative error", fontsize=9)
        ax.legend(fontsize=7)
        fig.colorbar(im, ax=ax)
    return [save_png(fig, Path(folder) / "fprinciple.png")]
