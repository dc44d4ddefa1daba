"""The instantaneous local coupling of a cortical surface, as an input."""

import equinox as eqx
import jax.numpy as jnp
from jaxtyping import Array, Float

from ._base import AbstractInput, Contribution


class LocalOperator(eqx.Module):
    r"""The operator $x \mapsto s \odot (L x)$ of a surface's local coupling: the
    sparse local connectivity $L$ `(V, V)` (row = target) with each row scaled by
    the coupling strength $s$ (a scalar or one value per vertex, The Virtual
    Brain's `Cortex.coupling_strength`). Nodes beyond the `V` vertices (the regions
    a surface does not map) receive zero, as TVB zero-pads its matrix."""

    matrix: object  # a `neuromass.datasets.SparseMatrix`
    strength: Float[Array, "..."]
    n_nodes: int = eqx.field(static=True)

    def __call__(self, x: Float[Array, " nodes"]) -> Float[Array, " nodes"]:
        v = self.matrix.shape[0]
        y = self.strength * self.matrix.matvec(x[:v] if self.n_nodes > v else x)
        if self.n_nodes > v:
            y = jnp.concatenate([y, jnp.zeros((self.n_nodes - v,), y.dtype)])
        return y


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
