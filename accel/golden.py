"""The float64 golden model: the frequency-domain network of DESIGN.md, trained with SGD.

Layers (``accel.config``) and what they compute on spectra (numpy FFT conventions, see
:mod:`accel.spectral`):

* **conv**: ``Y[b,o,f] = sum_i X[b,i,f] W[o,i,f] + delta_{f,0} N^2 bias[o]`` on an N x N
  grid; N = n (``padding: circular``) or ``next_pow2(n + k - 1)`` (``padding: zero``: the
  input spectrum is interpolated to N by ``S X S^T``, S = ``sinc_matrix(N, n)``; for the
  network input the image is zero-padded before the input FFT instead, which is the same).
  ``param: sinc`` learns k x k frequency coefficients V with ``W = S V S^T``
  (S = ``sinc_matrix(N, k)``, exactly a real k x k kernel at the origin);
  ``param: full`` learns the N x N spectral weights W directly.
* **act**: ``pwl`` split-complex piecewise-linear (``accel.network.pwl_table``), ``linear``
  identity, ``spatial`` ifft2 -> ReLU -> fft2, ``quadratic`` the spectral autoconvolution
  of :mod:`accel.mixing`.
* **pool**: ``accel.spectral.spectral_pool``.
* **upsample**: ``accel.upsample.upsample`` (zero insertion, repetition or spectral zero
  padding).
* **dense**: logits from the real and imaginary parts of the last *half* spectrum (rfft2
  layout, flattened channel-major, all real parts then all imaginary parts), softmax
  cross-entropy averaged over the batch.
* **loss: mse** (an autoencoder, no dense layer): the mean squared pixel error between
  the output and the input image, computed on the spectra through Parseval,
  ``L = sum_f |Y - X|^2 / (B C n^4)`` (:func:`parseval_mse`), so it never leaves them.

Gradient convention
-------------------
A spectral gradient is ``G = dL/dRe + i dL/dIm`` (PyTorch's convention), so a change D
of a spectrum changes the loss by ``Re <G, D> = Re sum G conj(D)``.  Every spectrum here
stands for a real signal, i.e. lives in the subspace of Hermitian arrays; the gradients
this model returns are gradients *with respect to those real variables*: Hermitian arrays
G with the same ``Re <G, D>`` as the unconstrained gradient for every Hermitian D.

The classifier reads only the half spectrum, so its raw PyTorch gradient is zero on the
mirrored bins and not Hermitian; it is projected, ``G -> (G[f] + conj(G[-f])) / 2``
(:func:`accel.spectral.hermitian_part_of_half`), which changes no directional derivative
along Hermitian directions.  From there on the per-bin rules keep G Hermitian by
themselves:

* conv backward-data ``G_X = sum_o G_Y conj(W)``; weight gradient ``G_W = sum_b G_Y conj(X)``;
  bias ``G_b[o] = N^2 Re sum_b G_Y[b, o, DC]``;
* ``param: sinc``: ``G_V = S^H G_W conj(S)``; zero-padding interpolation: ``G_X = S^H G conj(S)``
  (:func:`accel.spectral.sinc_interp_adjoint`);
* pwl: real part times the slope of the segment of Re X, imaginary part times the slope
  of the segment of Im X (the PWL is odd, so slopes are even and G stays Hermitian);
* spatial ReLU: ``G_X = fft2(mask * Re ifft2(G_Y))``;  pooling and upsampling: their
  adjoints;  quadratic: ``alpha G_Y + (2 beta / n^2) P (Z * G_Y)`` (:mod:`accel.mixing`);
* mse: ``G_Y = 2 (Y - X) / (B C n^4)``, Hermitian as it stands.

Hence the half-spectrum storage (``half=True``: every tensor, spectral weight and
gradient in rfft2 layout) computes exactly the same numbers as full storage, and SGD on
Hermitian gradients keeps the weights Hermitian (real spatial kernels).  A spatial real
kernel w with ``V = fft2(w)`` has ``dL/dw = Re(k^2 ifft2(G_V))``.

Update: SGD with momentum, ``v <- mu v + g; p <- p - lr v`` (as ``accel.fixed.update``),
or (``training.optimizer: adam``, golden model only) Adam, :func:`adam`.

Structure, for the fixed-point and cycle models to mirror:

* per-layer math as functions over spectra, one per phase: :func:`conv_forward`,
  :func:`conv_backward_data`, :func:`conv_weight_grad`, :func:`conv_weights` /
  :func:`conv_weights_grad` (sinc interpolation and its adjoint), :func:`pwl_forward` /
  :func:`pwl_backward`, :func:`spatial_relu_forward` / :func:`spatial_relu_backward`,
  :func:`pool_forward` / :func:`pool_backward`, :func:`dense_forward` /
  :func:`dense_backward_data` / :func:`dense_weight_grad`, :func:`softmax_cross_entropy`,
  :func:`parseval_mse`, :func:`sgd_momentum`;
* layer objects (:class:`ConvOp`, :class:`ActOp`, :class:`PoolOp`, :class:`UpsampleOp`,
  :class:`DenseOp`) binding those to a layer's shapes; :class:`GoldenNet` chaining them and recording a
  :class:`Trace` per layer (input, output, gradients) in every step.

:class:`SpatialNet` is the spatial-domain reference of the same layer shapes (direct
convolution, ReLU, average pooling, upsampling in space, dense or the pixel mse), for
accuracy comparison.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from accel.config import ActLayer, ConvLayer, DenseLayer, NetworkConfig, PoolLayer, UpsampleLayer
from accel.layout import half_cols
from accel.mixing import quadratic_backward, quadratic_forward
from accel.network import LayerShape, layer_shapes, pwl_apply, pwl_table
from accel.spectral import (
    conv_fd,
    conv_fd_backward_data,
    conv_fd_weight_grad,
    half_weights,
    hermitian_part_of_half,
    sinc_interp,
    sinc_interp_adjoint,
    sinc_interp_adjoint_half,
    sinc_interp_half,
    spectral_pool,
    spectral_pool_adjoint,
    spectral_pool_adjoint_half,
    spectral_pool_half,
    to_full,
    to_half,
)
from accel.upsample import upsample, upsample_adjoint

Params = dict[str, np.ndarray]

# --------------------------------------------------------------------------- per-layer math


def input_spectrum(x: np.ndarray, size: int, half: bool) -> np.ndarray:
    """Input FFT: real images ``(B, C, n, n)`` zero-padded at the end to ``size``, then
    fft2 (full) or rfft2 (half)."""
    n = x.shape[-1]
    if size != n:
        x = np.pad(x, [(0, 0)] * (x.ndim - 2) + [(0, size - n), (0, size - n)])
    return np.fft.rfft2(x) if half else np.fft.fft2(x)


def interp(X: np.ndarray, N: int, n: int, half: bool) -> np.ndarray:
    """Sinc interpolation n -> N (``S X S^T``), full or half storage."""
    return sinc_interp_half(X, N, n) if half else sinc_interp(X, N)


def interp_adjoint(G: np.ndarray, n: int, half: bool) -> np.ndarray:
    """Adjoint of :func:`interp` (``S^H G conj(S)``), full or half storage."""
    return sinc_interp_adjoint_half(G, n) if half else sinc_interp_adjoint(G, n)


def conv_weights(param: np.ndarray, layer: ConvLayer, N: int, half: bool) -> np.ndarray:
    """Spectral weights W (Co, Ci, N, N[/2+1]) from the stored parameter: ``S V S^T`` for
    ``param: sinc``, the parameter itself for ``full``."""
    return interp(param, N, layer.kernel, half) if layer.param == "sinc" else param


def conv_weights_grad(G_W: np.ndarray, layer: ConvLayer, half: bool) -> np.ndarray:
    """Gradient of the stored parameter from ``G_W``: ``S^H G_W conj(S)`` for sinc."""
    return interp_adjoint(G_W, layer.kernel, half) if layer.param == "sinc" else G_W


def conv_forward(X: np.ndarray, W: np.ndarray, bias: np.ndarray | None) -> np.ndarray:
    """Forward: per-bin GEMM plus ``N^2 bias`` at DC (``h = T g + delta n^2 b``)."""
    Y = conv_fd(X, W)
    if bias is not None:
        N = X.shape[-2]
        Y[:, :, 0, 0] += N * N * bias
    return Y


def conv_backward_data(G_Y: np.ndarray, W: np.ndarray) -> np.ndarray:
    """Backward-data: ``G_X = sum_o G_Y conj(W)`` per bin."""
    return conv_fd_backward_data(G_Y, W)


def conv_weight_grad(G_Y: np.ndarray, X: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Weight gradient: ``(G_W = sum_b G_Y conj(X) per bin, G_bias = N^2 Re sum_b G_Y[DC])``."""
    N = G_Y.shape[-2]
    return conv_fd_weight_grad(G_Y, X), N * N * np.real(G_Y[:, :, 0, 0].sum(axis=0))


