"""Noise models (diagonal diffusion terms of the network SDE)."""

from ._coloured import OrnsteinUhlenbeck as OrnsteinUhlenbeck
from ._noise import (
    AbstractNoise as AbstractNoise,
    Additive as Additive,
    Multiplicative as Multiplicative,
)
