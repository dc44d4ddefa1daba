"""Fitting model parameters: `fit` (gradient descent from one or many starts, a
global gradient-free phase), constraints, traces, landscapes and diagnostics."""

from ._constraints import (
    AbstractConstraint as AbstractConstraint,
    Bounded as Bounded,
    Positive as Positive,
)
from ._diagnostics import RuggedLossWarning as RuggedLossWarning
from ._ensemble import ensemble_loss as ensemble_loss
from ._fit import fit as fit
from ._global import CMAES as CMAES, AbstractGlobalStrategy as AbstractGlobalStrategy
from ._landscape import Landscape as Landscape, landscape as landscape
from ._trace import (
    FitTrace as FitTrace,
    GlobalTrace as GlobalTrace,
    MultiStartTrace as MultiStartTrace,
)
