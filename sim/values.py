"""Values through the simulated iteration: every descriptor computes its outputs with ``accel.fixed``.

:class:`Values` holds every tensor of a :class:`sim.schedule.Schedule` as integer mantissas
(a :class:`~accel.fixed.core.CTensor` of the tensor's logical shape) and, per compute
descriptor, in program order, has the op that emitted it compute the slice of its output
tensors the descriptor covers (:meth:`sim.schedule.ir.Op.compute`), vectorized over that
slice, with the unit models the fixed-point training iteration
:class:`accel.fixed.net.FixedNet` is built from.  So the weights after one simulated
iteration equal ``FixedNet``'s after ``loss_and_grads`` and ``step``, bit for bit, however
the schedule tiles the work (buffer sizes, MAC array shape, FFT engines).  Which slice each
descriptor kind covers is documented with the op kinds (:mod:`sim.schedule.kinds`).

Block floating point: a tensor that ``FixedNet`` normalizes (GEMM, PWL and crop outputs,
FFT outputs after plane alignment) is normalized here when the last descriptor writing it
has run -- its maximum is known then -- and no descriptor reads it before (checked).  DRAM
transfers move words, not values: they compute nothing.
"""
from __future__ import annotations

import copy
import dataclasses
from dataclasses import dataclass

import numpy as np

from accel.config import ConfigError, NetworkConfig
from accel.data import load_dataset
from accel.fixed.act import PwlTable
from accel.fixed.core import CTensor, Saturations
from accel.fixed.layers import Ctx, align_planes, hermitian_finish, normalize
from accel.fixed.net import FixedNet
from accel.network import layer_shapes
from accel.program import Descriptor

from .schedule import Schedule
from .schedule.ir import Final, Slot, Tensor

__all__ = ["Batch", "Slot", "Values", "iteration_batch"]


