"""neuromass: whole-brain neural-mass network simulation on JAX, Equinox and Diffrax.

Importing neuromass has no side effects (no global state, no XLA flags).
"""

import importlib.metadata

from . import (
    coupling as coupling,
    datasets as datasets,
    metrics as metrics,
    models as models,
    monitors as monitors,
    noise as noise,
    sweep as sweep,
    typing as typing,
    utils as utils,
    viz as viz,
)
from ._fit import (
    AbstractConstraint as AbstractConstraint,
    Bounded as Bounded,
    FitTrace as FitTrace,
    Positive as Positive,
    fit as fit,
)
from ._network import Network as Network
from ._simulate import simulate as simulate
from ._solution import Solution as Solution
from .sweep import (
    DataAxis as DataAxis,
    DistributionAxis as DistributionAxis,
    GridAxis as GridAxis,
    LogGridAxis as LogGridAxis,
    Space as Space,
    SweepError as SweepError,
    SweepResult as SweepResult,
    UniformAxis as UniformAxis,
    apply_point as apply_point,
)


try:
    __version__ = importlib.metadata.version("neuromass")
except importlib.metadata.PackageNotFoundError:  # running from a source tree
    __version__ = "0.0.0"
