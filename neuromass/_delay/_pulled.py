"""The pulled adjoint of the delay history of couplings linear in the delayed value.

For an `AbstractLinearCoupling` the delayed part of the coupling is a weighted sum of
the history. With Euler or Heun every stage reads it at a grid time `t_q`:

    C_i[q] = sum_e w_e ((1 - f_e) X_j[q - m_e] + f_e X_j[q - m_e - 1])

(edge `e` from `j` to `i`, delay `(m_e + f_e) dt`; `f_e = 0` for nearest). Plain
reverse-mode AD transposes each read into a scatter-add of `K x N` values into the
cotangent of the whole history buffer, at every step. Here the transpose is
reorganised instead: the cotangent that flows backwards through the history buffer
is not "d loss / d stored state" but the cotangent `gC[q]` of each read, stored at the
read's time `q` (same shape as the buffer, `(2L, N, V)`, both copies). When the
reverse pass reaches the write of state `X[n]`, every read that used `X[n]` (times
`n + m_e` and `n + m_e + 1`, all later) has been processed, so

    dL/dX_j[n] = sum_{e out of j} w_e ((1 - f_e) gC_i[n + m_e] + f_e gC_i[n + m_e + 1])

is *pulled* with one gather over the out-edges of each region (no scatter). Three
custom-VJP operations implement it, each the identity or the ordinary operation in
the forward pass:

- `route(buf, q, C)`: identity; its VJP stores `gC` at time `q` in the buffer's
  cotangent and passes `gC` on to `C` (so gradients with respect to the weights and
  the delays flow through the ordinary computation of `C`);
- `write(buf, n, x)`: stores `x` at step `n`; its VJP pulls `dL/dx` from the buffer's
  cotangent;
- `init(past)`: builds the buffer from the history; its VJP pulls the cotangent of
  every history state (reads at times before the first step do not exist).

Every read of the history must go through `route` and every write through `write`;
the per-edge window that caches history values is built from a `stop_gradient` of the
buffer. A stage time must be a grid time, so the solver's stages must have `c` in
{0, 1} (Euler, Heun); reverse mode only (`jax.jvp` through these operations is not
defined: use `delay_adjoint="autodiff"` for forward-mode derivatives).
"""

import functools

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, Float, Int

from ..coupling._base import sum_edges
from . import _ring as ring
from ._plan import DelayPlan


class OutEdges(eqx.Module):
    """The afferent edges `(K, N)` regrouped by source region: `(Ko, N)` arrays whose
    column `j` lists the edges leaving region `j` (padding has weight zero)."""

    target: Int[Array, "out nodes"]
    weight: Float[Array, "out nodes"]
    lag: Int[Array, "out nodes"]
    taps: tuple[
        Float[Array, "out nodes"], ...
    ]  # grid taps t = 0, 1, ... (`tap_weights`)
    length: int = eqx.field(static=True)


def out_edges(plan: DelayPlan, idx: np.ndarray, valid: np.ndarray, w_edges) -> OutEdges:
    """The out-edge layout of `plan` (the pattern `idx`, `valid` is static)."""
    k, n = valid.shape
    src = np.asarray(idx)
    lists = [[] for _ in range(n)]
    for e, i in zip(*np.nonzero(valid)):
        lists[src[e, i]].append(e * n + i)
    ko = max(1, max(len(x) for x in lists))
    flat = np.zeros((ko, n), np.int32)
    ok = np.zeros((ko, n), bool)
    for j, x in enumerate(lists):
        flat[: len(x), j] = x
        ok[: len(x), j] = True

    def regroup(a):
        return jax.lax.stop_gradient(a).reshape(-1)[flat]

    f = jnp.where(ok, regroup(plan.f), 0.0)
    return OutEdges(
        target=jnp.asarray(flat % n),
        weight=jnp.where(ok, regroup(w_edges), 0.0),
        lag=jnp.where(ok, regroup(plan.m), 0),
        taps=tuple(plan.interpolation.tap_weights(f)),
        length=plan.length,
    )


def _pull(out: OutEdges, g, n, first=None):
    """`dL/dX[n]` `(N, V)` from the read cotangents `g` (stored by time, both
    copies), counting only reads at times `>= first` (all with None)."""
    base = jnp.mod(n, out.length)
    row = base + out.lag
    width = g.shape[-1]
    flat = g.reshape(-1, width)
    n_regions = g.shape[1]

    def at(r, q):
        vals = flat.at[r * n_regions + out.target].get(mode="promise_in_bounds")
        return vals if first is None else jnp.where((q >= first)[..., None], vals, 0.0)

    p = at(row, n + out.lag)
    if len(out.taps) > 1:  # (1 - f, f): the read of q weighs X[q - m] and X[q - m - 1]
        a0, a1 = (a[..., None] for a in out.taps)
        p = a0 * p + a1 * at(row + 1, n + out.lag + 1)
    return sum_edges(out.weight[..., None] * p)


@functools.partial(jax.custom_vjp, nondiff_argnums=(0,))
def route(length: int, buf, q, c):
    """Identity on `(buf, c)`; the VJP stores `c`'s cotangent at time `q`."""
    return buf, c


def _route_fwd(length, buf, q, c):
    return (buf, c), q


def _route_bwd(length, q, cts):
    g, gc = cts
    return ring.write(length, g, q, gc), None, gc


route.defvjp(_route_fwd, _route_bwd)


@jax.custom_vjp
def write(out: OutEdges, buf, n, x):
    """Store `x` `(N, V)` as the state of step `n` (both copies of the ring)."""
    return ring.write(out.length, buf, n, x)


def _write_fwd(out, buf, n, x):
    return write(out, buf, n, x), (out, n, jnp.zeros((0,), x.dtype))


def _write_bwd(res, g):
    out, n, like = res
    gx = _pull(out, g, n).astype(like.dtype)  # n >= 1: every read time is > 0
    return None, g, None, gx


write.defvjp(_write_fwd, _write_bwd)


@jax.custom_vjp
def init(out: OutEdges, past: Float[Array, "L nodes cvars"]):
    """The doubled ring from the coupled states at steps `-(L-1), ..., 0`."""
    return ring.init(past)


def _init_fwd(out, past):
    return init(out, past), (out, jnp.zeros((past.shape[0], 0), past.dtype))


def _init_bwd(res, g):
    out, like = res
    steps = jnp.arange(1 - like.shape[0], 1, dtype=jnp.int32)
    gp = jax.vmap(lambda n: _pull(out, g, n, 0))(steps)
    return None, gp.astype(like.dtype)


init.defvjp(_init_fwd, _init_bwd)


class PulledTimeRing(eqx.Module):
    """The operations on the time-major ring of the pulled adjoint: reads see the
    ring through `stop_gradient` and store their cotangents at their time (`route`);
    a write pulls its state's cotangent through the out-edges (`write`)."""

    out: OutEdges

    def init(self, past):
        return init(self.out, past)

    def write(self, buf, n, x):
        return write(self.out, buf, n, x)

    def route(self, buf, q, c):
        return route(self.out.length, buf, q, c)

    def source(self, x):
        return jax.lax.stop_gradient(x)
