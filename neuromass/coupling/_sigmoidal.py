"""Sigmoidal couplings."""

import jax.numpy as jnp

from ..models._params import param
from ..utils import sigmoid
from ._base import AbstractCoupling


class SigmoidalJansenRit(AbstractCoupling):
    r"""Sigmoidal coupling of Jansen-Rit columns, as in The Virtual Brain.

    The source regions send the firing rate of their pyramidal population, a sigmoid
    of the difference of the first two coupled variables ($y_1 - y_2$ for
    [`neuromass.models.JansenRit`][]):

    $$c_i = a \sum_j w_{ij}\,
    \frac{c_{max}}{1 + e^{r\,(v_0 - (y_{1,j}(t-\tau_{ij}) - y_{2,j}(t-\tau_{ij})))}}$$

    The result is a single input, delivered under the name of the first coupled
    variable (`"y1"` for Jansen-Rit).

    **Arguments:**

    - `cmax`: maximal rate (1/ms, default 0.005 = 2 `nu_max`).
    - `midpoint`: sigmoid midpoint $v_0$ (mV, default 6.0).
    - `r`: steepness (1/mV, default 0.56).
    - `a`: scale (default 1.0).

    String shorthand: `"sigmoidal_jansen_rit"`.

    !!! example

        ```python
        import neuromass as nm

        coupling = nm.coupling.SigmoidalJansenRit()
        ```
    """

    cmax: jnp.ndarray = param(0.005)
    midpoint: jnp.ndarray = param(6.0)
    r: jnp.ndarray = param(0.56)
    a: jnp.ndarray = param(1.0)

    def pre(self, x_j, x_i):
        if x_j.shape[-1] < 2:
            raise ValueError(
                "`SigmoidalJansenRit` needs two coupled variables (y1, y2); got "
                f"{x_j.shape[-1]}. Use `coupled_vars=('y1', 'y2')`."
            )
        v = x_j[..., 0:1] - x_j[..., 1:2]
        return sigmoid(v, self.cmax, self.r, self.midpoint)

    def post(self, gx):
        return self.a * gx
