"""Blocked reads of whole-step delays for couplings linear in the delayed value.

When every delay is a whole number of steps `D_ij >= S` (`interpolation="nearest"`)
and the solver's stages sit at `c = 0` or `c = 1` (Euler, Heun), the delayed sums
`C_i[q] = sum_j w_ij x_j(q - D_ij)` of the next `S` steps only involve states that
are already known at the start of the block. They are then computed for the whole
block at once:

- the history is a node-major ring `(N, 2, H, V)` (stored twice, back to back; the
  state of step `k` sits in slot `(k - 1) mod H` of both copies), so the `S` values
  that an edge contributes to one block are one contiguous slice: one gather per
  edge and block instead of one per edge and step;
- the block's sums are a small matrix product of the per-region edge weights with the
  gathered windows;
- the block's `S` new states are written with one update, at the start of the next
  block.

`H` is a multiple of `S` and blocks start at multiples of `S`, so no window and no
write wraps around the ring.
"""

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, Float, Int

from ._history import DelayPlan
from ._network import _concrete


# Most steps read in one block: larger blocks gather longer windows for little gain.
MAX_BLOCK = 16
# Blocked reads are used wherever they apply; False keeps the step-by-step loop
# (the two are tested equal).
ENABLED = True


def block_steps(plan: DelayPlan, valid: np.ndarray, period: int, lag: int) -> int:
    """The number of steps `S` read per block (0: blocked reads do not apply).

    `S` divides `period` (the loop's steps between outputs, and the transient) and is
    at most the shortest lag, so that a block never reads a state it computes. `lag`
    is the shortest lag of the network as built, used when the delays are traced
    (then `make_block_plan` checks it when the loop runs)."""
    m = _concrete(plan.m)
    if m is None:
        shortest = lag
    else:
        lags = m[np.asarray(valid)]
        shortest = int(lags.min()) if lags.size else MAX_BLOCK
    for s in range(min(shortest, MAX_BLOCK, period), 1, -1):
        if period % s == 0:
            return s
    return 0


def degree_bands(degree: np.ndarray, groups: int) -> list[np.ndarray]:
    """Regions split into at most `groups` bands of similar in-degree, minimising the
    padded edge slots `sum_b len(b) * max(degree[b])` (dynamic programming over the
    regions sorted by in-degree). Returns the region indices of each band."""
    order = np.argsort(degree, kind="stable")
    d = degree[order]
    n = len(d)
    groups = max(1, min(groups, n))
    # cost[b, e]: fewest slots for the first e sorted regions in b bands
    cost = np.full((groups + 1, n + 1), np.inf)
    cut = np.zeros((groups + 1, n + 1), dtype=int)
    cost[0, 0] = 0.0
    for b in range(1, groups + 1):
        for e in range(1, n + 1):
            # a band s..e-1 costs (e - s) * d[e - 1] (sorted: its largest is last)
            s = np.arange(e)
            total = cost[b - 1, s] + (e - s) * d[e - 1]
            cut[b, e] = int(np.argmin(total))
            cost[b, e] = total[cut[b, e]]
    b = int(np.argmin(cost[1:, n])) + 1
    bands, e = [], n
    while b > 0:
        s = cut[b, e]
        bands.append(order[s:e])
        e, b = s, b - 1
    return [band for band in bands[::-1] if band.size]


# Bands of in-degree: each gathers its regions' edges padded to its own largest
# in-degree (3 bands trimmed the padded slots of the TVB connectome from 2356 to 1788).
BANDS = 3


class BlockPlan(eqx.Module):
    """Per band of regions: where each edge's window starts (relative to the block's
    ring position) and its weight; padding edges have weight 0."""

    starts: tuple[Int[Array, "band edges"], ...]
    weights: tuple[Float[Array, "band edges"], ...]
    order: tuple[int, ...] = eqx.field(static=True)  # band regions to region order
    length: int = eqx.field(static=True)  # H
    steps: int = eqx.field(static=True)  # S


