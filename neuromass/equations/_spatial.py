"""Bell and sigmoid shapes: The Virtual Brain's spatial equations (over distance),
also usable as temporal equations (over time)."""

import jax
import jax.numpy as jnp

from ._base import AbstractEquation, parameter, require
from ._temporal import _PI_OVER_SQRT3


def _positive_width(obj, name):
    require(
        obj,
        name,
        lambda s: s > 0,
        "> 0 (a width: ms over time, mm over distance)",
        "Give the standard deviation of the shape.",
    )


class Gaussian(AbstractEquation):
    r"""A Gaussian bell, The Virtual Brain's `Gaussian`.

    $$f(x) = \mathrm{amp}\,\exp\!\Big(-\frac{(x - \mathrm{midpoint})^2}
      {2\sigma^2}\Big) + \mathrm{offset}$$

    Spatially ($x$ a distance in mm from a focal point, `midpoint` 0) it is a
    stimulus that falls off smoothly around its focus; temporally ($x$ a time in
    ms) a single smooth bump centred at `midpoint`.

    **Arguments:** (TVB's defaults)

    - `amp`: peak height above `offset` (1.0).
    - `sigma`: width (standard deviation), mm or ms, $> 0$ (1.0).
    - `midpoint`: centre, mm or ms (0.0).
    - `offset`: constant added everywhere (0.0).

    !!! example

        ```python
        import jax.numpy as jnp
        import numpy as np
        import neuromass as nm

        bump = nm.equations.Gaussian(sigma=5.0)
        print(np.asarray(bump(jnp.array([0.0, 5.0]))).round(4))  # [1.     0.6065]
        ```
    """

    amp: jnp.ndarray = parameter(1.0)
    sigma: jnp.ndarray = parameter(1.0)
    midpoint: jnp.ndarray = parameter(0.0)
    offset: jnp.ndarray = parameter(0.0)

    def __check_init__(self):
        _positive_width(self, "sigma")

    def evaluate(self, var):
        d = jnp.asarray(var) - self.midpoint
        return self.amp * jnp.exp(-(d**2 / (2.0 * self.sigma**2))) + self.offset


class DoubleGaussian(AbstractEquation):
    r"""A difference of two Gaussians (a "Mexican hat"), The Virtual Brain's
    `DoubleGaussian`.

    $$f(x) = a_1 \exp\!\Big(-\frac{(x - m_1)^2}{2\sigma_1^2}\Big)
      - a_2 \exp\!\Big(-\frac{(x - m_2)^2}{2\sigma_2^2}\Big)$$

    With TVB's defaults ($a_1 = 0.5$, $\sigma_1 = 20$ wider than $a_2 = 1$,
    $\sigma_2 = 10$) it is negative near the focus and positive in a ring around it
    (an inverted Mexican hat); swap the two for centre excitation with surround
    inhibition. Over time it is a biphasic bump.

    **Arguments:** (TVB's defaults)

    - `amp_1`, `sigma_1`, `midpoint_1`: the first (positive) Gaussian: height, width
      ($> 0$, mm or ms), centre (0.5, 20.0, 0.0).
    - `amp_2`, `sigma_2`, `midpoint_2`: the second (subtracted) Gaussian (1.0, 10.0,
      0.0).

    !!! example

        ```python
        import jax.numpy as jnp
        import numpy as np
        import neuromass as nm

        hat = nm.equations.DoubleGaussian(amp_1=1.0, sigma_1=5.0, amp_2=0.5,
                                          sigma_2=15.0)
        print(np.asarray(hat(jnp.array([0.0, 20.0]))).round(3))  # [ 0.5   -0.205]
        ```
    """

    amp_1: jnp.ndarray = parameter(0.5)
    sigma_1: jnp.ndarray = parameter(20.0)
    midpoint_1: jnp.ndarray = parameter(0.0)
    amp_2: jnp.ndarray = parameter(1.0)
    sigma_2: jnp.ndarray = parameter(10.0)
    midpoint_2: jnp.ndarray = parameter(0.0)

    def __check_init__(self):
        _positive_width(self, "sigma_1")
        _positive_width(self, "sigma_2")

    def evaluate(self, var):
        var = jnp.asarray(var)
        d1, d2 = var - self.midpoint_1, var - self.midpoint_2
        g1 = self.amp_1 * jnp.exp(-(d1**2 / (2.0 * self.sigma_1**2)))
        g2 = self.amp_2 * jnp.exp(-(d2**2 / (2.0 * self.sigma_2**2)))
        return g1 - g2


class Sigmoid(AbstractEquation):
    r"""A falling sigmoid of distance: a disc of radius `radius` with soft edges, The
    Virtual Brain's `Sigmoid`.

    $$f(x) = \frac{\mathrm{amp}}{1 + \exp\!\big(-\frac{\pi}{\sqrt 3}\,
      (\mathrm{radius} - x)/\sigma\big)} + \mathrm{offset}$$

    It is `amp + offset` well inside the radius, `offset` well outside, and half-way
    at $x = \mathrm{radius}$; $\sigma$ sets the width of the edge (the factor
    $\pi/\sqrt 3$ makes it a standard deviation). Over time it is a soft switch-off
    at $t = \mathrm{radius}$ (for a switch-on see
    `neuromass.equations.GeneralizedSigmoid`).

    **Arguments:** (TVB's defaults)

    - `amp`: height inside the radius, above `offset` (1.0).
    - `radius`: distance of the half-way value, mm (5.0).
    - `sigma`: width of the edge, mm, $> 0$ (1.0).
    - `offset`: constant added everywhere (0.0).

    !!! example

        ```python
        import jax.numpy as jnp
        import numpy as np
        import neuromass as nm

        disc = nm.equations.Sigmoid(radius=10.0, sigma=1.0)
        print(np.asarray(disc(jnp.array([0.0, 10.0, 20.0]))).round(3))  # [1.  0.5 0. ]
        ```
    """

    amp: jnp.ndarray = parameter(1.0)
    radius: jnp.ndarray = parameter(5.0)
    sigma: jnp.ndarray = parameter(1.0)
    offset: jnp.ndarray = parameter(0.0)

    def __check_init__(self):
        _positive_width(self, "sigma")

    def evaluate(self, var):
        z = _PI_OVER_SQRT3 * (self.radius - jnp.asarray(var)) / self.sigma
        return self.amp * jax.nn.sigmoid(z) + self.offset
