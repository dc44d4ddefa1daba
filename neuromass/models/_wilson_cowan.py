"""The Wilson-Cowan excitatory/inhibitory population model."""

from typing import ClassVar

import equinox as eqx
import jax.numpy as jnp

from ._base import AbstractNode
from ._params import param


def _flag(default: bool):
    return eqx.field(default=default, converter=lambda x: jnp.asarray(x, dtype=bool))


def _logistic(x, a, b):
    return jnp.reciprocal(1.0 + jnp.exp(-a * (x - b)))


class WilsonCowan(AbstractNode):
    r"""Wilson-Cowan model of interacting excitatory (E) and inhibitory (I)
    populations, in the form of The Virtual Brain (`WilsonCowan`).

    For region $i$ with afferent coupling $C_i$ (on `E`) and external inputs
    $u^E_i, u^I_i$:

    $$
    \begin{aligned}
    x^E_i &= \alpha_e\,\big(c_{ee} E_i - c_{ei} I_i + P - \theta_e + C_i\big), \qquad
    x^I_i = \alpha_i\,\big(c_{ie} E_i - c_{ii} I_i + Q - \theta_i\big) \\
    \tau_e \dot E_i &= -E_i + (k_e - r_e E_i)\,S_e(x^E_i) + \tau_e u^E_i \\
    \tau_i \dot I_i &= -I_i + (k_i - r_i I_i)\,S_i(x^I_i) + \tau_i u^I_i
    \end{aligned}
    $$

    with the logistic response $S(x) = c\,/\,(1 + e^{-a (x - b)})$, shifted down by
    its value at zero, $S(x) - S(0)$, when `shift_sigmoid=True` (the default) so that
    $E = I = 0$ is a rest state without input. $r_e$, $r_i$ are the refractory
    terms and $k_e$, $k_i$ the maximal response.

    With the defaults (TVB's, close to Wilson & Cowan 1972 fig. 4) and $P = 0$ an
    isolated node is bistable: the rest state $E = I = 0$ and an active state
    ($E \approx 0.46$); with $P > 0$ only the active state remains. Wilson and
    Cowan's limit-cycle parameters, `c_ee=16, c_ei=12, c_ie=15, c_ii=3, a_e=1.3,
    b_e=4, a_i=2, b_i=3.7, P=1.25`, give a population oscillation with a period of
    about 5 $\tau_e$ (50 ms).

    **Arguments:**

    | parameter | default | unit | typical range | meaning |
    |---|---|---|---|---|
    | `c_ee` | 12.0 | 1 | [11, 16] | E → E coupling |
    | `c_ei` | 4.0 | 1 | [2, 15] | I → E coupling |
    | `c_ie` | 13.0 | 1 | [2, 22] | E → I coupling |
    | `c_ii` | 11.0 | 1 | [2, 15] | I → I coupling |
    | `tau_e` | 10.0 | ms | [1, 150] | E time constant |
    | `tau_i` | 10.0 | ms | [1, 150] | I time constant |
    | `a_e` | 1.2 | 1 | [0, 1.4] | slope of the E sigmoid |
    | `b_e` | 2.8 | 1 | [1.4, 6] | threshold (max slope position) of the E sigmoid |
    | `c_e` | 1.0 | 1 | [1, 20] | amplitude of the E sigmoid |
    | `theta_e` | 0.0 | 1 | [0, 60] | E threshold |
    | `a_i` | 1.0 | 1 | [0, 2] | slope of the I sigmoid |
    | `b_i` | 4.0 | 1 | [2, 6] | threshold of the I sigmoid |
    | `theta_i` | 0.0 | 1 | [0, 60] | I threshold |
    | `c_i` | 1.0 | 1 | [1, 20] | amplitude of the I sigmoid |
    | `r_e` | 1.0 | 1 | [0.5, 2] | E refractory term |
    | `r_i` | 1.0 | 1 | [0.5, 2] | I refractory term |
    | `k_e` | 1.0 | 1 | [0.5, 2] | maximal E response |
    | `k_i` | 1.0 | 1 | [0, 2] | maximal I response |
    | `P` | 0.0 | 1 | [0, 20] | constant input to E |
    | `Q` | 0.0 | 1 | [0, 20] | constant input to I |
    | `alpha_e` | 1.0 | 1 | [0, 20] | gain of the total E input |
    | `alpha_i` | 1.0 | 1 | [0, 20] | gain of the total I input |
    | `shift_sigmoid` | True | bool | | subtract $S(0)$ from the sigmoids |

    Each parameter is a scalar or a per-region `(N,)` array (`shift_sigmoid` too).

    **State variables:** `E`, `I` (fractions of active cells; typical range
    [0, 1]). Coupled by default: `("E",)` (TVB lists `E` and `I` as coupling
    variables, but only the coupling of `E` enters the equations, into $x^E$).
    External inputs: `E`, `I` (added to the derivatives).

    **Local coupling** (on a surface, `neuromass.SurfaceNetwork`):
    $\ell(E) + \ell(I)$ is added inside both $x^E$ and $x^I$ (TVB: `lc_0 + lc_1`
    in both populations, the local inhibitory activity entering with a plus sign).

    !!! example

        ```python
        import neuromass as nm

        node = nm.models.WilsonCowan(c_ee=16.0, c_ei=12.0, c_ie=15.0, c_ii=3.0,
                                     a_e=1.3, b_e=4.0, a_i=2.0, b_i=3.7,
                                     P=1.25)    # limit cycle
        sol = nm.simulate(node, t1=500.0, dt=0.1, save_every=1.0)
        ```

    ??? cite "Reference"

        Wilson, H. R. & Cowan, J. D. (1972). Excitatory and inhibitory interactions
        in localized populations of model neurons. *Biophys. J.* 12, 1–24.
    """

    c_ee: jnp.ndarray = param(12.0)
    c_ei: jnp.ndarray = param(4.0)
    c_ie: jnp.ndarray = param(13.0)
    c_ii: jnp.ndarray = param(11.0)
    tau_e: jnp.ndarray = param(10.0, positive=True)
    tau_i: jnp.ndarray = param(10.0, positive=True)
    a_e: jnp.ndarray = param(1.2)
    b_e: jnp.ndarray = param(2.8)
    c_e: jnp.ndarray = param(1.0)
    theta_e: jnp.ndarray = param(0.0)
    a_i: jnp.ndarray = param(1.0)
    b_i: jnp.ndarray = param(4.0)
    theta_i: jnp.ndarray = param(0.0)
    c_i: jnp.ndarray = param(1.0)
    r_e: jnp.ndarray = param(1.0)
    r_i: jnp.ndarray = param(1.0)
    k_e: jnp.ndarray = param(1.0)
    k_i: jnp.ndarray = param(1.0)
    P: jnp.ndarray = param(0.0)
    Q: jnp.ndarray = param(0.0)
    alpha_e: jnp.ndarray = param(1.0)
    alpha_i: jnp.ndarray = param(1.0)
    shift_sigmoid: jnp.ndarray = _flag(True)

    state_names: ClassVar[tuple[str, ...]] = ("E", "I")
    coupled_vars: ClassVar[tuple[str, ...]] = ("E",)
    observable: ClassVar[str] = "E"
    default_state: ClassVar[dict[str, float]] = {"E": 0.1, "I": 0.05}
    state_ranges: ClassVar[dict[str, tuple[float, float]]] = {
        "E": (0.0, 1.0),
        "I": (0.0, 1.0),
    }
    input_names: ClassVar[tuple[str, ...]] = ("E", "I")
    local_coupling: ClassVar[bool] = True

    def vector_field(self, t, state, coupling, inputs=None, local=None):
        E, I = state["E"], state["I"]  # noqa: E741
        c = coupling.get("E", 0.0)
        u_e = self.c_ee * E - self.c_ei * I + self.P - self.theta_e + c
        u_i = self.c_ie * E - self.c_ii * I + self.Q - self.theta_i
        if local is not None:  # TVB: `+ lc_0 + lc_1` in both populations
            lc_0, lc_1 = local(E), local(I)
            u_e = u_e + lc_0 + lc_1
            u_i = u_i + lc_0 + lc_1
        x_e = self.alpha_e * u_e
        x_i = self.alpha_i * u_i
        s_e = _logistic(x_e, self.a_e, self.b_e)
        s_i = _logistic(x_i, self.a_i, self.b_i)
        s_e = self.c_e * jnp.where(
            self.shift_sigmoid, s_e - _logistic(0.0, self.a_e, self.b_e), s_e
        )
        s_i = self.c_i * jnp.where(
            self.shift_sigmoid, s_i - _logistic(0.0, self.a_i, self.b_i), s_i
        )
        dE = (-E + (self.k_e - self.r_e * E) * s_e) / self.tau_e
        dI = (-I + (self.k_i - self.r_i * I) * s_i) / self.tau_i
        if inputs:
            dE = dE + inputs.get("E", 0.0)
            dI = dI + inputs.get("I", 0.0)
        return {"E": dE, "I": dI}
