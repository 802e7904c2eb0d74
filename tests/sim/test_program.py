"""The instruction set: binary round trip and validation."""
from __future__ import annotations

import dataclasses

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from accel.config import load_accelerator
from accel.program import (
    DESCRIPTOR_WORDS,
    KINDS,
    ROM,
    Act,
    ActFunction,
    Bias,
    Crop,
    Dense,
    DramLoad,
    Fft2d,
    Gemm,
    GemmKind,
    Phase,
    ProgramError,
    Ref,
    Update,
    _fields,  # the layout is the spec of the encoding
    decode,
    encode,
    validate,
)

ACCEL = load_accelerator()


@st.composite
def descriptors(draw):
    kind = draw(st.sampled_from(sorted(KINDS.values(), key=lambda k: k.OPCODE)))
    raw = {name: draw(st.integers(0, (1 << bits) - 1)) for name, bits in _fields(kind)}
    raw["phase"] = draw(st.sampled_from(list(Phase)))
    if "kind" in raw:
        raw["kind"] = draw(st.sampled_from(list(GemmKind)))
    if "function" in raw:
        raw["function"] = draw(st.sampled_from(list(ActFunction)))
    kwargs = {}
    types = {f.name: f.type for f in dataclasses.fields(kind)}
    for name, _ in kind.LAYOUT:
        if types[name] == "Ref":
            kwargs[name] = Ref(raw[f"{name}.buf"], raw[f"{name}.region"], raw[f"{name}.addr"])
        elif types[name] == "bool":
            kwargs[name] = bool(raw[name])
        else:
            kwargs[name] = raw[name]
    return kind(**kwargs)


@given(descriptors())
@settings(max_examples=300, deadline=None)
def test_encode_decode_round_trip(d):
    words = encode(d)
    assert len(words) == DESCRIPTOR_WORDS and all(0 <= w < 2 ** 32 for w in words)
    assert decode(words) == d


def test_encoding_is_positional():
    """Opcode in the low 4 bits, then the fields least significant first."""
    d = DramLoad(3, Phase.BACKWARD_DATA, tensor=5, dst=Ref(1, 2, 3), offset=7, words=9)
    value = sum(w << (32 * i) for i, w in enumerate(encode(d)))
    assert value & 0xF == DramLoad.OPCODE
    assert (value >> 4) & 0xFF == 3 and (value >> 12) & 0x3 == 1 and (value >> 14) & 0xFF == 5
    assert (value >> 22) & 0x7 == 1 and (value >> 25) & 0xFF == 2


def _good() -> list:
    r = Ref(0, 1, 0)
    return [
        DramLoad(0, Phase.FORWARD, 0, r, 0, 16),
        Fft2d(0, Phase.FORWARD, r, Ref(0, 2), 0, 4, 16, 16, 8, False),
        Gemm(0, Phase.FORWARD, GemmKind.CONV, r, Ref(1, 1), Ref(0, 2), 0, 3, 0, 32, 0, 8, 4, False, 7),
        Dense(0, Phase.FORWARD, r, Ref(1, 1), Ref(0, 2), 0, 32, 0, 10, 96, False, False, 3),
        Crop(0, Phase.FORWARD, r, Ref(0, 2), 0, 8, 16, 8, False),
        Act(0, Phase.FORWARD, ActFunction.PWL, r, r, Ref(0, 2), 0, 100, False),
        Update(0, Phase.UPDATE, Ref(1, 1), Ref(1, 2), Ref(2, 1), 0, 100),
        Bias(0, Phase.FORWARD, Ref(0, 1), Ref(1, 1), 0, 32, 0, 8, 8, False, False),
        Act(0, Phase.BACKWARD_DATA, ActFunction.HERMITIAN, r, r, Ref(2, 2), 0, 100, False),
    ]


def test_valid_descriptors_pass():
    for d in _good():
        validate(d, ACCEL)


