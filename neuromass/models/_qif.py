"""Exact mean-field ("next generation") models of quadratic integrate-and-fire
neurons: Montbrió-Pazó-Roxin and Coombes-Byrne."""

import math
from typing import ClassVar

import jax.numpy as jnp

from ._base import AbstractNode
from ._params import param


class MontbrioPazoRoxin(AbstractNode):
    r"""Montbrió-Pazó-Roxin model: the exact firing-rate equations of an infinite
    population of all-to-all coupled quadratic integrate-and-fire neurons with
    Lorentzian-distributed excitabilities, as in The Virtual Brain
    (`MontbrioPazoRoxin`).

    For region $i$ with afferent coupling $C^r_i$ (on `r`) and $C^V_i$ (on `V`) and
    external input $u_i$:

    $$
    \begin{aligned}
    \dot r_i &= \frac{1}{\tau}\Big(\frac{\Delta}{\pi\tau} + 2 V_i r_i\Big) \\
    \dot V_i &= \frac{1}{\tau}\Big(V_i^2 - \pi^2\tau^2 r_i^2 + \eta + J\tau r_i + I
        + c_r C^r_i + c_v C^V_i\Big) + u_i
    \end{aligned}
    $$

    $r$ is the population firing rate and $V$ the mean membrane potential; the
    coupling enters the potential equation, through the rate ($c_r$) and/or the
    potential ($c_v$) of the other regions, inside the $1/\tau$ factor as in TVB.
    `r` is kept non-negative by `state_bounds` (as TVB does).

    With the defaults ($\eta = -5$, $J = 15$, $\Delta = 1$) an isolated node is
    **bistable**: a low-activity stable node ("down" state, $r \approx 0.08$,
    $V \approx -1.96$) and a high-activity stable focus ("up" state,
    $r \approx 1.03$, $V \approx -0.15$) coexist, separated by a saddle.

    **Arguments:**

    | parameter | default | unit | typical range | meaning |
    |---|---|---|---|---|
    | `tau` | 1.0 | ms | [0.001, 15] | membrane time constant |
    | `I` | 0.0 | 1 | [-10, 10] | external current |
    | `Delta` | 1.0 | 1 | [0, 10] | half-width of the excitability distribution |
    | `J` | 15.0 | 1 | [-25, 25] | mean synaptic weight (recurrence) |
    | `eta` | -5.0 | 1 | [-10, 10] | mean excitability |
    | `cr` | 1.0 | 1 | [0, 1] | weight of the coupling through `r` |
    | `cv` | 0.0 | 1 | [0, 1] | weight of the coupling through `V` |

    Each parameter is a scalar or a per-region `(N,)` array. (TVB's `Gamma`, which
    its equations do not use, is omitted.)

    **State variables:** `r` (firing rate; typical range [0, 2]; bounded below by
    0) and `V` (mean potential; [-2, 1.5]). Coupled by default: `("r", "V")`.
    External inputs: `V` (added to $\dot V$, TVB's stimulus variable).

    !!! example

        ```python
        import neuromass as nm

        node = nm.models.MontbrioPazoRoxin()
        down = nm.simulate(node, t1=100.0, dt=0.01, y0={"r": 0.1, "V": -2.0})
        up = nm.simulate(node, t1=100.0, dt=0.01, y0={"r": 1.0, "V": -0.2})
        ```

    ??? cite "Reference"

        Montbrió, E., Pazó, D. & Roxin, A. (2015). Macroscopic description for
        networks of spiking neurons. *Phys. Rev. X* 5, 021028.
    """

    tau: jnp.ndarray = param(1.0)
    I: jnp.ndarray = param(0.0)  # noqa: E741
    Delta: jnp.ndarray = param(1.0)
    J: jnp.ndarray = param(15.0)
    eta: jnp.ndarray = param(-5.0)
    cr: jnp.ndarray = param(1.0)
    cv: jnp.ndarray = param(0.0)

    state_names: ClassVar[tuple[str, ...]] = ("r", "V")
    coupled_vars: ClassVar[tuple[str, ...]] = ("r", "V")
    default_state: ClassVar[dict[str, float]] = {"r": 0.1, "V": -2.0}
    state_ranges: ClassVar[dict[str, tuple[float, float]]] = {
        "r": (0.0, 2.0),
        "V": (-2.0, 1.5),
    }
    state_bounds: ClassVar[dict[str, tuple[float | None, float | None]]] = {
        "r": (0.0, None)
    }
    input_names: ClassVar[tuple[str, ...]] = ("V",)

    def vector_field(self, t, state, coupling, inputs=None):
        r, V = state["r"], state["V"]
        tau = self.tau
        dr = (self.Delta / (math.pi * tau) + 2.0 * V * r) / tau
        drive = (
            self.eta
            + self.J * tau * r
            + self.I
            + self.cr * coupling.get("r", 0.0)
            + self.cv * coupling.get("V", 0.0)
        )
        dV = (V * V - (math.pi * tau * r) ** 2 + drive) / tau
        if inputs:
            dV = dV + inputs.get("V", 0.0)
        return {"r": dr, "V": dV}


