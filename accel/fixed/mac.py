"""Complex MAC array: per-bin complex GEMM in integers, its tiling and its timing.

Forward convolution, backward-data and weight-gradient are all the same operation,
a batch over frequency bins ``f`` of complex matrix products

    C[f, m, n] = sum_k A[f, m, k] * B'[f, k, n],    B' = conj(B) if conj_b else B

    forward          A = X[b, i]   (M=B, K=C_in)   B = W^T[i, o]         conj_b = False
    backward-data    A = G_Y[b, o] (M=B, K=C_out)  B = W[o, i]           conj_b = True
    weight-gradient  A = G_Y^T[o, b] (M=C_out, K=B) B = X[b, i]          conj_b = True

Arithmetic (what ``hdl/cmac.py`` implements, bit for bit):

* operands: ``A`` mantissas of ``A.bits`` bits at exponent ``A.exp``, ``B`` likewise;
* product: exact, with 3 real multipliers.  With A = a + jb and B' = c + jd,
  ``k1 = c (a + b)``, ``k2 = a (d - c)``, ``k3 = b (c + d)``, re = k1 - k3, im = k1 + k2.
  The pre-adds a + b depend on A only (one per array row) and d - c, c + d on B only
  (one pair per array column); conj_b replaces them by -(c + d) and c - d.  The form is
  exact integer arithmetic, so the model computes ac - bd and ad + bc directly;
* accumulation: each real accumulator is ``acc_bits`` wide and saturates at every add,
  ``acc <- clamp(acc + p)`` in order k = 0, 1, ..., K-1 (order matters only once it
  saturates).  Ledger ``("cmac", "acc")`` counts output components (re or im) whose
  accumulator clamped at least once;
* output: ``round_shift(acc, shift)`` (half-up: add half an LSB, arithmetic shift) then
  saturate to ``out_bits``; ledger ``("cmac", "out")`` counts clamped output components.
  Output exponent = ``A.exp + B.exp + shift``.

The shift is a per-tile input: the array cannot look ahead at the accumulator it is about
to produce, so the caller (the scheduler) derives it from the operand widths and a
headroom of ceil(log2 K) bits, see :func:`output_shift`.

Dataflow (output-stationary, operands broadcast): cell (r, c) of a ``rows x cols`` array
owns output ``C[f, m0 + r, n0 + c]`` of one tile.  Every cycle one reduction step k
enters: a column of ``rows`` A operands ``A[f, m0:m0+rows, k]`` (row r broadcast along
array row r) and a row of ``cols`` B operands ``B[f, k, n0:n0+cols]`` (broadcast along
array column c).  After K steps the tile's ``rows x cols`` results leave as one beat
while the next tile already accumulates (the result register double-buffers the
accumulators), so tiles stream with initiation interval K.  Edge tiles are zero padded.
"""
from __future__ import annotations

from dataclasses import dataclass
from math import ceil, log2

import numpy as np

from .core import CTensor, Saturations, int_range, round_shift, saturate

#: Pipeline registers between an operand beat's handshake and its product reaching the
#: accumulator input: operand registers, pre-add registers, multiplier output registers,
#: post-add registers.
CMAC_FILL = 4
#: Cycles from the last accumulate to the result beat: the accumulate register itself,
#: the round/saturate register, the output skid buffer.
CMAC_DRAIN = 3
#: Cycles from the handshake of a tile's last operand beat to its result beat being valid.
CMAC_LATENCY = CMAC_FILL + CMAC_DRAIN


@dataclass(frozen=True)
class CmacTile:
    """One tile of work for the MAC array: ``rows x cols`` outputs of one bin.

    Fields
    ------
    bin : frequency bin (index into the leading axis of A, B, C).
    m0, n0 : first output row / column the tile covers (cell (r, c) -> (m0 + r, n0 + c)).
    k : reduction length, the number of operand beats (>= 1).
    conj_b : conjugate the B operand (backward-data and weight-gradient GEMMs).
    shift : right shift from accumulator to output mantissa (0 <= shift < acc_bits).
    """

    bin: int
    m0: int
    n0: int
    k: int
    conj_b: bool
    shift: int


def output_shift(k: int, a_bits: int, b_bits: int, out_bits: int,
                 headroom_bits: int | None = None) -> int:
    """Accumulator -> output right shift that makes a K-term sum fit ``out_bits``.

    One complex product component is at most ``2**(a_bits + b_bits - 1)`` in magnitude
    (``|ac + bd|`` with a = b = c = d = the most negative mantissa), so it needs
    ``a_bits + b_bits + 1`` signed bits; a sum of K of them needs ``headroom_bits =
    ceil(log2 K)`` more (the default: no output can saturate, rounding included).
    Callers that know the data (e.g. sums that grow like sqrt(K)) may pass less headroom
    to keep more precision; saturation is then counted, not prevented.  The result is
    clamped at 0: the array never shifts left.
    """
    if k < 1:
        raise ValueError(f"k: expected >= 1, got {k}")
    if headroom_bits is None:
        headroom_bits = ceil(log2(k)) if k > 1 else 0
    return max(0, a_bits + b_bits + 1 + headroom_bits - out_bits)


def check_widths(a_bits: int, b_bits: int, acc_bits: int, out_bits: int) -> None:
    """Reject widths the array cannot implement exactly or the int64 model cannot hold."""
    if a_bits + b_bits + 1 > acc_bits:
        raise ValueError(f"acc_bits={acc_bits}: must hold one product, a_bits + b_bits + 1 = "
                         f"{a_bits + b_bits + 1} bits")
    if acc_bits > 48:
        raise ValueError(f"acc_bits={acc_bits}: the int64 model supports at most 48")
    if not 2 <= out_bits <= acc_bits:
        raise ValueError(f"out_bits={out_bits}: expected 2..acc_bits={acc_bits}")


