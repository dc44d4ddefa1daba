"""Linear (additive) and diffusive (difference) couplings."""

from typing import ClassVar

import jax.numpy as jnp

from ..models._params import param
from ._base import AbstractLinearCoupling


class Linear(AbstractLinearCoupling):
    r"""Linear (additive) coupling: the weighted sum of delayed source values.

    $$c_i = a \sum_j w_{ij}\,x_j(t - \tau_{ij}) + b$$

    **Arguments:**

    - `a`: scale (dimensionless, default 1.0).
    - `b`: offset added to the sum, in the units of the coupled variable's derivative
      (default 0.0).

    String shorthand: `"linear"` (also `"additive"`).

    !!! example

        ```python
        import neuromass as nm

        coupling = nm.coupling.Linear(a=1.0)
        ```
    """

    a: jnp.ndarray = param(1.0)
    b: jnp.ndarray = param(0.0)
    local: ClassVar[float] = 0.0

    def post(self, gx):
        return self.a * gx + self.b


class Diffusive(AbstractLinearCoupling):
    r"""Diffusive (difference) coupling: weighted differences between delayed source
    values and the current local value.

    $$c_i = a \sum_j w_{ij}\,\big(x_j(t - \tau_{ij}) - x_i(t)\big)$$

    **Arguments:**

    - `a`: scale (dimensionless, default 1.0).

    String shorthand: `"diffusive"` (also `"difference"`).

    !!! example

        ```python
        import neuromass as nm

        coupling = nm.coupling.Diffusive()
        ```
    """

    a: jnp.ndarray = param(1.0)
    local: ClassVar[float] = 1.0

    def post(self, gx):
        return self.a * gx


class Scaling(AbstractLinearCoupling):
    r"""Scaling coupling, as in The Virtual Brain (`Scaling`): the weighted sum of
    delayed source values rescaled by a constant, keeping the ratios between
    connection strengths.

    $$c_i = a \sum_j w_{ij}\,x_j(t - \tau_{ij})$$

    It is `neuromass.coupling.Linear` without offset, with TVB's default scale
    $a = 1/256$ (for connectomes of raw streamline counts).

    **Arguments:**

    - `a`: scaling factor (dimensionless, default 0.00390625 = 1/256).

    String shorthand: `"scaling"`.

    !!! example

        ```python
        import neuromass as nm

        coupling = nm.coupling.Scaling(a=0.01)
        ```
    """

    a: jnp.ndarray = param(0.00390625)
    local: ClassVar[float] = 0.0

    def post(self, gx):
        return self.a * gx
