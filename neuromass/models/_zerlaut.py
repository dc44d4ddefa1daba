"""Zerlaut / di Volo mean fields of adaptive exponential integrate-and-fire networks
(TVB's `ZerlautAdaptationFirstOrder` and `ZerlautAdaptationSecondOrder`)."""

import math
from typing import ClassVar

import equinox as eqx
import jax
import jax.numpy as jnp
import jax.scipy.special as jsp
import numpy as np

from ._base import AbstractNode
from ._params import param


# TVB's fitted polynomials of the phenomenological threshold (order 9)
_P_E = (-0.04983106, 0.005063550882777035, -0.023470121807314552,
        0.0022951513725067503, -0.0004105302652029825, 0.010547051343547399,
        -0.03659252821136933, 0.007437487505797858, 0.001265064721846073,
        -0.04072161294490446)  # fmt: skip
_P_I = (-0.05149122024209484, 0.004003689190271077, -0.008352013668528155,
        0.0002414237992765705, -0.0005070645080016026, 0.0014345394104282397,
        -0.014686689498949967, 0.004502706285435741, 0.0028472190352532454,
        -0.015357804594594548)  # fmt: skip


def _coefficients(default):
    """A static tuple of 10 fitted coefficients (shared by all regions)."""

    def convert(x):
        out = tuple(float(v) for v in np.ravel(np.asarray(x, dtype=float)))
        if len(out) != 10:
            raise ValueError(
                f"The threshold polynomial needs 10 coefficients; got {len(out)}."
            )
        return out

    return eqx.field(default=default, static=True, converter=convert)


def _fluct(node, fe, fi, fe_ext, fi_ext, w, e_l):
    """Mean, standard deviation and autocorrelation time of the membrane potential
    (di Volo et al. 2019, Eqs. 5-7), in mV, mV and ms."""
    fe = (fe + 1.0e-6) * (1.0 - node.g) * node.p_connect_e * node.N_tot
    fe = fe + fe_ext * node.K_ext_e
    fi = (fi + 1.0e-6) * node.g * node.p_connect_i * node.N_tot + fi_ext * node.K_ext_i
    mu_ge, mu_gi = node.Q_e * node.tau_e * fe, node.Q_i * node.tau_i * fi
    mu_g = node.g_L + mu_ge + mu_gi
    t_m = node.C_m / mu_g
    mu_v = (mu_ge * node.E_e + mu_gi * node.E_i + node.g_L * e_l - w) / mu_g
    u_e = node.Q_e / mu_g * (node.E_e - mu_v)
    u_i = node.Q_i / mu_g * (node.E_i - mu_v)
    ae, ai = fe * (u_e * node.tau_e) ** 2, fi * (u_i * node.tau_i) ** 2
    sigma_v = jnp.sqrt(
        ae / (2.0 * (node.tau_e + t_m)) + ai / (2.0 * (node.tau_i + t_m))
    )
    t_v = (ae + ai) / (ae / (node.tau_e + t_m) + ai / (node.tau_i + t_m))
    return mu_v, sigma_v, t_v


def _transfer(node, fe, fi, fe_ext, fi_ext, w, p, e_l):
    """The transfer function: output rate (kHz) of a population given its input."""
    mu_v, sigma_v, t_v = _fluct(node, fe, fi, fe_ext, fi_ext, w, e_l)
    v = (mu_v + 60.0) / 10.0
    s = (sigma_v - 4.0) / 6.0
    t = (t_v * node.g_L / node.C_m - 0.5) / 1.0
    v_thre = 1e3 * (
        p[0] + p[1] * v + p[2] * s + p[3] * t + p[4] * v**2 + p[5] * s**2
        + p[6] * t**2 + p[7] * v * s + p[8] * v * t + p[9] * s * t
    )  # fmt: skip
    return jsp.erfc((v_thre - mu_v) / (math.sqrt(2.0) * sigma_v)) / (2.0 * t_v)


def _adaptation(node, E, I, fe_ext, fi_ext, w, e_l, a, b, tau_w, rate):  # noqa: E741
    mu_v, _, _ = _fluct(node, E, I, fe_ext, fi_ext, w, e_l)
    return -w / tau_w + b * rate + a * (mu_v - e_l) / tau_w


