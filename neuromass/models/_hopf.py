"""Supercritical Hopf (Stuart-Landau) oscillator in Cartesian coordinates."""

from typing import ClassVar

import jax.numpy as jnp

from ._base import AbstractNode
from ._params import param


class Hopf(AbstractNode):
    r"""Supercritical Hopf normal form (Stuart-Landau oscillator), Cartesian form.

    For region $i$, with afferent coupling $c^x_i, c^y_i$ and external inputs
    $u^x_i, u^y_i$:

    $$
    \begin{aligned}
    \dot x_i &= (a_i - x_i^2 - y_i^2)\,x_i - \omega_i\,y_i + c^x_i + u^x_i \\
    \dot y_i &= (a_i - x_i^2 - y_i^2)\,y_i + \omega_i\,x_i + c^y_i + u^y_i
    \end{aligned}
    $$

    For $a > 0$ an isolated node settles on a limit cycle of radius $\sqrt{a}$ turning
    at angular frequency $\omega$ (rad/ms, i.e. $f = 1000\,\omega / 2\pi$ Hz); for
    $a < 0$ it decays to the stable focus at the origin.

    **Arguments:**

    | parameter | default | unit | typical range | meaning |
    |---|---|---|---|---|
    | `a` | 0.2 | 1/ms | [-1, 1] | bifurcation parameter (distance to the Hopf point) |
    | `omega` | 0.3 | rad/ms | [0.05, 0.5] | intrinsic angular frequency |

    Each parameter is a scalar or a per-region `(N,)` array.

    **State variables:** `x`, `y` (dimensionless; typical range [-1, 1]).
    Coupled by default: `("x", "y")`. External inputs: `x`, `y` (added to the
    derivatives).

    **Local coupling** (on a surface, `neuromass.SurfaceNetwork`): $\ell(x)$
    is added to $\dot x$ (TVB's `SupHopf`: `+ lc_0`, `lc_0 = local_coupling * x`).

    !!! example

        ```python
        import neuromass as nm

        sol = nm.simulate(nm.models.Hopf(a=0.25, omega=0.3), t1=200.0, dt=0.1)
        print(sol["x"].shape)  # (2001, 1)
        ```

    ??? cite "Reference"

        Kuznetsov, Y. A. (2004). *Elements of Applied Bifurcation Theory*, 3rd ed.,
        Springer, ch. 3. Deco, G. et al. (2017). The dynamics of resting fluctuations
        in the brain: metastability and its dynamical cortical core. *Sci. Rep.* 7,
        3095.
    """

    a: jnp.ndarray = param(0.2)
    omega: jnp.ndarray = param(0.3)

    state_names: ClassVar[tuple[str, ...]] = ("x", "y")
    coupled_vars: ClassVar[tuple[str, ...]] = ("x", "y")
    observable: ClassVar[str] = "x"
    default_state: ClassVar[dict[str, float]] = {"x": 0.1, "y": 0.1}
    state_ranges: ClassVar[dict[str, tuple[float, float]]] = {
        "x": (-1.0, 1.0),
        "y": (-1.0, 1.0),
    }
    input_names: ClassVar[tuple[str, ...]] = ("x", "y")
    local_coupling: ClassVar[bool] = True

    def vector_field(self, t, state, coupling, inputs=None, local=None):
        x, y = state["x"], state["y"]
        r2 = x * x + y * y
        dx = (self.a - r2) * x - self.omega * y + coupling.get("x", 0.0)
        if local is not None:  # TVB: `+ c_0 + lc_0`
            dx = dx + local(x)
        dy = (self.a - r2) * y + self.omega * x + coupling.get("y", 0.0)
        if inputs:
            dx = dx + inputs.get("x", 0.0)
            dy = dy + inputs.get("y", 0.0)
        return {"x": dx, "y": dy}