def pwl_forward(X: np.ndarray, layer: ActLayer) -> tuple[np.ndarray, tuple[np.ndarray, np.ndarray]]:
    """Split-complex PWL: ``pwl(Re X) + i pwl(Im X)``; returns the slopes used (re, im)."""
    table = pwl_table(layer)
    re, s_re = pwl_apply(X.real, *table)
    im, s_im = pwl_apply(X.imag, *table)
    return re + 1j * im, (s_re, s_im)


def pwl_backward(G_Y: np.ndarray, slopes: tuple[np.ndarray, np.ndarray]) -> np.ndarray:
    """Split-complex PWL backward: ``s_re Re G + i s_im Im G``."""
    return slopes[0] * G_Y.real + 1j * slopes[1] * G_Y.imag


def spatial_relu_forward(X: np.ndarray, half: bool) -> tuple[np.ndarray, np.ndarray]:
    """ifft2 -> ReLU -> fft2 (exact; Re of the ifft2 in full storage).  Returns the mask."""
    n = X.shape[-2]
    z = np.fft.irfft2(X, s=(n, n)) if half else np.fft.ifft2(X).real
    mask = z > 0
    a = z * mask
    return (np.fft.rfft2(a) if half else np.fft.fft2(a)), mask


def spatial_relu_backward(G_Y: np.ndarray, mask: np.ndarray, half: bool) -> np.ndarray:
    """``fft2(mask * Re ifft2(G_Y))``: the ifft2/fft2 scale factors n^2 and 1/n^2 cancel."""
    n = G_Y.shape[-2]
    if half:
        return np.fft.rfft2(mask * np.fft.irfft2(G_Y, s=(n, n)))
    return np.fft.fft2(mask * np.fft.ifft2(G_Y).real)


