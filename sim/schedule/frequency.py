"""The frequency lowering: a network's training iteration in the frequency domain as ops.

The iteration as a list of op kinds (:mod:`sim.schedule.kinds`), each over a chunkable
axis (planes, bins, channel pairs or values), computing exactly what
:class:`accel.fixed.net.FixedNet` computes (``sim/values.py`` checks it bit for bit):

* forward: input FFT (zero padding and crop aware); per conv layer the sinc
  interpolation ``W = S V S^T`` as two passes over the channel pairs (``T = S V`` on the
  kept rows, then ``W = T S^T`` on the kept bins: ``T`` is block-normalized in between,
  so it is a whole tensor, not a per-chunk scratch), the per-bin GEMM ``Y = X W``, then
  the bias epilogue (the MAC array's output stage adds ``N^2 b`` to the DC bin, at the
  GEMM's exponent, before the tensor is normalized); PWL activations as their own pass on
  the lanes (they read the normalized GEMM output, so they cannot run in the GEMM's
  chunks); spectral pooling on the crop unit; spatial activations (IFFT -> ReLU -> FFT);
  the classifier's real GEMM and bias epilogue;
* backward-data: the loss, the classifier's ``G_Y W`` and its Hermitian projection (an
  activation-lane pass: columns 0 and n/2 summed with their mirrored rows), pooling
  adjoints, activation backward, per-bin ``G_X = G_Y conj(W)`` (not for the first conv:
  nothing upstream needs it) and the zero-padding adjoint;
* weight-gradient: per-bin ``G_W = G_Y^T conj(X)``, its projection ``G_V = S^H G_W
  conj(S)`` (two passes again: ``S^H G_W`` over the gradient's full Hermitian spectrum,
  whose non-zero rows and columns are the kept ones, then ``conj(S)`` on the k/2+1 half
  columns of ``G_V``), the bias gradients (DC column sums over the batch), the
  classifier's ``G_Y^T X``;
* update: SGD with momentum on every parameter tensor (sinc kernels in half storage,
  k x (k/2+1) per channel pair; full spectra; biases; the classifier).

The loss is the one step of the iteration not done in fixed point: ``FixedNet`` takes the
logits to the host, which computes softmax cross-entropy in float and returns
``dL/dlogits`` quantized to ``grad_bits``.  The schedule keeps it as an ``Act`` descriptor
(``SOFTMAX_XENT``) on the activation lanes: its timing and traffic stand for moving the
logits out and the gradient back (B x classes values each way); the values are the
host's (``FixedNet.loss_gradient``), not a fixed-point softmax, and the host's own
compute time is not modelled.

Crop awareness: a tensor read by a crop (through bin-local layers) is computed only on the
(m + 1) x (m/2 + 1) bins of its half spectrum the crop reads
(:func:`accel.network.read_sizes`, the same rule ``FixedNet`` uses; the geometry is
:mod:`accel.layout`'s); its gradient is zero elsewhere, so the backward GEMMs skip the
same bins.

GEMM shifts are the calibrated :class:`accel.fixed.layers.ShiftPlan`'s (the descriptors'
``shift`` fields; the RTL sequencer runs the same words), worst case without a plan.
"""
from __future__ import annotations

from math import log2

from accel.config import AcceleratorConfig, ActLayer, ConfigError, ConvLayer, DenseLayer, NetworkConfig, PoolLayer
from accel.fixed.layers import ShiftPlan
from accel.layout import half_bins, half_cols, kept_cols, kept_count, kept_rows
from accel.network import LayerShape, layer_shapes, read_sizes
from accel.program import NO_LAYER, Phase

from ..units import Machine
from .ir import Op, Operand, Tensor
from .kinds import (
    BiasAdd,
    BiasGrad,
    ConvBackwardData,
    ConvForward,
    ConvWeightGradient,
    DenseBackwardData,
    DenseForward,
    DenseWeightGradient,
    Hermitian,
    InputFft,
    Loss,
    Pool,
    Pwl,
    PwlBackward,
    Resize,
    SgdUpdate,
    SincAdjointCols,
    SincAdjointRows,
    SincCols,
    SincRows,
    SpatialAct,
    SpatialActBackward,
    Unpool,
)

