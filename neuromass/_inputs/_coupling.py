"""The long-range coupling through a connectome, as an input to the vector field."""

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, Float

from .._custom_types import CouplingInput, State
from .._delay._structure import EdgePattern
from ..coupling._base import AbstractCoupling, AbstractLinearCoupling
from ._base import AbstractInput, Contribution, Stage
from ._materialize import materialize


class NodeMap:
    """The region of every node of a surface network (hashable by value, so that it
    can key a compiled program): `regions` `(n_nodes,)` indices into the
    connectome's `n_regions` regions, each region having at least one node."""

    __slots__ = ("regions", "n_regions", "counts", "_hash")

    def __init__(self, regions, n_regions: int):
        self.regions = np.asarray(regions, dtype=np.int32)
        self.n_regions = int(n_regions)
        self.counts = np.bincount(self.regions, minlength=self.n_regions)
        self._hash = hash((self.n_regions, self.regions.tobytes()))

    @property
    def n_nodes(self) -> int:
        return self.regions.shape[0]

    def __hash__(self):
        return self._hash

    def __eq__(self, other):
        return (
            type(other) is type(self)
            and self._hash == other._hash
            and self.n_regions == other.n_regions
            and bool(np.array_equal(self.regions, other.regions))
        )

    def __repr__(self):
        return f"NodeMap(nodes={self.n_nodes}, regions={self.n_regions})"

    def mean(self, x):
        """The mean over each region's nodes of `x` `(..., n_nodes, V)`:
        `(..., n_regions, V)`."""
        xs = jnp.moveaxis(x, -2, 0)
        total = jax.ops.segment_sum(xs, self.regions, num_segments=self.n_regions)
        counts = self.counts.reshape((-1,) + (1,) * (xs.ndim - 1)).astype(x.dtype)
        return jnp.moveaxis(total / counts, 0, -2)

    def broadcast(self, c):
        """Region values `(n_regions,)` copied to every node of the region."""
        return materialize(c)[self.regions]


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
    nodes: NodeMap | None = eqx.field(static=True, default=None)

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

    def source(self, state: State) -> Float[Array, "*batch regions cvars"]:
        """The coupled variables `(..., N, V)` of every region: what the delay
        history stores (of a surface, the mean over each region's nodes)."""
        x = jnp.stack([state[v] for v in self.coupled_vars], axis=-1)
        return x if self.nodes is None else self.nodes.mean(x)

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

    def checked(self) -> "LongRangeCoupling":
        k = eqx.error_if(
            self.k,
            ~jnp.all(jnp.isfinite(self.k)),
            "The global coupling `k` is NaN or infinite (a traced value, e.g. set "
            "with `eqx.tree_at` or swept); give it a finite value.",
        )
        w = eqx.error_if(
            self.weights,
            ~jnp.all(jnp.isfinite(self.weights)),
            "The `weights` contain NaN or infinite values (traced values, e.g. set "
            "with `eqx.tree_at` or swept); all must be finite.",
        )
        return eqx.tree_at(lambda c: (c.k, c.weights), self, (k, w))

    def regional(self, t, state, stage: Stage) -> CouplingInput:
        """The coupling input of every region at stage time `t` (`state` bounded):
        the delayed values come from the history's reader (`stage.reader`), or,
        without one, are the current state (instantaneous coupling). The local
        value `x_i` of a region is its own (of a surface: the mean of its nodes)."""
        x_i = self.source(state)
        if stage.reader is None:
            x_j = x_i[self.pattern.idx]
            return self.afferent(x_j, x_i, self.edge_weights())
        return stage.reader.afferent(self, t, x_i, stage)

    def drift(self, t, state, stage: Stage) -> Contribution:
        c = self.regional(t, state, stage)
        if self.nodes is not None:  # each node receives its region's coupling
            c = {v: self.nodes.broadcast(x) for v, x in c.items()}
        return Contribution(coupling=c)
