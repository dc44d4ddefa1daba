"""Helpers for declaring node and coupling parameters."""

import equinox as eqx
import jax.numpy as jnp


def _to_float_array(x):
    return jnp.asarray(x, dtype=jnp.result_type(float))


def param(default: float):
    """Declare a float parameter field: stored as an array leaf (vmappable,
    differentiable), given as a Python float, a scalar or a per-region `(N,)` array."""
    return eqx.field(default=default, converter=_to_float_array)
