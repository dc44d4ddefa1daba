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
    (with `neuromass.coupling.SigmoidalJansenRit` it is the weighted sum of the
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
    | `p_min`, `p_max` | 0.12, 0.32 | 1/ms | | TVB's input range (unused by the drift) |

    `p_min` and `p_max` are accepted so that a TVB parameter set can be passed
    unchanged; TVB's equations do not read them either.

    **State variables:** `y0`, `y1`, `y2` (mV; PSPs: pyramidal, excitatory,
    inhibitory) and `y3`, `y4`, `y5` (mV/ms; their derivatives). Typical ranges
    (TVB): `y0` [-1, 1], `y1` [-500, 500], `y2` [-50, 50], `y3` [-6, 6],
    `y4` [-20, 20], `y5` [-500, 500]. Coupled by default: `("y1", "y2")`.

    **Local coupling** (on a surface, `neuromass.SurfaceNetwork`):
    $\ell(y_1 - y_2)$, the local sum of the pyramidal potentials (not of their
    sigmoids), is added to the drive of $\dot y_4$ after $c_i$ (TVB:
    `local_coupling * (y1 - y2)`).

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
    a: jnp.ndarray = param(0.1, positive=True)
    b: jnp.ndarray = param(0.05, positive=True)
    v0: jnp.ndarray = param(5.52)
    nu_max: jnp.ndarray = param(0.0025)
    r: jnp.ndarray = param(0.56)
    J: jnp.ndarray = param(135.0)
    a_1: jnp.ndarray = param(1.0)
    a_2: jnp.ndarray = param(0.8)
    a_3: jnp.ndarray = param(0.25)
    a_4: jnp.ndarray = param(0.25)
    mu: jnp.ndarray = param(0.22)
    p_min: jnp.ndarray = param(0.12)
    p_max: jnp.ndarray = param(0.32)

    state_names: ClassVar[tuple[str, ...]] = ("y0", "y1", "y2", "y3", "y4", "y5")
    coupled_vars: ClassVar[tuple[str, ...]] = ("y1", "y2")
    observable: ClassVar[str] = "y1 - y2"
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
    local_coupling: ClassVar[bool] = True

    def vector_field(self, t, state, coupling, inputs=None, local=None):
        y0, y1, y2 = state["y0"], state["y1"], state["y2"]
        y3, y4, y5 = state["y3"], state["y4"], state["y5"]
        rate = 2.0 * self.nu_max
        s_pyr = sigmoid(y1 - y2, rate, self.r, self.v0)
        s_e = sigmoid(self.a_1 * self.J * y0, rate, self.r, self.v0)
        s_i = sigmoid(self.a_3 * self.J * y0, rate, self.r, self.v0)
        drive = self.mu + self.a_2 * self.J * s_e + coupling.get("y1", 0.0)
        if local is not None:  # TVB: `+ c + local_coupling * (y1 - y2)`
            drive = drive + local(y1 - y2)
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


class ZetterbergJansen(AbstractNode):
    r"""Zetterberg-Jansen model of a cortical column, the forerunner of Jansen-Rit,
    with three populations (pyramidal cells, excitatory stellate and inhibitory
    interneurons), as in The Virtual Brain (`ZetterbergJansen`).

    With $S(v) = \frac{2 e_0}{1 + e^{\rho_1(\rho_2 - v)}}$ (1/ms),
    $c_i = S(C_i)$ the sigmoid of the afferent coupling $C_i$ (delivered on
    `v6`), $H_e\kappa_e$, $H_i\kappa_i$ the synaptic gains:

    $$
    \begin{aligned}
    \dot v_1 &= y_1, \quad \dot y_1 = H_e\kappa_e\big(\gamma_1 S(v_2 - v_3)
        + \gamma_{1T}(U + c_i)\big) - 2\kappa_e y_1 - \kappa_e^2 v_1 \\
    \dot v_2 &= y_2, \quad \dot y_2 = H_e\kappa_e\big(\gamma_2 S(v_1)
        + \gamma_{2T}(P + c_i)\big) - 2\kappa_e y_2 - \kappa_e^2 v_2 \\
    \dot v_3 &= y_3, \quad \dot y_3 = H_i\kappa_i\,\gamma_4 S(v_4 - v_5)
        - 2\kappa_i y_3 - \kappa_i^2 v_3 \\
    \dot v_4 &= y_4, \quad \dot y_4 = H_e\kappa_e\big(\gamma_3 S(v_2 - v_3)
        + \gamma_{3T}(Q + c_i)\big) - 2\kappa_e y_4 - \kappa_e^2 v_4 \\
    \dot v_5 &= y_5, \quad \dot y_5 = H_i\kappa_i\,\gamma_5 S(v_4 - v_5)
        - 2\kappa_i y_5 - \kappa_e^2 v_5 \\
    \dot v_6 &= y_2 - y_3, \qquad \dot v_7 = y_4 - y_5
    \end{aligned}
    $$

    The last term of $\dot y_5$ has $\kappa_e^2$, not $\kappa_i^2$: this is TVB's
    code (2.10), kept for parity. $v_6$ integrates the net pyramidal input (the
    pyramidal potential, the EEG proxy) and $v_7$ that of the interneurons.

    **Arguments:** (TVB's names and defaults; each a scalar or per-region `(N,)`)

    | parameter | default | unit | meaning |
    |---|---|---|---|
    | `He`, `Hi` | 3.25, 22.0 | mV | maximal EPSP / IPSP amplitude |
    | `ke`, `ki` | 0.1, 0.05 | 1/ms | reciprocal excitatory / inhibitory time constant |
    | `e0` | 0.0025 | 1/ms | half the maximal firing rate |
    | `rho_2` | 6.0 | mV | firing threshold (sigmoid midpoint) |
    | `rho_1` | 0.56 | 1/mV | sigmoid steepness |
    | `gamma_1` ... `gamma_5` | 135, 108, 33.75, 33.75, 15 | 1 | synapse counts |
    | `gamma_1T`, `gamma_2T`, `gamma_3T` | 1, 1, 1 | 1 | extrinsic input gains |
    | `P`, `U`, `Q` | 0.12, 0.12, 0.12 | 1/ms | extrinsic inputs |

    `gamma_1`: pyramidal → stellate, `gamma_2`: stellate → pyramidal, `gamma_3`:
    pyramidal → interneurons, `gamma_4`: interneurons → pyramidal, `gamma_5`:
    interneurons → interneurons. `P`, `U`, `Q` (and the gains `gamma_2T`,
    `gamma_1T`, `gamma_3T`) drive the pyramidal, stellate and interneuron
    populations.

    **State variables:** `v1` ... `v7` (mV) and `y1` ... `y5` (mV/ms), in TVB's order
    `v1 y1 v2 y2 v3 y3 v4 y4 v5 y5 v6 v7`. Coupled by default: `("v6",)`.

    **Local coupling** (on a surface, `neuromass.SurfaceNetwork`): $\ell(v_6)$
    is added to the afferent coupling before the sigmoid, $c_i = S(C_i +
    \ell(v_6))$ (TVB: `sigma_fun(c_0 + local_coupling * v6)`).

    !!! example

        ```python
        import neuromass as nm

        zj = nm.models.ZetterbergJansen()
        sol = nm.simulate(zj, t1=200.0, dt=0.1, save_every=1.0)
        v = sol["v6"]  # net pyramidal potential, mV
        ```

    ??? cite "Reference"

        Zetterberg, L. H., Kristiansson, L. & Mossberg, K. (1978). Performance of
        a model for a local neuron population. *Biol. Cybern.* 31, 15–26.
    """

    He: jnp.ndarray = param(3.25)
    Hi: jnp.ndarray = param(22.0)
    ke: jnp.ndarray = param(0.1, positive=True)
    ki: jnp.ndarray = param(0.05, positive=True)
    e0: jnp.ndarray = param(0.0025)
    rho_2: jnp.ndarray = param(6.0)
    rho_1: jnp.ndarray = param(0.56)
    gamma_1: jnp.ndarray = param(135.0)
    gamma_2: jnp.ndarray = param(108.0)
    gamma_3: jnp.ndarray = param(33.75)
    gamma_4: jnp.ndarray = param(33.75)
    gamma_5: jnp.ndarray = param(15.0)
    gamma_1T: jnp.ndarray = param(1.0)
    gamma_2T: jnp.ndarray = param(1.0)
    gamma_3T: jnp.ndarray = param(1.0)
    P: jnp.ndarray = param(0.12)
    U: jnp.ndarray = param(0.12)
    Q: jnp.ndarray = param(0.12)

    state_names: ClassVar[tuple[str, ...]] = (
        "v1", "y1", "v2", "y2", "v3", "y3", "v4", "y4", "v5", "y5", "v6", "v7",
    )  # fmt: skip
    coupled_vars: ClassVar[tuple[str, ...]] = ("v6",)
    observable: ClassVar[str] = "v6"
    default_state: ClassVar[dict[str, float]] = {
        "v1": 0.0, "y1": 0.0, "v2": 10.0, "y2": 0.0, "v3": 5.0, "y3": 0.0,
        "v4": 0.0, "y4": 0.0, "v5": 0.0, "y5": 0.0, "v6": 5.0, "v7": 0.0,
    }  # fmt: skip
    state_ranges: ClassVar[dict[str, tuple[float, float]]] = {
        "v1": (-100.0, 100.0),
        "y1": (-500.0, 500.0),
        "v2": (-100.0, 50.0),
        "y2": (-100.0, 6.0),
        "v3": (-100.0, 6.0),
        "y3": (-100.0, 6.0),
        "v4": (-100.0, 20.0),
        "y4": (-100.0, 20.0),
        "v5": (-100.0, 20.0),
        "y5": (-500.0, 500.0),
        "v6": (-100.0, 20.0),
        "v7": (-100.0, 20.0),
    }
    input_names: ClassVar[tuple[str, ...]] = ("P",)
    local_coupling: ClassVar[bool] = True

    def vector_field(self, t, state, coupling, inputs=None, local=None):
        s = state
        rate = 2.0 * self.e0

        def sig(v):
            return sigmoid(v, rate, self.rho_1, self.rho_2)

        c = coupling.get("v6", 0.0)
        if local is not None:  # TVB: `sigma_fun(c_0 + local_coupling * v6)`
            c = c + local(s["v6"])
        c_in = sig(c)
        p = self.P
        if inputs:
            p = p + inputs.get("P", 0.0)
        heke, hiki = self.He * self.ke, self.Hi * self.ki
        ke2, ki2 = 2.0 * self.ke, 2.0 * self.ki
        keke, kiki = self.ke * self.ke, self.ki * self.ki
        s_pyr = sig(s["v2"] - s["v3"])
        s_inh = sig(s["v4"] - s["v5"])
        return {
            "v1": s["y1"],
            "y1": heke * (self.gamma_1 * s_pyr + self.gamma_1T * (self.U + c_in))
            - ke2 * s["y1"]
            - keke * s["v1"],
            "v2": s["y2"],
            "y2": heke * (self.gamma_2 * sig(s["v1"]) + self.gamma_2T * (p + c_in))
            - ke2 * s["y2"]
            - keke * s["v2"],
            "v3": s["y3"],
            "y3": hiki * (self.gamma_4 * s_inh) - ki2 * s["y3"] - kiki * s["v3"],
            "v4": s["y4"],
            "y4": heke * (self.gamma_3 * s_pyr + self.gamma_3T * (self.Q + c_in))
            - ke2 * s["y4"]
            - keke * s["v4"],
            "v5": s["y5"],
            "y5": hiki * (self.gamma_5 * s_inh) - ki2 * s["y5"] - keke * s["v5"],
            "v6": s["y2"] - s["y3"],
            "v7": s["y4"] - s["y5"],
        }
