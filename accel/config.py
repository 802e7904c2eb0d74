"""YAML -> frozen dataclasses for the accelerator and the network, strictly checked.

Every problem raises :class:`ConfigError` whose message starts with the dotted key path
(``fft.max_points: must be a power of two, got 48``).  Unknown keys, wrong types,
out-of-range values and values inconsistent with each other are all errors; missing keys
take the defaults of the dataclasses below.  The embedded defaults live in
``accel/configs/`` and are loaded by name.
"""
from __future__ import annotations

import dataclasses
import math
import os
import stat
import types
import typing
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any, Literal, Union

import yaml


class ConfigError(ValueError):
    """A configuration value is missing, unknown, mistyped, out of range or inconsistent."""


# --------------------------------------------------------------------------- schema
# Each dataclass field may carry metadata: "check" (value -> error text or None), and the
# type annotation drives type checking.  Literal[...] lists allowed strings.

def _short(value: Any) -> str:
    """``repr(value)`` for an error message, cut to 60 characters (a value may be a long
    string, or an integer of thousands of digits, which ``repr`` refuses beyond 4300)."""
    if isinstance(value, int) and not isinstance(value, bool) and abs(value) > 10 ** 40:
        return f"{'-' if value < 0 else ''}an integer of {abs(value).bit_length()} bits"
    text = repr(value)
    return text if len(text) <= 60 else f"{text[:57]}..."


def _pow2(v: int) -> str | None:
    return None if v > 0 and v & (v - 1) == 0 else f"must be a power of two, got {_short(v)}"


def _between(lo: float, hi: float):
    def check(v: float) -> str | None:
        return None if lo <= v <= hi else f"must be between {lo} and {hi}, got {_short(v)}"
    return check


def _positive(v: float) -> str | None:
    return None if v > 0 else f"must be positive, got {_short(v)}"


def _nonneg(v: float) -> str | None:
    return None if v >= 0 else f"must be >= 0, got {_short(v)}"


def _even(v: int) -> str | None:
    return None if v > 0 and v % 2 == 0 else f"must be a positive even number, got {_short(v)}"


def _all(*checks):
    def check(v):
        for c in checks:
            msg = c(v)
            if msg:
                return msg
        return None
    return check


def _f(default: Any = dataclasses.MISSING, check=None, **kw) -> Any:
    meta = {"check": check} if check else {}
    if isinstance(default, (list, dict)):
        return field(default_factory=lambda: default, metadata=meta, **kw)
    return field(default=default, metadata=meta, **kw)


# --------------------------------------------------------------------------- accelerator

@dataclass(frozen=True)
class FFTConfig:
    """2-D FFT engines: each a streaming radix-2^2 SDF pipeline of up to ``max_points``."""
    max_points: int = _f(64, _all(_pow2, _between(4, 1024)))
    radix: Literal[2, 4] = 4
    count: int = _f(2, _between(1, 64))


@dataclass(frozen=True)
class MacArrayConfig:
    """rows x cols complex MAC cells (3 real multipliers each), ``acc_bits`` accumulators."""
    rows: int = _f(8, _between(1, 256))
    cols: int = _f(8, _between(1, 256))
    acc_bits: int = _f(40, _between(16, 48))


@dataclass(frozen=True)
class CropBufferConfig:
    """Spectral-pooling crop buffer: ``words`` complex words of storage."""
    words: int = _f(4096, _between(16, 1 << 24))


@dataclass(frozen=True)
class ActivationConfig:
    """Linearized activation unit: ``lanes`` split-complex PWL evaluators of ``segments``."""
    lanes: int = _f(4, _between(1, 256))
    segments: int = _f(8, _between(1, 64))


@dataclass(frozen=True)
class SramConfig:
    """One named on-chip buffer."""
    name: str
    kbytes: float = _f(64, _between(0.25, 1 << 16))
    banks: int = _f(4, _between(1, 256))
    word_bits: int = _f(32, _between(8, 1024))


DramTechnologyName = Literal["lpddr4", "ddr4", "hbm2", "ddr3"]