def cmac_gemm(a: CTensor, b: CTensor, conj_b: bool, acc_bits: int, out_bits: int, shift: int,
              sat: Saturations | None = None, rounding: str = "half_up") -> CTensor:
    """Per-bin complex GEMM ``C[f] = A[f] @ B'[f]`` exactly as the MAC array computes it.

    ``a`` has shape (F, M, K), ``b`` (F, K, N) (any leading batch shape works, as long as
    both agree); the result has shape (F, M, N), ``out_bits`` mantissas at exponent
    ``a.exp + b.exp + shift``.  See the module docstring for the arithmetic.
    """
    check_widths(a.bits, b.bits, acc_bits, out_bits)
    if not 0 <= shift < acc_bits:
        raise ValueError(f"shift={shift}: expected 0..{acc_bits - 1}")
    if a.shape[:-2] != b.shape[:-2] or a.shape[-1] != b.shape[-2]:
        raise ValueError(f"shapes do not chain: A {a.shape}, B {b.shape}")
    ar, ai = a.re, a.im
    br, bi = b.re, (-b.im if conj_b else b.im)
    k = a.shape[-1]
    lo, hi = int_range(acc_bits)
    # |product component| <= 2**(a_bits + b_bits - 1): if K of them cannot leave the
    # accumulator range, no partial sum saturates and the exact matmul is the answer.
    bound = k * (1 << (a.bits + b.bits - 1))
    if bound <= hi:
        acc_re = ar @ br - ai @ bi
        acc_im = ar @ bi + ai @ br
        acc_sat = 0
    else:
        shape = a.shape[:-1] + b.shape[-1:]
        acc_re = np.zeros(shape, np.int64)
        acc_im = np.zeros(shape, np.int64)
        hit_re = np.zeros(shape, bool)
        hit_im = np.zeros(shape, bool)
        for j in range(k):
            xr, xi = ar[..., :, j, None], ai[..., :, j, None]
            yr, yi = br[..., None, j, :], bi[..., None, j, :]
            acc_re = acc_re + (xr * yr - xi * yi)
            acc_im = acc_im + (xr * yi + xi * yr)
            hit_re |= (acc_re < lo) | (acc_re > hi)
            hit_im |= (acc_im < lo) | (acc_im > hi)
            acc_re = np.clip(acc_re, lo, hi)
            acc_im = np.clip(acc_im, lo, hi)
        acc_sat = int(np.count_nonzero(hit_re)) + int(np.count_nonzero(hit_im))
    if sat is not None:
        sat.add("cmac", "acc", acc_sat)
    out_re = saturate(round_shift(acc_re, shift, rounding), out_bits, sat, "cmac", "out")
    out_im = saturate(round_shift(acc_im, shift, rounding), out_bits, sat, "cmac", "out")
    return CTensor(out_re, out_im, a.exp + b.exp + shift, out_bits)


def cmac_tiles(bins: int, m: int, n: int, k: int, rows: int, cols: int, conj_b: bool,
               shift: int) -> list[CmacTile]:
    """The tiles of one per-bin GEMM, in the order the array runs them.

    Bin-major, then output row blocks, then output column blocks:
    ``bins * ceil(m / rows) * ceil(n / cols)`` tiles of ``k`` beats each.
    """
    return [CmacTile(f, m0, n0, k, conj_b, shift)
            for f in range(bins) for m0 in range(0, m, rows) for n0 in range(0, n, cols)]


def tile_operands(a: CTensor, b: CTensor, tile: CmacTile, rows: int,
                  cols: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Operand beats of one tile: (a_re, a_im) of shape (k, rows), (b_re, b_im) (k, cols).

    Beat j carries ``A[bin, m0:m0+rows, j]`` and ``B[bin, j, n0:n0+cols]`` (not yet
    conjugated: conjugation happens in the array), zero padded past the matrix edge.
    """
    def block(x: np.ndarray, width: int) -> np.ndarray:
        out = np.zeros((tile.k, width), np.int64)
        out[:, :x.shape[1]] = x
        return out

    f, m0, n0 = tile.bin, tile.m0, tile.n0
    a_re = block(a.re[f, m0:m0 + rows, :].T, rows)
    a_im = block(a.im[f, m0:m0 + rows, :].T, rows)
    b_re = block(b.re[f, :, n0:n0 + cols], cols)
    b_im = block(b.im[f, :, n0:n0 + cols], cols)
    return a_re, a_im, b_re, b_im


def cmac_tile_cycles(k: int) -> int:
    """Cycles of one isolated tile: first operand handshake to result beat valid, inclusive
    of the K operand beats: ``k + CMAC_LATENCY`` (fill, K accumulate steps, drain)."""
    if k < 1:
        raise ValueError(f"k: expected >= 1, got {k}")
    return k + CMAC_LATENCY


def cmac_stream_cycles(tiles: int, k: int) -> int:
    """Cycles of ``tiles`` back-to-back tiles of ``k`` beats with no stalls: the array
    accepts one operand beat per cycle (II = k cycles per tile) and the last result beat
    is valid ``CMAC_LATENCY`` cycles after the last operand beat."""
    if tiles < 1:
        return 0
    return tiles * k + CMAC_LATENCY