@pytest.mark.parametrize("d, field", [
    (DramLoad(0, Phase.FORWARD, 0, Ref(0, 1), 0, 0), "words"),
    (DramLoad(0, Phase.FORWARD, 0, Ref(5, 1), 0, 4), "dst.buf"),
    (DramLoad(0, Phase.FORWARD, 0, Ref(ROM, 1), 0, 4), "dst.buf"),
    (DramLoad(0, Phase.FORWARD, 0, Ref(0, 1, 1 << 21), 0, 4), "dst.addr"),
    (DramLoad(0, Phase.FORWARD, 300, Ref(0, 1), 0, 4), "tensor"),
    (Fft2d(0, Phase.FORWARD, Ref(0, 1), Ref(0, 2), 0, 1, 16, 128, 128, False), "size"),
    (Fft2d(0, Phase.FORWARD, Ref(0, 1), Ref(0, 2), 0, 1, 16, 24, 8, False), "size"),
    (Fft2d(0, Phase.FORWARD, Ref(0, 1), Ref(0, 2), 0, 1, 32, 16, 8, False), "n"),
    (Fft2d(0, Phase.FORWARD, Ref(0, 1), Ref(0, 2), 0, 1, 16, 16, 7, False), "keep"),
    (Gemm(0, Phase.FORWARD, GemmKind.CONV, Ref(0, 1), Ref(1, 1), Ref(0, 2), 0, 1, 0, 0, 0, 8, 4, False, 7), "m"),
    (Gemm(0, Phase.FORWARD, GemmKind.CONV, Ref(0, 1), Ref(1, 1), Ref(0, 2), 0, 1, 0, 4, 0, 8, 4, False, 45), "shift"),
    (Gemm(0, Phase.FORWARD, GemmKind.CONV, Ref(0, 1), Ref(1, 1), Ref(ROM, 2), 0, 1, 0, 4, 0, 8, 4, False, 3), "c.buf"),
    (Crop(0, Phase.FORWARD, Ref(0, 1), Ref(0, 2), 0, 8, 16, 16, False), "m"),
    (Crop(0, Phase.FORWARD, Ref(0, 1), Ref(0, 2), 0, 8, 16, 5, False), "m"),
    (Act(0, Phase.FORWARD, ActFunction.SOFTMAX_XENT, Ref(0, 1), Ref(0, 1), Ref(2, 2), 0, 10, False), "backward"),
    (Act(0, Phase.FORWARD, ActFunction.PWL, Ref(0, 1), Ref(0, 1), Ref(2, 2), 0, 0, False), "count"),
    (Update(0, Phase.UPDATE, Ref(1, 1), Ref(1, 2), Ref(2, 1), 0, 0), "count"),
    (Update(0, 9, Ref(1, 1), Ref(1, 2), Ref(2, 1), 0, 1), "phase"),
    (Bias(0, Phase.FORWARD, Ref(0, 1), Ref(1, 1), 0, 32, 0, 0, 8, False, False), "n"),
    (Bias(0, Phase.FORWARD, Ref(0, 1), Ref(1, 1), 0, 32, 0, 8, 3, False, False), "scale"),
    (Bias(0, Phase.WEIGHT_GRADIENT, Ref(0, 1), Ref(ROM, 1), 0, 32, 0, 8, 8, False, True), "b.buf"),
])
def test_validate_rejects(d, field):
    with pytest.raises(ProgramError, match=rf"^{type(d).__name__}\.{field.replace('.', '[.]')}: "):
        validate(d, ACCEL)


def test_decode_rejects_garbage():
    with pytest.raises(ProgramError, match="opcode"):
        decode([0] * DESCRIPTOR_WORDS)
    with pytest.raises(ProgramError, match="words"):
        decode([1, 2])
    words = encode(_good()[0])
    words[-1] |= 1 << 31
    with pytest.raises(ProgramError, match="past its last field"):
        decode(words)
