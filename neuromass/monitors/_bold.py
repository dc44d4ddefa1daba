"""BOLD signal through the Balloon-Windkessel hemodynamic model."""

import equinox as eqx
import jax.numpy as jnp

from ..models._params import param
from ._base import AbstractMonitor


class Bold(AbstractMonitor):
    r"""fMRI BOLD signal from the Balloon-Windkessel model, integrated alongside the
    network at the simulation step and sampled every repetition time `tr`.

    Each region's neural activity $z = \text{scale}\cdot x$ (the chosen variable)
    drives a vasodilatory signal $s$, blood inflow $f$, blood volume $v$ and
    deoxyhemoglobin content $q$ (time $t'$ in **seconds** here, as in the
    references; the monitor converts from ms):

    $$
    \begin{aligned}
    \dot s &= z - \kappa s - \gamma (f - 1) \\
    \dot f &= s \\
    \tau \dot v &= f - v^{1/\alpha} \\
    \tau \dot q &= f\,\frac{1 - (1 - E_0)^{1/f}}{E_0} - v^{1/\alpha}\,\frac{q}{v}
    \end{aligned}
    $$

    and the BOLD signal (Stephan et al. 2007)

    $$y = V_0\,\big[k_1 (1 - q) + k_2 (1 - q / v) + k_3 (1 - v)\big],\quad
    k_1 = 4.3\,\vartheta_0 E_0 T_E,\; k_2 = \varepsilon r_0 E_0 T_E,\;
    k_3 = 1 - \varepsilon.$$

    The hemodynamics start at rest ($s = 0$, $f = v = q = 1$) and keep evolving through
    the transient; samples are taken after it. The state is advanced with the
    explicit Euler method at the simulation `dt` (time constants are ~1 s, so this
    is accurate to O(dt / 1 s)).

    **Arguments:**

    | argument | default | unit | meaning |
    |---|---|---|---|
    | `variable` | `"x"` | | the neural variable driving the hemodynamics |
    | `tr` | 2000.0 | ms | repetition time (sampling period) |
    | `scale` | 1.0 | 1/s per unit of `variable` | gain from activity to $z$ |
    | `kappa` | 0.65 | 1/s | rate of signal decay |
    | `gamma` | 0.41 | 1/s | rate of flow-dependent elimination |
    | `tau` | 0.98 | s | hemodynamic transit time |
    | `alpha` | 0.32 | | Grubb's exponent |
    | `E0` | 0.34 | | resting oxygen extraction fraction |
    | `V0` | 0.02 | | resting blood volume fraction |
    | `TE` | 0.04 | s | echo time (3 T) |
    | `theta0` | 40.3 | 1/s | frequency offset of magnetised vessels (3 T) |
    | `r0` | 25.0 | 1/s | intravascular relaxation rate slope |
    | `epsilon` | 1.0 | | intra-/extravascular signal ratio |

    `name` (default `"bold"`) is the output key.

    !!! example

        ```python
        import neuromass as nm

        bold = nm.monitors.Bold(variable="x", tr=500.0)
        sol = nm.simulate(nm.models.Hopf(), t1=2000.0, dt=0.5, monitors=[bold])
        sol.monitors["bold"].data.shape   # (4, 1)
        ```

    ??? cite "References"

        Friston, K. J. et al. (2000). Nonlinear responses in fMRI: the Balloon model,
        Volterra kernels, and other hemodynamics. *NeuroImage* 12, 466–477.
        Friston, K. J., Harrison, L. & Penny, W. (2003). Dynamic causal modelling.
        *NeuroImage* 19, 1273–1302.
        Stephan, K. E. et al. (2007). Comparing hemodynamic models with DCM.
        *NeuroImage* 38, 387–401.
    """

    variable: str = eqx.field(static=True, default="x")
    tr: float = eqx.field(static=True, default=2000.0)
    scale: object = param(1.0)
    kappa: object = param(0.65)
    gamma: object = param(0.41)
    tau: object = param(0.98)
    alpha: object = param(0.32)
    E0: object = param(0.34)
    V0: object = param(0.02)
    TE: object = param(0.04)
    theta0: object = param(40.3)
    r0: object = param(25.0)
    epsilon: object = param(1.0)
    name: str = eqx.field(static=True, default="bold")

    warm_through_transient = True

    @property
    def variables(self):
        return (self.variable,)

    def period(self, dt):
        return self.tr

    def init(self, y0, dt):
        x = y0[self.variable]
        one = jnp.ones_like(x)
        return (jnp.zeros_like(x), one, one, one)

    def derivatives(self, state, z):
        """Time derivatives (per second) of `(s, f, v, q)` for neural drive `z`."""
        s, f, v, q = state
        v_out = v ** (1.0 / self.alpha)
        extraction = (1.0 - (1.0 - self.E0) ** (1.0 / f)) / self.E0
        ds = z - self.kappa * s - self.gamma * (f - 1.0)
        df = s
        dv = (f - v_out) / self.tau
        dq = (f * extraction - v_out * q / v) / self.tau
        return ds, df, dv, dq

    def update(self, state, t, y, dt):
        h = dt / 1000.0
        d = self.derivatives(state, self.scale * y[self.variable])
        return tuple(a + h * b for a, b in zip(state, d))

    def signal(self, v, q):
        """The BOLD signal for blood volume `v` and deoxyhemoglobin `q`."""
        k1 = 4.3 * self.theta0 * self.E0 * self.TE
        k2 = self.epsilon * self.r0 * self.E0 * self.TE
        k3 = 1.0 - self.epsilon
        return self.V0 * (k1 * (1.0 - q) + k2 * (1.0 - q / v) + k3 * (1.0 - v))

    def emit(self, state):
        return state, self.signal(state[2], state[3])
