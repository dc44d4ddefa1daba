"""The generic two-dimensional oscillator of The Virtual Brain."""

from typing import ClassVar

import jax.numpy as jnp

from ._base import AbstractNode
from ._params import param


class Generic2dOscillator(AbstractNode):
    r"""Generic planar oscillator with a cubic and a configurable quadratic nullcline
    (The Virtual Brain's `Generic2dOscillator`, Sanz-Leon et al. 2015).

    For region $i$ with afferent coupling $C_i$ (on `V`) and external input $u_i$:

    $$
    \begin{aligned}
    \dot V_i &= d\,\tau\,\big(\alpha W_i - f V_i^3 + e V_i^2 + g V_i
        + \gamma I + \gamma C_i\big) + u_i \\
    \dot W_i &= \frac{d}{\tau}\,\big(a + b V_i + c V_i^2 - \beta W_i\big)
    \end{aligned}
    $$

    The first nullcline is cubic, the second a parabola whose shape ($a$, $b$, $c$)
    selects the regime. With the defaults the node is excitable (a stable fixed point
    at $V \approx -0.19$); `a=2.0` turns it into a limit cycle.
    Other classic settings: `a=1.05, b=-1, c=0, d=0.1, e=0, f=1/3, g=1, alpha=1,
    beta=0.2, gamma=-1, tau=1.25` (Ghosh et al. 2008, a ~10 Hz oscillator), or
    `a=-0.5, b=-10, c=0, d=0.02` (Sanz-Leon et al. 2013, ~10 Hz).

    **Arguments:**

    | parameter | default | unit | typical range | meaning |
    |---|---|---|---|---|
    | `tau` | 1.0 | 1 | [1, 5] | time-scale separation between `V` and `W` |
    | `I` | 0.0 | 1 | [-5, 5] | baseline shift of the cubic nullcline |
    | `a` | -2.0 | 1 | [-5, 5] | vertical shift of the second nullcline |
    | `b` | -10.0 | 1 | [-20, 15] | linear slope of the second nullcline |
    | `c` | 0.0 | 1 | [-10, 10] | quadratic term of the second nullcline |
    | `d` | 0.02 | 1/ms | [0.0001, 1] | overall rate (temporal scale factor) |
    | `e` | 3.0 | 1 | [-5, 5] | quadratic term of the cubic nullcline |
    | `f` | 1.0 | 1 | [-5, 5] | cubic term of the cubic nullcline |
    | `g` | 0.0 | 1 | [-5, 5] | linear term of the cubic nullcline |
    | `alpha` | 1.0 | 1 | [-5, 5] | feedback of `W` onto `V` |
    | `beta` | 1.0 | 1 | [-5, 5] | self-decay of `W` |
    | `gamma` | 1.0 | 1 | [-1, 1] | sign/scale of `I` and of the coupling |

    Each parameter is a scalar or a per-region `(N,)` array.

    **State variables:** `V` (fast, "membrane potential"-like; typical range
    [-2, 4]) and `W` (slow recovery; [-6, 6]). Coupled by default: `("V",)`.
    External inputs: `V` (added to $\dot V$, as TVB's stimulus).

    **Local coupling** (on a surface, `neuromass.SurfaceNetwork`): $\ell(V)$
    is added inside the bracket of $\dot V$, not multiplied by $\gamma$ (TVB:
    `+ gamma * c_0 + lc_0`, `lc_0 = local_coupling * V`).

    !!! example

        ```python
        import neuromass as nm

        node = nm.models.Generic2dOscillator(a=2.0)   # limit cycle
        sol = nm.simulate(node, t1=500.0, dt=0.1, save_every=1.0)
        ```

    ??? cite "Reference"

        Sanz-Leon, P., Knock, S. A., Spiegler, A. & Jirsa, V. K. (2015). Mathematical
        framework for large-scale brain network modeling in The Virtual Brain.
        *NeuroImage* 111, 385–430. FitzHugh, R. (1961). Impulses and physiological
        states in theoretical models of nerve membrane. *Biophys. J.* 1, 445–466.
    """

    tau: jnp.ndarray = param(1.0, positive=True)
    I: jnp.ndarray = param(0.0)  # noqa: E741
    a: jnp.ndarray = param(-2.0)
    b: jnp.ndarray = param(-10.0)
    c: jnp.ndarray = param(0.0)
    d: jnp.ndarray = param(0.02)
    e: jnp.ndarray = param(3.0)
    f: jnp.ndarray = param(1.0)
    g: jnp.ndarray = param(0.0)
    alpha: jnp.ndarray = param(1.0)
    beta: jnp.ndarray = param(1.0)
    gamma: jnp.ndarray = param(1.0)

    state_names: ClassVar[tuple[str, ...]] = ("V", "W")
    coupled_vars: ClassVar[tuple[str, ...]] = ("V",)
    observable: ClassVar[str] = "V"
    default_state: ClassVar[dict[str, float]] = {"V": 0.0, "W": 0.0}
    state_ranges: ClassVar[dict[str, tuple[float, float]]] = {
        "V": (-2.0, 4.0),
        "W": (-6.0, 6.0),
    }
    input_names: ClassVar[tuple[str, ...]] = ("V",)

    local_coupling: ClassVar[bool] = True

    def vector_field(self, t, state, coupling, inputs=None, local=None):
        V, W = state["V"], state["W"]
        V2 = V * V
        drive = self.gamma * (self.I + coupling.get("V", 0.0))
        if local is not None:  # TVB: `+ lc_0`, not multiplied by gamma
            drive = drive + local(V)
        dV = (
            self.d
            * self.tau
            * (self.alpha * W - self.f * V2 * V + self.e * V2 + self.g * V + drive)
        )
        dW = self.d * (self.a + self.b * V + self.c * V2 - self.beta * W) / self.tau
        if inputs:
            dV = dV + inputs.get("V", 0.0)
        return {"V": dV, "W": dW}
