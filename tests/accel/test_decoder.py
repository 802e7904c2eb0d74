"""Decoder layers of the golden model against independent references: upsampling against
its closed forms and spatial computations (zero insertion, np.repeat, scipy.signal.resample),
the quadratic activation against a direct spectral autoconvolution, the Parseval mse
against the pixel mse; a decoder network against central finite differences and PyTorch
autograd; half == full storage, for SGD and Adam."""
import dataclasses

import numpy as np
import pytest
import scipy.signal

from accel.activation_cost import activation_counts, quadratic_pairs
from accel.config import ActLayer, ConfigError
from accel.golden import GoldenNet, parseval_mse
from accel.mixing import band_mask, quadratic_backward, quadratic_forward, signed_bins
from accel.network import latent_size, layer_shapes, load_network, require_hardware_support
from accel.spatial_net import SpatialNet, upsample_matrix
from accel.spectral import mirror, spectral_pool, to_full, to_half
from accel.upsample import box_envelope, box_spectrum, upsample, upsample_adjoint
from tests.accel.test_golden import hermitian_direction, kink_pattern, same_pieces

RNG = np.random.default_rng(5)


def images(*shape):
    return RNG.standard_normal(shape)


# ------------------------------------------------------------------ upsampling closed forms


@pytest.mark.parametrize("m, M", [(4, 8), (4, 12), (6, 12)])
def test_zero_insertion_tiles_the_spectrum(m, M):
    x = images(2, 3, m, m)
    X = np.fft.fft2(x)
    Y = upsample(X, M, "zeros", half=False)
    f = M // m
    assert np.array_equal(Y, np.tile(X, (1, 1, f, f)))  # exactly the tiled spectrum
    spatial = np.zeros((2, 3, M, M))
    spatial[..., ::f, ::f] = x
    assert np.allclose(Y, np.fft.fft2(spatial), atol=1e-12)


@pytest.mark.parametrize("m, M", [(4, 8), (4, 16), (8, 16)])
def test_nearest_is_the_tiled_spectrum_times_the_box_envelope(m, M):
    x = images(2, 1, m, m)
    X = np.fft.fft2(x)
    f = M // m
    Y = upsample(X, M, "nearest", half=False)
    assert np.allclose(Y, np.tile(X, (1, 1, f, f)) * box_envelope(m, M), atol=1e-12)
    assert np.allclose(np.fft.ifft2(Y).real, np.repeat(np.repeat(x, f, -2), f, -1), atol=1e-12)
    u = np.arange(M)
    env = np.abs(box_spectrum(m, M))
    expect = np.where(u == 0, f, np.abs(np.sin(np.pi * u / m)) / np.maximum(np.abs(np.sin(np.pi * u / M)), 1e-300))
    assert np.allclose(env, expect, atol=1e-12)
    assert np.allclose(env[m::m], 0.0, atol=1e-12)  # the other copies of DC vanish
    assert np.allclose(box_envelope(m, M), np.outer(box_spectrum(m, M), box_spectrum(m, M)))


@pytest.mark.parametrize("m, M", [(4, 8), (4, 6), (6, 16), (8, 10)])
def test_spectral_upsampling_is_scipy_resample(m, M):
    x = images(2, 2, m, m)
    Y = upsample(np.fft.fft2(x), M, "spectral", half=False)
    ref = scipy.signal.resample(scipy.signal.resample(x, M, axis=-2), M, axis=-1)
    assert np.allclose(np.fft.ifft2(Y).real, ref, atol=1e-12)
    assert np.abs(np.fft.ifft2(Y).imag).max() < 1e-12
    assert np.allclose(spectral_pool(Y, m), np.fft.fft2(x), atol=1e-10)  # pooling undoes it


@pytest.mark.parametrize("kind, m, M", [("zeros", 4, 8), ("zeros", 4, 12), ("nearest", 4, 8), ("nearest", 6, 12),
                                        ("spectral", 4, 6), ("spectral", 6, 16)])
