"""The state carried by the fixed-step loop."""

import equinox as eqx
import jax.numpy as jnp
from jaxtyping import Array, Int


class LoopState(eqx.Module):
    """What the delayed loop carries from step to step (or block to block).

    - `y`: the network state `{variable: (N,)}`.
    - `solver_state`: the Diffrax solver's state (solvers stepped by `solver.step`).
    - `ring`: the delay history (the time-major ring of the step-by-step loop, or the
      node-major ring of the blocked loop).
    - `store`: the per-edge window of grid values (step-by-step loop with nearest or
      linear reads), or the coupled states of the last block not yet written to the
      ring (blocked loop).
    - `step`: the step counter.
    - `sums`: the delayed sums carried over (linear couplings): the read at `c = 1`
      of a step is the read at `c = 0` of the next; the blocked loop carries the
      sums of its block.
    """

    y: dict
    solver_state: object
    ring: Array | None
    store: Array | None
    step: Int[Array, ""]
    sums: Array | None


def coupled_past(y0, past, cv, length):
    """The coupled variables at steps `-(length-1) ... 0`, `(length, N, V)`: the
    constant `y0`, or the history array (padded with its first sample) ending at
    `y0`."""

    def coupled(y):
        return jnp.stack([y[v] for v in cv], axis=-1)

    if past is None:
        c = coupled(y0)
        return jnp.broadcast_to(c, (length,) + c.shape)
    pc = jnp.stack([past[v] for v in cv], axis=-1)
    pc = pc[-length:]
    if pc.shape[0] < length:
        pad = jnp.broadcast_to(pc[:1], (length - pc.shape[0],) + pc.shape[1:])
        pc = jnp.concatenate([pad, pc], axis=0)
    return pc.at[-1].set(coupled(y0))
