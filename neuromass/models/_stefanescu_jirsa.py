"""Stefanescu-Jirsa reduced sets: mode decompositions of heterogeneous populations
of FitzHugh-Nagumo and Hindmarsh-Rose neurons (TVB's `ReducedSetFitzHughNagumo`,
`ReducedSetHindmarshRose`).

TVB stores these models' state as `(variable, region, mode)` arrays with three modes.
Here each (variable, mode) pair is its own state variable named `f"{variable}_{mode}"`,
in TVB's order (variable-major): `xi_0, xi_1, xi_2, eta_0, ...`. The mode
coefficients are computed from `mu` and `sigma` (differentiably) exactly as TVB's
`update_derived_parameters` does, with its 1500-sample quadrature.
"""

import statistics
from typing import ClassVar

import jax.numpy as jnp
import numpy as np

from ._base import AbstractNode
from ._params import leading, param


_N_MODES = 3
_N_SAMPLES = 1500
_STEP = 1.0 / (_N_SAMPLES + 2 - 1)
# standard-normal quantiles of TVB's sample grid (constants)
_Z0 = np.array(
    [statistics.NormalDist().inv_cdf(p) for p in np.arange(_STEP, 1.0, _STEP)]
)
_MODES = np.kron(np.eye(_N_MODES), np.ones(_N_SAMPLES // _N_MODES))  # (3, 1500)


def _mode_integrals(mu, sigma):
    """The quadratures of TVB's reduced-set coefficients, for the modes on the
    distribution N(mu, sigma) of the parameter; each entry has shape `(..., 3)`
    (`mu`, `sigma` scalars or per-region `(N,)`)."""
    mu, sigma = jnp.asarray(mu)[..., None], jnp.asarray(sigma)[..., None]
    z0 = leading(jnp.asarray(_Z0, dtype=mu.dtype), mu.ndim)  # (..., samples)
    z = (mu + sigma * z0)[..., None, :]  # (..., 1, samples)
    modes = leading(jnp.asarray(_MODES, dtype=mu.dtype), z.ndim)  # (..., 3, samples)

    def trapz(y):
        y = jnp.broadcast_to(y, jnp.broadcast_shapes(y.shape, z.shape))
        return jnp.trapezoid(y, z, axis=-1)

    v = modes / jnp.sqrt(trapz(modes * modes))[..., None]
    pdf = (jnp.exp(-0.5 * z0**2) / (jnp.sqrt(2.0 * jnp.pi) * sigma))[..., None, :]
    return {
        "int_v": trapz(v),  # ∫ V_i dZ
        "int_gv": trapz(pdf * v),  # ∫ g(Z) V_i dZ
        "int_v3": trapz(v**3),
        "int_v4": trapz(v**4),
        "int_zv": trapz(z * v),
    }


def _modes(state, name):
    return [state[f"{name}_{m}"] for m in range(_N_MODES)]


def _mix(x_modes, matrix_row, matrix_col):
    """`(x @ M)_k` for the rank-one `M[i, k] = row[i] * col[k]`, per mode k."""
    s = sum(x * matrix_row[..., i] for i, x in enumerate(x_modes))
    return [s * matrix_col[..., k] for k in range(_N_MODES)]


def _names(variables):
    return tuple(f"{v}_{m}" for v in variables for m in range(_N_MODES))


def _expand(per_var: dict) -> dict:
    return {f"{v}_{m}": val for v, val in per_var.items() for m in range(_N_MODES)}


class ReducedSetFitzHughNagumo(AbstractNode):
    r"""Stefanescu-Jirsa reduced set of FitzHugh-Nagumo neurons: a population of
    excitatory ($\xi, \eta$) and inhibitory ($\alpha, \beta$) FitzHugh-Nagumo
    neurons whose excitabilities are normally distributed ($\mathcal N(\mu,
    \sigma)$), reduced to three modes each, as in The Virtual Brain
    (`ReducedSetFitzHughNagumo`, the "StefanescuJirsa2D" of the article).

    For mode $i$ of a region with afferent coupling $C = \sum_k C_k$ (the couplings
    of `xi_0`, `xi_1`, `xi_2`, summed over modes as TVB does):

    $$
    \begin{aligned}
    \dot\xi_i &= \tau\big(\xi_i - e_i \xi_i^3/3 - \eta_i\big)
        + K_{11}\Big(\sum_k A_{ki}\xi_k - \xi_i\Big)
        - K_{12}\Big(\sum_k B_{ki}\alpha_k - \xi_i\Big) + \tau(IE_i + C) \\
    \dot\eta_i &= (\xi_i - b\,\eta_i + m_i)/\tau \\
    \dot\alpha_i &= \tau\big(\alpha_i - f_i \alpha_i^3/3 - \beta_i\big)
        + K_{21}\Big(\sum_k C_{ki}\xi_k - \alpha_i\Big) + \tau(II_i + C) \\
    \dot\beta_i &= (\alpha_i - b\,\beta_i + n_i)/\tau
    \end{aligned}
    $$

    The coefficients $A, B, C, e, f, IE, II, m, n$ are integrals over the
    excitability distribution of the (piecewise-constant, normalised) modes,
    computed from `mu`, `sigma` and `a` as in TVB (supplementary material of
    Stefanescu & Jirsa 2008).

    **Modes:** TVB's `(variable, region, mode)` state is mapped to one state
    variable per (variable, mode): `xi_0, xi_1, xi_2, eta_0, ..., beta_2` (12 in
    all, TVB's order). TVB's state `x[v, :, m]` is `state[f"{v}_{m}"]`.

    **Arguments:**

    | parameter | default | unit | meaning |
    |---|---|---|---|
    | `tau` | 3.0 | 1 | time-scale separation $c$ |
    | `a` | 0.45 | 1 | FitzHugh-Nagumo offset |
    | `b` | 0.9 | 1 | recovery damping |
    | `K11`, `K12`, `K21` | 0.5, 0.15, 0.15 | 1 | internal E→E, I→E, E→I coupling |
    | `sigma` | 0.35 | 1 | spread of the excitability distribution |
    | `mu` | 0.0 | 1 | mean of the excitability distribution |

    **State variables:** `xi_m`, `eta_m`, `alpha_m`, `beta_m` for modes m = 0, 1,
    2 (ranges: `xi`, `alpha` [-4, 4], `eta`, `beta` [-3, 3]). Coupled by default:
    `("xi_0", "xi_1", "xi_2")` (TVB's coupling variables are `xi` and `alpha`, but
    only the coupling of `xi` enters its equations).

    **Local coupling** (on a surface, `neuromass.SurfaceNetwork`): mode by
    mode, $\ell(\xi_i)$ is added after $C$ inside $\tau(\cdot)$ of both
    $\dot\xi_i$ and $\dot\alpha_i$ (TVB: `tau * (IE_i + c_0 + local_coupling * xi)`,
    the sparse matrix applied to each mode's column).

    !!! example

        ```python
        import neuromass as nm

        node = nm.models.ReducedSetFitzHughNagumo()
        sol = nm.simulate(node, t1=100.0, dt=0.05, save_every=0.5)
        xi = sol["xi_0"] + sol["xi_1"] + sol["xi_2"]
        ```

    ??? cite "Reference"

        Stefanescu, R. A. & Jirsa, V. K. (2008). A low dimensional description of
        globally coupled heterogeneous neural networks of excitatory and inhibitory
        neurons. *PLoS Comput. Biol.* 4, e1000219.
    """

    tau: jnp.ndarray = param(3.0, positive=True)
    a: jnp.ndarray = param(0.45)
    b: jnp.ndarray = param(0.9)
    K11: jnp.ndarray = param(0.5)
    K12: jnp.ndarray = param(0.15)
    K21: jnp.ndarray = param(0.15)
    sigma: jnp.ndarray = param(0.35)
    mu: jnp.ndarray = param(0.0)

    number_of_modes: ClassVar[int] = _N_MODES
    state_names: ClassVar[tuple[str, ...]] = _names(("xi", "eta", "alpha", "beta"))
    coupled_vars: ClassVar[tuple[str, ...]] = _names(("xi",))
    observable: ClassVar[str] = "xi_0 + xi_1 + xi_2"
    default_state: ClassVar[dict[str, float]] = _expand(
        {"xi": 0.0, "eta": 0.0, "alpha": 0.0, "beta": 0.0}
    )
    state_ranges: ClassVar[dict[str, tuple[float, float]]] = _expand(
        {
            "xi": (-4.0, 4.0),
            "eta": (-3.0, 3.0),
            "alpha": (-4.0, 4.0),
            "beta": (-3.0, 3.0),
        }
    )
    local_coupling: ClassVar[bool] = True

    def vector_field(self, t, state, coupling, inputs=None, local=None):
        q = _mode_integrals(self.mu, self.sigma)
        xi, eta = _modes(state, "xi"), _modes(state, "eta")
        alpha, beta = _modes(state, "alpha"), _modes(state, "beta")
        c = sum(coupling.get(f"xi_{m}", 0.0) for m in range(_N_MODES))
        a_xi = _mix(xi, q["int_gv"], q["int_v"])  # xi @ A
        b_alpha = _mix(alpha, q["int_v"], q["int_gv"])  # alpha @ B
        c_xi = _mix(xi, q["int_gv"], q["int_v"])  # xi @ C
        tau = self.tau
        out = {}
        for m in range(_N_MODES):
            e_m, ie_m, v_m = (q[k][..., m] for k in ("int_v4", "int_zv", "int_v"))
            drive = ie_m + c
            if local is not None:  # TVB: `IE_i + c_0 + local_coupling * xi`
                drive = drive + local(xi[m])
            out[f"xi_{m}"] = (
                tau * (xi[m] - e_m * xi[m] ** 3 / 3.0 - eta[m])
                + self.K11 * (a_xi[m] - xi[m])
                - self.K12 * (b_alpha[m] - xi[m])
                + tau * drive
            )
            out[f"eta_{m}"] = (xi[m] - self.b * eta[m] + self.a * v_m) / tau
            out[f"alpha_{m}"] = (
                tau * (alpha[m] - e_m * alpha[m] ** 3 / 3.0 - beta[m])
                + self.K21 * (c_xi[m] - alpha[m])
                + tau * drive
            )
            out[f"beta_{m}"] = (alpha[m] - self.b * beta[m] + self.a * v_m) / tau
        return {name: out[name] for name in self.state_names}


class ReducedSetHindmarshRose(AbstractNode):
    r"""Stefanescu-Jirsa reduced set of Hindmarsh-Rose neurons: excitatory
    ($\xi, \eta, \tau$) and inhibitory ($\alpha, \beta, \gamma$) bursting neurons with
    normally distributed input currents ($\mathcal N(\mu, \sigma)$), reduced to
    three modes each, as in The Virtual Brain (`ReducedSetHindmarshRose`, the
    "StefanescuJirsa3D" of the article).

    For mode $i$ of a region with afferent coupling $C = \sum_k C_k$ (the couplings
    of `xi_0`, `xi_1`, `xi_2`, summed over modes as TVB does):

    $$
    \begin{aligned}
    \dot\xi_i &= \eta_i - a_i\xi_i^3 + b_i\xi_i^2 - \tau_i
        + K_{11}\Big(\sum_k A_{ki}\xi_k - \xi_i\Big)
        - K_{12}\Big(\sum_k B_{ki}\alpha_k - \xi_i\Big) + IE_i + C \\
    \dot\eta_i &= c_i - d_i\xi_i^2 - \eta_i \\
    \dot\tau_i &= r s\,\xi_i - r\,\tau_i - m_i \\
    \dot\alpha_i &= \beta_i - e_i\alpha_i^3 + f_i\alpha_i^2 - \gamma_i
        + K_{21}\Big(\sum_k C_{ki}\xi_k - \alpha_i\Big) + II_i + C \\
    \dot\beta_i &= h_i - p_i\alpha_i^2 - \beta_i \\
    \dot\gamma_i &= r s\,\alpha_i - r\,\gamma_i - n_i
    \end{aligned}
    $$

    The mode coefficients are computed from `mu`, `sigma`, `a`, `b`, `c`, `d`, `r`,
    `s`, `xo` as in TVB, with its correction of $d_i$, $p_i$ (`corrected_d_p=True`,
    TVB's default).

    **Modes:** as for `neuromass.models.ReducedSetFitzHughNagumo`: one state
    variable per (variable, mode), `xi_0, xi_1, xi_2, eta_0, ..., gamma_2` (18 in
    all, TVB's order).

    **Arguments:**

    | parameter | default | unit | meaning |
    |---|---|---|---|
    | `r` | 0.006 | 1 | slow time scale |
    | `a`, `b`, `c`, `d` | 1.0, 3.0, 1.0, 5.0 | 1 | Hindmarsh-Rose coefficients |
    | `s` | 4.0 | 1 | adaptation gain |
    | `xo` | -1.6 | 1 | adaptation reference potential |
    | `K11`, `K12`, `K21` | 0.5, 0.1, 0.15 | 1 | internal E→E, I→E, E→I coupling |
    | `sigma` | 0.3 | 1 | spread of the input distribution |
    | `mu` | 3.3 | 1 | mean of the input distribution |

    **State variables:** `xi_m`, `eta_m`, `tau_m`, `alpha_m`, `beta_m`, `gamma_m`
    for modes m = 0, 1, 2 (ranges: `xi`, `alpha` [-4, 4], `eta` [-25, 20], `beta`
    [-20, 20], `tau`, `gamma` [2, 10]). Coupled by default: `("xi_0", "xi_1",
    "xi_2")`.

    **Local coupling** (on a surface, `neuromass.SurfaceNetwork`): mode by
    mode, $\ell(\xi_i)$ is added after $C$ to both $\dot\xi_i$ and
    $\dot\alpha_i$ (TVB: `IE_i + c_0 + local_coupling * xi`, the sparse matrix
    applied to each mode's column).

    !!! example

        ```python
        import neuromass as nm

        node = nm.models.ReducedSetHindmarshRose()
        sol = nm.simulate(node, t1=100.0, dt=0.01, save_every=0.5)
        ```

    ??? cite "Reference"

        Stefanescu, R. A. & Jirsa, V. K. (2008). A low dimensional description of
        globally coupled heterogeneous neural networks of excitatory and inhibitory
        neurons. *PLoS Comput. Biol.* 4, e1000219.
    """

    r: jnp.ndarray = param(0.006)
    a: jnp.ndarray = param(1.0)
    b: jnp.ndarray = param(3.0)
    c: jnp.ndarray = param(1.0)
    d: jnp.ndarray = param(5.0)
    s: jnp.ndarray = param(4.0)
    xo: jnp.ndarray = param(-1.6)
    K11: jnp.ndarray = param(0.5)
    K12: jnp.ndarray = param(0.1)
    K21: jnp.ndarray = param(0.15)
    sigma: jnp.ndarray = param(0.3)
    mu: jnp.ndarray = param(3.3)

    number_of_modes: ClassVar[int] = _N_MODES
    state_names: ClassVar[tuple[str, ...]] = _names(
        ("xi", "eta", "tau", "alpha", "beta", "gamma")
    )
    coupled_vars: ClassVar[tuple[str, ...]] = _names(("xi",))
    observable: ClassVar[str] = "xi_0 + xi_1 + xi_2"
    default_state: ClassVar[dict[str, float]] = _expand(
        {"xi": 0.0, "eta": 0.0, "tau": 5.0, "alpha": 0.0, "beta": 0.0, "gamma": 5.0}
    )
    state_ranges: ClassVar[dict[str, tuple[float, float]]] = _expand(
        {
            "xi": (-4.0, 4.0),
            "eta": (-25.0, 20.0),
            "tau": (2.0, 10.0),
            "alpha": (-4.0, 4.0),
            "beta": (-20.0, 20.0),
            "gamma": (2.0, 10.0),
        }
    )
    local_coupling: ClassVar[bool] = True

    def vector_field(self, t, state, coupling, inputs=None, local=None):
        q = _mode_integrals(self.mu, self.sigma)
        xi, eta, tau = _modes(state, "xi"), _modes(state, "eta"), _modes(state, "tau")
        alpha, beta = _modes(state, "alpha"), _modes(state, "beta")
        gamma = _modes(state, "gamma")
        c = sum(coupling.get(f"xi_{m}", 0.0) for m in range(_N_MODES))
        a_xi = _mix(xi, q["int_gv"], q["int_v"])
        b_alpha = _mix(alpha, q["int_v"], q["int_gv"])
        c_xi = _mix(xi, q["int_gv"], q["int_v"])
        rs = self.r * self.s
        out = {}
        for m in range(_N_MODES):
            v4, v3, v1 = (q[k][..., m] for k in ("int_v4", "int_v3", "int_v"))
            ie_m = q["int_zv"][..., m]
            a_m, b_m, c_m, d_m = self.a * v4, self.b * v3, self.c * v1, self.d * v3
            m_m = rs * self.xo * v1
            out[f"xi_{m}"] = (
                eta[m]
                - a_m * xi[m] ** 3
                + b_m * xi[m] ** 2
                - tau[m]
                + self.K11 * (a_xi[m] - xi[m])
                - self.K12 * (b_alpha[m] - xi[m])
                + ie_m
                + c
            )
            out[f"eta_{m}"] = c_m - d_m * xi[m] ** 2 - eta[m]
            out[f"tau_{m}"] = rs * xi[m] - self.r * tau[m] - m_m
            out[f"alpha_{m}"] = (
                beta[m]
                - a_m * alpha[m] ** 3
                + b_m * alpha[m] ** 2
                - gamma[m]
                + self.K21 * (c_xi[m] - alpha[m])
                + ie_m
                + c
            )
            out[f"beta_{m}"] = c_m - d_m * alpha[m] ** 2 - beta[m]
            out[f"gamma_{m}"] = rs * alpha[m] - self.r * gamma[m] - m_m
            if local is not None:  # TVB: `IE_i + c_0 + local_coupling * xi`, last
                lc_m = local(xi[m])
                out[f"xi_{m}"] = out[f"xi_{m}"] + lc_m
                out[f"alpha_{m}"] = out[f"alpha_{m}"] + lc_m
        return {name: out[name] for name in self.state_names}
