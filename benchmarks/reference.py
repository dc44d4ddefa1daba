"""Hand-written, tuned plain-JAX reference kernel for the standard workloads
(WORKLOADS.md).

Delay-coupled Hopf (Stuart-Landau) network on the TVB 76-region connectome, Heun, dt =
0.1 ms, float32:

    dx_i = (a_i - x_i^2 - y_i^2) x_i - w y_i + k sum_j W_ij (x_j(t - tau_ij) - x_i(t))
    dy_i = (a_i - x_i^2 - y_i^2) y_i + w x_i + k sum_j W_ij (y_j(t - tau_ij) - y_i(t))

Delays: ``nearest`` (integer lags D_ij = round(tau_ij / dt); the Heun predictor of step
n reads step n - D_ij, the corrector reads n + 1 - D_ij, i.e. the history at the stage
time t_{n+1}) or ``linear`` (linear interpolation of the stored steps at the exact stage
times t - tau_ij). The local term ``- x_i(t)`` of the difference coupling uses each
stage's own state.

How the kernel is built (each point is an ``Options`` field, measured in README.md):

* ELL gather of non-zero in-edges only (``ell``), rows sorted by in-degree and split
  into ``groups`` blocks, each padded to its own max in-degree; the whole model runs in
  that permuted region order and the output is permuted back once.
* x and y stored interleaved (``interleave``): one gathered index serves both.
* Ring buffer of past states stored twice back to back (``ring="double"``: every delayed
  window is one contiguous slice, no modulo) or once with a modulo per element
  (``ring="modulo"``).
* The delayed coupling is a linear functional of the history, so it is reduced per
  *virtual time* q: ``C_i[q] = sum_j W_ij x_j(t_q - tau_ij)``. Heun's predictor of step
  n uses C[n], its corrector C[n+1], which is also the next predictor's input: ``carry``
  keeps it instead of gathering it twice.
* The smallest delay spans S >= 1 steps, so the delayed inputs of S consecutive steps
  are all known at the start of a block of S steps: one gather of an S-long window per
  edge serves the whole block (``block``; 0 = the largest S allowed).
* The scan body covers lcm(S, save stride) steps; the saved x is picked inside the body.

Gradients (W3): ``grad="adjoint"`` (default) is a hand-written discrete adjoint of the
whole run: a reverse scan whose delayed terms are *pulled* through out-edges from a ring
buffer of cotangents (a gather, no scatter), wrapped in ``jax.custom_vjp``.
``grad="ad"`` is plain JAX reverse-mode AD through the scan; ``grad="gather_vjp"`` is AD
with a ``custom_vjp`` on the delayed gather whose backward is a hand-written
scatter-add; ``checkpoint`` wraps each scan body in ``jax.checkpoint`` for the two AD
variants.

Run ``python benchmarks/reference.py --help``; see benchmarks/README.md.
"""

from __future__ import annotations

import argparse
import dataclasses
import math
import os
import sys
from pathlib import Path


sys.path.insert(0, str(Path(__file__).resolve().parent))
import _common as C  # noqa: E402


# jax is imported in _import_jax() after the XLA flags (devices, YNN) are set.
jax = jnp = lax = np = None


def _import_jax():
    global jax, jnp, lax, np
    import jax as _jax
    import jax.numpy as _jnp
    import numpy as _np
    from jax import lax as _lax

    jax, jnp, lax, np = _jax, _jnp, _lax, _np


# ======================================================================================
# Options and the static plan (numpy precomputation of the connectome structure)
# ======================================================================================
@dataclasses.dataclass(frozen=True)
class Options:
    interp: str = "nearest"  # "nearest" | "linear"
    ell: bool = True  # gather only non-zero in-edges (False: dense N x N gather)
    groups: int = 3  # row blocks by in-degree (ELL padding per block)
    ring: str = (
        "double"  # "double" (contiguous windows) | "modulo" (one copy, % per element)
    )
    interleave: bool = True  # x, y interleaved: one gather for both
    carry: bool = True  # reuse the corrector's delayed input as next predictor's
    block: int = 0  # steps per gather block; 0 = the largest allowed by the min delay
    noise: str = (
        "pregen"  # "pregen" (all increments up front) | "inloop" (per scan body)
    )
    unroll: int = 1  # lax.scan unroll of the body
    # "dot" (ELL einsum), "sum" (ELL mul + reduce), "scatter" (flat edges, segment sum);
    # "auto": dot for one run, scatter for a batch (the fastest measured with default
    # flags)
    reduce: str = "auto"
    # Heun arithmetic on "pair" (N, 2) | "complex" (x + iy) | "planar" (x, y)
    state: str = "pair"
    grad: str = "adjoint"  # W3: "adjoint" | "ad" | "gather_vjp"
    checkpoint: bool = False  # W3 AD variants: jax.checkpoint per scan body


@dataclasses.dataclass(frozen=True)
class Group:
    rows: tuple[int, int]  # [r0, r1) rows in permuted order
    src: object  # (n_g, K_g) int32 source region (permuted order)
    lag: object  # (n_g, K_g) int32 lag of the oldest tap, in steps
    tapw: object  # (n_g, K_g, taps) float32 weight of tap t (reads index q - lag + t)


@dataclasses.dataclass(frozen=True)
class Plan:
    n: int
    taps: int  # 1 (nearest) or 2 (linear)
    perm: object  # (N,) permuted position -> original region
    inv_perm: object  # (N,) original region -> permuted position
    rowsum: object  # (N,) float32 sum_j W_ij (permuted)
    groups: tuple[Group, ...]  # in-edges grouped by target rows
    out_groups: tuple[Group, ...]  # out-edges grouped by source rows (for the adjoint)
    lag_min: int
    lag_max: int
    s_max: int  # largest block allowed: lag_min - taps + 1
    n_edges: int  # real (non-padded) edges
    n_slots: int  # gathered edges incl. padding
    flat: Group  # all real edges, sorted by target (for reduce="scatter")
    flat_tgt: object  # (E,) int32 target of each flat edge
    wperm: object  # (N, N) float32 weights in permuted order


def _lags_taps(tau_steps, w, interp):
    """Per edge: lag of the oldest tap and the tap weights (float64)."""
    if interp == "nearest":
        lag = np.floor(tau_steps + 0.5).astype(np.int64)  # round half up
        return lag, w[..., None].copy()
    if interp == "linear":
        fl = np.floor(np.round(tau_steps, 9)).astype(np.int64)
        frac = np.clip(tau_steps - fl, 0.0, 1.0)
        frac = np.where(np.abs(frac) < 1e-9, 0.0, frac)
        # x(t_q - tau) = frac * x[q - fl - 1] + (1 - frac) * x[q - fl]
        return fl + 1, np.stack([w * frac, w * (1.0 - frac)], axis=-1)
    raise ValueError(f"interp must be 'nearest' or 'linear'; got {interp!r}")


def _partition(deg, g):
    """Split rows (in their given order) into <= g contiguous blocks minimising the
    padded size sum_b n_b * max_b(deg); rows are sorted by in-degree, so blocks are
    degree bands."""
    n = len(deg)
    g = max(1, min(g, n))
    inf = float("inf")
    cost = [[inf] * (n + 1) for _ in range(g + 1)]
    arg = [[0] * (n + 1) for _ in range(g + 1)]
    cost[0][0] = 0.0
    for b in range(1, g + 1):
        for e in range(1, n + 1):
            mx = 0
            for s in range(e - 1, b - 2, -1):
                mx = max(mx, deg[s])
                c = cost[b - 1][s] + (e - s) * mx
                if c < cost[b][e]:
                    cost[b][e], arg[b][e] = c, s
    best = min(range(1, g + 1), key=lambda b: (cost[b][n], b))
    cuts, e = [], n
    for b in range(best, 0, -1):
        s = arg[b][e]
        cuts.append((s, e))
        e = s
    return cuts[::-1]


