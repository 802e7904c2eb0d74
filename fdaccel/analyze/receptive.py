"""Which input bins can change a network's output, per activation kind, and by how much.

The question of ``frequency-pooling-qa.txt``: after bin-local layers, is spectral
pooling just cropping the input?

Exact, from the structure (:func:`receptive_bins`): the set of input bins (the n x n DFT
of the input image, full grid) the output depends on, propagated back from the output
layer by layer: the classifier and the reconstruction read every bin; circular convs,
``pwl`` and ``linear`` activations are bin-local (a bin reads itself); a pool reads the
bins it keeps and the two it folds into each Nyquist bin; ``spatial`` activations and
zero-padded convs (a sinc interpolation) read every bin; ``quadratic`` reads its bin and
the band bins g with f - g in the band for a needed f; upsampling reads the bins
aliasing (zeros, nearest where the box envelope is not zero) or equal to (spectral) a
needed one.

Numerically (:func:`sensitivity`): each input bin (u, v) is perturbed on the test images
by a real Fourier basis image of unit L2 norm times ``EPS`` (its cosine and its sine
phase), and the mean change of the output (logits), over EPS, is its sensitivity.
Outside the exact set it must vanish (to rounding); the share of the sensitivity
outside the set a bin-local network reads says how much mixing the other kinds do.

Also per kind: test accuracy after training, the accuracy of a logistic regression on
the input bins the bin-local network reads (the "cropped input" baseline), and the
exact activation cost per image (:mod:`accel.activation_cost`, priced with the
accelerator's default energy table).

Independent reference (tests): the exact sets against finite perturbation of every bin
on small networks, in both directions (zero outside, non-zero inside).
"""
from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

import numpy as np

from accel.activation_cost import activation_counts
from accel.config import (
    ActKind,
    ActLayer,
    ConfigError,
    ConvLayer,
    NetworkConfig,
    PoolLayer,
    UpsampleLayer,
    load_accelerator,
)
from accel.data import Dataset, load_dataset
from accel.energy import components_of, load_table, price
from accel.mixing import band_mask
from accel.network import layer_shapes, read_sizes
from accel.spectral import spectral_pool_adjoint
from accel.upsample import box_envelope, upsample_adjoint

from ..training import evaluate
from .common import CLASSIFIER, Context, Model, fit, with_activation
from .figures import figure, save_png, spectrum_image

#: the activation variants compared: (kind, quadratic band; 0: all bins)
VARIANTS: tuple[tuple[ActKind, int], ...] = (
    ("pwl", 0), ("linear", 0), ("spatial", 0), ("quadratic", 0), ("quadratic", 2), ("quadratic", 4))
EPOCHS = 10
EPS = 1.0
IMAGES = 64


def variant(cfg: NetworkConfig, kind: ActKind, band: int) -> NetworkConfig:
    """The network with every activation of ``kind`` (quadratic: on ``band``)."""
    name = cfg.name
    cfg = with_activation(cfg, kind)
    layers = tuple(dataclasses.replace(L, band=band) if isinstance(L, ActLayer) else L for L in cfg.layers)
    return dataclasses.replace(cfg, layers=layers, name=f"{name} ({kind}{f' band {band}' if band else ''})")


def _reach(need: np.ndarray, S: np.ndarray) -> np.ndarray:
    """Bins g of S with f - g in S for some needed f (circular, integer counts)."""
    count = np.fft.ifft2(np.fft.fft2(need.astype(float)) * np.fft.fft2(S.astype(float))).real
    return S & (count > 0.5)


def receptive_bins(cfg: NetworkConfig) -> np.ndarray:
    """The input bins (full n x n grid) the network's output depends on, from its
    structure alone (module docstring)."""
    shapes = layer_shapes(cfg)
    need = np.ones((shapes[-1].out_size,) * 2, bool)
    for s in reversed(shapes):
        L, n, N = s.layer, s.in_size, s.out_size
        if isinstance(L, ConvLayer):
            need = need if L.padding == "circular" else np.full((n, n), need.any())
        elif isinstance(L, ActLayer):
            if L.kind == "spatial":
                need = np.full((n, n), need.any())
            elif L.kind == "quadratic" and L.beta != 0:
                need = need | _reach(need, band_mask(n, L.band, half=False))
        elif isinstance(L, PoolLayer):
            need = spectral_pool_adjoint(need.astype(float), n) > 0
        elif isinstance(L, UpsampleLayer):
            weight = np.abs(box_envelope(n, N)) if L.kind == "nearest" else 1.0
            need = np.abs(upsample_adjoint(need * weight, n, "spectral" if L.kind == "spectral" else "zeros",
                                           half=False)) > 1e-9
        else:  # the classifier reads every bin
            need = np.ones((n, n), bool)
    return need


def basis(n: int, u: int, v: int, phase: str) -> np.ndarray:
    """The real Fourier basis image of bin (u, v) (cos or sin phase), unit L2 norm; all
    zeros for the sine of a self-mirrored bin (it has none)."""
    p = np.arange(n)
    angle = 2 * np.pi * (u * p[:, None] + v * p[None, :]) / n
    b = np.cos(angle) if phase == "cos" else np.sin(angle)
    norm = np.linalg.norm(b)
    return b / norm if norm > 1e-9 else np.zeros((n, n))


