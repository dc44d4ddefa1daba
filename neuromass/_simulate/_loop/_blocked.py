"""The blocked loop: the delayed sums of `S` steps read at once.

When every delay spans at least `S` whole steps (`interpolation="nearest"` or
`"linear"`), the coupling is linear in the delayed value and the solver's stages sit
at `c = 0` or `1` (Euler, Heun), the delayed sums of `S` steps only read states
already known at the start of the block: they are computed for the whole block at
once (`_delay/_blocked.py`). Under `vmap`, a batch (a sweep, an ensemble) runs as
one blocked loop whose delay ring keeps the sweep as its trailing axis, so that
each edge's window is one contiguous slice for all points; the per-point arithmetic
is vmapped. A single run and a batch share one body (`BlockBody`): only the layout
of the points differs (`_Single`, `_Swept`).
"""

import equinox as eqx
import jax
import jax.numpy as jnp
from jax.custom_batching import custom_vmap

from ..._delay import _blocked as blk
from ..._delay._plan import check_delays, make_plan
from ..._delay._reads import SumReader
from ..._inputs._base import Stage
from ...coupling._base import sum_edges
from ...monitors import MonitorOutput
from .._driver import AbstractBody, Driver
from .._state import BlockState, LoopState, source_past
from ._base import AbstractLoop
from ._step_by_step import StepByStepLoop, draw_noise, driver_of


class BlockedLoop(AbstractLoop):
    """Read the delays of `S` steps at once (see the module docstring).

    By default (`loop=None`) a batch under `vmap` runs as one blocked loop wherever
    it applies (blocks of 2 to 8 steps), and a single run uses blocks of at least 4
    steps with nearest delays (`BlockedLoop(min_block=4)`) and the step-by-step loop
    with linear ones (`BlockedLoop(single=False)`). The results are those of the
    step-by-step loop (tested), up to floating-point summation order.

    **Arguments:**

    - `max_block`: the largest `S` (default 8): `S` is the largest divisor of the
      loop's output period (and the transient) not above the shortest lag or this.
      The steps of a block are unrolled, so longer blocks compile longer (on TVB's
      connectome at 10 mm/ms, blocks of 10 compiled in 3.0-3.6 s against 2.3-2.7 s
      for blocks of 5, and ran no faster).
    - `min_block`: the shortest `S` a single run uses (default 2); with shorter
      blocks it runs step by step, while a batch under `vmap` still runs as one
      blocked loop (with blocks of 2 or 3 steps a single run was slower than step by
      step: W1 linear, blocks of 2, took 2x the step-by-step loop; a batch of 256
      points was 1.7x faster).
    - `single`: whether a single run reads blocks too (default True); False: only a
      batch under `vmap` does.
    - `required`: raise a `ValueError` saying why when blocked reads do not apply
      (default False: fall back to the step-by-step loop).

    !!! example

        ```python
        import neuromass as nm

        loop = nm.BlockedLoop(max_block=2)   # small blocks: quicker to compile
        ```
    """

    max_block: int = eqx.field(static=True, default=8)
    required: bool = eqx.field(static=True, default=False)
    min_block: int = eqx.field(static=True, default=2)
    single: bool = eqx.field(static=True, default=True)

    def __check_init__(self):
        for name in ("max_block", "min_block"):
            value = getattr(self, name)
            if not isinstance(value, int) or value < 2:
                raise ValueError(
                    f"`BlockedLoop({name}=...)` must be an integer >= 2; got {value!r}."
                )
        if self.min_block > self.max_block:
            raise ValueError(
                f"`BlockedLoop(min_block={self.min_block}, max_block="
                f"{self.max_block})`: `min_block` must not exceed `max_block`."
            )

    def sizes(self, config):
        why = why_not_blocked(config)
        min_lag, period = config.structure.min_lag, config.period
        batch = 0 if why else blk.block_steps(min_lag, period, self.max_block)
        if not batch and self.required:
            why = why or (
                f"no block of 2 to {self.max_block} steps divides the output period "
                f"({period} steps) within the shortest lag ({min_lag} steps)"
            )
            raise ValueError(f"`BlockedLoop` does not apply: {why}.")
        single = batch if self.single else 0
        if single and single < self.min_block:
            if self.required:
                raise ValueError(
                    f"`BlockedLoop` does not apply: the longest block that divides "
                    f"the output period ({period} steps) within the shortest lag "
                    f"({min_lag} steps) is {single} steps, below `min_block` "
                    f"({self.min_block})."
                )
            single = 0
        return single, batch

    def run(self, problem):
        """Without a batch, a single run (blocked, or step by step where its blocks
        would be too short). Under `vmap`, a `custom_vmap` rule runs the batch as one
        loop; differentiation goes through the delay adjoint's rule (the single-run
        loop, or the step-by-step loop of plain AD)."""
        block, batch_block = self.sizes(problem.config)
        step_by_step = StepByStepLoop()
        if not batch_block:
            return step_by_step.run(problem)
        dyn, static = eqx.partition(problem, eqx.is_array)

        def single(dyn):
            p = eqx.combine(dyn, static)
            return run_blocked(p, block) if block else step_by_step.run(p)

        batched = custom_vmap(single)

        @batched.def_vmap
        def _(axis_size, in_batched, dyn):
            axes = jax.tree.map(lambda b: 0 if b else None, in_batched[0])
            swept_delays = axes.system.coupling.delays is not None
            if swept_delays:  # no shared delay plan: each point its own loop
                out = jax.vmap(single, in_axes=(axes,))(dyn)
            else:
                out = run_batch(dyn, static, axes, axis_size, batch_block)
            return out, jax.tree.map(lambda _: True, out)

        def stepwise(dyn):
            return step_by_step.run(eqx.combine(dyn, static))

        return problem.config.adjoint.differentiate(batched, single, stepwise)(dyn)


