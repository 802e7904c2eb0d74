"""The golden model against independent references: scipy.signal.convolve2d, central
finite differences, PyTorch autograd; and its own invariants (per-bin propagation,
half == full storage, Hermitian gradients, determinism)."""
import dataclasses

import numpy as np
import pytest
import scipy.signal

from accel.golden import ConvOp, GoldenNet, sgd_momentum, softmax_cross_entropy
from accel.network import layer_shapes, load_network, pwl_table
from accel.spatial_net import SpatialNet, pool_matrix
from accel.spectral import mirror, to_full

# Every layer kind: sinc and full params, circular and zero padding (first layer: the
# image is padded before the input FFT; interior: sinc interpolation 8 -> 16 and 6 -> 8),
# pwl with an even and an odd segment count, spatial ReLU, linear, pooling by whole and
# fractional factors, even and odd kernels.
ALL_KINDS = {
    "name": "all-kinds", "dataset": "random", "input": {"channels": 2, "size": 8},
    "layers": [
        {"type": "conv", "out_channels": 3, "kernel": 3, "padding": "zero"},       # 8 -> 16, sinc
        {"type": "act", "kind": "pwl", "segments": 4},
        {"type": "pool", "size": 8},
        {"type": "conv", "out_channels": 3, "kernel": 2},                          # sinc, circular
        {"type": "act", "kind": "spatial"},
        {"type": "conv", "out_channels": 2, "kernel": 3, "param": "full", "padding": "zero"},  # 8 -> 16
        {"type": "act", "kind": "linear"},
        {"type": "pool", "size": 6},
        {"type": "conv", "out_channels": 2, "kernel": 3, "padding": "zero"},       # 6 -> 8, sinc interp
        {"type": "act", "kind": "pwl", "segments": 5},
        {"type": "conv", "out_channels": 2, "kernel": 3, "param": "full", "bias": False},  # full, circular
        {"type": "pool", "size": 4},
        {"type": "dense", "classes": 3},
    ],
}
SEED = 13


def make(half: bool, seed: int = SEED):
    cfg = load_network(ALL_KINDS)
    net = GoldenNet(cfg, half=half, seed=seed)
    rng = np.random.default_rng(seed + 100)
    for k in sorted(net.params):  # nonzero biases, same in both storages
        if k.endswith("bias") and not k.startswith("dense"):
            net.params[k] = 0.1 * rng.standard_normal(net.params[k].shape)
    x = rng.standard_normal((4, 2, 8, 8))
    y = rng.integers(0, 3, 4)
    return net, x, y


def kink_pattern(traces):
    """Which linear piece every activation input sits on (pwl slopes, ReLU masks): a finite
    difference is exact only if its two evaluations stay on the same pieces."""
    out = []
    for tr in traces:
        if "slopes" in tr.aux:
            out += [tr.aux["slopes"][0], tr.aux["slopes"][1]]
        elif "mask" in tr.aux:
            out.append(tr.aux["mask"])
    return out


def same_pieces(a, b):
    return len(a) == len(b) and all(np.array_equal(p, q) for p, q in zip(a, b))


def hermitian_direction(p, rng):
    """A random Hermitian direction of a full-storage spectral parameter."""
    return np.fft.fft2(rng.standard_normal(p.shape))


# ------------------------------------------------------------------ finite differences


def test_gradients_match_central_finite_differences():
    net, x, y = make(half=False)
    loss, grads, traces = net.loss_and_grads(x, y)
    pattern = kink_pattern(traces)
    assert len(pattern) == 5  # two pwl layers (re, im) and one spatial ReLU
    rng = np.random.default_rng(7)
    h = 1e-6
    assert set(grads) == set(net.params)
    for name, p in net.params.items():
        directions = [hermitian_direction(p, rng) if np.iscomplexobj(p) else rng.standard_normal(p.shape)
                      for _ in range(2)]
        if not np.iscomplexobj(p) and p.size <= 3:  # small real params: every entry too
            directions += [np.eye(p.size)[i].reshape(p.shape) for i in range(p.size)]
        for D in directions:
            analytic = np.real(np.vdot(D, grads[name]))
            net.params[name] = p + h * D
            lp, _, tp = net.loss_and_grads(x, y)
            net.params[name] = p - h * D
            lm, _, tm = net.loss_and_grads(x, y)
            net.params[name] = p
            assert same_pieces(kink_pattern(tp), pattern) and same_pieces(kink_pattern(tm), pattern), \
                f"{name}: the finite difference crosses a kink; pick another seed"
            fd = (lp - lm) / (2 * h)
            assert abs(fd - analytic) <= 1e-6 * max(abs(analytic), 1e-3), (name, fd, analytic)


