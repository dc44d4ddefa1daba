"""Couplings between regions: pre → weighted sum over `weights[to, from]` → post."""

from ._base import (
    AbstractCoupling as AbstractCoupling,
    AbstractLinearCoupling as AbstractLinearCoupling,
)
from ._kuramoto import Kuramoto as Kuramoto
from ._laplacian import Laplacian as Laplacian
from ._linear import Diffusive as Diffusive, Linear as Linear, Scaling as Scaling
from ._registry import get_coupling as get_coupling
from ._sigmoidal import (
    PreSigmoidal as PreSigmoidal,
    Sigmoidal as Sigmoidal,
    SigmoidalJansenRit as SigmoidalJansenRit,
    Tanh as Tanh,
)
