"""Coloured noise: Ornstein-Uhlenbeck processes added to the drift."""

import equinox as eqx
import jax
import jax.numpy as jnp
from jaxtyping import Array, Float

from .._inputs._base import Contribution
from ..models import AbstractNode
from ._noise import (
    AbstractNoise,
    _check_sigma,
    _check_variables,
    _checked_sigma,
    _diag,
)


class OrnsteinUhlenbeck(AbstractNoise):
    r"""Coloured noise: an Ornstein-Uhlenbeck process $\eta$ per noisy variable and
    region, added to the drift (brainmass's `OUProcess`).

    $$ds_v = \big(f_v + (M\eta_v)\big)\,dt,\qquad
      d\eta_v = -\frac{\eta_v}{\tau}\,dt + \sigma\sqrt{2/\tau}\;dW_v$$

    Stationary statistics: $E[\eta] = 0$, $\mathrm{Var}[\eta] = \sigma^2$ and
    $\mathrm{Corr}[\eta(t), \eta(t + s)] = e^{-|s|/\tau}$; with the `mixing` matrix
    $M$ the forcing $M\eta$ of the regions has covariance $\sigma^2 M M^\top$
    (correlated noise across regions). As $\tau \to 0$ with $\sigma^2 \tau$ fixed it
    tends to white noise of intensity $\sigma\sqrt{2\tau}$.

    `simulate` integrates $\eta$ with the network as extra state variables named
    `"ou_<variable>"`, starting from a stationary draw (from the run's `key`). They are
    not saved unless asked for (`variables=("x", "ou_x")`); monitors that record all
    variables see them too.

    **Arguments:**

    - `tau`: correlation time (ms), `> 0`: a scalar or per-region `(N,)` array.
    - `sigma`: stationary standard deviation of $\eta$ (units of the variable per ms),
      `>= 0`: a scalar or `(N,)`.
    - `variables`: the state variables that receive noise (default: all).
    - `mixing`: optional `(N, N)` matrix `[to, from]` mixing the regions' processes.

    !!! example

        ```python
        import jax
        import neuromass as nm

        noise = nm.noise.OrnsteinUhlenbeck(tau=20.0, sigma=0.05, variables=("x",))
        net = nm.Network(nm.models.Hopf(), [[0.0, 1.0], [1.0, 0.0]], noise=noise)
        sol = nm.simulate(net, t1=100.0, dt=0.1, key=jax.random.key(0),
                          variables=("x", "ou_x"))
        sol["ou_x"].shape  # (1001, 2)
        ```
    """

    tau: Float[Array, "..."]
    sigma: Float[Array, "..."]
    mixing: Float[Array, "nodes nodes"] | None
    variables: tuple[str, ...] | None = eqx.field(static=True)

    def __init__(self, tau, sigma, variables=None, mixing=None):
        tau = jnp.asarray(tau, dtype=float)
        sigma = jnp.asarray(sigma, dtype=float)
        _check_sigma(sigma)
        try:
            bad = bool(jnp.any(~jnp.isfinite(tau)) | jnp.any(tau <= 0))
        except jax.errors.ConcretizationTypeError:
            bad = False
        if bad:
            raise ValueError(
                f"`tau` (the correlation time, ms) must be finite and > 0; got {tau}."
            )
        if mixing is not None:
            mixing = jnp.asarray(mixing, dtype=float)
            if mixing.ndim != 2 or mixing.shape[0] != mixing.shape[1]:
                raise ValueError(
                    f"`mixing` must be an (N, N) matrix [to, from]; got shape "
                    f"{mixing.shape}."
                )
        self.tau, self.sigma, self.mixing = tau, sigma, mixing
        self.variables = _check_variables(variables)

    def names(self, node: AbstractNode) -> tuple[str, ...]:
        """The noisy variables of `node`."""
        return node.state_names if self.variables is None else self.variables

    def extra_state(self, node) -> tuple[str, ...]:
        return tuple(f"ou_{v}" for v in self.names(node))

    def check(self, node, n: int) -> None:
        if self.mixing is not None and self.mixing.shape != (n, n):
            raise ValueError(
                f"`mixing` has shape {self.mixing.shape}; the network has {n} regions."
            )

    def initial_extra(self, node, n, dtype, key):
        """A stationary draw of the processes (from the run's `key`)."""
        names = self.extra_state(node)
        draw = jax.random.normal(
            jax.random.fold_in(key, 2**31 - 1), (len(names), n), dtype
        )
        return {
            e: jnp.broadcast_to(self.sigma, (n,)) * draw[i] for i, e in enumerate(names)
        }

    def drift(self, t, state, stage) -> Contribution:
        """The forcing `M eta` of each noisy variable, and the decay `-eta / tau` of
        the processes."""
        out = {}
        m = self.mixing
        for v in self._noisy(state):
            e = f"ou_{v}"
            out[v] = state[e] if m is None else m @ state[e]
        for v in self._noisy(state):
            e = f"ou_{v}"
            out[e] = -state[e] / self.tau
        return Contribution(derivative=out)

    def diffusion(self, t, state):
        """White noise of intensity `sigma sqrt(2 / tau)` on the processes only."""
        eta = tuple(f"ou_{v}" for v in self._noisy(state))
        scale = self.sigma * jnp.sqrt(2.0 / self.tau)
        return _diag(state, eta, lambda v, x: scale)

    def checked(self):
        tau = eqx.error_if(
            self.tau,
            ~jnp.all(jnp.isfinite(self.tau) & (self.tau > 0)),
            "Noise `tau` (the correlation time, ms) is NaN, infinite or not positive "
            "(a traced value, e.g. set with `eqx.tree_at` or swept); it must be > 0.",
        )
        return eqx.tree_at(
            lambda n: (n.tau, n.sigma), self, (tau, _checked_sigma(self.sigma))
        )

    def _noisy(self, state) -> tuple[str, ...]:
        """The noisy variables, read from a state that carries their processes."""
        if self.variables is not None:
            return self.variables
        return tuple(v[3:] for v in state if v.startswith("ou_"))

    @property
    def is_additive(self) -> bool:
        return True
