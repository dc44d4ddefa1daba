"""Delay history: a ring buffer of past coupled states, read at every solver stage.

Layout and reading scheme (all shapes for one network; vmap adds leading axes):

- The history of the coupled variables is a ring buffer of `L` grid states, stored
  twice back to back, shape `(2L, N, V)`, so that every read of a state
  `k <= n` steps back is a contiguous-index lookup with no per-edge modulo:
  `slot(k) = (n mod L) + L - (n - k)`.
- Each afferent edge `(i, e)` with delay `tau = (m + f) dt`, `m >= 1` integer and
  `0 <= f < 1`, is read at stage time `t_n + c dt` (`0 <= c <= 1`) at position
  `n - m + (c - f)`, which lies between grid states `n - m - 1` and `n - m + 1`.
- For `"nearest"` and `"linear"` interpolation the three grid values of each edge are
  kept in a small per-edge window that slides by one state per step: each step
  gathers only one new value per edge, whatever the number of solver stages.
- `"cubic"` interpolation uses 4-point Lagrange interpolation on the grid states
  around the read position (shifted back so that no node is later than `t_n`), read
  directly from the buffer at each stage.
"""

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, Float, Int

from ._network import Network, _concrete


INTERPOLATIONS = ("nearest", "linear", "cubic")
# Delays within this fraction of a step of an integer number of steps are snapped to
# it, so that e.g. a 0.3 ms delay at dt = 0.1 ms is exactly 3 steps in float32.
_SNAP = 1e-4


class DelayPlan(eqx.Module):
    """Precomputed per-edge read plan of a delayed network at a fixed `dt`."""

    idx: Int[Array, "nodes edges"]
    m: Int[Array, "nodes edges"]
    f: Float[Array, "nodes edges"]
    zero: Array | None
    length: int = eqx.field(static=True)
    n_regions: int = eqx.field(static=True)
    mode: str = eqx.field(static=True)

    @property
    def uses_window(self) -> bool:
        return self.mode in ("nearest", "linear")


def make_plan(net: Network, dt: float, interpolation: str) -> DelayPlan:
    d = net.edge_delays()
    d = jnp.zeros(net.pattern.idx.shape, net.weights.dtype) if d is None else d / dt
    r = jnp.round(d)
    if interpolation == "nearest":
        d = r  # whole steps, rounded half to even as The Virtual Brain does
    else:
        d = jnp.where(jnp.abs(d - r) < _SNAP, r, d)
    valid = net.pattern.valid
    dc = _concrete(d)
    if dc is not None:
        bad = valid & (dc > 0) & (dc < 1)
        if np.any(bad):
            i, e = np.argwhere(bad)[0]
            j = int(net.pattern.idx[i, e])
            raise ValueError(
                f"The delay from region {j} to region {i} is "
                f"{float(dc[i, e]) * dt:g} ms, shorter than `dt`={dt:g} ms but not "
                "zero. Delays in (0, dt) are not "
                "supported: use a smaller `dt` (at most the shortest non-zero delay), "
                "or set such delays to 0 (instantaneous coupling)."
            )
    else:
        d = eqx.error_if(
            d,
            valid & (d > 0) & (d < 1),
            "A conduction delay is shorter than `dt` but not zero; use a smaller `dt`.",
        )
    has_zero = net.pattern.has_zero_delay or not net.has_delays
    zero = (d == 0) & valid if has_zero else None
    # Zero-delay edges read the stage's own state; give them a harmless lag of 1.
    d = jnp.where(valid & (d > 0), d, 1.0)
    m = jnp.floor(d).astype(jnp.int32)
    f = (d - m).astype(d.dtype)
    m_max = int(np.ceil(net.max_delay / dt + _SNAP)) + 1
    return DelayPlan(
        idx=jnp.asarray(net.pattern.idx),
        m=m,
        f=f,
        zero=zero,
        length=m_max + 4,
        n_regions=net.n_regions,
        mode=interpolation,
    )


def init_buffer(plan: DelayPlan, past: Float[Array, "L nodes cvars"]):
    """The doubled ring buffer at step 0 from `past`: the coupled states at steps
    `-(L-1), ..., 0` in chronological order."""
    buf = jnp.roll(past, 1, axis=0)  # slot(k) = k mod L
    return jnp.concatenate([buf, buf], axis=0)  # (2L, N, V)


def write(plan: DelayPlan, buf, n, value: Float[Array, "nodes cvars"]):
    """Store the coupled state of step `n` (both copies)."""
    s = jnp.mod(n, plan.length)
    zero = jnp.zeros((), s.dtype)
    value = value[None].astype(buf.dtype)
    buf = jax.lax.dynamic_update_slice(buf, value, (s, zero, zero))
    return jax.lax.dynamic_update_slice(buf, value, (s + plan.length, zero, zero))


