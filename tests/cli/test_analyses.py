"""Each analysis of ``fdaccel analyze`` against an independent computation: closed forms
for upsampled spectra, finite perturbation for receptive bins, direct spatial
computations for pooling, filtering, band energies and the per-bin rule."""
import numpy as np
import pytest
import scipy.ndimage
import scipy.signal

from accel.golden import GoldenNet
from accel.network import load_network
from accel.spatial_net import SpatialNet
from accel.upsample import KINDS, upsample
from fdaccel.analyze import attenuation, fprinciple, pooling, propagation, receptive, robustness, upsampling
from fdaccel.analyze.common import NativeDigits, radial_bands

RNG = np.random.default_rng(11)


# ------------------------------------------------------------------ pooling


def test_pooling_matches_direct_spatial_pooling():
    x = RNG.random((5, 8, 8))
    for m in (2, 4, 6):
        pooled, rec = pooling.pool_and_reconstruct(x, "spectral", m)
        down = scipy.signal.resample(scipy.signal.resample(x, m, axis=-2), m, axis=-1)
        assert np.allclose(pooled, down, atol=1e-12)
        up = scipy.signal.resample(scipy.signal.resample(down, 8, axis=-2), 8, axis=-1)
        assert np.allclose(rec, up, atol=1e-12)
    for m in (2, 4):
        f = 8 // m
        for method, reduce in (("average", np.mean), ("max", np.max)):
            pooled, rec = pooling.pool_and_reconstruct(x, method, m)
            direct = np.array([[[reduce(img[i * f:(i + 1) * f, j * f:(j + 1) * f]) for j in range(m)]
                                for i in range(m)] for img in x])
            assert np.allclose(pooled, direct)
            assert np.allclose(rec, np.kron(direct, np.ones((f, f))))


def test_pooling_energy_retained_is_the_kept_bins_energy():
    x = RNG.random((4, 8, 8))
    r = pooling.measure(x, "spectral", 4)
    X = np.fft.fft2(x)
    _, rec = pooling.pool_and_reconstruct(x, "spectral", 4)
    kept = np.sum(np.abs(np.fft.fft2(rec)) ** 2, axis=(-2, -1)) / np.sum(np.abs(X) ** 2, axis=(-2, -1))
    assert np.isclose(r["energy_ratio"], kept.mean())
    assert np.isclose(r["relative_error"] + r["energy_ratio"], 1.0)  # a projection


# ------------------------------------------------------------------ upsampling


@pytest.mark.parametrize("kind", KINDS)
def test_upsampled_spectra_equal_their_closed_forms(kind):
    x = RNG.random((3, 1, 8, 8))
    X = np.fft.fft2(x)
    assert np.allclose(np.abs(upsample(X, 16, kind, half=False)), upsampling.closed_form(X, 16, kind), atol=1e-10)
    if kind == "nearest":  # the closed form against the spectrum of repeated pixels
        direct = np.abs(np.fft.fft2(np.repeat(np.repeat(x, 2, -2), 2, -1)))
        assert np.allclose(upsampling.closed_form(X, 16, kind), direct, atol=1e-10)


def test_tiles_against_a_direct_sum():
    amp, power = RNG.random((12, 12)), RNG.random((12, 12))
    t = upsampling.tiles(amp, power, 4)
    assert len(t) == 9
    for tile in t:
        a, b = tile["tile"]
        rows = [(a * 4 + g) % 12 for g in range(-2, 2)]
        cols = [(b * 4 + g) % 12 for g in range(-2, 2)]
        centre = sum(power[r % 12, c % 12] for r in range(-2, 2) for c in range(-2, 2))
        assert np.isclose(tile["energy_ratio"], sum(power[r, c] for r in rows for c in cols) / centre)
        assert amp[tuple(tile["peak"])] == max(amp[r, c] for r in rows for c in cols)


def test_native_digit_replicas():
    report = {r["kind"]: r for r in upsampling.native(NativeDigits.load())}
    assert np.isclose(report["zeros"]["replica_energy"], 1.0)
    assert report["spectral"]["replica_energy"] < report["nearest"]["replica_energy"] < 0.1
    assert all(r["closed_form_deviation"] < 1e-12 for r in report.values())


# ------------------------------------------------------------------ receptive bins

