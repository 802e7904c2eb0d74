"""Golden-model speed: one training step (forward + backward + SGD-momentum update) at
batch 32 on lenet-digits and cifar-small, for

* the frequency-domain golden model (float64, half-spectrum storage as in hardware, and
  full storage),
* the spatial numpy reference (float64 direct convolution, ReLU, average pooling),
* PyTorch ``conv2d`` on the same layer shapes (circular / zero padding as configured, ReLU,
  ``adaptive_avg_pool2d``, linear; float32 and float64), or a row saying
  "torch not installed".

Inputs are seeded Gaussian images and random labels.  Every figure is the median of
REPEATS timed steps after one warm-up step.  Everything runs on one thread (numpy's BLAS
through threadpoolctl, ``torch.set_num_threads(1)``), as ``fdaccel train`` does: on the
shared 2-core machine multi-threaded BLAS timings swung by up to 10x with other load,
and one thread compares the algorithms rather than the thread pools.  Prints a table and the ratios to the
frequency model, and writes ``benchmarks/results/golden_speed.json``.
"""
from __future__ import annotations

import platform
import sys
import time
from collections.abc import Callable
from pathlib import Path
from statistics import median

import numpy as np
from threadpoolctl import threadpool_limits

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from accel.config import NetworkConfig
from accel.golden import GoldenNet
from accel.network import (
    layer_shapes,
    load_network,
)
from accel.spatial_net import SpatialNet
from fdaccel.report import table, write_json

NETWORKS = {"lenet-digits": 15, "cifar-small": 5}  # name -> repeats
BATCH = 32
OUT = Path(__file__).resolve().parent / "results" / "golden_speed.json"


def time_steps(step: Callable[[], object], repeats: int) -> float:
    """Median wall seconds of ``repeats`` calls after one warm-up call."""
    step()
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        step()
        times.append(time.perf_counter() - t0)
    return median(times)


def torch_step(cfg: NetworkConfig, x: np.ndarray, y: np.ndarray, dtype_name: str) -> Callable[[], object]:
    """A PyTorch model of the same shapes and one SGD-momentum step on it."""
    import torch
    import torch.nn.functional as F

    dtype = getattr(torch, dtype_name)
    gen = torch.Generator().manual_seed(cfg.training.seed)
    params, plan = [], []
    for s in layer_shapes(cfg):
        L = s.layer
        if L.type == "conv":
            w = torch.randn(L.out_channels, s.in_channels, L.kernel, L.kernel, generator=gen, dtype=dtype)
            w = (w * (2.0 / (s.in_channels * L.kernel ** 2)) ** 0.5).requires_grad_()
            b = torch.zeros(L.out_channels, dtype=dtype, requires_grad=True) if L.bias else None
            params += [w] + ([b] if b is not None else [])
            plan.append(("conv", w, b, s.in_size, s.out_size, L.kernel))
        elif L.type == "act":
            plan.append(("linear",) if L.kind == "linear" else ("relu",))
        elif L.type == "pool":
            plan.append(("pool", s.out_size))
        else:
            f = s.in_channels * s.in_size ** 2
            w = (torch.randn(L.classes, f, generator=gen, dtype=dtype) / f ** 0.5).requires_grad_()
            b = torch.zeros(L.classes, dtype=dtype, requires_grad=True)
            params += [w, b]
            plan.append(("dense", w, b))
    opt = torch.optim.SGD(params, lr=cfg.training.lr, momentum=cfg.training.momentum)
    xt, yt = torch.as_tensor(x, dtype=dtype), torch.as_tensor(y)

    def forward(h):
        for item in plan:
            if item[0] == "conv":
                _, w, b, n, N, k = item
                h = F.pad(h, (0, N - n, 0, N - n))  # zero padding to N (no-op if circular)
                h = F.conv2d(F.pad(h, (k - 1, 0, k - 1, 0), mode="circular"), w.flip(-1, -2), b)
            elif item[0] == "relu":
                h = F.relu(h)
            elif item[0] == "pool":
                h = F.adaptive_avg_pool2d(h, item[1])
            elif item[0] == "dense":
                h = F.linear(h.flatten(1), item[1], item[2])
        return h

    def step():
        opt.zero_grad()
        loss = F.cross_entropy(forward(xt), yt)
        loss.backward()
        opt.step()
        return loss

    return step


def main() -> int:
    try:
        import torch
        torch.set_num_threads(1)
        torch_info = {"version": torch.__version__, "threads": torch.get_num_threads()}
    except ImportError:
        torch, torch_info = None, None
    # numpy models of every network first, then torch (its thread pool must not run
    # alongside numpy's on a small machine).
    cases, timings = {}, {}
    for name, repeats in NETWORKS.items():
        cfg = load_network(name)
        rng = np.random.default_rng(0)
        n, c = cfg.input.size, cfg.input.channels
        x, y = rng.standard_normal((BATCH, c, n, n)), rng.integers(0, cfg.layers[-1].classes, BATCH)
        cases[name] = (cfg, x, y, repeats)
        models = {"frequency (half spectra)": GoldenNet(cfg, half=True),
                  "frequency (full spectra)": GoldenNet(cfg, half=False),
                  "spatial numpy": SpatialNet(cfg)}
        with threadpool_limits(limits=1, user_api="blas"):
            for label, m in models.items():
                timings[name, label] = time_steps(lambda m=m, x=x, y=y: m.train_step(x, y), repeats)
    for name, (cfg, x, y, repeats) in cases.items():
        for dtype in ("float32", "float64"):
            timings[name, f"torch conv2d {dtype}"] = (
                time_steps(torch_step(cfg, x, y, dtype), repeats) if torch is not None else None)
    rows = []
    for (name, label), sec in timings.items():
        ref = timings[name, "frequency (half spectra)"]
        rows.append({"network": name, "model": label, "batch": BATCH, "repeats": NETWORKS[name],
                     "ms_per_step": None if sec is None else sec * 1e3,
                     "ratio_to_frequency": None if sec is None else sec / ref,
                     "note": "torch not installed" if sec is None else ""})
    rows.sort(key=lambda r: list(NETWORKS).index(r["network"]))
    keys = ["network", "model", "ms_per_step", "ratio_to_frequency", "note"]
    print(table(keys, [["-" if r[k] is None else r[k] for k in keys] for r in rows], floatfmt=".3g"))
    print("ratio_to_frequency: step time / frequency-domain golden model (half spectra) step time")
    write_json(OUT, {"python": platform.python_version(), "numpy": np.__version__,
                     "machine": platform.machine(), "torch": torch_info, "numpy_blas_threads": 1,
                     "what": "median seconds of one forward+backward+update step, batch 32",
                     "results": rows})
    print(f"wrote {OUT}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
