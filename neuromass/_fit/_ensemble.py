"""`ensemble_loss`: a loss averaged over noise realisations in one vmapped call."""

from collections.abc import Callable

import jax
import jax.numpy as jnp
import numpy as np
from jaxtyping import PRNGKeyArray, PyTree

from ._problem import check_scalar_loss, loss_takes_key


def ensemble_loss(
    loss: Callable[[PyTree, PRNGKeyArray], jax.Array],
    n: int,
    *,
    key: PRNGKeyArray | None = None,
    batch_size: int | None = None,
) -> Callable:
    r"""Average a stochastic loss over `n` noise realisations, in one vectorised
    call.

    $$\bar L(\theta) = \frac{1}{n} \sum_{r=1}^{n} L(\theta, \xi_r)$$

    A loss computed from one noisy simulation (FC, FCD, spectra of a 2 s run) is a
    rugged function of the parameters: each realisation $\xi_r$ adds its own
    small-scale ripples. Averaging $n$ realisations keeps the large-scale shape
    and shrinks the ripples by about $\sqrt{n}$ (they are nearly independent
    between realisations), at $n$ times the cost; measure how many you need with
    `neuromass.landscape`.

    - With `key`, the realisations are fixed (`jax.random.split(key, n)`, common
      random numbers): the result is a deterministic `loss(model)` for
      `neuromass.fit`, whose gradient is the average gradient.
    - Without `key`, it returns `loss(model, key)` that splits the key it is given
      into `n`: a stochastic loss with `n` times less variance, for
      `nm.fit(..., key=...)` (fresh realisations every step).

    The realisations run under `jax.vmap` (memory grows with `n`, also for the
    gradient), or in sequential batches of `batch_size` (`jax.lax.map`), which
    bounds memory at `batch_size` realisations.

    **Arguments:**

    - `loss`: `loss(model, key) -> scalar`, e.g. a simulation with `key=key`
        followed by a summary statistic.
    - `n`: the number of realisations, `>= 1`.
    - `key`: fixes the realisations (see above).
    - `batch_size`: realisations per batch; default all `n` at once.

    **Returns:**

    `loss(model)` (with `key`) or `loss(model, key)` (without).

    !!! example

        ```python
        import jax
        import neuromass as nm

        def loss(net, key):
            sol = nm.simulate(net, t1=2000.0, dt=0.1, save_every=1.0, key=key)
            return nm.metrics.fc_mse(nm.metrics.fc(sol["x"]), target_fc)

        smooth = nm.ensemble_loss(loss, 8, key=jax.random.key(1))   # loss(net)
        fitted, trace = nm.fit(net, smooth, params=lambda n: n.k, ...)
        ```
    """
    if not callable(loss):
        raise TypeError(f"`loss` must be callable; got {type(loss).__name__}.")
    accepts, _ = loss_takes_key(loss)
    if not accepts:
        raise ValueError(
            "`ensemble_loss` averages over noise keys, so `loss` must take one: "
            "`loss(model, key)`."
        )
    if isinstance(n, bool) or not isinstance(n, int | np.integer) or n < 1:
        raise ValueError(f"`n` must be an integer >= 1 (realisations); got {n!r}.")
    n = int(n)
    if batch_size is not None and (
        isinstance(batch_size, bool)
        or not isinstance(batch_size, int | np.integer)
        or batch_size < 1
    ):
        raise ValueError(
            f"`batch_size` must be an integer >= 1 or None; got {batch_size!r}."
        )

    def average(model, keys):
        def one(k):
            return check_scalar_loss(loss(model, k))

        if batch_size is None or batch_size >= n:
            values = jax.vmap(one)(keys)
        else:
            values = jax.lax.map(one, keys, batch_size=int(batch_size))
        return jnp.mean(values)

    if key is not None:
        keys = jax.random.split(key, n)

        def fixed(model):
            return average(model, keys)

        fixed.__qualname__ = f"ensemble_loss({_name(loss)}, {n})"
        return fixed

    def fresh(model, key):
        return average(model, jax.random.split(key, n))

    fresh.__qualname__ = f"ensemble_loss({_name(loss)}, {n})"
    return fresh


def _name(fn) -> str:
    return getattr(fn, "__qualname__", type(fn).__qualname__)