def pool_forward(X: np.ndarray, m: int, half: bool) -> np.ndarray:
    """Spectral pooling n -> m."""
    return spectral_pool_half(X, m) if half else spectral_pool(X, m)


def pool_backward(G_Y: np.ndarray, n: int, half: bool) -> np.ndarray:
    """Adjoint of spectral pooling m -> n."""
    return spectral_pool_adjoint_half(G_Y, n) if half else spectral_pool_adjoint(G_Y, n)


def dense_features(X: np.ndarray, half: bool) -> np.ndarray:
    """Classifier input ``(B, 2 C n (n/2+1))``: Re then Im of the half spectrum, flattened."""
    H = X if half else to_half(X)
    B = H.shape[0]
    return np.concatenate([H.real.reshape(B, -1), H.imag.reshape(B, -1)], axis=1)


def dense_forward(X: np.ndarray, weight: np.ndarray, bias: np.ndarray, half: bool) -> np.ndarray:
    """Logits ``features @ weight.T + bias``."""
    return dense_features(X, half) @ weight.T + bias


def dense_backward_data(G_logits: np.ndarray, weight: np.ndarray, channels: int, n: int,
                        half: bool) -> np.ndarray:
    """Gradient at the classifier's input spectrum (B, C, n, n[/2+1]): the Hermitian
    projection of ``dL/dRe + i dL/dIm`` on the half spectrum (see the module docstring)."""
    G_f = G_logits @ weight
    F = channels * n * half_cols(n)
    G_half = (G_f[:, :F] + 1j * G_f[:, F:]).reshape(len(G_f), channels, n, half_cols(n))
    G_half = hermitian_part_of_half(G_half, n)
    return G_half if half else to_full(G_half, n)


def dense_weight_grad(G_logits: np.ndarray, X: np.ndarray, half: bool) -> tuple[np.ndarray, np.ndarray]:
    """``(G_weight, G_bias)`` of the classifier."""
    return G_logits.T @ dense_features(X, half), G_logits.sum(axis=0)


