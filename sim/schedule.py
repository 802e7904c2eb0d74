"""The controller's program for one training iteration: layers x phases as descriptors.

:func:`build_schedule` turns a network and an accelerator into an :class:`accel.program.Program`
in three steps.

1. **Operations.**  The iteration as a list of :class:`Op`, each over a chunkable axis
   (planes, bins, channel pairs or values) with its tensor operands, computing exactly
   what :class:`accel.fixed.net.FixedNet` computes (``sim/values.py`` checks it bit for bit):

   * forward: input FFT (zero padding and crop aware); per conv layer the sinc
     interpolation ``W = S V S^T`` as two passes over the channel pairs (``T = S V`` on the
     kept rows, then ``W = T S^T`` on the kept bins: ``T`` is block-normalized in between,
     so it is a whole tensor, not a per-chunk scratch), the per-bin GEMM ``Y = X W``, then
     the bias epilogue (:class:`~accel.program.Bias`: the MAC array's output stage adds
     ``N^2 b`` to the DC bin, at the GEMM's exponent, before the tensor is normalized);
     PWL activations as their own pass on the lanes (they read the normalized GEMM output,
     so they cannot run in the GEMM's chunks); spectral pooling on the crop unit; spatial
     activations (IFFT -> ReLU -> FFT); the classifier's real GEMM and bias epilogue;
   * backward-data: the loss, the classifier's ``G_Y W`` and its Hermitian projection
     (an activation-lane pass: columns 0 and n/2 summed with their mirrored rows), pooling
     adjoints, activation backward, per-bin ``G_X = G_Y conj(W)`` (not for the first conv:
     nothing upstream needs it) and the zero-padding adjoint;
   * weight-gradient: per-bin ``G_W = G_Y^T conj(X)``, its projection ``G_V = S^H G_W
     conj(S)`` (two passes again: ``S^H G_W`` over the gradient's full Hermitian spectrum,
     whose non-zero rows and columns are the kept ones, then ``conj(S)`` on the k/2+1 half
     columns of ``G_V``), the bias gradients (DC column sums over the batch), the
     classifier's ``G_Y^T X``;
   * update: SGD with momentum on every parameter tensor (sinc kernels in half storage,
     k x (k/2+1) per channel pair; full spectra; biases; the classifier).

   The loss is the one step of the iteration not done in fixed point: ``FixedNet`` takes
   the logits to the host, which computes softmax cross-entropy in float and returns
   ``dL/dlogits`` quantized to ``grad_bits``.  The schedule keeps it as an ``Act``
   descriptor (``SOFTMAX_XENT``) on the activation lanes: its timing and traffic stand for
   moving the logits out and the gradient back (B x classes values each way); the values
   are the host's (``FixedNet.loss_gradient``), not a fixed-point softmax, and the host's
   own compute time is not modelled.

   Crop awareness: a tensor read by a crop (through bin-local layers) is computed only on
   the (m + 1) x (m/2 + 1) bins of its half spectrum the crop reads
   (:func:`accel.fixed.net.read_sizes`, the same rule ``FixedNet`` uses); its gradient is
   zero elsewhere, so the backward GEMMs skip the same bins.

   GEMM shifts are the calibrated :class:`accel.fixed.net.ShiftPlan`'s (the descriptors'
   ``shift`` fields; the RTL sequencer runs the same words), worst case without a plan.

2. **Placement.**  Each buffer's lower half is a resident area: intermediate tensors that
   fit there for their whole lifetime (first-fit in program order) stay on chip.  The
   rest of each buffer is staging.  Parameters, momenta, input images and labels live in
   DRAM; so does every intermediate that does not fit, and such tensors are loaded and
   stored chunk by chunk (a small buffer costs DRAM traffic, not an error).

3. **Tiling.**  Each op is cut into chunks whose staged operands fit half of the staging
   area of every buffer (two slots: the next chunk loads while this one computes), else
   all of it (one slot: loads wait for the previous chunk), splitting a GEMM's output rows
   and columns when one bin does not fit.  A chunk is: DRAM loads of its staged inputs,
   the compute descriptors, DRAM stores of its staged outputs; with two slots the loads of
   chunk c + 1 are issued before the compute of chunk c.  If one bin (one plane, one value)
   of an op does not fit even one slot the accelerator is too small: ConfigError.

The :class:`Schedule` keeps the operations, which operation each descriptor belongs to and
the tensors by name: what ``sim/values.py`` needs to compute every descriptor's values.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from accel.config import AcceleratorConfig, ActLayer, ConfigError, ConvLayer, DenseLayer, NetworkConfig, PoolLayer
from accel.fixed.layers import ShiftPlan
from accel.network import LayerShape, layer_shapes, read_sizes
from accel.program import (
    NO_LAYER,
    ROM,
    Act,
    ActFunction,
    Bias,
    Crop,
    Dense,
    Descriptor,
    DramLoad,
    DramStore,
    Fft2d,
    Gemm,
    GemmKind,
    Phase,
    Program,
    ProgramError,
    Ref,
    TensorInfo,
    Update,
    validate,
)

from .units import Machine
from .units.crop import kept_bins
from .units.fft import half_columns, kept_rows

#: Staging region ids: slot * STAGING_OPERANDS + operand index; resident tensors above.
STAGING_OPERANDS = 8
FIRST_RESIDENT_REGION = 2 * STAGING_OPERANDS
MAX_REGION = 255

F, BD, WG, UP = Phase.FORWARD, Phase.BACKWARD_DATA, Phase.WEIGHT_GRADIENT, Phase.UPDATE


@dataclass(eq=False)
class Tensor:
    """A tensor of the iteration: home buffer, size in values, format."""
    name: str
    buf: int
    values: int
    complex_: bool = True
    bits: int | None = None        # value width, if not the home buffer's
    persistent: bool = False       # lives in DRAM before and after the iteration
    scratch: bool = False          # per-chunk intermediate: staging only, never in DRAM
    param: str = ""                # the accel.fixed.net parameter it holds (persistent parameters)
    resident: bool = False
    region: int = -1
    addr: int = 0
    dram_id: int = -1


@dataclass(eq=False)
class Operand:
    """A tensor an op reads (``r``), writes (``w``) or updates in place (``rw``), with the
    values per unit of the op's axis (GEMMs: ``role`` a/b/c gives them from the block)."""
    tensor: Tensor
    mode: str
    per_unit: int = 0
    role: str = ""
    real: bool = False             # values counted as reals (the classifier's view of a spectrum)

    @property
    def complex_(self) -> bool:
        return self.tensor.complex_ and not self.real


