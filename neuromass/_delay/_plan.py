"""The per-edge read plan of a delayed network at a step `dt`, computed inside the
compiled loop from the (traced) delays and the static `DelayStructure`."""

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, Float, Int

from ..utils import SNAP, snap_steps
from . import _ring as ring
from ._structure import DelayStructure
from .interpolation import AbstractInterpolation


class DelayPlan(eqx.Module):
    """Edge `(e, i)` reads source `idx[e, i]` with delay `(m + f) dt`, `m >= 1` whole
    steps and `0 <= f < 1`; `zero` marks zero-delay edges (instantaneous coupling)
    when the network may have any."""

    idx: Int[Array, "edges nodes"]
    m: Int[Array, "edges nodes"]
    f: Float[Array, "edges nodes"]
    zero: Array | None
    length: int = eqx.field(static=True)
    n_regions: int = eqx.field(static=True)
    interpolation: AbstractInterpolation = eqx.field(static=True)

    @property
    def uses_window(self) -> bool:
        return self.interpolation.window


def make_plan(
    net, structure: DelayStructure, dt: float, interpolation: AbstractInterpolation
) -> DelayPlan:
    """The read plan. Where the delays were traced (`structure.bounds`), checks at
    run time that they stay within the network's `max_delay`/`min_delay`."""
    pattern = structure.pattern
    valid = pattern.valid
    d = net.edge_delays(pattern)
    d = jnp.zeros(pattern.idx.shape, net.weights.dtype) if d is None else d / dt
    if structure.bounds is not None:  # checked before rounding to whole steps
        hi, lo = structure.bounds
        # Edges of the pattern whose weight is zero (e.g. a sweep point without an
        # edge that others have) do not count: their delays are clamped into the
        # bounds, so that their reads stay within the history.
        live = valid & (net.edge_weights(pattern) != 0)
        dead = valid & ~live
        d = jnp.where(dead, jnp.clip(d, lo / dt if lo > 0 else 0.0, hi / dt), d)
        d = eqx.error_if(
            d,
            live & (d > hi / dt + SNAP),
            f"A conduction delay is longer than the network's `max_delay` ({hi:g} "
            "ms), which sizes the history when the delays are traced (jit, vmap, "
            "grad): build the network with `Network(..., max_delay=...)` at least "
            "the longest delay (e.g. `lengths.max() / slowest_speed`).",
        )
        if lo > 0:
            d = eqx.error_if(
                d,
                live & (d < lo / dt - SNAP),
                f"A conduction delay is shorter than the network's `min_delay` "
                f"({lo:g} ms), the bound used when the delays are traced (jit, vmap, "
                "grad): build the network with `Network(..., min_delay=...)` at "
                "most the shortest delay (e.g. `lengths[lengths > 0].min() / "
                "fastest_speed`), or 0 to allow zero delays.",
            )
    d = jnp.round(d) if interpolation.whole_steps else snap_steps(d)
    d = eqx.error_if(
        d,
        valid & (d > 0) & (d < 1),
        "A conduction delay is shorter than `dt` but not zero; use a smaller `dt`.",
    )
    zero = (d == 0) & valid if structure.has_zero else None
    # Zero-delay edges read the stage's own state; give them a harmless lag of 1.
    d = jnp.where(valid & (d > 0), d, 1.0)
    m = jnp.floor(d).astype(jnp.int32)
    f = (d - m).astype(d.dtype)
    return DelayPlan(
        idx=jnp.asarray(pattern.idx),
        m=m,
        f=f,
        zero=zero,
        length=structure.length,
        n_regions=net.n_regions,
        interpolation=interpolation,
    )


def check_weights(net, structure: DelayStructure):
    """`net` whose weights are checked at run time (traced weights) to be zero
    outside the structure's edge pattern."""
    if not structure.check_edges:
        return net
    outside = ~structure.pattern.mask
    if not net.self_connection:
        outside &= ~np.eye(net.n_regions, dtype=bool)
    w = eqx.error_if(
        net.weights,
        jnp.any((net.weights != 0) & outside),
        "A weight outside the network's `edge_mask` is non-zero. When the weights "
        "are traced (jit, vmap, grad) only the edges of `edge_mask` (by default the "
        "non-zero weights the network was built with) are simulated: build the "
        "network with `Network(..., edge_mask=...)` covering every edge that may "
        "be non-zero.",
    )
    return eqx.tree_at(lambda n: n.weights, net, w)


def check_no_delays(net, structure: DelayStructure):
    """`net` whose traced delays are checked to be zero (the structure has none)."""
    if structure.bounds is None or net.delays is None:
        return net
    w = eqx.error_if(
        net.weights,
        jnp.any((net.delays > 0) & structure.pattern.mask),
        "A conduction delay is non-zero but the network was built without delays "
        "(`max_delay` 0), the bound used when the delays are traced: build it with "
        "`Network(..., max_delay=...)`.",
    )
    return eqx.tree_at(lambda n: n.weights, net, w)


def init_window(plan: DelayPlan, buf):
    """The per-edge window of grid values at steps `-m-1, -m, -m+1`, shape
    `(3, K, N, V)`. At step n, the value at step `n - m - 1 + q` lives in slot
    `(n + q) mod 3`, so sliding the window rewrites one slot in place."""
    return jnp.stack([ring.gather(plan, buf, 0, -plan.m + q) for q in (-1, 0, 1)])


def advance_window(plan: DelayPlan, win, buf, n):
    """Slide the window from step `n - 1` to step `n` (the state of step `n` must
    already be written): one gather per edge, written over the oldest slot."""
    new = ring.gather(plan, buf, n, 1 - plan.m)[None]
    zero = jnp.zeros((), jnp.int32)
    slot = jnp.mod(n + 2, 3).astype(jnp.int32)
    return jax.lax.dynamic_update_slice(win, new, (slot, zero, zero, zero))
