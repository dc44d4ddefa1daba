"""Blocked reads of the delay history for couplings linear in the delayed value.

When the solver's stages sit at `c = 0` or `c = 1` (Euler, Heun), every read is at a
grid time `t_q`, and a grid-tap interpolation reads it as fixed weights of `T` grid
states (`AbstractInterpolation.tap_weights`): nearest, `T = 1`, and linear, `T = 2`,

    C_i[q] = sum_j sum_t a_ijt x_j[q - m_ij - t],  a_ij0 = w_ij (1 - f_ij),
                                                   a_ij1 = w_ij f_ij

(delay `(m_ij + f_ij) dt`, `f = 0` for nearest). When every `m_ij >= S`, the delayed
sums of the next `S` steps only involve states that are already known at the start
of the block. They are then computed for the whole block at once:

- the history is a node-major ring `(N, 2, H, V)` (stored twice, back to back; the
  state of step `k` sits in slot `(k - 1) mod H` of both copies), so the `S + T - 1`
  values that an edge contributes to one block are one contiguous slice: one gather
  per edge and block instead of one per edge, tap and step;
- the block's sums are a small matrix product of the per-region edge weights with the
  gathered windows;
- the block's `S` new states are written with one update, at the start of the next
  block.

`H` is a multiple of `S` and blocks start at multiples of `S`, so no window and no
write wraps around the ring.

Reverse mode uses the blocked form of the pulled adjoint (`_adjoint`): the cotangent
that flows backwards through the ring is `gC[q]`, the cotangent of the delayed sum
of virtual time `q`, stored like a state (slot `(q - 1) mod H`, both copies). A
block's sums store their cotangents (`route`); the write of a block's states pulls
theirs,

    dL/dX_j[k] = sum_{e out of j} sum_t a_et gC_{i_e}[k + m_e + t],
                 k = n0 - S + 1 ... n0,

as one window of `S + T - 1` values per out-edge (`pull`, the forward gather transposed
without a scatter); the ring's construction pulls the history's (`init`).
"""

import functools

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, Float, Int

from ..coupling._base import sum_edges
from ._plan import DelayPlan
from ._pulled import OutEdges, out_edges


