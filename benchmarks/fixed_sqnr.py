"""Fixed-point accuracy: SQNR of the bit-accurate unit models against float64 numpy.

Rows come from the row-producing functions in ``ROW_SOURCES`` (each returns a list of
dicts with at least ``"what"`` and ``"sqnr_db"``); add conv-layer and whole-forward rows
by appending functions.  The FFT rows: the integer model of the radix-2^2 SDF pipeline
(``accel.fixed.fft``, 18-bit twiddles, default guard bit) at n = 16, 64, 256 and data
widths 8..24, on seeded uniform complex inputs at 0.7 of full scale, against
``numpy.fft.fft``.  The conv and forward rows: ``accel.fixed.net.FixedNet`` on
lenet-digits (a batch of 32 digits, shift plan calibrated on another batch; weights and
gradients at 16 bits, 48-bit accumulators) against the float64 golden model -- the
first conv layer's output on the bins the following crop reads, and the logits of the
whole forward pass.  Prints a table and writes ``benchmarks/results/fixed_sqnr.json``.
"""
from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from accel.fixed.core import sqnr_db
from accel.fixed.fft import fft_mantissas, to_natural_order
from fdaccel.report import table, write_json

OUT = Path(__file__).resolve().parent / "results" / "fixed_sqnr.json"
FFT_SIZES = (16, 64, 256)
DATA_BITS = tuple(range(8, 25))
TWIDDLE_BITS = 18
LEVEL = 0.7
TRANSFORMS = 256


def fft_rows() -> list[dict]:
    """SQNR of the FFT model vs numpy.fft for every (n, data_bits)."""
    rows = []
    for n in FFT_SIZES:
        for bits in DATA_BITS:
            rng = np.random.default_rng(1000 * n + bits)
            lim = int(LEVEL * (1 << (bits - 1)))
            re = rng.integers(-lim, lim + 1, (TRANSFORMS, n))
            im = rng.integers(-lim, lim + 1, (TRANSFORMS, n))
            y_re, y_im = fft_mantissas(re, im, data_bits=bits, twiddle_bits=TWIDDLE_BITS)
            ref = np.fft.fft(re + 1j * im, axis=-1) / n
            got = to_natural_order(y_re + 1j * y_im)
            rows.append({"what": "fft", "n": n, "data_bits": bits,
                         "twiddle_bits": TWIDDLE_BITS, "sqnr_db": round(sqnr_db(ref, got), 2)})
    return rows


def network_rows() -> list[dict]:
    """SQNR of lenet-digits' first conv output and of its logits, fixed vs golden."""
    from accel.config import load_accelerator
    from accel.data import load_dataset
    from accel.fixed.net import FixedNet
    from accel.golden import GoldenNet
    from accel.network import load_network

    net = load_network("lenet-digits")
    data = load_dataset(net)
    x, calib, labels = data.x_train[:32], data.x_train[32:64], data.y_train[32:64]
    logits_ref, ref = GoldenNet(net, seed=0).forward(x)
    n = net.input.size
    rows = []
    for bits in DATA_BITS:
        accel = load_accelerator({"formats": {"data_bits": bits}, "mac_array": {"acc_bits": 48}})
        fixed = FixedNet(net, accel, seed=0)
        fixed.calibrate(calib, labels)
        logits, traces = fixed.forward(x)
        keep = fixed.keeps[0]
        conv_ref = ref[0].y if keep is None else ref[0].y * keep
        rows.append({"what": "conv", "n": n, "data_bits": bits, "twiddle_bits": accel.formats.twiddle_bits,
                     "sqnr_db": round(sqnr_db(conv_ref, traces[0].y.value()), 2)})
        rows.append({"what": "forward", "n": n, "data_bits": bits, "twiddle_bits": accel.formats.twiddle_bits,
                     "sqnr_db": round(sqnr_db(logits_ref, logits.value().real), 2)})
    return rows


ROW_SOURCES: list[Callable[[], list[dict]]] = [fft_rows, network_rows]


def main() -> None:
    rows = [row for source in ROW_SOURCES for row in source()]
    keys = list(dict.fromkeys(k for row in rows for k in row))
    print(table(keys, [[row.get(k, "") for k in keys] for row in rows]))
    write_json(OUT, rows)
    print(f"wrote {OUT}")


if __name__ == "__main__":
    main()
