"""Kuramoto (sine of the phase difference) coupling."""

import jax.numpy as jnp

from ..models._params import param
from ._base import AbstractCoupling


class Kuramoto(AbstractCoupling):
    r"""Kuramoto coupling: the weighted sine of the phase differences between the
    (delayed) source phases and the current local phase.

    $$c_i = a \sum_j w_{ij}\,\sin\big(\theta_j(t - \tau_{ij}) - \theta_i(t)\big)$$

    For Kuramoto's mean-field normalisation $K/N$ (all-to-all unit weights) use
    `a = K / N`. The Virtual Brain's `Kuramoto` coupling documents a factor $a/N$
    but, as implemented (its sparse coupling divides by the number of coupled
    variables, 1), applies $a$: use the same `a` as in TVB to reproduce it.

    **Arguments:**

    | parameter | default | meaning |
    |---|---|---|
    | `a` | 1.0 | scale (rad/ms per unit weight) |

    String shorthand: `"kuramoto"`.

    !!! example

        ```python
        import jax.numpy as jnp
        import neuromass as nm

        n = 16
        net = nm.Network(nm.models.Kuramoto(omega=0.06), jnp.ones((n, n)),
                         coupling=nm.coupling.Kuramoto(a=0.05 / n))
        ```
    """

    a: jnp.ndarray = param(1.0)

    def pre(self, x_j, x_i):
        return jnp.sin(x_j - x_i)

    def post(self, gx):
        return self.a * gx