@dataclass(frozen=True)
class DramConfig:
    """Off-chip memory: bandwidth and latency (the cycle model), technology (energy per bit,
    background power per device and device bandwidth: accel/configs/tables/dram.yaml) or an
    energy per bit given directly (``pj_per_bit`` overrides the technology's)."""
    bytes_per_cycle: float = _f(16, _between(0.125, 4096))
    latency_cycles: int = _f(100, _between(0, 100000))
    technology: DramTechnologyName = "lpddr4"
    pj_per_bit: float | None = _f(None, _positive)


@dataclass(frozen=True)
class FormatsConfig:
    """Mantissa widths (signed, bits) and the rounding of every right shift."""
    data_bits: int = _f(16, _between(4, 32))
    twiddle_bits: int = _f(18, _between(4, 32))
    weight_bits: int = _f(16, _between(4, 32))
    grad_bits: int = _f(16, _between(4, 32))
    rounding: Literal["half_up", "truncate"] = "half_up"


@dataclass(frozen=True)
class EnergyConfig:
    """Energy table: a built-in name, or a file (our YAML table or an Accelergy ERT);
    ``area_file``: an Accelergy ART whose per-instance areas replace the table's."""
    table: str = "default-45nm"
    file: str | None = None
    area_file: str | None = None


DEFAULT_SRAMS: list[dict[str, Any]] = [
    {"name": "act", "kbytes": 128, "banks": 8, "word_bits": 32},
    {"name": "weight", "kbytes": 64, "banks": 4, "word_bits": 32},
    {"name": "grad", "kbytes": 64, "banks": 4, "word_bits": 32},
]


@dataclass(frozen=True)
class AcceleratorConfig:
    name: str = "default"
    clock_mhz: float = _f(200.0, _between(1, 10000))
    fft: FFTConfig = field(default_factory=FFTConfig)
    mac_array: MacArrayConfig = field(default_factory=MacArrayConfig)
    crop_buffer: CropBufferConfig = field(default_factory=CropBufferConfig)
    activation: ActivationConfig = field(default_factory=ActivationConfig)
    sram: tuple[SramConfig, ...] = field(default_factory=lambda: tuple(SramConfig(**s) for s in DEFAULT_SRAMS))
    dram: DramConfig = field(default_factory=DramConfig)
    formats: FormatsConfig = field(default_factory=FormatsConfig)
    energy: EnergyConfig = field(default_factory=EnergyConfig)

    def buffer(self, name: str) -> SramConfig:
        for s in self.sram:
            if s.name == name:
                return s
        raise ConfigError(f"sram: no buffer named {name!r} (have {[s.name for s in self.sram]})")


# --------------------------------------------------------------------------- network

@dataclass(frozen=True)
class InputConfig:
    channels: int = _f(1, _between(1, 4096))
    size: int = _f(16, _all(_pow2, _between(4, 1024)))


Padding = Literal["circular", "zero"]
ActKind = Literal["pwl", "linear", "spatial", "quadratic"]
UpsampleKind = Literal["zeros", "nearest", "spectral"]


@dataclass(frozen=True)
class ConvLayer:
    """Convolution as per-bin complex GEMM.  ``param: sinc`` stores k x k frequency
    coefficients interpolated to n x n; ``full`` learns n x n spectral weights.
    ``padding: zero`` pads the input to the next power of two >= n + k - 1 (linear
    convolution); ``circular`` keeps n (circular convolution)."""
    out_channels: int = _f(8, _between(1, 4096))
    kernel: int = _f(3, _between(1, 1024))
    param: Literal["sinc", "full"] = "sinc"
    padding: Padding = "circular"
    bias: bool = True
    name: str = ""
    type: Literal["conv"] = "conv"


@dataclass(frozen=True)
class ActLayer:
    """Activation.  ``pwl``: odd split-complex piecewise-linear function of ``segments``
    segments (knots on ``knee * tanh(x / knee)`` over [-2 knee, 2 knee], outer slope
    ``leak``); ``linear``: identity; ``spatial``: exact IFFT -> ReLU -> FFT;
    ``quadratic``: ``alpha x + beta (P x)^2`` of the real signal x, computed on spectra as
    ``alpha X + beta / n^2 (PX * PX)`` (a circular autoconvolution of the spectrum, which
    mixes bins), where P keeps the bins with ``|u|, |v| <= band`` (``band: 0``: all)."""
    kind: ActKind = "pwl"
    segments: int = _f(4, _between(1, 64))
    knee: float = _f(4.0, _positive)
    leak: float = _f(0.25, _between(0.0, 1.0))
    alpha: float = _f(1.0, _between(-1e6, 1e6))
    beta: float = _f(0.25, _between(-1e6, 1e6))
    band: int = _f(0, _nonneg)
    name: str = ""
    type: Literal["act"] = "act"


