"""Potassium ion-exchange mean field (Bandyopadhyay, Rabuffo et al. 2023): TVB's
`KIonEx`."""

import math
from typing import ClassVar

import jax.numpy as jnp

from ._base import AbstractNode
from ._params import param


# fixed biophysical constants of TVB's `KIonEx` (concentrations mol/m^3 = mM,
# potentials mV, conductances nS, volumes um^3, pump current pA)
_CNAP, _DCNAP, _CKP, _DCKP = 21.0, 2.0, 5.5, 1.0
_CMNA, _DCMNA, _CNK, _DCNK = -24.0, 12.0, -19.0, 18.0
_G_CL, _G_NA, _G_K, _G_NAL, _G_KL = 7.5, 40.0, 22.0, 0.02, 0.12
_RHO, _W_I, _W_O = 250.0, 2160.0, 720.0
_NA_I0, _NA_O0, _K_I0, _K_O0, _CL_I0, _CL_O0 = 16.0, 138.0, 130.0, 4.80, 5.0, 112.0
_NERNST = 26.64  # mV, RT/F at 36 °C


class KIonEx(AbstractNode):
    r"""Potassium ion-exchange mean field: the Montbrió-Pazó-Roxin-like population
    of neurons with a piecewise-quadratic firing threshold, coupled to the dynamics
    of the ionic concentrations (intracellular potassium, extracellular potassium
    buffered by glia and a bath), as in The Virtual Brain (`KIonEx`, Bandyopadhyay,
    Rabuffo et al. 2023); also exported as `KIonExchange`.

    With $R = R_-$, $c = c_-$ for $V \le V^*$ and $R = R_+$, $c = c_+$ otherwise,
    the rate $r = R_- x / \pi$ and the afferent coupling $C_i$ (on `x`):

    $$
    \begin{aligned}
    \dot x &= \Delta + 2 R (V - c)\,x - J r x \\
    \dot V &= -\frac{1}{C_m}(I_{Na} + I_K + I_{Cl} + I_{pump}) - R x^2 + \eta
        + \frac{R_-}{\pi} C_i (E - V) \\
    \dot n &= (n_\infty(V) - n)/\tau_n \\
    \dot{\Delta K_i} &= -\frac{\gamma}{w_i}\,(I_K - 2 I_{pump}) \\
    \dot K_g &= \epsilon\,(K_{bath} - K_o)
    \end{aligned}
    $$

    with Hodgkin-Huxley-like currents ($I_{Na}$, $I_K$, $I_{Cl}$, the Na/K pump
    $I_{pump}$) whose reversal potentials follow the concentrations $K_i = K_{i0} +
    \Delta K_i$, $Na_i = Na_{i0} - \Delta K_i$, $Na_o = Na_{o0} + \beta\Delta K_i$,
    $K_o = K_{o0} - \beta\Delta K_i + K_g$, $\beta = w_i / w_o$ (the fixed constants
    are TVB's). The state is kept within TVB's boundaries by `state_bounds`.

    **Arguments:**

    | parameter | default | unit | meaning |
    |---|---|---|---|
    | `E` | 0.0 | mV | reversal potential of the coupling |
    | `K_bath` | 5.5 | mM | potassium concentration of the bath |
    | `J` | 0.1 | 1 | mean synaptic weight |
    | `eta` | 0.0 | 1 | mean excitability |
    | `Delta` | 1.0 | 1 | excitability half-width |
    | `c_minus`, `R_minus` | -40.0, 0.5 | mV, 1 | threshold parabola below $V^*$ |
    | `c_plus`, `R_plus` | -20.0, -0.5 | mV, 1 | threshold parabola above $V^*$ |
    | `Vstar` | -31.0 | mV | switch potential |
    | `Cm` | 1.0 | uF/cm² | membrane capacitance |
    | `tau_n` | 4.0 | ms | potassium gating time constant |
    | `gamma` | 0.04 | 1 | conversion of currents into concentration changes |
    | `epsilon` | 0.001 | 1/ms | diffusion rate to the bath |

    **State variables:** `x` ([0, 1]), `V` ([-90, 10] mV), `n` ([0, 1]), `DKi`
    ([-10, 0] mM), `Kg` ([-20, -5] mM). Coupled by default: `("x",)`. External
    inputs: `V`.

    !!! example

        ```python
        import neuromass as nm

        sol = nm.simulate(nm.models.KIonEx(), t1=100.0, dt=0.01, save_every=1.0)
        ```

    ??? cite "Reference"

        Bandyopadhyay, A., Rabuffo, G., et al. (2023). Mean-field approximation of
        networks of biophysical neurons driven by potassium dynamics (the model of
        TVB's `KIonEx`); single-neuron model: Depannemaecker, D. et al. (2022).
    """

    E: jnp.ndarray = param(0.0)
    K_bath: jnp.ndarray = param(5.5)
    J: jnp.ndarray = param(0.1)
    eta: jnp.ndarray = param(0.0)
    Delta: jnp.ndarray = param(1.0)
    c_minus: jnp.ndarray = param(-40.0)
    R_minus: jnp.ndarray = param(0.5)
    c_plus: jnp.ndarray = param(-20.0)
    R_plus: jnp.ndarray = param(-0.5)
    Vstar: jnp.ndarray = param(-31.0)
    Cm: jnp.ndarray = param(1.0)
    tau_n: jnp.ndarray = param(4.0, positive=True)
    gamma: jnp.ndarray = param(0.04)
    epsilon: jnp.ndarray = param(0.001)

    state_names: ClassVar[tuple[str, ...]] = ("x", "V", "n", "DKi", "Kg")
    coupled_vars: ClassVar[tuple[str, ...]] = ("x",)
    observable: ClassVar[str] = "x"
    default_state: ClassVar[dict[str, float]] = {
        "x": 0.1, "V": -60.0, "n": 0.1, "DKi": -5.0, "Kg": -10.0,
    }  # fmt: skip
    state_ranges: ClassVar[dict[str, tuple[float, float]]] = {
        "x": (0.0, 1.0),
        "V": (-90.0, 10.0),
        "n": (0.0, 1.0),
        "DKi": (-10.0, 0.0),
        "Kg": (-20.0, -5.0),
    }
    state_bounds: ClassVar[dict[str, tuple[float | None, float | None]]] = {
        "x": (0.0, None),
        "V": (-500.0, None),
        "n": (0.0, None),
        "DKi": (-100.0, None),
        "Kg": (-100.0, None),
    }
    input_names: ClassVar[tuple[str, ...]] = ("V",)

    def vector_field(self, t, state, coupling, inputs=None):
        x, V, n = state["x"], state["V"], state["n"]
        dki, kg = state["DKi"], state["Kg"]
        cpl = coupling.get("x", 0.0)
        beta = _W_I / _W_O
        k_i = _K_I0 + dki
        na_i = _NA_I0 - dki
        na_o = _NA_O0 + beta * dki
        k_o = _K_O0 - beta * dki + kg
        m_inf = 1.0 / (1.0 + jnp.exp((_CMNA - V) / _DCMNA))
        n_inf = 1.0 / (1.0 + jnp.exp((_CNK - V) / _DCNK))
        h = 1.1 - 1.0 / (1.0 + jnp.exp(-8.0 * (n - 0.4)))
        i_k = (_G_KL + _G_K * n) * (V - _NERNST * jnp.log(k_o / k_i))
        i_na = (_G_NAL + _G_NA * m_inf * h) * (V - _NERNST * jnp.log(na_o / na_i))
        i_cl = _G_CL * (V + _NERNST * math.log(_CL_O0 / _CL_I0))
        i_pump = _RHO * (
            1.0
            / (1.0 + jnp.exp((_CNAP - na_i) / _DCNAP))
            * (1.0 / (1.0 + jnp.exp((_CKP - k_o) / _DCKP)))
        )
        r = self.R_minus * x / math.pi
        v_dot = (-1.0 / self.Cm) * (i_na + i_k + i_cl + i_pump)
        below = V <= self.Vstar
        R = jnp.where(below, self.R_minus, self.R_plus)
        c = jnp.where(below, self.c_minus, self.c_plus)
        dx = self.Delta + 2.0 * R * (V - c) * x - self.J * r * x
        dV = v_dot - R * x**2 + self.eta + (self.R_minus / math.pi) * cpl * (self.E - V)
        if inputs:
            dV = dV + inputs.get("V", 0.0)
        return {
            "x": dx,
            "V": dV,
            "n": (n_inf - n) / self.tau_n,
            "DKi": -(self.gamma / _W_I) * (i_k - 2.0 * i_pump),
            "Kg": self.epsilon * (self.K_bath - k_o),
        }


KIonExchange = KIonEx