def _ell_groups(mask, lag, tapw, other, n_groups, pad_lag):
    """Group rows (permuted order) into padded ELL blocks.

    ``mask[r, c]`` says whether row r (in permuted order) has an entry in column c;
    ``other[r, c]`` is the region (permuted order) at the other end of that entry.
    """
    deg = mask.sum(1)
    groups = []
    for r0, r1 in _partition([int(d) for d in deg], n_groups):
        kg = int(deg[r0:r1].max()) if r1 > r0 else 0
        ng = r1 - r0
        src = np.zeros((ng, kg), np.int32)
        lg = np.full((ng, kg), pad_lag, np.int32)
        tw = np.zeros((ng, kg, tapw.shape[-1]), np.float32)
        for a in range(ng):
            cols = np.nonzero(mask[r0 + a])[0]
            src[a, : len(cols)] = other[r0 + a, cols]
            src[a, len(cols) :] = r0 + a
            lg[a, : len(cols)] = lag[r0 + a, cols]
            tw[a, : len(cols)] = tapw[r0 + a, cols]
        groups.append(Group((r0, r1), src, lg, tw))
    return tuple(groups)


def build_plan(conn, opts: Options, lengths=None) -> Plan:
    """Precompute the ELL layout, lags and tap weights for ``conn`` and ``opts``."""
    w = np.asarray(conn.weights, np.float64)
    lengths = conn.lengths if lengths is None else lengths
    n = w.shape[0]
    tau_steps = np.asarray(lengths, np.float64) / conn.speed / C.DT
    lag, tapw = _lags_taps(tau_steps, w, opts.interp)
    taps = tapw.shape[-1]
    real = w != 0
    if not real.any():
        raise ValueError("the connectome has no edges")
    lag_min = int(lag[real].min())
    lag_max = int(lag[real].max())
    lag = np.where(
        real, lag, lag_min
    )  # zero-weight entries (dense variant) read anything valid
    mask = real if opts.ell else np.ones_like(real)
    s_max = lag_min - taps + 1
    if s_max < 1:
        raise ValueError(
            f"the reference kernel needs every delay >= {taps} step(s) for "
            f"{opts.interp!r} delays (min lag {lag_min})."
        )
    deg = mask.sum(1)
    perm = np.argsort(deg, kind="stable")  # permuted position -> original region
    inv = np.empty(n, np.int64)
    inv[perm] = np.arange(n)
    pm = mask[np.ix_(perm, perm)]
    plag = lag[np.ix_(perm, perm)]
    ptw = tapw[np.ix_(perm, perm)]
    cols = np.broadcast_to(np.arange(n)[None], (n, n))
    groups = _ell_groups(pm, plag, ptw, cols, opts.groups if opts.ell else 1, lag_min)
    # out-edges: row = source j, entry (i) with the same lag and taps
    out_groups = _ell_groups(
        pm.T,
        plag.T,
        ptw.transpose(1, 0, 2),
        cols,
        opts.groups if opts.ell else 1,
        lag_min,
    )
    # out-edge rows keep the in-degree order (the state's order); the partition uses
    # each
    # band's true max out-degree, so padding is just a little less tight.
    tgt, srcs = np.nonzero(pm & (w[np.ix_(perm, perm)] != 0))
    flat = Group(
        (0, n),
        srcs.astype(np.int32),
        plag[tgt, srcs].astype(np.int32),
        ptw[tgt, srcs].astype(np.float32),
    )
    return Plan(
        flat=flat,
        flat_tgt=tgt.astype(np.int32),
        wperm=w[np.ix_(perm, perm)].astype(np.float32),
        n=n,
        taps=taps,
        perm=perm,
        inv_perm=inv,
        rowsum=w.sum(1)[perm].astype(np.float32),
        groups=groups,
        out_groups=out_groups,
        lag_min=lag_min,
        lag_max=lag_max,
        s_max=s_max,
        n_edges=int(mask.sum()),
        n_slots=sum(int(np.prod(g.src.shape)) for g in groups),
    )


def _block_size(plan: Plan, opts: Options, save_stride: int, n_steps: int):
    """Steps per gather block S and steps per scan body (a multiple of S and of the
    stride)."""
    want = plan.s_max if opts.block == 0 else opts.block
    if not 1 <= want <= plan.s_max:
        raise ValueError(f"block must be in 1..{plan.s_max} here; got {opts.block}")
    for s in range(want, 0, -1):
        body = s * save_stride // math.gcd(s, save_stride)
        if n_steps % body == 0 and body <= 8 * save_stride:
            return s, body
    raise ValueError(f"no block size fits n_steps={n_steps}, save stride={save_stride}")