@dataclass(frozen=True)
class PoolLayer:
    """Spectral pooling to ``size`` x ``size`` (even, at most the input size)."""
    size: int = _f(8, _even)
    name: str = ""
    type: Literal["pool"] = "pool"


@dataclass(frozen=True)
class DenseLayer:
    """Classifier over the real and imaginary parts of the last half spectrum."""
    classes: int = _f(10, _between(2, 100000))
    name: str = ""
    type: Literal["dense"] = "dense"


@dataclass(frozen=True)
class UpsampleLayer:
    """Upsampling to ``size`` x ``size``, or by a whole ``factor`` (give one of them;
    neither: ``factor: 2``).  ``zeros``: zero insertion between the samples (the spectrum
    tiles); ``nearest``: each sample repeated ``factor`` x ``factor`` times (zero insertion
    then a box filter: the tiled spectrum times the box's envelope); ``spectral``: the
    spectrum zero-padded (ideal interpolation, ``scipy.signal.resample``; any even size)."""
    kind: UpsampleKind = "spectral"
    size: int | None = _f(None, _even)
    factor: int | None = _f(None, _between(2, 64))
    name: str = ""
    type: Literal["upsample"] = "upsample"


Layer = ConvLayer | ActLayer | PoolLayer | DenseLayer | UpsampleLayer
LAYER_TYPES: dict[str, type] = {"conv": ConvLayer, "act": ActLayer, "pool": PoolLayer, "dense": DenseLayer,
                                "upsample": UpsampleLayer}


@dataclass(frozen=True)
class TrainingConfig:
    """Mini-batch training.  ``optimizer: sgd`` (SGD with ``momentum``, what the hardware
    runs) or ``adam`` (golden model only: Adam with betas (momentum, 0.999))."""
    epochs: int = _f(10, _between(1, 100000))
    batch: int = _f(32, _between(1, 65536))
    lr: float = _f(0.05, _positive)
    momentum: float = _f(0.9, _between(0.0, 0.999))
    optimizer: Literal["sgd", "adam"] = "sgd"
    weight_scale: float = _f(1.0, _positive)
    seed: int = _f(0, _nonneg)


@dataclass(frozen=True)
class NetworkConfig:
    """A network.  ``loss: xent`` (default): a classifier, ending in ``dense``, trained with
    softmax cross-entropy on the labels; ``loss: mse``: an autoencoder, whose target is its
    own input: it ends at the input's shape and is trained with the mean squared pixel
    error, computed on the spectra through Parseval."""
    name: str = "network"
    dataset: Literal["digits", "mnist", "cifar10", "random"] = "digits"
    loss: Literal["xent", "mse"] = "xent"
    input: InputConfig = field(default_factory=InputConfig)
    layers: tuple[Layer, ...] = ()
    training: TrainingConfig = field(default_factory=TrainingConfig)


# --------------------------------------------------------------------------- loading

