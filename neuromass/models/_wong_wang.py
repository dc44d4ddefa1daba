"""Reduced Wong-Wang (dynamic mean field) models of NMDA-gated populations."""

from typing import ClassVar

import equinox as eqx
import jax
import jax.numpy as jnp

from ._base import AbstractNode
from ._params import param


def _transfer(y, d):
    r"""The input-output function $y / (1 - e^{-d y})$ (Abbott & Chance), with its
    removable singularity at $y = 0$ (value $1/d$) handled so that both the value and
    the gradient are finite there."""
    small = jnp.abs(d * y) < 1e-6
    y_safe = jnp.where(small, 1.0, y)
    regular = y_safe / -jnp.expm1(-d * y_safe)
    return jnp.where(small, 1.0 / d + 0.5 * y, regular)


class ReducedWongWang(AbstractNode):
    r"""Reduced Wong-Wang model: the NMDA gating variable of one excitatory
    population with strong recurrence (Deco et al. 2013), as in The Virtual Brain
    (`ReducedWongWang`).

    For region $i$ with afferent coupling $C_i$ (on `S`) and external input $u_i$:

    $$
    \begin{aligned}
    x_i &= w J_N S_i + I_o + J_N C_i \\
    H(x_i) &= \frac{a x_i - b}{1 - e^{-d (a x_i - b)}} \\
    \dot S_i &= -\frac{S_i}{\tau_s} + (1 - S_i)\,\gamma\,H(x_i) + u_i
    \end{aligned}
    $$

    $H$ is the population firing rate (kHz, i.e. spikes/ms) and $S_i \in [0, 1]$
    the fraction of open NMDA channels, kept in $[0, 1]$ by `state_bounds` (clipped
    at every solver stage, as TVB does). With the defaults an isolated node has a
    single low-activity state ($S \approx 0.1$); stronger recurrence makes it
    **bistable**: e.g. `w=0.9, J_N=0.35, I_o=0.3` has a low-activity state
    ($S \approx 0.04$) and a high-activity state ($S \approx 0.64$), selected by
    the initial condition. In a network the global coupling plays the same role
    (Deco et al. 2013).

    **Arguments:**

    | parameter | default | unit | typical range | meaning |
    |---|---|---|---|---|
    | `a` | 0.270 | (nC)⁻¹ | [0, 0.27] | input gain of the transfer function |
    | `b` | 0.108 | kHz | [0, 1] | input shift of the transfer function |
    | `d` | 154.0 | ms | [0, 200] | curvature of the transfer function |
    | `gamma` | 0.641 | 1 | [0, 1] | kinetic parameter |
    | `tau_s` | 100.0 | ms | [50, 150] | NMDA decay time constant |
    | `w` | 0.6 | 1 | [0, 1] | local excitatory recurrence |
    | `J_N` | 0.2609 | nA | [0.2609, 0.5] | NMDA synaptic coupling |
    | `I_o` | 0.33 | nA | [0, 1] | effective external input |
    | `sigma_noise` | 1e-9 | nA | | TVB's noise amplitude (unused by the drift) |

    Each parameter is a scalar or a per-region `(N,)` array. `sigma_noise` is
    accepted so that a TVB parameter set can be passed unchanged; the drift does
    not read it (give the noise to `nm.simulate`).

    **State variables:** `S` (NMDA gating, dimensionless; range and hard bounds
    [0, 1]). Coupled by default: `("S",)`. External inputs: `S` (added to
    $\dot S$).

    **Local coupling** (on a surface, `neuromass.SurfaceNetwork`): $\ell(S)$
    is added to $C_i$, so $x_i$ gains $J_N \ell(S)$ (TVB's `dfun`:
    `c + local_coupling * S`, scaled by $J_N$).

    !!! example

        ```python
        import neuromass as nm

        node = nm.models.ReducedWongWang(w=0.9, J_N=0.35, I_o=0.3)
        low = nm.simulate(node, t1=2000.0, dt=0.1, y0={"S": 0.01})
        high = nm.simulate(node, t1=2000.0, dt=0.1, y0={"S": 0.9})
        ```

    ??? cite "Reference"

        Deco, G., Ponce-Alvarez, A., Mantini, D., Romani, G. L., Hagmann, P. &
        Corbetta, M. (2013). Resting-state functional connectivity emerges from
        structurally and dynamically shaped slow linear fluctuations. *J. Neurosci.*
        33, 11239–11252. Wong, K.-F. & Wang, X.-J. (2006). A recurrent network
        mechanism of time integration in perceptual decisions. *J. Neurosci.* 26,
        1314–1328.
    """

    a: jnp.ndarray = param(0.270)
    b: jnp.ndarray = param(0.108)
    d: jnp.ndarray = param(154.0)
    gamma: jnp.ndarray = param(0.641)
    tau_s: jnp.ndarray = param(100.0, positive=True)
    w: jnp.ndarray = param(0.6)
    J_N: jnp.ndarray = param(0.2609)
    I_o: jnp.ndarray = param(0.33)
    sigma_noise: jnp.ndarray = param(1e-9)

    state_names: ClassVar[tuple[str, ...]] = ("S",)
    coupled_vars: ClassVar[tuple[str, ...]] = ("S",)
    observable: ClassVar[str] = "S"
    default_state: ClassVar[dict[str, float]] = {"S": 0.1}
    state_ranges: ClassVar[dict[str, tuple[float, float]]] = {"S": (0.0, 1.0)}
    state_bounds: ClassVar[dict[str, tuple[float | None, float | None]]] = {
        "S": (0.0, 1.0)
    }
    input_names: ClassVar[tuple[str, ...]] = ("S",)
    local_coupling: ClassVar[bool] = True

    def vector_field(self, t, state, coupling, inputs=None, local=None):
        S = state["S"]
        c = coupling.get("S", 0.0)
        if local is not None:  # TVB's dfun: `c + local_coupling * S`
            c = c + local(S)
        x = self.w * self.J_N * S + self.I_o + self.J_N * c
        H = _transfer(self.a * x - self.b, self.d)
        dS = -S / self.tau_s + (1.0 - S) * H * self.gamma
        if inputs:
            dS = dS + inputs.get("S", 0.0)
        return {"S": dS}