# ======================================================================================
# The forward kernel
# ======================================================================================
class Kernel:
    """Builds jit-able functions for one plan + options + batch shape.

    ``bs`` is the trailing batch shape (``()`` for one run, ``(B,)`` for a sweep with
    the sweep as the trailing axis of every array).
    """

    def __init__(
        self,
        plan: Plan,
        opts: Options,
        *,
        n_steps=C.N_STEPS,
        save_stride=C.SAVE_STRIDE,
        bs=(),
    ):
        self.plan, self.opts, self.bs = plan, opts, tuple(bs)
        self.n_steps, self.save_stride = n_steps, save_stride
        self.S, self.body = _block_size(plan, opts, save_stride, n_steps)
        self.n_bodies = n_steps // self.body
        self.blocks_per_body = self.body // self.S
        # ring length: holds indices n0 - lag_max .. n0, multiple of S
        # a multiple of the body length, so that block b of a body starts at slot
        # p + b S without wrapping (static offsets fuse into the gathers)
        self.H = self.body * math.ceil((plan.lag_max + 1) / self.body)
        self.wlen = self.S + plan.taps - 1 + (0 if opts.carry else 1)
        self.dt = np.float32(C.DT)
        if opts.reduce == "auto":
            self.opts = dataclasses.replace(
                opts, reduce="scatter" if self.bs else "dot"
            )

    # -- delayed coupling
    # -----------------------------------------------------------------
    def _consts(self, q_off):
        """Per group: start offsets c_e such that the window starts at slot p + c_e."""
        out = []
        for g in self.plan.groups:
            c = (q_off - g.lag.astype(np.int64) - 1 + self.H).astype(np.int32)
            out.append((g, c))
        return out

    def _gather(self, buf, src, start, wl):
        """Windows buf[src, start : start + wl] for index arrays of any leading shape L:
        returns (*L, wl, 2, *bs)."""
        nb, lead = len(self.bs), src.ndim
        pib = lax.GatherScatterMode.PROMISE_IN_BOUNDS
        src = jnp.broadcast_to(jnp.asarray(src), start.shape)
        if self.opts.ring == "double":  # one contiguous slice per edge
            if self.opts.interleave:
                # one flat row index per edge: src * 2H + start (a constant plus p)
                hl = buf.shape[1]
                flat = buf.reshape(buf.shape[0] * hl, *buf.shape[2:])
                idx = (src * hl + start)[..., None]
                dn = lax.GatherDimensionNumbers(
                    offset_dims=tuple(range(lead, lead + 2 + nb)),
                    collapsed_slice_dims=(),
                    start_index_map=(0,),
                )
                return lax.gather(flat, idx, dn, (wl, 2, *self.bs), mode=pib)
            idx = jnp.stack([src, start], -1)
            dn = lax.GatherDimensionNumbers(
                offset_dims=tuple(range(lead, lead + 1 + nb)),
                collapsed_slice_dims=(0,),
                start_index_map=(0, 1),
            )
            return jnp.stack(
                [
                    lax.gather(b_, idx, dn, (1, wl, *self.bs), mode=pib)
                    for b_ in (buf[0], buf[1])
                ],
                lead + 1,
            )
        # modulo: one copy of length H, element-wise indices
        t = lax.rem(
            start[..., None] + jnp.arange(wl, dtype=jnp.int32), jnp.int32(self.H)
        )
        idx = jnp.stack([jnp.broadcast_to(src[..., None], t.shape), t], -1)
        if self.opts.interleave:
            dn = lax.GatherDimensionNumbers(
                offset_dims=tuple(range(lead + 1, lead + 2 + nb)),
                collapsed_slice_dims=(0, 1),
                start_index_map=(0, 1),
            )
            return lax.gather(buf, idx, dn, (1, 1, 2, *self.bs), mode=pib)
        dn = lax.GatherDimensionNumbers(
            offset_dims=tuple(range(lead + 1, lead + 1 + nb)),
            collapsed_slice_dims=(0, 1),
            start_index_map=(0, 1),
        )
        return jnp.stack(
            [
                lax.gather(b_, idx, dn, (1, 1, *self.bs), mode=pib)
                for b_ in (buf[0], buf[1])
            ],
            lead + 1,
        )

    def _start(self, lag, q_off, p):
        """Slot where the window of virtual times q0 = n0 + q_off ... begins (doubled
        ring: slot of step m is (m - 1) mod H, p = n0 mod H, window starts at step q0
        - lag)."""
        return p + jnp.asarray(
            (q_off - lag.astype(np.int64) - 1 + self.H).astype(np.int32)
        )

    def delayed(self, buf, p, q_off, nq):
        """Coupling sums C[i, q] = sum_j W_ij x_j(t_q - tau_ij) for the nq virtual times
        q = n0 + q_off ... : returns (N, nq, 2, *bs)."""
        wl = nq + self.plan.taps - 1
        ex = (None,) * (1 + len(self.bs))
        if self.opts.reduce == "scatter":  # flat edges, segment sum (scatter-add)
            f = self.plan.flat
            win = self._gather(buf, f.src, self._start(f.lag, q_off, p), wl)
            v = 0.0
            for tap in range(self.plan.taps):
                v = (
                    v
                    + jnp.asarray(f.tapw[:, tap])[(..., *ex, None)]
                    * win[:, tap : tap + nq]
                )
            return jax.ops.segment_sum(
                v,
                jnp.asarray(self.plan.flat_tgt),
                num_segments=self.plan.n,
                indices_are_sorted=True,
            )
        parts = []
        for g in self.plan.groups:
            ng = g.rows[1] - g.rows[0]
            if g.src.shape[1] == 0:
                parts.append(jnp.zeros((ng, nq, 2, *self.bs), jnp.float32))
                continue
            win = self._gather(buf, g.src, self._start(g.lag, q_off, p), wl)
            if self.opts.reduce == "dot":
                # interpolate first (elementwise, fused into the gather), then one dot
                wsum = g.tapw.sum(-1)
                frac = np.divide(
                    g.tapw,
                    wsum[..., None],
                    out=np.zeros_like(g.tapw),
                    where=wsum[..., None] != 0,
                )
                v = win[:, :, 0:nq]
                if self.plan.taps > 1:
                    v = 0.0
                    for tap in range(self.plan.taps):
                        v = v + (
                            jnp.asarray(frac[:, :, tap])[(..., None, *ex)]
                            * win[:, :, tap : tap + nq]
                        )
                parts.append(jnp.einsum("ik,ik...->i...", jnp.asarray(wsum), v))
                continue
            acc = 0.0
            for tap in range(self.plan.taps):
                tw = jnp.asarray(g.tapw[:, :, tap])[(..., None, *ex)]
                acc = acc + (tw * win[:, :, tap : tap + nq]).sum(1)
            parts.append(acc)
        return jnp.concatenate(parts, 0) if len(parts) > 1 else parts[0]

    # -- ring buffer
    # ----------------------------------------------------------------------
    def init_buffer(self, z0):
        """Constant history equal to z0 (N, 2, *bs)."""
        hlen = 2 * self.H if self.opts.ring == "double" else self.H
        if self.opts.interleave:
            return jnp.broadcast_to(z0[:, None], (self.plan.n, hlen, 2, *self.bs))
        return jnp.broadcast_to(
            jnp.moveaxis(z0, 1, 0)[:, :, None], (2, self.plan.n, hlen, *self.bs)
        )

    def write(self, buf, new, p):
        """new: (N, S, 2, *bs) = steps n0+1..n0+S, written at slot p (and p + H)."""
        zero = jnp.int32(0)
        zs = (zero,) * len(self.bs)
        if self.opts.interleave:
            buf = lax.dynamic_update_slice(buf, new, (zero, p, zero, *zs))
            if self.opts.ring == "double":
                buf = lax.dynamic_update_slice(buf, new, (zero, p + self.H, zero, *zs))
        else:
            nn = jnp.moveaxis(new, 2, 0)
            buf = lax.dynamic_update_slice(buf, nn, (zero, zero, p, *zs))
            if self.opts.ring == "double":
                buf = lax.dynamic_update_slice(buf, nn, (zero, zero, p + self.H, *zs))
        return buf

    # -- local dynamics
    # -------------------------------------------------------------------
    def drift(self, z, c, k, a, omega):
        x, y = z[:, 0], z[:, 1]
        rs = jnp.asarray(self.plan.rowsum)[(..., *(None,) * len(self.bs))]
        r = a - x * x - y * y
        fx = r * x - omega * y + k * (c[:, 0] - rs * x)
        fy = r * y + omega * x + k * (c[:, 1] - rs * y)
        return jnp.stack([fx, fy], 1)

    def heun_block(self, z, cds, params, dws):
        """S Heun steps. cds: list of S + 1 coupling sums (N, 2, *bs) at virtual times
        n0..n0+S; dws: None or (S, N, 2, *bs) noise increments. Returns the S new
        states."""
        if self.opts.state == "complex":
            return self._heun_block_complex(z, cds, params, dws)
        if self.opts.state == "planar":
            return self._heun_block_planar(z, cds, params, dws)
        k, a, omega = params
        dt = self.dt
        outs = []
        for s in range(self.S):
            f0 = self.drift(z, cds[s], k, a, omega)
            zp = z + dt * f0
            if dws is not None:
                zp = zp + dws[s]
            f1 = self.drift(zp, cds[s + 1], k, a, omega)
            z = z + (0.5 * dt) * (f0 + f1)
            if dws is not None:
                z = z + dws[s]
            outs.append(z)
        return outs

    def _heun_block_planar(self, z, cds, params, dws):
        k, a, omega = params
        dt = self.dt
        rs = jnp.asarray(self.plan.rowsum)[(..., *(None,) * len(self.bs))]

        def f(x, y, c):
            r = a - x * x - y * y
            return (
                r * x - omega * y + k * (c[:, 0] - rs * x),
                r * y + omega * x + k * (c[:, 1] - rs * y),
            )

        x, y = z[:, 0], z[:, 1]
        outs = []
        for s in range(self.S):
            fx0, fy0 = f(x, y, cds[s])
            xp, yp = x + dt * fx0, y + dt * fy0
            if dws is not None:
                xp, yp = xp + dws[s][:, 0], yp + dws[s][:, 1]
            fx1, fy1 = f(xp, yp, cds[s + 1])
            x = x + (0.5 * dt) * (fx0 + fx1)
            y = y + (0.5 * dt) * (fy0 + fy1)
            if dws is not None:
                x, y = x + dws[s][:, 0], y + dws[s][:, 1]
            outs.append(jnp.stack([x, y], 1))
        return outs

    def _heun_block_complex(self, z, cds, params, dws):
        k, a, omega = params
        dt = self.dt
        rs = jnp.asarray(self.plan.rowsum)[(..., *(None,) * len(self.bs))]
        lam = lax.complex(a - k * rs, omega * jnp.ones_like(a))  # a - k rs + i w

        def cplx(v):
            return lax.complex(v[:, 0], v[:, 1])

        def f(u, c):
            m = (u * jnp.conj(u)).real
            return (lam - m) * u + k * c

        u = cplx(z)
        outs = []
        for s in range(self.S):
            f0 = f(u, cplx(cds[s]))
            up = u + dt * f0
            if dws is not None:
                up = up + cplx(dws[s])
            f1 = f(up, cplx(cds[s + 1]))
            u = u + (0.5 * dt) * (f0 + f1)
            if dws is not None:
                u = u + cplx(dws[s])
            u = lax.optimization_barrier(
                u
            )  # one fusion per step, no chain recomputation
            outs.append(jnp.stack([u.real, u.imag], 1))
        return outs

    # -- the full forward run
    # ---------------------------------------------------------------
    def params(self, k, a, omega):
        """Broadcast k (scalar or bs), a (scalar or (N,), original order), omega."""
        ex = (None,) * len(self.bs)
        k = jnp.asarray(k, jnp.float32)
        a = jnp.asarray(a, jnp.float32)
        if a.ndim == 1:
            a = a[jnp.asarray(self.plan.perm)][(..., *ex)]
        return k, a, jnp.asarray(omega, jnp.float32)

    def noise_increments(self, key, sigma):
        """All increments sigma * sqrt(dt) * N(0, 1): (n_bodies, body, N, 2, *bs)."""
        shape = (self.n_bodies, self.body, self.plan.n, 2, *self.bs)
        return (sigma * math.sqrt(C.DT)) * jax.random.normal(key, shape, jnp.float32)

    def _body_noise(self, key, sigma, i):
        shape = (self.body, self.plan.n, 2, *self.bs)
        kk = jax.random.fold_in(key, i)
        return (sigma * math.sqrt(C.DT)) * jax.random.normal(kk, shape, jnp.float32)

    def body_fn(self, params, sigma=None, key=None, gather_fn=None, record=False):
        """The scan body: lcm(S, stride) steps. carry = (z, buf, p, cprev)."""
        S, H = self.S, self.H
        carry_opt = self.opts.carry
        delayed = gather_fn or self.delayed

        def body(carry, xs):
            z, buf, p, cprev = carry
            if sigma is None:
                dw_all = None
            elif self.opts.noise == "pregen":
                dw_all = xs
            else:
                dw_all = self._body_noise(key, sigma, xs)
            saved, rec = [], []
            p_body = p
            for b in range(self.blocks_per_body):
                p = p_body + b * S
                if carry_opt:
                    cnew = delayed(buf, p, 1, S)
                    cds = [cprev] + [cnew[:, t] for t in range(S)]
                else:
                    cnew = delayed(buf, p, 0, S + 1)
                    cds = [cnew[:, t] for t in range(S + 1)]
                dws = None if dw_all is None else dw_all[b * S : (b + 1) * S]
                if record:
                    rec.append((z, jnp.stack(cds, 0)))
                outs = self.heun_block(z, cds, params, dws)
                z = outs[-1]
                cprev = cds[-1]
                buf = self.write(buf, jnp.stack(outs, 1), p)
                for s in range(S):
                    if (b * S + s + 1) % self.save_stride == 0:
                        saved.append(outs[s][:, 0])
            p = p_body + self.body
            p = jnp.where(p >= H, p - H, p)
            ys = jnp.stack(saved, 0)
            if record:
                zs = jnp.stack([r[0] for r in rec], 0)  # (blocks, N, 2)
                cs = jnp.stack([r[1] for r in rec], 0)  # (blocks, S+1, N, 2)
                ys = (ys, zs, cs)
            return (z, buf, p, cprev), ys

        return body

    def init_carry(self, z0):
        buf = self.init_buffer(z0)
        p = jnp.int32(0)
        # constant history z0: C[0] = sum_j W_ij z0_j (exact; a matvec instead of a
        # gather,
        # which XLA would spend seconds constant-folding)
        cprev = jnp.einsum("ij,j...->i...", jnp.asarray(self.plan.wperm), z0)
        if not self.opts.carry:
            cprev = jnp.zeros_like(z0)
        return (z0, buf, p, cprev)

    def run(
        self,
        k,
        a=C.A,
        omega=C.OMEGA,
        *,
        sigma=None,
        key=None,
        noise=None,
        record=False,
        checkpoint=False,
        gather_fn=None,
    ):
        """Simulate; returns saved x (n_saved, N, *bs) in original region order (and,
        with record=True, the block-start states and coupling sums, permuted)."""
        params = self.params(k, a, omega)
        z0 = jnp.full((self.plan.n, 2, *self.bs), C.X0, jnp.float32)
        body = self.body_fn(
            params, sigma=sigma, key=key, gather_fn=gather_fn, record=record
        )
        if checkpoint:
            body = jax.checkpoint(body)
        if sigma is None:
            xs = None
        elif self.opts.noise == "pregen":
            xs = self.noise_increments(key, sigma) if noise is None else noise
        else:
            xs = jnp.arange(self.n_bodies, dtype=jnp.uint32)
        carry = self.init_carry(z0)
        _, ys = lax.scan(body, carry, xs, length=self.n_bodies, unroll=self.opts.unroll)
        if record:
            ys, zs, cs = ys
        ys = ys.reshape(-1, *ys.shape[2:])[:, jnp.asarray(self.plan.inv_perm)]
        if record:
            return ys, zs.reshape(-1, *zs.shape[2:]), cs.reshape(-1, *cs.shape[2:])
        return ys