def _convert(value: Any, tp: Any, path: str) -> Any:
    """Check ``value`` against annotation ``tp`` and convert it (mappings -> dataclasses)."""
    origin = typing.get_origin(tp)
    if origin is Literal:
        allowed = typing.get_args(tp)
        if value not in allowed or isinstance(value, bool):
            raise ConfigError(f"{path}: must be one of {', '.join(map(str, allowed))}, got {_short(value)}")
        return value
    if origin in (Union, types.UnionType):
        args = [a for a in typing.get_args(tp) if a is not type(None)]
        if value is None and len(args) < len(typing.get_args(tp)):
            return None
        if len(args) == 1:
            return _convert(value, args[0], path)
        return value  # layer unions are handled by _layer
    if origin is tuple:
        if not isinstance(value, list):
            raise ConfigError(f"{path}: must be a list, got {type(value).__name__}")
        (item_tp, _) = typing.get_args(tp)
        return tuple(_convert(v, item_tp, f"{path}[{i}]") for i, v in enumerate(value))
    if isinstance(tp, type) and dataclasses.is_dataclass(tp):
        return _build(tp, value, path)
    if tp is bool:
        if not isinstance(value, bool):
            raise ConfigError(f"{path}: must be true or false, got {_short(value)}")
        return value
    if tp is int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise ConfigError(f"{path}: must be an integer, got {_short(value)}")
        return value
    if tp is float:
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise ConfigError(f"{path}: must be a number, got {_short(value)}")
        try:
            number = float(value)
        except OverflowError:            # an integer beyond the float range
            number = math.inf
        if not math.isfinite(number):
            raise ConfigError(f"{path}: must be finite, got {_short(value)}")
        return number
    if tp is str:
        if not isinstance(value, str):
            raise ConfigError(f"{path}: must be a string, got {_short(value)}")
        return value
    raise TypeError(f"unsupported annotation {tp!r} at {path}")


def _build(cls: type, data: Any, path: str) -> Any:
    where = f"{path}: " if path else ""
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise ConfigError(f"{where}must be a mapping, got {type(data).__name__}".strip())
    hints = typing.get_type_hints(cls)
    fields = {f.name: f for f in dataclasses.fields(cls)}
    for key in data:
        if key not in fields:
            known = ", ".join(sorted(fields))
            raise ConfigError(f"{path + '.' if path else ''}{key}: unknown key (known: {known})")
    kwargs = {}
    for name, f in fields.items():
        sub = f"{path}.{name}" if path else name
        if name not in data:
            if f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING:
                raise ConfigError(f"{sub}: required key is missing")
            continue
        if hints[name] is tuple[Layer, ...] or name == "layers" and cls is NetworkConfig:
            value = _layers(data[name], sub)
        else:
            value = _convert(data[name], hints[name], sub)
        check = f.metadata.get("check")
        if check is not None and value is not None:
            msg = check(value)
            if msg:
                raise ConfigError(f"{sub}: {msg}")
        kwargs[name] = value
    return cls(**kwargs)


def field_value(cls: type, name: str, value: Any, path: str) -> Any:
    """``value`` checked as field ``name`` of config dataclass ``cls`` would be in a YAML
    file (type and range), for the command-line options that override one: the options
    and the files share one set of limits.  ConfigError names ``path`` (the option)."""
    f = {f.name: f for f in dataclasses.fields(cls)}[name]
    value = _convert(value, typing.get_type_hints(cls)[name], path)
    check = f.metadata.get("check")
    msg = check(value) if check is not None else None
    if msg:
        raise ConfigError(f"{path}: {msg}")
    return value


def _layers(value: Any, path: str) -> tuple[Layer, ...]:
    if not isinstance(value, list) or not value:
        raise ConfigError(f"{path}: must be a non-empty list of layers")
    out = []
    for i, item in enumerate(value):
        sub = f"{path}[{i}]"
        if not isinstance(item, dict):
            raise ConfigError(f"{sub}: must be a mapping with a 'type', got {_short(item)}")
        kind = item.get("type")
        if not isinstance(kind, str) or kind not in LAYER_TYPES:
            raise ConfigError(f"{sub}.type: must be one of {', '.join(LAYER_TYPES)}, got {_short(kind)}")
        out.append(_build(LAYER_TYPES[kind], item, sub))
    return tuple(out)


#: Deepest nesting of mappings and lists a configuration file may have: the real ones
#: (accelerators, networks, energy tables, Accelergy ERTs) are at most 6 deep.
MAX_YAML_DEPTH = 32
#: Largest configuration file read, in bytes (the real ones are a few KB).
MAX_YAML_BYTES = 16 << 20