def test_spatial_reference_gradients_match_finite_differences():
    net = SpatialNet(load_network(ALL_KINDS), seed=SEED)
    rng = np.random.default_rng(1)
    for k in net.params:
        if k.endswith("bias"):
            net.params[k] = 0.1 * rng.standard_normal(net.params[k].shape)
    x, y = rng.standard_normal((3, 2, 8, 8)), rng.integers(0, 3, 3)
    loss, grads, traces = net.loss_and_grads(x, y)
    pattern = kink_pattern(traces)
    h = 1e-6
    for name, p in net.params.items():
        D = rng.standard_normal(p.shape)
        net.params[name] = p + h * D
        lp, _, tp = net.loss_and_grads(x, y)
        net.params[name] = p - h * D
        lm, _, tm = net.loss_and_grads(x, y)
        net.params[name] = p
        assert same_pieces(kink_pattern(tp), pattern) and same_pieces(kink_pattern(tm), pattern), name
        analytic = float(np.sum(D * grads[name]))
        assert abs((lp - lm) / (2 * h) - analytic) <= 1e-6 * max(abs(analytic), 1e-3), name


# ------------------------------------------------------------------ storage and symmetry


def test_half_storage_equals_full_storage():
    full, x, y = make(half=False)
    half, _, _ = make(half=True)
    lf, gf, tf = full.loss_and_grads(x, y)
    lh, gh, th = half.loss_and_grads(x, y)
    assert abs(lf - lh) <= 1e-10 * abs(lf)
    for k in gf:
        a, b = gf[k], gh[k]
        if np.iscomplexobj(a):
            b = to_full(b, a.shape[-1])
        assert np.abs(a - b).max() <= 1e-10 * np.abs(a).max(), k
    # per layer, both phases: outputs and gradients agree too
    for a, b in zip(tf, th):
        if np.iscomplexobj(a.y) and a.y.ndim == 4:
            assert np.allclose(to_full(b.y, a.y.shape[-1]), a.y, atol=1e-9)
        if a.g_in is not None:
            assert np.allclose(to_full(b.g_in, a.g_in.shape[-1]), a.g_in, atol=1e-12)
    # and after updates
    for _ in range(2):
        full.train_step(x, y)
        half.train_step(x, y)
    for k, p in full.params.items():
        q = to_full(half.params[k], p.shape[-1]) if np.iscomplexobj(p) else half.params[k]
        assert np.abs(p - q).max() <= 1e-10 * np.abs(p).max(), k


def test_gradients_are_hermitian_and_updates_keep_real_kernels():
    net, x, y = make(half=False)
    _, grads, traces = net.loss_and_grads(x, y)
    for k, g in grads.items():
        if np.iscomplexobj(g):
            assert np.allclose(mirror(g), np.conj(g), atol=1e-12 * np.abs(g).max()), k
    for tr in traces:
        if tr.g_in is not None and tr.g_in.ndim == 4:
            assert np.allclose(mirror(tr.g_in), np.conj(tr.g_in), atol=1e-12 * np.abs(tr.g_in).max())
    for _ in range(3):
        net.train_step(x, y)
    for k, p in net.params.items():
        if np.iscomplexobj(p):
            assert np.abs(np.fft.ifft2(p).imag).max() < 1e-12 * np.abs(p).max(), k


def test_same_seed_same_numbers():
    a, x, y = make(half=True)
    b, _, _ = make(half=True)
    assert [a.train_step(x, y) for _ in range(2)] == [b.train_step(x, y) for _ in range(2)]
    c, _, _ = make(half=True, seed=SEED + 1)
    assert not np.array_equal(c.params["conv1.weight"], make(half=True)[0].params["conv1.weight"])


# ------------------------------------------------------------------ conv semantics


def _conv_op(n, k, padding, param="sinc", ci=2, co=3, half=False, seed=0):
    cfg = load_network({"input": {"channels": ci, "size": n}, "layers": [
        {"type": "conv", "out_channels": co, "kernel": k, "padding": padding, "param": param},
        {"type": "dense", "classes": 2}]})
    shape = layer_shapes(cfg)[0]
    op = ConvOp(shape, half)
    params = op.init(np.random.default_rng(seed), 1.0)
    params[f"{shape.layer.name}.bias"] = np.arange(1.0, co + 1)
    return op, params, shape