# ======================================================================================
# FC and the workloads
# ======================================================================================
def fc(xs):
    """Pearson FC over time (axis 0) of xs (T, N) -> (N, N)."""
    xc = xs - xs.mean(0)
    cov = xc.T @ xc
    d = jnp.sqrt(jnp.diagonal(cov))
    return cov / (d[:, None] * d[None, :])


def mean_fc_trailing(xs):
    """Mean upper-triangle FC per sweep point of xs (T, N, B) -> (B,).

    Moves the sweep axis first so the covariance is a plain batched matmul (3.5x
    faster here than contracting with the sweep as a trailing batch axis)."""
    x = jnp.moveaxis(xs, 2, 0)  # (B, T, N)
    xc = x - x.mean(1, keepdims=True)
    cov = jnp.einsum("bti,btj->bij", xc, xc)
    d = jnp.sqrt(jnp.diagonal(cov, axis1=1, axis2=2))
    c = cov / (d[:, :, None] * d[:, None, :])
    iu = np.triu_indices(xs.shape[1], 1)
    return c[:, iu[0], iu[1]].mean(1)


def upper(m):
    iu = np.triu_indices(m.shape[0], 1)
    return m[iu]


def make_w1(kern: Kernel, noisy: bool):
    if noisy:
        key = jax.random.key(C.NOISE_SEED)

        @jax.jit
        def w1n(k):
            return kern.run(k, sigma=C.SIGMA, key=key)

        return w1n

    @jax.jit
    def w1(k):
        return kern.run(k)

    return w1


