"""Delay adjoints: how reverse-mode differentiation goes back through the delay
history (one class per file)."""

from ._autodiff import AutodiffDelayAdjoint as AutodiffDelayAdjoint
from ._base import AbstractDelayAdjoint as AbstractDelayAdjoint
from ._choose import get_delay_adjoint as get_delay_adjoint
from ._pulled import PulledDelayAdjoint as PulledDelayAdjoint