@pytest.mark.parametrize("half", [False, True])
def test_zero_padding_is_linear_convolution(half):
    n, k, N = 8, 3, 16
    op, params, shape = _conv_op(n, k, "zero", half=half)
    x = np.random.default_rng(1).standard_normal((2, 2, n, n))
    V = params["conv1.weight"]
    w = np.fft.irfft2(V, s=(k, k)) if half else np.fft.ifft2(V).real
    bias = params["conv1.bias"]
    ref = np.zeros((2, 3, N, N))
    for b in range(2):
        for o in range(3):
            full = sum(scipy.signal.convolve2d(x[b, i], w[o, i], mode="full") for i in range(2))
            ref[b, o, : n + k - 1, : n + k - 1] = full
    ref += bias[None, :, None, None]  # N^2 b at DC = b on every output pixel
    spec = np.fft.rfft2 if half else np.fft.fft2
    back = (lambda Y: np.fft.irfft2(Y, s=(N, N))) if half else (lambda Y: np.fft.ifft2(Y).real)
    # network input: image zero-padded before the FFT
    Y1, aux1 = op.forward(spec(np.pad(x, ((0, 0), (0, 0), (0, N - n), (0, N - n)))), params)
    assert not aux1["interp"]
    assert np.allclose(back(Y1), ref, atol=1e-12)
    # interior: the n x n spectrum is sinc-interpolated to N first
    Y2, aux2 = op.forward(spec(x), params)
    assert aux2["interp"]
    assert np.allclose(back(Y2), ref, atol=1e-12)


def test_per_bin_propagation():
    """h(uv) = T(uv) g(uv) + delta_uv n^2 b: a Co x Ci matrix per bin, nothing else."""
    op, params, shape = _conv_op(8, 3, "circular", co=3)
    rng = np.random.default_rng(2)
    X = np.fft.fft2(rng.standard_normal((2, 2, 8, 8)))
    Y, aux = op.forward(X, params)
    W, b = aux["W"], params["conv1.bias"]
    for u, v in [(0, 0), (1, 3), (4, 4), (7, 2)]:
        expect = np.einsum("oi,bi->bo", W[:, :, u, v], X[:, :, u, v]) + (64 * b if (u, v) == (0, 0) else 0)
        assert np.allclose(Y[:, :, u, v], expect)
    E = np.zeros_like(X)
    E[:, :, 2, 5] = 1.0 + 2.0j
    change = op.forward(X + E, params)[0] - Y
    mask = np.ones((8, 8), bool)
    mask[2, 5] = False
    assert np.abs(change[..., mask]).max() < 1e-12 and np.abs(change[..., 2, 5]).min() > 0


def test_softmax_and_sgd():
    logits = np.array([[1.0, 2.0, 0.5], [0.0, 0.0, 0.0]])
    loss, g = softmax_cross_entropy(logits, np.array([1, 2]))
    p = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
    assert np.isclose(loss, -(np.log(p[0, 1]) + np.log(p[1, 2])) / 2)
    assert np.allclose(g.sum(axis=1), 0)
    w, v = sgd_momentum(np.array([1.0]), np.array([2.0]), np.array([0.5]), lr=0.1, mu=0.9)
    assert np.allclose(v, 2.3) and np.allclose(w, 1.0 - 0.23)


def test_pool_matrix():
    assert np.allclose(pool_matrix(8, 4), np.kron(np.eye(4), [0.5, 0.5]))
    A = pool_matrix(8, 6)
    assert np.allclose(A.sum(axis=1), 1) and np.allclose(A.sum(axis=0), 6 / 8)


def test_builtin_networks_build_and_step():
    rng = np.random.default_rng(0)
    for name in ("lenet-digits", "lenet-mnist"):
        cfg = load_network(name)
        cfg = dataclasses.replace(cfg, training=dataclasses.replace(cfg.training, batch=4))
        n, c = cfg.input.size, cfg.input.channels
        x, y = rng.standard_normal((4, c, n, n)), rng.integers(0, 10, 4)
        for net in (GoldenNet(cfg), SpatialNet(cfg)):
            assert np.isfinite(net.train_step(x, y))
            assert net.predict(x).shape == (4,)


# ------------------------------------------------------------------ PyTorch autograd


