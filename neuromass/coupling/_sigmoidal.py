"""Sigmoidal couplings: saturating functions of the source activity (before the
sum) or of the summed input (after it)."""

from typing import ClassVar

import equinox as eqx
import jax.numpy as jnp

from ..models._params import param
from ..utils import sigmoid
from ._base import AbstractCoupling, AbstractLinearCoupling, sum_edges


class Sigmoidal(AbstractLinearCoupling):
    r"""Sigmoidal coupling applied *after* the weighted sum, as in The Virtual Brain
    (`Sigmoidal`): the summed afferent input saturates between $c_{min}$ and
    $c_{max}$.

    $$c_i = c_{min} + \frac{c_{max} - c_{min}}{1 + \exp(-a\,(g_i - m) / \sigma)},
    \qquad g_i = \sum_j w_{ij}\,x_j(t - \tau_{ij})$$

    The network multiplies $c_i$ by its global strength `k` (use `k=1` to reproduce
    TVB, whose coupling strength lives in the coupling's own parameters). Note that
    $c_i \ne 0$ for a region without afferents unless $c_{min} + c_{max} = 0$ and
    $m = 0$ (the symmetric default).

    **Arguments:**

    | parameter | default | meaning |
    |---|---|---|
    | `cmin` | -1.0 | lower asymptote |
    | `cmax` | 1.0 | upper asymptote |
    | `midpoint` | 0.0 | input $m$ at the centre of the sigmoid |
    | `a` | 1.0 | steepness |
    | `sigma` | 230.0 | width (input scale) |

    Units are those of the coupled variable's derivative (`cmin`, `cmax`) and of the
    summed input (`midpoint`, `sigma`). String shorthand: `"sigmoidal"`. Its
    per-edge term is the source value itself, so it is an
    `neuromass.coupling.AbstractLinearCoupling` (the delayed sums are shared
    across solver stages).

    !!! example

        ```python
        import neuromass as nm

        coupling = nm.coupling.Sigmoidal(cmin=0.0, cmax=1.0, midpoint=5.0, sigma=1.0)
        ```
    """

    cmin: jnp.ndarray = param(-1.0)
    cmax: jnp.ndarray = param(1.0)
    midpoint: jnp.ndarray = param(0.0)
    a: jnp.ndarray = param(1.0)
    sigma: jnp.ndarray = param(230.0)
    local: ClassVar[float] = 0.0

    def post(self, gx):
        z = -self.a * (gx - self.midpoint) / self.sigma
        return self.cmin + (self.cmax - self.cmin) * jnp.reciprocal(1.0 + jnp.exp(z))


class Tanh(AbstractCoupling):
    r"""Hyperbolic-tangent coupling applied to each source *before* the weighted sum,
    as The Virtual Brain's `HyperbolicTangent`: each source region sends a saturating
    rate in $[0, 2a]$.

    $$c_i = \sum_j w_{ij}\; a\Big(1 + \tanh\Big(\frac{b\,x_j(t - \tau_{ij}) - m}
        {\sigma}\Big)\Big)$$

    With `a = 0.5 * QV_max`, `b = 1`, `midpoint = VT`, `sigma = d_V` this is the
    weighted sum of the excitatory firing rates $Q_V$ of the source regions, the
    input of `neuromass.models.LarterBreakspear`.

    **Arguments:**

    | parameter | default | meaning |
    |---|---|---|
    | `a` | 1.0 | half the maximal output |
    | `b` | 1.0 | scale of the source variable |
    | `midpoint` | 0.0 | threshold $m$ |
    | `sigma` | 1.0 | width of the transition |

    String shorthands: `"tanh"`, `"hyperbolic_tangent"`.

    !!! example

        ```python
        import neuromass as nm

        coupling = nm.coupling.Tanh(a=0.5, midpoint=0.0, sigma=0.65)
        ```
    """

    a: jnp.ndarray = param(1.0)
    b: jnp.ndarray = param(1.0)
    midpoint: jnp.ndarray = param(0.0)
    sigma: jnp.ndarray = param(1.0)

    def pre(self, x_j, x_i):
        return self.a * (1.0 + jnp.tanh((self.b * x_j - self.midpoint) / self.sigma))

    def post(self, gx):
        return gx


