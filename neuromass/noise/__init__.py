"""Noise models (diagonal diffusion terms of the network SDE)."""

from ._noise import (
    AbstractNoise as AbstractNoise,
    Additive as Additive,
    Multiplicative as Multiplicative,
)
from ._coloured import OrnsteinUhlenbeck as OrnsteinUhlenbeck
