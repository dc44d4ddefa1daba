"""The blocked loop of a batch: under `vmap`, the points of a sweep (or an
ensemble) run through one blocked loop whose delay ring keeps the sweep as its
trailing axis (`_delay/_blocked.py`)."""

import dataclasses

import diffrax
import equinox as eqx
import jax
import jax.numpy as jnp

from .._delay import _blocked as blk
from .._delay._plan import make_plan
from ..coupling._base import sum_edges
from ..monitors import MonitorOutput
from ._driver import drive
from ._noise import increments, levy_area_for
from ._state import LoopState, coupled_past
from ._stepper import erk_step


def block_step_of(net, noise, row_sums, tableau, dt, tn, y, reads, W):
    """One step of the blocked loop (`_blocked`) of one network: an explicit
    Runge-Kutta step whose stage at offset c takes the delayed sums `reads[c]`.

    The Runge-Kutta combinations act on the state stacked into one
    `(N, variables)` array: with one array per variable, XLA fuses the unrolled
    steps of a block into expressions that recompute every earlier step (several
    times slower)."""
    names = tuple(y)
    cv = net.coupled_vars

    def increment(c, t, z):
        ys = {v: z[..., i] for i, v in enumerate(names)}
        bounded = net.node.apply_bounds(ys)
        xc = jnp.stack([bounded[v] for v in cv], axis=-1)
        f = net.local_vector_field(
            t, ys, net.afferent_from_sums(reads[c], xc, row_sums)
        )
        if W is None:
            f = {v: dt * f[v] for v in names}
        else:
            g = noise.diffusion(t, ys)
            f = {v: dt * f[v] + g[v] * W[v] for v in names}
        return jnp.stack([f[v] for v in names], axis=-1)

    z = erk_step(tableau, increment, tn, jnp.stack([y[v] for v in names], -1), dt)
    return net.node.apply_bounds({v: z[..., i] for i, v in enumerate(names)})


class _SweptMonitor:
    """A monitor of every point of a sweep run as one loop (`_blocked_sweep`): its
    state and outputs carry the sweep as their leading axis."""

    def __init__(self, dyn, static, axes):
        self.dyn, self.static, self.axes = dyn, static, axes
        self.monitor = m = eqx.combine(dyn, static)  # its leaves may be batched
        self.name, self.warm_through_transient = m.name, m.warm_through_transient

    def period(self, dt):
        return self.monitor.period(dt)

    def sample_every(self, dt):
        return self.monitor.sample_every(dt)

    def _map(self, fn, *args):
        def one(dyn, *args):
            return fn(eqx.combine(dyn, self.static), *args)

        return jax.vmap(one, in_axes=(self.axes,) + (0,) * len(args))(self.dyn, *args)

    def init(self, y, dt):
        return self._map(lambda m, y: m.init(y, dt), y)

    def update(self, s, t, y, dt):
        return self._map(lambda m, s, y: m.update(s, t, y, dt), s, y)

    def emit(self, s):
        return self._map(lambda m, s: m.emit(s), s)

    def observe(self, s, y):
        return self._map(lambda m, s, y: m.observe(s, y), s, y)

    def finalize(self, s):
        return self._map(lambda m, s: m.finalize(s), s)


