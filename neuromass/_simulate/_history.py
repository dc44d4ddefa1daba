"""The state before `t0` of delayed networks: callables, arrays, random draws."""

import equinox as eqx
import jax
import jax.numpy as jnp
from jaxtyping import PRNGKeyArray

from .._custom_types import State


class RandomHistory(eqx.Module):
    """A random history of a delayed network: every past state drawn uniformly from
    the node's `state_ranges`, independently per region (and per step unless
    `constant`), as brainmass's random `delay_init`. The initial state `y0` defaults
    to its last sample.

    **Arguments:**

    - `key`: a `jax.random` key (the same key gives the same history).
    - `constant`: one draw per region held over the whole history (default False:
      a new draw at every past step, i.e. white noise in the history).

    !!! example

        ```python
        import jax
        import neuromass as nm

        conn = nm.datasets.load_connectome()
        net = nm.Network(nm.models.Hopf(), conn.weights, lengths=conn.lengths,
                         speed=10.0, k=0.2)
        sol = nm.simulate(net, t1=50.0, dt=0.1,
                          history=nm.RandomHistory(jax.random.key(0), constant=True))
        ```
    """

    key: PRNGKeyArray
    constant: bool = eqx.field(static=True, default=False)

    def draw(self, node, n: int, length: int, dtype) -> State:
        """`{variable: (length, n)}` drawn from `node.state_ranges`."""
        out = {}
        keys = jax.random.split(self.key, len(node.state_names))
        for k, v in zip(keys, node.state_names):
            lo, hi = node.state_ranges[v]
            shape = (1, n) if self.constant else (length, n)
            x = jax.random.uniform(k, shape, dtype, lo, hi)
            out[v] = jnp.broadcast_to(x, (length, n))
        return out


def history_states(net, history, t0, dt, length, check_state) -> State:
    """History as `{variable: (M, N)}` on the grid ending at t0."""
    names = net.node.state_names
    n = net.n_nodes
    if isinstance(history, RandomHistory):
        return history.draw(net.node, n, length, net.weights.dtype)
    if callable(history):
        times = t0 + dt * jnp.arange(-length + 1, 1)
        out = jax.vmap(history)(times)
        if not isinstance(out, dict):
            raise TypeError("`history(t)` must return a dict {variable: (N,) array}.")
        for v, x in out.items():
            if jnp.shape(x)[1:] not in ((), (1,), (n,)):
                raise ValueError(
                    f"`history(t)[{v!r}]` has shape {jnp.shape(x)[1:]} at a time t; "
                    f"expected a scalar or ({n},) (one value per node)."
                )
        out = {v: jnp.broadcast_to(jnp.asarray(x), (length, n)) for v, x in out.items()}
        check_state("history(t)", {v: x[-1] for v, x in out.items()}, net)
        return out
    if isinstance(history, dict):
        check_state("history", {v: jnp.asarray(x)[-1] for v, x in history.items()}, net)
        out = {}
        for v in names:
            x = jnp.asarray(history[v], dtype=net.weights.dtype)
            if x.ndim != 2 or x.shape[1] != n:
                raise ValueError(
                    f"`history[{v!r}]` must have shape (M, {n}) (M past samples every "
                    f"dt, the last at t0); got {x.shape}."
                )
            out[v] = x
        return out
    raise TypeError(
        "`history` must be a callable `history(t) -> state dict`, a dict of (M, N) "
        "arrays or an `nm.RandomHistory(key)`."
    )