F, BD, WG, UP = Phase.FORWARD, Phase.BACKWARD_DATA, Phase.WEIGHT_GRADIENT, Phase.UPDATE


def lower_frequency(accel: AcceleratorConfig, net: NetworkConfig, batch: int, plan: ShiftPlan,
                    machine: Machine) -> list[Op]:
    """The ops of one frequency-domain training iteration of ``net`` (see the module
    docstring), their tensors homed in ``machine``'s buffers, GEMM shifts from ``plan``;
    ConfigError if the accelerator's FFT or crop unit cannot run the network."""
    return _FrequencyLowering(accel, net, batch, plan, machine).lower()


def _log2(n: int) -> int:
    return n.bit_length() - 1


class _FrequencyLowering:
    """The state of one lowering: the ops so far and the tensors later layers refer to."""

    def __init__(self, accel: AcceleratorConfig, net: NetworkConfig, batch: int, plan: ShiftPlan,
                 machine: Machine) -> None:
        self.accel, self.net, self.batch = accel, net, batch
        self.shifts = plan
        self.m = machine
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
        self.dense_weights: Tensor | None = None
        self.dense_features = 0

    # ------------------------------------------------------------------ tensors
    def tensor(self, name: str, role: str, values: int, *, complex_: bool = True, bits: int | None = None,
               persistent: bool = False, scratch: bool = False, param: str = "") -> Tensor:
        return Tensor(name=name, buf=self.m.buf(role), values=values, complex_=complex_, bits=bits,
                      persistent=persistent, scratch=scratch, param=param)

    def fft_size(self, size: int, i: int) -> int:
        if size > self.accel.fft.max_points:
            where = f"layers[{i}]" if i != NO_LAYER else "input.size"
            raise ConfigError(f"fft.max_points: the network needs {size}-point transforms ({where}), "
                              f"more than fft.max_points={self.accel.fft.max_points}")
        return size

    def shift(self, i: int, gemm: str, k: int, a_bits: int, b_bits: int, out_bits: int) -> int:
        """The plan's accumulator -> output shift of GEMM ``layer.gemm`` (reduction length k
        as accel.fixed.net counts it)."""
        return self.shifts.shift(f"{self.net.layers[i].name}.{gemm}", k, a_bits, b_bits, out_bits)

    def param(self, i: int, p: Tensor) -> None:
        """Register parameter ``p`` of layer i: its momentum and gradient tensors."""
        mom = self.tensor(f"M{p.name}", "weight", p.values, complex_=p.complex_, bits=self.m.momentum_bits,
                          persistent=True)
        grad = self.tensor(f"G{p.name}", "grad", p.values, complex_=p.complex_)
        self.params.append((i, p, mom, grad))
        self.pgrad[p.name] = grad

    # ------------------------------------------------------------------ the iteration
    def lower(self) -> list[Op]:
        net, B, shapes = self.net, self.batch, self.shapes
        c0, n0 = net.input.channels, net.input.size
        first = shapes[0]
        # the input spectrum: at the first conv's transform size if it pads, on the bins layer 0 reads
        size0 = first.out_size if isinstance(first.layer, ConvLayer) else n0
        keep0 = self.out_reads[0] if isinstance(first.layer, ConvLayer) else self.reads[0]
        self.fft_size(size0, NO_LAYER)
        x = self.tensor("x", "act", B * c0 * n0 * n0, complex_=False, persistent=True)
        a = self.tensor("X0", "act", B * c0 * kept_count(size0, keep0))
        self.ops.append(InputFft(layer=NO_LAYER, phase=F, units=B * c0, images=Operand(x, "r", n0 * n0),
                                 spectra=Operand(a, "w", kept_count(size0, keep0)), n=n0, size=size0, keep=keep0))
        outs: list[Tensor] = []            # forward output of each layer
        inputs: list[Tensor] = []          # forward input of each layer
        spatial: dict[int, Tensor] = {}    # spatial pre-activations (for ReLU backward)
        cur = a
        for i, s in enumerate(shapes):
            layer = s.layer
            inputs.append(cur)
            if isinstance(layer, ConvLayer):
                cur = self.conv_forward(i, s, layer, cur)
            elif isinstance(layer, ActLayer):
                if layer.kind == "pwl":
                    cur = self.pwl_forward(i, s, layer, cur)
                elif layer.kind == "spatial":
                    cur = self.spatial_forward(i, s, cur, spatial)
            elif isinstance(layer, PoolLayer):
                if layer.size < s.in_size:
                    cur = self.pool_forward(i, s, cur)
            elif isinstance(layer, DenseLayer):
                cur = self.dense_forward(i, s, cur)
            outs.append(cur)
        self.backward(inputs, outs, spatial)
        for i, p, v, g in self.params:
            self.ops.append(SgdUpdate(layer=i, phase=UP, units=p.values, w=Operand(p, "rw", 1),
                                      v=Operand(v, "rw", 1), g=Operand(g, "r", 1)))
        return self.ops

    # ------------------------------------------------------------------ forward
    def conv_forward(self, i: int, s: LayerShape, layer: ConvLayer, x: Tensor) -> Tensor:
        B, ci, co, k = self.batch, s.in_channels, s.out_channels, layer.kernel
        size = self.fft_size(s.out_size, i)
        kp = self.out_reads[i]
        if size != s.in_size and i > 0:   # zero padding: back to space, pad, forward again
            x = self.resize(i, F, x, s.in_size, s.in_size, s.in_size, size, kp, B * ci, f"Xpad{i}", adjoint=False)
            self.padded[i] = x
        rows, cols = kept_rows(size, kp), kept_cols(kp)
        bins = rows * cols
        pairs = ci * co
        wb, db = self.f.weight_bits, self.f.data_bits
        name = layer.name
        if layer.param == "sinc":
            hk = half_cols(k)
            v = self.tensor(f"V{i}", "weight", pairs * k * hk, persistent=True, param=f"{name}.weight")
            t = self.tensor(f"T{i}", "weight", pairs * rows * k)
            w = self.tensor(f"W{i}", "weight", pairs * bins)
            sh1 = self.shift(i, "weights.sv", k, wb, wb, wb)
            sh2 = self.shift(i, "weights.svst", k, wb, wb, wb)
            self.ops.append(SincRows(layer=i, phase=F, units=pairs, v=Operand(v, "r", k * hk),
                                     t=Operand(t, "w", rows * k), size=size, kernel=k, ci=ci, co=co, n_rows=rows,
                                     n_cols=cols, shift=sh1))
            self.ops.append(SincCols(layer=i, phase=F, units=pairs, t=Operand(t, "r", rows * k),
                                     w=Operand(w, "w", bins), size=size, kernel=k, ci=ci, co=co, n_rows=rows,
                                     n_cols=cols, shift=sh2))
            self.param(i, v)
        else:
            w = self.tensor(f"W{i}", "weight", pairs * half_bins(size), persistent=True, param=f"{name}.weight")
            self.param(i, w)
        self.weights[i] = w
        z = self.tensor(f"Z{i}", "act", B * co * bins)
        self.ops.append(ConvForward(layer=i, phase=F, units=bins, x=Operand(x, "r", role="a"),
                                    w=Operand(w, "r", role="b"), y=Operand(z, "w", role="c"), batch=B, ci=ci, co=co,
                                    size=size, shift=self.shift(i, "forward", ci, db, wb, db)))
        if layer.bias:
            b = self.tensor(f"b{i}", "weight", co, complex_=False, persistent=True, param=f"{name}.bias")
            self.param(i, b)
            self.ops.append(BiasAdd(layer=i, phase=F, units=1, y=Operand(z, "rw", role="c"),
                                    b=Operand(b, "r", role="b"), m=B, n=co, scale=2 * _log2(size), real=False))
        return z

    def resize(self, i: int, phase: Phase, x: Tensor, n_in: int, keep_in: int, n_spatial: int, size_out: int,
               keep_out: int, planes: int, name: str, adjoint: bool) -> Tensor:
        """Spectrum of size n_in (read at keep_in) -> space (the n_spatial x n_spatial corner)
        -> spectrum of size_out (computed at keep_out): zero padding, or its adjoint."""
        role = "act" if phase == F else "grad"
        out = self.tensor(name, role, planes * kept_count(size_out, keep_out))
        sp = self.tensor(f"{name}.s", role, planes * n_spatial * n_spatial, complex_=False, scratch=True)
        self.fft_size(n_in, i)
        s = self.shapes[i]
        # the adjoint of zero padding n -> N scales by (N/n)^2: an exponent step
        step = 2 * int(log2(s.out_size // s.in_size)) if adjoint else 0
        self.ops.append(Resize(layer=i, phase=phase, units=planes, src=Operand(x, "r", kept_count(n_in, keep_in)),
                               space=Operand(sp, "w", n_spatial * n_spatial),
                               dst=Operand(out, "w", kept_count(size_out, keep_out)), n_in=n_in, keep_in=keep_in,
                               n_space=n_spatial, size_out=size_out, keep_out=keep_out, exp_step=step,
                               label="unpad" if adjoint else "pad"))
        return out

    def pwl_forward(self, i: int, s: LayerShape, layer: ActLayer, x: Tensor) -> Tensor:
        per = kept_count(s.in_size, self.out_reads[i])
        planes = self.batch * s.in_channels
        y = self.tensor(f"A{i}", "act", planes * per)
        self.ops.append(Pwl(layer=i, phase=F, units=planes * per, x=Operand(x, "r", 1), y=Operand(y, "w", 1),
                            n=s.in_size, act=layer))
        return y

    def spatial_forward(self, i: int, s: LayerShape, x: Tensor, spatial: dict[int, Tensor]) -> Tensor:
        n = self.fft_size(s.in_size, i)
        kp = self.out_reads[i]
        planes = self.batch * s.in_channels
        pre = self.tensor(f"S{i}", "act", planes * n * n, complex_=False)
        post = self.tensor(f"S{i}.relu", "act", planes * n * n, complex_=False, scratch=True)
        y = self.tensor(f"A{i}", "act", planes * kept_count(n, kp))
        spatial[i] = pre
        self.ops.append(SpatialAct(layer=i, phase=F, units=planes, x=Operand(x, "r", half_bins(n)),
                                   pre=Operand(pre, "w", n * n), post=Operand(post, "w", n * n),
                                   y=Operand(y, "w", kept_count(n, kp)), n=n, keep=kp))
        return y

    def pool_forward(self, i: int, s: LayerShape, x: Tensor) -> Tensor:
        n, m = s.in_size, s.out_size
        if half_bins(m) > self.accel.crop_buffer.words:
            raise ConfigError(f"crop_buffer.words: pooling to {m}x{m} (layers[{i}]) needs "
                              f"{half_bins(m)} words, have {self.accel.crop_buffer.words}")
        planes = self.batch * s.in_channels
        y = self.tensor(f"P{i}", "act", planes * half_bins(m))
        self.ops.append(Pool(layer=i, phase=F, units=planes, x=Operand(x, "r", kept_count(n, m)),
                             y=Operand(y, "w", half_bins(m)), n=n, m=m))
        return y

    def dense_forward(self, i: int, s: LayerShape, x: Tensor) -> Tensor:
        B, classes = self.batch, s.out_channels
        feats = 2 * s.in_channels * half_bins(s.in_size)
        self.dense_features = feats
        name = s.layer.name
        wd = self.tensor(f"Wd{i}", "weight", feats * classes, complex_=False, persistent=True,
                         param=f"{name}.weight")
        self.param(i, wd)
        logits = self.tensor(f"logits{i}", "act", B * classes, complex_=False)
        d = self.f.data_bits
        self.ops.append(DenseForward(layer=i, phase=F, units=1, x=Operand(x, "r", role="a", real=True),
                                     w=Operand(wd, "r", role="b"), y=Operand(logits, "w", role="c"), batch=B,
                                     feats=feats, classes=classes,
                                     shift=self.shift(i, "forward", feats, d, self.f.weight_bits, d)))
        bd = self.tensor(f"bd{i}", "weight", classes, complex_=False, persistent=True, param=f"{name}.bias")
        self.param(i, bd)
        self.ops.append(BiasAdd(layer=i, phase=F, units=1, y=Operand(logits, "rw", role="c"),
                                b=Operand(bd, "r", role="b"), m=B, n=classes, scale=0, real=True))
        self.dense_weights = wd
        return logits

    # ------------------------------------------------------------------ backward
    def backward(self, inputs: list[Tensor], outs: list[Tensor], spatial: dict[int, Tensor]) -> None:
        B, shapes = self.batch, self.shapes
        L = len(shapes)
        wants = [any(isinstance(la, ConvLayer) for la in self.net.layers[:i]) for i in range(L)]
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
                    per = kept_count(s.in_size, self.out_reads[i])
                    planes = B * s.in_channels
                    gz = self.tensor(f"G{i - 1}", "grad", planes * per)
                    self.ops.append(PwlBackward(layer=i, phase=BD, units=planes * per, x=Operand(x, "r", 1),
                                                g=Operand(g, "r", 1), gx=Operand(gz, "w", 1), n=s.in_size))
                    g = gz
                elif layer.kind == "spatial":
                    g = self.spatial_backward(i, s, g, spatial[i])
            elif isinstance(layer, PoolLayer):
                if layer.size < s.in_size:
                    n, m = s.in_size, s.out_size
                    planes = B * s.in_channels
                    gi = self.tensor(f"G{i - 1}", "grad", planes * half_bins(n))
                    self.ops.append(Unpool(layer=i, phase=BD, units=planes,
                                           g=Operand(g, "r", kept_count(m, self.reads[i + 1])),
                                           gx=Operand(gi, "w", half_bins(n)), n=n, m=m))
                    g = gi
            elif isinstance(layer, ConvLayer):
                g = self.conv_backward(i, s, layer, g, x, wants[i])

    def dense_backward(self, i: int, s: LayerShape, x: Tensor, logits: Tensor, want: bool) -> Tensor | None:
        """Loss, classifier backward-data (then its Hermitian projection), weight and bias gradients."""
        B, classes, feats = self.batch, s.out_channels, self.dense_features
        labels = self.tensor("labels", "act", B, complex_=False, persistent=True)
        gl = self.tensor(f"glogits{i}", "grad", B * classes, complex_=False)
        self.ops.append(Loss(layer=i, phase=BD, units=B, logits=Operand(logits, "r", classes),
                             labels=Operand(labels, "r", 1), g=Operand(gl, "w", classes), classes=classes))
        gb, wb, db = self.f.grad_bits, self.f.weight_bits, self.f.data_bits
        wd = self.dense_weights
        assert wd is not None, "the classifier's backward pass before its forward"
        g = None
        if want:
            gd = self.tensor(f"GD{i}", "grad", feats // 2 * B)
            self.ops.append(DenseBackwardData(layer=i, phase=BD, units=1, g=Operand(gl, "r", role="a"),
                                              w=Operand(wd, "r", role="b"),
                                              gx=Operand(gd, "w", role="c", real=True), batch=B, feats=feats,
                                              classes=classes,
                                              shift=self.shift(i, "backward-data", classes, gb, wb, gb)))
            n = s.in_size
            per = half_bins(n)
            g = self.tensor(f"G{i - 1}", "grad", B * s.in_channels * per)
            self.ops.append(Hermitian(layer=i, phase=BD, units=B * s.in_channels, gd=Operand(gd, "r", per),
                                      g=Operand(g, "w", per), n=n, channels=s.in_channels))
        self.ops.append(DenseWeightGradient(layer=i, phase=WG, units=1, x=Operand(x, "r", role="a", real=True),
                                            g=Operand(gl, "r", role="b"),
                                            gw=Operand(self.pgrad[wd.name], "w", role="c"), batch=B, feats=feats,
                                            classes=classes, shift=self.shift(i, "weight-gradient", B, gb, db, gb)))
        self.ops.append(BiasGrad(layer=i, phase=WG, units=1, g=Operand(gl, "r", role="b"),
                                 gb=Operand(self.pgrad[f"bd{i}"], "w", role="c"), m=B, n=classes, scale=0,
                                 real=True))
        return g

    def conv_backward(self, i: int, s: LayerShape, layer: ConvLayer, g: Tensor, x: Tensor,
                      want: bool) -> Tensor | None:
        B, ci, co, k = self.batch, s.in_channels, s.out_channels, layer.kernel
        size = s.out_size
        kp = self.out_reads[i]
        rows, cols = kept_rows(size, kp), kept_cols(kp)
        bins = rows * cols
        gb, db, wb = self.f.grad_bits, self.f.data_bits, self.f.weight_bits
        w = self.weights[i]
        if size != s.in_size and i > 0:
            x = self.padded[i]
        gx = None
        if want:
            gx = self.tensor(f"GX{i}", "grad", B * ci * bins)
            self.ops.append(ConvBackwardData(layer=i, phase=BD, units=bins, g=Operand(g, "r", role="a"),
                                             w=Operand(w, "r", role="b"), gx=Operand(gx, "w", role="c"), batch=B,
                                             ci=ci, co=co, size=size,
                                             shift=self.shift(i, "backward-data", co, gb, wb, gb)))
            if size != s.in_size:
                gx = self.resize(i, BD, gx, size, kp, s.in_size, s.in_size, s.in_size, B * ci, f"GXr{i}", adjoint=True)
        sinc = layer.param == "sinc"
        gparam = self.pgrad[self.weights[i].name] if not sinc else self.pgrad[f"V{i}"]
        gw = gparam if not sinc else self.tensor(f"GW{i}", "grad", ci * co * bins)
        self.ops.append(ConvWeightGradient(layer=i, phase=WG, units=bins, g=Operand(g, "r", role="a"),
                                           x=Operand(x, "r", role="b"), gw=Operand(gw, "w", role="c"), batch=B,
                                           ci=ci, co=co, size=size,
                                           shift=self.shift(i, "weight-gradient", B, gb, db, gb)))
        if sinc:
            # G_V = S^H G_W conj(S): G_W read as the full Hermitian spectrum, whose non-zero
            # columns are the R = kept-rows columns |v| <= keep/2
            pairs, hk, R = ci * co, half_cols(k), rows
            u = self.tensor(f"U{i}", "grad", pairs * k * R)
            self.ops.append(SincAdjointRows(layer=i, phase=WG, units=pairs, gw=Operand(gw, "r", bins),
                                            u=Operand(u, "w", k * R), size=size, kernel=k, ci=ci, co=co, n_rows=R,
                                            n_cols=cols, shift=self.shift(i, "weights-adjoint.shg", size, wb, gb, gb)))
            self.ops.append(SincAdjointCols(layer=i, phase=WG, units=pairs, u=Operand(u, "r", k * R),
                                            gv=Operand(gparam, "w", k * hk), size=size, kernel=k, ci=ci, co=co,
                                            n_rows=R, n_cols=cols,
                                            shift=self.shift(i, "weights-adjoint.shgs", size, gb, wb, gb)))
        if layer.bias:
            self.ops.append(BiasGrad(layer=i, phase=WG, units=1, g=Operand(g, "r", role="b"),
                                     gb=Operand(self.pgrad[f"b{i}"], "w", role="c"), m=B, n=co,
                                     scale=2 * _log2(size), real=False))
        return gx

    def spatial_backward(self, i: int, s: LayerShape, g: Tensor, pre: Tensor) -> Tensor:
        n = s.in_size
        kp = self.out_reads[i]
        planes = self.batch * s.in_channels
        sg = self.tensor(f"S{i}.g", "grad", planes * n * n, complex_=False, scratch=True)
        sm = self.tensor(f"S{i}.gm", "grad", planes * n * n, complex_=False, scratch=True)
        gi = self.tensor(f"G{i - 1}", "grad", planes * half_bins(n))
        self.ops.append(SpatialActBackward(layer=i, phase=BD, units=planes, g=Operand(g, "r", kept_count(n, kp)),
                                           pre=Operand(pre, "r", n * n), g_space=Operand(sg, "w", n * n),
                                           g_masked=Operand(sm, "w", n * n), gx=Operand(gi, "w", half_bins(n)),
                                           n=n, keep=kp))
        return gi
