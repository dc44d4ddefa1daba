"""Helpers for declaring node and coupling parameters and broadcasting them."""

import equinox as eqx
import jax.numpy as jnp


def _to_float_array(x):
    return jnp.asarray(x, dtype=jnp.result_type(float))


def param(default: float):
    """Declare a float parameter field: stored as an array leaf (vmappable,
    differentiable), given as a Python float, a scalar or a per-region `(N,)` array."""
    return eqx.field(default=default, converter=_to_float_array)


def leading(x, ndim: int):
    """`x` with leading axes of length 1 up to `ndim` axes: explicit broadcasting of
    a scalar or per-region parameter against arrays with more axes (implicit rank
    promotion is refused by the test suite)."""
    return jnp.reshape(x, (1,) * (ndim - jnp.ndim(x)) + jnp.shape(x))
