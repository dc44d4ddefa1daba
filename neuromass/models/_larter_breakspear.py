"""The Larter-Breakspear conductance-based neural mass."""

from typing import ClassVar

import jax.numpy as jnp

from ._base import AbstractNode
from ._params import param


def _half_tanh(x, threshold, width):
    return 0.5 * (1.0 + jnp.tanh((x - threshold) / width))


class LarterBreakspear(AbstractNode):
    r"""Larter-Breakspear model: a Morris-Lecar-type conductance-based population of
    pyramidal cells with an inhibitory interneuron feedback, as in The Virtual Brain
    (`LarterBreakspear`, Breakspear et al. 2003).

    For region $i$, with channel gating and firing rates

    $$m_{ion} = \tfrac12\big(1 + \tanh\tfrac{V - T_{ion}}{\delta_{ion}}\big),\quad
    Q_V = \tfrac12 Q_{V}^{max}\big(1 + \tanh\tfrac{V - V_T}{\delta_V}\big),\quad
    Q_Z = \tfrac12 Q_{Z}^{max}\big(1 + \tanh\tfrac{Z - Z_T}{\delta_Z}\big)$$

    and the afferent coupling $\langle Q_V\rangle_i$ (on `V`; with
    `neuromass.coupling.Tanh``(a=0.5*QV_max, midpoint=VT, sigma=d_V)` it is the
    weighted sum of the other regions' rates $Q_V$):

    $$
    \begin{aligned}
    \dot V_i = t_s\Big[&-\big(g_{Ca} + (1 - C)\,r_{NMDA}\,a_{ee}\,Q_V
        + C\,r_{NMDA}\,a_{ee}\,\langle Q_V\rangle_i\big)\,m_{Ca}\,(V_i - V_{Ca}) \\
        &- g_K\,W_i\,(V_i - V_K) - g_L\,(V_i - V_L) \\
        &- \big(g_{Na}\,m_{Na} + (1 - C)\,a_{ee}\,Q_V
        + C\,a_{ee}\,\langle Q_V\rangle_i\big)\,(V_i - V_{Na}) \\
        &- a_{ie}\,Z_i\,Q_Z + a_{ne}\,I_{ext}\Big] + u_i \\
    \dot W_i &= t_s\,\phi\,\frac{m_K - W_i}{\tau_K} \\
    \dot Z_i &= t_s\,b\,\big(a_{ni}\,I_{ext} + a_{ei}\,V_i\,Q_V\big)
    \end{aligned}
    $$

    $C$ balances local recurrent excitation against the excitation arriving from
    the other regions. All quantities are dimensionless (normalised). The spread of
    excitatory thresholds $\delta_V$ is the main bifurcation parameter: in the
    regime of Breakspear et al. (2003), e.g. `d_V=0.6, aee=0.5, aie=0.5, gNa=0,
    Iext=0.165`, an isolated node has a stable fixed point below
    $\delta_V \approx 0.55$, periodic oscillations up to $\approx 0.59$ and
    chaotic ones above. With the defaults (TVB's) it fires regular bursts, about
    one every 100 time units.

    **Arguments:**

    | parameter | default | unit | typical range | meaning |
    |---|---|---|---|---|
    | `gCa` | 1.1 | 1 | [0.9, 1.5] | Ca²⁺ conductance |
    | `gK` | 2.0 | 1 | [1.95, 2.05] | K⁺ conductance |
    | `gL` | 0.5 | 1 | [0.45, 0.55] | leak conductance |
    | `phi` | 0.7 | 1 | [0.3, 0.9] | temperature scaling of `W` |
    | `gNa` | 6.7 | 1 | [0, 10] | Na⁺ conductance |
    | `TK` | 0.0 | 1 | [0, 0.0001] | K⁺ channel threshold |
    | `TCa` | -0.01 | 1 | [-0.02, -0.01] | Ca²⁺ channel threshold |
    | `TNa` | 0.3 | 1 | [0.25, 0.3] | Na⁺ channel threshold |
    | `VCa` | 1.0 | 1 | [0.9, 1.1] | Ca²⁺ Nernst potential |
    | `VK` | -0.7 | 1 | [-0.8, 1] | K⁺ Nernst potential |
    | `VL` | -0.5 | 1 | [-0.7, -0.4] | leak Nernst potential |
    | `VNa` | 0.53 | 1 | [0.51, 0.55] | Na⁺ Nernst potential |
    | `d_K` | 0.3 | 1 | [0.1, 0.4] | spread of the K⁺ thresholds |
    | `tau_K` | 1.0 | 1 | [1, 10] | K⁺ relaxation time |
    | `d_Na` | 0.15 | 1 | [0.1, 0.2] | spread of the Na⁺ thresholds |
    | `d_Ca` | 0.15 | 1 | [0.1, 0.2] | spread of the Ca²⁺ thresholds |
    | `aei` | 2.0 | 1 | [0.1, 2] | excitatory → inhibitory synaptic strength |
    | `aie` | 2.0 | 1 | [0.5, 2] | inhibitory → excitatory synaptic strength |
    | `b` | 0.1 | 1 | [0.0001, 1] | time-scale of the inhibitory population |
    | `C` | 0.1 | 1 | [0, 1] | weight of inter-regional vs local excitation |
    | `ane` | 1.0 | 1 | [0.4, 1] | non-specific → excitatory strength |
    | `ani` | 0.4 | 1 | [0.3, 0.5] | non-specific → inhibitory strength |
    | `aee` | 0.4 | 1 | [0, 0.6] | excitatory → excitatory strength |
    | `Iext` | 0.3 | 1 | [0.165, 0.3] | non-specific (subcortical) input |
    | `rNMDA` | 0.25 | 1 | [0.2, 0.3] | NMDA/AMPA receptor ratio |
    | `VT` | 0.0 | 1 | [0, 0.7] | mean excitatory threshold |
    | `d_V` | 0.65 | 1 | [0.49, 0.7] | spread of the excitatory thresholds |
    | `ZT` | 0.0 | 1 | [0, 0.1] | mean inhibitory threshold |
    | `d_Z` | 0.7 | 1 | [0.001, 0.75] | spread of the inhibitory thresholds |
    | `QV_max` | 1.0 | 1 | [0.1, 1] | maximal excitatory rate |
    | `QZ_max` | 1.0 | 1 | [0.1, 1] | maximal inhibitory rate |
    | `t_scale` | 1.0 | 1 | [0.1, 1] | time scale of the whole system |

    Each parameter is a scalar or a per-region `(N,)` array.

    **State variables:** `V` (mean excitatory potential), `W` (fraction of open K⁺
    channels), `Z` (mean inhibitory potential); typical range [-1.5, 1.5] each.
    Coupled by default: `("V",)`. External inputs: `V` (added to $\dot V$).

    **Local coupling** (on a surface, `neuromass.SurfaceNetwork`): the local
    recurrent rate $Q_V$ becomes $Q_V + \ell(Q_V)$ in both $(1 - C)$ terms of
    $\dot V$ (not in $\dot Z$), as TVB's `(QV + lc_0)`, `lc_0 = local_coupling * QV`.

    !!! example

        ```python
        import neuromass as nm

        node = nm.models.LarterBreakspear()
        coupling = nm.coupling.Tanh(a=0.5 * node.QV_max, midpoint=node.VT,
                                    sigma=node.d_V)
        ```

    ??? cite "Reference"

        Breakspear, M., Terry, J. R. & Friston, K. J. (2003). Modulation of
        excitatory synaptic coupling facilitates synchronization and complex
        dynamics in a biophysical model of neuronal dynamics. *Network: Comput.
        Neural Syst.* 14, 703–732. Larter, R., Speelman, B. & Worth, R. M. (1999).
        A coupled ordinary differential equation lattice model for the simulation of
        epileptic seizures. *Chaos* 9, 795–804.
    """

    gCa: jnp.ndarray = param(1.1)
    gK: jnp.ndarray = param(2.0)
    gL: jnp.ndarray = param(0.5)
    phi: jnp.ndarray = param(0.7)
    gNa: jnp.ndarray = param(6.7)
    TK: jnp.ndarray = param(0.0)
    TCa: jnp.ndarray = param(-0.01)
    TNa: jnp.ndarray = param(0.3)
    VCa: jnp.ndarray = param(1.0)
    VK: jnp.ndarray = param(-0.7)
    VL: jnp.ndarray = param(-0.5)
    VNa: jnp.ndarray = param(0.53)
    d_K: jnp.ndarray = param(0.3)
    tau_K: jnp.ndarray = param(1.0, positive=True)
    d_Na: jnp.ndarray = param(0.15)
    d_Ca: jnp.ndarray = param(0.15)
    aei: jnp.ndarray = param(2.0)
    aie: jnp.ndarray = param(2.0)
    b: jnp.ndarray = param(0.1)
    C: jnp.ndarray = param(0.1)
    ane: jnp.ndarray = param(1.0)
    ani: jnp.ndarray = param(0.4)
    aee: jnp.ndarray = param(0.4)
    Iext: jnp.ndarray = param(0.3)
    rNMDA: jnp.ndarray = param(0.25)
    VT: jnp.ndarray = param(0.0)
    d_V: jnp.ndarray = param(0.65)
    ZT: jnp.ndarray = param(0.0)
    d_Z: jnp.ndarray = param(0.7)
    QV_max: jnp.ndarray = param(1.0)
    QZ_max: jnp.ndarray = param(1.0)
    t_scale: jnp.ndarray = param(1.0)

    state_names: ClassVar[tuple[str, ...]] = ("V", "W", "Z")
    coupled_vars: ClassVar[tuple[str, ...]] = ("V",)
    observable: ClassVar[str] = "V"
    default_state: ClassVar[dict[str, float]] = {"V": -0.1, "W": 0.2, "Z": 0.1}
    state_ranges: ClassVar[dict[str, tuple[float, float]]] = {
        "V": (-1.5, 1.5),
        "W": (-1.5, 1.5),
        "Z": (-1.5, 1.5),
    }
    input_names: ClassVar[tuple[str, ...]] = ("V",)
    local_coupling: ClassVar[bool] = True

    def vector_field(self, t, state, coupling, inputs=None, local=None):
        V, W, Z = state["V"], state["W"], state["Z"]
        q_in = coupling.get("V", 0.0)
        m_Ca = _half_tanh(V, self.TCa, self.d_Ca)
        m_Na = _half_tanh(V, self.TNa, self.d_Na)
        m_K = _half_tanh(V, self.TK, self.d_K)
        QV = self.QV_max * _half_tanh(V, self.VT, self.d_V)
        QZ = self.QZ_max * _half_tanh(Z, self.ZT, self.d_Z)
        q_local = QV
        if local is not None:  # TVB: `(QV + lc_0)`, `lc_0 = local_coupling * QV`
            q_local = QV + local(QV)
        exc = (1.0 - self.C) * q_local + self.C * q_in
        g_ca = self.gCa + self.rNMDA * self.aee * exc
        g_na = self.gNa * m_Na + self.aee * exc
        dV = self.t_scale * (
            -g_ca * m_Ca * (V - self.VCa)
            - self.gK * W * (V - self.VK)
            - self.gL * (V - self.VL)
            - g_na * (V - self.VNa)
            - self.aie * Z * QZ
            + self.ane * self.Iext
        )
        dW = self.t_scale * self.phi * (m_K - W) / self.tau_K
        dZ = self.t_scale * self.b * (self.ani * self.Iext + self.aei * V * QV)
        if inputs:
            dV = dV + inputs.get("V", 0.0)
        return {"V": dV, "W": dW, "Z": dZ}
