"""The step-by-step delayed loop (and the blocked loop of one network).

Each step advances the solver one `dt`; at every stage time the delayed values
$x_j(t - \tau_{ij})$ are read from the delay history (`_delay`), interpolated at
that stage's time. Linear couplings reduce the delayed part once per stage offset at
the start of each step; with nearest reads of whole-step delays and Euler/Heun the
blocked loop (`BlockedLoop`) reads `S` steps at once (`block > 0`).
"""

import dataclasses

import diffrax
import jax
import jax.numpy as jnp

from .._delay import _blocked as blk, _pulled as adj, _ring as rg
from .._delay._plan import advance_window, init_window, make_plan
from .._delay.interpolation import read_window, window_values
from ..coupling._base import AbstractLinearCoupling, sum_edges
from ._blocked_loop import block_step_of
from ._driver import drive
from ._noise import (
    StepIncrement,
    diffusion_term,
    increments as _increments,
    levy_area_for,
)
from ._state import LoopState, coupled_past
from ._stepper import erk_step


def _fields(core: LoopState):
    return core.y, core.solver_state, core.ring, core.store, core.step, core.sums


def delayed_loop(net, y0, past, noise, key, monitors, cfg, block=0):
    """Run the fixed-step loop of one network (`cfg`: a `LoopConfig`); returns
    `(ys, y_final, monitor_outputs)`."""
    solver, dt, t0 = cfg.solver, cfg.grid.dt, cfg.grid.t0
    interp, pattern = cfg.interpolation, cfg.structure.pattern
    plan = make_plan(net, cfg.structure, dt, interp)
    cv = net.coupled_vars
    L = plan.length
    n = net.n_regions

    def coupled(y):
        return jnp.stack([y[v] for v in cv], axis=-1)

    past_c = coupled_past(y0, past, cv, L)
    w_edges = net.edge_weights(pattern)

    hold = cfg.coupling_evaluation == "step"

    tableau = cfg.stepper.tableau(solver)
    # Stage offsets known at trace time (unrolled tableaus, held coupling): their
    # interpolation weights are computed once here, outside the loop.
    coefficients = {}
    if plan.uses_window:
        offsets = {0.0} if hold else set()
        if tableau is not None and not hold:
            offsets |= {float(c) for c in tableau[0]}
        coefficients = {c: interp.window_coefficients(plan, c) for c in offsets}

    # Linear couplings: the delayed part is a weighted sum of the history, reduced
    # once per stage offset at the start of each step (it does not depend on the
    # stage state); the read at c = 1 of step n is the read at c = 0 of step n + 1.
    linear = (
        isinstance(net.coupling, AbstractLinearCoupling)
        and plan.uses_window
        and plan.zero is None
        and not hold
        and tableau is not None
    )
    if linear:
        weighted = {}
        for c, coef in coefficients.items():
            if isinstance(coef, int):  # nearest: one window value
                weighted[c] = (coef, w_edges[..., None])
            else:
                weighted[c] = tuple(w_edges[..., None] * q for q in coef)
        row_sums = sum_edges(w_edges)[:, None]
        reuse = 1.0 in coefficients

    # Reverse mode: the hand-written adjoint of the history (`_adjoint`) when every
    # read is at a grid time (stages at c = 0 or 1: Euler, Heun).
    pulled = linear and cfg.adjoint.pulled and set(coefficients) <= {0.0, 1.0}
    past_c = past_c.astype(net.weights.dtype)
    oplan = None
    if block:
        bplan = blk.make_block_plan(plan, pattern.valid, w_edges, block)
        if pulled:  # the blocked form of the pulled adjoint
            oplan = blk.make_out_plan(plan, pattern.idx, pattern.valid, w_edges, block)
            buf = blk.init_pulled(oplan, past_c)
        else:
            buf = blk.init(bplan, past_c)
        pulled = False  # the step-by-step operations below are not used
    elif pulled:
        out_edges = adj.out_edges(plan, pattern.idx, pattern.valid, w_edges)
        buf = adj.init(out_edges, past_c)
    else:
        buf = rg.init(past_c)
    # Nearest reads of a linear coupling need one history value per edge and read:
    # gathered directly from the buffer, with no window to keep.
    direct = linear and interp.whole_steps
    store0 = None
    # cached history values (not differentiated)
    if plan.uses_window and not direct and not block:
        store0 = init_window(plan, jax.lax.stop_gradient(buf) if pulled else buf)

    def write(buf, n, x):
        return adj.write(out_edges, buf, n, x) if pulled else rg.write(L, buf, n, x)

    def reduced_reads(buf, win, step, cached, only=None, route=True):
        """The reduced delayed sums of each stage offset (or of `only`). Each read
        is computed once: with the pulled adjoint a read's time must be unique
        (`route=False`: a read whose cotangent does not go back to the states)."""
        out = {}
        if not direct:
            win = window_values(win, step)
        for c, coef in weighted.items():
            if only is not None and c != only:
                continue
            if c == 0.0 and reuse and cached is not None:
                out[c] = cached
                continue
            if direct:  # window value q is the state of step n - m - 1 + q
                src = jax.lax.stop_gradient(buf) if pulled else buf
                x_j = rg.gather(plan, src, step, coef[0] - 1 - plan.m)
                out[c] = sum_edges(coef[1] * x_j)
            elif c >= 1.0:  # reads lie in (t_{n-m}, t_{n-m+1}]: w0 has weight 0
                a0, a1, a2 = coef
                out[c] = sum_edges(a1 * win[1] + a2 * win[2])
            else:
                a0, a1, a2 = coef
                out[c] = sum_edges(a0 * win[0] + a1 * win[1] + a2 * win[2])
            if pulled and route:  # a read at grid time step + c
                buf, out[c] = adj.route(plan.length, buf, step + int(c), out[c])
        return buf, out

    def afferent(t, y, store, step, tn, c=None, reads=None):
        xc = coupled(net.node.apply_bounds(y))
        if reads is not None and c in reads:
            return net.afferent_from_sums(reads[c], xc, row_sums)
        if c in coefficients:
            x_j = read_window(window_values(store, step), coefficients[c])
        else:
            x_j = interp.read(plan, store, step, (t - tn) / dt if c is None else c)
        if plan.zero is not None:
            x_j = jnp.where(plan.zero[..., None], xc[plan.idx], x_j)
        return net.afferent(x_j, xc, w_edges)

    def drift(t, y, args, c=None):
        store, step, tn, held, reads = args
        cpl = held if hold else afferent(t, y, store, step, tn, c, reads)
        return net.local_vector_field(t, y, cpl)

    drift_term = diffrax.ODETerm(drift)
    levy = levy_area_for(solver) if noise is not None else None
    names = tuple(y0)

    space_time = levy is diffrax.SpaceTimeLevyArea

    def increments(step):
        return _increments(key, step, names, n, net.weights.dtype, dt, space_time)

    def terms_at(step, wh=None):
        if noise is None:
            return drift_term
        W, H = increments(step) if wh is None else wh
        path = StepIncrement(W=W, H=H, dt=dt, levy_area=levy)
        return diffrax.MultiTerm(drift_term, diffusion_term(noise, path))

    def tableau_step(tn, y, args, step, wh=None):
        W = None
        if noise is not None:
            W = (increments(step) if wh is None else wh)[0]

        def increment(c, t, ys):
            f = drift(t, ys, args, c)
            if W is None:
                return {v: dt * f[v] for v in f}
            g = noise.diffusion(t, ys)
            return {v: dt * f[v] + g[v] * W[v] for v in f}

        return erk_step(tableau, increment, tn, y, dt)

    dtype = net.weights.dtype
    t0_ = jnp.asarray(t0, dtype)

    def store_of(buf, win):
        return win if plan.uses_window else buf

    step0 = jnp.asarray(0, jnp.int32)

    def make_args(y, buf, win, step, tn, cached=None):
        store = store_of(buf, win)
        held = afferent(tn, y, store, step, tn, 0.0) if hold else None
        reads = None
        if linear:
            buf, reads = reduced_reads(buf, win, step, cached)
        return buf, (store, step, tn, held, reads)

    sstate0 = cached0 = None
    if tableau is None:
        _, args0 = make_args(y0, buf, store0, step0, t0_)
        sstate0 = solver.init(terms_at(step0), t0_, t0_ + dt, y0, args0)
    if block:  # the sums of the block before step 0: its last is step 0's c = 0 read
        if oplan is None:
            first = blk.sums(bplan, buf, -1)[:1]
        else:  # the read of virtual time 0
            first = blk.sums(bplan, jax.lax.stop_gradient(buf), -1)[:1]
            buf, first = blk.route(bplan.length, buf, 0, first)
        cached0 = jnp.broadcast_to(first, (block + 1, n, len(cv)))
        # in the blocked loop this slot holds the states not yet stored in the ring:
        # at first, steps -S+1 ... 0 (already there, stored again; the adjoint of
        # `init_pulled` pulls their cotangents)
        store0 = jax.lax.stop_gradient(past_c[-block:])
    elif linear and reuse:  # the first step's c = 0 read; later ones are carried
        buf, first = reduced_reads(buf, store0, step0, None, only=0.0)
        cached0 = first[0.0]

    def one_step(core, wh):
        y, sstate, buf, win, step, cached = _fields(core)
        if pulled:
            win = jax.lax.stop_gradient(win)
        tn = t0_ + step.astype(dtype) * dt
        buf, args = make_args(y, buf, win, step, tn, cached)
        if linear and reuse:
            cached = args[4][1.0]
        if tableau is None:
            y1, _, _, sstate, _ = solver.step(
                terms_at(step, wh), tn, tn + dt, y, args, sstate, made_jump=False
            )
        else:
            y1 = tableau_step(tn, y, args, step, wh)
        y1 = net.node.apply_bounds(y1)
        nxt = step + 1
        buf = write(buf, nxt, coupled(y1))
        if plan.uses_window and not direct:
            src = jax.lax.stop_gradient(buf) if pulled else buf
            win = advance_window(plan, win, src, nxt)
        return LoopState(y1, sstate, buf, win, nxt, cached)

    core0 = LoopState(y0, sstate0, buf, store0, step0, cached0)

    def block_begin(core):
        """Store the previous block's states, then compute the delayed sums of
        virtual times n0 ... n0 + S (carried, so that they are computed once):
        stage c of step n0 + s reads virtual time n0 + s + c."""
        ring, sums = blk.exchange(bplan, core.ring, core.step, core.store, out=oplan)
        sums = jnp.concatenate([core.sums[-1:], sums])
        return dataclasses.replace(core, ring=ring, store=None, sums=sums), sums

    def block_step(y, step, wh, s, sums):
        tn = t0_ + step.astype(dtype) * dt
        reads = {0.0: sums[s], 1.0: sums[s + 1]}
        W = None if noise is None else wh[0]
        return block_step_of(net, noise, row_sums, tableau, dt, tn, y, reads, W)

    def block_end(core, y, step, states):
        """The block's states are stored at the start of the next block."""
        return dataclasses.replace(core, y=y, store=coupled(states), step=step)

    def draw(start, count):
        if noise is None:
            return None
        return jax.vmap(increments)(start + jnp.arange(count, dtype=start.dtype))

    def rejoin(core, cut):
        """At a `gradient_horizon` cut (the carry's gradients stopped): the delayed
        sum that the next step reuses from the carry is read again from the cut
        history, so that its gradient still reaches the weights (not the states
        before the cut), as that of a read taken inside the step does."""
        y, sstate, buf, win, step, cached = _fields(core)
        if cached is None:
            return core
        sg = jax.lax.stop_gradient
        if block:  # the last of the carried sums is that of virtual time `step`
            fresh = blk.sums(bplan, sg(buf), step - 1)[0]
            cached = cached.at[-1].set(jnp.where(cut, fresh, cached[-1]))
        else:
            window = None if win is None else sg(win)
            fresh = reduced_reads(sg(buf), window, step, None, 0.0, route=False)[1]
            cached = jnp.where(cut, fresh[0.0], cached)
        return dataclasses.replace(core, sums=cached)

    return drive(
        block_step if block else one_step,
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
        (block, block_begin, block_end) if block else None,
        rejoin,
    )
