"""Couplings between regions: pre → weighted sum over `weights[to, from]` → post."""

from ._base import AbstractCoupling as AbstractCoupling
from ._linear import Diffusive as Diffusive, Linear as Linear
from ._registry import get_coupling as get_coupling
from ._sigmoidal import SigmoidalJansenRit as SigmoidalJansenRit
