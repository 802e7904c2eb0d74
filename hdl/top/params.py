"""What a top is built for: :class:`TopParams`, from an accelerator configuration."""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from amaranth.utils import ceil_log2

from accel.config import AcceleratorConfig, ConfigError
from accel.fixed.crop import check_sizes
from accel.layout import buffer_depth
from accel.program import ROM


@dataclass(frozen=True)
class TopParams:
    """What the top is built for: array, lanes, formats, buffers and scoreboard size.

    Parameters
    ----------
    rows, cols : int
        The complex MAC array (:class:`hdl.cmac.ComplexMacArray`).
    lanes, segments : int
        The PWL activation lanes and their table's segments (:class:`hdl.act.PwlActivation`).
    value_bits, acc_bits : int
        Width of one real part (a buffer word holds one complex value: ``2 * value_bits``)
        and of the MAC accumulators.
    rounding : str
        ``"half_up"`` or ``"truncate"``, for every unit that drops bits.
    buffers : tuple of (str, int)
        One on-chip buffer per entry: its name and depth in words.
    regions : int
        Scoreboard regions per buffer (``Ref.region`` below this).
    pools : tuple of (int, int)
        ``(n, m)`` of each crop/pad pair.
    ffts : tuple of (int, int)
        ``(size, keep)`` of each forward 2-D FFT engine.
    twiddle_bits : int
        Twiddle width of the FFT engines.
    """
    rows: int
    cols: int
    lanes: int
    segments: int
    value_bits: int
    acc_bits: int
    rounding: str
    buffers: tuple[tuple[str, int], ...]     # (name, depth in words)
    regions: int
    pools: tuple[tuple[int, int], ...] = ()  # (n, m) of each crop/pad pair
    ffts: tuple[tuple[int, int], ...] = ()   # (size, keep) of each forward 2-D FFT engine
    twiddle_bits: int = 18

    @property
    def word_bits(self) -> int:
        """Bits of a buffer word: one complex value, ``re`` in the low half."""
        return 2 * self.value_bits

    @property
    def addr_bits(self) -> int:
        """Bits of a word address: enough for every buffer's depth (and one past it)."""
        return max(1, ceil_log2(max(d for _, d in self.buffers) + 1))

    @property
    def bank_bits(self) -> int:
        """log2 of the banks per buffer: enough for the widest group of consecutive words
        accessed in one cycle (a MAC result row, a PWL beat)."""
        return ceil_log2(max(self.cols, self.lanes))

    @property
    def shape_bits(self) -> int:
        """Bits that select a crop/pad pair or an FFT engine (``unit_shape``)."""
        return max(1, ceil_log2(max(1, len(self.pools), len(self.ffts))))

    @classmethod
    def from_accel(cls, accel: AcceleratorConfig, regions: int = 64,
                   pools: Sequence[tuple[int, int]] | None = None,
                   ffts: Sequence[tuple[int, int]] | None = None) -> TopParams:
        """The top of ``accel``: one complex value per buffer word, so the data, weight and
        gradient formats must be equal and half the word width (ConfigError otherwise).
        ``pools``: the spectral-pooling shapes ``(n, m)`` it gets a crop and a pad unit for
        (default: the largest transform halved, ``fft.max_points -> max_points / 2``, as
        ``fdaccel verilog``'s ``crop.v`` and ``pad.v``); ``ffts``: the ``(size, keep)`` of
        the forward 2-D FFT engines (``keep == size``: every column; default: one engine of
        ``fft.max_points``, as ``fft2d.v``).  The top builds one engine per shape: it runs
        ``Fft2d`` descriptors when ``fft.count`` is 1."""
        f = accel.formats
        if not f.data_bits == f.weight_bits == f.grad_bits:
            raise ConfigError(f"formats: the top needs data_bits == weight_bits == grad_bits, got "
                              f"{f.data_bits}, {f.weight_bits}, {f.grad_bits}")
        for i, s in enumerate(accel.sram):
            if s.word_bits != 2 * f.data_bits:
                raise ConfigError(f"sram[{i}].word_bits: the top stores one complex value per word "
                                  f"(2 x data_bits = {2 * f.data_bits}), got {s.word_bits}")
        if len(accel.sram) > ROM:
            raise ConfigError(f"sram: at most {ROM} buffers, got {len(accel.sram)}")
        if not 1 <= regions <= 256:
            raise ConfigError(f"regions: expected 1..256, got {regions}")
        n = accel.fft.max_points
        pools = ((n, n // 2),) if pools is None else tuple((int(a), int(b)) for a, b in pools)
        for i, (a, b) in enumerate(pools):
            try:
                check_sizes(a, b)
            except ValueError as exc:
                raise ConfigError(f"pools[{i}]: {exc}") from None
        if len(set(pools)) != len(pools):
            raise ConfigError(f"pools: each (n, m) once, got {list(pools)}")
        ffts = ((n, n),) if ffts is None else tuple((int(a), int(b)) for a, b in ffts)
        for i, (size, keep) in enumerate(ffts):
            if size < 4 or size > n or size & (size - 1):
                raise ConfigError(f"ffts[{i}]: size must be a power of two 4..fft.max_points={n}, got {size}")
            if keep != size and not (2 <= keep < size and keep % 2 == 0):
                raise ConfigError(f"ffts[{i}]: keep must be the size or an even 2..size-2, got {keep}")
        if len(set(ffts)) != len(ffts):
            raise ConfigError(f"ffts: each (size, keep) once, got {list(ffts)}")
        return cls(accel.mac_array.rows, accel.mac_array.cols, accel.activation.lanes, accel.activation.segments,
                   f.data_bits, accel.mac_array.acc_bits, f.rounding,
                   tuple((s.name, buffer_depth(s.kbytes, s.word_bits)) for s in accel.sram), regions, pools,
                   ffts, f.twiddle_bits)
