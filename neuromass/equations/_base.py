"""The equation contract and the helpers its implementations share."""

import abc

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, ArrayLike, Float


def _as_float(x):
    return jnp.asarray(x, dtype=jnp.result_type(float))


def _as_float_or_none(x):
    return None if x is None else _as_float(x)


def parameter(default: float | None):
    """A parameter field: stored as a float array leaf (so that it can be swept with
    `vmap`, replaced with `eqx.tree_at` and differentiated)."""
    return eqx.field(default=default, converter=_as_float)


def optional_parameter(default: None = None):
    """A parameter field that may be None (a mode switch) or a float array leaf."""
    return eqx.field(default=default, converter=_as_float_or_none)


def concrete(x) -> np.ndarray | None:
    """`x` as a NumPy array, or None when it is traced (its value is unknown, e.g.
    inside `jit` or `vmap`: checks are then skipped)."""
    if x is None or isinstance(x, jax.core.Tracer):
        return None
    try:
        return np.asarray(x)
    except (jax.errors.TracerArrayConversionError, jax.errors.ConcretizationTypeError):
        return None


def require(obj, name: str, ok, rule: str, fix: str) -> None:
    """Raise a `ValueError` naming `type(obj)(name=...)` when the concrete value of
    the field `name` fails the elementwise test `ok` (skipped when traced)."""
    value = concrete(getattr(obj, name))
    if value is None:
        return
    if not np.all(ok(value)):
        shown = value.item() if value.ndim == 0 else np.array2string(value, threshold=6)
        raise ValueError(
            f"`{type(obj).__name__}({name}=...)` must be {rule}; got {shown}. {fix}"
        )


class AbstractEquation(eqx.Module):
    r"""Base class of the temporal and spatial equations of stimuli.

    An equation is a function $f(x; \theta)$ of one variable $x$, a time in ms
    (temporal use: the time course of a stimulus) or a distance in mm (spatial use:
    how a surface stimulus falls off with the geodesic distance from its focus).
    Its parameters $\theta$ are fields stored as float arrays, so an equation is a
    pytree: sweep a parameter with `jax.vmap`, change it with `eqx.tree_at`, or
    differentiate with respect to it.

    Calling an equation evaluates it elementwise: `eq(x)` has the shape of `x`
    (broadcast with the parameters' shapes when those are arrays, e.g. an `(N,)`
    onset per region).

    **Method to implement:** `__call__(var)`.

    !!! example "Writing your own equation"

        ```python
        import equinox as eqx
        import jax.numpy as jnp
        import neuromass as nm

        class Ramp(nm.equations.AbstractEquation):
            slope: jnp.ndarray = eqx.field(converter=jnp.asarray, default=0.01)

            def __call__(self, var):
                return self.slope * jnp.maximum(jnp.asarray(var), 0.0)

        print(Ramp()(jnp.array([-5.0, 50.0])))  # [0.  0.5]
        ```
    """

    @abc.abstractmethod
    def __call__(self, var: Float[ArrayLike, "..."]) -> Float[Array, "..."]:
        """The equation evaluated elementwise at `var` (ms or mm)."""
