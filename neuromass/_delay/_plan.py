"""The per-edge read plan of a delayed coupling at a step `dt`, computed inside the
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
    coupling, structure: DelayStructure, dt: float, interpolation: AbstractInterpolation
) -> DelayPlan:
    """The read plan of `coupling` (a `LongRangeCoupling`). It does not depend on the
    weights, so that a batch of networks that differ only in their weights shares
    it; the checks of traced delays go through the weights (`check_delays`)."""
    pattern = structure.pattern
    valid = pattern.valid
    d = coupling.edge_delays()
    dtype = coupling.weights.dtype
    d = jnp.zeros(pattern.idx.shape, dtype) if d is None else d / dt
    if structure.bounds is not None:
        # Traced delays are clamped into the bounds that sized the history, so that
        # every read stays within it; `check_delays` makes a live edge outside them
        # (or NaN) an error.
        hi, lo = structure.bounds
        d = jnp.where(jnp.isnan(d), hi / dt, d)
        d = jnp.clip(d, lo / dt if lo > 0 else 0.0, hi / dt)
    d = jnp.round(d) if interpolation.whole_steps else snap_steps(d)
    zero = (d == 0) & valid if structure.has_zero else None
    # Zero-delay edges read the stage's own state: give them a harmless lag of 1 (and
    # as much to the delays in (0, 1) steps, which `check_delays` refuses on live
    # edges).
    d = jnp.where(valid & (d >= 1), d, 1.0)
    m = jnp.floor(d).astype(jnp.int32)
    f = (d - m).astype(d.dtype)
    return DelayPlan(
        idx=jnp.asarray(pattern.idx),
        m=m,
        f=f,
        zero=zero,
        length=structure.length,
        n_regions=pattern.mask.shape[0],
        interpolation=interpolation,
    )


def check_delays(coupling, structure: DelayStructure, dt: float, interpolation, w):
    """The edge weights `w` `(K, N)`, with run-time checks (`eqx.error_if`) that the
    traced delays of the live edges (non-zero weight) are finite, non-negative,
    within the bounds that sized the history and not in (0, dt)."""
    if structure.bounds is None:  # concrete delays, checked by `derive`
        return w
    hi, lo = structure.bounds
    d = coupling.edge_delays() / dt
    live = jnp.asarray(structure.pattern.valid) & (w != 0)
    w = eqx.error_if(
        w,
        live & ~jnp.isfinite(d),
        "A conduction delay is NaN or infinite (check the traced `speed` (mm/ms, "
        "> 0), `lengths` (mm) or `delays` (ms)).",
    )
    w = eqx.error_if(
        w,
        live & (d < 0),
        "A conduction delay is negative (check the traced `speed` (mm/ms, > 0), "
        "`lengths` (mm, >= 0) or `delays` (ms, >= 0)).",
    )
    w = eqx.error_if(
        w,
        live & (d > hi / dt + SNAP),
        f"A conduction delay is longer than the network's `max_delay` ({hi:g} ms), "
        "which sizes the history when the delays are traced (jit, vmap, grad): "
        "build the network with `Network(..., max_delay=...)` at least the longest "
        "delay (e.g. `lengths.max() / slowest_speed`).",
    )
    if lo > 0:
        w = eqx.error_if(
            w,
            live & (d < lo / dt - SNAP),
            f"A conduction delay is shorter than the network's `min_delay` ({lo:g} "
            "ms), the bound used when the delays are traced (jit, vmap, grad): build "
            "the network with `Network(..., min_delay=...)` at most the shortest "
            "delay (e.g. `lengths[lengths > 0].min() / fastest_speed`), or 0 to "
            "allow zero delays.",
        )
    r = jnp.round(d) if interpolation.whole_steps else snap_steps(d)
    return eqx.error_if(
        w,
        live & (r > 0) & (r < 1),
        "A conduction delay is shorter than `dt` but not zero; use a smaller `dt`.",
    )


def check_weights(coupling, structure: DelayStructure, self_connection: bool):
    """`coupling` whose traced weights are checked at run time to be zero outside
    the structure's edge pattern."""
    if not structure.check_edges:
        return coupling
    outside = ~structure.pattern.mask
    n = outside.shape[0]
    if not self_connection:
        outside &= ~np.eye(n, dtype=bool)
    w = eqx.error_if(
        coupling.weights,
        jnp.any((coupling.weights != 0) & outside),
        "A weight outside the network's `edge_mask` is non-zero. When the weights "
        "are traced (jit, vmap, grad) only the edges of `edge_mask` (by default the "
        "non-zero weights the network was built with) are simulated: build the "
        "network with `Network(..., edge_mask=...)` covering every edge that may "
        "be non-zero.",
    )
    return eqx.tree_at(lambda c: c.weights, coupling, w)


def check_no_delays(coupling, structure: DelayStructure):
    """`coupling` whose traced delays are checked to be zero (the structure has
    none)."""
    if structure.bounds is None or coupling.delays is None:
        return coupling
    d = coupling.delays
    w = eqx.error_if(
        coupling.weights,
        jnp.any(~(d <= 0) & structure.pattern.mask),
        "A conduction delay is non-zero (or NaN) but the network was built without "
        "delays (`max_delay` 0), the bound used when the delays are traced: build it "
        "with `Network(..., max_delay=...)`.",
    )
    return eqx.tree_at(lambda c: c.weights, coupling, w)


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
