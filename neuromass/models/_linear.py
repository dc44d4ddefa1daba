"""The linear (leaky) node."""

from typing import ClassVar

import jax.numpy as jnp

from ._base import AbstractNode
from ._params import param


class Linear(AbstractNode):
    r"""Linear node: a leaky integrator of its input, as in The Virtual Brain
    (`Linear`).

    For region $i$ with afferent coupling $C_i$ (on `x`) and external input $u_i$:

    $$\dot x_i = \gamma\,x_i + C_i + u_i$$

    With $\gamma < 0$ the node relaxes to its input with time constant $-1/\gamma$.
    A network of linear nodes with linear coupling is the linear system
    $\dot{\mathbf x} = (\gamma I + k W)\,\mathbf x$ (without delays), stable when the
    damping dominates: $\gamma + k\,\lambda_{max}(W) < 0$ (e.g. $|\gamma|$ larger
    than $k$ times the largest in-strength). With noise it is the multivariate
    Ornstein-Uhlenbeck process used for linear models of resting-state FC.

    **Arguments:**

    | parameter | default | unit | typical range | meaning |
    |---|---|---|---|---|
    | `gamma` | -10.0 | 1/ms | [-100, 0] | damping (negative: stable) |

    A scalar or a per-region `(N,)` array.

    **State variables:** `x` (typical range [-1, 1]). Coupled by default:
    `("x",)`. External inputs: `x` (added to $\dot x$).

    **Local coupling** (on a surface, `neuromass.SurfaceNetwork`): $\ell(x)$
    is added to $\dot x$ (TVB: `gamma * x + c + local_coupling * x`).

    !!! example

        ```python
        import neuromass as nm

        sol = nm.simulate(nm.models.Linear(gamma=-0.5), t1=10.0, dt=0.1,
                          y0={"x": 1.0})          # x(t) = exp(-0.5 t)
        ```

    ??? cite "Reference"

        Sanz-Leon, P., Knock, S. A., Spiegler, A. & Jirsa, V. K. (2015). Mathematical
        framework for large-scale brain network modeling in The Virtual Brain.
        *NeuroImage* 111, 385–430. Saggio, M. L., Ritter, P. & Jirsa, V. K. (2016).
        Analytical operations relate structural and functional connectivity in the
        brain. *PLoS ONE* 11, e0157292.
    """

    gamma: jnp.ndarray = param(-10.0)

    state_names: ClassVar[tuple[str, ...]] = ("x",)
    coupled_vars: ClassVar[tuple[str, ...]] = ("x",)
    observable: ClassVar[str] = "x"
    default_state: ClassVar[dict[str, float]] = {"x": 0.0}
    state_ranges: ClassVar[dict[str, tuple[float, float]]] = {"x": (-1.0, 1.0)}
    input_names: ClassVar[tuple[str, ...]] = ("x",)
    local_coupling: ClassVar[bool] = True

    def vector_field(self, t, state, coupling, inputs=None, local=None):
        dx = self.gamma * state["x"] + coupling.get("x", 0.0)
        if local is not None:  # TVB: `+ local_coupling * x`
            dx = dx + local(state["x"])
        if inputs:
            dx = dx + inputs.get("x", 0.0)
        return {"x": dx}
