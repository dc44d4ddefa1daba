"""neuromass: whole-brain neural-mass network simulation on JAX, Equinox and Diffrax.

Importing neuromass has no side effects (no global state, no XLA flags).
"""

import importlib.metadata

from . import (
    coupling as coupling,
    datasets as datasets,
    models as models,
    noise as noise,
    utils as utils,
)
from ._network import Network as Network
from ._simulate import simulate as simulate
from ._solution import Solution as Solution


try:
    __version__ = importlib.metadata.version("neuromass")
except importlib.metadata.PackageNotFoundError:  # running from a source tree
    __version__ = "0.0.0"
