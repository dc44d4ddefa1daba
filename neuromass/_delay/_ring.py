"""The delay ring of the step-by-step loop: past coupled states, time-major.

The history of the coupled variables is a ring of `L` grid states stored twice back
to back, shape `(2L, N, V)`, so that every read of a state `k <= n` steps back is a
contiguous-index lookup with no per-edge modulo: `slot(k) = (n mod L) + L - (n - k)`.
The state of step `k` sits in slot `k mod L` of both copies.

(The blocked loop keeps a node-major ring instead, `(N, 2, H, V)`, so that the `S`
values an edge contributes to a block are one contiguous slice: `_blocked`.)
"""

import equinox as eqx
import jax
import jax.numpy as jnp
from jaxtyping import Float, Int


def init(past: Float[jax.Array, "L nodes cvars"]):
    """The doubled ring at step 0 from `past`: the coupled states at steps
    `-(L-1), ..., 0` in chronological order."""
    buf = jnp.roll(past, 1, axis=0)  # slot(k) = k mod L
    return jnp.concatenate([buf, buf], axis=0)  # (2L, N, V)


def write(length: int, buf, n, value: Float[jax.Array, "nodes cvars"]):
    """Store the coupled state of step `n` (both copies)."""
    s = jnp.mod(n, length)
    zero = jnp.zeros((), s.dtype)
    value = value[None].astype(buf.dtype)
    buf = jax.lax.dynamic_update_slice(buf, value, (s, zero, zero))
    return jax.lax.dynamic_update_slice(buf, value, (s + length, zero, zero))


def gather(plan, buf, n, rel: Int[jax.Array, "edges nodes"]):
    """Values of each edge's source (`plan.idx`) at steps `n + rel`
    (`-L <= rel <= 0`)."""
    base = jnp.mod(n, plan.length) + plan.length
    flat = (base + rel) * plan.n_regions + plan.idx
    rows = buf.reshape(-1, buf.shape[-1])
    return rows.at[flat].get(mode="promise_in_bounds")


class TimeRing(eqx.Module):
    """The operations on the time-major ring of plain autodiff: reads see the ring
    itself and their cotangents go back through the gathers (`AutodiffDelayAdjoint`;
    `_pulled.PulledTimeRing` is the pulled adjoint's)."""

    length: int = eqx.field(static=True)

    def init(self, past):
        return init(past)

    def write(self, buf, n, x):
        return write(self.length, buf, n, x)

    def route(self, buf, q, c):
        return buf, c

    def source(self, x):
        return x