class ReducedWongWangExcInh(AbstractNode):
    r"""Reduced Wong-Wang model with excitatory and inhibitory populations (Deco et
    al. 2014), as in The Virtual Brain (`ReducedWongWangExcInh`).

    For region $i$ with afferent coupling $C_i$ (on `S_e`) and external inputs
    $u^e_i, u^i_i$:

    $$
    \begin{aligned}
    x^e_i &= w_p J_N S^e_i - J_i S^i_i + W_e I_o + G J_N C_i + I_{ext} \\
    x^i_i &= J_N S^e_i - S^i_i + W_i I_o + \lambda\,G J_N C_i \\
    H_p(x) &= \frac{a_p x - b_p}{1 - e^{-d_p (a_p x - b_p)}}, \quad p \in \{e, i\} \\
    \dot S^e_i &= -\frac{S^e_i}{\tau_e} + (1 - S^e_i)\,\gamma_e H_e(x^e_i) + u^e_i \\
    \dot S^i_i &= -\frac{S^i_i}{\tau_i} + \gamma_i H_i(x^i_i) + u^i_i
    \end{aligned}
    $$

    $H_e$, $H_i$ are firing rates in Hz (so $\gamma_e$, $\gamma_i$ carry a factor
    1/1000 to give derivatives per ms). Both gating variables are kept in [0, 1] by
    `state_bounds`. `G` is TVB's global coupling scale of this model: the coupling
    reaching the node is $G$ times the network's (so the effective global coupling
    is `G * k` for a `neuromass.Network` with strength `k`); $\lambda$ routes a
    fraction of it onto the inhibitory population (feed-forward inhibition).

    With the defaults an isolated node sits in a low-activity state
    ($H_e \approx 3$ Hz).

    **Arguments:**

    | parameter | default | unit | typical range | meaning |
    |---|---|---|---|---|
    | `a_e` | 310.0 | (nC)⁻¹ | [0, 500] | E input gain |
    | `b_e` | 125.0 | Hz | [0, 200] | E input shift |
    | `d_e` | 0.160 | s | [0, 0.2] | E transfer curvature |
    | `gamma_e` | 0.000641 | 1 | [0, 0.001] | E kinetic parameter (per ms) |
    | `tau_e` | 100.0 | ms | [50, 150] | E (NMDA) decay time constant |
    | `w_p` | 1.4 | 1 | [0, 2] | E recurrence weight |
    | `J_N` | 0.15 | nA | [0.001, 0.5] | NMDA current |
    | `W_e` | 1.0 | 1 | [0, 2] | scaling of the external input to E |
    | `a_i` | 615.0 | (nC)⁻¹ | [0, 1000] | I input gain |
    | `b_i` | 177.0 | Hz | [0, 200] | I input shift |
    | `d_i` | 0.087 | s | [0, 0.2] | I transfer curvature |
    | `gamma_i` | 0.001 | 1 | [0, 0.002] | I kinetic parameter (per ms) |
    | `tau_i` | 10.0 | ms | [5, 100] | I (GABA) decay time constant |
    | `J_i` | 1.0 | nA | [0.001, 2] | local inhibitory current (feedback inhibition) |
    | `W_i` | 0.7 | 1 | [0, 1] | scaling of the external input to I |
    | `I_o` | 0.382 | nA | [0, 1] | effective external input |
    | `I_ext` | 0.0 | nA | [0, 1] | external stimulus to E |
    | `G` | 2.0 | 1 | [0, 10] | global coupling scaling |
    | `lamda` | 0.0 | 1 | [0, 1] | fraction of the coupling sent to I |

    Each parameter is a scalar or a per-region `(N,)` array.

    **State variables:** `S_e`, `S_i` (gating variables; range and hard bounds
    [0, 1]). Coupled by default: `("S_e",)`. External inputs: `S_e`, `S_i` (added to
    the derivatives).

    **Local coupling** (on a surface, `neuromass.SurfaceNetwork`):
    $\ell(S^e)$ is added to $C_i$, so it reaches both populations through
    $G J_N (C_i + \ell(S^e))$ (TVB: `G * J_N * (c_0 + local_coupling * S_e)`).

    !!! example

        ```python
        import neuromass as nm

        node = nm.models.ReducedWongWangExcInh(G=2.0)
        sol = nm.simulate(node, t1=1000.0, dt=0.1, save_every=1.0)
        ```

    ??? cite "Reference"

        Deco, G., Ponce-Alvarez, A., Hagmann, P., Romani, G. L., Mantini, D. &
        Corbetta, M. (2014). How local excitation-inhibition ratio impacts the whole
        brain dynamics. *J. Neurosci.* 34, 7886–7898.
    """

    a_e: jnp.ndarray = param(310.0)
    b_e: jnp.ndarray = param(125.0)
    d_e: jnp.ndarray = param(0.160)
    gamma_e: jnp.ndarray = param(0.641 / 1000.0)
    tau_e: jnp.ndarray = param(100.0, positive=True)
    w_p: jnp.ndarray = param(1.4)
    J_N: jnp.ndarray = param(0.15)
    W_e: jnp.ndarray = param(1.0)
    a_i: jnp.ndarray = param(615.0)
    b_i: jnp.ndarray = param(177.0)
    d_i: jnp.ndarray = param(0.087)
    gamma_i: jnp.ndarray = param(1.0 / 1000.0)
    tau_i: jnp.ndarray = param(10.0, positive=True)
    J_i: jnp.ndarray = param(1.0)
    W_i: jnp.ndarray = param(0.7)
    I_o: jnp.ndarray = param(0.382)
    I_ext: jnp.ndarray = param(0.0)
    G: jnp.ndarray = param(2.0)
    lamda: jnp.ndarray = param(0.0)

    state_names: ClassVar[tuple[str, ...]] = ("S_e", "S_i")
    coupled_vars: ClassVar[tuple[str, ...]] = ("S_e",)
    observable: ClassVar[str] = "S_e"
    default_state: ClassVar[dict[str, float]] = {"S_e": 0.1, "S_i": 0.05}
    state_ranges: ClassVar[dict[str, tuple[float, float]]] = {
        "S_e": (0.0, 1.0),
        "S_i": (0.0, 1.0),
    }
    state_bounds: ClassVar[dict[str, tuple[float | None, float | None]]] = {
        "S_e": (0.0, 1.0),
        "S_i": (0.0, 1.0),
    }
    input_names: ClassVar[tuple[str, ...]] = ("S_e", "S_i")
    local_coupling: ClassVar[bool] = True

    def vector_field(self, t, state, coupling, inputs=None, local=None):
        S_e, S_i = state["S_e"], state["S_i"]
        c = coupling.get("S_e", 0.0)
        if local is not None:  # TVB: `G * J_N * (c_0 + local_coupling * S_e)`
            c = c + local(S_e)
        c = self.G * self.J_N * c
        jn_se = self.J_N * S_e
        x_e = self.w_p * jn_se - self.J_i * S_i + self.W_e * self.I_o + c + self.I_ext
        x_i = jn_se - S_i + self.W_i * self.I_o + self.lamda * c
        H_e = _transfer(self.a_e * x_e - self.b_e, self.d_e)
        H_i = _transfer(self.a_i * x_i - self.b_i, self.d_i)
        dS_e = -S_e / self.tau_e + (1.0 - S_e) * H_e * self.gamma_e
        dS_i = -S_i / self.tau_i + H_i * self.gamma_i
        if inputs:
            dS_e = dS_e + inputs.get("S_e", 0.0)
            dS_i = dS_i + inputs.get("S_i", 0.0)
        return {"S_e": dS_e, "S_i": dS_i}