def torch_loss(cfg, kernels, params, x, y):
    """The same network built in torch from real spatial kernels with torch.fft."""
    import torch
    import torch.nn.functional as F

    shapes = layer_shapes(cfg)
    first = shapes[0]
    N0 = first.out_size
    X = torch.fft.fft2(x, s=(N0, N0))
    for s in shapes:
        L = s.layer
        if L.type == "conv":
            N = s.out_size
            if X.shape[-1] != N:
                X = torch.fft.fft2(torch.fft.ifft2(X), s=(N, N))
            W = torch.fft.fft2(kernels[L.name], s=(N, N))
            X = torch.einsum("bihw,oihw->bohw", X, W)
            if L.bias:
                dc = torch.zeros(N, N, dtype=torch.float64)
                dc[0, 0] = N * N
                X = X + params[f"{L.name}.bias"][None, :, None, None] * dc
        elif L.type == "act" and L.kind == "pwl":
            b, sl, ic = (torch.as_tensor(a) for a in pwl_table(L))

            def f(t, b=b, sl=sl, ic=ic):
                seg = torch.searchsorted(b, t.detach().contiguous(), right=True)
                return sl[seg] * t + ic[seg]
            X = torch.complex(f(X.real), f(X.imag))
        elif L.type == "act" and L.kind == "spatial":
            X = torch.fft.fft2(torch.relu(torch.fft.ifft2(X).real))
        elif L.type == "pool":
            n, m = s.in_size, s.out_size
            for dim in (-2, -1):
                lo = X.narrow(dim, 0, m // 2)
                nyq = X.narrow(dim, m // 2, 1) + X.narrow(dim, n - m // 2, 1)
                hi = X.narrow(dim, n - m // 2 + 1, m // 2 - 1)
                X = torch.cat([lo, nyq, hi], dim=dim)
            X = X * (m / n) ** 2
        elif L.type == "dense":
            n = s.in_size
            H = X[..., : n // 2 + 1]
            feats = torch.cat([H.real.reshape(len(H), -1), H.imag.reshape(len(H), -1)], dim=1)
            logits = feats @ params[f"{L.name}.weight"].T + params[f"{L.name}.bias"]
    return F.cross_entropy(logits, y)


def test_gradients_match_torch_autograd():
    torch = pytest.importorskip("torch", reason="PyTorch not installed: autograd cross-check skipped")
    net, x, y = make(half=False)
    cfg = net.cfg
    loss, grads, _ = net.loss_and_grads(x, y)
    kernels, tparams = {}, {}
    for s in net.shapes:
        L = s.layer
        if L.type == "conv":
            w = np.fft.ifft2(net.params[f"{L.name}.weight"])
            assert np.abs(w.imag).max() < 1e-12
            kernels[L.name] = torch.tensor(w.real, requires_grad=True)
    for k, p in net.params.items():
        if not np.iscomplexobj(p):
            tparams[k] = torch.tensor(p, requires_grad=True)
    tl = torch_loss(cfg, kernels, tparams, torch.tensor(x), torch.tensor(y))
    tl.backward()
    assert abs(tl.item() - loss) < 1e-12
    for k, t in tparams.items():
        assert np.allclose(t.grad.numpy(), grads[k], rtol=1e-9, atol=1e-12), k
    for name, t in kernels.items():
        G = grads[f"{name}.weight"]
        size = G.shape[-1]  # k for sinc, N for full
        ours = np.real(size * size * np.fft.ifft2(G))  # dL/dw for V = fft2(w)
        assert np.allclose(t.grad.numpy(), ours, rtol=1e-9, atol=1e-12 * np.abs(ours).max()), name


def test_projection_matches_torch_complex_gradient():
    """The raw PyTorch gradient of complex spectral weights, projected onto Hermitian arrays,
    is the golden model's gradient (here for the full-param layers)."""
    torch = pytest.importorskip("torch", reason="PyTorch not installed: autograd cross-check skipped")
    net, x, y = make(half=False)
    _, grads, traces = net.loss_and_grads(x, y)
    # the last conv (full, circular, no bias) as a complex leaf; the rest from real kernels
    name = "conv5"
    W = torch.tensor(net.params[f"{name}.weight"], requires_grad=True)

    kernels = {}
    for s in net.shapes:
        if s.layer.type == "conv" and s.layer.name != name:
            kernels[s.layer.name] = torch.tensor(np.fft.ifft2(net.params[f"{s.layer.name}.weight"]).real)
    tparams = {k: torch.tensor(p) for k, p in net.params.items() if not np.iscomplexobj(p)}
    # torch.fft.fft2(ifft2(W)) == W: feed the complex leaf through the same code path
    kernels[name] = torch.fft.ifft2(W)
    tl = torch_loss(net.cfg, kernels, tparams, torch.tensor(x), torch.tensor(y))
    tl.backward()
    raw = W.grad.numpy()
    assert not np.allclose(mirror(raw), np.conj(raw))  # not Hermitian: the classifier reads half
    projected = 0.5 * (raw + np.conj(mirror(raw)))
    assert np.allclose(projected, grads[f"{name}.weight"], atol=1e-12 * np.abs(raw).max())