def make_w2(conn, opts: Options, batch: int, devices: int, mode: str, chunk: int = 64):
    """Sweep of k: returns f(ks) -> mean upper-triangle FC per k, shape (batch,).

    ``mode="trailing"``: the sweep is the trailing axis of every array of the kernel;
    ``mode="vmap"``: ``jax.vmap`` of the single-run kernel (sweep as a leading axis).
    Each device runs its share of the sweep in sequential chunks of ``chunk`` points
    (``lax.map``), which keeps the ring buffer and gathered windows cache-sized;
    ``chunk=0`` runs a device's whole share at once. ``devices > 1`` splits the sweep
    over host devices with ``shard_map``.
    """
    plan = build_plan(conn, opts)
    win = C.fc_window()
    local = batch // devices
    chunk = local if chunk <= 0 else min(chunk, local)
    if local % chunk:
        raise ValueError(
            f"sweep share per device ({local}) must be a multiple of chunk {chunk}"
        )
    if mode == "trailing":
        kern = Kernel(plan, opts, bs=(chunk,))

        def run_chunk(ks):
            return mean_fc_trailing(kern.run(ks)[win])  # xs: (T, N, B)
    elif mode == "vmap":
        kern = Kernel(plan, opts)

        def run_chunk(ks):
            def single(k):
                return upper(fc(kern.run(k)[win])).mean()

            return jax.vmap(single)(ks)
    else:
        raise ValueError(mode)

    def one(ks):
        if chunk == ks.shape[0]:
            return run_chunk(ks)
        return lax.map(run_chunk, ks.reshape(-1, chunk)).reshape(-1)

    if devices == 1:
        return jax.jit(one)
    from jax.sharding import Mesh, PartitionSpec as P

    mesh = Mesh(np.array(jax.devices()[:devices]), ("d",))
    return jax.jit(
        jax.shard_map(
            one, mesh=mesh, in_specs=P("d"), out_specs=P("d"), check_vma=False
        )
    )


# ======================================================================================
# Gradients (W3)
# ======================================================================================
def _gather_vjp_fn(kern: Kernel):
    """Delayed coupling with a custom VJP (backward: a hand-written scatter-add)."""
    opts = kern.opts
    if opts.ring != "double" or not opts.interleave:
        raise ValueError(
            "grad='gather_vjp' is written for ring='double', interleave=True"
        )

    def make(q_off, nq):
        wl = nq + kern.plan.taps - 1

        @jax.custom_vjp
        def f(buf, p):
            return kern.delayed(buf, p, q_off, nq)

        def fwd(buf, p):
            return f(buf, p), p

        def bwd(p, ct):
            ctb = jnp.zeros((kern.plan.n, 2 * kern.H, 2), jnp.float32)
            for g, c in kern._consts(q_off):
                if g.src.shape[1] == 0:
                    continue
                r0, r1 = g.rows
                ctg = ct[r0:r1]  # (n_g, nq, 2)
                # d win[i, k, t + tap] += tapw[i, k, tap] * ct[i, t]
                dwin = jnp.zeros((r1 - r0, g.src.shape[1], wl, 2), jnp.float32)
                for tap in range(kern.plan.taps):
                    tw = jnp.asarray(g.tapw[:, :, tap])[:, :, None, None]
                    dwin = dwin.at[:, :, tap : tap + nq].add(tw * ctg[:, None])
                rows = jnp.broadcast_to(jnp.asarray(g.src)[..., None], dwin.shape[:3])
                cols = (p + jnp.asarray(c))[..., None] + jnp.arange(wl, dtype=jnp.int32)
                ctb = ctb.at[rows, cols].add(dwin, mode="promise_in_bounds")
            return ctb, None

        f.defvjp(fwd, bwd)
        return f

    cache = {}

    def delayed(buf, p, q_off, nq):
        if (q_off, nq) not in cache:
            cache[(q_off, nq)] = make(q_off, nq)
        return cache[(q_off, nq)](buf, p)

    return delayed


def make_adjoint_sim(kern: Kernel):
    """sim(k, a) -> saved x (T, N) with a hand-written discrete adjoint (custom_vjp).

    Forward: the tuned kernel, also recording each block's start state and its S + 1
    coupling sums. Backward: a reverse scan over blocks; each block's local Heun steps
    are differentiated with jax.vjp (elementwise, cheap); the cotangent of the coupling
    sum C_i[q] is written into a (doubled) ring buffer indexed by virtual time q, and
    the cotangent of state x_j[m] *pulls* sum_e tapw_e * G_{i_e}[m + lag_e - tap]
    through the out-edges of j, a gather with the same shape as the forward one (no
    scatter).
    """
    plan, S = kern.plan, kern.S
    if kern.bs:
        raise ValueError("the adjoint is written for a single run (bs=())")
    if not kern.opts.carry:
        raise ValueError("grad='adjoint' assumes carry=True")
    taps = plan.taps
    nb = kern.blocks_per_body
    n_blocks = kern.n_bodies * nb
    HG = S * math.ceil((plan.lag_max + S) / S)  # cotangent ring length
    perm = jnp.asarray(plan.perm)
    inv = jnp.asarray(plan.inv_perm)
    save_pos = [
        (b, s)
        for b in range(nb)
        for s in range(S)
        if (b * S + s + 1) % kern.save_stride == 0
    ]

    def pull(gbuf, p):
        """ct of x_j[m], m = n0+1..n0+S: (N, S, 2). G slot of q: (q - 1) mod HG with p =
        n0 mod HG, so G[m + lag - tap] sits at slot p + (m - n0) - 1 + lag - tap."""
        parts = []
        for g in plan.out_groups:
            ng = g.rows[1] - g.rows[0]
            kg = g.src.shape[1]
            if kg == 0:
                parts.append(jnp.zeros((ng, S, 2), jnp.float32))
                continue
            # window over q from n0 + 1 + lag - (taps - 1) to n0 + S + lag (length
            # S+taps-1)
            c = (g.lag.astype(np.int64) - (taps - 1)).astype(
                np.int32
            )  # slot offset of q start
            start = p + jnp.asarray(c)
            idx = jnp.stack(
                [jnp.broadcast_to(jnp.asarray(g.src), start.shape), start], -1
            )
            dn = lax.GatherDimensionNumbers(
                offset_dims=(2, 3), collapsed_slice_dims=(0,), start_index_map=(0, 1)
            )
            win = lax.gather(
                gbuf,
                idx,
                dn,
                (1, S + taps - 1, 2),
                mode=lax.GatherScatterMode.PROMISE_IN_BOUNDS,
            )
            acc = 0.0
            for tap in range(taps):
                # x_j[m] (t = m - n0 - 1) is read by tap `tap` at q = m + lag - tap,
                # window position (m - n0 - 1) + (taps - 1 - tap)
                off = taps - 1 - tap
                acc = acc + jnp.einsum(
                    "ik,ik...->i...",
                    jnp.asarray(g.tapw[:, :, tap]),
                    win[:, :, off : off + S],
                )
            parts.append(acc)
        return jnp.concatenate(parts, 0) if len(parts) > 1 else parts[0]

    def block_local(z, cs, kf, af, omega):
        # k and a enter as per-element fields (N, 2) so that their cotangents stay
        # elementwise inside the loop (one reduction at the end, not one per step)
        outs = kern.heun_block(
            z, [cs[t] for t in range(S + 1)], (kf[:, 0], af[:, 0], omega), None
        )
        return jnp.stack(outs, 0)  # (S, N, 2)

    @jax.custom_vjp
    def sim(k, a):
        return kern.run(k, a)

    def fwd(k, a):
        ys, zs, cs = kern.run(k, a, record=True)
        return ys, (k, a, zs, cs)

    def bwd(res, ct_ys):
        k, a, zs, cs = res
        kk, ap, om = kern.params(k, a, C.OMEGA)
        ct_ys = ct_ys[:, perm]  # (T, N) permuted
        ct_ys = ct_ys.reshape(kern.n_bodies, -1, plan.n)
        zs_b = zs.reshape(kern.n_bodies, nb, plan.n, 2)
        cs_b = cs.reshape(kern.n_bodies, nb, S + 1, plan.n, 2)
        gbuf0 = jnp.zeros((plan.n, 2 * HG, 2), jnp.float32)
        # G slot of virtual time q is (q - 1) mod HG (doubled). Block b's outputs are
        # m = n0 + 1 .. n0 + S with n0 = b S; p = n0 mod HG.
        ct_z0 = jnp.zeros((plan.n, 2), jnp.float32)
        ct_c0 = jnp.zeros(
            (plan.n, 2), jnp.float32
        )  # partial ct of C[n0 + S] (next block's carry-in)
        kf = jnp.broadcast_to(kk, (plan.n, 2))
        af = jnp.broadcast_to(jnp.reshape(ap, (-1, 1)), (plan.n, 2))
        zero_k = jnp.zeros((plan.n, 2), jnp.float32)
        zero_a = jnp.zeros((plan.n, 2), jnp.float32)
        p_last = jnp.int32(((n_blocks - 1) * S) % HG)

        def body(carry, xs):
            ct_z, ct_cin, gbuf, p, gk, ga = carry
            cty, zb, cb = xs
            for b in range(nb - 1, -1, -1):
                z_in, c_in = zb[b], cb[b]
                # ct of outputs x[n0+1..n0+S]
                ct_out = jnp.zeros((S, plan.n, 2), jnp.float32)
                ct_out = ct_out.at[S - 1].add(ct_z)
                for si, (bb, s) in enumerate(save_pos):
                    if bb == b:
                        ct_out = ct_out.at[s, :, 0].add(cty[si])
                ct_out = ct_out + jnp.moveaxis(pull(gbuf, p), 1, 0)
                _, vjp = jax.vjp(
                    lambda z, c, k_, a_: block_local(z, c, k_, a_, om),
                    z_in,
                    c_in,
                    kf,
                    af,
                )
                ct_z, ct_c, dk, da = vjp(ct_out)
                ct_c = ct_c.at[S].add(ct_cin)
                gk, ga = gk + dk, ga + da
                # G[n0+1..n0+S] = ct_c[1..S] are final: write to slots p .. p+S-1 (+HG)
                new = jnp.moveaxis(ct_c[1:], 0, 1)  # (N, S, 2)
                zero = jnp.int32(0)
                gbuf = lax.dynamic_update_slice(gbuf, new, (zero, p, zero))
                gbuf = lax.dynamic_update_slice(gbuf, new, (zero, p + HG, zero))
                ct_cin = ct_c[0]
                p = jnp.where(p - S < 0, p - S + HG, p - S)
            return (ct_z, ct_cin, gbuf, p, gk, ga), None

        carry = (ct_z0, ct_c0, gbuf0, p_last, zero_k, zero_a)
        (ct_z, ct_cin, gbuf, p, gk, ga), _ = lax.scan(
            body, carry, (ct_ys, zs_b, cs_b), reverse=True
        )
        gk = gk.sum()
        ga = ga.sum(1)
        # a was permuted inside params(): map back to original order
        if jnp.ndim(a) == 1:
            ga = ga[inv]
        else:
            ga = ga.sum()
        return gk.astype(jnp.asarray(k).dtype), ga.astype(jnp.asarray(a).dtype)

    sim.defvjp(fwd, bwd)
    return sim