class ZerlautAdaptationFirstOrder(AbstractNode):
    r"""First-order Zerlaut / di Volo mean field of a network of adaptive
    exponential integrate-and-fire neurons (regular-spiking excitatory,
    fast-spiking inhibitory), as in The Virtual Brain
    (`ZerlautAdaptationFirstOrder`).

    With the semi-analytic transfer function $F_p(\nu_e, \nu_i, W_p)$ of population
    $p$ (TVB's fitted threshold polynomial `P_e`, `P_i`, the fluctuation regime
    $\mu_V, \sigma_V, \tau_V$ of the membrane potential), the afferent coupling
    $C_i$ (on `E`, a rate, kHz) and $\nu_{ext} = \max(C_i + w_n\,\xi, 0)$:

    $$
    \begin{aligned}
    T\dot E &= F_e(E, I; \nu_{ext} + \nu^{ee}_{x}, \nu^{ei}_{x}, W_e) - E \\
    T\dot I &= F_i(E, I; \nu_{ext} + \nu^{ie}_{x}, \nu^{ii}_{x}, W_i) - I \\
    \dot W_e &= -W_e/\tau_{w,e} + b_e E + a_e(\mu_V^e - E_{L,e})/\tau_{w,e} \\
    \dot W_i &= -W_i/\tau_{w,i} + b_i I + a_i(\mu_V^i - E_{L,i})/\tau_{w,i} \\
    \dot \xi &= -\xi/\tau_{OU}
    \end{aligned}
    $$

    $E$, $I$ are rates in kHz, $W$ adaptation currents (pA), $\xi$ = `ou_drift` the
    state driven by noise (its drift only decays; give it noise in the simulation).
    The transfer function is TVB's, term by term, with its fits (the fits are those
    of Zerlaut et al. 2018 for the default cell parameters). `E`, `I` are kept
    non-negative by `state_bounds`.

    **Arguments:**

    | parameter | default | unit | meaning |
    |---|---|---|---|
    | `g_L` | 10.0 | nS | leak conductance |
    | `E_L_e`, `E_L_i` | -65.0, -65.0 | mV | leak reversal potentials |
    | `C_m` | 200.0 | pF | membrane capacitance |
    | `b_e`, `a_e` | 60.0, 4.0 | pA, nS | E adaptation (spike, subthreshold) |
    | `b_i`, `a_i` | 0.0, 0.0 | pA, nS | I adaptation |
    | `tau_w_e`, `tau_w_i` | 500.0, 1.0 | ms | adaptation time constants |
    | `E_e`, `E_i` | 0.0, -80.0 | mV | synaptic reversal potentials |
    | `Q_e`, `Q_i` | 1.5, 5.0 | nS | quantal conductances |
    | `tau_e`, `tau_i` | 5.0, 5.0 | ms | synaptic decay times |
    | `N_tot` | 10000 | 1 | neurons per population |
    | `p_connect_e`, `p_connect_i` | 0.05, 0.05 | 1 | connection probabilities |
    | `g` | 0.2 | 1 | fraction of inhibitory neurons |
    | `K_ext_e`, `K_ext_i` | 400, 0 | 1 | external synapses per neuron |
    | `T` | 20.0 | ms | time scale of the Markov description |
    | `P_e`, `P_i` | TVB's fits | 1 | the 10 threshold-fit coefficients (static) |
    | `external_input_ex_ex` etc. | 0.0 | kHz | drives (`_ex_in`, `_in_ex`, `_in_in`) |
    | `tau_OU` | 5.0 | ms | time constant of `ou_drift` |
    | `weight_noise` | 10.5 | 1 | weight of `ou_drift` in the excitatory drive |
    | `S_i` | 1.0 | 1 | scaling of the long-range drive to I (second order) |
    (`S_i` is accepted so a TVB parameter set passes unchanged; the first-order
    drift does not read it.)

    **State variables:** `E`, `I` (kHz, [0.001, 0.25]), `W_e` (pA, [0, 200]),
    `W_i` ([0, 0]), `ou_drift` ([0, 0]). Coupled by default: `("E",)`.

    **Local coupling** (on a surface, `neuromass.SurfaceNetwork`): $\ell(E)$
    is added to $C_i$ in $\nu_{ext}$ (before the clipping) and $\ell(I)$ is the
    external inhibitory rate of both populations, added to $\nu^{ei}_x$,
    $\nu^{ii}_x$ (TVB: `Fe_ext = c_0 + lc_E + ...`, `Fi_ext = lc_I`).

    !!! example

        ```python
        import neuromass as nm

        node = nm.models.ZerlautAdaptationFirstOrder()
        sol = nm.simulate(node, t1=200.0, dt=0.1, save_every=1.0)
        ```

    ??? cite "Reference"

        Zerlaut, Y., Chemla, S., Chavane, F. & Destexhe, A. (2018). Modeling
        mesoscopic cortical dynamics using a mean-field model of conductance-based
        networks of adaptive exponential integrate-and-fire neurons. *J. Comput.
        Neurosci.* 44, 45–61. di Volo, M., Romagnoni, A., Capone, C. & Destexhe, A.
        (2019). Biologically realistic mean-field models of conductance-based
        networks of spiking neurons with adaptation. *Neural Comput.* 31, 653–680.
    """

    g_L: jnp.ndarray = param(10.0)
    E_L_e: jnp.ndarray = param(-65.0)
    E_L_i: jnp.ndarray = param(-65.0)
    C_m: jnp.ndarray = param(200.0)
    b_e: jnp.ndarray = param(60.0)
    a_e: jnp.ndarray = param(4.0)
    b_i: jnp.ndarray = param(0.0)
    a_i: jnp.ndarray = param(0.0)
    tau_w_e: jnp.ndarray = param(500.0, positive=True)
    tau_w_i: jnp.ndarray = param(1.0, positive=True)
    E_e: jnp.ndarray = param(0.0)
    E_i: jnp.ndarray = param(-80.0)
    Q_e: jnp.ndarray = param(1.5)
    Q_i: jnp.ndarray = param(5.0)
    tau_e: jnp.ndarray = param(5.0, positive=True)
    tau_i: jnp.ndarray = param(5.0, positive=True)
    N_tot: jnp.ndarray = param(10000.0)
    p_connect_e: jnp.ndarray = param(0.05)
    p_connect_i: jnp.ndarray = param(0.05)
    g: jnp.ndarray = param(0.2)
    K_ext_e: jnp.ndarray = param(400.0)
    K_ext_i: jnp.ndarray = param(0.0)
    T: jnp.ndarray = param(20.0)
    P_e: tuple[float, ...] = _coefficients(_P_E)
    P_i: tuple[float, ...] = _coefficients(_P_I)
    external_input_ex_ex: jnp.ndarray = param(0.0)
    external_input_ex_in: jnp.ndarray = param(0.0)
    external_input_in_ex: jnp.ndarray = param(0.0)
    external_input_in_in: jnp.ndarray = param(0.0)
    tau_OU: jnp.ndarray = param(5.0, positive=True)
    weight_noise: jnp.ndarray = param(10.5)
    S_i: jnp.ndarray = param(1.0)

    state_names: ClassVar[tuple[str, ...]] = ("E", "I", "W_e", "W_i", "ou_drift")
    coupled_vars: ClassVar[tuple[str, ...]] = ("E",)
    observable: ClassVar[str] = "E"
    default_state: ClassVar[dict[str, float]] = {
        "E": 0.01, "I": 0.01, "W_e": 0.0, "W_i": 0.0, "ou_drift": 0.0,
    }  # fmt: skip
    state_ranges: ClassVar[dict[str, tuple[float, float]]] = {
        "E": (0.001, 0.25),
        "I": (0.001, 0.25),
        "W_e": (0.0, 200.0),
        "W_i": (0.0, 0.0),
        "ou_drift": (0.0, 0.0),
    }
    state_bounds: ClassVar[dict[str, tuple[float | None, float | None]]] = {
        "E": (0.0, None),
        "I": (0.0, None),
    }
    local_coupling: ClassVar[bool] = True

    def vector_field(self, t, state, coupling, inputs=None, local=None):
        E, I = state["E"], state["I"]  # noqa: E741
        W_e, W_i, ou = state["W_e"], state["W_i"], state["ou_drift"]
        c = coupling.get("E", 0.0)
        fi_ext = 0.0
        if local is not None:  # TVB: `c_0 + lc_E + ...`, `Fi_ext = lc_I`
            c = c + local(E)
            fi_ext = local(I)
        fe_ext = c + self.weight_noise * ou
        fe_ext = jnp.where(fe_ext * self.K_ext_e < 0.0, 0.0, fe_ext)
        ee = fe_ext + self.external_input_ex_ex
        ei = fi_ext + self.external_input_ex_in
        ie = fe_ext + self.external_input_in_ex
        ii = fi_ext + self.external_input_in_in
        f_e = _transfer(self, E, I, ee, ei, W_e, self.P_e, self.E_L_e)
        f_i = _transfer(self, E, I, ie, ii, W_i, self.P_i, self.E_L_i)
        return {
            "E": (f_e - E) / self.T,
            "I": (f_i - I) / self.T,
            "W_e": _adaptation(
                self,
                E,
                I,
                ee,
                ei,
                W_e,
                self.E_L_e,
                self.a_e,
                self.b_e,
                self.tau_w_e,
                E,
            ),  # fmt: skip
            "W_i": _adaptation(
                self,
                E,
                I,
                ie,
                ii,
                W_i,
                self.E_L_i,
                self.a_i,
                self.b_i,
                self.tau_w_i,
                I,
            ),  # fmt: skip
            "ou_drift": -ou / self.tau_OU,
        }


