"""Exact mean-field ("next generation") models of quadratic integrate-and-fire
neurons: Montbrió-Pazó-Roxin, Coombes-Byrne (2D and 4D), Gast-Schmidt-Knösche
(synaptic depression and spike-frequency adaptation) and Dumont-Gutkin (E-I)."""

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
    | `Gamma` | 0.0 | 1 | [0, 10] | TVB's weight half-width (unused by the drift) |

    Each parameter is a scalar or a per-region `(N,)` array. `Gamma` is accepted
    so that a TVB parameter set can be passed unchanged; TVB's equations do not
    read it either.

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

    tau: jnp.ndarray = param(1.0, positive=True)
    I: jnp.ndarray = param(0.0)  # noqa: E741
    Delta: jnp.ndarray = param(1.0)
    J: jnp.ndarray = param(15.0)
    eta: jnp.ndarray = param(-5.0)
    cr: jnp.ndarray = param(1.0)
    cv: jnp.ndarray = param(0.0)
    Gamma: jnp.ndarray = param(0.0)

    state_names: ClassVar[tuple[str, ...]] = ("r", "V")
    coupled_vars: ClassVar[tuple[str, ...]] = ("r", "V")
    observable: ClassVar[str] = "r"
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
    observable: ClassVar[str] = "r"
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


class CoombesByrne2D(AbstractNode):
    r"""Coombes-Byrne model with an instantaneous synaptic conductance
    $g = k\pi r$ (the 2D reduction), as in The Virtual Brain (`CoombesByrne2D`).

    For region $i$ with afferent coupling $C_i$ (on `r`) and external input $u_i$:

    $$
    \begin{aligned}
    \dot r_i &= \frac{\Delta}{\pi} + 2 V_i r_i - k\pi r_i^2 \\
    \dot V_i &= V_i^2 - \pi^2 r_i^2 + \eta + (v_{syn} - V_i)\,k\pi r_i + C_i + u_i
    \end{aligned}
    $$

    `r` is kept non-negative by `state_bounds` (as TVB does).

    **Arguments:**

    | parameter | default | unit | typical range | meaning |
    |---|---|---|---|---|
    | `Delta` | 1.0 | 1 | [0, 10] | half-width of the excitability distribution |
    | `v_syn` | -4.0 | 1 | [-20, 0] | synaptic reversal potential |
    | `k` | 1.0 | 1 | [0, 5] | local coupling strength |
    | `eta` | 2.0 | 1 | [-10, 10] | mean excitability |

    **State variables:** `r` (rate; range [0, 2], bounded below by 0) and `V`
    ([-2, 1.5]). Coupled by default: `("r",)` (TVB lists `r` and `V`; only the
    coupling of `r` enters). External inputs: `V`.

    !!! example

        ```python
        import neuromass as nm

        sol = nm.simulate(nm.models.CoombesByrne2D(), t1=50.0, dt=0.01)
        ```

    ??? cite "Reference"

        Coombes, S. & Byrne, Á. (2019). Next generation neural mass models. In
        *Nonlinear Dynamics in Computational Neuroscience*, Springer, 1–16.
    """

    Delta: jnp.ndarray = param(1.0)
    v_syn: jnp.ndarray = param(-4.0)
    k: jnp.ndarray = param(1.0)
    eta: jnp.ndarray = param(2.0)

    state_names: ClassVar[tuple[str, ...]] = ("r", "V")
    coupled_vars: ClassVar[tuple[str, ...]] = ("r",)
    observable: ClassVar[str] = "r"
    default_state: ClassVar[dict[str, float]] = {"r": 0.5, "V": -1.0}
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
        g = self.k * math.pi * r
        dr = self.Delta / math.pi + 2.0 * V * r - g * r
        dV = (
            V * V
            - (math.pi * r) ** 2
            + self.eta
            + (self.v_syn - V) * g
            + coupling.get("r", 0.0)
        )
        if inputs:
            dV = dV + inputs.get("V", 0.0)
        return {"r": dr, "V": dV}