def softmax_cross_entropy(logits: np.ndarray, labels: np.ndarray) -> tuple[float, np.ndarray]:
    """Mean cross-entropy and its gradient with respect to the logits."""
    z = logits - logits.max(axis=1, keepdims=True)
    logp = z - np.log(np.exp(z).sum(axis=1, keepdims=True))
    B = logits.shape[0]
    loss = -float(logp[np.arange(B), labels].mean())
    G = np.exp(logp)
    G[np.arange(B), labels] -= 1.0
    return loss, G / B


def parseval_mse(Y: np.ndarray, X: np.ndarray, half: bool) -> tuple[float, np.ndarray]:
    """Mean squared error per pixel between the real signals of spectra Y and X
    ``(B, C, n, n[/2+1])``, and its gradient with respect to Y.

    Parseval: ``sum_p (y - x)^2 = sum_f |Y - X|^2 / n^2``, so ``L = sum_f |Y - X|^2 /
    (B C n^4)`` (half storage: each stored column weighted by how often it occurs in the
    full spectrum, :func:`accel.spectral.half_weights`) and ``G = 2 (Y - X) / (B C n^4)``,
    which is Hermitian, and in half storage the stored part of the full gradient."""
    B, C, n = Y.shape[0], Y.shape[1], Y.shape[-2]
    D = Y - X
    scale = 1.0 / (B * C * n ** 4)
    weights = half_weights(n) if half else 1.0
    return float(np.sum(weights * (D.real ** 2 + D.imag ** 2))) * scale, 2.0 * scale * D


def sgd_momentum(p: np.ndarray, v: np.ndarray, g: np.ndarray, lr: float,
                 mu: float) -> tuple[np.ndarray, np.ndarray]:
    """``v' = mu v + g; p' = p - lr v'`` (real and complex alike)."""
    v_new = mu * v + g
    return p - lr * v_new, v_new


#: Adam's second-moment decay and the epsilon of its denominator
ADAM_BETA2, ADAM_EPS = 0.999, 1e-8