def test_upsampling_half_equals_full_and_backward_is_the_adjoint(kind, m, M):
    x, g = images(2, 3, m, m), images(2, 3, M, M)
    X, G = np.fft.fft2(x), np.fft.fft2(g)
    Y = upsample(X, M, kind, half=False)
    Yh = upsample(to_half(X), M, kind, half=True)
    assert np.abs(to_full(Yh, M) - Y).max() <= 1e-10 * np.abs(Y).max()
    A = upsample_adjoint(G, m, kind, half=False)
    Ah = upsample_adjoint(to_half(G), m, kind, half=True)
    assert np.abs(to_full(Ah, m) - A).max() <= 1e-10 * np.abs(A).max()
    lhs, rhs = np.real(np.vdot(G, Y)), np.real(np.vdot(A, X))
    assert abs(lhs - rhs) <= 1e-12 * np.abs(G).sum() * np.abs(Y).max()
    assert np.allclose(mirror(A), np.conj(A), atol=1e-10 * np.abs(A).max())  # Hermitian stays Hermitian


@pytest.mark.parametrize("kind", ["zeros", "nearest", "spectral"])
def test_spatial_upsample_matrix_matches_the_spectral_layer(kind):
    x = images(1, 2, 4, 4)
    A = upsample_matrix(4, 8, kind)
    y = np.einsum("rp,bcpq,sq->bcrs", A, x, A)
    assert np.allclose(np.fft.fft2(y), upsample(np.fft.fft2(x), 8, kind, half=False), atol=1e-12)


# ------------------------------------------------------------------ quadratic activation


def direct_autoconvolution(Z):
    """(Z * Z)[f] = sum_g Z[g] Z[f - g] by a loop over g (full n x n spectra)."""
    n = Z.shape[-1]
    out = np.zeros_like(Z)
    for a in range(n):
        for b in range(n):
            out += Z[..., a:a + 1, b:b + 1] * np.roll(Z, (a, b), axis=(-2, -1))
    return out


@pytest.mark.parametrize("band", [0, 1, 2])
def test_quadratic_is_a_spectral_autoconvolution(band):
    n = 8
    layer = ActLayer(kind="quadratic", alpha=0.7, beta=0.3, band=band)
    x = images(2, 2, n, n)
    X = np.fft.fft2(x)
    Z = X * band_mask(n, band, half=False)
    ref = layer.alpha * X + layer.beta / n ** 2 * direct_autoconvolution(Z)
    Y, _ = quadratic_forward(X, layer, half=False)
    assert np.allclose(Y, ref, atol=1e-10)
    z = np.fft.ifft2(Z).real
    assert np.allclose(np.fft.ifft2(Y).real, layer.alpha * x + layer.beta * z ** 2, atol=1e-12)
    Yh, _ = quadratic_forward(to_half(X), layer, half=True)
    assert np.allclose(to_full(Yh, n), Y, atol=1e-10)
    if band:  # only band bins feed the square: out-of-band input bins act linearly
        k = np.abs(signed_bins(n))
        assert band_mask(n, band, half=False).sum() == ((k <= band).sum()) ** 2


def test_quadratic_backward_matches_finite_differences_and_half():
    n = 8
    layer = ActLayer(kind="quadratic", alpha=0.5, beta=0.4, band=2)
    X = np.fft.fft2(images(2, 1, n, n))
    G = np.fft.fft2(images(2, 1, n, n))  # Hermitian output gradient: L = Re <G, Y>
    _, z = quadratic_forward(X, layer, half=False)
    GX = quadratic_backward(G, z, layer, half=False)
    _, zh = quadratic_forward(to_half(X), layer, half=True)
    assert np.allclose(to_full(quadratic_backward(to_half(G), zh, layer, half=True), n), GX, atol=1e-10)
    for _ in range(3):
        D = hermitian_direction(X, RNG)
        h = 1e-6

        def loss(Xv):
            return np.real(np.vdot(G, quadratic_forward(Xv, layer, half=False)[0]))
        fd = (loss(X + h * D) - loss(X - h * D)) / (2 * h)
        assert abs(fd - np.real(np.vdot(D, GX))) <= 1e-6 * abs(fd)


