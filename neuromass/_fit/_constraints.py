"""Constraints of fitted parameters: smooth bijections from unconstrained space."""

import abc

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, ArrayLike, Float


class AbstractConstraint(eqx.Module):
    r"""Base class of parameter constraints used by `neuromass.fit`.

    A constraint is a reparametrisation: the optimiser updates an unconstrained
    array $u \in \mathbb{R}^n$ and the model sees $x = \mathrm{forward}(u)$, which
    lies in the allowed set for every $u$. So every optimiser step gives a valid
    parameter, whatever the learning rate. `inverse` maps the initial value to its
    unconstrained coordinate.

    Subclasses implement three methods:

    - `forward(u) -> x`: unconstrained to constrained, elementwise, differentiable.
    - `inverse(x) -> u`: its inverse (used once, to initialise).
    - `violation(x) -> str | None`: given a concrete NumPy array, a short description
      of why `x` is not a valid *initial* value (`None` if it is).

    !!! example

        ```python
        import jax.numpy as jnp
        import neuromass as nm


        class Negative(nm.AbstractConstraint):
            def forward(self, u):
                return -jnp.exp(u)

            def inverse(self, x):
                return jnp.log(-x)

            def violation(self, x):
                return None if (x < 0).all() else f"max {x.max():g} is not < 0"
        ```
    """

    @abc.abstractmethod
    def forward(self, u: Float[Array, "*shape"]) -> Float[Array, "*shape"]:
        """Map the unconstrained coordinate `u` to the parameter value."""

    @abc.abstractmethod
    def inverse(self, x: Float[Array, "*shape"]) -> Float[Array, "*shape"]:
        """Map a valid parameter value `x` to its unconstrained coordinate."""

    @abc.abstractmethod
    def violation(self, x: np.ndarray) -> str | None:
        """Why `x` is not a valid initial value, or `None` if it is."""


class Positive(AbstractConstraint):
    r"""Keep a parameter strictly positive, $x > 0$, through the softplus map

    $$x = \log\left(1 + e^{u}\right), \qquad u = x + \log\left(1 - e^{-x}\right).$$

    The map is close to the identity for $x \gg 1$ and to $e^u$ near 0, so the
    parameter can approach 0 but never reach or cross it (in floating point it can
    underflow to 0 only after $u \lesssim -100$ in float32).

    The initial value must be strictly positive: start a coupling at e.g. `1e-3`,
    not at 0.

    !!! example

        ```python
        fitted, trace = nm.fit(net, loss, params=lambda n: n.k,
                               constraints={lambda n: n.k: nm.Positive()},
                               optimizer=optax.adam(1e-2), steps=100)
        ```
    """

    def forward(self, u):
        return jax.nn.softplus(u)

    def inverse(self, x):
        return x + jnp.log(-jnp.expm1(-x))

    def violation(self, x):
        bad = ~(x > 0) | ~np.isfinite(x)
        if np.any(bad):
            return (
                f"{int(bad.sum())} value(s) are not finite and > 0 (min "
                f"{np.min(x):g}); start strictly inside, e.g. at 1e-3 instead of 0"
            )
        return None


class Bounded(AbstractConstraint):
    r"""Keep a parameter inside an interval, $\mathrm{low} \le x \le \mathrm{high}$,
    through a scaled logistic sigmoid

    $$x = \mathrm{low} + (\mathrm{high} - \mathrm{low})\,\sigma(u), \qquad
      u = \log\frac{p}{1 - p}, \quad p = \frac{x - \mathrm{low}}
      {\mathrm{high} - \mathrm{low}}.$$

    The bounds can be approached as closely as the optimiser likes (an optimum on
    a bound is reached asymptotically; with Adam the distance to the bound shrinks
    geometrically) and are never crossed: the value is also clipped to
    `[low, high]` against rounding.

    **Arguments:**

    - `low`, `high`: the bounds, in the parameter's units; scalars, or arrays that
        broadcast to the parameter's shape (e.g. `(N,)` per-region bounds). Finite,
        with `low < high` everywhere.

    The initial value must lie strictly between the bounds.

    !!! example

        ```python
        constraints = {lambda n: n.node.a: nm.Bounded(-0.5, 0.5)}
        ```
    """

    low: Float[Array, "..."]
    high: Float[Array, "..."]

    def __init__(self, low: Float[ArrayLike, "..."], high: Float[ArrayLike, "..."]):
        lo = np.asarray(low, dtype=float)
        hi = np.asarray(high, dtype=float)
        if not (np.all(np.isfinite(lo)) and np.all(np.isfinite(hi))):
            raise ValueError(
                f"`Bounded` needs finite `low` and `high`; got {low!r}, {high!r}. "
                "For a one-sided bound on a positive parameter use `Positive()`."
            )
        try:
            np.broadcast_shapes(lo.shape, hi.shape)
        except ValueError:
            raise ValueError(
                f"`Bounded`: `low` (shape {lo.shape}) and `high` (shape {hi.shape}) "
                "do not broadcast together."
            ) from None
        if not np.all(lo < hi):
            raise ValueError(
                f"`Bounded` needs `low` < `high` everywhere; got low={low!r}, "
                f"high={high!r}."
            )
        self.low = jnp.asarray(low, dtype=jnp.result_type(float))
        self.high = jnp.asarray(high, dtype=jnp.result_type(float))

    def _bounds(self, like):
        """`low`, `high` broadcast to `like`'s shape (explicitly: a batch of values
        has a leading axis the bounds lack)."""
        like = jnp.asarray(like)
        shape = jnp.broadcast_shapes(like.shape, self.low.shape, self.high.shape)
        low = jnp.broadcast_to(self.low.astype(like.dtype), shape)
        high = jnp.broadcast_to(self.high.astype(like.dtype), shape)
        return low, high, jnp.broadcast_to(like, shape)

    def forward(self, u):
        low, high, u = self._bounds(u)
        return jnp.clip(low + (high - low) * jax.nn.sigmoid(u), low, high)

    def inverse(self, x):
        low, high, x = self._bounds(x)
        p = (x - low) / (high - low)
        return jnp.log(p) - jnp.log1p(-p)

    def violation(self, x):
        low, high = np.asarray(self.low), np.asarray(self.high)
        bad = ~((x > low) & (x < high))
        if np.any(bad):
            return (
                f"{int(bad.sum())} value(s) are not strictly inside "
                f"[{_fmt(low)}, {_fmt(high)}] (values from {np.min(x):g} to "
                f"{np.max(x):g})"
            )
        return None


def _fmt(a: np.ndarray) -> str:
    return f"{a.item():g}" if a.size == 1 else f"array{a.shape}"


Bounded.__init__.__doc__ = """**Arguments:**

- `low`: lower bound (scalar or array broadcasting to the parameter).
- `high`: upper bound, `> low` everywhere.
"""
