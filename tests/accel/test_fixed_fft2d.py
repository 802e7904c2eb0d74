"""The 2-D FFT engine model against numpy.fft (rfft2 / irfft2), and its work counts."""
from __future__ import annotations

import numpy as np
import pytest

from accel.fixed.core import CTensor, Saturations, quantize, sqnr_db
from accel.fixed.fft import fft_butterflies
from accel.fixed.fft2d import fft2d_butterflies, fft2d_half, fft2d_transforms, ifft2d_half


def _images(rng, shape, bits=16, scale=0.7):
    x = rng.uniform(-scale, scale, shape)
    exp = -(bits - 1)
    return x, CTensor(quantize(x, bits, exp), np.zeros(shape, np.int64), exp, bits)


@pytest.mark.parametrize("n", [8, 16, 64])
def test_forward_matches_rfft2(n):
    rng = np.random.default_rng(n)
    x, xt = _images(rng, (3, 2, n, n))
    sat = Saturations()
    y = fft2d_half(xt, sat=sat)
    assert y.shape == (3, 2, n, n // 2 + 1) and y.exp <= xt.exp + 2 * int(np.log2(n))
    assert sqnr_db(np.fft.rfft2(x), y.value()) > 55
    assert sat.total == 0


@pytest.mark.parametrize("n, m", [(16, 8), (32, 16), (16, 4)])
def test_crop_aware_forward_transforms_only_surviving_columns(n, m):
    rng = np.random.default_rng(m)
    x, xt = _images(rng, (2, n, n))
    y = fft2d_half(xt, keep=m).value()
    ref = np.fft.rfft2(x)
    assert sqnr_db(ref[..., : m // 2 + 1], y[..., : m // 2 + 1]) > 55
    assert not np.any(y[..., m // 2 + 1:])
    assert fft2d_transforms(n, m) == (n, m // 2 + 1)
    assert fft2d_butterflies(n, m) == (n + m // 2 + 1) * (n // 2) * int(np.log2(n))
    assert fft_butterflies(n) == (n // 2) * int(np.log2(n))


@pytest.mark.parametrize("n", [8, 32])
def test_inverse_matches_irfft2_and_round_trips(n):
    rng = np.random.default_rng(7 * n)
    x, xt = _images(rng, (4, n, n))
    spec = np.fft.rfft2(x)
    st = CTensor.from_complex(spec, 16)
    back = ifft2d_half(st)
    assert not back.im.any()
    assert sqnr_db(np.fft.irfft2(spec, s=(n, n)), back.value().real) > 50
    round_trip = ifft2d_half(fft2d_half(xt))       # four 16-bit pipeline passes
    assert sqnr_db(x, round_trip.value().real) > 45