def make_w3(conn, opts: Options):
    """Returns (value_and_grad fn of (k, a), k0, a0)."""
    plan = build_plan(conn, opts)
    kern = Kernel(plan, opts)
    win = C.fc_window()
    target = jax.jit(lambda: upper(fc(kern.run(jnp.float32(C.K_TARGET))[win])))()
    if opts.grad == "adjoint":
        sim = make_adjoint_sim(kern)
    elif opts.grad == "ad":

        def sim(k, a):
            return kern.run(k, a, checkpoint=opts.checkpoint)
    elif opts.grad == "gather_vjp":
        gf = _gather_vjp_fn(kern)

        def sim(k, a):
            return kern.run(k, a, checkpoint=opts.checkpoint, gather_fn=gf)
    else:
        raise ValueError(f"unknown grad {opts.grad!r}")

    def loss(k, a):
        f = upper(fc(sim(k, a)[win]))
        return jnp.mean((f - target) ** 2)

    vg = jax.jit(jax.value_and_grad(loss, argnums=(0, 1)))
    return vg, jnp.float32(C.K), jnp.full((plan.n,), C.A, jnp.float32)


# ======================================================================================
# Correctness self-check
# ======================================================================================
def numpy_reference(
    w, lengths, speed, n_steps, k=C.K, a=C.A, omega=C.OMEGA, interp="nearest", dw=None
):
    """A plain, slow float64 numpy loop over steps (nearest or linear); returns x (n+1,
    N). ``dw``: optional additive noise increments (n_steps, N, 2), the same in both
    stages."""
    n = w.shape[0]
    tau = lengths / speed / C.DT
    hist_len = int(np.ceil(tau.max())) + 3
    xs = np.full((hist_len + n_steps + 1, n), C.X0)  # index hist_len <-> step 0
    ys = np.full_like(xs, C.X0)
    rs = w.sum(1)
    jj = np.broadcast_to(np.arange(n)[None], (n, n))

    def delayed(arr, q):  # value at virtual time q of x_j(t_q - tau_ij) -> (N, N)
        if interp == "nearest":
            idx = q - np.floor(tau + 0.5).astype(int) + hist_len
            return arr[idx, jj]
        pos = q - tau + hist_len
        lo = np.floor(np.round(pos, 9)).astype(int)
        fr = pos - lo
        return (1 - fr) * arr[lo, jj] + fr * arr[np.minimum(lo + 1, len(arr) - 1), jj]

    def f(x, y, cx, cy):
        r = a - x * x - y * y
        return (
            r * x - omega * y + k * ((w * cx).sum(1) - rs * x),
            r * y + omega * x + k * ((w * cy).sum(1) - rs * y),
        )

    dt = C.DT
    for step in range(n_steps):
        i = hist_len + step
        x, y = xs[i], ys[i]
        nx, ny = (0.0, 0.0) if dw is None else (dw[step, :, 0], dw[step, :, 1])
        fx0, fy0 = f(x, y, delayed(xs, step), delayed(ys, step))
        xp, yp = x + dt * fx0 + nx, y + dt * fy0 + ny
        fx1, fy1 = f(xp, yp, delayed(xs, step + 1), delayed(ys, step + 1))
        xs[i + 1] = x + 0.5 * dt * (fx0 + fx1) + nx
        ys[i + 1] = y + 0.5 * dt * (fy0 + fy1) + ny
    return xs[hist_len:]