class GastSchmidtKnosche_SD(AbstractNode):
    r"""Gast-Schmidt-Knösche model: the Montbrió-Pazó-Roxin mean field of QIF
    neurons with synaptic depression (the recurrent input is scaled by $1 - A$), as
    in The Virtual Brain (`GastSchmidtKnosche_SD`).

    For region $i$ with afferent couplings $C^r_i$ (on `r`), $C^V_i$ (on `V`) and
    external input $u_i$:

    $$
    \begin{aligned}
    \dot r_i &= \frac{1}{\tau}\Big(\frac{\Delta}{\pi\tau} + 2 V_i r_i\Big) \\
    \dot V_i &= \frac{1}{\tau}\Big(V_i^2 - \pi^2\tau^2 r_i^2 + \eta
        + J\tau r_i (1 - A_i) + I + c_r C^r_i + c_v C^V_i\Big) + u_i \\
    \dot A_i &= \frac{B_i}{\tau_A}, \qquad
    \dot B_i = \frac{1}{\tau_A}\big(-2 B_i - A_i + \alpha\,r_i\big)
    \end{aligned}
    $$

    $A$ is the adaptation (an alpha-kernel filter of the rate, $B$ its derivative).
    `r` is kept non-negative by `state_bounds`.

    **Arguments:**

    | parameter | default | unit | meaning |
    |---|---|---|---|
    | `tau` | 1.0 | ms | membrane time constant |
    | `tau_A` | 10.0 | ms | adaptation time constant |
    | `alpha` | 0.5 | 1 | adaptation strength |
    | `I` | 0.0 | 1 | external current |
    | `Delta` | 2.0 | 1 | half-width of the excitability distribution |
    | `J` | 21.2132 | 1 | mean synaptic weight |
    | `eta` | -6.0 | 1 | mean excitability |
    | `cr`, `cv` | 1.0, 0.0 | 1 | weights of the coupling through `r` and `V` |

    **State variables:** `r`, `V`, `A`, `B` (typical ranges `r` [0, 4], `V` [-3, 0.3],
    `A` [0, 0.4], `B` [-0.2, 0.3]). Coupled by
    default: `("r", "V")` (TVB lists all four; only `r` and `V` enter). External
    inputs: `V`.

    !!! example

        ```python
        import neuromass as nm

        sol = nm.simulate(nm.models.GastSchmidtKnosche_SD(), t1=100.0, dt=0.01)
        ```

    ??? cite "Reference"

        Gast, R., Schmidt, H. & Knösche, T. R. (2020). A mean-field description of
        bursting dynamics in spiking neural networks with short-term adaptation.
        *Neural Comput.* 32, 1615–1634.
    """

    tau: jnp.ndarray = param(1.0, positive=True)
    tau_A: jnp.ndarray = param(10.0, positive=True)
    alpha: jnp.ndarray = param(0.5)
    I: jnp.ndarray = param(0.0)  # noqa: E741
    Delta: jnp.ndarray = param(2.0)
    J: jnp.ndarray = param(21.2132)
    eta: jnp.ndarray = param(-6.0)
    cr: jnp.ndarray = param(1.0)
    cv: jnp.ndarray = param(0.0)

    state_names: ClassVar[tuple[str, ...]] = ("r", "V", "A", "B")
    coupled_vars: ClassVar[tuple[str, ...]] = ("r", "V")
    observable: ClassVar[str] = "r"
    default_state: ClassVar[dict[str, float]] = {
        "r": 0.5,
        "V": -1.0,
        "A": 0.1,
        "B": 0.0,
    }
    state_ranges: ClassVar[dict[str, tuple[float, float]]] = {
        "r": (0.0, 4.0),
        "V": (-3.0, 0.3),
        "A": (0.0, 0.4),
        "B": (-0.2, 0.3),
    }
    state_bounds: ClassVar[dict[str, tuple[float | None, float | None]]] = {
        "r": (0.0, None)
    }
    input_names: ClassVar[tuple[str, ...]] = ("V",)

    def vector_field(self, t, state, coupling, inputs=None):
        return _gsk(self, state, coupling, inputs, depression=True)


