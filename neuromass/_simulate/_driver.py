"""The driver of the fixed-step loop: the transient, then blocks of steps that emit
the saved trajectory and the monitors' samples at their periods.

A loop strategy gives the driver a *body* (`AbstractBody`): how to advance the loop
state by a number of steps, and how to draw their noise. The driver owns the time
grid: the transient, the blocks of `g` steps (the greatest common period of the saved
samples and the monitors), the monitors' updates and emissions, checkpointing and
the gradient horizon.
"""

import abc
import math
from typing import ClassVar

import equinox as eqx
import jax
import jax.numpy as jnp

from ..monitors import MonitorOutput
from ._grid import TimeGrid, steps_of


class AbstractBody(eqx.Module):
    """How a loop strategy advances its `LoopState` (see the module docstring).
    `unrolled`: its steps are unrolled in blocks (then, without noise, the driver
    runs every block in one scan, since each traced copy costs compile time)."""

    unrolled: ClassVar[bool] = False

    @abc.abstractmethod
    def run(self, core, monitors, steps: int, noise, observe):
        """Advance `core` (and the monitors' states `monitors`) by `steps` steps
        with their noise `noise`; `observe(monitors, y, step)` updates the monitors
        after each step. Returns `(core, monitors)`."""

    @abc.abstractmethod
    def draw(self, start, count: int):
        """The noise increments of `count` steps from step `start` (or None)."""

    def rejoin(self, core, cut):
        """Repair `core` after a `gradient_horizon` cut (which stops the gradients
        of everything the loop carries)."""
        return core


class Carry(eqx.Module):
    """What the driver carries from block to block: the loop state, the monitors'
    states, and the output buffers of samples not emitted at every block (the
    monitors', by name, and the saved trajectory's)."""

    core: object
    monitors: tuple
    buffers: dict
    saved: object = None


class Emitted(eqx.Module):
    """What one block emits: the saved state (when it is due at every block) and
    the samples of the monitors emitted at every block."""

    ys: object
    monitors: dict