class DecoBalancedExcInh(AbstractNode):
    r"""Reduced Wong-Wang E-I model with a regional effective gain $M_i$ (Deco et
    al. 2021), as in The Virtual Brain (`DecoBalancedExcInh`); with
    `neuromass.models.feedback_inhibition_control` the inhibitory weight $J_i$
    of every region is set so that its excitatory rate sits at a target (feedback
    inhibition control, FIC, Deco et al. 2014).

    For region $k$ with afferent coupling $C_k$ (on `S_e`) and external inputs
    $u^e_k, u^i_k$:

    $$
    \begin{aligned}
    x^e_k &= w_p J_N S^e_k - J_i S^i_k + W_e I_o + G J_N C_k + I_{ext} \\
    x^i_k &= J_N S^e_k - S^i_k + W_i I_o + \lambda\,G J_N C_k \\
    H_p(x) &= \frac{M_i(a_p x - b_p)}{1 - e^{-d_p M_i (a_p x - b_p)}},
        \quad p \in \{e, i\} \\
    \dot S^e_k &= -\frac{S^e_k}{\tau_e} + (1 - S^e_k)\,\gamma_e H_e(x^e_k) + u^e_k \\
    \dot S^i_k &= -\frac{S^i_k}{\tau_i} + \gamma_i H_i(x^i_k) + u^i_k
    \end{aligned}
    $$

    With `M_i = 1` this is `neuromass.models.ReducedWongWangExcInh`. Both gating
    variables are kept in [0, 1] by `state_bounds`.

    **Arguments:** those of `neuromass.models.ReducedWongWangExcInh` (same
    names, defaults and units: `a_e`, `b_e`, `d_e`, `gamma_e`, `tau_e`, `w_p`, `J_N`,
    `W_e`, `a_i`, `b_i`, `d_i`, `gamma_i`, `tau_i`, `J_i`, `W_i`, `I_o`, `I_ext`,
    `G`, `lamda`), plus

    | parameter | default | unit | typical range | meaning |
    |---|---|---|---|---|
    | `M_i` | 1.0 | 1 | [1, 10] | effective gain within a region |

    **State variables:** `S_e`, `S_i` (range and hard bounds [0, 1]). Coupled by
    default: `("S_e",)`. External inputs: `S_e`, `S_i`.

    **Local coupling** (on a surface, `neuromass.SurfaceNetwork`): as for
    `ReducedWongWangExcInh`, $\ell(S^e)$ is added to $C_k$ (TVB:
    `G * J_N * (c_0 + local_coupling * S_e)`).

    !!! example

        ```python
        import numpy as np
        import neuromass as nm

        w = np.array([[0.0, 1.0], [0.5, 0.0]])
        node = nm.models.DecoBalancedExcInh(M_i=np.array([1.0, 1.2]))
        node = nm.models.feedback_inhibition_control(node, w, k=1.0)
        net = nm.Network(node, w, coupling=nm.coupling.Linear(a=1.0))
        sol = nm.simulate(net, t1=500.0, dt=0.1, save_every=1.0)
        ```

    ??? cite "Reference"

        Deco, G., Kringelbach, M. L., Arnatkeviciute, A., Oldham, S., Sabaroedin,
        K., Rogasch, N. C., Aquino, K. M. & Fornito, A. (2021). Dynamical
        consequences of regional heterogeneity in the brain's transcriptional
        landscape. *Sci. Adv.* 7, eabf4752.
    """

    a_e: jnp.ndarray = param(310.0)
    b_e: jnp.ndarray = param(125.0)
    d_e: jnp.ndarray = param(0.160)
    gamma_e: jnp.ndarray = param(0.641 / 1000.0)
    tau_e: jnp.ndarray = param(100.0, positive=True)
    w_p: jnp.ndarray = param(1.4)
    J_N: jnp.ndarray = param(0.15)
    W_e: jnp.ndarray = param(1.0)
    a_i: jnp.ndarray = param(615.0)
    b_i: jnp.ndarray = param(177.0)
    d_i: jnp.ndarray = param(0.087)
    gamma_i: jnp.ndarray = param(1.0 / 1000.0)
    tau_i: jnp.ndarray = param(10.0, positive=True)
    J_i: jnp.ndarray = param(1.0)
    W_i: jnp.ndarray = param(0.7)
    I_o: jnp.ndarray = param(0.382)
    I_ext: jnp.ndarray = param(0.0)
    G: jnp.ndarray = param(2.0)
    lamda: jnp.ndarray = param(0.0)
    M_i: jnp.ndarray = param(1.0)

    state_names: ClassVar[tuple[str, ...]] = ("S_e", "S_i")
    coupled_vars: ClassVar[tuple[str, ...]] = ("S_e",)
    observable: ClassVar[str] = "S_e"
    default_state: ClassVar[dict[str, float]] = {"S_e": 0.1, "S_i": 0.05}
    state_ranges: ClassVar[dict[str, tuple[float, float]]] = {
        "S_e": (0.0, 1.0),
        "S_i": (0.0, 1.0),
    }
    state_bounds: ClassVar[dict[str, tuple[float | None, float | None]]] = {
        "S_e": (0.0, 1.0),
        "S_i": (0.0, 1.0),
    }
    input_names: ClassVar[tuple[str, ...]] = ("S_e", "S_i")
    local_coupling: ClassVar[bool] = True

    def vector_field(self, t, state, coupling, inputs=None, local=None):
        S_e, S_i = state["S_e"], state["S_i"]
        c = coupling.get("S_e", 0.0)
        if local is not None:  # TVB: `G * J_N * (c_0 + local_coupling * S_e)`
            c = c + local(S_e)
        c = self.G * self.J_N * c
        jn_se = self.J_N * S_e
        x_e = self.w_p * jn_se - self.J_i * S_i + self.W_e * self.I_o + c + self.I_ext
        x_i = jn_se - S_i + self.W_i * self.I_o + self.lamda * c
        H_e = _transfer(self.M_i * (self.a_e * x_e - self.b_e), self.d_e)
        H_i = _transfer(self.M_i * (self.a_i * x_i - self.b_i), self.d_i)
        dS_e = -S_e / self.tau_e + (1.0 - S_e) * H_e * self.gamma_e
        dS_i = -S_i / self.tau_i + H_i * self.gamma_i
        if inputs:
            dS_e = dS_e + inputs.get("S_e", 0.0)
            dS_i = dS_i + inputs.get("S_i", 0.0)
        return {"S_e": dS_e, "S_i": dS_i}


