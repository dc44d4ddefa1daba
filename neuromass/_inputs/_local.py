"""The instantaneous local coupling of a cortical surface, as an input."""

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, Float

from ._base import AbstractInput, Contribution
from ._materialize import materialize


class LocalOperator(eqx.Module):
    r"""The operator $x \mapsto s \odot (L x)$ of a surface's local coupling: the
    sparse local connectivity $L$ `(V, V)` (row = target) with each row scaled by
    the coupling strength $s$ (a scalar or one value per vertex, The Virtual
    Brain's `Cortex.coupling_strength`). Nodes beyond the `V` vertices (the regions
    a surface does not map) receive zero, as TVB zero-pads its matrix.

    The product is a sum of `values * x[cols]` per row (`segment_sum` over the
    stored entries, CSR order). Inside a multi-stage step this measured 6x faster
    than the padded (ELL) gather that is fastest for a lone product: XLA fuses a
    gather with the expression that computes its operand, so the second stage's
    gathers re-evaluated the first stage for every gathered entry (Heun on TVB's
    16k cortex: 2.5 ms against 0.35 ms per step); the scatter of `segment_sum`
    is not fused that way, and the operand is materialised before the gather
    (`materialize`)."""

    values: Float[Array, " nnz"]
    strength: Float[Array, "..."]
    rows: "_Frozen" = eqx.field(static=True)
    cols: "_Frozen" = eqx.field(static=True)
    n_vertices: int = eqx.field(static=True)
    n_nodes: int = eqx.field(static=True)

    @staticmethod
    def of(local_connectivity, strength, n_nodes: int) -> "LocalOperator":
        """The operator of a `neuromass.datasets.LocalConnectivity` (its values
        evaluated once, e.g. a kernel of the distances)."""
        pattern = local_connectivity.pattern
        counts = np.diff(np.asarray(pattern.indptr))
        rows = np.repeat(np.arange(pattern.n, dtype=np.int32), counts)
        return LocalOperator(
            values=local_connectivity.data,
            strength=strength,
            rows=_Frozen(rows),
            cols=_Frozen(np.asarray(pattern.indices, dtype=np.int32)),
            n_vertices=pattern.n,
            n_nodes=n_nodes,
        )

    def __call__(self, x: Float[Array, " nodes"]) -> Float[Array, " nodes"]:
        v = self.n_vertices
        xv = materialize(x[:v] if self.n_nodes > v else x)
        prod = jax.ops.segment_sum(
            self.values * xv[self.cols.array],
            self.rows.array,
            num_segments=v,
            indices_are_sorted=True,
        )
        y = self.strength * prod
        if self.n_nodes > v:
            y = jnp.concatenate([y, jnp.zeros((self.n_nodes - v,), y.dtype)])
        return y


class _Frozen:
    """A read-only index array, hashable by value (a static field)."""

    __slots__ = ("array", "_hash")

    def __init__(self, array):
        self.array = np.asarray(array)
        self.array.setflags(write=False)
        self._hash = hash((self.array.shape, self.array.tobytes()))

    def __hash__(self):
        return self._hash

    def __eq__(self, other):
        return (
            type(other) is type(self)
            and self._hash == other._hash
            and np.array_equal(self.array, other.array)
        )


class LocalCoupling(AbstractInput):
    """The local coupling of a surface network, handed to the node as the operator
    `local` of its `vector_field` (see `AbstractNode.local_coupling`): the node
    applies it to the state of each stage where The Virtual Brain's model applies
    its `local_coupling`."""

    operator: LocalOperator

    def drift(self, t, state, stage) -> Contribution:
        return Contribution(local=self.operator)

    def checked(self) -> "LocalCoupling":
        s = eqx.error_if(
            self.operator.strength,
            ~jnp.all(jnp.isfinite(self.operator.strength)),
            "The local coupling strength `local_strength` is NaN or infinite (a "
            "traced value, e.g. set with `eqx.tree_at` or swept); give it a finite "
            "value.",
        )
        return eqx.tree_at(lambda c: c.operator.strength, self, s)
