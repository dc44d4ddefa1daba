"""Coloured noise: Ornstein-Uhlenbeck processes added to the drift."""

import functools

import equinox as eqx
import jax
import jax.numpy as jnp
from jaxtyping import Array, Float

from ..models import AbstractNode
from ._noise import AbstractNoise, Additive, _check_sigma, _check_variables


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

    def diffusion(self, t, state):
        raise TypeError(
            "OrnsteinUhlenbeck noise enters the drift through its own state variables "
            "(`simulate` adds them); it has no diffusion of the network's variables."
        )

    @property
    def is_additive(self) -> bool:
        return True

    def names(self, node: AbstractNode) -> tuple[str, ...]:
        """The noisy variables of `node`."""
        return node.state_names if self.variables is None else self.variables

    def augment(self, net, y0, key):
        """`(net, noise, y0)` of the augmented system (see the class docstring): the
        node with the processes as extra variables, white noise on them only, and
        `y0` with a stationary draw of the processes (from `key`)."""
        names = self.names(net.node)
        n = net.n_regions
        if self.mixing is not None and self.mixing.shape != (n, n):
            raise ValueError(
                f"`mixing` has shape {self.mixing.shape}; the network has {n} regions."
            )
        node = _coloured(type(net.node), names)(net.node, self)
        eta = _eta_names(names)
        draw = jax.random.normal(
            jax.random.fold_in(key, 2**31 - 1), (len(names), n), net.weights.dtype
        )
        y0 = dict(y0)
        for i, e in enumerate(eta):
            y0[e] = jnp.broadcast_to(self.sigma, (n,)) * draw[i]
        white = Additive(self.sigma * jnp.sqrt(2.0 / self.tau), variables=eta)
        net = eqx.tree_at(lambda m: (m.node, m.noise), net, (node, white))
        return net, white, y0


def _eta_names(names):
    return tuple(f"ou_{v}" for v in names)


@functools.cache
def _coloured(node_cls: type, names: tuple[str, ...]) -> type:
    """The node class `node_cls` with an Ornstein-Uhlenbeck process per variable of
    `names` (extra state variables `ou_<v>`)."""
    eta = _eta_names(names)

    class Coloured(AbstractNode):
        node: AbstractNode
        noise: OrnsteinUhlenbeck

        state_names = node_cls.state_names + eta
        coupled_vars = node_cls.coupled_vars
        default_state = {**node_cls.default_state, **{e: 0.0 for e in eta}}
        state_ranges = {**node_cls.state_ranges, **{e: (-1.0, 1.0) for e in eta}}
        input_names = node_cls.input_names
        state_bounds = node_cls.state_bounds

        def vector_field(self, t, state, coupling, inputs=None):
            inner = {v: state[v] for v in node_cls.state_names}
            d = dict(self.node.vector_field(t, inner, coupling, inputs))
            m = self.noise.mixing
            for v, e in zip(names, eta):
                forcing = state[e] if m is None else m @ state[e]
                d[v] = d[v] + forcing
                d[e] = -state[e] / self.noise.tau
            return d

        def parameters(self):
            return self.node.parameters()

    Coloured.__name__ = Coloured.__qualname__ = f"{node_cls.__name__}WithOU"
    return Coloured