class _StrictLoader(yaml.SafeLoader):
    """PyYAML's safe loader that refuses nesting deeper than :data:`MAX_YAML_DEPTH`
    (PyYAML composes recursively: a deep file would exhaust the stack)."""

    depth = 0

    def compose_node(self, parent: Any, index: Any) -> Any:
        self.depth += 1
        try:
            if self.depth > MAX_YAML_DEPTH:
                raise yaml.composer.ComposerError(
                    None, None, f"nested deeper than {MAX_YAML_DEPTH} levels", self.peek_event().start_mark)
            return super().compose_node(parent, index)
        finally:
            self.depth -= 1


def _duplicate_keys(node: yaml.Node, source: str) -> None:
    """ConfigError naming the first key given twice in one mapping of ``node``'s tree
    (PyYAML keeps the last silently); merge keys (``<<``) may repeat what they merge."""
    stack: list[tuple[yaml.Node, str]] = [(node, "")]
    seen_nodes: set[int] = set()
    while stack:
        n, path = stack.pop()
        if id(n) in seen_nodes:          # aliases share nodes, and may form cycles
            continue
        seen_nodes.add(id(n))
        if isinstance(n, yaml.MappingNode):
            marks: dict[tuple[str, str], yaml.Mark] = {}
            for key, value in n.value:
                name = key.value if isinstance(key, yaml.ScalarNode) else "?"
                sub = f"{path}.{name}" if path else str(name)
                if isinstance(key, yaml.ScalarNode) and key.tag != "tag:yaml.org,2002:merge":
                    first, again = marks.get((key.tag, key.value)), key.start_mark
                    if first is not None:
                        where = (f"lines {first.line + 1} and {again.line + 1}" if first.line != again.line else
                                 f"line {again.line + 1}, columns {first.column + 1} and {again.column + 1}")
                        raise ConfigError(f"{sub}: duplicate key in {source} ({where})")
                    marks[(key.tag, key.value)] = again
                stack.append((value, sub))
        elif isinstance(n, yaml.SequenceNode):
            stack.extend((v, f"{path}[{i}]") for i, v in enumerate(n.value))


def parse_yaml(text: str, source: str, what: str) -> Any:
    """Strictly parse one YAML document: malformed YAML, nesting deeper than
    :data:`MAX_YAML_DEPTH` and duplicate keys are ConfigErrors naming ``what`` (the
    kind of file) and ``source`` (where it came from) and the line or key."""
    loader = _StrictLoader(text)
    try:
        node = loader.get_single_node()
        if node is None:
            return None
        _duplicate_keys(node, source)
        return loader.construct_document(node)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        problem = getattr(exc, "problem", None) or "invalid YAML"
        raise ConfigError(f"{what}: malformed YAML in {source}{where}: {problem}") from None
    except ConfigError:
        raise
    except ValueError as exc:            # a scalar Python cannot hold (an integer of > 4300 digits)
        raise ConfigError(f"{what}: unreadable value in {source}: {exc}") from None
    finally:
        loader.dispose()


def read_yaml_file(path: str | Path, what: str) -> Any:
    """The data of a YAML file, strictly (:func:`parse_yaml`): it must be a regular file
    (not a folder, a FIFO or a device: reading those blocks or never ends) of at most
    :data:`MAX_YAML_BYTES`, in UTF-8; every problem is a ConfigError naming ``what``."""
    path = Path(path)
    shown = repr(str(path))
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK)   # a FIFO opens without waiting for a writer
        with open(fd, "rb") as f:
            regular = stat.S_ISREG(os.fstat(fd).st_mode)
            raw = f.read(MAX_YAML_BYTES + 1) if regular else b""
    except (OSError, ValueError) as exc:                    # ValueError: a NUL byte in the name
        raise ConfigError(f"{what}: cannot read {shown}: {getattr(exc, 'strerror', None) or exc}") from None
    if not regular:
        raise ConfigError(f"{what}: {shown} is not a regular file")
    if len(raw) > MAX_YAML_BYTES:
        raise ConfigError(f"{what}: {shown} is larger than {MAX_YAML_BYTES >> 20} MiB; not a configuration file")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ConfigError(f"{what}: {shown} is not UTF-8 text (byte 0x{raw[exc.start]:02x} at offset "
                          f"{exc.start})") from None
    return parse_yaml(text, shown, what)


