"""accel.spectral against independent references: numpy-loop circular convolution,
scipy.signal.resample, the DFT written out as sums, and adjoint identities."""
import numpy as np
import pytest
import scipy.signal
from hypothesis import given, settings
from hypothesis import strategies as st

from accel.spectral import (
    conv_fd,
    conv_fd_backward_data,
    conv_fd_weight_grad,
    half_inner,
    hermitian_part,
    hermitian_part_of_half,
    mirror,
    sinc_interp,
    sinc_interp_adjoint,
    sinc_interp_adjoint_half,
    sinc_interp_half,
    sinc_matrix,
    spectral_pool,
    spectral_pool_adjoint,
    spectral_pool_adjoint_half,
    spectral_pool_half,
    to_full,
    to_half,
)

RNG = np.random.default_rng(20240601)


def cplx(*shape):
    return RNG.standard_normal(shape) + 1j * RNG.standard_normal(shape)


def circular_conv_loops(x, w):
    """y[p] = sum_q w[q] x[p - q] (mod n), written out."""
    n, k = x.shape[-1], w.shape[-1]
    y = np.zeros(x.shape)
    for p0 in range(n):
        for p1 in range(n):
            for q0 in range(k):
                for q1 in range(k):
                    y[..., p0, p1] += w[q0, q1] * x[..., (p0 - q0) % n, (p1 - q1) % n]
    return y


# ------------------------------------------------------------------ layouts


@pytest.mark.parametrize("n", [4, 5, 8])
def test_half_full_roundtrip_matches_rfft2(n):
    x = RNG.standard_normal((2, 3, n, n))
    assert np.allclose(to_half(np.fft.fft2(x)), np.fft.rfft2(x), atol=1e-12)
    assert np.allclose(to_full(np.fft.rfft2(x), n), np.fft.fft2(x), atol=1e-12)


def test_mirror_and_hermitian_part():
    x = RNG.standard_normal((8, 8))
    X = np.fft.fft2(x)
    assert np.allclose(mirror(X), np.conj(X), atol=1e-12)  # real signal: X[-f] = conj X[f]
    G = cplx(8, 8)
    P = hermitian_part(G)
    assert np.allclose(mirror(P), np.conj(P))
    # Same directional derivative Re<G, D> along every Hermitian D.
    D = np.fft.fft2(RNG.standard_normal((8, 8)))
    assert np.isclose(np.real(np.vdot(D, G)), np.real(np.vdot(D, P)))