def adam(p: np.ndarray, m: np.ndarray, v: np.ndarray, g: np.ndarray, t: int, lr: float,
         beta1: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """One Adam step (Kingma & Ba) at step ``t >= 1``: first moment ``m`` of g, second
    moment ``v`` of ``|g|^2`` (real), per entry.  For a complex entry the second moment is
    that of its magnitude, not of its real and imaginary parts apart: a part that is zero by
    symmetry (Im of a self-mirrored bin of a Hermitian parameter, zero up to rounding) then
    gets a rounding-sized step, not one normalized up to ``lr``, so Hermitian parameters
    stay Hermitian (mirrored bins get conjugate steps) and half storage equals full."""
    m = beta1 * m + (1 - beta1) * g
    v = ADAM_BETA2 * v + (1 - ADAM_BETA2) * (g.real ** 2 + g.imag ** 2)
    step = (m / (1 - beta1 ** t)) / (np.sqrt(v / (1 - ADAM_BETA2 ** t)) + ADAM_EPS)
    return p - lr * step, m, v


# --------------------------------------------------------------------------- layer objects


@dataclass
class Trace:
    """One layer in one step: its input and output spectra, the per-kind values the
    backward needs (``aux``), and, after backward, the gradients at its output and input."""
    name: str
    x: np.ndarray
    y: np.ndarray
    aux: dict[str, Any] = field(default_factory=dict)
    g_out: np.ndarray | None = None
    g_in: np.ndarray | None = None


class ConvOp:
    """A conv layer on spectra.  Parameters ``{name}.weight`` (sinc: V (Co, Ci, k, k);
    full: W (Co, Ci, N, N); the last axis halved in half storage) and ``{name}.bias`` (Co)."""

    def __init__(self, shape: LayerShape, half: bool):
        assert isinstance(shape.layer, ConvLayer)
        self.shape, self.half = shape, half
        self.layer: ConvLayer = shape.layer
        self.n, self.N = shape.in_size, shape.out_size

    def init(self, rng: np.random.Generator, weight_scale: float) -> Params:
        """He-scaled random real k x k kernels times ``weight_scale``, as spectra."""
        L, s = self.layer, self.shape
        w = rng.standard_normal((L.out_channels, s.in_channels, L.kernel, L.kernel))
        w *= weight_scale * np.sqrt(2.0 / (s.in_channels * L.kernel ** 2))
        if L.param == "full":
            w = np.pad(w, ((0, 0), (0, 0), (0, self.N - L.kernel), (0, self.N - L.kernel)))
        p: Params = {f"{L.name}.weight": np.fft.rfft2(w) if self.half else np.fft.fft2(w)}
        if L.bias:
            p[f"{L.name}.bias"] = np.zeros(L.out_channels)
        return p

    def forward(self, X: np.ndarray, params: Params) -> tuple[np.ndarray, dict[str, Any]]:
        """Interpolate the input to N if it arrives at n < N, then per-bin GEMM + bias.
        aux: ``W`` (spectral weights used), ``x_conv`` (the N x N input), ``interp``."""
        L = self.layer
        resized = X.shape[-2] != self.N
        Xc = interp(X, self.N, self.n, self.half) if resized else X
        W = conv_weights(params[f"{L.name}.weight"], L, self.N, self.half)
        Y = conv_forward(Xc, W, params.get(f"{L.name}.bias"))
        return Y, {"W": W, "x_conv": Xc, "interp": resized}

    def backward_data(self, G_Y: np.ndarray, aux: dict[str, Any]) -> np.ndarray:
        G = conv_backward_data(G_Y, aux["W"])
        return interp_adjoint(G, self.n, self.half) if aux["interp"] else G

    def weight_grad(self, G_Y: np.ndarray, aux: dict[str, Any]) -> Params:
        L = self.layer
        G_W, G_b = conv_weight_grad(G_Y, aux["x_conv"])
        g = {f"{L.name}.weight": conv_weights_grad(G_W, L, self.half)}
        if L.bias:
            g[f"{L.name}.bias"] = G_b
        return g


class ActOp:
    """An activation layer on spectra (no parameters)."""

    def __init__(self, shape: LayerShape, half: bool):
        assert isinstance(shape.layer, ActLayer)
        self.shape, self.half = shape, half
        self.layer: ActLayer = shape.layer

    def init(self, rng: np.random.Generator, weight_scale: float) -> Params:
        return {}

    def forward(self, X: np.ndarray, params: Params) -> tuple[np.ndarray, dict[str, Any]]:
        kind = self.layer.kind
        if kind == "pwl":
            Y, slopes = pwl_forward(X, self.layer)
            return Y, {"slopes": slopes}
        if kind == "spatial":
            Y, mask = spatial_relu_forward(X, self.half)
            return Y, {"mask": mask}
        if kind == "quadratic":
            Y, z = quadratic_forward(X, self.layer, self.half)
            return Y, {"z": z}
        return X.copy(), {}

    def backward_data(self, G_Y: np.ndarray, aux: dict[str, Any]) -> np.ndarray:
        kind = self.layer.kind
        if kind == "pwl":
            return pwl_backward(G_Y, aux["slopes"])
        if kind == "spatial":
            return spatial_relu_backward(G_Y, aux["mask"], self.half)
        if kind == "quadratic":
            return quadratic_backward(G_Y, aux["z"], self.layer, self.half)
        return G_Y

    def weight_grad(self, G_Y: np.ndarray, aux: dict[str, Any]) -> Params:
        return {}


class PoolOp:
    """Spectral pooling (no parameters)."""

    def __init__(self, shape: LayerShape, half: bool):
        assert isinstance(shape.layer, PoolLayer)
        self.shape, self.half = shape, half
        self.layer: PoolLayer = shape.layer

    def init(self, rng: np.random.Generator, weight_scale: float) -> Params:
        return {}

    def forward(self, X: np.ndarray, params: Params) -> tuple[np.ndarray, dict[str, Any]]:
        return pool_forward(X, self.shape.out_size, self.half), {}

    def backward_data(self, G_Y: np.ndarray, aux: dict[str, Any]) -> np.ndarray:
        return pool_backward(G_Y, self.shape.in_size, self.half)

    def weight_grad(self, G_Y: np.ndarray, aux: dict[str, Any]) -> Params:
        return {}


class UpsampleOp:
    """Upsampling m -> M of spectra (no parameters), :mod:`accel.upsample`."""

    def __init__(self, shape: LayerShape, half: bool):
        assert isinstance(shape.layer, UpsampleLayer)
        self.shape, self.half = shape, half
        self.layer: UpsampleLayer = shape.layer

    def init(self, rng: np.random.Generator, weight_scale: float) -> Params:
        return {}

    def forward(self, X: np.ndarray, params: Params) -> tuple[np.ndarray, dict[str, Any]]:
        return upsample(X, self.shape.out_size, self.layer.kind, self.half), {}

    def backward_data(self, G_Y: np.ndarray, aux: dict[str, Any]) -> np.ndarray:
        return upsample_adjoint(G_Y, self.shape.in_size, self.layer.kind, self.half)

    def weight_grad(self, G_Y: np.ndarray, aux: dict[str, Any]) -> Params:
        return {}


class DenseOp:
    """The classifier.  ``{name}.weight`` (classes, 2 C n (n/2+1)), ``{name}.bias`` (classes).
    Its backward_data returns the projected (Hermitian) spectral gradient."""

    def __init__(self, shape: LayerShape, half: bool):
        assert isinstance(shape.layer, DenseLayer)
        self.shape, self.half = shape, half
        self.layer: DenseLayer = shape.layer
        self.features = 2 * shape.in_channels * shape.in_size * half_cols(shape.in_size)

    def init(self, rng: np.random.Generator, weight_scale: float) -> Params:
        """Gaussian weights of standard deviation ``weight_scale / sqrt(features)``, zero bias."""
        L = self.layer
        return {f"{L.name}.weight": rng.standard_normal((L.classes, self.features))
                * (weight_scale / np.sqrt(self.features)),
                f"{L.name}.bias": np.zeros(L.classes)}

    def forward(self, X: np.ndarray, params: Params) -> tuple[np.ndarray, dict[str, Any]]:
        L = self.layer
        return dense_forward(X, params[f"{L.name}.weight"], params[f"{L.name}.bias"], self.half), {"x": X}

    def backward_data(self, G_Y: np.ndarray, aux: dict[str, Any], params: Params) -> np.ndarray:
        s = self.shape
        return dense_backward_data(G_Y, params[f"{self.layer.name}.weight"], s.in_channels, s.in_size,
                                   self.half)

    def weight_grad(self, G_Y: np.ndarray, aux: dict[str, Any], params: Params) -> Params:
        G_w, G_b = dense_weight_grad(G_Y, aux["x"], self.half)
        return {f"{self.layer.name}.weight": G_w, f"{self.layer.name}.bias": G_b}


LayerOp = ConvOp | ActOp | PoolOp | UpsampleOp | DenseOp
_OPS: dict[type, type[LayerOp]] = {ConvLayer: ConvOp, ActLayer: ActOp, PoolLayer: PoolOp, UpsampleLayer: UpsampleOp,
                                   DenseLayer: DenseOp}


# --------------------------------------------------------------------------- networks


class TrainableNet:
    """Shared training loop pieces: SGD with momentum over ``params``, train_step, predict
    (classifiers) and reconstruct (autoencoders).  Subclasses define ``forward(x) ->
    (output, traces)``, ``backward(traces, G_output)``, and for ``loss: mse``
    ``reconstruction_loss(output, x)`` and ``images(output)``."""

    def __init__(self, cfg: NetworkConfig):
        self.cfg = cfg
        self.lr = cfg.training.lr
        self.momentum = cfg.training.momentum
        self.params: Params = {}
        self.velocity: Params = {}
        #: Adam's first and second moments per parameter, and its step count
        self.moments: dict[str, tuple[np.ndarray, np.ndarray]] = {}
        self.steps = 0

    def _init_velocity(self) -> None:
        self.velocity = {k: np.zeros_like(v) for k, v in self.params.items()}
        if self.cfg.training.optimizer == "adam":
            self.moments = {k: (np.zeros_like(p), np.zeros(p.shape)) for k, p in self.params.items()}

    def forward(self, x: np.ndarray) -> tuple[np.ndarray, list[Trace]]:
        raise NotImplementedError

    def backward(self, traces: list[Trace], G_logits: np.ndarray) -> Params:
        raise NotImplementedError

    def reconstruction_loss(self, out: np.ndarray, x: np.ndarray) -> tuple[float, np.ndarray]:
        raise NotImplementedError

    def images(self, out: np.ndarray) -> np.ndarray:
        raise NotImplementedError

    def loss_and_grads(self, x: np.ndarray, labels: np.ndarray) -> tuple[float, Params, list[Trace]]:
        """Forward, loss and backward for one batch (parameters unchanged).  ``labels`` are
        the classifier's targets; an mse network's target is ``x`` itself."""
        out, traces = self.forward(x)
        if self.cfg.loss == "mse":
            loss, G = self.reconstruction_loss(out, x)
        else:
            loss, G = softmax_cross_entropy(out, labels)
        return loss, self.backward(traces, G), traces

    def step(self, grads: Params) -> None:
        """Update: SGD with momentum (or Adam, ``training.optimizer``) on every parameter."""
        if self.cfg.training.optimizer == "adam":
            self.steps += 1
            for k, g in grads.items():
                self.params[k], m, v = adam(self.params[k], *self.moments[k], g, self.steps, self.lr, self.momentum)
                self.moments[k] = (m, v)
            return
        for k, g in grads.items():
            self.params[k], self.velocity[k] = sgd_momentum(self.params[k], self.velocity[k], g,
                                                            self.lr, self.momentum)

    def train_step(self, x: np.ndarray, labels: np.ndarray) -> float:
        """Forward, backward and update on one batch; returns the batch loss."""
        loss, grads, _ = self.loss_and_grads(x, labels)
        self.step(grads)
        return loss

    def predict(self, x: np.ndarray, batch: int = 256) -> np.ndarray:
        """Predicted class per image."""
        out = [self.forward(x[i:i + batch])[0].argmax(axis=1) for i in range(0, len(x), batch)]
        return np.concatenate(out)

    def reconstruct(self, x: np.ndarray, batch: int = 256) -> np.ndarray:
        """An mse network's output images (same shape as ``x``)."""
        return np.concatenate([self.images(self.forward(x[i:i + batch])[0]) for i in range(0, len(x), batch)])


class GoldenNet(TrainableNet):
    """The frequency-domain network, float64, full (``half=False``) or half spectra.

    ``params`` maps ``{layer}.weight`` / ``{layer}.bias`` to arrays (see the op classes);
    ``forward(x)`` takes real images (B, C, n, n) and returns logits and one
    :class:`Trace` per layer; ``backward(traces, G_logits)`` fills each trace's ``g_out``
    / ``g_in`` and returns the parameter gradients; ``step(grads)`` updates.
    The same seed gives the same parameters in both storages.
    """

    def __init__(self, cfg: NetworkConfig, half: bool = True, seed: int | None = None):
        super().__init__(cfg)
        self.half = half
        self.shapes = layer_shapes(cfg)
        self.ops = [_OPS[type(s.layer)](s, half) for s in self.shapes]
        first = self.shapes[0]
        self.input_size = first.out_size if isinstance(first.layer, ConvLayer) else first.in_size
        rng = np.random.default_rng(cfg.training.seed if seed is None else seed)
        for op in self.ops:
            self.params.update(op.init(rng, cfg.training.weight_scale))
        self._init_velocity()

    def input_spectrum(self, x: np.ndarray) -> np.ndarray:
        """The input FFT of real images (zero-padded first if the first conv pads)."""
        return input_spectrum(np.asarray(x, dtype=np.float64), self.input_size, self.half)

    def reconstruction_loss(self, out: np.ndarray, x: np.ndarray) -> tuple[float, np.ndarray]:
        """:func:`parseval_mse` against the spectrum of the input image itself (at its own
        size, not zero-padded)."""
        target = input_spectrum(np.asarray(x, dtype=np.float64), x.shape[-1], self.half)
        return parseval_mse(out, target, self.half)

    def images(self, out: np.ndarray) -> np.ndarray:
        """Output spectra back to images (an mse network's reconstruction)."""
        n = out.shape[-2]
        return np.fft.irfft2(out, s=(n, n)) if self.half else np.fft.ifft2(out).real

    def forward(self, x: np.ndarray) -> tuple[np.ndarray, list[Trace]]:
        X = self.input_spectrum(x)
        traces = []
        for op in self.ops:
            Y, aux = op.forward(X, self.params)
            traces.append(Trace(op.layer.name, X, Y, aux))
            X = Y
        return X, traces

    def backward(self, traces: list[Trace], G_logits: np.ndarray) -> Params:
        grads: Params = {}
        G = G_logits
        for i in range(len(self.ops) - 1, -1, -1):
            op, tr = self.ops[i], traces[i]
            tr.g_out = G
            if isinstance(op, DenseOp):
                grads.update(op.weight_grad(G, tr.aux, self.params))
                G = op.backward_data(G, tr.aux, self.params)
            else:
                grads.update(op.weight_grad(G, tr.aux))
                if i == 0:
                    break
                G = op.backward_data(G, tr.aux)
            tr.g_in = G
        return grads