RECEPTIVE_NETS = {
    "bin-local": [{"type": "conv", "out_channels": 2, "kernel": 3}, {"type": "act", "kind": "pwl"},
                  {"type": "pool", "size": 4}, {"type": "act", "kind": "linear"}, {"type": "pool", "size": 2}],
    "quadratic band": [{"type": "conv", "out_channels": 2, "kernel": 3},
                       {"type": "act", "kind": "quadratic", "band": 2}, {"type": "pool", "size": 4},
                       {"type": "act", "kind": "pwl"}, {"type": "pool", "size": 2}],
    "spatial": [{"type": "conv", "out_channels": 2, "kernel": 3}, {"type": "act", "kind": "spatial"},
                {"type": "pool", "size": 4}],
    "zero padding": [{"type": "pool", "size": 4}, {"type": "conv", "out_channels": 2, "kernel": 3, "padding": "zero"},
                     {"type": "pool", "size": 2}],
}


@pytest.mark.parametrize("name", RECEPTIVE_NETS)
def test_receptive_bins_match_finite_perturbation(name):
    cfg = load_network({"dataset": "random", "input": {"channels": 1, "size": 8},
                        "layers": RECEPTIVE_NETS[name] + [{"type": "dense", "classes": 3}]})
    net = GoldenNet(cfg, half=True, seed=1)
    sens = receptive.sensitivity(net, RNG.standard_normal((4, 1, 8, 8)))
    exact = receptive.receptive_bins(cfg)
    assert sens[~exact].max(initial=0.0) <= 1e-12 * sens.max()
    assert sens[exact].min() > 1e-6 * sens.max()
    expected = {"bin-local": 9, "quadratic band": 25, "spatial": 64, "zero padding": 25}[name]
    assert exact.sum() == expected


@pytest.mark.parametrize("kind", KINDS)
def test_receptive_bins_through_upsampling(kind):
    """A decoder: every input bin an upsampling copies (or zero-pads) into a needed output
    bin counts, except where the nearest box envelope vanishes."""
    cfg = load_network({"dataset": "random", "loss": "mse", "input": {"channels": 1, "size": 8},
                        "layers": [{"type": "pool", "size": 4}, {"type": "upsample", "kind": kind, "size": 8},
                                   {"type": "pool", "size": 6}, {"type": "upsample", "kind": "spectral", "size": 8}]})
    net = GoldenNet(cfg, half=True, seed=1)
    sens = receptive.sensitivity(net, RNG.standard_normal((2, 1, 8, 8)))
    exact = receptive.receptive_bins(cfg)
    assert sens[~exact].max(initial=0.0) <= 1e-12 * sens.max()
    assert sens[exact].min() > 1e-6 * sens.max()


def test_basis_images():
    for u, v, phase in [(1, 2, "cos"), (3, 0, "sin"), (4, 4, "cos"), (0, 0, "cos")]:
        b = receptive.basis(8, u, v, phase)
        assert np.isclose(np.linalg.norm(b), 1.0)
        B = np.abs(np.fft.fft2(b)) > 1e-9
        assert B[u, v] and B[(-u) % 8, (-v) % 8] and B.sum() <= 2
    assert not receptive.basis(8, 4, 0, "sin").any()


# ------------------------------------------------------------------ F-principle


def test_band_errors_against_a_loop_over_bins():
    y, x = RNG.standard_normal((2, 1, 8, 8)), RNG.standard_normal((2, 1, 8, 8))
    bands = radial_bands(8, 4)
    Y, X = np.fft.fft2(y), np.fft.fft2(x)
    expect = np.zeros(4)
    for b in range(4):
        num = sum(abs(Y[i, 0, u, v] - X[i, 0, u, v]) ** 2 for i in range(2) for u in range(8) for v in range(8)
                  if bands[u, v] == b)
        den = sum(abs(X[i, 0, u, v]) ** 2 for i in range(2) for u in range(8) for v in range(8) if bands[u, v] == b)
        expect[b] = num / den
    assert np.allclose(fprinciple.band_errors(y, x, 4), expect)


def test_nudft_against_an_explicit_sum():
    t, f, k = RNG.standard_normal(7), RNG.standard_normal((7, 3)), np.array([0.0, 0.3, 1.1])
    F = fprinciple.nudft(f, t, k)
    for a, kk in enumerate(k):
        assert np.allclose(F[a], sum(f[i] * np.exp(-2j * np.pi * kk * t[i]) for i in range(7)) / 7)
    errors = np.array([[1.0, 1.0], [0.4, 0.9], [0.1, 0.3]])
    assert fprinciple.time_below(errors, np.array([0.0, 1.0, 2.0]), 0.5) == [1.0, 2.0]
    assert fprinciple.time_below(errors, np.array([0.0, 1.0, 2.0]), 0.2) == [2.0, None]


