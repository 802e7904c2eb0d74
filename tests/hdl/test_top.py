"""hdl/top: program validation in the loader and in the RTL decoder (a bad descriptor is
rejected, never executed), Verilog emission."""
from __future__ import annotations

import pytest

from accel.config import ConfigError, load_accelerator
from accel.fixed.top import table_words
from accel.program import (
    ROM,
    Act,
    ActFunction,
    Crop,
    DramLoad,
    Fft2d,
    Gemm,
    GemmKind,
    Phase,
    Program,
    ProgramError,
    Ref,
    encode,
)
from hdl.tools.top_run import simulate_top
from hdl.tools.units import UNITS
from hdl.tools.verilog import verilog
from hdl.top import ERRORS, Top, TopParams, program_words

ACCEL = load_accelerator({"mac_array": {"rows": 2, "cols": 2}, "activation": {"lanes": 2},
                          "sram": [{"name": n, "kbytes": 1, "banks": 64} for n in ("act", "weight", "grad")]})
ACCEL1 = load_accelerator({"fft": {"max_points": 16, "count": 1}, "mac_array": {"rows": 2, "cols": 2},
                           "activation": {"lanes": 2},
                           "sram": [{"name": n, "kbytes": 1, "banks": 64} for n in ("act", "weight", "grad")]})
P = TopParams.from_accel(ACCEL1, regions=8, pools=[(8, 4)], ffts=[(8, 4)])
F = Phase.FORWARD


def _gemm(**kw):
    f = dict(layer=0, phase=F, kind=GemmKind.CONV, a=Ref(0, 1, 0), b=Ref(1, 1, 0), c=Ref(0, 2, 64), bin0=0, bins=2,
             m0=0, m=2, n0=0, n=2, k=3, conj_b=False, shift=4)
    f.update(kw)
    return Gemm(**f)


def _words(*descs, accel=ACCEL1):
    return program_words(Program(tuple(descs), (), ("l",)), accel, P)


@pytest.mark.parametrize("desc, match", [
    (_gemm(kind=GemmKind.SINC_ROWS), "conv GEMMs"),
    (_gemm(a=Ref(ROM, 0, 0)), "coefficient ROM"),
    (_gemm(c=Ref(0, 8, 64)), "past the scoreboard"),
    (_gemm(c=Ref(0, 2, 250)), "past buffer 'act'"),
    (_gemm(m0=2), "whole-matrix"),
    (_gemm(shift=40), "shift"),
    (_gemm(k=0), "k: must be >= 1"),
    (_gemm(a=Ref(3, 1, 0)), "buffer 3 does not exist"),
    (Act(0, F, ActFunction.RELU, Ref(0, 1), Ref(0, 1), Ref(0, 2, 64), 0, 8, False), "PWL"),
    (DramLoad(0, F, 0, Ref(0, 1), 0, 4), "not executable by the top"),
    (Crop(0, F, Ref(0, 1), Ref(0, 2, 128), 0, 2, 16, 8, False), r"crop units for \[\(8, 4\)\]"),
    (Crop(0, F, Ref(0, 1, 240), Ref(0, 2, 128), 0, 2, 8, 4, False), "past buffer 'act'"),
    (Fft2d(0, F, Ref(0, 1), Ref(0, 2, 64), 0, 2, 8, 8, 4, True), "forward transform"),
    (Fft2d(0, F, Ref(0, 1), Ref(0, 2, 64), 0, 2, 16, 16, 16, False), r"FFT engines for \[\(8, 4\)\]"),
])
def test_loader_rejects(desc, match):
    with pytest.raises(ProgramError, match=match):
        _words(_gemm(), desc)


def test_loader_rejects_fft_with_two_engines():
    with pytest.raises(ProgramError, match="fft.count is 2"):
        _words(Fft2d(0, F, Ref(0, 1), Ref(0, 2, 64), 0, 2, 8, 8, 4, False), accel=load_accelerator(
            {"fft": {"max_points": 16, "count": 2}, "mac_array": {"rows": 2, "cols": 2},
             "activation": {"lanes": 2}, "sram": [{"name": n, "kbytes": 1, "banks": 64}
                                                   for n in ("act", "weight", "grad")]}))