def _bisect(f, lo, hi, n_iter=80):
    """Root of an increasing function `f` on [lo, hi] (elementwise) by bisection."""

    def body(_, bounds):
        lo, hi = bounds
        mid = 0.5 * (lo + hi)
        above = f(mid) > 0.0
        return jnp.where(above, lo, mid), jnp.where(above, mid, hi)

    lo, hi = jax.lax.fori_loop(0, n_iter, body, (lo, hi))
    return 0.5 * (lo + hi)


def feedback_inhibition_control(
    node: "ReducedWongWangExcInh | DecoBalancedExcInh",
    weights,
    k: float = 1.0,
    target_rate: float = 3.0,
):
    r"""Feedback inhibition control (FIC): the per-region inhibitory weight $J_i$
    that puts every region's excitatory rate at `target_rate` (Hz) in the network's
    steady state (Deco et al. 2014), solved in closed form at that fixed point.

    At the fixed point every region has $H_e = r^*$ (`target_rate`), hence
    $S^e = \gamma_e r^* \tau_e / (1 + \gamma_e r^* \tau_e)$ and a known excitatory
    input $x^e_*$ ($H_e(x^e_*) = r^*$); the coupling is $C_k = k \sum_j w_{kj}
    S^e$ (linear coupling of strength $k$); $S^i$ solves
    $S^i = \tau_i \gamma_i H_i(x^i)$; and then

    $$J_i = \frac{w_p J_N S^e + W_e I_o + G J_N C_k + I_{ext} - x^e_*}{S^i}.$$

    Deco et al. (2014) reach the same $J_i$ by iterating simulations; this is its
    fixed point, found by bisection (exact to round-off).

    **Arguments:**

    - `node`: a `neuromass.models.ReducedWongWangExcInh` or
      `neuromass.models.DecoBalancedExcInh` (per-region parameters allowed).
    - `weights`: the connectome `(N, N)`, `[to, from]`, as given to
      `neuromass.Network`.
    - `k`: the strength of the network's linear coupling
      (`neuromass.coupling.Linear` `a`).
    - `target_rate`: the excitatory rate to reach, Hz (3 Hz in Deco et al. 2014).

    **Returns:** `node` with `J_i` replaced by the `(N,)` FIC values.

    ??? cite "Reference"

        Deco, G., Ponce-Alvarez, A., Hagmann, P., Romani, G. L., Mantini, D. &
        Corbetta, M. (2014). How local excitation-inhibition ratio impacts the whole
        brain dynamics. *J. Neurosci.* 34, 7886–7898.
    """
    if not isinstance(node, ReducedWongWangExcInh | DecoBalancedExcInh):
        raise TypeError(
            "`feedback_inhibition_control` needs a ReducedWongWangExcInh or a "
            f"DecoBalancedExcInh node; got {type(node).__name__}."
        )
    w = jnp.asarray(weights, dtype=jnp.result_type(float))
    if w.ndim != 2 or w.shape[0] != w.shape[1]:
        raise ValueError(f"`weights` must be a square (N, N) array; got {w.shape}.")
    return _fic(node, w, k, target_rate)