def gather(plan: DelayPlan, buf, n, rel: Int[Array, "nodes edges"]):
    """Values of each edge's source at steps `n + rel` (`-L <= rel <= 0`)."""
    base = jnp.mod(n, plan.length) + plan.length
    flat = (base + rel) * plan.n_regions + plan.idx
    rows = buf.reshape(-1, buf.shape[-1])
    return rows.at[flat].get(mode="promise_in_bounds")


def init_window(plan: DelayPlan, buf):
    """The per-edge window of grid values at steps `-m-1, -m, -m+1`, shape
    `(3, K, N, V)`. At step n, the value at step `n - m - 1 + q` lives in slot
    `(n + q) mod 3`, so sliding the window rewrites one slot in place."""
    return jnp.stack([gather(plan, buf, 0, -plan.m + q) for q in (-1, 0, 1)])


def advance_window(plan: DelayPlan, win, buf, n):
    """Slide the window from step `n - 1` to step `n` (the state of step `n` must
    already be written): one gather per edge, written over the oldest slot."""
    new = gather(plan, buf, n, 1 - plan.m)[None]
    zero = jnp.zeros((), jnp.int32)
    slot = jnp.mod(n + 2, 3).astype(jnp.int32)
    return jax.lax.dynamic_update_slice(win, new, (slot, zero, zero, zero))


def window_values(win, n):
    """The window's three values `(w0, w1, w2)` at step `n` (steps `n-m-1+q`)."""
    return tuple(
        jax.lax.dynamic_index_in_dim(win, jnp.mod(n + q, 3), keepdims=False)
        for q in range(3)
    )


def window_coefficients(plan: DelayPlan, c: float):
    """How to read the window at a stage offset `c` known at trace time.

    - `"nearest"`: delays are whole steps (`f = 0`), so the read is the single window
      value `q = floor(c + 1/2)` steps after `n - m`: returns the Python int index
      `q + 1` of that value in `(w0, w1, w2)`.
    - `"linear"`: weights `(c0, c1, c2)`, each `(K, N, 1)`, with the read
      `c0 w0 + c1 w1 + c2 w2`; computed once, outside the loop.
    """
    if plan.mode == "nearest":
        return int(np.floor(c + 0.5)) + 1
    a = (c - plan.f)[..., None]  # in (-1, 1]
    kk = jnp.clip(jnp.floor(a), -1.0, 0.0)
    frac = a - kk
    low = kk < 0
    zero = jnp.zeros_like(a)
    return (
        jnp.where(low, 1.0 - frac, zero),
        jnp.where(low, frac, 1.0 - frac),
        jnp.where(low, zero, frac),
    )


def read_window(values, coefficients) -> Float[Array, "edges nodes cvars"]:
    """A nearest or linear read from the window values `(w0, w1, w2)` with the
    result of `window_coefficients`."""
    if isinstance(coefficients, int):
        return values[coefficients]
    c0, c1, c2 = coefficients
    w0, w1, w2 = values
    return c0 * w0 + c1 * w1 + c2 * w2


def read(plan: DelayPlan, store, n, c) -> Float[Array, "edges nodes cvars"]:
    """Delayed source values of every edge at stage time `t_n + c dt`.

    `store` is the window (nearest, linear) or the buffer (cubic)."""
    a = (c - plan.f)[..., None]  # in (-1, 1]
    if plan.mode == "nearest":
        q = jnp.floor(a + 0.5)
        w0, w1, w2 = window_values(store, n)
        return jnp.where(q < 0, w0, jnp.where(q > 0, w2, w1))
    if plan.mode == "linear":
        kk = jnp.clip(jnp.floor(a), -1.0, 0.0)
        frac = a - kk
        w0, w1, w2 = window_values(store, n)
        lo = jnp.where(kk < 0, w0, w1)
        hi = jnp.where(kk < 0, w1, w2)
        return lo + frac * (hi - lo)
    # cubic: nodes base .. base + 3 with base = n - m + b, never later than n.
    kf = jnp.floor(c - plan.f).astype(jnp.int32)
    b = jnp.minimum(kf - 1, plan.m - 3)
    s = (c - plan.f - b)[..., None]
    vals = [gather(plan, store, n, b - plan.m + q) for q in range(4)]
    l0 = -(s - 1.0) * (s - 2.0) * (s - 3.0) / 6.0
    l1 = s * (s - 2.0) * (s - 3.0) / 2.0
    l2 = -s * (s - 1.0) * (s - 3.0) / 2.0
    l3 = s * (s - 1.0) * (s - 2.0) / 6.0
    return l0 * vals[0] + l1 * vals[1] + l2 * vals[2] + l3 * vals[3]