def test_hermitian_part_of_half_is_projection_of_zero_extended():
    n = 8
    G = cplx(3, n, n // 2 + 1)
    full = np.zeros((3, n, n), complex)
    full[..., : n // 2 + 1] = G
    expect = 0.5 * (full + np.conj(np.roll(full[..., ::-1, ::-1], 1, axis=(-2, -1))))
    assert np.allclose(hermitian_part_of_half(G, n), expect[..., : n // 2 + 1])


def test_half_inner_equals_full_inner():
    n = 8
    a, b = RNG.standard_normal((2, 2, n, n))
    A, B = np.fft.fft2(a), np.fft.fft2(b)
    assert np.isclose(half_inner(to_half(A), to_half(B), n), np.real(np.vdot(B, A)))


# ------------------------------------------------------------------ pooling


@pytest.mark.parametrize("n,m", [(8, 4), (16, 8), (16, 6), (8, 2), (32, 10), (8, 8)])
def test_spectral_pool_is_scipy_resample(n, m):
    x = RNG.standard_normal((2, 3, n, n))
    ref = scipy.signal.resample(scipy.signal.resample(x, m, axis=-2), m, axis=-1)
    y = np.fft.ifft2(spectral_pool(np.fft.fft2(x), m))
    assert np.allclose(y, ref, atol=1e-12)
    assert np.allclose(to_full(spectral_pool_half(np.fft.rfft2(x), m), m),
                       spectral_pool(np.fft.fft2(x), m), atol=1e-12)


@settings(max_examples=25, deadline=None)
@given(st.sampled_from([4, 8, 16]), st.data())
def test_spectral_pool_adjoint_identity(n, data):
    m = data.draw(st.sampled_from([m for m in range(2, n + 1, 2)]))
    X, Y = cplx(2, n, n), cplx(2, m, m)
    # complex inner product <A, B> = sum A conj(B); the pooling matrix is real.
    lhs = np.vdot(Y, spectral_pool(X, m))
    rhs = np.vdot(spectral_pool_adjoint(Y, n), X)
    assert np.isclose(lhs, rhs)


@pytest.mark.parametrize("n,m", [(8, 4), (16, 6), (8, 8)])
def test_spectral_pool_half_adjoint(n, m):
    X = np.fft.rfft2(RNG.standard_normal((3, n, n)))
    Y = np.fft.rfft2(RNG.standard_normal((3, m, m)))
    lhs = half_inner(spectral_pool_half(X, m), Y, m)
    rhs = half_inner(X, spectral_pool_adjoint_half(Y, n), n)
    assert np.isclose(lhs, rhs)
    assert np.allclose(to_full(spectral_pool_adjoint_half(Y, n), n),
                       spectral_pool_adjoint(to_full(Y, m), n), atol=1e-12)


def test_spectral_pool_rejects_odd_or_larger_sizes():
    with pytest.raises(ValueError):
        spectral_pool(np.zeros((8, 8), complex), 5)
    with pytest.raises(ValueError):
        spectral_pool(np.zeros((8, 8), complex), 10)


# ------------------------------------------------------------------ sinc interpolation


@pytest.mark.parametrize("n,k", [(8, 3), (16, 5), (8, 2), (6, 6)])
def test_sinc_matrix_is_the_dft_sum(n, k):
    u, j, p = np.arange(n)[:, None, None], np.arange(k)[None, :, None], np.arange(k)[None, None, :]
    ref = (np.exp(-2j * np.pi * u * p / n) * np.exp(2j * np.pi * p * j / k) / k).sum(axis=-1)
    assert np.allclose(sinc_matrix(n, k), ref)


@pytest.mark.parametrize("n,k", [(8, 3), (16, 5), (8, 4)])
def test_sinc_weights_are_a_kernel_at_the_origin(n, k):
    w = RNG.standard_normal((k, k))
    S = sinc_matrix(n, k)
    W = S @ np.fft.fft2(w) @ S.T
    kernel = np.zeros((n, n))
    kernel[:k, :k] = w
    assert np.allclose(np.fft.ifft2(W), kernel, atol=1e-12)
    assert np.allclose(sinc_interp(np.fft.fft2(w), n), W)
    assert np.allclose(to_full(sinc_interp_half(np.fft.rfft2(w), n, k), n), W)


@pytest.mark.parametrize("n,k", [(8, 3), (16, 6)])
def test_sinc_interp_adjoint_is_S_hermitian(n, k):
    S = sinc_matrix(n, k)
    G = cplx(n, n)
    assert np.allclose(sinc_interp_adjoint(G, k), S.conj().T @ G @ S.conj())
    Gh = np.fft.fft2(RNG.standard_normal((2, n, n)))
    assert np.allclose(to_full(sinc_interp_adjoint_half(to_half(Gh), k), k), sinc_interp_adjoint(Gh, k))


# ------------------------------------------------------------------ per-bin GEMMs


def test_conv_fd_with_sinc_weights_is_circular_convolution():
    B, Ci, Co, n, k = 2, 3, 2, 8, 3
    x = RNG.standard_normal((B, Ci, n, n))
    w = RNG.standard_normal((Co, Ci, k, k))
    S = sinc_matrix(n, k)
    W = np.einsum("uk,oikl,vl->oiuv", S, np.fft.fft2(w), S)
    y = np.fft.ifft2(conv_fd(np.fft.fft2(x), W))
    ref = np.stack([sum(circular_conv_loops(x[:, i], w[o, i]) for i in range(Ci)) for o in range(Co)], axis=1)
    assert np.allclose(y, ref, atol=1e-12)
    # half spectra: the same per-bin GEMM
    Wh = sinc_interp_half(np.fft.rfft2(w), n, k)
    assert np.allclose(np.fft.irfft2(conv_fd(np.fft.rfft2(x), Wh), s=(n, n)), ref, atol=1e-12)


def test_backward_and_weight_gemms_match_their_sums():
    X, W, G = cplx(4, 3, 5, 3), cplx(2, 3, 5, 3), cplx(4, 2, 5, 3)
    assert np.allclose(conv_fd(X, W), np.einsum("bif,oif->bof", X.reshape(4, 3, -1),
                                                W.reshape(2, 3, -1)).reshape(4, 2, 5, 3))
    assert np.allclose(conv_fd_backward_data(G, W), np.einsum("bohw,oihw->bihw", G, np.conj(W)))
    assert np.allclose(conv_fd_weight_grad(G, X), np.einsum("bohw,bihw->oihw", G, np.conj(X)))