def brute_force_pairs(n, band, keep):
    S = band_mask(n, band, half=False)
    K = band_mask(n, keep // 2 if keep < n else 0, half=False)
    bins = [(u, v) for u in range(n) for v in range(n // 2 + 1) if K[u, v]]
    band_bins = [(u, v) for u in range(n) for v in range(n) if S[u, v]]
    forward = backward = 0
    for f in bins:
        pairs = {frozenset([g, ((f[0] - g[0]) % n, (f[1] - g[1]) % n)]) for g in band_bins
                 if S[(f[0] - g[0]) % n, (f[1] - g[1]) % n]}
        forward += len(pairs)
    for f in [(u, v) for u in range(n) for v in range(n // 2 + 1) if S[u, v]]:
        backward += sum(1 for u in range(n) for v in range(n) if K[u, v] and S[(f[0] - u) % n, (f[1] - v) % n])
    return forward, backward


@pytest.mark.parametrize("n, band, keep", [(8, 0, 8), (8, 2, 4), (8, 1, 8), (8, 0, 4), (6, 2, 4)])
def test_quadratic_counts_are_the_pairs_of_the_autoconvolution(n, band, keep):
    assert quadratic_pairs(n, band, keep) == brute_force_pairs(n, band, keep)


def test_activation_counts_per_kind():
    n, keep = 16, 8
    kept = 9 * 5
    assert activation_counts(ActLayer(kind="pwl"), n, keep) == {("pwl", "eval"): 2 * kept, ("pwl", "slope"): 2 * kept}
    assert activation_counts(ActLayer(kind="linear"), n, keep) == {}
    spatial = activation_counts(ActLayer(kind="spatial"), n, keep)
    assert spatial[("fft", "butterfly")] == 2 * (16 + 9) * 32 + 2 * (16 + 5) * 32  # 16-point: 32 butterflies
    quad = activation_counts(ActLayer(kind="quadratic", band=2), n, keep)
    assert quad[("cmac", "mac")] == sum(quadratic_pairs(n, 2, keep))


# ------------------------------------------------------------------ the loss


def test_parseval_mse_is_the_pixel_mse():
    y, x = images(3, 2, 8, 8), images(3, 2, 8, 8)
    loss, G = parseval_mse(np.fft.fft2(y), np.fft.fft2(x), half=False)
    assert np.isclose(loss, np.mean((y - x) ** 2), rtol=1e-12)
    lh, Gh = parseval_mse(np.fft.rfft2(y), np.fft.rfft2(x), half=True)
    assert np.isclose(lh, loss, rtol=1e-12) and np.allclose(to_full(Gh, 8), G)
    # the spectral gradient of the pixel mse: fft2(dL/dy) / n^2
    assert np.allclose(G, np.fft.fft2(2 * (y - x) / y.size) / 64)


# ------------------------------------------------------------------ a decoder network

DECODER = {
    "name": "decoder", "dataset": "random", "loss": "mse", "input": {"channels": 2, "size": 8},
    "layers": [
        {"type": "conv", "out_channels": 3, "kernel": 3},
        {"type": "act", "kind": "quadratic", "beta": 0.3},
        {"type": "pool", "size": 4},
        {"type": "upsample", "kind": "zeros", "factor": 2},
        {"type": "conv", "out_channels": 3, "kernel": 3, "param": "full"},
        {"type": "act", "kind": "pwl", "segments": 4},
        {"type": "pool", "size": 4},
        {"type": "upsample", "kind": "nearest", "size": 8},
        {"type": "conv", "out_channels": 3, "kernel": 2, "padding": "zero"},     # 8 -> 16
        {"type": "act", "kind": "quadratic", "alpha": 0.8, "beta": 0.2, "band": 3},
        {"type": "pool", "size": 6},
        {"type": "upsample", "kind": "spectral", "size": 8},
        {"type": "conv", "out_channels": 2, "kernel": 3},
    ],
}


def decoder(half, optimizer="sgd", seed=3):
    cfg = load_network(DECODER)
    cfg = dataclasses.replace(cfg, training=dataclasses.replace(cfg.training, optimizer=optimizer, lr=0.01))
    net = GoldenNet(cfg, half=half, seed=seed)
    rng = np.random.default_rng(seed)
    for k in sorted(net.params):
        if k.endswith("bias"):
            net.params[k] = 0.1 * rng.standard_normal(net.params[k].shape)
    return net, rng.standard_normal((3, 2, 8, 8))


def test_decoder_gradients_match_central_finite_differences():
    net, x = decoder(half=False)
    loss, grads, traces = net.loss_and_grads(x, None)
    pattern = kink_pattern(traces)
    assert set(grads) == set(net.params)
    h = 1e-6
    for name, p in net.params.items():
        for _ in range(2):
            D = hermitian_direction(p, RNG) if np.iscomplexobj(p) else RNG.standard_normal(p.shape)
            net.params[name] = p + h * D
            lp, _, tp = net.loss_and_grads(x, None)
            net.params[name] = p - h * D
            lm, _, tm = net.loss_and_grads(x, None)
            net.params[name] = p
            assert same_pieces(kink_pattern(tp), pattern) and same_pieces(kink_pattern(tm), pattern), name
            analytic = np.real(np.vdot(D, grads[name]))
            assert abs((lp - lm) / (2 * h) - analytic) <= 1e-6 * max(abs(analytic), 1e-3), name


@pytest.mark.parametrize("optimizer", ["sgd", "adam"])
def test_decoder_half_storage_equals_full_storage(optimizer):
    full, x = decoder(half=False, optimizer=optimizer)
    half, _ = decoder(half=True, optimizer=optimizer)
    lf, gf, tf = full.loss_and_grads(x, None)
    lh, gh, th = half.loss_and_grads(x, None)
    assert abs(lf - lh) <= 1e-10 * lf
    for k, a in gf.items():
        b = to_full(gh[k], a.shape[-1]) if np.iscomplexobj(a) else gh[k]
        assert np.abs(a - b).max() <= 1e-10 * np.abs(a).max(), k
        if np.iscomplexobj(a):
            assert np.allclose(mirror(a), np.conj(a), atol=1e-12 * np.abs(a).max()), k
    for a, b in zip(tf, th):
        if a.g_in is not None:
            assert np.allclose(to_full(b.g_in, a.g_in.shape[-1]), a.g_in, atol=1e-12 * np.abs(a.g_in).max())
    for _ in range(3):
        full.train_step(x, None)
        half.train_step(x, None)
    for k, p in full.params.items():
        q = to_full(half.params[k], p.shape[-1]) if np.iscomplexobj(p) else half.params[k]
        assert np.abs(p - q).max() <= 1e-10 * np.abs(p).max(), k
        if np.iscomplexobj(p):  # real kernels after SGD and Adam alike
            assert np.abs(np.fft.ifft2(p).imag).max() < 1e-12 * np.abs(p).max(), k
    assert np.allclose(full.reconstruct(x), half.reconstruct(x), atol=1e-10)


def test_adam_trains_and_is_deterministic():
    a, x = decoder(half=True, optimizer="adam")
    b, _ = decoder(half=True, optimizer="adam")
    la = [a.train_step(x, None) for _ in range(20)]
    assert la == [b.train_step(x, None) for _ in range(20)]
    assert np.all(np.diff(la) < 0) and la[-1] < 0.97 * la[0]


def test_spatial_decoder_gradients_match_finite_differences():
    net = SpatialNet(load_network(DECODER), seed=2)
    for k in sorted(net.params):  # nonzero biases: no ReLU input sits exactly at its kink
        if k.endswith("bias"):
            net.params[k] = 0.1 * RNG.standard_normal(net.params[k].shape)
    x = RNG.standard_normal((2, 2, 8, 8))
    loss, grads, traces = net.loss_and_grads(x, None)
    pattern = kink_pattern(traces)
    h = 1e-6
    for name, p in net.params.items():
        D = RNG.standard_normal(p.shape)
        net.params[name] = p + h * D
        lp, _, tp = net.loss_and_grads(x, None)
        net.params[name] = p - h * D
        lm, _, tm = net.loss_and_grads(x, None)
        net.params[name] = p
        assert same_pieces(kink_pattern(tp), pattern) and same_pieces(kink_pattern(tm), pattern), name
        analytic = float(np.sum(D * grads[name]))
        assert abs((lp - lm) / (2 * h) - analytic) <= 1e-6 * max(abs(analytic), 1e-3), name
    assert net.reconstruct(x).shape == x.shape


def torch_decoder_loss(net, kernels, biases, x):
    """The decoder built in torch from real spatial kernels: convolutions as products of
    torch.fft spectra, the other layers in space (zero insertion, repeat_interleave,
    resampling matrices, the squared low-passed signal, the pixel mse)."""
    import torch

    h = x
    for s in net.shapes:
        L = s.layer
        if L.type == "conv":
            N = s.out_size
            X = torch.fft.fft2(h, s=(N, N))
            Y = torch.einsum("bihw,oihw->bohw", X, torch.fft.fft2(kernels[L.name], s=(N, N)))
            h = torch.fft.ifft2(Y).real + biases[L.name][None, :, None, None]
        elif L.type == "act" and L.kind == "pwl":
            from accel.network import pwl_table
            b, sl, ic = (torch.as_tensor(a) for a in pwl_table(L))
            X = torch.fft.fft2(h)

            def f(t, b=b, sl=sl, ic=ic):
                seg = torch.searchsorted(b, t.detach().contiguous(), right=True)
                return sl[seg] * t + ic[seg]
            h = torch.fft.ifft2(torch.complex(f(X.real), f(X.imag))).real
        elif L.type == "act":
            mask = torch.as_tensor(band_mask(s.in_size, L.band, half=False))
            z = torch.fft.ifft2(torch.fft.fft2(h) * mask).real
            h = L.alpha * h + L.beta * z * z
        elif L.type == "pool":
            A = torch.as_tensor(scipy.signal.resample(np.eye(s.in_size), s.out_size, axis=0))
            h = torch.einsum("rp,bcpq,sq->bcrs", A, h, A)
        elif L.kind == "zeros":
            f = s.out_size // s.in_size
            up = torch.zeros(h.shape[:2] + (s.out_size, s.out_size), dtype=h.dtype)
            up[..., ::f, ::f] = h
            h = up
        elif L.kind == "nearest":
            f = s.out_size // s.in_size
            h = h.repeat_interleave(f, -2).repeat_interleave(f, -1)
        else:
            A = torch.as_tensor(scipy.signal.resample(np.eye(s.in_size), s.out_size, axis=0))
            h = torch.einsum("rp,bcpq,sq->bcrs", A, h, A)
    return torch.mean((h - x) ** 2)


def test_decoder_gradients_match_torch_autograd():
    torch = pytest.importorskip("torch", reason="PyTorch not installed: autograd cross-check skipped")
    net, x = decoder(half=False)
    loss, grads, _ = net.loss_and_grads(x, None)
    kernels, biases = {}, {}
    for s in net.shapes:
        if s.layer.type == "conv":
            w = np.fft.ifft2(net.params[f"{s.layer.name}.weight"])
            kernels[s.layer.name] = torch.tensor(w.real, requires_grad=True)
            biases[s.layer.name] = torch.tensor(net.params[f"{s.layer.name}.bias"], requires_grad=True)
    tl = torch_decoder_loss(net, kernels, biases, torch.tensor(x))
    tl.backward()
    assert abs(tl.item() - loss) < 1e-12 * loss
    for name, t in kernels.items():
        G = grads[f"{name}.weight"]
        size = G.shape[-1]
        ours = np.real(size * size * np.fft.ifft2(G))  # dL/dw for V = fft2(w)
        assert np.allclose(t.grad.numpy(), ours, rtol=1e-9, atol=1e-12 * np.abs(ours).max()), name
        assert np.allclose(biases[name].grad.numpy(), grads[f"{name}.bias"], rtol=1e-9, atol=1e-14), name


# ------------------------------------------------------------------ configuration


def _net(*layers, loss="xent", size=8):
    return {"loss": loss, "input": {"channels": 1, "size": size}, "layers": list(layers)}


CONV1 = {"type": "conv", "out_channels": 1, "kernel": 3}


@pytest.mark.parametrize("data, message", [
    (_net({"type": "upsample", "kind": "cubic"}, loss="mse"),
     "layers[0].kind: must be one of zeros, nearest, spectral"),
    (_net({"type": "upsample", "size": 16, "factor": 2}, loss="mse"), "layers[0].factor: give either size or factor"),
    (_net({"type": "upsample", "size": 7}, loss="mse"), "layers[0].size: must be a positive even number"),
    (_net({"type": "upsample", "factor": 1}, loss="mse"), "layers[0].factor: must be between 2 and 64"),
    (_net({"type": "upsample", "size": 8}, loss="mse"), "layers[0].size: upsampling to 8 must exceed its input"),
    (_net({"type": "upsample", "kind": "nearest", "size": 12}, loss="mse"),
     "layers[0].size: nearest upsampling needs a whole factor"),
    (_net({"type": "act", "kind": "quadratic", "band": 5}, loss="mse"), "layers[0].band: the band"),
    (_net({"type": "act", "kind": "quadratic", "band": -1}, loss="mse"), "layers[0].band: must be >= 0"),
    (_net(CONV1, {"type": "dense", "classes": 3}, loss="mse"), "layers[1].type: an mse network (an autoencoder)"),
    (_net({"type": "pool", "size": 4}, loss="mse"), "layers[0]: an mse network reconstructs its input"),
    (_net(CONV1, {"type": "pool", "size": 4}, {"type": "upsample"}), "layers[2].type: the last layer must be dense"),
    (_net(CONV1, loss="l1"), "loss: must be one of xent, mse"),
    ({**_net(CONV1, loss="mse"), "training": {"optimizer": "lbfgs"}}, "training.optimizer: must be one of sgd, adam"),
])
def test_bad_decoder_values_name_their_key(data, message):
    with pytest.raises(ConfigError) as err:
        load_network(data)
    assert str(err.value).startswith(message)


def test_shapes_of_the_builtin_autoencoder():
    cfg = load_network("autoencoder-digits")
    shapes = layer_shapes(cfg)
    assert cfg.loss == "mse" and (shapes[-1].out_channels, shapes[-1].out_size) == (1, 16)
    assert latent_size(cfg) == 16
    assert [s.out_size for s in shapes if s.layer.type == "upsample"] == [8, 16]


@pytest.mark.parametrize("network, message", [
    ("autoencoder-digits", "layers[7].type: the cycle model does not run upsample layers yet"),
    (_net(CONV1, {"type": "act", "kind": "quadratic"}, {"type": "dense", "classes": 2}),
     "layers[1].kind: the cycle model does not run quadratic (frequency-mixing) activations yet"),
    (_net(CONV1, loss="mse"), "loss: the cycle model does not run mse (regression) networks yet"),
    ({**_net(CONV1, {"type": "dense", "classes": 2}), "training": {"optimizer": "adam"}},
     "training.optimizer: the cycle model runs SGD with momentum"),
])
def test_hardware_models_reject_what_they_cannot_run(network, message):
    with pytest.raises(ConfigError) as err:
        require_hardware_support(load_network(network), "the cycle model")
    assert str(err.value).startswith(message)


def test_hardware_models_still_run_the_classifiers():
    for name in ("lenet-digits", "lenet-mnist", "cifar-small"):
        require_hardware_support(load_network(name), "the cycle model")
