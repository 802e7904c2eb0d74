"""Fixed-point primitives shared by every unit model: rounding, saturation, block exponents.

A hardware tensor is an integer mantissa array plus one power-of-two exponent
(value = mantissa * 2**exp).  Complex tensors keep real and imaginary mantissas in two
int64 arrays.  Every saturation is counted in a :class:`Saturations` ledger keyed by
(unit, tensor), so that overflow is reported, never silent.  The RTL implements exactly
these operations: ``round_shift`` is an add of half an LSB and an arithmetic right shift,
``saturate`` a clamp to the signed range of ``bits``.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

ROUNDING_MODES = ("half_up", "truncate")


@dataclass
class Saturations:
    """Counts of saturated values, per (unit, tensor)."""

    counts: dict[tuple[str, str], int] = field(default_factory=dict)

    def add(self, unit: str, tensor: str, n: int) -> None:
        if n:
            key = (unit, tensor)
            self.counts[key] = self.counts.get(key, 0) + int(n)

    @property
    def total(self) -> int:
        return sum(self.counts.values())

    def merge(self, other: Saturations) -> None:
        for (unit, tensor), n in other.counts.items():
            self.add(unit, tensor, n)

    def as_dict(self) -> dict[str, int]:
        """``{"unit.tensor": count}``, sorted, for reports and JSON."""
        return {f"{u}.{t}": n for (u, t), n in sorted(self.counts.items())}


def int_range(bits: int) -> tuple[int, int]:
    """Smallest and largest value of a signed two's-complement integer of ``bits`` bits."""
    return -(1 << (bits - 1)), (1 << (bits - 1)) - 1


def round_shift(x: np.ndarray, shift: int, rounding: str = "half_up") -> np.ndarray:
    """Divide by ``2**shift`` as hardware does: add half an LSB (half_up) then shift right.

    A negative ``shift`` is an exact left shift.  Works on int64 arrays; the caller keeps
    magnitudes below 2**62.
    """
    x = np.asarray(x, dtype=np.int64)
    if shift <= 0:
        return x << np.int64(-shift)
    shift = min(shift, 62)  # |x| < 2**61: any larger shift gives the same result
    if rounding == "half_up":
        return (x + np.int64(1 << (shift - 1))) >> np.int64(shift)
    if rounding == "truncate":
        return x >> np.int64(shift)
    raise ValueError(f"rounding: expected one of {ROUNDING_MODES}, got {rounding!r}")


def saturate(x: np.ndarray, bits: int, sat: Saturations | None = None,
             unit: str = "", tensor: str = "") -> np.ndarray:
    """Clamp to the signed range of ``bits`` bits, counting clamped elements in ``sat``."""
    lo, hi = int_range(bits)
    x = np.asarray(x, dtype=np.int64)
    if sat is not None:
        sat.add(unit, tensor, int(np.count_nonzero((x < lo) | (x > hi))))
    return np.clip(x, lo, hi)


def exponent_for(peak: float, bits: int, headroom_bits: int = 0) -> int:
    """Smallest exponent e such that ``peak`` fits in ``bits``-bit mantissas with headroom.

    ``peak / 2**e <= 2**(bits - 1 - headroom_bits) - 1``; a zero peak gives the exponent
    that makes the LSB 2**-(bits-1).
    """
    limit = (1 << (bits - 1 - headroom_bits)) - 1
    if not np.isfinite(peak) or peak <= 0:
        return -(bits - 1)
    e = int(np.ceil(np.log2(peak / limit)))
    while peak / 2.0 ** e > limit:
        e += 1
    while e > -1074 and peak / 2.0 ** (e - 1) <= limit:
        e -= 1
    return e


def quantize(x: np.ndarray, bits: int, exp: int, sat: Saturations | None = None,
             unit: str = "", tensor: str = "", rounding: str = "half_up") -> np.ndarray:
    """Real float array -> ``bits``-bit mantissas at exponent ``exp`` (rounded, saturated)."""
    scaled = np.asarray(x, dtype=np.float64) * 2.0 ** (-exp)
    if rounding == "half_up":
        m = np.floor(scaled + 0.5)
    elif rounding == "truncate":
        m = np.floor(scaled)
    else:
        raise ValueError(f"rounding: expected one of {ROUNDING_MODES}, got {rounding!r}")
    lo, hi = int_range(bits)
    m = np.clip(m, lo - 1, hi + 1).astype(np.int64)
    return saturate(m, bits, sat, unit, tensor)


@dataclass
class CTensor:
    """A complex fixed-point tensor: int64 mantissas ``re`` and ``im``, one exponent.

    ``bits`` is the mantissa width every element fits in (signed).
    """

    re: np.ndarray
    im: np.ndarray
    exp: int
    bits: int

    def __post_init__(self) -> None:
        self.re = np.asarray(self.re, dtype=np.int64)
        self.im = np.asarray(self.im, dtype=np.int64)
        if self.re.shape != self.im.shape:
            raise ValueError(f"re and im shapes differ: {self.re.shape} vs {self.im.shape}")

    @property
    def shape(self) -> tuple[int, ...]:
        return self.re.shape

    def value(self) -> np.ndarray:
        """The complex128 value the mantissas stand for."""
        return (self.re.astype(np.float64) + 1j * self.im.astype(np.float64)) * 2.0 ** self.exp

    @classmethod
    def from_complex(cls, x: np.ndarray, bits: int, exp: int | None = None,
                     sat: Saturations | None = None, unit: str = "", tensor: str = "",
                     rounding: str = "half_up", headroom_bits: int = 0) -> CTensor:
        """Quantize a complex array; with ``exp=None`` choose the exponent from its peak."""
        x = np.asarray(x, dtype=np.complex128)
        if exp is None:
            peak = float(max(np.max(np.abs(x.real), initial=0.0), np.max(np.abs(x.imag), initial=0.0)))
            exp = exponent_for(peak, bits, headroom_bits)
        re = quantize(x.real, bits, exp, sat, unit, tensor, rounding)
        im = quantize(x.imag, bits, exp, sat, unit, tensor, rounding)
        return cls(re, im, exp, bits)

    def __getitem__(self, index) -> CTensor:
        return CTensor(self.re[index], self.im[index], self.exp, self.bits)


def sqnr_db(reference: np.ndarray, test: np.ndarray) -> float:
    """Signal-to-quantization-noise ratio of ``test`` against ``reference``, in dB."""
    reference = np.asarray(reference)
    noise = np.sum(np.abs(np.asarray(test) - reference) ** 2)
    signal = np.sum(np.abs(reference) ** 2)
    if noise == 0:
        return float("inf")
    return float(10.0 * np.log10(signal / noise))