def make_block_plan(plan: DelayPlan, valid, w_edges, steps: int) -> BlockPlan:
    """`w_edges` `(K, N)` are the weights of the afferent edges (padding: 0), the
    real edges of each region first (as in the network's edge pattern)."""
    h = -(-plan.length // steps) * steps
    m = plan.m
    if _concrete(m) is None:  # delays changed after the network was built
        m = eqx.error_if(
            m,
            jnp.asarray(valid) & (m < steps),
            "A conduction delay is shorter than the network's `min_delay` (the "
            "shortest delay when it was built); to set shorter delays with "
            "`eqx.tree_at` (e.g. a sweep of `speed`), build the network with "
            "`Network(..., min_delay=...)` at most the shortest delay swept.",
        )
    # window of virtual times n0 + 1 ... n0 + S reads steps n0 + 1 - D ... n0 + S - D,
    # whose slots begin at (n0 - D) mod H = p - D + H in the doubled ring (p = n0 mod H)
    start = jnp.asarray(plan.idx * (2 * h) + h - m, jnp.int32)
    valid = np.asarray(valid)
    degree = valid.sum(axis=0)
    bands = degree_bands(degree, BANDS)
    starts, weights = [], []
    for band in bands:
        k = max(int(degree[band].max()), 1)
        starts.append(start[:k, band].T)
        weights.append(jnp.asarray(w_edges)[:k, band].T)
    return BlockPlan(
        starts=tuple(starts),
        weights=tuple(weights),
        order=tuple(int(i) for i in np.argsort(np.concatenate(bands))),
        length=h,
        steps=steps,
    )


def init(bp: BlockPlan, past: Float[Array, "L nodes cvars *sweep"]):
    """The ring `(N, 2, H, V, *sweep)` at step 0 from the coupled states at steps
    `-(L-1) ... 0` (earlier steps repeat the first one). A sweep run as one loop
    (`simulate` under `vmap`) keeps the sweep as the trailing axes of the ring, so
    that the window of an edge is one contiguous slice for all its points."""
    h = bp.length
    if past.shape[0] < h:
        pad = jnp.broadcast_to(past[:1], (h - past.shape[0],) + past.shape[1:])
        past = jnp.concatenate([pad, past], axis=0)
    past = past[-h:]  # step k = -(h-1) ... 0 in slot (k - 1) mod h = its row
    ring = jnp.swapaxes(past, 0, 1)  # (N, H, V, ...)
    return jnp.stack([ring, ring], axis=1)


def sums(
    bp: BlockPlan, ring, n0, swept_weights: tuple[bool, ...] | None = None
) -> Float[Array, "steps nodes cvars *sweep"]:
    """The delayed sums `C[q]` of the virtual times `q = n0 + 1 ... n0 + S`.

    With a sweep axis `B` trailing the ring, the weights of band `b` are shared by all
    points, or, where `swept_weights[b]`, have the sweep as their leading axis."""
    p = jnp.mod(n0, bp.length).astype(jnp.int32)
    n, _, h, v = ring.shape[:4]
    extra = ring.shape[4:]
    flat = ring.reshape((n * 2 * h, v) + extra)
    dn = jax.lax.GatherDimensionNumbers(
        offset_dims=tuple(range(2, 4 + len(extra))),
        collapsed_slice_dims=(),
        start_index_map=(0,),
    )
    parts = []
    for band, (start, w) in enumerate(zip(bp.starts, bp.weights)):
        win = jax.lax.gather(
            flat,
            (start + p)[..., None],
            dn,
            (bp.steps, v) + extra,
            mode=jax.lax.GatherScatterMode.PROMISE_IN_BOUNDS,
        )  # (N_b, K_b, S, V, *sweep): one contiguous slice per edge
        # reduced over the edges: a small matrix product per region, with the
        # windows in their gathered layout (region, edge, ...)
        w = w.astype(win.dtype)
        if swept_weights is not None and swept_weights[band]:
            parts.append(jnp.einsum("bik,iksvb->isvb", w, win))
        else:
            parts.append(jnp.einsum("ik,iks...->is...", w, win))
    c = jnp.concatenate(parts) if len(parts) > 1 else parts[0]
    return jnp.swapaxes(c[np.asarray(bp.order)], 0, 1)


def exchange(bp: BlockPlan, ring, n0, pending, swept_weights=None):
    """Store the coupled states `pending` `(S, N, V, *sweep)` of steps
    `n0 - S + 1 ... n0` (both copies, one in-place update), then read the sums of
    the next block. Writing first lets the update happen in place."""
    p = jnp.mod(n0 - bp.steps, bp.length).astype(jnp.int32)
    new = jnp.swapaxes(pending, 0, 1).astype(ring.dtype)  # (N, S, V, ...)
    new = jnp.broadcast_to(new[:, None], (new.shape[0], 2) + new.shape[1:])
    zero = jnp.zeros((), jnp.int32)
    index = (zero, zero, p) + (zero,) * (ring.ndim - 3)
    ring = jax.lax.dynamic_update_slice(ring, new, index)
    return ring, sums(bp, ring, n0, swept_weights)
