"""neuromass: whole-brain neural-mass network simulation on JAX, Equinox and Diffrax.

Importing neuromass has no side effects (no global state, no XLA flags).
"""

import importlib.metadata

from . import (
    control as control,
    coupling as coupling,
    datasets as datasets,
    equations as equations,
    metrics as metrics,
    models as models,
    monitors as monitors,
    noise as noise,
    stimuli as stimuli,
    typing as typing,
    utils as utils,
    viz as viz,
)
from ._delay._adjoint import (
    AbstractDelayAdjoint as AbstractDelayAdjoint,
    AutodiffDelayAdjoint as AutodiffDelayAdjoint,
    PulledDelayAdjoint as PulledDelayAdjoint,
)
from ._delay.interpolation import (
    AbstractInterpolation as AbstractInterpolation,
    CubicInterpolation as CubicInterpolation,
    LinearInterpolation as LinearInterpolation,
    NearestInterpolation as NearestInterpolation,
)
from ._fit import (
    CMAES as CMAES,
    AbstractConstraint as AbstractConstraint,
    AbstractGlobalStrategy as AbstractGlobalStrategy,
    Bounded as Bounded,
    FitTrace as FitTrace,
    GlobalTrace as GlobalTrace,
    Landscape as Landscape,
    MultiStartTrace as MultiStartTrace,
    Positive as Positive,
    RuggedLossWarning as RuggedLossWarning,
    ensemble_loss as ensemble_loss,
    fit as fit,
    landscape as landscape,
)
from ._inputs import (
    AbstractInput as AbstractInput,
    Contribution as Contribution,
    Stage as Stage,
)
from ._network import AbstractNetwork as AbstractNetwork, Network as Network
from ._rk4 import RK4 as RK4
from ._simulate import (
    AbstractLoop as AbstractLoop,
    AbstractStepper as AbstractStepper,
    BlockedLoop as BlockedLoop,
    RandomHistory as RandomHistory,
    SolverStepper as SolverStepper,
    StepByStepLoop as StepByStepLoop,
    SymmetricStartWarning as SymmetricStartWarning,
    TableauStepper as TableauStepper,
    simulate as simulate,
)
from ._solution import Solution as Solution
from ._surface import SurfaceNetwork as SurfaceNetwork
from .sweeps import (
    AbstractExecution as AbstractExecution,
    DaskExecution as DaskExecution,
    DataAxis as DataAxis,
    DistributionAxis as DistributionAxis,
    GridAxis as GridAxis,
    LogGridAxis as LogGridAxis,
    ParallelExecution as ParallelExecution,
    SequentialExecution as SequentialExecution,
    Space as Space,
    SweepError as SweepError,
    SweepResult as SweepResult,
    UniformAxis as UniformAxis,
    apply_point as apply_point,
)
from .sweeps._sweep import sweep as sweep  # the function; `neuromass.sweeps` the module


try:
    __version__ = importlib.metadata.version("neuromass")
except importlib.metadata.PackageNotFoundError:  # running from a source tree
    __version__ = "0.0.0"
