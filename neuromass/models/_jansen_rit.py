"""Jansen-Rit cortical column model."""

from typing import ClassVar

import jax.numpy as jnp

from ..utils import sigmoid
from ._base import AbstractNode
from ._params import param


class JansenRit(AbstractNode):
    r"""Jansen-Rit model of a cortical column: pyramidal cells with excitatory and
    inhibitory interneuron feedback, as in The Virtual Brain (`JansenRit`).

    With the sigmoid $S(v) = \frac{2\nu_{max}}{1 + e^{r(v_0 - v)}}$ (firing rate, 1/ms):

    $$
    \begin{aligned}
    \dot y_0 &= y_3, \qquad \dot y_1 = y_4, \qquad \dot y_2 = y_5 \\
    \dot y_3 &= A a\,S(y_1 - y_2) - 2 a y_3 - a^2 y_0 \\
    \dot y_4 &= A a\,\big(\mu + a_2 J\,S(a_1 J y_0) + c_i + u_i\big)
        - 2 a y_4 - a^2 y_1 \\
    \dot y_5 &= B b\,a_4 J\,S(a_3 J y_0) - 2 b y_5 - b^2 y_2
    \end{aligned}
    $$

    $y_1 - y_2$ (mV) is the pyramidal membrane potential, the usual observable (EEG
    proxy). $c_i$ is the afferent coupling delivered on the first coupled variable
    (with [`neuromass.coupling.SigmoidalJansenRit`][] it is the weighted sum of the
    sigmoid-transformed potentials $S(y_{1,j} - y_{2,j})$ of the source regions).
    $u_i$ is the external input `inputs["p"]` (1/ms), added to the mean input $\mu$.

    **Arguments:**

    | parameter | default | unit | typical range | meaning |
    |---|---|---|---|---|
    | `A` | 3.25 | mV | [2.6, 9.75] | maximal excitatory PSP amplitude |
    | `B` | 22.0 | mV | [17.6, 110] | maximal inhibitory PSP amplitude |
    | `a` | 0.1 | 1/ms | [0.05, 0.15] | reciprocal excitatory time constant |
    | `b` | 0.05 | 1/ms | [0.025, 0.075] | reciprocal inhibitory time constant |
    | `v0` | 5.52 | mV | [3.12, 6.0] | firing threshold (sigmoid midpoint) |
    | `nu_max` | 0.0025 | 1/ms | [0.00125, 0.00375] | half the maximal firing rate |
    | `r` | 0.56 | 1/mV | [0.28, 0.84] | sigmoid steepness |
    | `J` | 135.0 | 1 | [65, 1350] | average number of synapses |
    | `a_1` | 1.0 | 1 | [0.5, 1.5] | pyramidal → excitatory interneuron fraction |
    | `a_2` | 0.8 | 1 | [0.4, 1.2] | excitatory interneuron → pyramidal fraction |
    | `a_3` | 0.25 | 1 | [0.125, 0.375] | pyramidal → inhibitory interneuron fraction |
    | `a_4` | 0.25 | 1 | [0.125, 0.375] | inhibitory interneuron → pyramidal fraction |
    | `mu` | 0.22 | 1/ms | [0.0, 0.22] | mean extrinsic input (pulse density) |

    **State variables:** `y0`, `y1`, `y2` (mV; PSPs: pyramidal, excitatory,
    inhibitory) and `y3`, `y4`, `y5` (mV/ms; their derivatives). Typical ranges
    (TVB): `y0` [-1, 1], `y1` [-500, 500], `y2` [-50, 50], `y3` [-6, 6],
    `y4` [-20, 20], `y5` [-500, 500]. Coupled by default: `("y1", "y2")`.

    !!! example

        ```python
        import neuromass as nm

        jr = nm.models.JansenRit(mu=0.22)
        sol = nm.simulate(jr, t1=100.0, dt=0.1, save_every=1.0)
        v = sol["y1"] - sol["y2"]  # pyramidal potential, mV
        ```

    ??? cite "Reference"

        Jansen, B. H. & Rit, V. G. (1995). Electroencephalogram and visual evoked
        potential generation in a mathematical model of coupled cortical columns.
        *Biol. Cybern.* 73, 357–366.
    """

    A: jnp.ndarray = param(3.25)
    B: jnp.ndarray = param(22.0)
    a: jnp.ndarray = param(0.1)
    b: jnp.ndarray = param(0.05)
    v0: jnp.ndarray = param(5.52)
    nu_max: jnp.ndarray = param(0.0025)
    r: jnp.ndarray = param(0.56)
    J: jnp.ndarray = param(135.0)
    a_1: jnp.ndarray = param(1.0)
    a_2: jnp.ndarray = param(0.8)
    a_3: jnp.ndarray = param(0.25)
    a_4: jnp.ndarray = param(0.25)
    mu: jnp.ndarray = param(0.22)

    state_names: ClassVar[tuple[str, ...]] = ("y0", "y1", "y2", "y3", "y4", "y5")
    coupled_vars: ClassVar[tuple[str, ...]] = ("y1", "y2")
    default_state: ClassVar[dict[str, float]] = {
        "y0": 0.0,
        "y1": 15.0,
        "y2": 10.0,
        "y3": 0.0,
        "y4": 0.0,
        "y5": 0.0,
    }
    state_ranges: ClassVar[dict[str, tuple[float, float]]] = {
        "y0": (-1.0, 1.0),
        "y1": (-500.0, 500.0),
        "y2": (-50.0, 50.0),
        "y3": (-6.0, 6.0),
        "y4": (-20.0, 20.0),
        "y5": (-500.0, 500.0),
    }
    input_names: ClassVar[tuple[str, ...]] = ("p",)

    def vector_field(self, t, state, coupling, inputs=None):
        y0, y1, y2 = state["y0"], state["y1"], state["y2"]
        y3, y4, y5 = state["y3"], state["y4"], state["y5"]
        rate = 2.0 * self.nu_max
        s_pyr = sigmoid(y1 - y2, rate, self.r, self.v0)
        s_e = sigmoid(self.a_1 * self.J * y0, rate, self.r, self.v0)
        s_i = sigmoid(self.a_3 * self.J * y0, rate, self.r, self.v0)
        drive = self.mu + self.a_2 * self.J * s_e + coupling.get("y1", 0.0)
        if inputs:
            drive = drive + inputs.get("p", 0.0)
        a, b = self.a, self.b
        return {
            "y0": y3,
            "y1": y4,
            "y2": y5,
            "y3": self.A * a * s_pyr - 2.0 * a * y3 - a * a * y0,
            "y4": self.A * a * drive - 2.0 * a * y4 - a * a * y1,
            "y5": self.B * b * self.a_4 * self.J * s_i - 2.0 * b * y5 - b * b * y2,
        }