def block_steps(min_lag: int, period: int, max_block: int) -> int:
    """The number of steps `S` read per block (0: blocked reads do not apply): the
    largest `S <= min(min_lag, max_block)`, `S >= 2`, that divides `period` (the
    loop's steps between outputs, and the transient), so that a block never reads a
    state it computes."""
    for s in range(min(min_lag, max_block, period), 1, -1):
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
    ring position) and its weight per tap; padding edges have weight 0."""

    starts: tuple[Int[Array, "band edges"], ...]
    weights: tuple[Float[Array, "band edges taps"], ...]
    order: tuple[int, ...] = eqx.field(static=True)  # band regions to region order
    length: int = eqx.field(static=True)  # H
    steps: int = eqx.field(static=True)  # S
    taps: int = eqx.field(static=True)  # T


def _tap_weights(w, taps) -> Float[Array, "edges nodes taps"]:
    """The weights `a_et = w_e * tap_t` of the grid taps of each edge."""
    w = jnp.asarray(w)
    return jnp.stack([w * jnp.asarray(a, w.dtype) for a in taps], axis=-1)


def _banded(start, a, degree: np.ndarray):
    """Per band of regions of similar degree (`degree_bands`): the window starts
    `start[:k, band].T` and tap weights `a[:k, band]` of its regions' `k` edges
    (`k` the band's largest degree), and the order of the bands' regions."""
    starts, weights = [], []
    bands = degree_bands(degree, BANDS)
    for band in bands:
        k = max(int(degree[band].max()), 1)
        starts.append(jnp.asarray(start[:k, band].T, jnp.int32))
        weights.append(jnp.swapaxes(a[:k, band], 0, 1))
    order = tuple(int(i) for i in np.argsort(np.concatenate(bands)))
    return tuple(starts), tuple(weights), order


def _reduce(w, win, taps: int, steps: int, swept: bool):
    """`sum_k sum_t w[i, k, t] win[i, k, s + T - 1 - t]` for `s < S`: the windows'
    tap `t` of step `s` (`swept`: `w` has the sweep as its leading axis, `win` as
    its trailing one)."""
    out = 0.0
    for t in range(taps):
        part = win[:, :, taps - 1 - t : taps - 1 - t + steps]
        wt = w[..., t].astype(win.dtype)
        if swept:
            out = out + jnp.einsum("bik,iksvb->isvb", wt, part)
        else:
            out = out + jnp.einsum("ik,iks...->is...", wt, part)
    return out


def make_block_plan(plan: DelayPlan, valid, w_edges, steps: int) -> BlockPlan:
    """`w_edges` `(K, N)` are the weights of the afferent edges (padding: 0), the
    real edges of each region first (as in the network's edge pattern)."""
    h = -(-plan.length // steps) * steps
    m = plan.m
    m = eqx.error_if(  # the structure guarantees it; kept as a run-time check
        m,
        jnp.asarray(valid) & (m < steps),
        "A conduction delay is shorter than the block of steps read at once (the "
        "network's `min_delay` when the delays are traced): build the network with "
        "`Network(..., min_delay=...)` at most the shortest delay, or pass "
        "`loop=nm.StepByStepLoop()`.",
    )
    taps = plan.interpolation.grid_taps
    # window of virtual times n0 + 1 ... n0 + S reads steps n0 + 1 - D ... n0 + S - m
    # (D = m + T - 1, the oldest tap), whose slots begin at (n0 - D) mod H = p - D + H
    # in the doubled ring (p = n0 mod H)
    start = jnp.asarray(plan.idx * (2 * h) + h - m - (taps - 1), jnp.int32)
    a = _tap_weights(w_edges, plan.interpolation.tap_weights(plan.f))
    starts, weights, order = _banded(start, a, np.asarray(valid).sum(axis=0))
    return BlockPlan(
        starts=starts,
        weights=weights,
        order=order,
        length=h,
        steps=steps,
        taps=taps,
    )


def _ring(h: int, past):
    """The ring `(N, 2, H, V, *sweep)` at step 0 from the source values at steps
    `-(L-1) ... 0` (earlier steps repeat the first one). A sweep run as one loop
    (`simulate` under `vmap`) keeps the sweep as the trailing axes of the ring, so
    that the window of an edge is one contiguous slice for all its points."""
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
            (bp.steps + bp.taps - 1, v) + extra,
            mode=jax.lax.GatherScatterMode.PROMISE_IN_BOUNDS,
        )  # (N_b, K_b, S + T - 1, V, *sweep): one contiguous slice per edge
        # reduced over the edges and taps: small matrix products per region, with
        # the windows in their gathered layout (region, edge, ...)
        swept = swept_weights is not None and swept_weights[band]
        parts.append(_reduce(w, win, bp.taps, bp.steps, swept))
    c = jnp.concatenate(parts) if len(parts) > 1 else parts[0]
    return jnp.swapaxes(c[np.asarray(bp.order)], 0, 1)


def _store(ring, slot, values):
    """`values` `(s, N, V, *sweep)` into slots `slot ... slot + s - 1` of both
    copies of the ring, in one update."""
    new = jnp.swapaxes(values, 0, 1).astype(ring.dtype)  # (N, s, V, ...)
    new = jnp.broadcast_to(new[:, None], (new.shape[0], 2) + new.shape[1:])
    zero = jnp.zeros((), jnp.int32)
    index = (zero, zero, slot.astype(jnp.int32)) + (zero,) * (ring.ndim - 3)
    return jax.lax.dynamic_update_slice(ring, new, index)


def exchange(bp: BlockPlan, ops, ring, n0, pending, swept_weights=None):
    """Store the coupled states `pending` `(S, N, V, *sweep)` of steps
    `n0 - S + 1 ... n0` (both copies, one in-place update), then read the sums of
    the next block (`ops`: the ring operations of the delay adjoint, `BlockRing` or
    `PulledBlockRing`). Writing first lets the update happen in place."""
    ring = ops.write(ring, n0, pending)
    c = sums(bp, ops.source(ring), n0, swept_weights)
    return ops.route(ring, n0 + 1, c)


def first_sums(bp: BlockPlan, ops, ring, swept_weights=None):
    """The sums of virtual time 0 (the read of step 0's first stage), `(1, N, V,
    *sweep)`."""
    first = sums(bp, ops.source(ring), -1, swept_weights)[:1]
    return ops.route(ring, 0, first)


class BlockRing(eqx.Module):
    """The operations on the node-major ring of plain autodiff
    (`AutodiffDelayAdjoint`)."""

    length: int = eqx.field(static=True)  # H
    steps: int = eqx.field(static=True)  # S

    def init(self, past):
        return _ring(self.length, past)

    def write(self, ring, n0, pending):
        return _store(ring, jnp.mod(n0 - self.steps, self.length), pending)

    def route(self, ring, q0, c):
        return ring, c

    def source(self, x):
        return x


class PulledBlockRing(eqx.Module):
    """The operations on the node-major ring of the blocked pulled adjoint (see the
    module docstring): reads see the ring through `stop_gradient` and store their
    cotangents (`route`); a block's write pulls its states' cotangents (`write`)."""

    out: "OutPlan"

    def init(self, past):
        return init_pulled(self.out, past)

    def write(self, ring, n0, pending):
        return write(self.out, ring, n0, pending)

    def route(self, ring, q0, c):
        return route(self.out.length, ring, q0, c)

    def source(self, x):
        return jax.lax.stop_gradient(x)


# The blocked pulled adjoint (see the module docstring).


class OutPlan(eqx.Module):
    """The edges regrouped by source region (the adjoint's gathers): per band of
    regions by out-degree, where each out-edge's window of read cotangents starts
    (relative to the block's ring position) and its weight (padding: weight 0);
    `edges` is the per-step layout, for the history."""

    starts: tuple[Int[Array, "band out"], ...]
    weights: tuple[Float[Array, "band out taps"], ...]
    edges: OutEdges
    order: tuple[int, ...] = eqx.field(static=True)  # band regions to region order
    length: int = eqx.field(static=True)  # H
    steps: int = eqx.field(static=True)  # S
    taps: int = eqx.field(static=True)  # T


def make_out_plan(plan: DelayPlan, idx, valid, w_edges, steps: int) -> OutPlan:
    """The out-edge plan of the blocked adjoint (`idx`, `valid`: the static edge
    pattern; `w_edges` `(K, N)` the afferent weights)."""
    h = -(-plan.length // steps) * steps
    edges = out_edges(plan, idx, valid, w_edges)
    valid = np.asarray(valid)
    degree = np.bincount(np.asarray(idx)[valid], minlength=valid.shape[1])
    # the reads of the states of steps n0 - S + 1 ... n0 by out-edge e happen at the
    # virtual times from n0 - S + 1 + m_e (tap 0) to n0 + m_e + T - 1, whose slots
    # begin at p + m_e, with p = (n0 - S) mod H (at most H - S: the window never
    # leaves the doubled ring)
    start = edges.target * (2 * h) + edges.lag
    a = _tap_weights(edges.weight, edges.taps)
    starts, weights, order = _banded(start, a, degree)
    return OutPlan(
        starts=starts,
        weights=weights,
        edges=edges,
        order=order,
        length=h,
        steps=steps,
        taps=plan.interpolation.grid_taps,
    )


def _windows(g, start, steps):
    """The windows `(rows, cols, steps, V)` of the ring `g` `(N, 2, H, V)` that begin
    at the flat slots `start` `(rows, cols)`."""
    n, _, h, v = g.shape
    dn = jax.lax.GatherDimensionNumbers(
        offset_dims=(2, 3), collapsed_slice_dims=(), start_index_map=(0,)
    )
    return jax.lax.gather(
        g.reshape(n * 2 * h, v),
        start[..., None],
        dn,
        (steps, v),
        mode=jax.lax.GatherScatterMode.PROMISE_IN_BOUNDS,
    )


def pull(op: OutPlan, g, n0) -> Float[Array, "steps nodes cvars"]:
    """`dL/dX[m]` of the states of steps `m = n0 - S + 1 ... n0` from the read
    cotangents `g` (one window per out-edge and band, reduced per region)."""
    p = jnp.mod(n0 - op.steps, op.length).astype(jnp.int32)
    size = op.steps + op.taps - 1
    parts = []
    for start, w in zip(op.starts, op.weights):
        win = _windows(g, start + p, size)
        # state s of the block is read by tap t at index s + t of its window
        parts.append(
            sum(
                jnp.einsum(
                    "ik,iksv->isv",
                    w[..., t].astype(g.dtype),
                    win[:, :, t:][:, :, : op.steps],
                )
                for t in range(op.taps)
            )
        )
    c = jnp.concatenate(parts) if len(parts) > 1 else parts[0]
    return jnp.swapaxes(c[np.asarray(op.order)], 0, 1)


def _pull_step(op: OutPlan, g, n):
    """`dL/dX[n]` `(N, V)` of one step, counting the reads at times `>= 0`."""
    e = op.edges
    _, _, h, v = g.shape
    flat = g.reshape(-1, v)
    total = 0.0
    for t, a in enumerate(e.taps):
        q = n + e.lag + t
        vals = flat.at[e.target * (2 * h) + jnp.mod(q - 1, h)].get(
            mode="promise_in_bounds"
        )
        vals = jnp.where((q >= 0)[..., None], vals, 0.0)
        total = total + (e.weight * a)[..., None] * vals
    return sum_edges(total)


@jax.custom_vjp
def init_pulled(op: OutPlan, past: Float[Array, "L nodes cvars"]):
    """`init` whose VJP pulls the cotangent of every history state."""
    return _ring(op.length, past)


def _init_fwd(op, past):
    return init_pulled(op, past), (op, jnp.zeros((past.shape[0], 0), past.dtype))


def _init_bwd(res, g):
    op, like = res
    steps = jnp.arange(1 - like.shape[0], 1, dtype=jnp.int32)
    gp = jax.vmap(lambda n: _pull_step(op, g, n))(steps)
    return None, gp.astype(like.dtype)


init_pulled.defvjp(_init_fwd, _init_bwd)


@jax.custom_vjp
def write(op: OutPlan, ring, n0, pending):
    """Store the states `pending` of steps `n0 - S + 1 ... n0`; the VJP pulls their
    cotangents from the read cotangents (`pull`)."""
    return _store(ring, jnp.mod(n0 - op.steps, op.length), pending)


def _write_fwd(op, ring, n0, pending):
    like = jnp.zeros((0,), pending.dtype)
    return write(op, ring, n0, pending), (op, n0, like)


def _write_bwd(res, g):
    op, n0, like = res
    return None, g, None, pull(op, g, n0).astype(like.dtype)


write.defvjp(_write_fwd, _write_bwd)


@functools.partial(jax.custom_vjp, nondiff_argnums=(0,))
def route(length: int, ring, q0, c):
    """Identity on `(ring, c)`, the sums `c` `(s, N, V)` of the virtual times
    `q0 ... q0 + s - 1`; the VJP stores their cotangents in the ring's."""
    return ring, c


def _route_fwd(length, ring, q0, c):
    return (ring, c), q0


def _route_bwd(length, q0, cts):
    g, gc = cts
    return _store(g, jnp.mod(q0 - 1, length), gc), None, gc


route.defvjp(_route_fwd, _route_bwd)
