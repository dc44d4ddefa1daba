"""The classic fourth-order Runge-Kutta method as a Diffrax solver (The Virtual
Brain's `RungeKutta4thOrderDeterministic`)."""

from collections.abc import Callable
from typing import ClassVar

import diffrax
import numpy as np
from diffrax._local_interpolation import ThirdOrderHermitePolynomialInterpolation


# The classic tableau; the embedded method of the error estimate is the midpoint
# method (its second stage), y + h k2, second order.
_rk4_tableau = diffrax.ButcherTableau(
    a_lower=(
        np.array([1 / 2]),
        np.array([0.0, 1 / 2]),
        np.array([0.0, 0.0, 1.0]),
    ),
    b_sol=np.array([1 / 6, 1 / 3, 1 / 3, 1 / 6]),
    b_error=np.array([1 / 6, 1 / 3 - 1.0, 1 / 3, 1 / 6]),
    c=np.array([1 / 2, 1 / 2, 1.0]),
)


class RK4(diffrax.AbstractERK):
    r"""The classic fourth-order Runge-Kutta method, The Virtual Brain's
    `RungeKutta4thOrderDeterministic`:

    $$
    \begin{aligned}
    k_1 &= f(t_n, y_n), &
    k_2 &= f(t_n + \tfrac h2, y_n + \tfrac h2 k_1), \\
    k_3 &= f(t_n + \tfrac h2, y_n + \tfrac h2 k_2), &
    k_4 &= f(t_n + h, y_n + h k_3), \\
    y_{n+1} &= y_n + \tfrac h6 (k_1 + 2 k_2 + 2 k_3 + k_4).
    \end{aligned}
    $$

    4th order explicit Runge-Kutta method, 4 stages, for fixed steps (Diffrax has
    no classic RK4; its own 4th/5th-order methods are `diffrax.Tsit5` and
    `diffrax.Dopri5`). A `diffrax.AbstractERK` with a Butcher tableau, so it runs
    under `diffrax.diffeqsolve` and `neuromass.simulate` (whose delayed loop
    unrolls the tableau). As in TVB, a delayed network with
    `coupling_evaluation="step"` evaluates the coupling once per step and holds it
    across the four stages; with `"stage"` (the default) every stage reads the
    delayed states at its own time. Its embedded error estimate is the midpoint
    method's (second order): prefer `diffrax.Tsit5` for adaptive steps. For
    deterministic systems, as TVB's; with noise use `diffrax.Heun` (TVB's
    stochastic integrators are Euler and Heun).

    !!! example

        ```python
        import neuromass as nm

        node = nm.models.Hopf(a=0.2, omega=0.3)
        sol = nm.simulate(node, t1=100.0, dt=0.1, solver=nm.RK4())
        sol["x"].shape   # (1001, 1)
        ```

    ??? cite "Reference"

        Kutta, W. (1901). Beitrag zur näherungsweisen Integration totaler
        Differentialgleichungen. *Z. Math. Phys.* 46, 435-453. Hairer, E., Nørsett,
        S. P. & Wanner, G. (1993). *Solving Ordinary Differential Equations I*,
        2nd ed., Springer, section II.1.
    """

    tableau: ClassVar[diffrax.ButcherTableau] = _rk4_tableau
    interpolation_cls: ClassVar[
        Callable[..., ThirdOrderHermitePolynomialInterpolation]
    ] = ThirdOrderHermitePolynomialInterpolation.from_k

    def order(self, terms):
        del terms
        return 4

    def error_order(self, terms):
        # local order of the embedded (midpoint) method's error: 2 + 1
        del terms
        return 3


RK4.__init__.__doc__ = """**Arguments:** None"""