class SigmoidalJansenRit(AbstractCoupling):
    r"""Sigmoidal coupling of Jansen-Rit columns, as in The Virtual Brain.

    The source regions send the firing rate of their pyramidal population, a sigmoid
    of the difference of the first two coupled variables ($y_1 - y_2$ for
    `neuromass.models.JansenRit`):

    $$c_i = a \sum_j w_{ij}\,\Big(c_{min} +
    \frac{c_{max} - c_{min}}{1 + e^{r\,(v_0 - (y_{1,j}(t-\tau_{ij}) -
    y_{2,j}(t-\tau_{ij})))}}\Big)$$

    The result is a single input, delivered under the name of the first coupled
    variable (`"y1"` for Jansen-Rit).

    **Arguments:**

    - `cmax`: maximal rate (1/ms, default 0.005 = 2 `nu_max`).
    - `midpoint`: sigmoid midpoint $v_0$ (mV, default 6.0).
    - `r`: steepness (1/mV, default 0.56).
    - `a`: scale (default 1.0).
    - `cmin`: minimal rate (1/ms, default 0.0).

    String shorthand: `"sigmoidal_jansen_rit"`.

    !!! example

        ```python
        import neuromass as nm

        coupling = nm.coupling.SigmoidalJansenRit()
        ```
    """

    cmax: jnp.ndarray = param(0.005)
    midpoint: jnp.ndarray = param(6.0)
    r: jnp.ndarray = param(0.56)
    a: jnp.ndarray = param(1.0)
    cmin: jnp.ndarray = param(0.0)

    def pre(self, x_j, x_i):
        if x_j.shape[-1] < 2:
            raise ValueError(
                "`SigmoidalJansenRit` needs two coupled variables (y1, y2); got "
                f"{x_j.shape[-1]}. Use `coupled_vars=('y1', 'y2')`."
            )
        v = x_j[..., 0:1] - x_j[..., 1:2]
        return self.cmin + sigmoid(v, self.cmax - self.cmin, self.r, self.midpoint)

    def post(self, gx):
        return self.a * gx


class PreSigmoidal(AbstractCoupling):
    r"""Pre-summation sigmoidal coupling with a static or dynamic threshold, as in
    The Virtual Brain (`PreSigmoidal`), made for `neuromass.models.Hopfield`.

    Each source sends a saturating output $A_j = H\big(Q + \tanh(G(P x_j -
    \theta_j))\big)$ before the weighted sum.

    - **Static threshold** (`dynamic=False`): $\theta_j = \theta$ (the parameter),
      for every coupled variable:
      $c_i = \sum_j w_{ij}\,H\big(Q + \tanh(G(P x_j(t - \tau_{ij}) - \theta))\big)$.
    - **Dynamic threshold** (`dynamic=True`, TVB's default): the coupled variables
      are $(x, \theta)$ (e.g. Hopfield's `("x", "theta")`) and the threshold is the
      source's own second variable. The outputs are
      $c^x_i = \sum_j w_{ij} A_j(t - \tau_{ij})$ and $c^\theta_i = A_i(t)$, the
      region's own output (the mean over regions with `globalT=True`). TVB reads
      the latter at the self-connection delay, zero in practice; here it is the
      current value.

    This follows TVB's documented equation. (TVB 2.10's `PreSigmoidal.__call__`
    sums over the target axis of its delayed-state array, so that with zero delays
    its weighted sum is $\sum_j w_{ij} A_i$, the region's own output times its
    in-strength, not the sum of the sources' outputs.)

    **Arguments:**

    | parameter | default | meaning |
    |---|---|---|
    | `H` | 0.5 | global factor |
    | `Q` | 1.0 | average (offset) |
    | `G` | 60.0 | gain |
    | `P` | 1.0 | excitation-inhibition ratio |
    | `theta` | 0.5 | static threshold |
    | `dynamic` | True | use the dynamic threshold (a static Python bool) |
    | `globalT` | False | dynamic threshold output averaged over regions (static bool) |

    String shorthand: `"pre_sigmoidal"`.

    !!! example

        ```python
        import numpy as np
        import neuromass as nm

        w = np.array([[0.0, 1.0], [1.0, 0.0]])
        net = nm.Network(
            nm.models.Hopfield(dynamic=True), w,
            coupling=nm.coupling.PreSigmoidal(dynamic=True),
            coupled_vars=("x", "theta"),
        )
        sol = nm.simulate(net, t1=20.0, dt=0.01)
        ```
    """

    H: jnp.ndarray = param(0.5)
    Q: jnp.ndarray = param(1.0)
    G: jnp.ndarray = param(60.0)
    P: jnp.ndarray = param(1.0)
    theta: jnp.ndarray = param(0.5)
    dynamic: bool = eqx.field(default=True, static=True, converter=bool)
    globalT: bool = eqx.field(default=False, static=True, converter=bool)

    def _out(self, x, threshold):
        return self.H * (self.Q + jnp.tanh(self.G * (self.P * x - threshold)))

    def pre(self, x_j, x_i):
        if self.dynamic:
            if x_j.shape[-1] != 2:
                raise ValueError(
                    "`PreSigmoidal(dynamic=True)` needs two coupled variables (the "
                    "activity and its threshold, e.g. `coupled_vars=('x', 'theta')`); "
                    f"got {x_j.shape[-1]}."
                )
            return self._out(x_j[..., :1], x_j[..., 1:])
        return self._out(x_j, self.theta)

    def post(self, gx):
        return gx

    def __call__(self, x_j, x_i, weights):
        summed = sum_edges(weights[..., None] * self.pre(x_j, x_i))
        if not self.dynamic:
            return summed
        own = self._out(x_i[0, :, :1], x_i[0, :, 1:])
        if self.globalT:
            own = jnp.broadcast_to(jnp.mean(own, axis=0, keepdims=True), own.shape)
        return jnp.concatenate([summed, own], axis=-1)
