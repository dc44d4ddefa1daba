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

    Subclasses implement `pre` and `post` only; both act elementwise, with the coupled
    variables on the last axis:

    - `pre(x_j, x_i)`: `x_j` has shape `(K, N, V)` (the K afferent edges of each of the
      N regions, edge-major, padded with zero-weight edges), `x_i` has shape
      `(1, N, V)`; returns `(K, N, V_out)`.
    - `post(gx)`: `gx` has shape `(N, V_out)`; returns `(N, V_post)` with
      `V_post <= V_out` (a coupling may use extra channels internally, as
      `neuromass.coupling.Laplacian` does for the in-strength).

    Usually `V_out == V`; a coupling may also combine several coupled variables into
    fewer outputs (as `neuromass.coupling.SigmoidalJansenRit` does). Output `m`
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
        self, x_j: Float[Array, "edges nodes cvars"], x_i: Float[Array, "1 nodes cvars"]
    ) -> Float[Array, "edges nodes outs"]:
        """Per-edge transformation of source and target values."""

    @abc.abstractmethod
    def post(self, gx: Float[Array, "nodes outs"]) -> Float[Array, "nodes outs"]:
        """Transformation of the weighted sum."""

    def __call__(
        self,
        x_j: Float[Array, "edges nodes cvars"],
        x_i: Float[Array, "1 nodes cvars"],
        weights: Float[Array, "edges nodes"],
    ) -> Float[Array, "nodes outs"]:
        """Afferent input per region: `post(sum_e weights * pre(x_j, x_i))`."""
        return self.post(sum_edges(weights[..., None] * self.pre(x_j, x_i)))


class AbstractLinearCoupling(AbstractCoupling):
    r"""A coupling whose per-edge term is affine in the source value:

    $$\mathrm{pre}(x_j, x_i) = x_j - \lambda\,x_i,\qquad
    c_i = \mathrm{post}\Big(\sum_j w_{ij} x_j(t - \tau_{ij})
      - \lambda\,x_i \sum_j w_{ij}\Big)$$

    with a class-level constant `local` ($\lambda$). Because the delayed part is a
    weighted sum of the history, the simulation loop reduces it once per stage time
    and reuses it across stages and steps (e.g. Heun's corrector read of step $n$ is
    the predictor read of step $n+1$). Subclasses define `local` and `post`.
    """

    local: eqx.AbstractClassVar[float]

    def pre(self, x_j, x_i):
        return x_j - self.local * x_i if self.local else x_j


def sum_edges(y: Float[Array, "edges ..."]) -> Float[Array, "..."]:
    """Sum over the leading (edge) axis.

    Written as a chain of elementwise additions of slices (for up to 128 edges per
    region; in blocks of 128 beyond), which XLA on CPU fuses into one loop. A generic
    reduction of such a small array per step was measured several times slower with
    jax 0.10's default CPU fusions.
    """
    k = y.shape[0]
    if k > 128:
        pad = (-k) % 128
        if pad:
            y = jnp.concatenate([y, jnp.zeros((pad,) + y.shape[1:], y.dtype)], axis=0)
        y = jnp.sum(y.reshape((-1, 128) + y.shape[1:]), axis=0)
        k = 128
    total = y[0]
    for e in range(1, k):
        total = total + y[e]
    return total
