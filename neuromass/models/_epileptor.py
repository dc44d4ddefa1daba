"""The Epileptor (Jirsa et al. 2014) and its two-dimensional reduction."""

from typing import ClassVar

import equinox as eqx
import jax.numpy as jnp

from ._base import AbstractNode
from ._params import param


def _flag(default: bool):
    return eqx.field(default=default, converter=lambda x: jnp.asarray(x, dtype=bool))


def _z_target(x1, z, x0, s, modification):
    """The fixed point targeted by the slow permittivity variable z."""
    linear = s * (x1 - x0) - 0.1 * jnp.where(z < 0.0, z**7, 0.0)
    sigmoidal = x0 + 3.0 / (1.0 + jnp.exp(-(x1 + 0.5) / 0.1))
    return jnp.where(modification, sigmoidal, linear)


class Epileptor(AbstractNode):
    r"""Epileptor: a six-dimensional phenomenological model of seizure onset, offset
    and propagation (Jirsa et al. 2014), as in The Virtual Brain (`Epileptor`).

    Two fast oscillators, population 1 ($x_1, y_1$, fast discharges) and population
    2 ($x_2, y_2$, spike-and-wave events), are driven by a slow permittivity
    variable $z$ and linked by the low-pass filter $g$. For region $i$ with afferent
    couplings $C^1_i$ (on `x1`) and $C^2_i$ (on `x2`) and external input $u_i$:

    $$
    \begin{aligned}
    \dot x_1 &= t_t\big(y_1 - z + I_{ext} + K_{vf} C^1_i + F_1(x_1, x_2, z)\big)
        + u_i \\
    \dot y_1 &= t_t\big(c - d x_1^2 - y_1\big) \\
    \dot z &= t_t\,r\,\big(h(x_1, z) - z + K_s C^1_i\big) \\
    \dot x_2 &= t_t\big(-y_2 + x_2 - x_2^3 + I_{ext2} + b_b\,g
        - 0.3 (z - 3.5) + K_f C^2_i\big) \\
    \dot y_2 &= \frac{t_t}{\tau}\big(-y_2 + F_2(x_2)\big) \\
    \dot g &= -0.01\,t_t\,\big(g - 0.1 x_1\big)
    \end{aligned}
    $$

    with

    $$F_1 = \begin{cases} -a x_1^3 + b x_1^2 & x_1 < 0 \\
        (\text{slope} - x_2 + 0.6 (z - 4)^2)\,x_1 & x_1 \ge 0\end{cases},\qquad
    F_2 = \begin{cases} 0 & x_2 < -0.25 \\ a_a (x_2 + 0.25) & x_2 \ge -0.25
    \end{cases}$$

    and $h = s\,(x_1 - x_0) - 0.1\,z^7 [z < 0]$ (linear, default) or
    $h = x_0 + 3 / (1 + e^{-(x_1 + 0.5)/0.1})$ (`modification=True`, Proix et al.
    2014). $x_0$ is the epileptogenicity: with the defaults ($x_0 = -1.6$) an
    isolated node alternates between interictal periods and seizures (fast
    discharges of $x_1$, about 1 s long, every 2 s): $z$ rises during a seizure
    and recovers in between, seizures starting near $z = 2.9$ and stopping near
    $z = 4.1$. Below $x_0 \approx -2.06$ the node stays interictal. The usual
    observable is $x_2 - x_1$ (local field potential).

    The coupling is usually `neuromass.coupling.Diffusive` on `x1` (the
    permittivity coupling through $K_s$, Proix et al. 2014) with `Ks` negative.

    **Arguments:**

    | parameter | default | unit | typical range | meaning |
    |---|---|---|---|---|
    | `a` | 1.0 | 1 | | cubic coefficient of $x_1$ |
    | `b` | 3.0 | 1 | | quadratic coefficient of $x_1$ |
    | `c` | 1.0 | 1 | | additive coefficient of $y_1$ ($y_0$ in Jirsa 2014) |
    | `d` | 5.0 | 1 | | quadratic coefficient of $y_1$ |
    | `r` | 0.00035 | 1/ms | [0, 0.001] | rate of the slow variable $z$ ($1/\tau_0$) |
    | `s` | 4.0 | 1 | | slope of the linear $z$ target |
    | `x0` | -1.6 | 1 | [-3, -1] | epileptogenicity |
    | `Iext` | 3.1 | 1 | [1.5, 5] | input current to population 1 |
    | `slope` | 0.0 | 1 | [-16, 6] | linear coefficient of $F_1$ |
    | `Iext2` | 0.45 | 1 | [0, 1] | input current to population 2 |
    | `tau` | 10.0 | ms | | time scale of $y_2$ |
    | `aa` | 6.0 | 1 | | linear coefficient of $F_2$ |
    | `bb` | 2.0 | 1 | | weight of the filter $g$ in $\dot x_2$ |
    | `Kvf` | 0.0 | 1 | [0, 4] | coupling on the very fast time scale ($x_1$) |
    | `Kf` | 0.0 | 1 | [0, 4] | coupling on the fast time scale ($x_2$) |
    | `Ks` | 0.0 | 1 | [-4, 4] | permittivity coupling (onto $z$) |
    | `tt` | 1.0 | 1 | [0.001, 10] | time scale of the whole system |
    | `modification` | False | bool | | sigmoidal instead of linear $z$ target |

    Each parameter is a scalar or a per-region `(N,)` array (`modification` too).
    TVB's equations use the fixed value 4 where `s` appears; keep `s = 4` to match
    them.

    **State variables:** `x1` ([-2, 1]), `y1` ([-20, 2]), `z` ([2, 5]), `x2`
    ([-2, 0]), `y2` ([0, 2]), `g` ([-1, 1]) (typical ranges). Coupled by default:
    `("x1", "x2")`. External inputs: `x1`, `x2` (added to $\dot x_1$, $\dot x_2$,
    TVB's stimulus variables).

    **Local coupling** (on a surface, `neuromass.SurfaceNetwork`): $\ell(x_1)$
    is added to $I_{ext}$ (TVB: `Iext = self.Iext + local_coupling * x1`).

    !!! example

        ```python
        import neuromass as nm

        node = nm.models.Epileptor()
        sol = nm.simulate(node, t1=5000.0, dt=0.1, save_every=1.0)
        lfp = sol["x2"] - sol["x1"]
        ```

    ??? cite "Reference"

        Jirsa, V. K., Stacey, W. C., Quilichini, P. P., Ivanov, A. I. & Bernard, C.
        (2014). On the nature of seizure dynamics. *Brain* 137, 2210–2230. Proix,
        T., Bartolomei, F., Chauvel, P., Bernard, C. & Jirsa, V. K. (2014).
        Permittivity coupling across brain regions determines seizure recruitment in
        partial epilepsy. *J. Neurosci.* 34, 15009–15021.
    """

    a: jnp.ndarray = param(1.0)
    b: jnp.ndarray = param(3.0)
    c: jnp.ndarray = param(1.0)
    d: jnp.ndarray = param(5.0)
    r: jnp.ndarray = param(0.00035)
    s: jnp.ndarray = param(4.0)
    x0: jnp.ndarray = param(-1.6)
    Iext: jnp.ndarray = param(3.1)
    slope: jnp.ndarray = param(0.0)
    Iext2: jnp.ndarray = param(0.45)
    tau: jnp.ndarray = param(10.0, positive=True)
    aa: jnp.ndarray = param(6.0)
    bb: jnp.ndarray = param(2.0)
    Kvf: jnp.ndarray = param(0.0)
    Kf: jnp.ndarray = param(0.0)
    Ks: jnp.ndarray = param(0.0)
    tt: jnp.ndarray = param(1.0, positive=True)
    modification: jnp.ndarray = _flag(False)

    state_names: ClassVar[tuple[str, ...]] = ("x1", "y1", "z", "x2", "y2", "g")
    coupled_vars: ClassVar[tuple[str, ...]] = ("x1", "x2")
    observable: ClassVar[str] = "x2 - x1"
    default_state: ClassVar[dict[str, float]] = {
        "x1": -1.5,
        "y1": -10.0,
        "z": 3.0,
        "x2": -1.0,
        "y2": 0.0,
        "g": 0.0,
    }
    state_ranges: ClassVar[dict[str, tuple[float, float]]] = {
        "x1": (-2.0, 1.0),
        "y1": (-20.0, 2.0),
        "z": (2.0, 5.0),
        "x2": (-2.0, 0.0),
        "y2": (0.0, 2.0),
        "g": (-1.0, 1.0),
    }
    input_names: ClassVar[tuple[str, ...]] = ("x1", "x2")
    local_coupling: ClassVar[bool] = True

    def vector_field(self, t, state, coupling, inputs=None, local=None):
        x1, y1, z = state["x1"], state["y1"], state["z"]
        x2, y2, g = state["x2"], state["y2"], state["g"]
        c1 = coupling.get("x1", 0.0)
        c2 = coupling.get("x2", 0.0)
        tt = self.tt
        f1 = jnp.where(
            x1 < 0.0,
            (-self.a * x1 + self.b) * x1,
            self.slope - x2 + 0.6 * (z - 4.0) ** 2,
        )
        Iext = self.Iext
        if local is not None:  # TVB: `Iext = self.Iext + local_coupling * x1`
            Iext = Iext + local(x1)
        dx1 = tt * (y1 - z + Iext + self.Kvf * c1 + f1 * x1)
        dy1 = tt * (self.c - self.d * x1 * x1 - y1)
        h = _z_target(x1, z, self.x0, self.s, self.modification)
        dz = tt * self.r * (h - z + self.Ks * c1)
        dx2 = tt * (
            -y2 + x2 - x2**3 + self.Iext2 + self.bb * g - 0.3 * (z - 3.5) + self.Kf * c2
        )
        f2 = jnp.where(x2 < -0.25, 0.0, self.aa * (x2 + 0.25))
        dy2 = tt * (-y2 + f2) / self.tau
        dg = -0.01 * tt * (g - 0.1 * x1)
        if inputs:
            dx1 = dx1 + inputs.get("x1", 0.0)
            dx2 = dx2 + inputs.get("x2", 0.0)
        return {"x1": dx1, "y1": dy1, "z": dz, "x2": dx2, "y2": dy2, "g": dg}