def why_not_blocked(config) -> str | None:
    """None when blocked reads apply, else the reason why not."""
    structure, interp = config.structure, config.interpolation
    if not structure.has_delays:
        return "the network has no delays"
    if not interp.grid_taps:
        return (
            f"the {interp.name} interpolation has no fixed grid taps (use "
            "`interpolation='nearest'` or `'linear'`)"
        )
    if config.hold:
        return "it needs `coupling_evaluation='stage'`"
    if structure.has_zero:
        return "some delays are zero (instantaneous coupling)"
    if not config.linear:
        return "the coupling is not linear in the delayed value"
    offsets = config.stepper.offsets(config.solver)
    if offsets is None or not set(offsets) <= {0.0, 1.0}:
        return "the solver's stages must all be at c = 0 or 1 (Euler, Heun)"
    return None


class _Single(eqx.Module):
    """The layout of one network's blocked loop: sums `(S + 1, N, V)`."""

    def map(self, fn, axes, *args):
        return fn(*args)

    def sums_of(self, c):
        return c

    def append(self, carried, new):
        return jnp.concatenate([carried[-1:], new])

    def read(self, sums, s):
        return sums[s]

    def to_ring(self, pending):
        return pending

    def initial_sums(self, first, steps):
        return jnp.broadcast_to(first, (steps + 1,) + first.shape[1:])


class _Swept(eqx.Module):
    """The layout of a batch run as one loop: the ring and the sums of the ring
    (`_delay/_blocked.py`) keep the sweep as their trailing axis; the carried sums
    and the states keep it leading, `(B, S + 1, N, V)` and `(B, N)`."""

    size: int = eqx.field(static=True)

    def map(self, fn, axes, *args):
        return jax.vmap(fn, in_axes=axes, axis_size=self.size)(*args)

    def sums_of(self, c):
        return jnp.moveaxis(c, -1, 0)

    def append(self, carried, new):
        return jnp.concatenate([carried[:, -1:], jnp.moveaxis(new, -1, 0)], axis=1)

    def read(self, sums, s):
        return sums[:, s]

    def to_ring(self, pending):  # (S, B, N, V) -> (S, N, V, B)
        return jnp.moveaxis(pending, 1, -1)

    def initial_sums(self, first, steps):
        first = jnp.moveaxis(first[0], -1, 0)
        return jnp.broadcast_to(
            first[:, None], (self.size, steps + 1) + first.shape[1:]
        )


