"""Fitting model parameters: `fit`, constraints and the trace of a fit."""

from ._constraints import (
    AbstractConstraint as AbstractConstraint,
    Bounded as Bounded,
    Positive as Positive,
)
from ._fit import fit as fit
from ._trace import FitTrace as FitTrace