# ------------------------------------------------------------------ robustness


@pytest.mark.parametrize("low, r", [(True, 0), (True, 2), (False, 1), (False, 3)])
def test_filters_are_spatial_circular_convolutions(low, r):
    x = RNG.random((3, 8, 8))
    R = robustness.chebyshev_radius(8)
    h = np.fft.ifft2((R <= r) if low else (R >= r)).real  # the filter's impulse response
    # ndimage centres an 8 x 8 kernel at index 4: rolled by 4, y[p] = sum_a h[a] x[p - a]
    direct = np.array([scipy.ndimage.convolve(img, np.roll(h, (4, 4), axis=(0, 1)), mode="wrap") for img in x])
    assert np.allclose(robustness.filtered(x, r, low), direct, atol=1e-12)


@pytest.mark.slow
def test_bin_local_network_ignores_high_native_frequencies():
    """An untrained pwl lenet-digits reads only the 5 x 5 lowest input bins, so adding a
    native Fourier basis image with max(|u|, |v|) >= 3 never changes a prediction."""
    d = NativeDigits.load()
    net = GoldenNet(load_network("lenet-digits"), half=True, seed=0)
    hm = robustness.heat_map(net, d, np.random.default_rng(0))
    R = robustness.chebyshev_radius(8)
    clean = robustness.error(net, d, d.x_test)
    assert np.allclose(hm[R >= 3], clean) and not np.allclose(hm[R <= 1], clean)


# ------------------------------------------------------------------ per-bin rule and gains


def test_per_bin_rule_holds_for_the_spatial_reference_and_same_padding_is_scipy():
    for padding in ("circular", "zero"):
        cfg = load_network({"dataset": "random", "input": {"channels": 2, "size": 8}, "layers": [
            {"type": "conv", "out_channels": 3, "kernel": 3, "padding": padding}, {"type": "dense", "classes": 2}]})
        net = SpatialNet(cfg, seed=0)
        net.params["conv1.bias"] = RNG.standard_normal(3)
        layer = propagation.layers(net, RNG.standard_normal((2, 2, 8, 8)))[0]
        assert layer["as_computed"]["max_residual"] < 1e-13
        assert layer["same_zero_padding"]["max_residual"] > 1e-3
    x, w, b = RNG.standard_normal((2, 2, 8, 8)), RNG.standard_normal((3, 2, 3, 3)), RNG.standard_normal(3)
    ref = np.array([[sum(scipy.signal.convolve2d(x[i, c], w[o, c], mode="same") for c in range(2)) + b[o]
                     for o in range(3)] for i in range(2)])
    assert np.allclose(propagation.same_convolution(x, w, b), ref)


def test_attenuation_gains_against_direct_convolutions():
    cfg = load_network({"dataset": "random", "input": {"channels": 1, "size": 8}, "layers": [
        {"type": "conv", "out_channels": 2, "kernel": 3}, {"type": "dense", "classes": 2}]})
    net = GoldenNet(cfg, half=True, seed=0)
    x = RNG.standard_normal((3, 1, 8, 8))
    layer = attenuation.conv_layers(net, x)[0]
    w = np.fft.irfft2(net.params["conv1.weight"], s=(3, 3))
    bands = attenuation.ac_bands(8)
    T = np.fft.fft2(w, s=(8, 8))
    assert np.allclose(layer["mean_T"], [np.abs(T).mean(axis=(0, 1))[bands == b].mean() for b in range(3)])

    def energy(maps):
        P = np.abs(np.fft.fft2(maps)) ** 2
        return np.array([P[..., bands == b].mean() for b in range(3)])
    circ = np.array([[scipy.ndimage.convolve(x[i, 0], w[o, 0], mode="wrap", origin=-1) for o in range(2)]
                     for i in range(3)])
    same = np.array([[scipy.signal.convolve2d(x[i, 0], w[o, 0], mode="same") for o in range(2)] for i in range(3)])
    assert np.allclose(layer["gain"], energy(circ) / energy(x))
    assert np.allclose(layer["gain_same"], energy(same) / energy(x))
