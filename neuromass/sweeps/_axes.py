"""Axes: one-dimensional families of values for one parameter of a sweep."""

import abc
import dataclasses
import hashlib
from typing import Any

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, ArrayLike, PRNGKeyArray


def _shape_tuple(shape: Any) -> tuple[int, ...] | None:
    if shape is None:
        return None
    if isinstance(shape, int):
        return (shape,)
    return tuple(int(s) for s in shape)


def _sample_shape(shape: Any) -> tuple[int, ...]:
    return _shape_tuple(shape) or ()


def _broadcast(values: Array, shape: tuple[int, ...] | None) -> Array:
    """`(n,)` values -> `(n, *shape)`, each point's value repeated over `shape`."""
    if shape is None:
        return values
    n = values.shape[0]
    expanded = values.reshape((n,) + (1,) * len(shape))
    return jnp.broadcast_to(expanded, (n,) + shape)


def _check_n(cls: str, n: int) -> None:
    if isinstance(n, bool) or not isinstance(n, int | np.integer) or n < 1:
        raise ValueError(f"`{cls}(n=...)` must be an integer >= 1; got n={n!r}.")


def _check_bounds(cls: str, low: float, high: float) -> None:
    if not low < high:
        raise ValueError(f"`{cls}` needs `low < high`; got low={low!r}, high={high!r}.")


def _need_key(cls: str, key: PRNGKeyArray | None) -> PRNGKeyArray:
    if key is None:
        raise ValueError(
            f"`{cls}` draws random values and needs a key: pass `key=` to `Space` "
            f"(or to `{cls}.values`)."
        )
    return key


class AbstractAxis(eqx.Module):
    """Base class for the axes of a `neuromass.sweeps.Space`.

    An axis is a one-dimensional family of `size` values for one parameter. The
    values may be scalars or arrays (a per-region vector, a connectivity matrix...):
    `values(key)` returns them stacked along a leading axis of length `size`.

    Subclass it to add a sampling strategy: implement `size` and `values`.
    """

    @property
    @abc.abstractmethod
    def size(self) -> int:
        """The number of values on this axis."""

    @abc.abstractmethod
    def values(self, key: PRNGKeyArray | None = None) -> Array:
        """The axis values, shape `(size, *value_shape)`.

        **Arguments:**

        - `key`: a JAX PRNG key, needed by random axes and ignored by the others.

        **Returns:**

        An array whose leading axis has length `size`.
        """


class GridAxis(AbstractAxis):
    """`n` evenly spaced values from `low` to `high`, both included.

    With `shape=`, each value is broadcast to an array of that shape, e.g. one
    coupling value repeated over all regions of a heterogeneous parameter.

    !!! example

        ```python
        from neuromass.sweeps import GridAxis

        GridAxis(0.0, 1.0, 5).values()               # [0., 0.25, 0.5, 0.75, 1.]
        GridAxis(0.0, 1.0, 3, shape=(4,)).values()   # shape (3, 4)
        ```
    """

    low: float = eqx.field(converter=float)
    high: float = eqx.field(converter=float)
    n: int = eqx.field(static=True)
    shape: tuple[int, ...] | None = eqx.field(
        default=None, static=True, converter=_shape_tuple
    )

    def __check_init__(self):
        _check_n("GridAxis", self.n)
        _check_bounds("GridAxis", self.low, self.high)

    @property
    def size(self) -> int:
        return int(self.n)

    def values(self, key: PRNGKeyArray | None = None) -> Array:
        return _broadcast(jnp.linspace(self.low, self.high, self.n), self.shape)


GridAxis.__init__.__doc__ = """**Arguments:**

- `low`: the first value.
- `high`: the last value; must be greater than `low`.
- `n`: the number of values (>= 1; `n=1` gives just `low`).
- `shape`: optional parameter shape each value is broadcast to.
"""