def _derivatives(f, E, I):  # noqa: E741
    """First and second partial derivatives of the elementwise `f(E, I)`, exact
    (forward over forward mode, the two directions batched)."""
    one, zero = jnp.ones_like(E), jnp.zeros_like(E)
    x = jnp.stack([E, I])
    basis = jnp.stack([jnp.stack([one, zero]), jnp.stack([zero, one])])

    def fx(x):
        return f(x[0], x[1])

    def grad(x):
        return jax.vmap(lambda t: jax.jvp(fx, (x,), (t,))[1])(basis)

    g, h = jax.vmap(lambda t: jax.jvp(grad, (x,), (t,)))(basis)
    return g[0, 0], g[0, 1], h[0, 0], h[1, 1], h[0, 1]


class ZerlautAdaptationSecondOrder(AbstractNode):
    r"""Second-order Zerlaut / di Volo mean field: the first-order model plus the
    (co)variances $C_{ee}$, $C_{ei}$, $C_{ii}$ of the rates (El Boustani & Destexhe
    2009), as in The Virtual Brain (`ZerlautAdaptationSecondOrder`).

    With $F_p$ the transfer functions of
    `neuromass.models.ZerlautAdaptationFirstOrder`, $\partial_\mu$ their
    derivatives with respect to the rates (per Hz), $N_e = N_{tot}(1-g)$,
    $N_i = N_{tot}\,g$:

    $$
    \begin{aligned}
    T\dot E &= F_e - E + \tfrac12 C_{ee}\partial^2_{ee}F_e + C_{ei}\partial^2_{ei}F_e
        + \tfrac12 C_{ii}\partial^2_{ii}F_e \\
    T\dot C_{ee} &= \frac{F_e(1/T - F_e)}{N_e} + (F_e - E)^2
        + 2C_{ee}\partial_e F_e + 2C_{ei}\partial_i F_e - 2C_{ee} \\
    T\dot C_{ei} &= (F_e - E)(F_i - I) + C_{ee}\partial_e F_e + C_{ei}\partial_e F_i
        + C_{ei}\partial_i F_e + C_{ii}\partial_i F_i - 2C_{ei}
    \end{aligned}
    $$

    and symmetrically for $I$ and $C_{ii}$; $W_e$, $W_i$ and `ou_drift` as in the
    first-order model. The long-range drive reaches the inhibitory population
    scaled by `S_i`; both drives are clipped at 0.

    TVB computes the derivatives by central finite differences (step 1e-7 kHz); here
    they are exact (automatic differentiation), so the two agree to the finite
    differences' round-off (about 1e-6 relative on the second derivatives in
    float64) rather than to machine precision.

    **Arguments:** those of `neuromass.models.ZerlautAdaptationFirstOrder`
    (same names, defaults and units), of which:

    | parameter | default | unit | meaning |
    |---|---|---|---|
    | `T` | 20.0 | ms | time scale of the Markov description |
    | `N_tot`, `g` | 10000, 0.2 | 1 | sizes $N_e = N_{tot}(1-g)$, $N_i = N_{tot}\,g$ |
    | `S_i` | 1.0 | 1 | scaling of the long-range drive to I |

    **State variables:** `E`, `I` (kHz, [0.001, 0.25]), `C_ee` ([0, 0.0005]),
    `C_ei` ([-0.0005, 0.0005]), `C_ii` ([0, 0.0005]), `W_e` (pA, [0, 200]), `W_i`
    ([0, 0]), `ou_drift` ([0, 0]). Coupled by default: `("E",)`.

    **Local coupling** (on a surface, `neuromass.SurfaceNetwork`): $\ell(E)$
    is added to the excitatory drive of both populations after the long-range term
    ($C_i$, $S_i C_i$) and before the clipping, $\ell(I)$ to their inhibitory
    drives (TVB: `c_0 + lc_E + ...`, `S_i * c_0 + lc_E + ...`, `lc_I + ...`).

    !!! example

        ```python
        import neuromass as nm

        node = nm.models.ZerlautAdaptationSecondOrder()
        sol = nm.simulate(node, t1=200.0, dt=0.1, save_every=1.0)
        ```

    ??? cite "Reference"

        di Volo, M., Romagnoni, A., Capone, C. & Destexhe, A. (2019). Biologically
        realistic mean-field models of conductance-based networks of spiking neurons
        with adaptation. *Neural Comput.* 31, 653–680. El Boustani, S. & Destexhe,
        A. (2009). A master equation formalism for macroscopic modeling of
        asynchronous irregular activity states. *Neural Comput.* 21, 46–100.
    """

    g_L: jnp.ndarray = param(10.0)
    E_L_e: jnp.ndarray = param(-65.0)
    E_L_i: jnp.ndarray = param(-65.0)
    C_m: jnp.ndarray = param(200.0)
    b_e: jnp.ndarray = param(60.0)
    a_e: jnp.ndarray = param(4.0)
    b_i: jnp.ndarray = param(0.0)
    a_i: jnp.ndarray = param(0.0)
    tau_w_e: jnp.ndarray = param(500.0, positive=True)
    tau_w_i: jnp.ndarray = param(1.0, positive=True)
    E_e: jnp.ndarray = param(0.0)
    E_i: jnp.ndarray = param(-80.0)
    Q_e: jnp.ndarray = param(1.5)
    Q_i: jnp.ndarray = param(5.0)
    tau_e: jnp.ndarray = param(5.0, positive=True)
    tau_i: jnp.ndarray = param(5.0, positive=True)
    N_tot: jnp.ndarray = param(10000.0)
    p_connect_e: jnp.ndarray = param(0.05)
    p_connect_i: jnp.ndarray = param(0.05)
    g: jnp.ndarray = param(0.2)
    K_ext_e: jnp.ndarray = param(400.0)
    K_ext_i: jnp.ndarray = param(0.0)
    T: jnp.ndarray = param(20.0)
    P_e: tuple[float, ...] = _coefficients(_P_E)
    P_i: tuple[float, ...] = _coefficients(_P_I)
    external_input_ex_ex: jnp.ndarray = param(0.0)
    external_input_ex_in: jnp.ndarray = param(0.0)
    external_input_in_ex: jnp.ndarray = param(0.0)
    external_input_in_in: jnp.ndarray = param(0.0)
    tau_OU: jnp.ndarray = param(5.0, positive=True)
    weight_noise: jnp.ndarray = param(10.5)
    S_i: jnp.ndarray = param(1.0)

    state_names: ClassVar[tuple[str, ...]] = (
        "E", "I", "C_ee", "C_ei", "C_ii", "W_e", "W_i", "ou_drift",
    )  # fmt: skip
    coupled_vars: ClassVar[tuple[str, ...]] = ("E",)
    observable: ClassVar[str] = "E"
    default_state: ClassVar[dict[str, float]] = {
        "E": 0.01, "I": 0.01, "C_ee": 0.0, "C_ei": 0.0, "C_ii": 0.0,
        "W_e": 0.0, "W_i": 0.0, "ou_drift": 0.0,
    }  # fmt: skip
    state_ranges: ClassVar[dict[str, tuple[float, float]]] = {
        "E": (0.001, 0.25),
        "I": (0.001, 0.25),
        "C_ee": (0.0, 0.5e-3),
        "C_ei": (-0.5e-3, 0.5e-3),
        "C_ii": (0.0, 0.5e-3),
        "W_e": (0.0, 200.0),
        "W_i": (0.0, 0.0),
        "ou_drift": (0.0, 0.0),
    }
    state_bounds: ClassVar[dict[str, tuple[float | None, float | None]]] = {
        "E": (0.0, None),
        "I": (0.0, None),
    }
    local_coupling: ClassVar[bool] = True

    def vector_field(self, t, state, coupling, inputs=None, local=None):
        E, I = state["E"], state["I"]  # noqa: E741
        C_ee, C_ei, C_ii = state["C_ee"], state["C_ei"], state["C_ii"]
        W_e, W_i, ou = state["W_e"], state["W_i"], state["ou_drift"]
        c = coupling.get("E", 0.0)
        noise = self.weight_noise * ou
        c_e, c_i, fi = c, self.S_i * c, jnp.zeros_like(E)
        if local is not None:  # TVB: `c_0 + lc_E`, `S_i * c_0 + lc_E`, `lc_I + ...`
            lc_e = local(E)
            c_e, c_i, fi = c_e + lc_e, c_i + lc_e, local(I)
        ee = jnp.maximum(c_e + self.external_input_ex_ex + noise, 0.0)
        ie = jnp.maximum(c_i + self.external_input_in_ex + noise, 0.0)
        ei = fi + self.external_input_ex_in
        ii = fi + self.external_input_in_in

        def tf_e(e, i):
            return _transfer(self, e, i, ee, ei, W_e, self.P_e, self.E_L_e)

        def tf_i(e, i):
            return _transfer(self, e, i, ie, ii, W_i, self.P_i, self.E_L_i)

        F_e, F_i = tf_e(E, I), tf_i(E, I)
        # derivatives per Hz (the rates are in kHz), as TVB's finite differences
        de_e, di_e, dee_e, dii_e, dei_e = _derivatives(tf_e, E, I)
        de_i, di_i, dee_i, dii_i, dei_i = _derivatives(tf_i, E, I)
        de_e, di_e, de_i, di_i = de_e / 1e3, di_e / 1e3, de_i / 1e3, di_i / 1e3
        dee_e, dii_e, dei_e = dee_e / 1e6, dii_e / 1e6, dei_e / 1e6
        dee_i, dii_i, dei_i = dee_i / 1e6, dii_i / 1e6, dei_i / 1e6
        T = self.T
        n_e = self.N_tot * (1.0 - self.g)
        n_i = self.N_tot * self.g
        dE = (F_e - E + 0.5 * C_ee * dee_e + C_ei * dei_e + 0.5 * C_ii * dii_e) / T
        dI = (F_i - I + 0.5 * C_ee * dee_i + C_ei * dei_i + 0.5 * C_ii * dii_i) / T
        dCee = (
            F_e * (1.0 / T - F_e) / n_e
            + (F_e - E) ** 2
            + 2.0 * C_ee * de_e
            + 2.0 * C_ei * di_e
            - 2.0 * C_ee
        ) / T
        dCei = (
            (F_e - E) * (F_i - I)
            + C_ee * de_e
            + C_ei * de_i
            + C_ei * di_e
            + C_ii * di_i
            - 2.0 * C_ei
        ) / T
        dCii = (
            F_i * (1.0 / T - F_i) / n_i
            + (F_i - I) ** 2
            + 2.0 * C_ii * di_i
            + 2.0 * C_ei * de_i
            - 2.0 * C_ii
        ) / T
        return {
            "E": dE,
            "I": dI,
            "C_ee": dCee,
            "C_ei": dCei,
            "C_ii": dCii,
            "W_e": _adaptation(
                self,
                E,
                I,
                ee,
                ei,
                W_e,
                self.E_L_e,
                self.a_e,
                self.b_e,
                self.tau_w_e,
                E,
            ),  # fmt: skip
            "W_i": _adaptation(
                self,
                E,
                I,
                ie,
                ii,
                W_i,
                self.E_L_i,
                self.a_i,
                self.b_i,
                self.tau_w_i,
                I,
            ),  # fmt: skip
            "ou_drift": -ou / self.tau_OU,
        }