class CoombesByrne(AbstractNode):
    r"""Coombes-Byrne next-generation neural mass: the exact mean field of
    quadratic integrate-and-fire neurons with conductance-based synapses and
    second-order (alpha-function) synaptic kinetics, as in The Virtual Brain
    (`CoombesByrne`).

    For region $i$ with afferent coupling $C_i$ (on `r`) and external input $u_i$:

    $$
    \begin{aligned}
    \dot r_i &= \frac{\Delta}{\pi} + 2 V_i r_i - g_i r_i \\
    \dot V_i &= V_i^2 - \pi^2 r_i^2 + \eta + (v_{syn} - V_i)\,g_i + C_i + u_i \\
    \dot g_i &= \alpha\,q_i \\
    \dot q_i &= \alpha\,\big(k\,\pi r_i - g_i - 2 q_i\big)
    \end{aligned}
    $$

    $r$ is the firing rate, $V$ the mean potential, $g$ the synaptic conductance and
    $q$ its derivative (up to $\alpha$): the conductance is the population rate
    filtered by the alpha kernel $\alpha^2 t e^{-\alpha t}$ and scaled by the local
    coupling $k$. The shunting term $-g r$ comes from the conductance-based synapse
    (TVB's docstring writes $g r^2$; its code, and the derivation, have $g r$). `r`
    is kept non-negative by `state_bounds`. With the defaults an isolated node
    oscillates on a limit cycle (period ≈ 2.1 time units, $r$ between 0.2 and
    1.4).

    **Arguments:**

    | parameter | default | unit | typical range | meaning |
    |---|---|---|---|---|
    | `Delta` | 0.5 | 1 | [0, 10] | half-width of the excitability distribution |
    | `alpha` | 0.95 | 1/ms | [0, 10] | rate of the synaptic alpha function |
    | `v_syn` | -10.0 | 1 | [-20, 0] | synaptic reversal potential |
    | `k` | 1.0 | 1 | [0, 5] | local coupling strength |
    | `eta` | 20.0 | 1 | [-10, 30] | mean excitability |

    Each parameter is a scalar or a per-region `(N,)` array.

    **State variables:** `r` (rate; typical range [0, 6], bounded below by 0), `V`
    ([-10, 10]), `g` ([1, 2]), `q` ([-0.5, 0.7]). Coupled by default: `("r",)`
    (TVB lists all four as coupling variables but only the coupling of `r` enters,
    into $\dot V$). External inputs: `V` (added to $\dot V$).

    !!! example

        ```python
        import neuromass as nm

        node = nm.models.CoombesByrne()
        sol = nm.simulate(node, t1=100.0, dt=0.01, save_every=0.1)
        ```

    ??? cite "Reference"

        Coombes, S. & Byrne, Á. (2019). Next generation neural mass models. In
        *Nonlinear Dynamics in Computational Neuroscience*, Springer, 1–16.
    """

    Delta: jnp.ndarray = param(0.5)
    alpha: jnp.ndarray = param(0.95)
    v_syn: jnp.ndarray = param(-10.0)
    k: jnp.ndarray = param(1.0)
    eta: jnp.ndarray = param(20.0)

    state_names: ClassVar[tuple[str, ...]] = ("r", "V", "g", "q")
    coupled_vars: ClassVar[tuple[str, ...]] = ("r",)
    default_state: ClassVar[dict[str, float]] = {
        "r": 1.0,
        "V": -1.0,
        "g": 1.5,
        "q": 0.0,
    }
    state_ranges: ClassVar[dict[str, tuple[float, float]]] = {
        "r": (0.0, 6.0),
        "V": (-10.0, 10.0),
        "g": (1.0, 2.0),
        "q": (-0.5, 0.7),
    }
    state_bounds: ClassVar[dict[str, tuple[float | None, float | None]]] = {
        "r": (0.0, None)
    }
    input_names: ClassVar[tuple[str, ...]] = ("V",)

    def vector_field(self, t, state, coupling, inputs=None):
        r, V, g, q = state["r"], state["V"], state["g"], state["q"]
        dr = self.Delta / math.pi + 2.0 * V * r - g * r
        dV = (
            V * V
            - (math.pi * r) ** 2
            + self.eta
            + (self.v_syn - V) * g
            + coupling.get("r", 0.0)
        )
        dg = self.alpha * q
        dq = self.alpha * (self.k * math.pi * r - g - 2.0 * q)
        if inputs:
            dV = dV + inputs.get("V", 0.0)
        return {"r": dr, "V": dV, "g": dg, "q": dq}
