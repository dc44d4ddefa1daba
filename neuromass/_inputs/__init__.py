"""Inputs to the vector field (the input protocol) and the simulated system."""

from ._base import (
    AbstractInput as AbstractInput,
    Contribution as Contribution,
    Stage as Stage,
)
from ._coupling import LongRangeCoupling as LongRangeCoupling
from ._external import CallableInput as CallableInput
from ._system import System as System, extra_names as extra_names
