"""Interpolation of the delay history at stage times: the base class.

An edge with delay $\\tau = (m + f)\\,\\Delta t$ ($m \\ge 1$ whole steps,
$0 \\le f < 1$) is read at stage time $t_n + c\\,\\Delta t$ at position
$n - m + (c - f)$ of the grid of past states, which lies between grid states
$n - m - 1$ and $n - m + 1$. An interpolation says how delays are rounded
(`whole_steps`) and how such a read is made from the grid states:

- *window* interpolations (`window = True`) use only the three grid values
  $x_{n-m-1}, x_{n-m}, x_{n-m+1}$, which the loop keeps in a per-edge window that
  slides by one state per step; they give `window_coefficients(plan, c)`, the read
  as weights of those three values for a stage offset `c` known at trace time;
- every interpolation gives `read(plan, store, n, c)`, the read for any `c`
  (`store` is the window for window interpolations, else the history ring);
- *grid-tap* interpolations (`grid_taps > 0`) read a grid time $t_q$ (a stage at
  `c = 0` or `c = 1`) as a fixed weighting of the grid states
  $x_{q-m}, \\dots, x_{q-m-T+1}$ that depends on the edge only, not on the step:
  `tap_weights(f)`. The blocked loop (`BlockedLoop`) reads several steps at once
  from them.

To add one, subclass `AbstractInterpolation` in a new file of this folder and export
it from `neuromass/__init__.py` (and, optionally, give it a string alias in
`INTERPOLATIONS`).
"""

import abc
from typing import ClassVar

import equinox as eqx
import jax
import jax.numpy as jnp


class AbstractInterpolation(eqx.Module):
    """Base class of delay-history interpolations (see the module docstring)."""

    name: ClassVar[str]
    whole_steps: ClassVar[bool] = False
    window: ClassVar[bool] = False

    grid_taps: ClassVar[int] = 0

    def tap_weights(self, f) -> tuple:
        """The read at a grid time $t_q$ of edges whose delays have the fractional
        parts `f` (in steps, any shape) as weights of the grid states $x_{q-m-t}$,
        $t = 0, \\dots,$ `grid_taps` $- 1$ (grid-tap interpolations only). The
        blocked reads and both forms of the pulled adjoint use them."""
        raise TypeError(f"{type(self).__name__} has no fixed grid taps.")

    def window_coefficients(self, plan, c: float):
        """The read at stage offset `c` as weights of the window values
        `(w0, w1, w2)` (window interpolations only)."""
        raise TypeError(f"{type(self).__name__} does not read from a window.")

    @abc.abstractmethod
    def read(self, plan, store, n, c):
        """Delayed source values `(K, N, V)` of every edge at stage time
        `t_n + c dt`."""


def window_values(win, n):
    """The window's three values `(w0, w1, w2)` at step `n` (steps `n-m-1+q`)."""
    return tuple(
        jax.lax.dynamic_index_in_dim(win, jnp.mod(n + q, 3), keepdims=False)
        for q in range(3)
    )


def read_window(values, coefficients):
    """A read from the window values `(w0, w1, w2)` with the result of
    `window_coefficients`: a Python int selects one value, a tuple weighs all three."""
    if isinstance(coefficients, int):
        return values[coefficients]
    c0, c1, c2 = coefficients
    w0, w1, w2 = values
    return c0 * w0 + c1 * w1 + c2 * w2