class Driver(eqx.Module):
    """Runs a loop body over the time grid (see the module docstring).

    - `grid`: the steps and saved samples.
    - `monitors`: the monitors stepped inside the loop.
    - `checkpoint`: recompute each block in the backward pass.
    - `horizon`: the gradient horizon in steps (None: no cut).
    """

    grid: TimeGrid = eqx.field(static=True)
    monitors: tuple
    checkpoint: bool = eqx.field(static=True, default=False)
    horizon: int | None = eqx.field(static=True, default=None)

    @property
    def strides(self) -> dict:
        return monitor_strides(self.monitors, self.grid.dt)

    @property
    def period(self) -> int:
        """The steps of one block: the greatest common period of the saved samples
        and the monitors."""
        return loop_period(self.grid.stride, self.strides)

    def run(self, body: AbstractBody, core0):
        """Run the loop from `core0`; returns `(ys, y_final, monitor_outputs)`."""
        grid, monitors = self.grid, self.monitors
        t0, dt, stride = grid.t0, grid.dt, grid.stride
        periodic = [m for m in monitors if m.period(dt) is not None]
        strides = self.strides
        g = self.period
        n_blocks = (grid.n_save - 1) * stride // g
        horizon = self.horizon
        if horizon is not None and horizon % g:
            raise ValueError(
                f"`gradient_horizon` must be a multiple of {g * dt:g} ms (the loop's "
                "block of steps, from `save_every` and the monitor periods)."
            )

        def observe(mst, y, step):
            t = t0 + step.astype(_dtype_of(y)) * dt
            return tuple(m.update(s, t, y, dt) for m, s in zip(monitors, mst))

        def advance(core, mst, steps, noise=None):
            """`steps` steps; their noise is drawn here in one go unless given."""
            if steps == 0:
                return core, mst
            if noise is None:
                noise = body.draw(core.step, steps)
            return body.run(core, mst, steps, noise, observe)

        def advance_long(core, mst, steps):
            """Many steps in blocks of `g` (bounded noise memory), then the rest."""
            blocks, rest = divmod(steps, g)
            if blocks:

                def one(carry, _):
                    return advance(*carry, g), None

                core, mst = jax.lax.scan(one, (core, mst), None, length=blocks)[0]
            return advance(core, mst, rest)

        mst = tuple(m.init(core0.y, dt) for m in monitors)
        core, mst = advance_long(core0, mst, grid.n_trans)
        mst = tuple(
            s if m.warm_through_transient else m.init(core.y, dt)
            for m, s in zip(monitors, mst)
        )
        first = core.y
        # output buffers for samples not emitted at every block
        bufs, sizes = {}, {}
        for m, s in zip(monitors, mst):
            if m in periodic and strides[m.name] != g:
                sizes[m.name] = n_m = n_blocks * g // strides[m.name]
                shape = jax.eval_shape(m.emit, s)[1]
                bufs[m.name] = _buffer(shape, n_m)
        ys_buffer = None
        if stride != g:
            ys_buffer = _buffer(first, grid.n_save - 1)

        def block(carry: Carry, inp):
            b, noise = inp
            core, mst, bufs = carry.core, carry.monitors, dict(carry.buffers)
            saved = carry.saved
            if horizon is not None:
                cut = (b * g) % horizon == 0
                core, mst = jax.tree.map(
                    lambda x: (
                        jnp.where(cut, jax.lax.stop_gradient(x), x)
                        if eqx.is_inexact_array(x)
                        else x
                    ),
                    (core, mst),
                )
                core = body.rejoin(core, cut)
            run = advance
            if self.checkpoint:
                run = jax.checkpoint(advance, static_argnums=2)
            core, mst = run(core, mst, g, noise)
            n_done = (b + 1) * g
            out = {}
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
                        bufs[m.name] = _store(bufs[m.name], due, n_done // s_m, sample)
                else:
                    observed = m.observe(s, core.y)
                    s = observed if s_m == g else _select(due, observed, s)
                new_mst.append(s)
            ys = None
            if stride == g:
                ys = core.y
            else:
                due = n_done % stride == 0
                saved = _store(saved, due, n_done // stride, core.y)
            carry = Carry(core=core, monitors=tuple(new_mst), buffers=bufs, saved=saved)
            return carry, Emitted(ys=ys, monitors=out)

        # The noise of `per` consecutive blocks is drawn at once (vectorised random
        # numbers are much cheaper per value), in bounded memory: about 1000 steps.
        # Without noise, a blocked loop runs all blocks in one scan: each traced copy
        # of its unrolled body costs compile time (W3 nearest: 6.9 s instead of 10
        # s). The step-by-step loop keeps the split, which ran its gradient 15%
        # faster.
        noisy = jax.eval_shape(lambda: body.draw(jnp.zeros((), jnp.int32), 1))
        per = n_blocks if body.unrolled and noisy is None else 1000 // g
        per = max(1, min(n_blocks, per))
        n_super, n_rest = divmod(n_blocks, per)

        def blocks_with_noise(carry, first, count):
            bs = first + jnp.arange(count)
            noise = body.draw(carry.core.step, count * g)
            if noise is not None:
                noise = jax.tree.map(
                    lambda x: x.reshape((count, g) + x.shape[1:]), noise
                )
            return jax.lax.scan(block, carry, (bs, noise), length=count)

        carry = Carry(core=core, monitors=mst, buffers=bufs, saved=ys_buffer)
        parts = []
        if n_super:

            def superblock(carry, i):
                return blocks_with_noise(carry, i * per, per)

            carry, outs = jax.lax.scan(superblock, carry, jnp.arange(n_super))
            parts.append(jax.tree.map(lambda x: x.reshape((-1,) + x.shape[2:]), outs))
        if n_rest:
            carry, rest = blocks_with_noise(carry, n_super * per, n_rest)
            parts.append(rest)
        if parts:
            outs = jax.tree.map(lambda *xs: jnp.concatenate(xs, axis=0), *parts)
        else:  # nothing after the first sample: empty outputs of the right shapes
            outs = jax.eval_shape(lambda c: blocks_with_noise(c, 0, 1)[1], carry)
            outs = jax.tree.map(
                lambda sd: jnp.zeros((0,) + sd.shape[1:], sd.dtype), outs
            )
        core, mst = carry.core, carry.monitors
        if stride == g:
            rest = outs.ys
        else:
            rest = jax.tree.map(lambda x: x[: grid.n_save - 1], carry.saved)
        bufs = {
            name: jax.tree.map(lambda x, n=sizes[name]: x[:n], b)
            for name, b in carry.buffers.items()
        }
        ys = {v: jnp.concatenate([first[v][None], rest[v]], axis=0) for v in first}
        results = {}
        for m, s in zip(monitors, mst):
            if m in periodic:
                data = (
                    outs.monitors[m.name] if m.name in outs.monitors else bufs[m.name]
                )
                n_m = jax.tree.leaves(data)[0].shape[0]
                s_m = strides[m.name]
                ts = t0 + (grid.n_trans + s_m * (1 + jnp.arange(n_m))) * dt
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


def _buffer(shapes, n: int):
    """Zeros for `n` samples of the given shapes (at least one slot, so that writes
    trace)."""
    return jax.tree.map(lambda sd: jnp.zeros((max(n, 1),) + sd.shape, sd.dtype), shapes)


def _store(buffer, due, count, sample):
    """`sample` in slot `count - 1` of `buffer` when `due`."""
    slot = jnp.maximum(count - 1, 0)
    return jax.tree.map(
        lambda b, x: b.at[slot].set(jnp.where(due, x, b[slot])), buffer, sample
    )


def _dtype_of(y):
    """The floating dtype of a state dict."""
    return jax.tree.leaves(y)[0].dtype


def _select(pred, a, b):
    return jax.tree.map(lambda x, y: jnp.where(pred, x, y), a, b)