def sensitivity(net: Model, x: np.ndarray, eps: float = EPS) -> np.ndarray:
    """Mean output change per unit perturbation of each input bin (full n x n grid,
    mirrored bins equal): the larger of the cosine and sine phases."""
    n = x.shape[-1]
    base = net.forward(x)[0]
    out = np.zeros((n, n))
    for u in range(n):
        for v in range(n // 2 + 1):
            best = 0.0
            for phase in ("cos", "sin"):
                b = basis(n, u, v, phase)
                if not b.any():
                    continue
                change = net.forward(x + eps * b)[0] - base
                best = max(best, float(np.mean(np.abs(change))) / eps)
            out[u, v] = out[(-u) % n, (-v) % n] = best
    return out


def cropped_input_accuracy(data: Dataset, bins: np.ndarray) -> float:
    """Logistic regression on the real and imaginary parts of the input bins in ``bins``
    (half plane): what a classifier of the cropped input alone reaches."""
    from sklearn.linear_model import LogisticRegression

    n = data.x_train.shape[-1]
    half = bins[:, : n // 2 + 1]

    def features(x: np.ndarray) -> np.ndarray:
        X = np.fft.rfft2(x[:, 0])[:, half]
        return np.concatenate([X.real, X.imag], axis=1) / n

    clf = LogisticRegression(max_iter=3000).fit(features(data.x_train), data.y_train)
    return float(clf.score(features(data.x_test), data.y_test))


def activation_energy(cfg: NetworkConfig) -> dict[str, float]:
    """Compute actions and energy (pJ, default accelerator and table) of the network's
    activations per image, forward and backward."""
    shapes = layer_shapes(cfg)
    reads = read_sizes(shapes)
    accel = load_accelerator()
    counts: dict[tuple[str, str], float] = {}
    for i, s in enumerate(shapes):
        if isinstance(s.layer, ActLayer):
            keep = reads[i + 1] if i + 1 < len(shapes) else s.out_size
            for key, c in activation_counts(s.layer, s.in_size, keep).items():
                counts[key] = counts.get(key, 0.0) + c * s.in_channels
    report = price(counts, components_of(accel), load_table(None, accel))
    return {"pj_per_image": report.total_pj, **{f"{c}.{a}": v for (c, a), v in sorted(counts.items())}}


def run(ctx: Context) -> dict[str, Any]:
    base = ctx.config(CLASSIFIER, EPOCHS)
    if base.loss != "xent":
        raise ConfigError(f"network: receptive compares classifiers; {base.name!r} is an autoencoder")
    data = load_dataset(base, seed=ctx.seed)
    x = data.x_test[np.random.default_rng(ctx.seed).choice(len(data.x_test), min(IMAGES, len(data.x_test)),
                                                            replace=False)]
    rows: list[dict[str, Any]] = []
    for kind, band in VARIANTS:
        cfg = variant(base, kind, band)
        net = fit(cfg, data)
        exact = receptive_bins(cfg)
        sens = sensitivity(net, x)
        inside, outside = sens[exact], sens[~exact]
        rows.append({"kind": kind, "band": band, "network": cfg.name, "test_accuracy": evaluate(net, data, cfg),
                     "exact_bins": int(exact.sum()), "bins": exact.size, "exact": exact, "sensitivity": sens,
                     "max_outside_vs_inside": float(outside.max() / inside.max()) if outside.size else 0.0,
                     "min_inside_vs_max": float(inside.min() / inside.max()),
                     "cost": activation_energy(cfg)})
    local = rows[0]["exact"]
    for r in rows:
        total = float(np.sum(r["sensitivity"] ** 2))
        r["sensitivity_share_outside_bin_local_set"] = float(np.sum(r["sensitivity"][~local] ** 2) / total)
    return {"network": base.name, "epochs": base.training.epochs, "eps": EPS, "images": len(x),
            "cropped_input_logistic_accuracy": cropped_input_accuracy(data, local), "variants": rows}


def summary(data: dict[str, Any]) -> list[str]:
    lines = [f"{data['network']}, {data['epochs']} epochs: input bins that can change the output (exact), "
             f"sensitivity outside them / inside (perturbation), share of the sensitivity outside the "
             f"bin-local set, test accuracy, activation energy per image"]
    for r in data["variants"]:
        share = r["sensitivity_share_outside_bin_local_set"]
        lines.append(f"  {r['network']:36s} {r['exact_bins']:4d}/{r['bins']} bins, outside/inside "
                     f"{r['max_outside_vs_inside']:.1e}, outside share {share:.3f}, "
                     f"accuracy {r['test_accuracy']:.4f}, {r['cost']['pj_per_image'] / 1e6:.3f} uJ")
    lines.append(f"logistic regression on the {data['variants'][0]['exact_bins']} input bins a bin-local network "
                 f"reads: accuracy {data['cropped_input_logistic_accuracy']:.4f}")
    return lines


def plot(data: dict[str, Any], folder: str | Path) -> list[Path]:
    rows = data["variants"]
    fig, axes = figure(2, len(rows), 2.8 * len(rows), 5.4)
    for j, r in enumerate(rows):
        spectrum_image(axes[0, j], np.asarray(r["exact"], float), f"{r['network'].split('(')[-1][:-1]}: exact",
                       log=False, vmin=0, vmax=1, cmap="gray_r")
        im = spectrum_image(axes[1, j], np.asarray(r["sensitivity"]) + 1e-300, "log10 sensitivity")
        fig.colorbar(im, ax=axes[1, j], fraction=0.046)
    return [save_png(fig, Path(folder) / "receptive.png")]
