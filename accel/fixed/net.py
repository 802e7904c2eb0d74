"""The fixed-point training iteration, built only from the unit models of ``accel.fixed``.

:class:`FixedNet` mirrors :class:`accel.golden.GoldenNet` (half-spectrum storage) layer by
layer and phase by phase, with every operation done the way a hardware unit does it:

=====================  =====================================================  ==========
what                   how                                                    unit
=====================  =====================================================  ==========
input FFT              2-D FFT of the (zero-padded) images, half spectrum      fft
conv forward           per-bin GEMM ``X[f] (B x Ci) @ W[f]^T``, bias at DC     cmac
conv backward-data     per-bin GEMM ``G_Y[f] @ conj(W[f])``                   cmac
conv weight-gradient   per-bin GEMM ``G_Y[f]^T @ conj(X[f])``, bias: DC sums  cmac
sinc weights           ``W = S V S^T`` and ``G_V = S^H G_W conj(S)``           cmac
zero padding           ``X_N = S X S^T`` and its adjoint (as the golden)       cmac
pwl activation         split-complex PWL forward, slope multiply backward     act
spatial activation     IFFT -> ReLU -> FFT, mask -> slope backward             fft
pooling                crop + fold, pad + unfold                               crop
classifier             real GEMMs (features x weights)                        cmac
loss                   softmax cross-entropy on the host, in float            host
update                 SGD with momentum                                       update
=====================  =====================================================  ==========

Numbers.  Every tensor is a block-floating-point :class:`~accel.fixed.core.CTensor`: one
exponent per tensor.  Producers write mantissas with a worst-case shift that no data can
overflow (``output_shift`` for the GEMMs, a right shift per FFT stage); the unit that
writes a tensor tracks the largest magnitude it wrote, and the next reader shifts the
mantissas left by the headroom that maximum leaves (:func:`normalize`), an exact
operation.  So precision is spent where the data are, and no value is ever scaled away.
Weights live at a fixed exponent (chosen at initialisation with ``WEIGHT_HEADROOM`` bits
to grow); momenta at an exponent fixed on the first update.  Every saturation is counted
in :attr:`FixedNet.sat`.

The one float step is the loss: logits leave the array, the host computes softmax
cross-entropy and returns ``dL/dlogits`` quantized to ``grad_bits``.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from math import ceil, log2
from typing import Any

import numpy as np

from accel.config import AcceleratorConfig, ActLayer, ConvLayer, DenseLayer, NetworkConfig, PoolLayer
from accel.golden import GoldenNet, softmax_cross_entropy
from accel.layout import crop_mask, half_cols
from accel.network import LayerShape, layer_shapes, pwl_table, read_sizes, require_hardware_support

from .act import pwl_backward, pwl_fixed_table, pwl_forward
from .core import CTensor, Saturations, exponent_for, quantize, round_shift, saturate
from .crop import crop_half, pad_half
from .layers import (
    Ctx,
    ShiftPlan,
    Widths,
    align_planes,
    bias_epilogue,
    bias_grad_fixed,
    conv_backward_data_fixed,
    conv_forward_fixed,
    conv_weight_grad_fixed,
    fft2d_planes,
    gemm,
    hermitian_project_half,
    ifft2d_planes,
    masked,
    normalize,
    real_tensor,
    sinc_adjoint_fixed,
    sinc_interp_fixed,
    swap_last,
    zero_pad_adjoint_fixed,
    zero_pad_fixed,
)
from .update import MOMENTUM_EXTRA_BITS, SgdFormat, momentum_exponent, sgd_format, sgd_step, sgd_step_complex

#: Bits of room left above the initial weights so that training can grow them.
WEIGHT_HEADROOM = 2
#: Zero-initialised parameters (biases) get the exponent of a peak of this size.
ZERO_PARAM_RANGE = 0.5

# --------------------------------------------------------------------------- the network

@dataclass
class FixedTrace:
    """One layer in one step: input and output tensors, what backward needs, gradients."""
    name: str
    x: CTensor
    y: CTensor
    aux: dict[str, Any] = field(default_factory=dict)
    g_out: Any = None
    g_in: Any = None


@dataclass
class Param:
    """A parameter in hardware: mantissas at a fixed exponent, its momentum and format."""
    value: CTensor
    momentum: CTensor | None = None
    fmt: SgdFormat | None = None


class FixedNet:
    """The network of :class:`accel.golden.GoldenNet`, computed by the unit models.

    Starts from the golden model's initial parameters (same seed, same network), quantized
    to ``weight_bits``.  API as the golden model: ``forward``, ``backward``,
    ``loss_and_grads``, ``step``, ``train_step``, ``predict``; ``float_params()`` gives
    the parameter values for comparison.
    """

    def __init__(self, cfg: NetworkConfig, accel: AcceleratorConfig, seed: int | None = None,
                 golden: GoldenNet | None = None):
        require_hardware_support(cfg, "the fixed-point model")
        self.cfg = cfg
        self.w = Widths.of(accel)
        self.sat = Saturations()
        self.plan = ShiftPlan()
        self.ctx = Ctx(self.w, self.sat, self.plan)
        self.shapes = layer_shapes(cfg)
        golden = golden or GoldenNet(cfg, half=True, seed=seed)
        self.input_size = golden.input_size
        #: crop size at which each layer's output is read, and the bins that leaves
        reads = read_sizes(self.shapes)
        self.out_reads = [reads[i + 1] if i + 1 < len(reads) else s.out_size for i, s in enumerate(self.shapes)]
        self.keeps = [self._keep(i) for i in range(len(self.shapes))]
        first = self.shapes[0]
        #: the input spectrum is computed on the bins layer 0 reads (a first conv: its output's)
        self.input_read = self.out_reads[0] if isinstance(first.layer, ConvLayer) else reads[0]
        self.lr, self.momentum = cfg.training.lr, cfg.training.momentum
        self.params: dict[str, Param] = {}
        for name, p in golden.params.items():
            peak = float(max(np.max(np.abs(np.real(p))), np.max(np.abs(np.imag(p))))) or ZERO_PARAM_RANGE
            exp = exponent_for(peak, self.w.weight, WEIGHT_HEADROOM)
            self.params[name] = Param(CTensor.from_complex(p, self.w.weight, exp, self.sat, "init", name))

    # -- forward ----------------------------------------------------------------------
    def input_spectrum(self, x: np.ndarray) -> CTensor:
        """Images -> data_bits mantissas -> zero-pad -> 2-D FFT, half spectrum (only the bins
        layer 0 reads)."""
        m = self.input_images(x)
        n = m.shape[-1]
        pad = [(0, 0)] * (m.re.ndim - 2) + [(0, self.input_size - n)] * 2
        X, off = fft2d_planes(real_tensor(np.pad(m.re, pad), m.exp, m.bits), np.zeros(m.shape[:-2], np.int64),
                              self.ctx, self.input_read)
        return align_planes(masked(X, crop_mask(self.input_size, self.input_read)), off, self.sat)

    def input_images(self, x: np.ndarray) -> CTensor:
        """Images as data_bits mantissas, the exponent from their peak (chosen by the host
        that streams them in)."""
        x = np.asarray(x, np.float64)
        exp = exponent_for(float(np.max(np.abs(x), initial=0.0)), self.w.data)
        return real_tensor(quantize(x, self.w.data, exp, self.sat, "input", "images", self.w.rounding),
                           exp, self.w.data)

    def _keep(self, i: int) -> np.ndarray | None:
        """The bins of layer i's output that hardware computes: all, unless the rest of the
        network reads it at a crop (:func:`read_sizes`).  Crops write every bin of their
        output and the classifier's logits have no bins."""
        s = self.shapes[i]
        if isinstance(s.layer, (PoolLayer, DenseLayer)):
            return None
        return crop_mask(s.out_size, self.out_reads[i])

    def conv_weights(self, s: LayerShape) -> CTensor:
        """Spectral weights W from the stored parameter (sinc: interpolated on the MAC
        array, only the bins the layer's output needs)."""
        L = s.layer
        assert isinstance(L, ConvLayer)
        v = self.params[f"{L.name}.weight"].value
        if L.param == "sinc":
            return sinc_interp_fixed(v, s.out_size, L.kernel, self.w.weight, self.ctx, f"{L.name}.weights",
                                     self.keeps[s.index])
        return v

    def _forward_layer(self, s: LayerShape, x: CTensor) -> tuple[CTensor, dict[str, Any]]:
        L, w, sat, c = s.layer, self.w, self.sat, self.ctx
        if isinstance(L, ConvLayer):
            resized = x.shape[-2] != s.out_size
            xc = zero_pad_fixed(x, s.out_size, c, self.out_reads[s.index]) if resized else x
            wt = self.conv_weights(s)
            b = self.params[f"{L.name}.bias"].value if L.bias else None
            y = conv_forward_fixed(xc, wt, c, f"{L.name}.forward", self.keeps[s.index], b)
            return y, {"W": wt, "x_conv": xc, "interp": resized}
        if isinstance(L, ActLayer):
            if L.kind == "pwl":
                table = pwl_fixed_table(*pwl_table(L), x.exp, w.data, sat=sat)
                return normalize(masked(pwl_forward(x, table, sat, w.rounding), self.keeps[s.index])), \
                    {"table": table}
            if L.kind == "spatial":
                z, off = ifft2d_planes(x, np.zeros(x.shape[:-2], np.int64), c)   # real images
                mask = z.re > 0
                a = CTensor(np.where(mask, z.re, 0), np.zeros_like(z.re), z.exp, z.bits)
                y, off = fft2d_planes(a, off, c, self.out_reads[s.index])
                return align_planes(masked(y, self.keeps[s.index]), off, sat), {"mask": mask}
            return x, {}
        if isinstance(L, PoolLayer):
            if s.out_size == s.in_size:
                return x, {}
            return normalize(crop_half(x, s.out_size, sat=sat, rounding=w.rounding)), {}
        if isinstance(L, DenseLayer):
            feats = self.features(x)
            wd = self.params[f"{L.name}.weight"].value
            b = self.params[f"{L.name}.bias"].value
            logits = gemm(feats, swap_last(wd[None]), False, w.data, c, f"{L.name}.forward",
                          epilogue=bias_epilogue(b, 1, w.rounding))[0]
            return logits, {"features": feats}
        raise TypeError(f"unknown layer {L!r}")

    @staticmethod
    def features(x: CTensor) -> CTensor:
        """Classifier input (1, B, 2 C n (n/2+1)): Re then Im of the half spectrum, real."""
        B = x.shape[0]
        f = np.concatenate([x.re.reshape(B, -1), x.im.reshape(B, -1)], axis=1)
        return real_tensor(f[None], x.exp, x.bits)

    def forward(self, x: np.ndarray) -> tuple[CTensor, list[FixedTrace]]:
        """Real images (B, C, n, n) -> logits (a real CTensor (B, classes)) and traces."""
        X = self.input_spectrum(x)
        traces = []
        for s in self.shapes:
            Y, aux = self._forward_layer(s, X)
            traces.append(FixedTrace(s.layer.name, X, Y, aux))
            X = Y
        return X, traces

    # -- backward ---------------------------------------------------------------------
    def loss_gradient(self, logits: CTensor, labels: np.ndarray) -> tuple[float, CTensor]:
        """Host step: softmax cross-entropy of the logits, dL/dlogits in ``grad_bits``."""
        loss, G = softmax_cross_entropy(logits.value().real, labels)
        g = CTensor.from_complex(G, self.w.grad, sat=self.sat, unit="host", tensor="dlogits")
        return loss, g

    def _backward_layer(self, s: LayerShape, tr: FixedTrace, g: CTensor,
                        need_data: bool) -> tuple[CTensor | None, dict[str, CTensor]]:
        L, w, sat, c = s.layer, self.w, self.sat, self.ctx
        grads: dict[str, CTensor] = {}
        if isinstance(L, DenseLayer):
            feats = tr.aux["features"]
            wd = self.params[f"{L.name}.weight"].value
            gl = real_tensor(g.re[None], g.exp, g.bits)                               # (1, B, classes)
            gw = gemm(swap_last(gl), feats, False, w.grad, c, f"{L.name}.weight-gradient")
            grads[f"{L.name}.weight"] = gw[0]
            B = g.shape[0]
            shift = ceil(log2(B)) if B > 1 else 0
            gb = saturate(round_shift(g.re.sum(axis=0), shift, w.rounding), w.grad, sat, "cmac", "bias_grad")
            grads[f"{L.name}.bias"] = real_tensor(gb, g.exp + shift, w.grad)
            gf = gemm(gl, wd[None], False, w.grad, c, f"{L.name}.backward-data")[0]     # (B, F)
            C, n = s.in_channels, s.in_size
            h = half_cols(n)
            F = C * n * h
            gx = CTensor(gf.re[:, :F].reshape(B, C, n, h), gf.re[:, F:].reshape(B, C, n, h), gf.exp, gf.bits)
            return hermitian_project_half(gx), grads
        if isinstance(L, ConvLayer):
            xc = tr.aux["x_conv"]
            gw = conv_weight_grad_fixed(g, xc, c, f"{L.name}.weight-gradient")
            if L.param == "sinc":
                gw = sinc_adjoint_fixed(gw, L.kernel, w.grad, c, f"{L.name}.weights-adjoint")
            grads[f"{L.name}.weight"] = gw
            if L.bias:
                gb, e = bias_grad_fixed(g, s.out_size, w.grad, sat, w.rounding)
                grads[f"{L.name}.bias"] = real_tensor(gb, e, w.grad)
            if not need_data:
                return None, grads
            gx = conv_backward_data_fixed(g, tr.aux["W"], c, f"{L.name}.backward-data")
            if tr.aux["interp"]:
                gx = zero_pad_adjoint_fixed(gx, s.in_size, c)
            return gx, grads
        if not need_data:
            return None, grads
        if isinstance(L, ActLayer):
            if L.kind == "pwl":
                return normalize(pwl_backward(tr.x, g, tr.aux["table"], sat, w.rounding)), grads
            if L.kind == "spatial":
                z, off = ifft2d_planes(g, np.zeros(g.shape[:-2], np.int64), c)
                a = CTensor(np.where(tr.aux["mask"], z.re, 0), np.zeros_like(z.re), z.exp, z.bits)
                y, off = fft2d_planes(a, off, c)
                return align_planes(y, off, sat), grads
            return g, grads
        if isinstance(L, PoolLayer):
            if s.out_size == s.in_size:
                return g, grads
            return normalize(pad_half(g, s.in_size, sat=sat, rounding=w.rounding)), grads
        raise TypeError(f"unknown layer {L!r}")

    def backward(self, traces: list[FixedTrace], g_logits: CTensor) -> dict[str, CTensor]:
        """Backward-data and weight-gradient of every layer, last to first."""
        grads: dict[str, CTensor] = {}
        g: CTensor | None = g_logits
        for i in range(len(self.shapes) - 1, -1, -1):
            assert g is not None, "only the first layer's backward-data is skipped"
            traces[i].g_out = g
            g, layer_grads = self._backward_layer(self.shapes[i], traces[i], g, need_data=i > 0)
            grads.update(layer_grads)
            traces[i].g_in = g
        return grads

    def loss_and_grads(self, x: np.ndarray, labels: np.ndarray) -> tuple[float, dict[str, CTensor], list[FixedTrace]]:
        logits, traces = self.forward(x)
        loss, g = self.loss_gradient(logits, labels)
        return loss, self.backward(traces, g), traces

    # -- update -----------------------------------------------------------------------
    def step(self, grads: dict[str, CTensor]) -> None:
        """SGD with momentum on every parameter (``accel.fixed.update``)."""
        for name, g in grads.items():
            p = self.update_format(name, g)
            assert p.momentum is not None and p.fmt is not None, "update_format sets both"
            if self.is_spectral(name):
                p.value, p.momentum = sgd_step_complex(p.value, p.momentum, g, p.fmt, self.sat)
            else:
                w_re, v_re = sgd_step(p.value.re, p.momentum.re, g.re, g.exp, p.fmt, self.sat)
                p.value = CTensor(w_re, p.value.im, p.value.exp, p.value.bits)
                p.momentum = CTensor(v_re, p.momentum.im, p.momentum.exp, p.momentum.bits)

    def update_format(self, name: str, g: CTensor) -> Param:
        """Parameter ``name`` with its update format, fixed (with a zero momentum) by its
        first gradient ``g``."""
        p = self.params[name]
        if p.fmt is None:
            mom_bits = self.w.grad + MOMENTUM_EXTRA_BITS
            v_exp = momentum_exponent(g.exp, self.w.grad, mom_bits, self.momentum)
            p.fmt = sgd_format(self.lr, self.momentum, self.w.weight, p.value.exp, mom_bits, v_exp)
            zeros = np.zeros(p.value.shape, np.int64)
            p.momentum = CTensor(zeros, zeros.copy(), v_exp, mom_bits)
        return p

    def calibrate(self, x: np.ndarray, labels: np.ndarray) -> None:
        """Set every GEMM's shift from one forward/backward pass (parameters unchanged)."""
        self.loss_and_grads(x, labels)
        self.plan.update()

    def train_step(self, x: np.ndarray, labels: np.ndarray) -> float:
        """One iteration (the very first batch calibrates the shift plan first); the plan
        then follows the maxima each iteration observed."""
        if not self.plan.shifts:
            self.calibrate(x, labels)
        loss, grads, _ = self.loss_and_grads(x, labels)
        self.step(grads)
        self.plan.update()
        return loss

    def predict(self, x: np.ndarray, batch: int = 256) -> np.ndarray:
        out = [self.forward(x[i:i + batch])[0].re.argmax(axis=1) for i in range(0, len(x), batch)]
        return np.concatenate(out)

    def float_params(self) -> dict[str, np.ndarray]:
        """Parameter values (complex for spectra, real for the classifier and biases)."""
        out = {}
        for name, p in self.params.items():
            v = p.value.value()
            out[name] = v if self.is_spectral(name) else v.real
        return out

    def is_spectral(self, name: str) -> bool:
        """Conv weights are complex spectra; the classifier and biases are real."""
        layer, kind = name.rsplit(".", 1)
        return kind == "weight" and any(isinstance(s.layer, ConvLayer) and s.layer.name == layer
                                        for s in self.shapes)
