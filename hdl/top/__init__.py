"""The accelerator's datapath and sequencer: executes the descriptor words of ``sim.schedule``.

:class:`Top` holds, for one accelerator configuration, the on-chip buffers (one per
``sram`` entry, named after it, one complex value per word, banked: see below), the
complex MAC array (:class:`hdl.cmac.ComplexMacArray`), the PWL activation lanes
(:class:`hdl.act.PwlActivation`), a crop and a pad unit per pooling shape
(:class:`hdl.crop.SpectralCrop`, :class:`hdl.crop.SpectralPad`), a 2-D FFT engine per
transform shape (:class:`hdl.fft2d.FFT2D`) and a sequencer that runs the binary
descriptors of :mod:`accel.program` under exactly the issue rules the cycle model
(``sim.engine``) uses, so that both give the same start, end and completion cycle for
every transaction.  It is made of components, each in its own module:

========================  ====================================================================
module                    component
========================  ====================================================================
:mod:`.params`            :class:`TopParams`: what a top is built for
:mod:`.checks`            :func:`check_descriptor`, :func:`program_words`, :data:`ERRORS`
:mod:`.layouts`           the queue entry and operand layouts (widths from ``accel.program``)
:mod:`.signatures`        host, table, trace, buffer-port and scoreboard-event signatures
:mod:`.decoder`           :class:`~.decoder.Decoder`: the decode register and its checks
:mod:`.scoreboard`        :class:`~.scoreboard.Scoreboard`: the region counters
:mod:`.queues`            :class:`~.queues.UnitQueues`: one queue per unit
:mod:`.fabric`            :class:`~.fabric.BufferFabric`: banked buffers and their ports
:mod:`.host`              :class:`~.host.HostPort`: the host's port on the fabric
:mod:`.mac`, :mod:`.act`  :class:`~.mac.MacSequencer`, :class:`~.act.ActSequencer`
:mod:`.crop`, :mod:`.fft` :class:`~.crop.CropSequencer`, :class:`~.fft.FftSequencer`
:mod:`.top`               :class:`Top`: instantiates and connects them
========================  ====================================================================

The issue rules:

* **dispatch**: descriptors arrive on the ``desc`` stream (one 256-bit descriptor per beat)
  into the decoder's register, and are dispatched in program order, at most one per cycle,
  into the target unit's queue of :data:`accel.program.QUEUE_DEPTH` entries; dispatch
  waits while the queue is full, and a slot frees in the cycle its descriptor starts;
* **scoreboard**: per buffer region (``Ref.region``), four wrapping counters -- writes
  dispatched / completed, reads dispatched / released.  At dispatch a descriptor records,
  for each region it reads, the writes dispatched before it, and for the region it writes,
  the reads dispatched before it; it starts when the completed writes (released reads)
  have caught up.  That is the cycle model's rule (a read waits for the region's last
  write, a write for every earlier read): a later write cannot complete before an earlier
  read has been released, so counting completions counts exactly the earlier ones;
* **start**: a unit starts its queue head ``DISPATCH_TO_START`` cycles after dispatch at
  the earliest, when it is free and the scoreboard allows.  Its occupancy is the cycles in
  which it presents operand addresses (one beat per cycle); it releases its read regions
  at the end of them; its writes complete when the last result is written (readable the
  next cycle: ``BUFFER_READ_CYCLES`` + the unit's latency after the occupancy).

Units and the descriptors they execute (the others are rejected by the decoder):

* ``mac``: :class:`accel.program.Gemm` of kind ``CONV`` (:class:`~.mac.MacSequencer`);
* ``act``: :class:`accel.program.Act` of function ``PWL``, forward and backward, ``lanes``
  values per beat at consecutive addresses (:class:`~.act.ActSequencer`);
* ``crop``: :class:`accel.program.Crop`, forward (crop) and adjoint (pad), for the
  ``(n, m)`` shapes in ``TopParams.pools`` (:class:`~.crop.CropSequencer`).  A pool whose
  pooled side is a crop-aware conv layer (lenet's pool1 before conv2) would need that side
  to hold only the next layer's kept bins, which the descriptor does not say: such a chain
  is not laid out consistently yet (the tests run pools whose pooled side is whole);
* ``fft``: forward :class:`accel.program.Fft2d` on the engine built for its
  ``(size, keep)`` (``TopParams.ffts``; one engine each, so ``fft.count`` must be 1;
  :class:`~.fft.FftSequencer`).

Not in the top (rejected by the loader and the decoder): the inverse 2-D FFT (no RTL yet),
the sinc and dense GEMMs and the bias (they need the coefficient ROM and the classifier's
real layout), the update, and DRAM transfers.  The top runs the part of an iteration held
on chip, and does not block-normalize: outputs keep the exponent their unit gives them
(an FFT plane its engine's), which ``accel.fixed.top`` models.

Buffers (:class:`~.fabric.BufferFabric`): every unit lane can read or write any word of
any buffer in every cycle, so the units never wait for a port, and the top agrees with the
cycle model on programs whose descriptors the model does not find port-bound (its
``banks`` do not bind).  Each buffer is ``2 ** bank_bits`` interleaved banks (word ``a`` in
bank ``a mod banks``), as many as the widest run of consecutive words one access group
touches in a cycle: a MAC result row (``cols`` words) or a PWL beat (``lanes`` words).  Such
a group meets every bank at most once, so it takes one port per bank and a rotation,
however many lanes it has: per buffer, ``rows`` result-row groups, the PWL's y group and
the host write one word per bank each (was ``rows * cols + lanes + 1`` single-word write
ports), and the x and g groups read one.  The MAC operand lanes (``rows + cols``), the crop
and FFT walkers and the host read have a port on every bank: they read with strides of any
``k`` or ``m`` words (the forward GEMM reads the weights transposed, the weight-gradient
GEMM the output gradient), for which no bank mapping is conflict-free, and a conflict would
stall a unit for a cycle the cycle model -- whose ``banks`` bound a descriptor's aggregate
word rate -- does not have.  No FPGA RAM has that many ports, so synthesis builds the
buffers from flip-flops with a read multiplexer per port and a write multiplexer per word:
the cost grows with words x ports (about 550 LUT4 per word with the crop and FFT walkers'
ports), which is why ``fdaccel synth`` measures the top with 4-word buffers
(:func:`hdl.tools.units.synth_top_params`).  The default configuration's Verilog (192 KB
of buffers) is for simulation; about 40% of its text is the buffers' zero initial
contents, one line per word, which Amaranth always emits.

Programs are checked before they run (:func:`program_words`: every
:func:`accel.program.validate` rule, plus what this top can execute: kinds, region ids,
operand extents inside their buffers, whole-matrix GEMM blocks); the decoder also flags
what is cheap to check in hardware (:data:`ERRORS`) and then stops dispatching, so a bad
descriptor is never executed.  Running a top (Amaranth's simulator, Verilator) is
:mod:`hdl.tools.top_run`'s.
"""
from __future__ import annotations

from .checks import ERRORS, check_descriptor, program_words
from .layouts import TOP_UNITS
from .params import TopParams
from .top import Top

__all__ = ["ERRORS", "TOP_UNITS", "Top", "TopParams", "check_descriptor", "program_words"]
