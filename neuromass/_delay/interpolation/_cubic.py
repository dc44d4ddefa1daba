"""Cubic (4-point Lagrange) interpolation of the delay history."""

from typing import ClassVar

import jax.numpy as jnp

from .._ring import gather
from ._base import AbstractInterpolation


class CubicInterpolation(AbstractInterpolation):
    r"""4-point Lagrange interpolation on the grid states around the read position,
    shifted back so that no node is later than $t_n$:

    $$x(t_b + s\,\Delta t) \approx \sum_{q=0}^{3} \ell_q(s)\, x[b + q],\quad
    \ell_q(s) = \prod_{r \ne q} \frac{s - r}{q - r}.$$

    Fourth-order accurate in the interpolation, for higher-order solvers (Tsit5,
    Bosh3); reads the history ring directly at each stage.
    """

    name: ClassVar[str] = "cubic"

    def read(self, plan, store, n, c):
        kf = jnp.floor(c - plan.f).astype(jnp.int32)
        b = jnp.minimum(kf - 1, plan.m - 3)
        s = (c - plan.f - b)[..., None]
        vals = [gather(plan, store, n, b - plan.m + q) for q in range(4)]
        l0 = -(s - 1.0) * (s - 2.0) * (s - 3.0) / 6.0
        l1 = s * (s - 2.0) * (s - 3.0) / 2.0
        l2 = -s * (s - 1.0) * (s - 3.0) / 2.0
        l3 = s * (s - 1.0) * (s - 2.0) / 6.0
        return l0 * vals[0] + l1 * vals[1] + l2 * vals[2] + l3 * vals[3]
