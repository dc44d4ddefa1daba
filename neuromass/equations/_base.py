"""The equation contract and the helpers its implementations share."""

import abc
import contextvars
import dataclasses
import functools
import inspect

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, ArrayLike, Float

from .._arguments import check_arguments


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


# While `AbstractEquation.checked` runs the checks, `require` records the rules of
# the traced fields here instead of testing them.
_TRACED_RULES: contextvars.ContextVar = contextvars.ContextVar("rules", default=None)


def require(obj, name: str, ok, rule: str, fix: str) -> None:
    """Raise a `ValueError` naming `type(obj)(name=...)` when the concrete value of
    the field `name` fails the elementwise test `ok` (skipped when traced: then
    `AbstractEquation.checked` tests it at run time)."""
    value = concrete(getattr(obj, name))
    rules = _TRACED_RULES.get()
    if rules is not None:
        if value is None and getattr(obj, name) is not None:
            rules.append((name, ok, rule, fix))
        return
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
    names, converters = _init_parameters(cls)
    check_arguments(
        cls, args, kwargs, names, converters, shape_hint="e.g. one per region"
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

    **Method to implement:** `evaluate(var)` (TVB's name), which receives `var` and
    the parameters already broadcast to one shape (calling the equation does it,
    explicitly, so that neither relies on NumPy's implicit rank promotion).

    !!! example "Writing your own equation"

        ```python
        import equinox as eqx
        import jax.numpy as jnp
        import neuromass as nm

        class Ramp(nm.equations.AbstractEquation):
            slope: jnp.ndarray = eqx.field(converter=jnp.asarray, default=0.01)

            def evaluate(self, var):
                return self.slope * jnp.maximum(var, 0.0)

        print(Ramp()(jnp.array([-5.0, 50.0])))  # [0.  0.5]
        ```
    """

    def __new__(cls, *args, **kwargs):
        if args or kwargs:
            _check_arguments(cls, args, kwargs)
        return super().__new__(cls)

    def __call__(self, var: Float[ArrayLike, "..."]) -> Float[Array, "..."]:
        """The equation evaluated elementwise at `var` (ms or mm), broadcast with
        the parameters' shapes (e.g. an `(N,)` onset per region)."""
        var = jnp.asarray(var)
        names = [
            f.name
            for f in dataclasses.fields(self)
            if eqx.is_array(getattr(self, f.name))
        ]
        values = [getattr(self, n) for n in names]
        shape = jnp.broadcast_shapes(var.shape, *(jnp.shape(v) for v in values))
        equation = self
        if names:
            equation = eqx.tree_at(
                lambda e: [getattr(e, n) for n in names],
                self,
                [jnp.broadcast_to(v, shape) for v in values],
            )
        return equation.evaluate(jnp.broadcast_to(var, shape))

    def checked(self) -> "AbstractEquation":
        """This equation with run-time checks (`eqx.error_if`) of its traced
        parameters: the rules its constructor checks on concrete values (e.g. a
        `PulseTrain` period > 0), for values set inside `jit`/`vmap`/`grad` (with
        `eqx.tree_at`, or swept), and every parameter finite. The error names the
        parameter."""
        rules: list = []
        token = _TRACED_RULES.set(rules)
        try:
            for cls in type(self).__mro__:
                check = cls.__dict__.get("__check_init__")
                if check is not None:
                    check(self)
        finally:
            _TRACED_RULES.reset(token)
        cls = type(self).__name__
        out = self
        for f in dataclasses.fields(self):
            value = getattr(out, f.name)
            if eqx.is_inexact_array(value):
                rules.append(
                    (f.name, jnp.isfinite, "finite", "Give it a finite value.")
                )
        for name, ok, rule, fix in rules:
            value = getattr(out, name)
            value = eqx.error_if(
                value,
                ~jnp.all(ok(value)),
                f"`{cls}({name}=...)` must be {rule} (a traced value, e.g. set with "
                f"`eqx.tree_at` or swept). {fix}",
            )
            out = eqx.tree_at(lambda e, name=name: getattr(e, name), out, value)
        return out

    @abc.abstractmethod
    def evaluate(self, var: Float[Array, "..."]) -> Float[Array, "..."]:
        """The equation at `var` (ms or mm), elementwise; `var` and the array
        parameters have one shape."""
