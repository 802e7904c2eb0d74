"""The op kinds of the iteration, by unit: each names its operands, emits the descriptors
of a chunk and computes their values (see :class:`sim.schedule.ir.Op`)."""
from .fft import InputFft, Resize, SpatialAct, SpatialActBackward
from .lanes import Hermitian, Loss, Pool, Pwl, PwlBackward, SgdUpdate, Unpool
from .mac import (
    BiasAdd,
    BiasGrad,
    ConvBackwardData,
    ConvForward,
    ConvWeightGradient,
    DenseBackwardData,
    DenseForward,
    DenseWeightGradient,
    SincAdjointCols,
    SincAdjointRows,
    SincCols,
    SincRows,
)

__all__ = ["BiasAdd", "BiasGrad", "ConvBackwardData", "ConvForward", "ConvWeightGradient", "DenseBackwardData",
           "DenseForward", "DenseWeightGradient", "Hermitian", "InputFft", "Loss", "Pool", "Pwl", "PwlBackward",
           "Resize", "SgdUpdate", "SincAdjointCols", "SincAdjointRows", "SincCols", "SincRows", "SpatialAct",
           "SpatialActBackward", "Unpool"]
