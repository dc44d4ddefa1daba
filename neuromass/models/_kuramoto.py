"""The Kuramoto phase oscillator."""

import math
from typing import ClassVar

import jax.numpy as jnp

from ._base import AbstractNode
from ._params import param


class Kuramoto(AbstractNode):
    r"""Kuramoto phase oscillator, as in The Virtual Brain (`Kuramoto`).

    For region $i$ with afferent coupling $C_i$ (on `theta`) and external input
    $u_i$:

    $$\dot\theta_i = \omega_i + C_i + u_i$$

    With `neuromass.coupling.Kuramoto` the coupling is
    $C_i = a \sum_j w_{ij} \sin(\theta_j(t - \tau_{ij}) - \theta_i(t))$, the classic
    Kuramoto network (with all-to-all unit weights and $a = K/N$: Kuramoto's
    mean-field model, which synchronises above the critical coupling
    $K_c = 2 / (\pi g(0))$ for a unimodal frequency density $g$ centred on 0).

    The phase is not wrapped: it grows by $\omega$ per ms (use
    `jnp.mod(theta, 2 * jnp.pi)` or `jnp.sin(theta)` on the output).

    **Arguments:**

    | parameter | default | unit | typical range | meaning |
    |---|---|---|---|---|
    | `omega` | 1.0 | rad/ms | [0.01, 200] | natural angular frequency |

    ($f = 1000\,\omega / 2\pi$ Hz: `omega=0.0628` is 10 Hz.)

    A scalar or a per-region `(N,)` array (heterogeneous frequencies).

    **State variables:** `theta` (phase, rad; typical range [0, 2π]). Coupled by
    default: `("theta",)`. External inputs: `theta` (added to $\dot\theta$).

    **Local coupling** (on a surface, `neuromass.SurfaceNetwork`):
    $\sin(\ell(\theta))$ is added to $C_i$, the sine of the locally summed
    phases, as TVB's `Kuramoto` computes it (`sin(local_coupling * theta)`, not
    the sum of the sines of the phase differences).

    !!! example

        ```python
        import jax.numpy as jnp
        import neuromass as nm

        n = 10
        omega = 0.06 + 0.005 * jnp.linspace(-1, 1, n)   # ~10 Hz, spread
        net = nm.Network(nm.models.Kuramoto(omega=omega), jnp.ones((n, n)),
                         coupling=nm.coupling.Kuramoto(a=0.02 / n))
        sol = nm.simulate(net, t1=2000.0, dt=0.5, save_every=5.0)
        ```

    ??? cite "Reference"

        Kuramoto, Y. (1975). Self-entrainment of a population of coupled non-linear
        oscillators. In *International Symposium on Mathematical Problems in
        Theoretical Physics*, Lecture Notes in Physics 39, 420–422. Strogatz, S. H.
        (2000). From Kuramoto to Crawford: exploring the onset of synchronization in
        populations of coupled oscillators. *Physica D* 143, 1–20.
    """

    omega: jnp.ndarray = param(1.0)

    state_names: ClassVar[tuple[str, ...]] = ("theta",)
    coupled_vars: ClassVar[tuple[str, ...]] = ("theta",)
    observable: ClassVar[str] = "theta"
    default_state: ClassVar[dict[str, float]] = {"theta": 0.0}
    state_ranges: ClassVar[dict[str, tuple[float, float]]] = {
        "theta": (0.0, 2.0 * math.pi)
    }
    input_names: ClassVar[tuple[str, ...]] = ("theta",)
    local_coupling: ClassVar[bool] = True

    def vector_field(self, t, state, coupling, inputs=None, local=None):
        theta = state["theta"]
        c = coupling.get("theta", 0.0)
        if local is not None:  # TVB: `I = c_0 + sin(local_coupling * theta)`
            c = c + jnp.sin(local(theta))
        dtheta = jnp.broadcast_to(self.omega, theta.shape) + c
        if inputs:
            dtheta = dtheta + inputs.get("theta", 0.0)
        return {"theta": dtheta}
