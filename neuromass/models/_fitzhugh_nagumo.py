"""The FitzHugh-Nagumo excitable system."""

from typing import ClassVar

import jax.numpy as jnp

from ._base import AbstractNode
from ._params import param


class FitzHughNagumo(AbstractNode):
    r"""FitzHugh-Nagumo model: a fast cubic activator and a slow linear recovery
    variable, the prototype of excitable and oscillatory neural dynamics.

    For region $i$ with afferent coupling $C_i$ (on `V`) and external input $u_i$:

    $$
    \begin{aligned}
    \dot V_i &= V_i - \frac{V_i^3}{3} - W_i + I + C_i + u_i \\
    \dot W_i &= \frac{V_i + a - b W_i}{\tau}
    \end{aligned}
    $$

    With the classic values $a = 0.7$, $b = 0.8$, $\tau = 12.5$ and $I = 0$ the
    node is **excitable**: a single stable fixed point ($V^* \approx -1.20$,
    $W^* \approx -0.62$); a small perturbation of $V$ decays back, while one above
    threshold triggers a full spike (an excursion to $V \approx 2$) before returning.
    For $0.33 \lesssim I \lesssim 1.42$ the fixed point is unstable and the node
    oscillates (relaxation limit cycle).

    The model is written in FitzHugh's dimensionless time; in a network one unit is
    one millisecond (scale `tau` and the inputs to change the time scale).
    The Virtual Brain has no separate FitzHugh-Nagumo class: this system is its
    `neuromass.models.Generic2dOscillator` with `d = 1/sqrt(tau)`,
    `tau_g2d = sqrt(tau)`, `alpha = -1`, `f = 1/3`, `e = 0`, `g = 1`, `gamma = 1`,
    `b_g2d = 1`, `c = 0`, `beta = b` and `a_g2d = a`.

    **Arguments:**

    | parameter | default | unit | typical range | meaning |
    |---|---|---|---|---|
    | `a` | 0.7 | 1 | [0, 1.5] | offset of the recovery nullcline |
    | `b` | 0.8 | 1 | [0, 1] | slope (self-decay) of the recovery variable |
    | `tau` | 12.5 | ms | [2, 50] | time constant of the recovery variable |
    | `I` | 0.0 | 1/ms | [-1, 2] | constant input current |

    Each parameter is a scalar or a per-region `(N,)` array.

    **State variables:** `V` (activator, "membrane potential"; typical range
    [-2.5, 2.5]) and `W` (recovery; [-1, 2]). Coupled by default: `("V",)`.
    External inputs: `V` (added to $\dot V$).

    **Local coupling** (on a surface, `neuromass.SurfaceNetwork`): $\ell(V)$
    is added to $\dot V$ after $C_i$, as in TVB's `Generic2dOscillator` (`+ lc_0`).

    !!! example

        ```python
        import neuromass as nm

        node = nm.models.FitzHughNagumo(I=0.5)   # oscillatory regime
        sol = nm.simulate(node, t1=300.0, dt=0.05, save_every=0.5)
        ```

    ??? cite "Reference"

        FitzHugh, R. (1961). Impulses and physiological states in theoretical models
        of nerve membrane. *Biophys. J.* 1, 445–466. Nagumo, J., Arimoto, S. &
        Yoshizawa, S. (1962). An active pulse transmission line simulating nerve
        axon. *Proc. IRE* 50, 2061–2070.
    """

    a: jnp.ndarray = param(0.7)
    b: jnp.ndarray = param(0.8)
    tau: jnp.ndarray = param(12.5, positive=True)
    I: jnp.ndarray = param(0.0)  # noqa: E741

    state_names: ClassVar[tuple[str, ...]] = ("V", "W")
    coupled_vars: ClassVar[tuple[str, ...]] = ("V",)
    observable: ClassVar[str] = "V"
    default_state: ClassVar[dict[str, float]] = {"V": -1.199, "W": -0.624}
    state_ranges: ClassVar[dict[str, tuple[float, float]]] = {
        "V": (-2.5, 2.5),
        "W": (-1.0, 2.0),
    }
    input_names: ClassVar[tuple[str, ...]] = ("V",)
    local_coupling: ClassVar[bool] = True

    def vector_field(self, t, state, coupling, inputs=None, local=None):
        V, W = state["V"], state["W"]
        dV = V - V * V * V / 3.0 - W + self.I + coupling.get("V", 0.0)
        if local is not None:  # TVB's Generic2dOscillator: `+ lc_0`
            dV = dV + local(V)
        dW = (V + self.a - self.b * W) / self.tau
        if inputs:
            dV = dV + inputs.get("V", 0.0)
        return {"V": dV, "W": dW}