def self_check(conn, opts: Options) -> bool:
    """Correctness checks (see README): kernel vs a plain numpy loop, linear vs nearest
    on integer delays, the sweep layout vs single runs, and the three gradient paths."""
    n_steps = 400
    ok = True

    def verdict(good):
        nonlocal ok
        ok &= bool(good)
        return "ok" if good else "FAIL"

    refs = {}
    for interp in ("nearest", "linear"):
        ref = numpy_reference(
            conn.weights, conn.lengths, conn.speed, n_steps, interp=interp
        )
        refs[interp] = ref = ref[1:][C.SAVE_STRIDE - 1 :: C.SAVE_STRIDE]
        for variant in _check_variants(opts, interp):
            kern = Kernel(build_plan(conn, variant), variant, n_steps=n_steps)
            got = np.asarray(jax.jit(kern.run)(jnp.float32(C.K)))
            err = float(np.abs(got - ref).max())
            print(
                f"check {interp:7s} vs numpy loop ({n_steps} steps) "
                f"{_describe(variant)}: max |diff| = {err:.2e} {verdict(err < 2e-5)}"
            )
    d = float(np.abs(refs["linear"] - refs["nearest"]).max())
    print(
        f"      (numpy nearest and linear differ by {d:.1e}: "
        "the checks above resolve it)"
    )
    # additive noise: the same increment in predictor and corrector
    rng = np.random.default_rng(1)
    dw = (C.SIGMA * math.sqrt(C.DT) * rng.standard_normal((n_steps, conn.n, 2))).astype(
        np.float32
    )
    kern = Kernel(build_plan(conn, opts), opts, n_steps=n_steps)
    dwp = jnp.asarray(
        dw[:, kern.plan.perm].reshape(kern.n_bodies, kern.body, conn.n, 2)
    )
    got = np.asarray(
        jax.jit(lambda k: kern.run(k, sigma=C.SIGMA, noise=dwp))(jnp.float32(C.K))
    )
    ref = numpy_reference(conn.weights, conn.lengths, conn.speed, n_steps, dw=dw)[1:][
        9::10
    ]
    err = float(np.abs(got - ref).max())
    print(
        f"check W1n noise path (given increments) vs numpy loop: "
        f"max |diff| = {err:.2e} {verdict(err < 2e-5)}"
    )
    # the sweep layout (trailing batch axis) reproduces single runs
    ks = np.array([0.5, 0.2, 0.8], np.float32)
    kern = Kernel(build_plan(conn, opts), opts, n_steps=n_steps, bs=(len(ks),))
    got = np.asarray(jax.jit(kern.run)(jnp.asarray(ks)))
    err = max(
        float(
            np.abs(
                got[..., i]
                - numpy_reference(
                    conn.weights, conn.lengths, conn.speed, n_steps, k=float(k)
                )[1:][9::10]
            ).max()
        )
        for i, k in enumerate(ks)
    )
    print(
        f"check sweep layout (trailing axis, k = {ks.tolist()}) vs numpy loop: "
        f"max |diff| = {err:.2e} {verdict(err < 2e-5)}"
    )
    # linear == nearest when every delay is an integer multiple of dt
    lag = np.floor(conn.lengths / conn.speed / C.DT + 0.5)
    li = dataclasses.replace(conn, lengths=lag * C.DT * conn.speed)
    outs = {}
    for interp in ("nearest", "linear"):
        v = dataclasses.replace(opts, interp=interp, block=0)
        kern = Kernel(build_plan(li, v), v, n_steps=2000)
        outs[interp] = np.asarray(jax.jit(kern.run)(jnp.float32(C.K)))
    err = float(np.abs(outs["linear"] - outs["nearest"]).max())
    print(
        f"check linear vs nearest, integer delays (2000 steps): max |diff| = {err:.2e} "
        f"{verdict(err < 1e-5)}"
    )
    # the gradient variants agree with each other and with a central difference
    vals = {}
    for g in ("adjoint", "ad", "gather_vjp"):
        v = dataclasses.replace(opts, interp="nearest", grad=g)
        vg, k0, a0 = make_w3(conn, v)
        (val, (gk, ga)) = vg(k0, a0)
        vals[g] = (float(val), float(gk), np.asarray(ga), vg)
    ref = vals["ad"]
    for g, (val, gk, ga, _) in vals.items():
        e = max(
            abs(gk - ref[1]) / (abs(ref[1]) + 1e-12),
            float(np.abs(ga - ref[2]).max() / (np.abs(ref[2]).max() + 1e-12)),
        )
        print(
            f"check W3 grad {g:10s}: loss {val:.6e} dL/dk {gk:+.6e} |dL/da| "
            f"{np.linalg.norm(ga):.4e}, rel diff to plain AD {e:.1e} "
            f"{verdict(e < 2e-3)}"
        )
    vg = ref[3]
    k0, a0 = jnp.float32(C.K), jnp.full((conn.n,), C.A, jnp.float32)
    h = 1e-3
    fd = (float(vg(k0 + h, a0)[0]) - float(vg(k0 - h, a0)[0])) / (2 * h)
    e = abs(fd - ref[1]) / abs(ref[1])
    print(
        f"check W3 dL/dk vs central difference (float32, h={h}): {fd:+.4e} vs "
        f"{ref[1]:+.4e}, rel {e:.1e} {verdict(e < 5e-2)}"
    )
    i = 7
    da = (float(vg(k0, a0.at[i].add(h))[0]) - float(vg(k0, a0.at[i].add(-h))[0])) / (
        2 * h
    )
    e = abs(da - ref[2][i]) / (abs(ref[2][i]) + 1e-12)
    print(
        f"check W3 dL/da_{i} vs central difference: {da:+.4e} vs {ref[2][i]:+.4e}, "
        f"rel {e:.1e} {verdict(e < 5e-2)}"
    )
    print("self-check", "PASSED" if ok else "FAILED")
    return ok


def _check_variants(opts, interp):
    base = dataclasses.replace(opts, interp=interp)
    changes = [{}, {"ring": "modulo"}, {"reduce": "scatter"}, {"reduce": "sum"}]
    if interp == "nearest":
        changes += [
            {"interleave": False},
            {"carry": False, "block": 1},
            {"ell": False},
            {"state": "planar"},
            {"state": "complex"},
        ]
    return [dataclasses.replace(base, **c) for c in changes]


def _describe(o: Options) -> str:
    d = Options()
    diff = [
        f"{f.name}={getattr(o, f.name)}"
        for f in dataclasses.fields(o)
        if getattr(o, f.name) != getattr(d, f.name) and f.name != "interp"
    ]
    return "[" + (", ".join(diff) or "default") + "]"


# ======================================================================================
# CLI
# ======================================================================================
def _parse(argv=None):
    p = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0],
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("--workload", choices=["W1", "W1n", "W2", "W3"], default="W1")
    p.add_argument("--interp", choices=["nearest", "linear"], default="nearest")
    p.add_argument(
        "--devices",
        type=int,
        default=1,
        help="host CPU devices (W2 splits the sweep over them); sets "
        "--xla_force_host_platform_device_count before jax is imported",
    )
    p.add_argument(
        "--check", action="store_true", help="run the correctness self-check"
    )
    p.add_argument(
        "--ablate",
        action="store_true",
        help="time the default against each tuning option in one process "
        "(interleaved rounds; one JSON line per variant)",
    )
    p.add_argument(
        "--rounds", type=int, default=5, help="--ablate: timed rounds per variant"
    )
    p.add_argument("--repeats", type=int, default=5)
    p.add_argument(
        "--no-ynn",
        action="store_true",
        help=f"add XLA_FLAGS={C.NO_YNN_FLAG} (same as NEUROMASS_BENCH_NO_YNN=1)",
    )
    p.add_argument(
        "--connectome", default=None, help="TVB-format zip (default: tvb-data)"
    )
    g = p.add_argument_group("tuning options (defaults are the fastest measured)")
    d = Options()
    g.add_argument("--dense", action="store_true", help="gather the dense N x N matrix")
    g.add_argument("--groups", type=int, default=d.groups)
    g.add_argument("--ring", choices=["double", "modulo"], default=d.ring)
    g.add_argument("--no-interleave", action="store_true")
    g.add_argument("--no-carry", action="store_true")
    g.add_argument("--block", type=int, default=d.block)
    g.add_argument("--noise", choices=["pregen", "inloop"], default=d.noise)
    g.add_argument("--unroll", type=int, default=d.unroll)
    g.add_argument(
        "--reduce", choices=["auto", "dot", "sum", "scatter"], default=d.reduce
    )
    g.add_argument("--state", choices=["pair", "planar", "complex"], default=d.state)
    g.add_argument("--grad", choices=["adjoint", "ad", "gather_vjp"], default=d.grad)
    g.add_argument("--checkpoint", action="store_true")
    g.add_argument(
        "--sweep",
        choices=["trailing", "vmap"],
        default="trailing",
        help="W2 batching: sweep as trailing axis of every array, or jax.vmap",
    )
    g.add_argument("--batch", type=int, default=len(C.K_SWEEP), help="W2 sweep points")
    g.add_argument(
        "--chunk",
        type=int,
        default=64,
        help="W2 sweep points per sequential chunk on each device (0: all at once)",
    )
    return p.parse_args(argv)