class Values:
    """The values of one iteration of ``schedule`` (see the module docstring); a
    :class:`sim.schedule.ir.ValueStore`.

    ``fixed`` gives the initial parameters, number formats and the GEMM shift plan (the
    schedule must have been built with that plan); it is copied, never changed.  After
    every descriptor has run (:meth:`run`, in program order), :attr:`net` holds the
    updated parameters, :attr:`grads` the parameter gradients, :attr:`loss` the batch
    loss and :attr:`sat` this iteration's saturations.  :attr:`slots` holds every tensor
    by name.
    """

    def __init__(self, schedule: Schedule, fixed: FixedNet, images: np.ndarray, labels: np.ndarray) -> None:
        self.schedule = schedule
        self.net = copy.deepcopy(fixed)
        self.sat = Saturations()
        self.net.sat = self.sat
        self.net.ctx = Ctx(self.net.w, self.sat, self.net.plan)
        self.w = self.net.w
        self.shapes = layer_shapes(self.net.cfg)
        self.labels = np.asarray(labels, np.int64)
        self.loss: float | None = None
        self.grads: dict[str, CTensor] = {}
        self.tables: dict[int, PwlTable] = {}
        self._host: CTensor | None = None
        self.slots: dict[str, Slot] = {}
        B = len(self.labels)
        x = self.net.input_images(images)
        c0, n0 = self.net.cfg.input.channels, self.net.cfg.input.size
        self.slots["x"] = Slot(CTensor(x.re.reshape(B * c0, n0, n0), x.im.reshape(B * c0, n0, n0), x.exp, x.bits),
                               np.zeros(B * c0, np.int64), "none", True)
        # finalize each tensor after the last descriptor of the last op producing it
        last_op: dict[str, int] = {}
        for k, op in enumerate(schedule.ops):
            for o in op.outputs():
                last_op[o.tensor.name] = k
        last_desc: dict[int, int] = {}
        for di, k in enumerate(schedule.op_of):
            if k >= 0:
                last_desc[k] = di
        self.finalize_after: dict[int, list[str]] = {}
        for name, k in last_op.items():
            self.finalize_after.setdefault(last_desc[k], []).append(name)
        for t in schedule.tensors.values():
            if t.param:
                self.slots[t.name] = Slot(self.net.params[t.param].value, None, "none", True)
        #: gradient tensor -> parameter name
        self.grad_of: dict[str, str] = {}
        for op in schedule.ops:
            pair = op.gradient()
            if pair is not None:
                self.grad_of[pair[0].name] = pair[1]

    # ------------------------------------------------------------------ the ValueStore interface
    def get(self, t: Tensor) -> Slot:
        s = self.slots[t.name]
        if s.final != "none" and not s.done:
            raise RuntimeError(f"{t.name} is read before the descriptors writing it are complete")
        return s

    def pending(self, t: Tensor) -> Slot:
        return self.slots[t.name]

    def out(self, t: Tensor, shape: tuple[int, ...], exp: int, bits: int, final: Final,
            planes: int | None = None) -> Slot:
        """The slot a descriptor writes, allocated (zeros) by its first writer; every writer
        must produce the same exponent."""
        name = t.name
        s = self.slots.get(name)
        if s is None:
            z = np.zeros(shape, np.int64)
            s = self.slots[name] = Slot(CTensor(z, z.copy(), exp, bits), None if planes is None else
                                        np.zeros(planes, np.int64), final)
        if s.t.exp != exp or s.done:
            raise RuntimeError(f"{name}: written at exponent {exp}, allocated at {s.t.exp} (done={s.done})")
        return s

    def host_gradient(self, logits: CTensor) -> CTensor:
        """The host's softmax cross-entropy (``FixedNet.loss_gradient``, in float) of the
        whole batch, computed once the logits are complete (sets :attr:`loss`)."""
        if self._host is None:
            self.loss, self._host = self.net.loss_gradient(logits, self.labels)
        return self._host

    # ------------------------------------------------------------------ execution
    def finalize(self, name: str) -> None:
        s = self.slots[name]
        if s.final == "normalize":
            s.t = normalize(s.t)
        elif s.final == "align":
            s.t, s.off = align_planes(s.t, s.offsets(), self.sat), None
        elif s.final == "hermitian":
            s.t = hermitian_finish(s.t)
        s.done = True

    def run(self, i: int, d: Descriptor) -> None:
        """Compute descriptor ``i`` (``d``) of the program, then finalize the tensors it completes."""
        k = self.schedule.op_of[i]
        if k >= 0:
            self.schedule.ops[k].compute(d, self)
        for name in self.finalize_after.get(i, ()):
            self.finalize(name)
            if name in self.grad_of:
                self.grads[self.grad_of[name]] = self.slots[name].t


@dataclass(frozen=True)
class Batch:
    """The images and labels one simulated iteration trains on, a different batch that
    calibrates the GEMM shift plan first, and the dataset they came from."""
    images: np.ndarray
    labels: np.ndarray
    calib_images: np.ndarray
    calib_labels: np.ndarray
    dataset: str


def iteration_batch(net: NetworkConfig, batch: int, data_dir: str | None = None) -> Batch:
    """The first ``batch`` training images after a shuffle seeded by ``net.training.seed``
    (as ``fdaccel train`` draws its first batch), and the next ``batch`` for calibration
    (the same batch if the training set is too small).  Datasets that need files (mnist,
    cifar10) without ``data_dir`` are replaced by the seeded ``random`` dataset of the same
    shape (``Batch.dataset`` says which was used)."""
    if net.dataset in ("mnist", "cifar10") and data_dir is None:
        net = dataclasses.replace(net, dataset="random")
    data = load_dataset(net, data_dir, seed=net.training.seed)
    if batch > len(data.y_train):
        raise ConfigError(f"batch: {batch} is more than the {len(data.y_train)} training images of {data.name}")
    order = np.random.default_rng(net.training.seed).permutation(len(data.y_train))
    first, second = order[:batch], order[batch:2 * batch]
    if len(second) < batch:
        second = first
    return Batch(data.x_train[first], data.y_train[first], data.x_train[second], data.y_train[second], data.name)