@dataclass(eq=False)
class Op:
    """One operation over ``units`` (planes, bins, pairs, values), chunked at emission.
    ``emit(u0, count, refs, block)`` returns the compute descriptors of one chunk, with
    ``refs`` the buffer operands by operand index and ``block`` (m0, m, n0, n) for GEMMs."""
    layer: int
    phase: Phase
    units: int
    operands: list[Operand]
    emit: Callable[[int, int, list[Ref], tuple[int, int, int, int]], list[Descriptor]]
    gemm: tuple[int, int, int] | None = None        # (M, N, K) per bin
    label: str = ""


@dataclass
class Schedule:
    """A program with what was decided to build it (for reports, tests and the value layer):
    the operations, which operation each descriptor belongs to (-1: a DRAM transfer), the
    tensors by name, and where they were placed."""
    program: Program
    resident: dict[str, str] = field(default_factory=dict)    # tensor -> buffer, if on chip
    in_dram: list[str] = field(default_factory=list)
    ops: list[Op] = field(default_factory=list)
    op_of: list[int] = field(default_factory=list)
    tensors: dict[str, Tensor] = field(default_factory=dict)


def _bins(n: int, keep: int) -> int:
    """Bins of an n x (n/2 + 1) half spectrum read by a crop to ``keep``."""
    return kept_rows(n, keep) * half_columns(keep)


def _log2(n: int) -> int:
    return n.bit_length() - 1


