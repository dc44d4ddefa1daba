"""Helpers for declaring node and coupling parameters and broadcasting them."""

import equinox as eqx
import jax.numpy as jnp


def _to_float_array(x):
    return jnp.asarray(x, dtype=jnp.result_type(float))


def param(default: float, *, positive: bool = False):
    """Declare a float parameter field: stored as an array leaf (vmappable,
    differentiable), given as a Python float, a scalar or a per-region `(N,)` array.

    `positive=True` declares the parameter's domain $x > 0$ (a time constant or a
    rate): a concrete value outside it is refused when the model is built, and a
    traced one (set with `eqx.tree_at`, swept, fitted) is an error at run time."""
    return eqx.field(
        default=default, converter=_to_float_array, metadata={"positive": positive}
    )


def positive_parameters(node) -> tuple[str, ...]:
    """The names of `node`'s parameters declared `param(..., positive=True)`."""
    import dataclasses

    return tuple(
        f.name for f in dataclasses.fields(node) if f.metadata.get("positive", False)
    )


def leading(x, ndim: int):
    """`x` with leading axes of length 1 up to `ndim` axes: explicit broadcasting of
    a scalar or per-region parameter against arrays with more axes (implicit rank
    promotion is refused by the test suite)."""
    return jnp.reshape(x, (1,) * (ndim - jnp.ndim(x)) + jnp.shape(x))