def _read_yaml(source: str | Path | dict, what: str) -> dict:
    if isinstance(source, dict):
        return source
    data = read_yaml_file(source, what)
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise ConfigError(f"{what}: top level of {str(source)!r} must be a mapping, got {type(data).__name__}")
    return data


def _embedded(kind: str) -> dict[str, Path]:
    folder = resources.files("accel") / "configs" / kind
    return {Path(p.name).stem: Path(str(p)) for p in folder.iterdir() if p.name.endswith(".yaml")}


def builtin_networks() -> list[str]:
    """Names of the embedded networks."""
    return sorted(_embedded("network"))


def builtin_accelerators() -> list[str]:
    """Names of the embedded accelerators."""
    return sorted(_embedded("accelerator"))


def _exists(path: str) -> bool:
    """Whether ``path`` names something on disk; False for names no file can have."""
    try:
        return os.path.lexists(path)
    except (OSError, ValueError):        # too long, or a NUL byte
        return False


def _resolve(source: str | Path | dict | None, kind: str, default: str) -> str | Path | dict:
    if source is None:
        source = default
    if isinstance(source, dict) or Path(str(source)).suffix in (".yaml", ".yml") or _exists(str(source)):
        return source
    known = _embedded(kind)
    if str(source) in known:
        return known[str(source)]
    raise ConfigError(f"{kind}: unknown {kind} {str(source)!r} (built-in: {', '.join(sorted(known))}; "
                      f"or give a path to a YAML file)")


def load_accelerator(source: str | Path | dict | None = None) -> AcceleratorConfig:
    """Load an accelerator by built-in name, YAML path or dict (None: the embedded default)."""
    data = _read_yaml(_resolve(source, "accelerator", "default"), "accelerator")
    cfg = _build(AcceleratorConfig, data, "")
    names = [s.name for s in cfg.sram]
    for i, name in enumerate(names):
        if names.index(name) != i:
            raise ConfigError(f"sram[{i}].name: duplicate buffer name {name!r}")
    if not cfg.sram:
        raise ConfigError("sram: at least one buffer is needed")
    if cfg.activation.segments < 1:
        raise ConfigError("activation.segments: must be >= 1")
    f = cfg.formats
    widest = max(f.data_bits + f.weight_bits, f.grad_bits + f.weight_bits, f.grad_bits + f.data_bits,
                 2 * f.weight_bits) + 1
    if cfg.mac_array.acc_bits < widest:
        raise ConfigError(f"mac_array.acc_bits: must hold one product of the widest operands "
                          f"(formats: {widest} bits), got {cfg.mac_array.acc_bits}")
    if cfg.energy.file is not None and cfg.energy.table != "default-45nm":
        raise ConfigError("energy: give either table or file, not both")
    return cfg


def parse_network(source: str | Path | dict | None = None) -> NetworkConfig:
    """Read a network by built-in name, YAML path or dict (None: lenet-digits) and check it
    against the schema; its layers are named (``conv1``, ``act1``...).  Whether the layers
    fit together is :func:`accel.network.load_network`'s check."""
    data = _read_yaml(_resolve(source, "network", "lenet-digits"), "network")
    cfg = _build(NetworkConfig, data, "")
    if not cfg.layers:
        raise ConfigError("layers: must be a non-empty list of layers")
    return _named(cfg)


def _named(cfg: NetworkConfig) -> NetworkConfig:
    counts: dict[str, int] = {}
    layers = []
    seen = set()
    for i, layer in enumerate(cfg.layers):
        counts[layer.type] = counts.get(layer.type, 0) + 1
        name = layer.name or f"{layer.type}{counts[layer.type]}"
        if name in seen:
            raise ConfigError(f"layers[{i}].name: duplicate layer name {name!r}")
        seen.add(name)
        layers.append(dataclasses.replace(layer, name=name))
    return dataclasses.replace(cfg, layers=tuple(layers))


def as_dict(cfg: Any) -> Any:
    """A config dataclass as plain data (dicts and lists), loadable again by the loaders."""
    def plain(x: Any) -> Any:
        if isinstance(x, dict):
            return {k: plain(v) for k, v in x.items()}
        if isinstance(x, (list, tuple)):
            return [plain(v) for v in x]
        return x

    return plain(dataclasses.asdict(cfg))
