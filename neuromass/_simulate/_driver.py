"""The driver of the fixed-step loop: the transient, then blocks of steps that emit
the saved trajectory and the monitors' samples at their periods."""

import math

import equinox as eqx
import jax
import jax.numpy as jnp

from ..monitors import MonitorOutput
from ._grid import steps_of


def drive(
    advance,
    draw,
    core0,
    t0,
    dt,
    n_trans,
    stride,
    n_save,
    monitors,
    checkpoint,
    horizon,
    blocked=None,
    rejoin=None,
):
    """Run the fixed-step loop: the transient, then blocks of `g` steps, emitting the
    saved trajectory and every monitor's samples at their periods.

    `advance(core, noise) -> core` performs one step of the `LoopState` `core`;
    `draw(start, count)` returns the noise increments of `count` steps from step
    `start` at once (or None without noise). Returns
    `(ys, y_final, monitor_outputs)`.

    With `blocked=(S, begin, end)` the steps run in blocks of `S` (which divides the
    transient and `g`): `begin(core) -> (core, ctx)` prepares a block,
    `advance(y, step, noise, s, ctx) -> y` performs its step `s` and
    `end(core, y, step, states) -> core` closes it with the block's `S` states.
    `rejoin(core, cut) -> core` repairs the core after a `horizon` cut (which stops
    the gradients of everything the loop carries).
    """
    periodic = [m for m in monitors if m.period(dt) is not None]
    strides = monitor_strides(monitors, dt)
    g = loop_period(stride, strides)
    n_blocks = (n_save - 1) * stride // g
    if horizon is not None and horizon % g:
        raise ValueError(
            f"`gradient_horizon` must be a multiple of {g * dt:g} ms (the loop's "
            "block of steps, from `save_every` and the monitor periods)."
        )
    y0 = core0.y

    def observe(mst, y, step):
        t = t0 + step.astype(_dtype_of(y)) * dt
        return tuple(m.update(s, t, y, dt) for m, s in zip(monitors, mst))

    def step_all(state, wh):
        core, mst = state
        core = advance(core, wh)
        return (core, observe(mst, core.y, core.step)), None

    def run(state, steps, xs=None):
        """`steps` steps; their noise `xs` is drawn here in one go unless given."""
        if steps == 0:
            return state
        if xs is None:
            xs = draw(state[0].step, steps)
        if not blocked:
            return jax.lax.scan(step_all, state, xs, length=steps)[0]
        size, begin, end = blocked
        xs = jax.tree.map(lambda x: x.reshape((-1, size) + x.shape[1:]), xs)

        def one_block(state, xb):
            core, mst = state
            core, ctx = begin(core)

            def local(y, step, mst, xb, ctx):
                states = []
                for s in range(size):  # unrolled (see `advance`: what keeps it fast)
                    wh = jax.tree.map(lambda x, s=s: x[s], xb)
                    # the barrier keeps XLA from fusing each step's expression of
                    # the block's start state into every later step (in reverse
                    # mode that duplicated the steps: 1.6x the compile time)
                    y = jax.lax.optimization_barrier(advance(y, step, wh, s, ctx))
                    step = step + 1
                    mst = observe(mst, y, step)
                    states.append(y)
                states = jax.tree.map(lambda *a: jnp.stack(a), *states)
                return y, step, mst, states

            # Reverse mode keeps only the inputs of each block (state, sums, noise)
            # and recomputes its steps: per-step residuals made the loop's backward
            # pass 1.4x slower (W3: 158 vs 113 ms). Running forward it costs nothing.
            local = jax.checkpoint(local, prevent_cse=False)
            y, step, mst, states = local(core.y, core.step, mst, xb, ctx)
            return (end(core, y, step, states), mst), None

        return jax.lax.scan(one_block, state, xs, length=steps // size)[0]

    def run_long(state, steps):
        """Many steps in blocks of `g` (bounded noise memory), then the rest."""
        blocks, rest = divmod(steps, g)
        if blocks:
            state = jax.lax.scan(
                lambda s, _: (run(s, g), None), state, None, length=blocks
            )[0]
        return run(state, rest)

    mst0 = tuple(m.init(y0, dt) for m in monitors)
    state = run_long((core0, mst0), n_trans)
    core, mst = state
    mst = tuple(
        s if m.warm_through_transient else m.init(core.y, dt)
        for m, s in zip(monitors, mst)
    )
    state = (core, mst)
    first = core.y
    # output buffers for samples not emitted at every block
    bufs, sizes = {}, {}
    for m, s in zip(monitors, mst):
        if m in periodic and strides[m.name] != g:
            sizes[m.name] = n_m = n_blocks * g // strides[m.name]
            shape = jax.eval_shape(m.emit, s)[1]
            bufs[m.name] = jax.tree.map(  # at least one slot, so writes trace
                lambda sd, n_m=n_m: jnp.zeros((max(n_m, 1),) + sd.shape, sd.dtype),
                shape,
            )
    if stride != g:
        sizes["__ys__"] = n_save - 1
        bufs["__ys__"] = jax.tree.map(
            lambda x: jnp.zeros((max(n_save - 1, 1),) + x.shape, x.dtype), first
        )

    def block(carry, inp):
        b, xs = inp
        state, bufs = carry
        if horizon is not None:
            cut = (b * g) % horizon == 0
            state = jax.tree.map(
                lambda x: (
                    jnp.where(cut, jax.lax.stop_gradient(x), x)
                    if eqx.is_inexact_array(x)
                    else x
                ),
                state,
            )
            if rejoin is not None:
                state = (rejoin(state[0], cut), state[1])
        state = (jax.checkpoint(run, static_argnums=1) if checkpoint else run)(
            state, g, xs
        )
        core, mst = state
        n_done = (b + 1) * g
        out = {}
        bufs = dict(bufs)
        new_mst = []
        for m, s in zip(monitors, mst):
            s_m = strides[m.name]
            due = n_done % s_m == 0
            if m in periodic:
                if s_m == g:
                    s, out[m.name] = m.emit(s)
                else:
                    s2, sample = m.emit(s)
                    s = _select(due, s2, s)
                    slot = jnp.maximum(n_done // s_m - 1, 0)
                    bufs[m.name] = jax.tree.map(
                        lambda bb, x, due=due, slot=slot: bb.at[slot].set(
                            jnp.where(due, x, bb[slot])
                        ),
                        bufs[m.name],
                        sample,
                    )
            else:
                observed = m.observe(s, core.y)
                s = observed if s_m == g else _select(due, observed, s)
            new_mst.append(s)
        if stride == g:
            out["__ys__"] = core.y
        else:
            due = n_done % stride == 0
            slot = jnp.maximum(n_done // stride - 1, 0)
            bufs["__ys__"] = jax.tree.map(
                lambda bb, x: bb.at[slot].set(jnp.where(due, x, bb[slot])),
                bufs["__ys__"],
                core.y,
            )
        return ((core, tuple(new_mst)), bufs), out

    # The noise of `per` consecutive blocks is drawn at once (vectorised random
    # numbers are much cheaper per value), in bounded memory: about 1000 steps.
    # Without noise, the blocked loop runs all blocks in one scan: each traced copy
    # of its unrolled body costs compile time (W3 nearest: 6.9 s instead of 10 s).
    # The step-by-step loop keeps the split, which ran its gradient 15% faster.
    noisy = jax.eval_shape(lambda: draw(jnp.zeros((), jnp.int32), 1)) is not None
    per = n_blocks if blocked and not noisy else 1000 // g
    per = max(1, min(n_blocks, per))
    n_super, n_rest = divmod(n_blocks, per)

    def blocks_with_noise(carry, first, count):
        bs = first + jnp.arange(count)
        xs = draw(carry[0][0].step, count * g)
        if xs is not None:
            xs = jax.tree.map(lambda x: x.reshape((count, g) + x.shape[1:]), xs)
        return jax.lax.scan(block, carry, (bs, xs), length=count)

    carry = (state, bufs)
    parts = []
    if n_super:

        def superblock(carry, i):
            return blocks_with_noise(carry, i * per, per)

        carry, outs = jax.lax.scan(superblock, carry, jnp.arange(n_super))
        parts.append(jax.tree.map(lambda x: x.reshape((-1,) + x.shape[2:]), outs))
    if n_rest:
        parts.append(None)
        carry, parts[-1] = blocks_with_noise(carry, n_super * per, n_rest)
    if parts:
        outs = jax.tree.map(lambda *xs: jnp.concatenate(xs, axis=0), *parts)
    else:  # nothing after the first sample: empty outputs of the right shapes
        outs = jax.eval_shape(lambda c: blocks_with_noise(c, 0, 1)[1], carry)
        outs = jax.tree.map(lambda sd: jnp.zeros((0,) + sd.shape[1:], sd.dtype), outs)
    state, bufs = carry
    core, mst = state
    bufs = {
        name: jax.tree.map(lambda x, n=sizes[name]: x[:n], b)
        for name, b in bufs.items()
    }
    rest = outs.pop("__ys__") if "__ys__" in outs else bufs.pop("__ys__")
    ys = {v: jnp.concatenate([first[v][None], rest[v]], axis=0) for v in first}
    results = {}
    for m, s in zip(monitors, mst):
        if m in periodic:
            data = outs[m.name] if m.name in outs else bufs[m.name]
            n_m = jax.tree.leaves(data)[0].shape[0]
            s_m = strides[m.name]
            ts = t0 + (n_trans + s_m * (1 + jnp.arange(n_m))) * dt
            results[m.name] = MonitorOutput(ts=ts, data=data)
        else:
            results[m.name] = MonitorOutput(ts=None, data=m.finalize(s))
    return ys, core.y, results


def monitor_strides(monitors, dt) -> dict:
    """Each monitor's period (or sampling interval) in steps."""
    strides = {}
    for m in monitors:
        every = m.period(dt)
        every = m.sample_every(dt) if every is None else every
        strides[m.name] = steps_of(f"monitor {m.name!r} period", every, dt)
    return strides


def loop_period(stride, strides) -> int:
    """The steps of one block of the loop: the greatest common period of the saved
    samples and the monitors."""
    return math.gcd(stride, *strides.values()) if strides else stride


def _dtype_of(y):
    """The floating dtype of a state dict."""
    return jax.tree.leaves(y)[0].dtype


def _select(pred, a, b):
    return jax.tree.map(lambda x, y: jnp.where(pred, x, y), a, b)