class GastSchmidtKnosche_SF(AbstractNode):
    r"""Gast-Schmidt-Knösche model: the Montbrió-Pazó-Roxin mean field of QIF
    neurons with spike-frequency adaptation (the adaptation $A$ is
    subtracted from the input), as in The Virtual Brain (`GastSchmidtKnosche_SF`).

    For region $i$ with afferent couplings $C^r_i$ (on `r`), $C^V_i$ (on `V`) and
    external input $u_i$:

    $$
    \begin{aligned}
    \dot r_i &= \frac{1}{\tau}\Big(\frac{\Delta}{\pi\tau} + 2 V_i r_i\Big) \\
    \dot V_i &= \frac{1}{\tau}\Big(V_i^2 - \pi^2\tau^2 r_i^2 + \eta + J\tau r_i - A_i
        + I + c_r C^r_i + c_v C^V_i\Big) + u_i \\
    \dot A_i &= \frac{B_i}{\tau_A}, \qquad
    \dot B_i = \frac{1}{\tau_A}\big(-2 B_i - A_i + \alpha\,r_i\big)
    \end{aligned}
    $$

    $A$ is the adaptation (an alpha-kernel filter of the rate, $B$ its derivative).
    `r` is kept non-negative by `state_bounds`.

    **Arguments:**

    | parameter | default | unit | meaning |
    |---|---|---|---|
    | `tau` | 1.0 | ms | membrane time constant |
    | `tau_A` | 10.0 | ms | adaptation time constant |
    | `alpha` | 10.0 | 1 | adaptation strength |
    | `I` | 0.0 | 1 | external current |
    | `Delta` | 2.0 | 1 | half-width of the excitability distribution |
    | `J` | 21.2132 | 1 | mean synaptic weight |
    | `eta` | 1.0 | 1 | mean excitability |
    | `cr`, `cv` | 1.0, 0.0 | 1 | weights of the coupling through `r` and `V` |

    **State variables:** `r`, `V`, `A`, `B` (typical ranges `r` [0, 2], `V` [-2, 1.5],
    `A` [-1, 1], `B` [-1, 1]). Coupled by
    default: `("r", "V")` (TVB lists all four; only `r` and `V` enter). External
    inputs: `V`.

    !!! example

        ```python
        import neuromass as nm

        sol = nm.simulate(nm.models.GastSchmidtKnosche_SF(), t1=100.0, dt=0.01)
        ```

    ??? cite "Reference"

        Gast, R., Schmidt, H. & Knösche, T. R. (2020). A mean-field description of
        bursting dynamics in spiking neural networks with short-term adaptation.
        *Neural Comput.* 32, 1615–1634.
    """

    tau: jnp.ndarray = param(1.0, positive=True)
    tau_A: jnp.ndarray = param(10.0, positive=True)
    alpha: jnp.ndarray = param(10.0)
    I: jnp.ndarray = param(0.0)  # noqa: E741
    Delta: jnp.ndarray = param(2.0)
    J: jnp.ndarray = param(21.2132)
    eta: jnp.ndarray = param(1.0)
    cr: jnp.ndarray = param(1.0)
    cv: jnp.ndarray = param(0.0)

    state_names: ClassVar[tuple[str, ...]] = ("r", "V", "A", "B")
    coupled_vars: ClassVar[tuple[str, ...]] = ("r", "V")
    observable: ClassVar[str] = "r"
    default_state: ClassVar[dict[str, float]] = {
        "r": 0.5,
        "V": -1.0,
        "A": 0.0,
        "B": 0.0,
    }
    state_ranges: ClassVar[dict[str, tuple[float, float]]] = {
        "r": (0.0, 2.0),
        "V": (-2.0, 1.5),
        "A": (-1.0, 1.0),
        "B": (-1.0, 1.0),
    }
    state_bounds: ClassVar[dict[str, tuple[float | None, float | None]]] = {
        "r": (0.0, None)
    }
    input_names: ClassVar[tuple[str, ...]] = ("V",)

    def vector_field(self, t, state, coupling, inputs=None):
        return _gsk(self, state, coupling, inputs, depression=False)