def _options(args) -> Options:
    return Options(
        interp=args.interp,
        ell=not args.dense,
        groups=args.groups,
        ring=args.ring,
        interleave=not args.no_interleave,
        carry=not args.no_carry,
        block=args.block,
        noise=args.noise,
        unroll=args.unroll,
        grad=args.grad,
        reduce=args.reduce,
        state=args.state,
        checkpoint=args.checkpoint,
    )


# variants timed by --ablate: (label, Options changes, extra W2 settings)
_ABLATE = {
    "W1": [
        ("default", {}),
        ("dense gather (no ELL)", {"ell": False}),
        ("ELL, 1 row block", {"groups": 1}),
        ("ELL, 5 row blocks", {"groups": 5}),
        ("ring with modulo", {"ring": "modulo"}),
        ("x, y not interleaved", {"interleave": False}),
        ("no carry of corrector read", {"carry": False}),
        ("no blocking (block=1)", {"block": 1}),
        ("block=1, no carry", {"block": 1, "carry": False}),
        ("reduce=sum", {"reduce": "sum"}),
        ("reduce=scatter", {"reduce": "scatter"}),
        ("state=planar", {"state": "planar"}),
        ("scan unroll=2", {"unroll": 2}),
    ],
    "W1n": [
        ("default", {}),
        ("noise in loop", {"noise": "inloop"}),
    ],
    "W2": [
        ("default", {}),
        ("reduce=dot", {"reduce": "dot"}),
        ("reduce=sum", {"reduce": "sum"}),
        ("block=1", {"block": 1}),
        ("ring with modulo", {"ring": "modulo"}),
        ("chunk=0 (whole share at once)", {"chunk": 0}),
        ("chunk=16", {"chunk": 16}),
        ("chunk=32", {"chunk": 32}),
        ("jax.vmap (sweep as leading axis)", {"sweep": "vmap"}),
    ],
    "W3": [
        ("default", {}),
        ("plain AD", {"grad": "ad"}),
        ("AD + custom_vjp gather", {"grad": "gather_vjp"}),
        ("plain AD + checkpoint", {"grad": "ad", "checkpoint": True}),
        ("custom_vjp gather + checkpoint", {"grad": "gather_vjp", "checkpoint": True}),
    ],
}


def ablate(conn, opts: Options, args):
    """Compile every variant, then time them in interleaved rounds (fair under load)."""
    import statistics
    import time

    runs = []
    for label, change in _ABLATE[args.workload]:
        change = dict(change)
        sweep = change.pop("sweep", args.sweep)
        chunk = change.pop("chunk", args.chunk)
        o = dataclasses.replace(opts, **change)
        if args.workload in ("W1", "W1n"):
            f = make_w1(Kernel(build_plan(conn, o), o), args.workload == "W1n")
            call = lambda f=f: f(jnp.float32(C.K))
        elif args.workload == "W2":
            f = make_w2(conn, o, args.batch, args.devices, sweep, chunk)
            ks = jnp.asarray(np.linspace(0.0, 1.5, args.batch), jnp.float32)
            call = lambda f=f, ks=ks: f(ks)
        else:
            f, k0, a0 = make_w3(conn, o)
            call = lambda f=f, k0=k0, a0=a0: f(k0, a0)
        t0 = time.perf_counter()
        jax.block_until_ready(call())
        runs.append([label, o, call, time.perf_counter() - t0, [], sweep, chunk])
    for _ in range(args.rounds):
        for r in runs:
            t0 = time.perf_counter()
            jax.block_until_ready(r[2]())
            r[4].append(time.perf_counter() - t0)
    base = statistics.median(runs[0][4])
    steps = C.N_STEPS * (args.batch if args.workload == "W2" else 1)
    for label, o, _, comp, ts, sweep, chunk in runs:
        med = statistics.median(ts)
        t = C.Timing(comp, med, tuple(ts), None)
        extra = {"sweep": sweep, "chunk": chunk} if args.workload == "W2" else {}
        C.report(
            system="reference",
            workload=args.workload,
            interp=o.interp,
            timing=t,
            steps=C.N_STEPS,
            batch=args.batch if args.workload == "W2" else 1,
            devices=args.devices,
            n=conn.n,
            ablation=label,
            variant=_describe(o),
            ratio_to_default=med / base,
            min_s=min(ts),
            min_ratio_to_default=min(ts) / min(runs[0][4]),
            **extra,
        )
    del steps


def main(argv=None):
    args = _parse(argv)
    if args.no_ynn:
        os.environ["NEUROMASS_BENCH_NO_YNN"] = "1"
    C.apply_env_xla_options()
    if args.devices > 1:
        C.set_host_devices(args.devices)
    _import_jax()
    conn = C.load_connectome(args.connectome)
    opts = _options(args)
    if args.check:
        sys.exit(0 if self_check(conn, opts) else 1)
    if args.ablate:
        ablate(conn, opts, args)
        return
    plan = build_plan(conn, opts)
    common = dict(
        system="reference",
        interp=args.interp,
        n=plan.n,
        connectome=conn.source,
        variant=_describe(opts),
    )
    if args.workload in ("W1", "W1n"):
        kern = Kernel(plan, opts)
        f = make_w1(kern, args.workload == "W1n")
        t = C.timeit(f, jnp.float32(C.K), repeats=args.repeats)
        xs = np.asarray(t.result)
        C.report(
            workload=args.workload,
            timing=t,
            steps=C.N_STEPS,
            devices=1,
            block=kern.S,
            edges=plan.n_edges,
            gathered_slots=plan.n_slots,
            finite=bool(np.isfinite(xs).all()),
            x_shape=list(xs.shape),
            **common,
        )
    elif args.workload == "W2":
        if args.batch % args.devices:
            raise SystemExit("--batch must be a multiple of --devices")
        f = make_w2(conn, opts, args.batch, args.devices, args.sweep, args.chunk)
        ks = jnp.asarray(np.linspace(0.0, 1.5, args.batch), jnp.float32)
        t = C.timeit(f, ks, repeats=max(3, min(args.repeats, 3)))
        r = np.asarray(t.result)
        fin = np.isfinite(r)
        C.report(
            workload="W2",
            timing=t,
            steps=C.N_STEPS,
            batch=args.batch,
            devices=args.devices,
            sweep=args.sweep,
            chunk=args.chunk,
            n_finite=int(fin.sum()),
            points_per_s=args.batch / t.steady_s,
            mean_fc_k0=float(r[0]),
            k_first_nonfinite=float(np.asarray(ks)[~fin][0]) if (~fin).any() else None,
            **common,
        )
    else:
        vg, k0, a0 = make_w3(conn, opts)
        t = C.timeit(vg, k0, a0, repeats=args.repeats)
        val, (gk, ga) = t.result
        C.report(
            workload="W3",
            timing=t,
            steps=C.N_STEPS,
            devices=1,
            s_per_value_and_grad=t.steady_s,
            loss=float(val),
            dloss_dk=float(gk),
            dloss_da_norm=float(jnp.linalg.norm(ga)),
            grad=opts.grad,
            checkpoint=opts.checkpoint,
            **common,
        )


if __name__ == "__main__":
    main()