class Epileptor2D(AbstractNode):
    r"""Two-dimensional Epileptor: the slow-fast reduction of the Epileptor to
    population 1 and the permittivity variable (Proix et al. 2014), as in The
    Virtual Brain (`Epileptor2D`).

    For region $i$ with afferent coupling $C_i$ (on `x1`) and external input $u_i$:

    $$
    \begin{aligned}
    \dot x_1 &= t_t\big(c - z + I_{ext} + K_{vf} C_i - G(x_1, z)\,x_1\big) + u_i \\
    \dot z &= t_t\,r\,\big(h(x_1, z) - z + K_s C_i\big)
    \end{aligned}
    $$

    with $G = a x_1^2 + (d - b) x_1$ for $x_1 < 0$ and
    $G = -\text{slope} - 0.6 (z - 4)^2 + d x_1$ otherwise (so that, with the
    defaults, $\dot x_1 = -x_1^3 - 2 x_1^2 + 1 - z + I_{ext}$ on the interictal
    branch), and the same $z$ target $h$ as `neuromass.models.Epileptor`
    (linear with slope 4, or sigmoidal with `modification=True`). With the defaults
    ($x_0 = -1.6$) the node relaxes slowly along the interictal branch, jumps to the
    ictal (seizure) branch, and back: a slow relaxation oscillation of $z$ with fast
    jumps of $x_1$.

    **Arguments:**

    | parameter | default | unit | typical range | meaning |
    |---|---|---|---|---|
    | `a` | 1.0 | 1 | | cubic coefficient of $x_1$ |
    | `b` | 3.0 | 1 | | quadratic coefficient of $x_1$ |
    | `c` | 1.0 | 1 | | additive coefficient ($y_0$) |
    | `d` | 5.0 | 1 | | quadratic coefficient of the eliminated $y_1$ |
    | `r` | 0.00035 | 1/ms | [0, 0.001] | rate of $z$ |
    | `x0` | -1.6 | 1 | [-3, -1] | epileptogenicity |
    | `Iext` | 3.1 | 1 | [1.5, 5] | input current |
    | `slope` | 0.0 | 1 | [-16, 6] | linear coefficient on the ictal branch |
    | `Kvf` | 0.0 | 1 | [0, 4] | coupling on the fast time scale ($x_1$) |
    | `Ks` | 0.0 | 1 | [-4, 4] | permittivity coupling (onto $z$) |
    | `tt` | 1.0 | 1 | [0.001, 1] | time scale of the whole system |
    | `modification` | False | bool | | sigmoidal instead of linear $z$ target |

    Each parameter is a scalar or a per-region `(N,)` array.

    **State variables:** `x1` ([-2, 1]) and `z` ([2, 5]). Coupled by default:
    `("x1",)`. External inputs: `x1` (added to $\dot x_1$).

    **Local coupling** (on a surface, `neuromass.SurfaceNetwork`): $\ell(x_1)$
    is added to $I_{ext}$ (TVB: `Iext = self.Iext + local_coupling * x1`).

    !!! example

        ```python
        import neuromass as nm

        sol = nm.simulate(nm.models.Epileptor2D(), t1=5000.0, dt=0.1,
                          save_every=1.0)
        ```

    ??? cite "Reference"

        Proix, T., Bartolomei, F., Chauvel, P., Bernard, C. & Jirsa, V. K. (2014).
        Permittivity coupling across brain regions determines seizure recruitment in
        partial epilepsy. *J. Neurosci.* 34, 15009–15021. Proix, T., Bartolomei, F.,
        Guye, M. & Jirsa, V. K. (2017). Individual brain structure and modelling
        predict seizure propagation. *Brain* 140, 641–654.
    """

    a: jnp.ndarray = param(1.0)
    b: jnp.ndarray = param(3.0)
    c: jnp.ndarray = param(1.0)
    d: jnp.ndarray = param(5.0)
    r: jnp.ndarray = param(0.00035)
    x0: jnp.ndarray = param(-1.6)
    Iext: jnp.ndarray = param(3.1)
    slope: jnp.ndarray = param(0.0)
    Kvf: jnp.ndarray = param(0.0)
    Ks: jnp.ndarray = param(0.0)
    tt: jnp.ndarray = param(1.0, positive=True)
    modification: jnp.ndarray = _flag(False)

    state_names: ClassVar[tuple[str, ...]] = ("x1", "z")
    coupled_vars: ClassVar[tuple[str, ...]] = ("x1",)
    observable: ClassVar[str] = "x1"
    default_state: ClassVar[dict[str, float]] = {"x1": -1.5, "z": 3.0}
    state_ranges: ClassVar[dict[str, tuple[float, float]]] = {
        "x1": (-2.0, 1.0),
        "z": (2.0, 5.0),
    }
    input_names: ClassVar[tuple[str, ...]] = ("x1",)
    local_coupling: ClassVar[bool] = True

    def vector_field(self, t, state, coupling, inputs=None, local=None):
        x1, z = state["x1"], state["z"]
        cpl = coupling.get("x1", 0.0)
        tt = self.tt
        G = jnp.where(
            x1 < 0.0,
            self.a * x1 * x1 + (self.d - self.b) * x1,
            -self.slope - 0.6 * (z - 4.0) ** 2 + self.d * x1,
        )
        Iext = self.Iext
        if local is not None:  # TVB: `Iext = self.Iext + local_coupling * x1`
            Iext = Iext + local(x1)
        dx1 = tt * (self.c - z + Iext + self.Kvf * cpl - G * x1)
        h = _z_target(x1, z, self.x0, 4.0, self.modification)
        dz = tt * self.r * (h - z + self.Ks * cpl)
        if inputs:
            dx1 = dx1 + inputs.get("x1", 0.0)
        return {"x1": dx1, "z": dz}


