"""The equation contract and the helpers its implementations share."""

import abc
import dataclasses
import functools
import inspect

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


@functools.cache
def _init_parameters(cls: type) -> tuple[tuple[str, ...], dict]:
    """(the names `__init__` takes, the converter of each field it sets)."""
    params = list(inspect.signature(cls.__init__).parameters.values())[1:]
    names = tuple(
        p.name for p in params if p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD)
    )
    converters = {
        f.name: f.metadata["converter"]
        for f in dataclasses.fields(cls)
        if f.init and f.name in names and f.metadata.get("converter") is not None
    }
    return names, converters


def _check_arguments(cls: type, args: tuple, kwargs: dict) -> None:
    """A `TypeError` naming the parameter and the fix for a wrong keyword or a value
    that is not a number (rather than the bare errors of the generated `__init__`
    and of `jnp.asarray`)."""
    names, converters = _init_parameters(cls)
    unknown = [k for k in kwargs if k not in names]
    if unknown:
        raise TypeError(
            f"{cls.__name__} has no parameter {', '.join(map(repr, unknown))}; its "
            f"parameters are {', '.join(names) or 'none'}."
        )
    if len(args) > len(names):
        raise TypeError(
            f"{cls.__name__} takes at most {len(names)} parameters ({', '.join(names)})"
            f"; got {len(args)} positional arguments."
        )
    given = dict(zip(names, args)) | kwargs
    for name, converter in converters.items():
        value = given.get(name)
        if name not in given or isinstance(
            value, float | int | np.ndarray | np.generic | jax.Array
        ):
            continue  # converted as usual (tracers included)
        try:
            converter(value)
        except (TypeError, ValueError) as e:
            raise TypeError(
                f"`{cls.__name__}({name}=...)` must be a number or an array of "
                f"numbers (e.g. one per region); got {value!r} ({e})."
            ) from None


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

    def __new__(cls, *args, **kwargs):
        if args or kwargs:
            _check_arguments(cls, args, kwargs)
        return super().__new__(cls)

    @abc.abstractmethod
    def __call__(self, var: Float[ArrayLike, "..."]) -> Float[Array, "..."]:
        """The equation evaluated elementwise at `var` (ms or mm)."""
