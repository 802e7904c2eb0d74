"""The fixed-point training iteration against the float64 golden model and accel.spectral."""
from __future__ import annotations

import numpy as np
import pytest

from accel.config import load_accelerator
from accel.data import load_dataset
from accel.fixed.core import CTensor, Saturations, sqnr_db
from accel.fixed.layers import (
    Ctx,
    ShiftPlan,
    Widths,
    hermitian_project_half,
    sinc_adjoint_fixed,
    sinc_interp_fixed,
    zero_pad_adjoint_fixed,
    zero_pad_fixed,
)
from accel.fixed.net import FixedNet
from accel.golden import GoldenNet
from accel.layout import crop_keep
from accel.network import load_network
from accel.spectral import hermitian_part_of_half, sinc_interp_adjoint_half, sinc_interp_half, spectral_pool_half

ACCEL = load_accelerator()


def _ctx() -> Ctx:
    return Ctx(Widths.of(ACCEL), Saturations(), ShiftPlan())


def _hermitian_half(rng, shape, n):
    x = rng.standard_normal(shape[:-2] + (n, n))
    return np.fft.rfft2(x)


def _grad_sqnr(golden: dict, fixed: dict) -> dict[str, float]:
    out = {}
    for k, g in golden.items():
        v = fixed[k].value()
        out[k] = sqnr_db(g, v if np.iscomplexobj(g) else v.real)
    return out


def test_lenet_digits_one_iteration_matches_golden():
    """Loss within 1% and every gradient >= 30 dB SQNR at the default widths, with the
    shift plan calibrated on a different batch."""
    net = load_network("lenet-digits")
    data = load_dataset(net)
    fixed = FixedNet(net, ACCEL, seed=0)
    fixed.calibrate(data.x_train[32:64], data.y_train[32:64])
    golden = GoldenNet(net, half=True, seed=0)
    x, y = data.x_train[:32], data.y_train[:32]
    lg, gg, _ = golden.loss_and_grads(x, y)
    lf, gf, _ = fixed.loss_and_grads(x, y)
    assert abs(lf - lg) <= 0.01 * lg
    sqnr = _grad_sqnr(gg, gf)
    assert set(sqnr) == set(gg) and min(sqnr.values()) >= 30, sqnr


def test_full_param_zero_padding_and_spatial_activation_track_golden():
    """param: full, a zero-padded second conv (IFFT -> pad -> FFT) and a spatial ReLU.
    Random white spectra put much of the energy far below each tensor's block exponent,
    so the bound here is looser than lenet-digits' 30 dB."""
    net = load_network({"name": "mixed", "dataset": "random", "input": {"channels": 2, "size": 8},
                        "layers": [{"type": "conv", "out_channels": 4, "kernel": 3, "param": "full"},
                                   {"type": "act", "kind": "spatial"}, {"type": "pool", "size": 8},
                                   {"type": "conv", "out_channels": 3, "kernel": 3, "padding": "zero"},
                                   {"type": "act", "kind": "pwl"}, {"type": "pool", "size": 4},
                                   {"type": "dense", "classes": 5}]})
    rng = np.random.default_rng(3)
    x, calib = rng.standard_normal((2, 8, 2, 8, 8))
    y = rng.integers(0, 5, 8)
    fixed = FixedNet(net, ACCEL, seed=0)
    fixed.calibrate(calib, y)
    lg, gg, _ = GoldenNet(net, seed=0).loss_and_grads(x, y)
    lf, gf, _ = fixed.loss_and_grads(x, y)
    assert abs(lf - lg) <= 0.01 * lg
    sqnr = _grad_sqnr(gg, gf)
    assert min(sqnr.values()) >= 20, sqnr


def test_classifier_gradient_projection_matches_spectral():
    rng = np.random.default_rng(0)
    g = rng.standard_normal((3, 2, 8, 5)) + 1j * rng.standard_normal((3, 2, 8, 5))
    t = CTensor.from_complex(g, 16)
    assert sqnr_db(hermitian_part_of_half(t.value(), 8), hermitian_project_half(t).value()) > 80


def test_zero_padding_and_its_adjoint_match_sinc_interpolation():
    rng = np.random.default_rng(1)
    X = _hermitian_half(rng, (2, 3, 8, 8), 8)
    c = _ctx()
    xp = zero_pad_fixed(CTensor.from_complex(X, 16), 16, c)
    assert sqnr_db(sinc_interp_half(X, 16, 8), xp.value()) > 50
    G = _hermitian_half(rng, (2, 3, 16, 16), 16)
    ga = zero_pad_adjoint_fixed(CTensor.from_complex(G, 16), 8, c)
    assert sqnr_db(sinc_interp_adjoint_half(G, 8), ga.value()) > 50


def test_sinc_weight_interpolation_on_the_mac_array():
    rng = np.random.default_rng(2)
    V = _hermitian_half(rng, (4, 3, 5, 5), 5)
    G = _hermitian_half(rng, (4, 3, 16, 16), 16)
    c = _ctx()
    for bound in (45, 55):  # worst-case shifts first, then the shifts the plan observed
        w = sinc_interp_fixed(CTensor.from_complex(V, 16), 16, 5, 16, c, "w")
        assert sqnr_db(sinc_interp_half(V, 16, 5), w.value()) > bound
        gv = sinc_adjoint_fixed(CTensor.from_complex(G, 16), 5, 16, c, "g")
        assert sqnr_db(sinc_interp_adjoint_half(G, 5), gv.value()) > bound
        c.plan.update()


@pytest.mark.parametrize("n, m", [(16, 8), (8, 4), (16, 6)])
def test_crop_keep_is_exactly_what_pooling_reads(n, m):
    keep = crop_keep(n, m)
    assert keep.sum() == (m + 1) * (m // 2 + 1)
    rng = np.random.default_rng(n + m)
    X = _hermitian_half(rng, (2, n, n), n)
    assert np.allclose(spectral_pool_half(X * keep, m), spectral_pool_half(X, m))


def test_fixed_training_tracks_float_training():
    """Three epochs of fixed-point training end within 3 points of float training."""
    net = load_network("lenet-digits")
    data = load_dataset(net)
    accs = {}
    for name, model in (("float", GoldenNet(net, half=True, seed=0)), ("fixed", FixedNet(net, ACCEL, seed=0))):
        rng = np.random.default_rng(0)
        for _ in range(3):
            order = rng.permutation(len(data.y_train))
            for i in range(0, len(order), 32):
                model.train_step(data.x_train[order[i:i + 32]], data.y_train[order[i:i + 32]])
        accs[name] = float(np.mean(model.predict(data.x_test) == data.y_test))
    assert accs["fixed"] >= accs["float"] - 0.03 and accs["float"] > 0.85, accs