@eqx.filter_jit
def _fic(node, w, k, target_rate):
    n = w.shape[0]
    gain = getattr(node, "M_i", 1.0)
    r = jnp.asarray(target_rate, dtype=w.dtype)
    ones = jnp.ones((n,), w.dtype)
    # excitatory fixed point
    s_e = node.gamma_e * r * node.tau_e / (1.0 + node.gamma_e * r * node.tau_e)
    s_e = s_e * ones
    y_e = _bisect(lambda y: _transfer(y, node.d_e) - r, -1e3 * ones, 1e3 * ones)
    x_e_star = y_e / gain / node.a_e + node.b_e / node.a_e
    c = node.G * node.J_N * k * (w @ s_e)

    # inhibitory fixed point: S_i = tau_i gamma_i H_i(x_i(S_i)), increasing residual
    def resid(s_i):
        x_i = node.J_N * s_e - s_i + node.W_i * node.I_o + node.lamda * c
        h_i = _transfer(gain * (node.a_i * x_i - node.b_i), node.d_i)
        return s_i - node.tau_i * node.gamma_i * h_i

    hi = node.tau_i * node.gamma_i * _transfer(
        gain * (node.a_i * (node.J_N * s_e + node.W_i * node.I_o + node.lamda * c)
                - node.b_i), node.d_i
    ) + 1.0  # fmt: skip
    s_i = _bisect(resid, 0.0 * ones, hi * ones)
    j_i = (
        node.w_p * node.J_N * s_e + node.W_e * node.I_o + c + node.I_ext - x_e_star
    ) / s_i
    return node.replace(J_i=j_i)