class BlockBody(AbstractBody):
    """The blocked loop's body: each block first stores the previous block's states
    and computes the delayed sums of its read times (`begin`), then unrolls its `S`
    steps (`advance`, one explicit Runge-Kutta step whose stage at offset c takes the
    sums of its read time) and keeps their states for the next block (`end`)."""

    unrolled = True

    system: object  # the system's arrays (`system_static` holds the rest)
    system_axes: object  # per point (swept layout), else None
    bplan: blk.BlockPlan
    ops: object  # the ring operations of the delay adjoint
    row_sums: jax.Array
    key: object
    key_axis: int | None = eqx.field(static=True)
    system_static: object = eqx.field(static=True)
    points: object = eqx.field(static=True)
    swept_weights: tuple | None = eqx.field(static=True)
    config: object = eqx.field(static=True)
    names: tuple[str, ...] = eqx.field(static=True)

    @property
    def steps(self) -> int:
        return self.bplan.steps

    def begin(self, core: LoopState):
        h = core.history
        ring, sums = blk.exchange(
            self.bplan, self.ops, h.ring, core.step, h.pending, self.swept_weights
        )
        sums = self.points.append(h.sums, sums)
        core = LoopState(y=core.y, step=core.step, history=BlockState(ring, None, sums))
        return core, sums

    def advance(self, y, step, noise, s, sums):
        cfg = self.config
        dt = cfg.dt
        tn = cfg.grid.t0 + step.astype(cfg.dtype) * dt
        W = None if noise is None else noise[0]
        static, stepper, solver = self.system_static, cfg.stepper, cfg.solver

        def one(system, row_sums, y, r0, r1, W):
            reader = SumReader(sums=(r0, r1), row_sums=row_sums, offsets=(0.0, 1.0))

            def stage_of(c):
                return Stage(tn=tn, step=step, reader=reader, c=c)

            system = eqx.combine(system, static)
            w = None if W is None else (W, None)
            z = stepper.step_stacked(solver, system, tn, y, dt, stage_of, w)
            return system.bounded(z)

        axes = (self.system_axes, 0, 0, 0, 0, None if W is None else self.key_axis)
        return self.points.map(
            one,
            axes,
            self.system,
            self.row_sums,
            y,
            self.points.read(sums, s),
            self.points.read(sums, s + 1),
            W,
        )

    def end(self, core: LoopState, y, step, states):
        """The block's states are stored at the start of the next block."""
        coupling = eqx.combine(self.system, self.system_static).coupling
        pending = self.points.to_ring(coupling.source(states))
        sums = core.history.sums
        return LoopState(
            y=y, step=step, history=BlockState(core.history.ring, pending, sums)
        )

    def run(self, core, monitors, steps, noise, observe):
        size = self.steps
        noise = jax.tree.map(lambda x: x.reshape((-1, size) + x.shape[1:]), noise)

        def one_block(state, noise):
            core, monitors = state
            core, sums = self.begin(core)

            def local(y, step, monitors, noise, sums):
                states = []
                for s in range(size):  # unrolled (see `advance`: what keeps it fast)
                    wh = jax.tree.map(lambda x, s=s: x[s], noise)
                    # the barrier keeps XLA from fusing each step's expression of
                    # the block's start state into every later step (in reverse
                    # mode that duplicated the steps: 1.6x the compile time)
                    y = jax.lax.optimization_barrier(self.advance(y, step, wh, s, sums))
                    step = step + 1
                    monitors = observe(monitors, y, step)
                    states.append(y)
                states = jax.tree.map(lambda *a: jnp.stack(a), *states)
                return y, step, monitors, states

            # Reverse mode keeps only the inputs of each block (state, sums, noise)
            # and recomputes its steps: per-step residuals made the loop's backward
            # pass 1.4x slower (W3: 158 vs 113 ms). Running forward it costs nothing.
            local = jax.checkpoint(local, prevent_cse=False)
            y, step, monitors, states = local(core.y, core.step, monitors, noise, sums)
            return (self.end(core, y, step, states), monitors), None

        return jax.lax.scan(one_block, (core, monitors), noise, length=steps // size)[0]

    def draw(self, start, count):
        if self.key is None:
            return None

        def of_key(key):
            return draw_noise(key, self.config, self.names, start, count)

        if self.key_axis is None:
            return of_key(self.key)
        return jax.vmap(of_key, out_axes=1)(self.key)

    def rejoin(self, core, cut):
        """At a `gradient_horizon` cut: the last of the carried sums (that of
        virtual time `step`, the next block's first read) is read again from the
        cut history (see `_AbstractSums.rejoin`)."""
        if not isinstance(self.points, _Single):
            return core
        h = core.history
        fresh = blk.sums(self.bplan, jax.lax.stop_gradient(h.ring), core.step - 1)[0]
        sums = h.sums.at[-1].set(jnp.where(cut, fresh, h.sums[-1]))
        return LoopState(
            y=core.y, step=core.step, history=BlockState(h.ring, h.pending, sums)
        )


def run_blocked(problem, block: int):
    """The blocked loop of one network, in blocks of `block` steps."""
    cfg, system = problem.config, problem.system
    coupling = system.coupling
    plan = make_plan(coupling, cfg.structure, cfg.dt, cfg.interpolation)
    w_edges = check_delays(
        coupling, cfg.structure, cfg.dt, cfg.interpolation, coupling.edge_weights()
    )
    pattern = cfg.structure.pattern
    bplan = blk.make_block_plan(plan, pattern.valid, w_edges, block)
    ops = cfg.adjoint.block_ring(plan, pattern, w_edges, block)
    past = source_past(coupling, problem.y0, problem.past, plan.length)
    past = past.astype(coupling.weights.dtype)
    ring = ops.init(past)
    ring, first = blk.first_sums(bplan, ops, ring)
    points = _Single()
    # the pending slot holds the states not yet stored in the ring: at first, steps
    # -S+1 ... 0 (already there, stored again; the adjoint of `init` pulls their
    # cotangents)
    history = BlockState(
        ring=ring,
        pending=jax.lax.stop_gradient(past[-block:]),
        sums=points.initial_sums(first, block),
    )
    dyn, static = eqx.partition(system, eqx.is_array)
    body = BlockBody(
        system=dyn,
        system_axes=None,
        bplan=bplan,
        ops=ops,
        row_sums=sum_edges(w_edges)[:, None],
        key=problem.key,
        key_axis=None,
        system_static=static,
        points=points,
        swept_weights=None,
        config=cfg,
        names=tuple(problem.y0),
    )
    core0 = LoopState(y=problem.y0, step=jnp.asarray(0, jnp.int32), history=history)
    return driver_of(problem).run(body, core0)


class _SweptMonitor:
    """A monitor of every point of a sweep run as one loop: its state and outputs
    carry the sweep as their leading axis."""

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


def run_batch(dyn, static, axes, size: int, block: int):
    """The blocked loop of `size` points at once (see the module docstring): the
    batched arrays `dyn` of a `LoopProblem` (the sweep as the leading axis where
    `axes` is 0). Returns the loop's outputs with the sweep as their leading axis."""
    cfg = static.config
    sys_d, sys_s = dyn.system, static.system
    ax_sys = axes.system
    points = _Swept(size)

    def system_of(d):
        return eqx.combine(d, sys_s)

    pattern = cfg.structure.pattern
    plan = jax.vmap(
        lambda d: make_plan(
            system_of(d).coupling, cfg.structure, cfg.dt, cfg.interpolation
        ),
        in_axes=(ax_sys,),
        out_axes=None,
        axis_size=size,
    )(sys_d)

    def edge_weights(d):
        c = system_of(d).coupling
        return check_delays(
            c, cfg.structure, cfg.dt, cfg.interpolation, c.edge_weights()
        )

    w_edges = points.map(edge_weights, (ax_sys,), sys_d)
    row_sums = jax.vmap(lambda w: sum_edges(w)[:, None])(w_edges)
    bplan = blk.make_block_plan(plan, pattern.valid, w_edges[0], block)
    swept = ax_sys.coupling.weights is not None
    if swept:
        bweights = jax.vmap(
            lambda w: blk.make_block_plan(plan, pattern.valid, w, block).weights
        )(w_edges)
        bplan = eqx.tree_at(lambda b: b.weights, bplan, bweights)
    swept_weights = (swept,) * len(bplan.weights)
    ops = blk.BlockRing(bplan.length, block)  # forward only: plain operations
    y0 = points.map(lambda y: y, (axes.y0,), dyn.y0)  # (B, N) per variable
    past = dyn.past
    past_c = points.map(
        lambda d, y, p: source_past(system_of(d).coupling, y, p, plan.length),
        (ax_sys, 0, axes.past),
        sys_d,
        y0,
        past,
    )  # (B, L, N, V)
    past_c = jnp.moveaxis(past_c.astype(cfg.dtype), 0, -1)
    ring = ops.init(past_c)
    ring, first = blk.first_sums(bplan, ops, ring, swept_weights)
    history = BlockState(
        ring=ring, pending=past_c[-block:], sums=points.initial_sums(first, block)
    )
    key = dyn.key
    body = BlockBody(
        system=sys_d,
        system_axes=ax_sys,
        bplan=bplan,
        ops=ops,
        row_sums=row_sums,
        key=key,
        key_axis=None if axes.key is None else 0,
        system_static=sys_s,
        points=points,
        swept_weights=swept_weights,
        config=cfg,
        names=tuple(dyn.y0),
    )
    mon_d, mon_s = dyn.monitors, static.monitors
    monitors = tuple(
        _SweptMonitor(d, s, a)
        for d, s, a in zip(mon_d or (), mon_s or (), axes.monitors or ())
    )
    driver = Driver(
        grid=cfg.grid,
        monitors=monitors,
        checkpoint=cfg.adjoint.checkpoint,
        horizon=cfg.horizon,
    )
    core0 = LoopState(y=y0, step=jnp.asarray(0, jnp.int32), history=history)
    ys, y_final, results = driver.run(body, core0)
    ys = {v: jnp.moveaxis(x, 1, 0) for v, x in ys.items()}
    for name, out in results.items():
        if out.ts is not None:
            data = jax.tree.map(lambda x: jnp.moveaxis(x, 1, 0), out.data)
            ts = jnp.broadcast_to(out.ts, (size,) + out.ts.shape)
            results[name] = MonitorOutput(ts=ts, data=data)
    return ys, y_final, results