class LogGridAxis(AbstractAxis):
    """`n` logarithmically spaced values from `low` to `high` (both > 0, included).

    Useful for rates, time constants and noise amplitudes spanning decades.
    `shape=` broadcasts each value as for `neuromass.sweeps.GridAxis`.

    !!! example

        ```python
        from neuromass.sweeps import LogGridAxis

        LogGridAxis(1e-3, 1e-1, 3).values()   # [0.001, 0.01, 0.1]
        ```
    """

    low: float = eqx.field(converter=float)
    high: float = eqx.field(converter=float)
    n: int = eqx.field(static=True)
    shape: tuple[int, ...] | None = eqx.field(
        default=None, static=True, converter=_shape_tuple
    )

    def __check_init__(self):
        _check_n("LogGridAxis", self.n)
        if not self.low > 0:
            raise ValueError(
                f"`LogGridAxis(low=...)` must be > 0; got low={self.low!r}."
            )
        if not self.high > 0:
            raise ValueError(
                f"`LogGridAxis(high=...)` must be > 0; got high={self.high!r}."
            )
        _check_bounds("LogGridAxis", self.low, self.high)

    @property
    def size(self) -> int:
        return int(self.n)

    def values(self, key: PRNGKeyArray | None = None) -> Array:
        exps = jnp.linspace(np.log10(self.low), np.log10(self.high), self.n)
        vals = 10.0**exps
        # Make the end points exact rather than off by one rounding step.
        vals = vals.at[0].set(self.low)
        if self.n > 1:
            vals = vals.at[-1].set(self.high)
        return _broadcast(vals, self.shape)


LogGridAxis.__init__.__doc__ = """**Arguments:**

- `low`: the first value, > 0.
- `high`: the last value, > `low`.
- `n`: the number of values (>= 1).
- `shape`: optional parameter shape each value is broadcast to.
"""


class UniformAxis(AbstractAxis):
    """`n` values drawn independently and uniformly from `[low, high)`.

    Needs a key (given to `neuromass.sweeps.Space`); the same key gives the same
    values. With `shape=`, *one* value is drawn per point and broadcast to that shape
    (use `neuromass.sweeps.DistributionAxis` with `independent=True` to draw every
    element separately).

    !!! example

        ```python
        import jax
        from neuromass.sweeps import UniformAxis

        UniformAxis(0.0, 0.1, 8).values(jax.random.key(0))   # shape (8,)
        ```
    """

    low: float = eqx.field(converter=float)
    high: float = eqx.field(converter=float)
    n: int = eqx.field(static=True)
    shape: tuple[int, ...] | None = eqx.field(
        default=None, static=True, converter=_shape_tuple
    )

    def __check_init__(self):
        _check_n("UniformAxis", self.n)
        _check_bounds("UniformAxis", self.low, self.high)

    @property
    def size(self) -> int:
        return int(self.n)

    def values(self, key: PRNGKeyArray | None = None) -> Array:
        key = _need_key("UniformAxis", key)
        vals = jax.random.uniform(key, (self.n,), minval=self.low, maxval=self.high)
        return _broadcast(vals, self.shape)


UniformAxis.__init__.__doc__ = """**Arguments:**

- `low`: lower bound (included).
- `high`: upper bound (excluded), > `low`.
- `n`: the number of draws (>= 1).
- `shape`: optional parameter shape each drawn value is broadcast to.
"""


class DataAxis(AbstractAxis):
    """Explicit values: any array whose leading axis enumerates the points.

    The values can be scalars (`shape (n,)`) or arrays of any shape, e.g. a stack of
    connectivity matrices `(n, N, N)` to sweep over subjects.

    !!! example

        ```python
        import numpy as np
        from neuromass.sweeps import DataAxis

        DataAxis([0.1, 0.2, 0.5]).size                 # 3
        DataAxis(np.stack([np.eye(4), np.ones((4, 4))])).values().shape  # (2, 4, 4)
        ```
    """

    data: Array

    def __init__(self, values: ArrayLike):
        data = jnp.asarray(values)
        if data.ndim < 1:
            raise ValueError(
                "`DataAxis(values)` needs an array with a leading axis that enumerates "
                f"the points; got a scalar {values!r}. Wrap it in a list."
            )
        if data.shape[0] < 1:
            raise ValueError("`DataAxis(values)` needs at least one value; got none.")
        self.data = data

    @property
    def size(self) -> int:
        return int(self.data.shape[0])

    def values(self, key: PRNGKeyArray | None = None) -> Array:
        return self.data


