"""Nearest-grid-point reads of the delay history."""

from typing import ClassVar

import jax.numpy as jnp
import numpy as np

from ._base import AbstractInterpolation, window_values


class NearestInterpolation(AbstractInterpolation):
    r"""Delays rounded to whole steps, $m = \mathrm{round}(\tau/\Delta t)$ (halves to
    even, as The Virtual Brain's integer delays), and every stage at offset $c$ reads
    the grid state nearest to $t_n + c\,\Delta t - m\,\Delta t$:

    $$x_j(t_n + c\Delta t - \tau_{ij}) \approx x_j[n - m + \lfloor c + 1/2 \rfloor].$$

    First-order accurate in the delay; reproduces TVB and brainmass. With a coupling
    linear in the delayed value and Euler or Heun, the reads of several steps are
    computed at once (`BlockedLoop`).
    """

    name: ClassVar[str] = "nearest"
    whole_steps: ClassVar[bool] = True
    window: ClassVar[bool] = True
    grid_taps: ClassVar[int] = 1

    def tap_weights(self, f):
        return (jnp.ones_like(f),)

    def window_coefficients(self, plan, c: float):
        # delays are whole steps (f = 0): the value q = floor(c + 1/2) steps after
        # n - m, index q + 1 of (w0, w1, w2)
        return int(np.floor(c + 0.5)) + 1

    def read(self, plan, store, n, c):
        a = (c - plan.f)[..., None]
        q = jnp.floor(a + 0.5)
        w0, w1, w2 = window_values(store, n)
        return jnp.where(q < 0, w0, jnp.where(q > 0, w2, w1))
