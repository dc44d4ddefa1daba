"""The continuous Hopfield network node (TVB's `Hopfield`)."""

from typing import ClassVar

import jax.numpy as jnp

from ._base import AbstractNode
from ._epileptor import _flag
from ._params import param


class Hopfield(AbstractNode):
    r"""Continuous Hopfield (graded-response) node, as in The Virtual Brain
    (`Hopfield`): each region relaxes towards its afferent input, with a threshold
    $\theta$ that is either static or itself driven by the network (`dynamic`).

    For region $i$ with afferent couplings $C^x_i$ (on `x`) and $C^\theta_i$ (on
    `theta`):

    $$
    \begin{aligned}
    \dot x_i &= \frac{-x_i + C^x_i}{\tau_x} \\
    \dot\theta_i &= \begin{cases} \dfrac{-\theta_i + C^\theta_i}{\tau_\theta}
        & \text{dynamic} \\[1ex] \dot x_i & \text{static (TVB's default)}
        \end{cases}
    \end{aligned}
    $$

    TVB's static mode returns $\dot\theta = \dot x$ (kept for parity). The
    threshold enters through the coupling: use it with
    `neuromass.coupling.PreSigmoidal` (`dynamic=True` needs the network to
    couple both variables, `nm.Network(..., coupled_vars=("x", "theta"))`, as TVB
    does when `dynamic` is set).

    **Arguments:**

    | parameter | default | unit | meaning |
    |---|---|---|---|
    | `taux` | 1.0 | ms | time constant of $x$ |
    | `tauT` | 5.0 | ms | time constant of the dynamic threshold |
    | `dynamic` | False | bool | dynamic threshold (TVB's `dynamic=1`) |

    **State variables:** `x` ([-1, 2]) and `theta` ([0, 1]). Coupled by default:
    `("x",)`. External inputs: `x` (added to $\dot x$ only).

    !!! example

        ```python
        import numpy as np
        import neuromass as nm

        w = np.array([[0.0, 1.0], [1.0, 0.0]])
        net = nm.Network(nm.models.Hopfield(), w, coupling=nm.coupling.PreSigmoidal())
        sol = nm.simulate(net, t1=20.0, dt=0.01)
        ```

    ??? cite "Reference"

        Hopfield, J. J. (1984). Neurons with graded response have collective
        computational properties like those of two-state neurons. *PNAS* 81,
        3088–3092.
    """

    taux: jnp.ndarray = param(1.0, positive=True)
    tauT: jnp.ndarray = param(5.0, positive=True)
    dynamic: jnp.ndarray = _flag(False)

    state_names: ClassVar[tuple[str, ...]] = ("x", "theta")
    coupled_vars: ClassVar[tuple[str, ...]] = ("x",)
    observable: ClassVar[str] = "x"
    default_state: ClassVar[dict[str, float]] = {"x": 0.5, "theta": 0.5}
    state_ranges: ClassVar[dict[str, tuple[float, float]]] = {
        "x": (-1.0, 2.0),
        "theta": (0.0, 1.0),
    }
    input_names: ClassVar[tuple[str, ...]] = ("x",)

    def vector_field(self, t, state, coupling, inputs=None):
        x, theta = state["x"], state["theta"]
        dx = (-x + coupling.get("x", 0.0)) / self.taux
        dtheta_dyn = (-theta + coupling.get("theta", 0.0)) / self.tauT
        dtheta = jnp.where(self.dynamic, dtheta_dyn, dx)
        if inputs:
            dx = dx + inputs.get("x", 0.0)
        return {"x": dx, "theta": dtheta}