def blocked_sweep(dyn, static, axes, size, cfg, block):
    """The blocked loop (`_blocked`) of `size` points at once: the batched inputs
    `dyn` (sweep as the leading axis where `axes` is 0) run through one loop whose
    delay ring keeps the sweep as its trailing axis, so that each edge's window is
    one contiguous slice for all points; the per-point arithmetic is vmapped.
    Returns the outputs of `delayed_loop` with the sweep as their leading axis."""
    solver, t0, dt = cfg.solver, cfg.grid.t0, cfg.grid.dt
    pattern = cfg.structure.pattern
    net_d, y0, past, noise_d, key, mon_d = dyn
    net_s, _, _, noise_s, _, mon_s = static
    ax_net, ax_y0, ax_past, ax_noise, ax_key, ax_mon = axes

    def net_of(d):
        return eqx.combine(d, net_s)

    def per_point(fn, ax, *args):
        return jax.vmap(fn, in_axes=ax, axis_size=size)(*args)

    template = net_of(net_d)  # static structure only (its leaves may be batched)
    cv, names = template.coupled_vars, template.node.state_names
    valid = pattern.valid
    plan = jax.vmap(
        lambda d: make_plan(net_of(d), cfg.structure, dt, cfg.interpolation),
        in_axes=(ax_net,),
        out_axes=None,
        axis_size=size,
    )(net_d)
    swept = ax_net.weights is not None
    w_edges = per_point(lambda d: net_of(d).edge_weights(pattern), (ax_net,), net_d)
    row_sums = jax.vmap(lambda w: sum_edges(w)[:, None])(w_edges)
    bplan = blk.make_block_plan(plan, valid, w_edges[0], block)
    if swept:
        bweights = jax.vmap(
            lambda w: blk.make_block_plan(plan, valid, w, block).weights
        )(w_edges)
        bplan = eqx.tree_at(lambda b: b.weights, bplan, bweights)
    swept_weights = (swept,) * len(bplan.weights)
    y0 = per_point(lambda y: y, (ax_y0,), y0)  # (B, N) per variable
    past_c = per_point(
        lambda y, p: coupled_past(y, p, cv, plan.length), (0, ax_past), y0, past
    )  # (B, L, N, V)
    dtype = template.weights.dtype
    past_c = jnp.moveaxis(past_c.astype(dtype), 0, -1)
    ring = blk.init(bplan, past_c)
    first = jnp.moveaxis(blk.sums(bplan, ring, -1, swept_weights)[0], -1, 0)
    cached0 = jnp.broadcast_to(first[:, None], (size, block + 1) + first.shape[1:])
    tableau = cfg.stepper.tableau(solver)
    t0_ = jnp.asarray(t0, dtype)
    noise = None if noise_d is None and noise_s is None else (noise_d, noise_s)

    def begin(core):
        ring, sums = blk.exchange(
            bplan, core.ring, core.step, core.store, swept_weights
        )
        sums = jnp.concatenate([core.sums[:, -1:], jnp.moveaxis(sums, -1, 0)], axis=1)
        return dataclasses.replace(core, ring=ring, store=None, sums=sums), sums

    def advance(y, step, wh, s, sums):
        tn = t0_ + step.astype(dtype) * dt
        W = None if noise is None else wh[0]

        def one(net_d, noise_d, rs, y, r0, r1, W):
            nz = None if noise is None else eqx.combine(noise_d, noise[1])
            reads = {0.0: r0, 1.0: r1}
            return block_step_of(net_of(net_d), nz, rs, tableau, dt, tn, y, reads, W)

        ax_W = None if W is None else (0 if ax_key is not None else None)
        return per_point(
            one,
            (ax_net, ax_noise, 0, 0, 0, 0, ax_W),
            net_d,
            noise_d,
            row_sums,
            y,
            sums[:, s],
            sums[:, s + 1],
            W,
        )

    def end(core, y, step, states):
        pending = jnp.stack([states[v] for v in cv], axis=-1)  # (S, B, N, V)
        return dataclasses.replace(
            core, y=y, store=jnp.moveaxis(pending, 1, -1), step=step
        )

    space_time = levy_area_for(solver) is diffrax.SpaceTimeLevyArea
    n = pattern.idx.shape[1]

    def draw(start, count):
        if noise is None:
            return None
        steps = start + jnp.arange(count, dtype=start.dtype)

        def of_key(k):
            return jax.vmap(
                lambda st: increments(k, st, names, n, dtype, dt, space_time)
            )(steps)

        if ax_key is None:
            return of_key(key)
        return jax.vmap(of_key, out_axes=1)(key)

    monitors = tuple(
        _SweptMonitor(d, s, a)
        for d, s, a in zip(mon_d or (), mon_s or (), ax_mon or ())
    )
    core0 = LoopState(
        y0, None, ring, past_c[-block:], jnp.asarray(0, jnp.int32), cached0
    )
    ys, y_final, results = drive(
        advance,
        draw,
        core0,
        t0,
        dt,
        cfg.grid.n_trans,
        cfg.grid.stride,
        cfg.grid.n_save,
        monitors,
        cfg.adjoint.checkpoint,
        cfg.horizon,
        (block, begin, end),
    )
    ys = {v: jnp.moveaxis(x, 1, 0) for v, x in ys.items()}
    for name, out in results.items():
        if out.ts is not None:
            data = jax.tree.map(lambda x: jnp.moveaxis(x, 1, 0), out.data)
            ts = jnp.broadcast_to(out.ts, (size,) + out.ts.shape)
            results[name] = MonitorOutput(ts=ts, data=data)
    return ys, y_final, results
