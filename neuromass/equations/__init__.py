"""Temporal and spatial equations of stimuli (The Virtual Brain's `equations`).

Each equation is an `eqx.Module` evaluated elementwise on times (ms) or distances
(mm); its parameters are array leaves that can be swept, replaced and
differentiated.
"""

from ._base import AbstractEquation as AbstractEquation
from ._spatial import (
    DoubleGaussian as DoubleGaussian,
    Gaussian as Gaussian,
    Sigmoid as Sigmoid,
)
from ._temporal import (
    Alpha as Alpha,
    Cosine as Cosine,
    GeneralizedSigmoid as GeneralizedSigmoid,
    Linear as Linear,
    PulseTrain as PulseTrain,
    Sinusoid as Sinusoid,
)
