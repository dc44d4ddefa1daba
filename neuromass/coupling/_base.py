"""The coupling contract: pre → weighted sum over `weights[to, from]` → post."""

import abc

import equinox as eqx
import jax.numpy as jnp
from jaxtyping import Array, Float


class AbstractCoupling(eqx.Module):
    r"""Base class of couplings between regions.

    A coupling turns the (delayed) values of the coupled variables of the source
    regions $x_j(t - \tau_{ij})$ and the current values of the target region
    $x_i(t)$ into an afferent input per region:

    $$c_i = \mathrm{post}\Big(\sum_j w_{ij}\,\mathrm{pre}\big(x_j(t-\tau_{ij}),
    x_i(t)\big)\Big)$$

    with `weights[i, j]` the connection *to* region $i$ *from* region $j$. The network
    multiplies the result by its global coupling strength `k`.

    Subclasses implement `pre` and `post` only; both act elementwise over any leading
    axes, with the coupled variables on the last axis:

    - `pre(x_j, x_i)`: `x_j` has shape `(..., N, K, V)` (the K afferent edges of each
      region), `x_i` has shape `(..., N, 1, V)`; returns `(..., N, K, V_out)`.
    - `post(gx)`: `gx` has shape `(..., N, V_out)`; returns the same shape.

    Usually `V_out == V`; a coupling may also combine several coupled variables into
    fewer outputs (as [`neuromass.coupling.SigmoidalJansenRit`][] does). Output `m`
    is delivered to the node under the name of coupled variable `m`.

    !!! example "Writing your own coupling"

        ```python
        import jax.numpy as jnp
        import neuromass as nm

        class Rectified(nm.coupling.AbstractCoupling):
            def pre(self, x_j, x_i):
                return jnp.maximum(x_j, 0.0)

            def post(self, gx):
                return gx
        ```
    """

    @abc.abstractmethod
    def pre(
        self,
        x_j: Float[Array, "... nodes edges cvars"],
        x_i: Float[Array, "... nodes 1 cvars"],
    ) -> Float[Array, "... nodes edges outs"]:
        """Per-edge transformation of source and target values."""

    @abc.abstractmethod
    def post(
        self, gx: Float[Array, "... nodes outs"]
    ) -> Float[Array, "... nodes outs"]:
        """Transformation of the weighted sum."""

    def __call__(
        self,
        x_j: Float[Array, "... nodes edges cvars"],
        x_i: Float[Array, "... nodes 1 cvars"],
        weights: Float[Array, "... nodes edges"],
    ) -> Float[Array, "... nodes outs"]:
        """Afferent input per region: `post(sum_k weights * pre(x_j, x_i))`."""
        pre = self.pre(x_j, x_i)
        return self.post(jnp.sum(weights[..., None] * pre, axis=-2))