DataAxis.__init__.__doc__ = """**Arguments:**

- `values`: array-like with a leading axis of length >= 1 (a list of numbers, or a
    stacked array of vectors/matrices).
"""


class DistributionAxis(AbstractAxis):
    """`n` draws from a probability distribution.

    `dist` is any object with a `sample(key, sample_shape)` method returning an array
    of shape `sample_shape + batch_shape`; NumPyro distributions (when NumPyro is
    installed) and TensorFlow-Probability-on-JAX distributions qualify.

    When the parameter is an array (`sample_shape=(N,)` or a distribution with a batch
    shape), `independent` chooses between two ways of filling it:

    - `independent=True`: every element of every point is an independent draw,
      values shape `(n, *sample_shape, *batch_shape)`;
    - `independent=False` (broadcast): one draw per point, repeated over
      `sample_shape`, so all regions of a point share the same value.

    !!! example

        ```python
        import jax
        import numpyro.distributions as dist
        from neuromass.sweeps import DistributionAxis

        axis = DistributionAxis(dist.LogNormal(0.0, 0.5), n=100)
        axis.values(jax.random.key(0)).shape        # (100,)
        per_region = DistributionAxis(dist.Normal(0.2, 0.05), n=8, sample_shape=(76,))
        per_region.values(jax.random.key(0)).shape  # (8, 76)
        ```
    """

    dist: Any
    n: int = eqx.field(static=True)
    sample_shape: tuple[int, ...] = eqx.field(
        default=(), static=True, converter=_sample_shape
    )
    independent: bool = eqx.field(default=True, static=True)

    def __check_init__(self):
        if not callable(getattr(self.dist, "sample", None)):
            raise ValueError(
                "`DistributionAxis(dist=...)` needs an object with a "
                "`sample(key, sample_shape)` method (e.g. a NumPyro distribution); "
                f"got {type(self.dist).__name__}."
            )
        _check_n("DistributionAxis", self.n)

    @property
    def size(self) -> int:
        return int(self.n)

    def values(self, key: PRNGKeyArray | None = None) -> Array:
        key = _need_key("DistributionAxis", key)
        if self.independent:
            return jnp.asarray(self.dist.sample(key, (self.n,) + self.sample_shape))
        draws = jnp.asarray(self.dist.sample(key, (self.n,)))
        rest = draws.shape[1:]
        expanded = draws.reshape((self.n,) + (1,) * len(self.sample_shape) + rest)
        return jnp.broadcast_to(expanded, (self.n,) + self.sample_shape + rest)


DistributionAxis.__init__.__doc__ = """**Arguments:**

- `dist`: an object with `sample(key, sample_shape)`, e.g. a NumPyro distribution.
- `n`: the number of points (>= 1).
- `sample_shape`: the shape of the parameter filled at each point (default scalar).
- `independent`: `True` draws every element independently; `False` draws one value
    per point and broadcasts it over `sample_shape`.
"""


def _jsonable(value: Any) -> Any:
    if isinstance(value, bool | int | float | str) or value is None:
        return value
    if isinstance(value, tuple | list):
        return [_jsonable(v) for v in value]
    if isinstance(value, np.ndarray | jax.Array | np.generic):
        arr = np.asarray(value)
        digest = hashlib.sha256(arr.tobytes()).hexdigest()
        return {"dtype": str(arr.dtype), "shape": list(arr.shape), "sha256": digest}
    return type(value).__module__ + "." + type(value).__qualname__


def axis_spec(axis: AbstractAxis) -> dict[str, Any]:
    """A JSON-able description of an axis (type and field values), for manifests."""
    spec: dict[str, Any] = {"type": type(axis).__qualname__}
    for field in dataclasses.fields(axis):
        spec[field.name] = _jsonable(getattr(axis, field.name))
    return spec
