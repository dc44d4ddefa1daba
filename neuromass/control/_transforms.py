"""Optax transforms of the proximal-gradient step: soft-thresholding (the proximal
operator of an L1 penalty) and the projection onto box bounds."""

import jax
import jax.numpy as jnp
import optax
from jaxtyping import ArrayLike, PyTree


def _needs_params(name: str):
    raise ValueError(
        f"`{name}` needs the current parameters: call `update(updates, state, "
        "params)` (as `optax.chain` does when given them)."
    )


def soft_threshold(thresholds: PyTree[ArrayLike]) -> optax.GradientTransformation:
    r"""An Optax transform that applies the proximal operator of an $L^1$ penalty
    after the updates before it: the parameters $p$ and incoming updates $\Delta$
    give

    $$p' = \operatorname{sign}(p + \Delta)\,\max\big(|p + \Delta| - \lambda, 0\big),$$

    returned as the update $p' - p$. With `optax.chain(optax.sgd(eta),
    soft_threshold(eta * w))` this is the proximal gradient method (ISTA) for a
    smooth loss plus $\sum_j w_j |p_j|$: entries whose gradient step stays within
    $\lambda = \eta w$ of zero become exactly zero.

    **Arguments:**

    - `thresholds`: $\lambda \ge 0$, a pytree of arrays that broadcast to the
      parameters' leaves (or one array for a single-array parameter).

    **Returns:** an `optax.GradientTransformation` (stateless); its `update` needs
    `params`.

    !!! example

        ```python
        import jax.numpy as jnp
        import optax
        import neuromass as nm

        tx = optax.chain(optax.sgd(0.1), nm.control.soft_threshold(0.05))
        p = jnp.array([1.0, 0.02, -0.5])
        updates, _ = tx.update(jnp.zeros(3), tx.init(p), p)
        print(optax.apply_updates(p, updates))  # [ 0.95  0.   -0.45]
        ```
    """

    def init(params):
        del params
        return optax.EmptyState()

    def update(updates, state, params=None):
        if params is None:
            _needs_params("soft_threshold")

        def prox(p, u, lam):
            z = p + u
            lam = jnp.broadcast_to(lam, z.shape)
            return jnp.sign(z) * jnp.maximum(jnp.abs(z) - lam, 0.0) - p

        if isinstance(thresholds, jax.Array | float | int):
            new = jax.tree.map(lambda p, u: prox(p, u, thresholds), params, updates)
        else:
            new = jax.tree.map(prox, params, updates, thresholds)
        return new, state

    return optax.GradientTransformation(init, update)


def project_box(
    lower: PyTree[ArrayLike] | None = None,
    upper: PyTree[ArrayLike] | None = None,
    mask: PyTree[ArrayLike] | None = None,
) -> optax.GradientTransformation:
    r"""An Optax transform that projects the updated parameters onto a box (and a
    mask): $p' = \Pi(p + \Delta)$ with

    $$\Pi(z)_j = \begin{cases} \min(\max(z_j, \ell_j), h_j) & m_j \\
    0 & \text{otherwise,} \end{cases}$$

    returned as the update $p' - p$ (projected gradient descent when chained after
    an optimiser).

    **Arguments:**

    - `lower`, `upper`: $\ell \le h$, arrays that broadcast to the parameters
      (pytrees of them for a pytree of parameters); None for no bound.
    - `mask`: booleans, False where the parameter is held at 0; None for none.

    **Returns:** an `optax.GradientTransformation` (stateless); its `update` needs
    `params`.

    !!! example

        ```python
        import jax.numpy as jnp
        import optax
        import neuromass as nm

        tx = optax.chain(optax.sgd(1.0), nm.control.project_box(-1.0, 1.0))
        p = jnp.array([0.5, 0.0])
        updates, _ = tx.update(jnp.array([-2.0, 0.3]), tx.init(p), p)
        print(optax.apply_updates(p, updates))  # [ 1.  -0.3]
        ```
    """

    def init(params):
        del params
        return optax.EmptyState()

    def leaves(tree, params):
        if tree is None:
            return jax.tree.map(lambda _: None, params)
        if isinstance(tree, jax.Array | float | int) or hasattr(tree, "shape"):
            return jax.tree.map(lambda _: tree, params)
        return tree

    def update(updates, state, params=None):
        if params is None:
            _needs_params("project_box")

        def project(p, u, lo, hi, m):
            z = p + u
            if lo is not None:
                z = jnp.maximum(z, jnp.broadcast_to(lo, z.shape))
            if hi is not None:
                z = jnp.minimum(z, jnp.broadcast_to(hi, z.shape))
            if m is not None:
                z = jnp.where(jnp.broadcast_to(m, z.shape), z, 0.0)
            return z - p

        lo, hi, m = (leaves(t, params) for t in (lower, upper, mask))
        new = jax.tree.map(
            project, params, updates, lo, hi, m, is_leaf=lambda x: x is None
        )
        return new, state

    return optax.GradientTransformation(init, update)