def _gsk(node, state, coupling, inputs, depression):
    r, V, A, B = state["r"], state["V"], state["A"], state["B"]
    tau = node.tau
    dr = (node.Delta / (math.pi * tau) + 2.0 * V * r) / tau
    rec = node.J * tau * r * (1.0 - A) if depression else node.J * tau * r - A
    drive = (
        node.eta
        + rec
        + node.I
        + node.cr * coupling.get("r", 0.0)
        + node.cv * coupling.get("V", 0.0)
    )
    dV = (V * V - (math.pi * tau * r) ** 2 + drive) / tau
    if inputs:
        dV = dV + inputs.get("V", 0.0)
    dA = B / node.tau_A
    dB = (-2.0 * B - A + node.alpha * r) / node.tau_A
    return {"r": dr, "V": dV, "A": dA, "B": dB}


class DumontGutkin(AbstractNode):
    r"""Dumont-Gutkin model: coupled excitatory (E) and inhibitory (I) QIF mean
    fields (Montbrió-Pazó-Roxin) with first-order synapses, as in The Virtual Brain
    (`DumontGutkin`).

    For population $p \in \{e, i\}$ of region $n$ with afferent coupling $C_n$ (on
    `r_e`) and external input $u_n$ (on `V_e`):

    $$
    \begin{aligned}
    \dot r_p &= \frac{1}{\tau_p}\Big(\frac{\Delta_p}{\pi\tau_p} + 2 V_p r_p\Big) \\
    \dot V_p &= \frac{1}{\tau_p}\big(V_p^2 + \eta_p - \pi^2\tau_p^2 r_p^2
        + \tau_p s_{pe} - \tau_p s_{pi} + I_p\big) \\
    \dot s_{ee} &= \frac{-s_{ee} + J_{ee} r_e + C_n}{\tau_s}, \qquad
    \dot s_{ei} = \frac{-s_{ei} + J_{ei} r_i}{\tau_s} \\
    \dot s_{ie} &= \frac{-s_{ie} + J_{ie} r_e + \Gamma C_n}{\tau_s}, \qquad
    \dot s_{ii} = \frac{-s_{ii} + J_{ii} r_i}{\tau_s}
    \end{aligned}
    $$

    $s_{pq}$ is the synaptic drive from population $q$ to $p$. `r_e` and `r_i` are
    kept non-negative by `state_bounds`.

    **Arguments:**

    | parameter | default | unit | meaning |
    |---|---|---|---|
    | `I_e`, `I_i` | 0.0, 0.0 | 1 | external currents |
    | `Delta_e`, `Delta_i` | 1.0, 1.0 | 1 | excitability half-widths |
    | `eta_e`, `eta_i` | -5.0, -5.0 | 1 | mean excitabilities |
    | `tau_e`, `tau_i` | 10.0, 10.0 | ms | membrane time constants |
    | `tau_s` | 1.0 | ms | synaptic time constant |
    | `J_ee`, `J_ei`, `J_ie`, `J_ii` | 0, 10, 0, 15 | 1 | synaptic weights (to, from) |
    | `Gamma` | 5.0 | 1 | ratio of the long-range drive to I over that to E |

    **State variables:** `r_e`, `V_e`, `s_ee`, `s_ei`, `r_i`, `V_i`, `s_ie`,
    `s_ii` (TVB's order). Coupled by default: `("r_e",)` (TVB lists `r_e`, `V_e`,
    `r_i`, `V_i`; only the coupling of `r_e` enters). External inputs: `V_e`.

    !!! example

        ```python
        import neuromass as nm

        sol = nm.simulate(nm.models.DumontGutkin(), t1=100.0, dt=0.01)
        ```

    ??? cite "Reference"

        Dumont, G. & Gutkin, B. (2019). Macroscopic phase resetting-curves determine
        oscillatory coherence and signal transfer in inter-coupled neural circuits.
        *PLoS Comput. Biol.* 15, e1007019.
    """

    I_e: jnp.ndarray = param(0.0)
    Delta_e: jnp.ndarray = param(1.0)
    eta_e: jnp.ndarray = param(-5.0)
    tau_e: jnp.ndarray = param(10.0, positive=True)
    I_i: jnp.ndarray = param(0.0)
    Delta_i: jnp.ndarray = param(1.0)
    eta_i: jnp.ndarray = param(-5.0)
    tau_i: jnp.ndarray = param(10.0, positive=True)
    tau_s: jnp.ndarray = param(1.0, positive=True)
    J_ee: jnp.ndarray = param(0.0)
    J_ei: jnp.ndarray = param(10.0)
    J_ie: jnp.ndarray = param(0.0)
    J_ii: jnp.ndarray = param(15.0)
    Gamma: jnp.ndarray = param(5.0)

    state_names: ClassVar[tuple[str, ...]] = (
        "r_e", "V_e", "s_ee", "s_ei", "r_i", "V_i", "s_ie", "s_ii",
    )  # fmt: skip
    coupled_vars: ClassVar[tuple[str, ...]] = ("r_e",)
    observable: ClassVar[str] = "r_e"
    default_state: ClassVar[dict[str, float]] = {
        "r_e": 0.1, "V_e": -1.0, "s_ee": 0.0, "s_ei": 0.0,
        "r_i": 0.1, "V_i": -1.0, "s_ie": 0.0, "s_ii": 0.0,
    }  # fmt: skip
    state_ranges: ClassVar[dict[str, tuple[float, float]]] = {
        "r_e": (0.0, 2.0),
        "V_e": (-2.0, 1.5),
        "s_ee": (-1.0, 1.0),
        "s_ei": (-1.0, 1.0),
        "r_i": (0.0, 2.0),
        "V_i": (-2.0, 1.5),
        "s_ie": (-1.0, 1.0),
        "s_ii": (-1.0, 1.0),
    }
    state_bounds: ClassVar[dict[str, tuple[float | None, float | None]]] = {
        "r_e": (0.0, None),
        "r_i": (0.0, None),
    }
    input_names: ClassVar[tuple[str, ...]] = ("V_e",)

    def vector_field(self, t, state, coupling, inputs=None):
        s = state
        c = coupling.get("r_e", 0.0)
        te, ti, ts = self.tau_e, self.tau_i, self.tau_s
        pi = math.pi
        dre = (self.Delta_e / (pi * te) + 2.0 * s["V_e"] * s["r_e"]) / te
        dVe = (
            s["V_e"] ** 2
            + self.eta_e
            - (te * pi * s["r_e"]) ** 2
            + te * s["s_ee"]
            - te * s["s_ei"]
            + self.I_e
        ) / te
        dri = (self.Delta_i / (pi * ti) + 2.0 * s["V_i"] * s["r_i"]) / ti
        dVi = (
            s["V_i"] ** 2
            + self.eta_i
            - (ti * pi * s["r_i"]) ** 2
            + ti * s["s_ie"]
            - ti * s["s_ii"]
            + self.I_i
        ) / ti
        if inputs:
            dVe = dVe + inputs.get("V_e", 0.0)
        return {
            "r_e": dre,
            "V_e": dVe,
            "s_ee": (-s["s_ee"] + self.J_ee * s["r_e"] + c) / ts,
            "s_ei": (-s["s_ei"] + self.J_ei * s["r_i"]) / ts,
            "r_i": dri,
            "V_i": dVi,
            "s_ie": (-s["s_ie"] + self.J_ie * s["r_e"] + self.Gamma * c) / ts,
            "s_ii": (-s["s_ii"] + self.J_ii * s["r_i"]) / ts,
        }