class _Builder:
    def __init__(self, accel: AcceleratorConfig, net: NetworkConfig, batch: int,
                 plan: ShiftPlan | None = None) -> None:
        self.accel, self.net, self.batch = accel, net, batch
        self.shifts = plan if plan is not None else ShiftPlan()
        self.m = Machine(accel)
        self.shapes = layer_shapes(net)
        self.ops: list[Op] = []
        self.f = accel.formats
        self.reads = read_sizes(self.shapes)     # crop size each layer's input is read at
        #: crop size each layer's output is read at (= the bins it is computed on)
        self.out_reads = [self.reads[i + 1] if i + 1 < len(self.shapes) else s.out_size
                          for i, s in enumerate(self.shapes)]
        self.padded: dict[int, Tensor] = {}      # conv layer -> its zero-padded input
        self.weights: dict[int, Tensor] = {}     # conv layer -> its spectral weights W
        self.params: list[tuple[int, Tensor, Tensor, Tensor]] = []   # (layer, param, momentum, grad)
        self.pgrad: dict[str, Tensor] = {}       # parameter tensor -> its gradient
        self.op_of: list[int] = []               # per emitted descriptor: its op (-1: DRAM transfer)
        self._emitted = 0                        # ops emitted so far (they are emitted in order)

    # ------------------------------------------------------------------ tensors
    def tensor(self, name: str, role: str, values: int, **kw: object) -> Tensor:
        return Tensor(name, self.m.buf(role), values, **kw)

    def fft_size(self, size: int, i: int) -> int:
        if size > self.accel.fft.max_points:
            where = f"layers[{i}]" if i != NO_LAYER else "input.size"
            raise ConfigError(f"fft.max_points: the network needs {size}-point transforms ({where}), "
                              f"more than fft.max_points={self.accel.fft.max_points}")
        return size

    # ------------------------------------------------------------------ operations
    def build_ops(self) -> None:
        net, B, shapes = self.net, self.batch, self.shapes
        reads = self.reads
        c0, n0 = net.input.channels, net.input.size
        first = shapes[0]
        # the input spectrum: at the first conv's transform size if it pads, on the bins layer 0 reads
        size0 = first.out_size if isinstance(first.layer, ConvLayer) else n0
        keep0 = self.out_reads[0] if isinstance(first.layer, ConvLayer) else reads[0]
        self.fft_size(size0, NO_LAYER)
        x = self.tensor("x", "act", B * c0 * n0 * n0, complex_=False, persistent=True)
        a = self.tensor("X0", "act", B * c0 * _bins(size0, keep0))
        self.ops.append(Op(NO_LAYER, F, B * c0, [Operand(x, "r", n0 * n0), Operand(a, "w", _bins(size0, keep0))],
                           lambda u0, cnt, r, blk: [Fft2d(NO_LAYER, F, r[0], r[1], u0, cnt, n0, size0,
                                                          min(keep0, size0), False)],
                           label="input-fft"))
        outs: list[Tensor] = []            # forward output of each layer
        inputs: list[Tensor] = []          # forward input of each layer
        spatial: dict[int, Tensor] = {}    # spatial pre-activations (for ReLU backward)
        cur = a
        for i, s in enumerate(shapes):
            layer = s.layer
            inputs.append(cur)
            if isinstance(layer, ConvLayer):
                cur = self.conv_forward(i, s, cur)
            elif isinstance(layer, ActLayer):
                if layer.kind == "pwl":
                    cur = self.pwl_forward(i, s, cur)
                elif layer.kind == "spatial":
                    cur = self.spatial_forward(i, s, cur, spatial)
            elif isinstance(layer, PoolLayer):
                if layer.size < s.in_size:
                    cur = self.pool_forward(i, s, cur)
            elif isinstance(layer, DenseLayer):
                cur = self.dense_forward(i, s, cur)
            outs.append(cur)
        self.backward(inputs, outs, spatial)
        self.updates()

    def shift(self, i: int, gemm: str, k: int, a_bits: int, b_bits: int, out_bits: int) -> int:
        """The plan's accumulator -> output shift of GEMM ``layer.gemm`` (reduction length k
        as accel.fixed.net counts it)."""
        return self.shifts.shift(f"{self.net.layers[i].name}.{gemm}", k, a_bits, b_bits, out_bits)

    def conv_forward(self, i: int, s: LayerShape, x: Tensor) -> Tensor:
        layer: ConvLayer = s.layer
        B, ci, co, k = self.batch, s.in_channels, s.out_channels, layer.kernel
        size = self.fft_size(s.out_size, i)
        kp = self.out_reads[i]
        if size != s.in_size and i > 0:   # zero padding: back to space, pad, forward again
            x = self.resize(i, F, x, s.in_size, s.in_size, s.in_size, size, kp, B * ci, f"Xpad{i}", "pad")
            self.padded[i] = x
        rows, cols = kept_rows(size, kp), half_columns(kp)
        bins = rows * cols
        pairs = ci * co
        wb, db = self.f.weight_bits, self.f.data_bits
        name = layer.name
        if layer.param == "sinc":
            hk = k // 2 + 1
            v = self.tensor(f"V{i}", "weight", pairs * k * hk, persistent=True, param=f"{name}.weight")
            t = self.tensor(f"T{i}", "weight", pairs * rows * k)
            w = self.tensor(f"W{i}", "weight", pairs * bins)
            sh1 = self.shift(i, "weights.sv", k, wb, wb, wb)
            sh2 = self.shift(i, "weights.svst", k, wb, wb, wb)
            self.ops.append(Op(i, F, pairs, [Operand(v, "r", k * hk), Operand(t, "w", rows * k)],
                               lambda u0, cnt, r, blk: [
                                   Gemm(i, F, GemmKind.SINC_ROWS, Ref(ROM, 0), r[0], r[1], u0, cnt, 0, rows, 0, k, k,
                                        False, sh1)], label="sinc-rows"))
            self.ops.append(Op(i, F, pairs, [Operand(t, "r", rows * k), Operand(w, "w", bins)],
                               lambda u0, cnt, r, blk: [
                                   Gemm(i, F, GemmKind.SINC_COLS, r[0], Ref(ROM, 0), r[1], u0, cnt, 0, rows, 0, cols, k,
                                        False, sh2)], label="sinc-cols"))
            self.param(i, v, "weight")
        else:
            w = self.tensor(f"W{i}", "weight", pairs * size * (size // 2 + 1), persistent=True,
                            param=f"{name}.weight")
            self.param(i, w, "weight")
        self.weights[i] = w
        z = self.tensor(f"Z{i}", "act", B * co * bins)
        shift = self.shift(i, "forward", ci, db, wb, db)
        self.ops.append(Op(i, F, bins, [Operand(x, "r", role="a"), Operand(w, "r", role="b"),
                                        Operand(z, "w", role="c")],
                           lambda u0, cnt, r, blk: [Gemm(i, F, GemmKind.CONV, r[0], r[1], r[2], u0, cnt,
                                                         blk[0], blk[1], blk[2], blk[3], ci, False, shift)],
                           gemm=(B, co, ci), label="conv"))
        if layer.bias:
            b = self.tensor(f"b{i}", "weight", co, complex_=False, persistent=True, param=f"{name}.bias")
            self.param(i, b, "bias")
            self.bias_forward(i, z, b, B, co, 2 * _log2(size), False)
        return z

    def bias_forward(self, i: int, y: Tensor, b: Tensor, m: int, n: int, scale: int, real: bool) -> None:
        """The output-stage bias add on the DC bin (bin 0) of a finished GEMM output."""
        self.ops.append(Op(i, F, 1, [Operand(y, "rw", role="c"), Operand(b, "r", role="b")],
                           lambda u0, cnt, r, blk: [Bias(i, F, r[0], r[1], blk[0], blk[1], blk[2], blk[3], scale,
                                                         real, False)],
                           gemm=(m, n, 1), label="bias"))

    def bias_grad(self, i: int, g: Tensor, bias: str, m: int, n: int, scale: int, real: bool) -> None:
        """The gradient of bias tensor ``bias``: column sums of the m batch rows of g's DC bin."""
        gb = self.pgrad[bias]
        self.ops.append(Op(i, WG, 1, [Operand(g, "r", role="b"), Operand(gb, "w", role="c")],
                           lambda u0, cnt, r, blk: [Bias(i, WG, r[0], r[1], 0, m, blk[2], blk[3], scale, real, True)],
                           gemm=(1, n, m), label="bias-grad"))

    def param(self, i: int, p: Tensor, kind: str) -> None:
        """Register parameter ``p`` of layer i: its momentum and gradient tensors."""
        mom = self.tensor(f"M{p.name}", "weight", p.values, complex_=p.complex_, bits=self.m.momentum_bits,
                          persistent=True)
        grad = self.tensor(f"G{p.name}", "grad", p.values, complex_=p.complex_)
        self.params.append((i, p, mom, grad))
        self.pgrad[p.name] = grad

    def resize(self, i: int, phase: Phase, x: Tensor, n_in: int, keep_in: int, n_spatial: int, size_out: int,
               keep_out: int, planes: int, name: str, label: str) -> Tensor:
        """Spectrum of size n_in (read at keep_in) -> space (the n_spatial x n_spatial corner)
        -> spectrum of size_out (computed at keep_out)."""
        out = self.tensor(name, "act" if phase == F else "grad", planes * _bins(size_out, keep_out))
        sp = self.tensor(f"{name}.s", "act" if phase == F else "grad", planes * n_spatial * n_spatial,
                         complex_=False, scratch=True)
        self.fft_size(n_in, i)
        self.ops.append(Op(i, phase, planes, [Operand(x, "r", _bins(n_in, keep_in)),
                                              Operand(sp, "w", n_spatial * n_spatial),
                                              Operand(out, "w", _bins(size_out, keep_out))],
                           lambda u0, cnt, r, blk: [
                               Fft2d(i, phase, r[0], r[1], u0, cnt, n_spatial, n_in, keep_in, True),
                               Fft2d(i, phase, r[1], r[2], u0, cnt, n_spatial, size_out, keep_out, False)],
                           label=label))
        return out

    def pwl_forward(self, i: int, s: LayerShape, x: Tensor) -> Tensor:
        per = _bins(s.in_size, self.out_reads[i])
        planes = self.batch * s.in_channels
        y = self.tensor(f"A{i}", "act", planes * per)
        self.ops.append(Op(i, F, planes * per, [Operand(x, "r", 1), Operand(y, "w", 1)],
                           lambda u0, cnt, r, blk: [Act(i, F, ActFunction.PWL, r[0], r[0], r[1], u0, cnt, False)],
                           label="pwl"))
        return y

    def spatial_forward(self, i: int, s: LayerShape, x: Tensor, spatial: dict) -> Tensor:
        n = self.fft_size(s.in_size, i)
        kp = self.out_reads[i]
        planes = self.batch * s.in_channels
        pre = self.tensor(f"S{i}", "act", planes * n * n, complex_=False)
        post = self.tensor(f"S{i}.relu", "act", planes * n * n, complex_=False, scratch=True)
        y = self.tensor(f"A{i}", "act", planes * _bins(n, kp))
        spatial[i] = pre
        self.ops.append(Op(i, F, planes, [Operand(x, "r", _bins(n, n)), Operand(pre, "w", n * n),
                                          Operand(post, "w", n * n), Operand(y, "w", _bins(n, kp))],
                           lambda u0, cnt, r, blk: [
                               Fft2d(i, F, r[0], r[1], u0, cnt, n, n, n, True),
                               Act(i, F, ActFunction.RELU, r[1], r[1], r[2], u0 * n * n, cnt * n * n, False),
                               Fft2d(i, F, r[2], r[3], u0, cnt, n, n, kp, False)],
                           label="spatial"))
        return y

    def pool_forward(self, i: int, s: LayerShape, x: Tensor) -> Tensor:
        n, m = s.in_size, s.out_size
        if m * (m // 2 + 1) > self.accel.crop_buffer.words:
            raise ConfigError(f"crop_buffer.words: pooling to {m}x{m} (layers[{i}]) needs "
                              f"{m * (m // 2 + 1)} words, have {self.accel.crop_buffer.words}")
        planes = self.batch * s.in_channels
        y = self.tensor(f"P{i}", "act", planes * m * (m // 2 + 1))
        self.ops.append(Op(i, F, planes, [Operand(x, "r", kept_bins(m)), Operand(y, "w", m * (m // 2 + 1))],
                           lambda u0, cnt, r, blk: [Crop(i, F, r[0], r[1], u0, cnt, n, m, False)],
                           label="crop"))
        return y

    def dense_forward(self, i: int, s: LayerShape, x: Tensor) -> Tensor:
        B, classes = self.batch, s.out_channels
        feats = 2 * s.in_channels * s.in_size * (s.in_size // 2 + 1)
        self.dense_features = feats
        name = s.layer.name
        wd = self.tensor(f"Wd{i}", "weight", feats * classes, complex_=False, persistent=True,
                         param=f"{name}.weight")
        self.param(i, wd, "weight")
        logits = self.tensor(f"logits{i}", "act", B * classes, complex_=False)
        d = self.f.data_bits
        sh = self.shift(i, "forward", feats, d, self.f.weight_bits, d)
        self.ops.append(Op(i, F, 1, [Operand(x, "r", role="a", real=True), Operand(wd, "r", role="b"),
                                     Operand(logits, "w", role="c")],
                           lambda u0, cnt, r, blk: [Dense(i, F, r[0], r[1], r[2], blk[0], blk[1], blk[2], blk[3],
                                                          feats, False, False, sh)],
                           gemm=(B, classes, feats), label="dense"))
        bd = self.tensor(f"bd{i}", "weight", classes, complex_=False, persistent=True, param=f"{name}.bias")
        self.param(i, bd, "bias")
        self.bias_forward(i, logits, bd, B, classes, 0, True)
        self.dense_weights = wd
        return logits

    # ------------------------------------------------------------------ backward
    def backward(self, inputs: list[Tensor], outs: list[Tensor], spatial: dict) -> None:
        B, shapes = self.batch, self.shapes
        L = len(shapes)
        wants = [any(isinstance(l, ConvLayer) for l in self.net.layers[:i]) for i in range(L)]
        g: Tensor | None = None
        for i in range(L - 1, -1, -1):
            s = shapes[i]
            layer = s.layer
            x = inputs[i]
            if isinstance(layer, DenseLayer):
                g = self.dense_backward(i, s, x, outs[i], wants[i])
                continue
            if g is None:
                continue
            if isinstance(layer, ActLayer):
                if layer.kind == "pwl":
                    per = _bins(s.in_size, self.out_reads[i])
                    planes = B * s.in_channels
                    gz = self.tensor(f"G{i - 1}", "grad", planes * per)
                    self.ops.append(Op(i, BD, planes * per, [Operand(x, "r", 1), Operand(g, "r", 1),
                                                             Operand(gz, "w", 1)],
                                       lambda u0, cnt, r, blk, i=i: [
                                           Act(i, BD, ActFunction.PWL, r[0], r[1], r[2], u0, cnt, True)],
                                       label="pwl"))
                    g = gz
                elif layer.kind == "spatial":
                    g = self.spatial_backward(i, s, g, spatial[i])
            elif isinstance(layer, PoolLayer):
                if layer.size < s.in_size:
                    n, m = s.in_size, s.out_size
                    planes = B * s.in_channels
                    gi = self.tensor(f"G{i - 1}", "grad", planes * n * (n // 2 + 1))
                    self.ops.append(Op(i, BD, planes, [Operand(g, "r", _bins(m, self.reads[i + 1])),
                                                       Operand(gi, "w", n * (n // 2 + 1))],
                                       lambda u0, cnt, r, blk, i=i, n=n, m=m: [
                                           Crop(i, BD, r[0], r[1], u0, cnt, n, m, True)], label="crop"))
                    g = gi
            elif isinstance(layer, ConvLayer):
                g = self.conv_backward(i, s, g, x, wants[i])

    def dense_backward(self, i: int, s: LayerShape, x: Tensor, logits: Tensor, want: bool) -> Tensor | None:
        """Loss, classifier backward-data (then its Hermitian projection), weight and bias gradients."""
        B, classes, feats = self.batch, s.out_channels, self.dense_features
        labels = self.tensor("labels", "act", B, complex_=False, persistent=True)
        gl = self.tensor(f"glogits{i}", "grad", B * classes, complex_=False)
        self.ops.append(Op(i, BD, B, [Operand(logits, "r", classes), Operand(labels, "r", 1),
                                      Operand(gl, "w", classes)],
                           lambda u0, cnt, r, blk: [
                               Act(i, BD, ActFunction.SOFTMAX_XENT, r[0], r[1], r[2], u0 * classes,
                                   cnt * classes, True)], label="loss"))
        gb, wb, db = self.f.grad_bits, self.f.weight_bits, self.f.data_bits
        wd = self.dense_weights
        g = None
        if want:
            gd = self.tensor(f"GD{i}", "grad", feats // 2 * B)
            sh_bd = self.shift(i, "backward-data", classes, gb, wb, gb)
            self.ops.append(Op(i, BD, 1, [Operand(gl, "r", role="a"), Operand(wd, "r", role="b"),
                                          Operand(gd, "w", role="c", real=True)],
                               lambda u0, cnt, r, blk: [
                                   Dense(i, BD, r[0], r[1], r[2], blk[0], blk[1], blk[2], blk[3], classes,
                                         False, True, sh_bd)],
                               gemm=(B, feats, classes), label="dense"))
            n = s.in_size
            per = n * (n // 2 + 1)
            g = self.tensor(f"G{i - 1}", "grad", B * s.in_channels * per)
            self.ops.append(Op(i, BD, B * s.in_channels, [Operand(gd, "r", per), Operand(g, "w", per)],
                               lambda u0, cnt, r, blk: [
                                   Act(i, BD, ActFunction.HERMITIAN, r[0], r[0], r[1], u0 * per, cnt * per, False)],
                               label="hermitian"))
        sh_wg = self.shift(i, "weight-gradient", B, gb, db, gb)
        self.ops.append(Op(i, WG, 1, [Operand(x, "r", role="a", real=True), Operand(gl, "r", role="b"),
                                      Operand(self.pgrad[wd.name], "w", role="c")],
                           lambda u0, cnt, r, blk: [
                               Dense(i, WG, r[0], r[1], r[2], blk[0], blk[1], blk[2], blk[3], B, True, False, sh_wg)],
                           gemm=(feats, classes, B), label="dense"))
        self.bias_grad(i, gl, f"bd{i}", B, classes, 0, True)
        return g

    def conv_backward(self, i: int, s: LayerShape, g: Tensor, x: Tensor, want: bool) -> Tensor | None:
        layer: ConvLayer = s.layer
        B, ci, co, k = self.batch, s.in_channels, s.out_channels, layer.kernel
        size = s.out_size
        kp = self.out_reads[i]
        rows, cols = kept_rows(size, kp), half_columns(kp)
        bins = rows * cols
        gb, db, wb = self.f.grad_bits, self.f.data_bits, self.f.weight_bits
        w = self.weights[i]
        if size != s.in_size and i > 0:
            x = self.padded[i]
        gx = None
        if want:
            gx = self.tensor(f"GX{i}", "grad", B * ci * bins)
            sh_bd = self.shift(i, "backward-data", co, gb, wb, gb)
            self.ops.append(Op(i, BD, bins, [Operand(g, "r", role="a"), Operand(w, "r", role="b"),
                                             Operand(gx, "w", role="c")],
                               lambda u0, cnt, r, blk: [Gemm(i, BD, GemmKind.CONV, r[0], r[1], r[2], u0, cnt,
                                                             blk[0], blk[1], blk[2], blk[3], co, True, sh_bd)],
                               gemm=(B, ci, co), label="conv"))
            if size != s.in_size:
                gx = self.resize(i, BD, gx, size, kp, s.in_size, s.in_size, s.in_size, B * ci, f"GXr{i}", "unpad")
        sinc = layer.param == "sinc"
        gparam = self.pgrad[self.weights[i].name] if not sinc else self.pgrad[f"V{i}"]
        gw = gparam if not sinc else self.tensor(f"GW{i}", "grad", ci * co * bins)
        sh_wg = self.shift(i, "weight-gradient", B, gb, db, gb)
        self.ops.append(Op(i, WG, bins, [Operand(g, "r", role="a"), Operand(x, "r", role="b"),
                                         Operand(gw, "w", role="c")],
                           lambda u0, cnt, r, blk: [Gemm(i, WG, GemmKind.CONV, r[0], r[1], r[2], u0, cnt,
                                                         blk[0], blk[1], blk[2], blk[3], B, True, sh_wg)],
                           gemm=(co, ci, B), label="conv"))
        if sinc:
            # G_V = S^H G_W conj(S): G_W read as the full Hermitian spectrum, whose non-zero
            # columns are the R = kept-rows columns |v| <= keep/2
            pairs, hk, R = ci * co, k // 2 + 1, rows
            u = self.tensor(f"U{i}", "grad", pairs * k * R)
            sh1 = self.shift(i, "weights-adjoint.shg", size, wb, gb, gb)
            sh2 = self.shift(i, "weights-adjoint.shgs", size, gb, wb, gb)
            self.ops.append(Op(i, WG, pairs, [Operand(gw, "r", bins), Operand(u, "w", k * R)],
                               lambda u0, cnt, r, blk: [
                                   Gemm(i, WG, GemmKind.SINC_ROWS, Ref(ROM, 0), r[0], r[1], u0, cnt, 0, k, 0, R, R,
                                        False, sh1)], label="sinc-rows"))
            self.ops.append(Op(i, WG, pairs, [Operand(u, "r", k * R), Operand(gparam, "w", k * hk)],
                               lambda u0, cnt, r, blk: [
                                   Gemm(i, WG, GemmKind.SINC_COLS, r[0], Ref(ROM, 0), r[1], u0, cnt, 0, k, 0, hk, R,
                                        True, sh2)], label="sinc-cols"))
        if layer.bias:
            self.bias_grad(i, g, f"b{i}", B, co, 2 * _log2(size), False)
        return gx

    def spatial_backward(self, i: int, s: LayerShape, g: Tensor, pre: Tensor) -> Tensor:
        n = s.in_size
        kp = self.out_reads[i]
        planes = self.batch * s.in_channels
        sg = self.tensor(f"S{i}.g", "grad", planes * n * n, complex_=False, scratch=True)
        sm = self.tensor(f"S{i}.gm", "grad", planes * n * n, complex_=False, scratch=True)
        gi = self.tensor(f"G{i - 1}", "grad", planes * _bins(n, n))
        self.ops.append(Op(i, BD, planes, [Operand(g, "r", _bins(n, kp)), Operand(pre, "r", n * n),
                                           Operand(sg, "w", n * n), Operand(sm, "w", n * n),
                                           Operand(gi, "w", _bins(n, n))],
                           lambda u0, cnt, r, blk: [
                               Fft2d(i, BD, r[0], r[2], u0, cnt, n, n, kp, True),
                               Act(i, BD, ActFunction.RELU, r[1], r[2], r[3], u0 * n * n, cnt * n * n, True),
                               Fft2d(i, BD, r[3], r[4], u0, cnt, n, n, n, False)],
                           label="spatial"))
        return gi

    def updates(self) -> None:
        for i, p, v, g in self.params:
            self.ops.append(Op(i, UP, p.values, [Operand(p, "rw", 1), Operand(v, "rw", 1), Operand(g, "r", 1)],
                               lambda u0, cnt, r, blk, i=i: [Update(i, UP, r[0], r[1], r[2], u0, cnt)],
                               label="update"))

    # ------------------------------------------------------------------ placement
    def place(self) -> None:
        """First-fit the intermediate tensors into the resident half of their buffers."""
        first: dict[int, int] = {}
        last: dict[int, int] = {}
        tensors: dict[int, Tensor] = {}
        for k, op in enumerate(self.ops):
            for o in op.operands:
                t = o.tensor
                tensors.setdefault(id(t), t)
                first.setdefault(id(t), k)
                last[id(t)] = k
        live: dict[int, list[tuple[int, int, int]]] = {b: [] for b in range(len(self.m.names))}
        next_region = {b: FIRST_RESIDENT_REGION for b in range(len(self.m.names))}
        for key in sorted(tensors, key=lambda t: first[t]):
            t = tensors[key]
            if t.persistent or t.scratch:
                continue
            b = t.buf
            pool = self.m.capacity[b] // 2
            size = self.m.words(b, t.values, t.complex_, t.bits)
            live[b] = [a for a in live[b] if a[2] >= first[key]]
            addr = 0
            for a0, a_words, _ in sorted(live[b]):
                if a0 - addr >= size:
                    break
                addr = max(addr, a0 + a_words)
            if addr + size <= pool and next_region[b] <= MAX_REGION:
                live[b].append((addr, size, last[key]))
                t.resident, t.addr, t.region = True, addr, next_region[b]
                next_region[b] += 1

    # ------------------------------------------------------------------ tiling and emission
    def emit_all(self) -> Program:
        out: list[Descriptor] = []
        dram: list[Tensor] = []
        for op in self.ops:
            self.emit_op(op, out, dram)
        infos = []
        base = 0
        for t in dram:
            nbytes = self.m.dram_bytes(t.buf, self.m.words(t.buf, t.values, t.complex_, t.bits))
            infos.append(TensorInfo(t.name, base, nbytes))
            base += -(-nbytes // 64) * 64
        return Program(tuple(out), tuple(infos), tuple(l.name for l in self.net.layers))

    def _staged(self, op: Op) -> list[Operand]:
        return [o for o in op.operands if not o.tensor.resident]

    def _per_unit(self, o: Operand, blk: tuple[int, int, int, int], k: int) -> int:
        if not o.role:
            return o.per_unit
        _, mb, _, nb = blk
        return {"a": mb * k, "b": k * nb, "c": mb * nb}[o.role]

    def _fits(self, op: Op, units: int, blk: tuple[int, int, int, int], k: int, slots: int) -> bool:
        need: dict[int, int] = {}
        for o in self._staged(op):
            t = o.tensor
            need[t.buf] = need.get(t.buf, 0) + self.m.words(t.buf, units * self._per_unit(o, blk, k), o.complex_, t.bits)
        return all(w <= self._staging(b) // slots for b, w in need.items())

    def _staging(self, b: int) -> int:
        return self.m.capacity[b] - self.m.capacity[b] // 2

    def plan(self, op: Op) -> tuple[int, int, tuple[int, int, int, int]]:
        """(slots, units per chunk, block) of an op: double buffered if one unit fits half the
        staging, else single; GEMM blocks halve until one bin fits."""
        M, N, K = op.gemm if op.gemm else (1, 1, 0)
        for slots in (2, 1):
            mb, nb = M, N
            while True:
                blk = (0, mb, 0, nb)
                if self._fits(op, 1, blk, K, slots):
                    lo, hi = 1, op.units
                    while lo < hi:
                        mid = (lo + hi + 1) // 2
                        if self._fits(op, mid, blk, K, slots):
                            lo = mid
                        else:
                            hi = mid - 1
                    return slots, lo, blk
                if nb == 1 and mb == 1:
                    break
                if nb >= mb:
                    nb = -(-nb // 2)
                else:
                    mb = -(-mb // 2)
        worst = max(self._staged(op), key=lambda o: self.m.words(o.tensor.buf, self._per_unit(o, (0, 1, 0, 1), K), o.complex_))
        b = worst.tensor.buf
        name = self.net.layers[op.layer].name if op.layer != NO_LAYER else "input"
        raise ConfigError(f"sram[{b}].kbytes: buffer {self.m.names[b]!r} is too small to hold one block of "
                          f"{name} {op.phase.label} ({op.label}); its staging half has {self._staging(b)} words")

    def emit_op(self, op: Op, out: list[Descriptor], dram: list[Tensor]) -> None:
        slots, chunk, blk0 = self.plan(op)
        M, N, K = op.gemm if op.gemm else (1, 1, 0)
        _, mb, _, nb = blk0
        blocks = [(m0, min(mb, M - m0), n0, min(nb, N - n0)) for m0 in range(0, M, mb) for n0 in range(0, N, nb)]
        chunks = [(u0, min(chunk, op.units - u0), blk) for blk in blocks for u0 in range(0, op.units, chunk)]
        staged = self._staged(op)
        # staging layout: per buffer, operands packed in a slot sized for the largest chunk
        offsets: dict[int, int] = {}
        slot_words: dict[int, int] = {}
        for j, o in enumerate(op.operands):
            t = o.tensor
            if t.resident:
                continue
            w = self.m.words(t.buf, chunk * self._per_unit(o, blk0, K), o.complex_, t.bits)
            offsets[j] = slot_words.get(t.buf, 0)
            slot_words[t.buf] = offsets[j] + w
        for o in staged:
            t = o.tensor
            if not t.scratch and t.dram_id < 0:
                t.dram_id = len(dram)
                dram.append(t)

        def refs(c: int, u0: int, blk: tuple[int, int, int, int]) -> list[Ref]:
            s = c % slots
            r = []
            for j, o in enumerate(op.operands):
                t = o.tensor
                if t.resident:
                    first = self._first_value(o, u0, blk, op.gemm)
                    r.append(Ref(t.buf, t.region, t.addr + self.m.words(t.buf, first, o.complex_, t.bits)))
                else:
                    base = self.m.capacity[t.buf] // 2 + s * (self._staging(t.buf) // slots)
                    r.append(Ref(t.buf, s * STAGING_OPERANDS + j, base + offsets[j]))
            return r

        def transfers(c: int, load: bool) -> list[Descriptor]:
            u0, cnt, blk = chunks[c]
            r = refs(c, u0, blk)
            res = []
            for j, o in enumerate(op.operands):
                t = o.tensor
                if t.resident or t.scratch or (load and o.mode == "w") or (not load and o.mode == "r"):
                    continue
                words = self.m.words(t.buf, cnt * self._per_unit(o, blk, K), o.complex_, t.bits)
                if words == 0:
                    continue
                offset = self.m.words(t.buf, self._first_value(o, u0, blk, op.gemm), o.complex_, t.bits)
                kind = DramLoad if load else DramStore
                res.append(kind(op.layer, op.phase, t.dram_id, r[j], offset, words))
            return res

        def compute(c: int) -> list[Descriptor]:
            u0, cnt, blk = chunks[c]
            return op.emit(u0, cnt, refs(c, u0, blk), blk)

        k = self._emitted
        self._emitted += 1

        def add(descs: list[Descriptor], owner: int) -> None:
            out.extend(descs)
            self.op_of.extend([owner] * len(descs))

        if slots == 2:
            add(transfers(0, True), -1)
            for c in range(len(chunks)):
                if c + 1 < len(chunks):
                    add(transfers(c + 1, True), -1)
                add(compute(c), k)
                add(transfers(c, False), -1)
        else:
            for c in range(len(chunks)):
                add(transfers(c, True), -1)
                add(compute(c), k)
                add(transfers(c, False), -1)

    def build(self, what: str) -> Schedule:
        """Operations, placement, emission; every descriptor validated (a ConfigError
        naming the layer, ``what`` prefixing its name) before anything runs."""
        self.build_ops()
        self.place()
        program = self.emit_all()
        for d in program.descriptors:
            try:
                validate(d, self.accel)
            except ProgramError as exc:
                raise ConfigError(f"layers: {what}{program.layer_name(d.layer)} {d.phase.label} does not fit "
                                  f"the instruction set: {exc}") from None
        tensors = {o.tensor.name: o.tensor for op in self.ops for o in op.operands}
        return Schedule(program, {n: self.m.names[t.buf] for n, t in tensors.items() if t.resident},
                        [n for n, t in tensors.items() if t.dram_id >= 0], self.ops, self.op_of, tensors)

    def _first_value(self, o: Operand, u0: int, blk: tuple[int, int, int, int], gemm) -> int:
        """Index of the first value of a chunk's slice of the tensor (bin-major layouts)."""
        if not o.role:
            return u0 * o.per_unit
        M, N, K = gemm
        m0, _, n0, _ = blk
        return {"a": u0 * M * K + m0 * K, "b": u0 * K * N + n0, "c": u0 * M * N + m0 * N + n0}[o.role]


def build_schedule(accel: AcceleratorConfig, net: NetworkConfig, batch: int,
                   plan: ShiftPlan | None = None) -> Schedule:
    """The program of one training iteration (see the module docstring); ConfigError if
    the accelerator cannot run the network, before any simulation work.  The GEMM shifts
    come from ``plan`` (a calibrated :class:`accel.fixed.net.ShiftPlan`; without one, the
    worst-case shift of every GEMM)."""
    if batch < 1:
        raise ConfigError(f"batch: must be >= 1, got {batch}")
    return _Builder(accel, net, batch, plan if plan is not None else ShiftPlan()).build("")


def build_program(accel: AcceleratorConfig, net: NetworkConfig, batch: int,
                  plan: ShiftPlan | None = None) -> Program:
    """The descriptors of one training iteration."""
    return build_schedule(accel, net, batch, plan).program
