"""Weight update: SGD with momentum in fixed point.

    v <- mu * v + g
    w <- w - lr * v

Formats (:class:`SgdFormat`):

* weights: ``weight_bits`` mantissas at a fixed exponent ``w_exp`` (per parameter tensor);
* momentum: ``mom_bits`` mantissas (default ``grad_bits + 8`` = 24) at a fixed exponent
  ``v_exp``.  Wider than the gradient because v accumulates about 1 / (1 - mu) gradients
  (mu = 0.9: ~3.3 bits of growth) and small late-training gradients must not vanish
  below v's LSB; :func:`momentum_exponent` picks v_exp from the gradient format;
* mu: unsigned ``mu_frac``-bit fraction ``mu_m * 2**-mu_frac`` (0 <= mu < 1);
* lr: ``lr_m * 2**lr_exp`` with ``lr_m`` a ``const_bits``-bit positive mantissa.  A
  power-of-two lr is simply ``lr_m = 1`` (the multiply is then a shift).

Arithmetic, per real component (complex tensors: re and im independently):

1. ``g`` (mantissas at any exponent ``g_exp``) is aligned to v's LSB:
   ``round_shift(g, v_exp - g_exp)``;
2. ``v' = sat(round_shift(mu_m * v, mu_frac) + g_aligned, mom_bits)``;
3. ``d = round_shift(lr_m * v', w_exp - v_exp - lr_exp)``  (the step in w's LSBs);
4. ``w' = sat(w - d, weight_bits)``.

Right shifts round half-up; a negative shift is an exact left shift.  Saturations are
counted under ("update", "momentum") and ("update", "weight").
"""
from __future__ import annotations

from dataclasses import dataclass
from math import ceil, log2

import numpy as np

from .core import CTensor, Saturations, exponent_for, round_shift, saturate

#: Momentum mantissa width beyond the gradient width: ``mom_bits = grad_bits + 8``.
MOMENTUM_EXTRA_BITS = 8


@dataclass(frozen=True)
class SgdFormat:
    """Fixed-point formats and constants of one parameter tensor's update."""

    weight_bits: int
    w_exp: int
    mom_bits: int
    v_exp: int
    mu_m: int
    mu_frac: int
    lr_m: int
    lr_exp: int

    @property
    def mu(self) -> float:
        return self.mu_m * 2.0 ** (-self.mu_frac)

    @property
    def lr(self) -> float:
        return self.lr_m * 2.0 ** self.lr_exp


def momentum_exponent(g_exp: int, grad_bits: int, mom_bits: int, mu: float) -> int:
    """v's exponent: a full-scale gradient stream (``grad_bits`` at ``g_exp``) summed with
    weight mu fits in ``mom_bits`` with ``ceil(log2(1 / (1 - mu)))`` bits of headroom; the
    remaining extra bits extend v below g's LSB."""
    if not 0 <= mu < 1:
        raise ValueError(f"mu={mu}: expected 0 <= mu < 1")
    headroom = ceil(log2(1.0 / (1.0 - mu))) if mu > 0 else 0
    return g_exp + headroom - (mom_bits - grad_bits)


def sgd_format(lr: float, mu: float, weight_bits: int, w_exp: int, mom_bits: int, v_exp: int,
               const_bits: int = 16) -> SgdFormat:
    """Quantize lr and mu to ``const_bits`` (round half-up) and bundle the formats."""
    if not 0 <= mu < 1:
        raise ValueError(f"mu={mu}: expected 0 <= mu < 1")
    if not lr > 0:
        raise ValueError(f"lr={lr}: expected > 0")
    mu_m = int(np.floor(mu * 2 ** const_bits + 0.5))
    if mu_m >= 1 << const_bits:
        raise ValueError(f"mu={mu}: rounds to 1 at {const_bits} bits")
    # lr_m is a positive const_bits-bit signed mantissa: exponent_for leaves it < 2**(b-1).
    lr_exp = exponent_for(lr, const_bits)
    lr_m = int(np.floor(lr * 2.0 ** (-lr_exp) + 0.5))
    while lr_m % 2 == 0:  # normalize: a power-of-two lr becomes lr_m = 1
        lr_m //= 2
        lr_exp += 1
    return SgdFormat(weight_bits, w_exp, mom_bits, v_exp, mu_m, const_bits, lr_m, lr_exp)


def _align(x: np.ndarray, shift: int, bits: int) -> np.ndarray:
    """``round_shift(x, shift)`` for a result about to be saturated to ``bits``: before a
    left shift, values whose result would leave the ``bits + 1`` range are clamped to just
    past it, so the saturation still sees (and counts) them and int64 cannot overflow."""
    x = np.asarray(x, np.int64)
    if shift < 0:
        if -shift > 40:
            raise ValueError(f"alignment shift {shift}: exponents more than 40 bits apart")
        bound = ((1 << bits) >> -shift) + 1
        x = np.clip(x, -bound, bound)
    return round_shift(x, shift)


def sgd_step(w: np.ndarray, v: np.ndarray, g: np.ndarray, g_exp: int, fmt: SgdFormat,
             sat: Saturations | None = None) -> tuple[np.ndarray, np.ndarray]:
    """One update of real mantissa arrays: returns (w', v') at ``fmt.w_exp``, ``fmt.v_exp``."""
    g_al = _align(g, fmt.v_exp - g_exp, fmt.mom_bits)
    v_new = saturate(round_shift(np.int64(fmt.mu_m) * np.asarray(v, np.int64), fmt.mu_frac) + g_al,
                     fmt.mom_bits, sat, "update", "momentum")
    step = _align(np.int64(fmt.lr_m) * v_new, fmt.w_exp - fmt.v_exp - fmt.lr_exp, fmt.weight_bits)
    w_new = saturate(np.asarray(w, np.int64) - step, fmt.weight_bits, sat, "update", "weight")
    return w_new, v_new


def sgd_step_complex(w: CTensor, v: CTensor, g: CTensor, fmt: SgdFormat,
                     sat: Saturations | None = None) -> tuple[CTensor, CTensor]:
    """One update of complex (half-spectrum) parameters, re and im independently."""
    if w.exp != fmt.w_exp or v.exp != fmt.v_exp:
        raise ValueError(f"exponents: w {w.exp} / v {v.exp} differ from the format's "
                         f"{fmt.w_exp} / {fmt.v_exp}")
    w_re, v_re = sgd_step(w.re, v.re, g.re, g.exp, fmt, sat)
    w_im, v_im = sgd_step(w.im, v.im, g.im, g.exp, fmt, sat)
    return (CTensor(w_re, w_im, fmt.w_exp, fmt.weight_bits),
            CTensor(v_re, v_im, fmt.v_exp, fmt.mom_bits))