class EpileptorRestingState(AbstractNode):
    r"""Epileptor coupled to a resting-state generic 2D oscillator (Courtiol et al.
    2020), as in The Virtual Brain (`EpileptorRestingState`): the six Epileptor
    equations (with TVB's linear $z$ target) plus a FitzHugh-Nagumo-like
    oscillator ($x_{rs}, y_{rs}$) producing the resting-state activity.

    For region $i$ with afferent couplings $C^1_i$ (on `x1`), $C^2_i$ (on `x2`) and
    $C^3_i$ (on `x_rs`):

    $$
    \begin{aligned}
    \dot x_1 &= t_t\big(y_1 - z + I_{ext} + K_{vf} C^1_i + f_1(x_1, x_2, z)\,x_1\big)
        + u_i \\
    \dot y_1 &= t_t\,(c - d x_1^2 - y_1) \\
    \dot z &= t_t\,r\big(4(x_1 - x_0) - z - 0.1\,z^7[z<0] + K_s C^1_i\big) \\
    \dot x_2 &= t_t\big(-y_2 + x_2 - x_2^3 + I_{ext2} + b_b g - 0.3(z - 3.5)
        + K_f C^2_i\big) \\
    \dot y_2 &= t_t\big(-y_2 + a_a (x_2 + 0.25)[x_2 \ge -0.25]\big)/\tau \\
    \dot g &= -0.01\,t_t\,(g - 0.1 x_1) \\
    \dot x_{rs} &= d_{rs}\tau_{rs}\big(\alpha_{rs} y_{rs} - f_{rs} x_{rs}^3
        + e_{rs} x_{rs}^2 + \gamma_{rs} I_{rs} + \gamma_{rs} K_{rs} C^3_i\big) \\
    \dot y_{rs} &= d_{rs}\big(a_{rs} + b_{rs} x_{rs} - \beta_{rs} y_{rs}\big)/\tau_{rs}
    \end{aligned}
    $$

    with $f_1 = -a x_1 + b$ for $x_1 < 0$ and $f_1 = \text{slope} - x_2 + 0.6
    (z - 4)^2$ otherwise. TVB's observable is $p(x_2 - x_1) + (1 - p)\,x_{rs}$
    (`p` does not enter the drift).

    **Arguments:** the Epileptor's (`a`=1, `b`=3, `c`=1, `d`=5, `r`=0.00035, `s`=4
    (unused by TVB's equations, as here), `x0`=-1.6, `Iext`=3.1, `slope`=0,
    `Iext2`=0.45, `tau`=10, `aa`=6, `bb`=2, `Kvf`=0, `Kf`=0, `Ks`=0, `tt`=1) and
    those of the resting-state oscillator:

    | parameter | default | meaning |
    |---|---|---|
    | `tau_rs` | 1.0 | time-scale separation |
    | `I_rs` | 0.0 | input current |
    | `a_rs`, `b_rs` | -2.0, -10.0 | $y_{rs}$ nullcline offset and slope |
    | `d_rs` | 0.02 | overall time scale |
    | `e_rs`, `f_rs` | 3.0, 1.0 | quadratic and cubic coefficients |
    | `alpha_rs`, `beta_rs` | 1.0, 1.0 | weight of $y_{rs}$, damping of $y_{rs}$ |
    | `gamma_rs` | 1.0 | input gain |
    | `K_rs` | 1.0 | coupling strength of the oscillator |
    | `p` | 0.0 | mix of the observable (unused by the drift) |

    **State variables:** `x1`, `y1`, `z`, `x2`, `y2`, `g`, `x_rs`, `y_rs`. Coupled
    by default: `("x1", "x2", "x_rs")`. External inputs: `x1`.

    **Local coupling** (on a surface, `neuromass.SurfaceNetwork`): $\ell(x_1)$
    is added to $I_{ext}$ and $\ell(x_{rs})$ to the bracket of $\dot x_{rs}$, after
    $\gamma_{rs} K_{rs} C^3_i$ and not multiplied by $\gamma_{rs}$ (TVB:
    `Iext + local_coupling * x1` and `lc_1 = local_coupling * x_rs`).

    !!! example

        ```python
        import neuromass as nm

        node = nm.models.EpileptorRestingState()
        sol = nm.simulate(node, t1=500.0, dt=0.05, save_every=1.0)
        ```

    ??? cite "Reference"

        Courtiol, J., Guye, M., Bartolomei, F., Petkoski, S. & Jirsa, V. K. (2020).
        Dynamical mechanisms of interictal resting-state functional connectivity in
        epilepsy. *J. Neurosci.* 40, 5572–5588.
    """

    a: jnp.ndarray = param(1.0)
    b: jnp.ndarray = param(3.0)
    c: jnp.ndarray = param(1.0)
    d: jnp.ndarray = param(5.0)
    r: jnp.ndarray = param(0.00035)
    s: jnp.ndarray = param(4.0)
    x0: jnp.ndarray = param(-1.6)
    Iext: jnp.ndarray = param(3.1)
    slope: jnp.ndarray = param(0.0)
    Iext2: jnp.ndarray = param(0.45)
    tau: jnp.ndarray = param(10.0, positive=True)
    aa: jnp.ndarray = param(6.0)
    bb: jnp.ndarray = param(2.0)
    Kvf: jnp.ndarray = param(0.0)
    Kf: jnp.ndarray = param(0.0)
    Ks: jnp.ndarray = param(0.0)
    tt: jnp.ndarray = param(1.0, positive=True)
    tau_rs: jnp.ndarray = param(1.0, positive=True)
    I_rs: jnp.ndarray = param(0.0)
    a_rs: jnp.ndarray = param(-2.0)
    b_rs: jnp.ndarray = param(-10.0)
    d_rs: jnp.ndarray = param(0.02)
    e_rs: jnp.ndarray = param(3.0)
    f_rs: jnp.ndarray = param(1.0)
    alpha_rs: jnp.ndarray = param(1.0)
    beta_rs: jnp.ndarray = param(1.0)
    gamma_rs: jnp.ndarray = param(1.0)
    K_rs: jnp.ndarray = param(1.0)
    p: jnp.ndarray = param(0.0)

    state_names: ClassVar[tuple[str, ...]] = (
        "x1", "y1", "z", "x2", "y2", "g", "x_rs", "y_rs",
    )  # fmt: skip
    coupled_vars: ClassVar[tuple[str, ...]] = ("x1", "x2", "x_rs")
    observable: ClassVar[str] = "x2 - x1"
    default_state: ClassVar[dict[str, float]] = {
        "x1": -1.6, "y1": -12.0, "z": 3.8, "x2": -1.0,
        "y2": 0.005, "g": 0.0, "x_rs": 1.0, "y_rs": 0.0,
    }  # fmt: skip
    state_ranges: ClassVar[dict[str, tuple[float, float]]] = {
        "x1": (-1.8, -1.4),
        "y1": (-15.0, -10.0),
        "z": (3.6, 4.0),
        "x2": (-1.1, -0.9),
        "y2": (0.001, 0.01),
        "g": (-1.0, 1.0),
        "x_rs": (-2.0, 4.0),
        "y_rs": (-6.0, 6.0),
    }
    input_names: ClassVar[tuple[str, ...]] = ("x1",)
    local_coupling: ClassVar[bool] = True

    def vector_field(self, t, state, coupling, inputs=None, local=None):
        x1, y1, z = state["x1"], state["y1"], state["z"]
        x2, y2, g = state["x2"], state["y2"], state["g"]
        xr, yr = state["x_rs"], state["y_rs"]
        c1 = coupling.get("x1", 0.0)
        c2 = coupling.get("x2", 0.0)
        c3 = coupling.get("x_rs", 0.0)
        tt = self.tt
        f1 = jnp.where(
            x1 < 0.0,
            -self.a * x1**2 + self.b * x1,
            self.slope - x2 + 0.6 * (z - 4.0) ** 2,
        )
        Iext = self.Iext
        if local is not None:  # TVB: `Iext = self.Iext + local_coupling * x1`
            Iext = Iext + local(x1)
        dx1 = tt * (y1 - z + Iext + self.Kvf * c1 + f1 * x1)
        dy1 = tt * (self.c - self.d * x1**2 - y1)
        zneg = jnp.where(z < 0.0, -0.1 * z**7, 0.0)
        dz = tt * (self.r * (4.0 * (x1 - self.x0) + zneg - z + self.Ks * c1))
        dx2 = tt * (
            -y2 + x2 - x2**3 + self.Iext2 + self.bb * g - 0.3 * (z - 3.5) + self.Kf * c2
        )
        f2 = jnp.where(x2 < -0.25, 0.0, self.aa * (x2 + 0.25))
        dy2 = tt * ((-y2 + f2) / self.tau)
        dg = tt * (-0.01 * (g - 0.1 * x1))
        rs = (
            self.alpha_rs * yr
            - self.f_rs * xr**3
            + self.e_rs * xr**2
            + self.gamma_rs * self.I_rs
            + self.gamma_rs * self.K_rs * c3
        )
        if local is not None:  # TVB: `+ lc_1`, `lc_1 = local_coupling * x_rs`
            rs = rs + local(xr)
        dxr = self.d_rs * self.tau_rs * rs
        dyr = self.d_rs * (self.a_rs + self.b_rs * xr - self.beta_rs * yr) / self.tau_rs
        if inputs:
            dx1 = dx1 + inputs.get("x1", 0.0)
        return {
            "x1": dx1, "y1": dy1, "z": dz, "x2": dx2,
            "y2": dy2, "g": dg, "x_rs": dxr, "y_rs": dyr,
        }  # fmt: skip
