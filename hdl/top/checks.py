"""What the top can execute: the loader's checks and the decoder's error codes.

Programs are checked before they run (:func:`program_words`: every
:func:`accel.program.validate` rule, plus what the top can execute: kinds, region ids,
operand extents inside their buffers, whole-matrix GEMM blocks); the decoder
(:class:`hdl.top.decoder.Decoder`) also flags what is cheap to check in hardware
(:data:`ERRORS`) and then stops dispatching, so a bad descriptor is never executed.
"""
from __future__ import annotations

from accel.config import AcceleratorConfig
from accel.layout import buffer_words, half_bins, kept_count
from accel.program import (
    ROM,
    WORD_BITS,
    Act,
    ActFunction,
    Crop,
    Descriptor,
    Fft2d,
    Gemm,
    GemmKind,
    Phase,
    Program,
    ProgramError,
    encode,
    validate,
)

from .params import TopParams

#: Decoder error codes (``error_code``), in priority order.
ERRORS = {1: "unsupported opcode", 2: "unsupported kind, function or phase", 3: "buffer index out of range",
          4: "region id out of range", 5: "address past the buffer", 6: "empty work (a size field is 0)",
          7: "shift past the accumulator", 8: "blocked GEMM (m0 or n0 not 0)", 9: "crop or FFT shape not built"}
#: Bits of an error code.
ERROR_BITS = max(ERRORS).bit_length()


def extents(d: Descriptor, p: TopParams) -> list[tuple[str, int]]:
    """(operand, words) of every buffer operand of ``d`` that the top touches."""
    if isinstance(d, Gemm):
        return [("a", d.bins * d.m * d.k), ("b", d.bins * d.k * d.n), ("c", d.bins * d.m * d.n)]
    if isinstance(d, Crop):
        big, small = kept_count(d.n, d.m), half_bins(d.m)
        return [("src", d.count * (small if d.adjoint else big)), ("dst", d.count * (big if d.adjoint else small))]
    if isinstance(d, Fft2d):   # real samples, two per word; the bins a crop to ``keep`` reads
        samples = buffer_words(d.images * d.n * d.n, p.value_bits, p.word_bits, complex_=False)
        return [("src", samples), ("dst", d.images * kept_count(d.size, d.keep))]
    assert isinstance(d, Act)
    out = [("x", d.count), ("y", d.count)]
    return out + [("g", d.count)] if d.backward else out


def _check_kind(d: Descriptor, accel: AcceleratorConfig, p: TopParams) -> None:
    """Reject a kind, function, phase or shape the top has no unit for."""
    if isinstance(d, Gemm):
        if d.kind != GemmKind.CONV or d.phase == Phase.UPDATE:
            raise ProgramError(f"Gemm.kind: the top runs conv GEMMs of the forward, backward-data and "
                               f"weight-gradient phases, got {d.kind.name} ({d.phase.label})")
        if d.m0 or d.n0:
            raise ProgramError(f"Gemm.m0: the top runs whole-matrix GEMMs (m0 = n0 = 0), got {d.m0}, {d.n0}")
    elif isinstance(d, Act):
        if d.function != ActFunction.PWL:
            raise ProgramError(f"Act.function: the top's lanes run PWL, got {d.function.name}")
    elif isinstance(d, Crop):
        if (d.n, d.m) not in p.pools:
            raise ProgramError(f"Crop.n: the top has crop units for {list(p.pools)} (n, m), got ({d.n}, {d.m})")
    elif isinstance(d, Fft2d):
        if d.inverse:
            raise ProgramError("Fft2d.inverse: the top's FFT engines run the forward transform")
        if accel.fft.count != 1:
            raise ProgramError(f"Fft2d: the top builds one FFT engine per shape, fft.count is {accel.fft.count}")
        if (d.size, min(d.keep, d.size)) not in p.ffts:
            raise ProgramError(f"Fft2d.size: the top has FFT engines for {list(p.ffts)} (size, keep), "
                               f"got ({d.size}, {d.keep})")
    else:
        raise ProgramError(f"{type(d).__name__}: not executable by the top (it runs Gemm, Act, Crop and "
                           f"Fft2d descriptors)")


def check_descriptor(d: Descriptor, accel: AcceleratorConfig, p: TopParams) -> None:
    """Reject (ProgramError, naming kind and field) a descriptor this top cannot execute:
    :func:`accel.program.validate`'s rules, then the top's own (kinds, regions, extents)."""
    validate(d, accel)
    _check_kind(d, accel, p)
    kind = type(d).__name__
    for name, words in extents(d, p):
        ref = getattr(d, name)
        if ref.buf == ROM:
            raise ProgramError(f"{kind}.{name}.buf: the top has no coefficient ROM")
        if ref.region >= p.regions:
            raise ProgramError(f"{kind}.{name}.region: {ref.region} is past the scoreboard's {p.regions} regions")
        depth = p.buffers[ref.buf][1]
        if ref.addr + words > depth:
            raise ProgramError(f"{kind}.{name}: words {ref.addr}..{ref.addr + words - 1} are past buffer "
                               f"{p.buffers[ref.buf][0]!r} ({depth} words)")


def beat(d: Descriptor) -> int:
    """The ``desc`` stream beat of ``d``: its encoded words as one int, word 0 in the low bits."""
    return sum(w << (WORD_BITS * j) for j, w in enumerate(encode(d)))


def program_words(program: Program, accel: AcceleratorConfig, p: TopParams) -> list[int]:
    """The program as ``desc`` stream beats (one 256-bit int per descriptor, word 0 in the
    low bits), after :func:`check_descriptor` on every descriptor (ProgramError names the
    first bad one and never returns a partial program)."""
    out = []
    for i, d in enumerate(program.descriptors):
        try:
            check_descriptor(d, accel, p)
        except ProgramError as exc:
            raise ProgramError(f"descriptor {i}: {exc}") from None
        out.append(beat(d))
    return out
