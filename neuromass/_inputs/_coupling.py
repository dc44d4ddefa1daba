"""The long-range coupling through a connectome, as an input to the vector field."""

import equinox as eqx
import jax.numpy as jnp
from jaxtyping import Array, Float

from .._custom_types import CouplingInput, State
from .._delay._structure import EdgePattern
from ..coupling._base import AbstractCoupling, AbstractLinearCoupling
from ._base import AbstractInput, Contribution, Stage


class LongRangeCoupling(AbstractInput):
    r"""The coupling of the nodes through the connectome's edges:

    $$c_i = k_i\,\mathrm{post}\Big(\sum_j w_{ij}\,\mathrm{pre}\big(x_j(t -
    \tau_{ij}), x_i(t)\big)\Big)$$

    for the edges of `pattern`, delivered to the node's `coupling` argument under
    the names of the coupled variables. Without a delay history (networks without
    delays) $x_j$ is the current state (instantaneous coupling); with one, the loop
    reads it from the history at each stage (`Stage.reader`). Built by `simulate`
    from a network's fields at each call.
    """

    coupling: AbstractCoupling
    k: Float[Array, "..."]
    weights: Float[Array, "nodes nodes"]
    delays: Float[Array, "nodes nodes"] | None
    coupled_vars: tuple[str, ...] = eqx.field(static=True)
    pattern: EdgePattern = eqx.field(static=True)

    @property
    def linear(self) -> bool:
        """Whether the coupling is linear in the delayed value (its delayed part is a
        weighted sum of the history, computed once per read time)."""
        return isinstance(self.coupling, AbstractLinearCoupling)

    def edge_weights(self) -> Float[Array, "edges nodes"]:
        """The weights of the afferent edges `(K, N)` (padding: 0)."""
        return self.pattern.gather(self.weights) * self.pattern.valid

    def edge_delays(self) -> Float[Array, "edges nodes"] | None:
        """The delays (ms) of the afferent edges `(K, N)` (padding: 0), or None."""
        if self.delays is None:
            return None
        d = self.pattern.gather(self.delays)
        return jnp.where(self.pattern.valid, d, 0.0)

    def source(self, state: State) -> Float[Array, "*batch nodes cvars"]:
        """The coupled variables `(..., N, V)`: what the delay history stores."""
        return jnp.stack([state[v] for v in self.coupled_vars], axis=-1)

    def afferent(self, x_j, x_i, w_edges) -> CouplingInput:
        """The coupling input from the source values on each edge `(K, N, V)`."""
        return self._deliver(self.coupling(x_j, x_i[None], w_edges))

    def afferent_from_sums(self, sums, x_i, row_sums) -> CouplingInput:
        """The coupling input of a linear coupling from its delayed weighted sums
        `sum_j w_ij x_j(t - tau_ij)` `(N, V)` and the row sums of the weights."""
        local = self.coupling.local
        c = sums - local * x_i * row_sums if local else sums
        return self._deliver(self.coupling.post(c))

    def _deliver(self, c) -> CouplingInput:
        k = jnp.asarray(self.k)
        k = k if k.ndim == 0 else k.reshape(-1, 1)
        c = k * c
        if c.shape[-1] > len(self.coupled_vars):
            raise ValueError(
                f"The coupling returned {c.shape[-1]} outputs for "
                f"{len(self.coupled_vars)} coupled variables."
            )
        return {
            name: c[:, m] for m, name in enumerate(self.coupled_vars[: c.shape[-1]])
        }

    def drift(self, t, state, stage: Stage) -> Contribution:
        x_i = self.source(state)
        if stage.reader is None:  # instantaneous: the current state of the sources
            x_j = x_i[self.pattern.idx]
            return Contribution(coupling=self.afferent(x_j, x_i, self.edge_weights()))
        return Contribution(coupling=stage.reader.afferent(self, t, x_i, stage))
