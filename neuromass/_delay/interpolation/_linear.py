"""Linear interpolation of the delay history."""

from typing import ClassVar

import jax.numpy as jnp

from ._base import AbstractInterpolation, window_values


class LinearInterpolation(AbstractInterpolation):
    r"""Linear interpolation between the two grid states around the read time
    ($a = c - f \in (-1, 1]$):

    $$x(t_{n-m} + a\,\Delta t) \approx (1 - \theta)\, x[n - m + k] + \theta\,
    x[n - m + k + 1],\quad k = \lfloor a \rfloor,\ \theta = a - k.$$

    Second-order accurate: with Heun the error falls as $\Delta t^2$ (default). With
    a coupling linear in the delayed value and Euler or Heun, a read at a grid time
    weighs two grid states (`tap_weights`), and the reads of several steps are
    computed at once (`BlockedLoop`).
    """

    name: ClassVar[str] = "linear"
    window: ClassVar[bool] = True
    grid_taps: ClassVar[int] = 2

    def tap_weights(self, f):
        # x(t_q - (m + f) dt) = (1 - f) x[q - m] + f x[q - m - 1]
        return (1.0 - f, f)

    def window_coefficients(self, plan, c: float):
        a = (c - plan.f)[..., None]  # in (-1, 1]
        kk = jnp.clip(jnp.floor(a), -1.0, 0.0)
        frac = a - kk
        low = kk < 0
        zero = jnp.zeros_like(a)
        return (
            jnp.where(low, 1.0 - frac, zero),
            jnp.where(low, frac, 1.0 - frac),
            jnp.where(low, zero, frac),
        )

    def read(self, plan, store, n, c):
        a = (c - plan.f)[..., None]
        kk = jnp.clip(jnp.floor(a), -1.0, 0.0)
        frac = a - kk
        w0, w1, w2 = window_values(store, n)
        lo = jnp.where(kk < 0, w0, w1)
        hi = jnp.where(kk < 0, w1, w2)
        return lo + frac * (hi - lo)