@pytest.mark.slow
def test_decoder_flags_and_never_executes():
    """Raw words the loader would refuse: the decoder raises ``error`` with the code, the
    bad descriptor and everything after it are never started; earlier ones complete."""
    good = _gemm()
    cases = {
        1: sum(w << (32 * i) for i, w in enumerate(encode(DramLoad(0, F, 0, Ref(0, 1), 0, 4)))),
        4: sum(w << (32 * i) for i, w in enumerate(encode(_gemm(c=Ref(0, 9, 64))))),
        5: sum(w << (32 * i) for i, w in enumerate(encode(_gemm(c=Ref(0, 2, 300))))),
        8: sum(w << (32 * i) for i, w in enumerate(encode(_gemm(n0=1)))),
        9: sum(w << (32 * i) for i, w in enumerate(encode(Crop(0, F, Ref(0, 1), Ref(0, 2, 128), 0, 2, 16, 8, False)))),
        2: sum(w << (32 * i) for i, w in enumerate(encode(Fft2d(0, F, Ref(0, 1), Ref(0, 2, 64), 0, 2, 8, 8, 4, True)))),
    }
    for code, bad in cases.items():
        words = _words(good) + [bad] + _words(good)
        run = simulate_top(P, words, ["mac", "mac", "mac"], [[1] * 256, [1] * 256, []], [])
        assert run.error == code, ERRORS[code]
        assert len(run.dispatch) == 1 and run.start[0] >= 0 and run.start[1:] == [-1, -1]
        assert run.done[0] > 0


def test_params_reject_mixed_formats():
    bad = load_accelerator({"formats": {"grad_bits": 18}})
    with pytest.raises(ConfigError, match="data_bits == weight_bits == grad_bits"):
        TopParams.from_accel(bad)


@pytest.mark.parametrize("pools, match", [([(8, 3)], r"pools\[0\]: .*even"), ([(8, 4), (8, 4)], "each")])
def test_params_reject_bad_pools(pools, match):
    with pytest.raises(ConfigError, match=match):
        TopParams.from_accel(ACCEL, pools=pools)


@pytest.mark.slow
def test_verilog_registered_and_deterministic():
    assert "top" in UNITS
    assert verilog(Top(P), "top") == verilog(Top(P), "top")


def test_table_words_pad_segments():
    import numpy as np

    from accel.fixed.act import PwlTable
    t = PwlTable(np.array([-5, 5]), np.array([1, 2, 3]), np.array([0, 1, 0]), 16)
    assert table_words(t, 4) == [-5, 5, 65535, 1, 2, 3, 0, 0, 1, 0, 0]


@pytest.mark.parametrize("size, keep", [(4, 4), (8, 4)])
def test_back_to_back_small_ffts(size, keep):
    """Single-image Fft2d descriptors back to back: an engine's results trail its input by
    more than one image interval, so several descriptors owe results at once.  Every
    descriptor's cycles equal the cycle model's and the buffers ``accel.fixed.top``'s."""
    import numpy as np

    from accel.fixed.top import execute
    from accel.layout import pack_complex as pack
    from accel.layout import unpack_complex as unpack
    from fdaccel.agreement import model_times
    accel = load_accelerator({"fft": {"max_points": size, "count": 1}, "mac_array": {"rows": 2, "cols": 2},
                              "activation": {"lanes": 2},
                              "sram": [{"name": n, "kbytes": 1, "banks": 64} for n in ("act", "weight", "grad")]})
    p = TopParams.from_accel(accel, regions=16, pools=[], ffts=[(size, keep)])
    bins = size * (size // 2 + 1) if keep >= size else (keep + 1) * (keep // 2 + 1)
    descs = [Fft2d(0, F, Ref(0, 1 + i, size * size // 2 * i), Ref(1, 8 + i, bins * i), i, 1, size, size, keep, False)
             for i in range(5)]
    program = Program(tuple(descs), (), ("l",))
    rng = np.random.default_rng(size)
    images = [[0] * depth for _, depth in p.buffers]
    samples = rng.integers(-2000, 2000, 5 * size * size)
    images[0][:len(samples) // 2] = [int(w) for w in pack(samples[0::2], samples[1::2], 16)]
    run = simulate_top(p, program_words(program, accel, p), ["fft"] * 5, images, [])
    _, times = model_times(program, accel)
    assert run.error == 0
    for key in ("dispatch", "start", "end", "done"):
        assert getattr(run, key) == times[key], key
    want = execute(descs, [unpack(np.array(im), 16) for im in images], None, 40, 16)
    for b, (re, im) in enumerate(want):
        assert run.images[b] == [int(w) for w in pack(re, im, 16)], f"buffer {b}"
