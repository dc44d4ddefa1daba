"""The step-by-step loop: one step at a time, every stage reading the delay history
interpolated at its time."""

import diffrax
import equinox as eqx
import jax
import jax.numpy as jnp

from ..._delay._plan import check_delays, make_plan
from ..._delay._reads import HeldReader
from ..._delay._stepwise import AbstractStepHistory, step_history
from ..._inputs._base import Stage
from ..._inputs._system import System
from .._driver import AbstractBody, Driver, records_coupling
from .._noise import increments, levy_area_for
from .._state import LoopState, source_past
from ._base import AbstractLoop


class StepByStepLoop(AbstractLoop):
    """Advance one step at a time; each stage reads the delay history interpolated
    at its time. Works for every case (any interpolation, coupling and explicit
    solver).

    !!! example

        ```python
        import neuromass as nm

        loop = nm.StepByStepLoop()
        ```
    """

    def run(self, problem):
        body, core0 = StepBody.start(problem)
        return driver_of(problem).run(body, core0)


def driver_of(problem) -> Driver:
    cfg = problem.config
    return Driver(
        grid=cfg.grid,
        monitors=problem.monitors,
        checkpoint=cfg.adjoint.checkpoint,
        horizon=cfg.horizon,
    )


class StepBody(AbstractBody):
    """One step at a time (see `StepByStepLoop`)."""

    system: System
    history: AbstractStepHistory | None
    key: object
    config: object = eqx.field(static=True)
    names: tuple[str, ...] = eqx.field(static=True)
    record_coupling: bool = eqx.field(static=True, default=False)

    @staticmethod
    def start(problem) -> tuple["StepBody", LoopState]:
        """The body of `problem` and the loop state at step 0."""
        cfg, system, y0 = problem.config, problem.system, problem.y0
        dt, t0 = cfg.dt, jnp.asarray(cfg.grid.t0, _dtype(y0))
        record = records_coupling(problem.monitors)
        history = hs0 = None
        step0 = jnp.asarray(0, jnp.int32)
        if problem.has_history:
            coupling = system.coupling
            plan = make_plan(coupling, cfg.structure, dt, cfg.interpolation)
            w_edges = check_delays(
                coupling, cfg.structure, dt, cfg.interpolation, coupling.edge_weights()
            )
            history = step_history(
                coupling,
                plan,
                cfg.structure.pattern,
                w_edges,
                cfg.stepper.offsets(cfg.solver),
                cfg.adjoint,
                cfg.hold,
                dt,
                per_edge=record,
            )
            past = source_past(coupling, y0, problem.past, plan.length)
            hs0 = history.init(past.astype(coupling.weights.dtype))
        body = StepBody(
            system=system,
            history=history,
            key=problem.key,
            config=cfg,
            names=tuple(y0),
            record_coupling=record,
        )
        solver_state = None
        if cfg.stepper.offsets(cfg.solver) is None:  # the solver's own state
            _, reader = body._reader(hs0, step0, t0)
            stage = Stage(tn=t0, step=step0, reader=reader)
            noise = body.draw(step0, 1)
            noise = None if noise is None else jax.tree.map(lambda x: x[0], noise)
            solver_state = cfg.stepper.init(
                cfg.solver, system, t0, dt, y0, stage, noise
            )
        coupling = body._afferent(hs0, step0, t0, y0) if record else None
        core0 = LoopState(
            y=y0,
            step=step0,
            history=hs0,
            solver_state=solver_state,
            coupling=coupling,
        )
        return body, core0

    def _afferent(self, hs, step, tn, y):
        """The afferent coupling at the start of step `step` (for the monitors that
        record it): evaluated once from the state `y` and the history, as The
        Virtual Brain's `AfferentCoupling` monitor records it."""
        _, reader = self._reader(hs, step, tn)
        stage = Stage(tn=tn, step=step, reader=reader, c=0.0)
        return self.system.coupling.drift(tn, self.system.bounded(y), stage).coupling

    def _reader(self, hs, step, tn):
        if self.history is None:
            return hs, None
        return self.history.reader(hs, step, tn)

    def advance(self, core: LoopState, noise) -> LoopState:
        cfg, system = self.config, self.system
        dt = cfg.dt
        given = offsets = None
        if isinstance(noise, Drawn):
            noise, given, offsets = noise.noise, noise.given, _tabulated_at(cfg)
        step, y = core.step, core.y
        tn = cfg.grid.t0 + step.astype(_dtype(y)) * dt
        hs, reader = self._reader(core.history, step, tn)
        if cfg.hold and reader is not None:  # evaluated once, held over the stages
            held = Stage(tn=tn, step=step, reader=reader, c=0.0)
            regional = system.coupling.regional(tn, system.bounded(y), held)
            reader = HeldReader(regional)

        def stage_of(c):
            return Stage(
                tn=tn, step=step, reader=reader, c=c, given=given, offsets=offsets
            )

        y1, solver_state = cfg.stepper.step(
            cfg.solver, system, tn, y, dt, stage_of, core.solver_state, noise
        )
        y1 = system.bounded(y1)
        nxt = step + 1
        if self.history is not None:
            hs = self.history.write(hs, nxt, system.coupling.source(y1))
        coupling = None
        if self.record_coupling:
            coupling = self._afferent(hs, nxt, tn + dt, y1)
        return LoopState(
            y=y1, step=nxt, history=hs, solver_state=solver_state, coupling=coupling
        )

    def run(self, core, monitors, steps, noise, observe):
        def one(state, noise):
            core, monitors = state
            core = self.advance(core, noise)
            return (core, observe(monitors, core.y, core.step, core.coupling)), None

        return jax.lax.scan(one, (core, monitors), noise, length=steps)[0]

    def draw(self, start, count):
        """The noise of `count` steps from step `start`, with what the inputs
        tabulate ahead for them (`Drawn`) when an input does."""
        noise = draw_noise(self.key, self.config, self.names, start, count)
        offsets = _tabulated_at(self.config)
        if offsets is None:
            return noise
        cfg = self.config
        steps = start + jnp.arange(count, dtype=start.dtype)
        dtype = cfg.dtype
        tn = cfg.grid.t0 + steps.astype(dtype) * cfg.dt
        times = jnp.stack([tn + c * cfg.dt for c in offsets], axis=-1)
        given = self.system.tabulate(times)
        if given is None:
            return noise
        return Drawn(noise=noise, given=given)

    def rejoin(self, core, cut):
        if self.history is None:
            return core
        hs = self.history.rejoin(core.history, core.step, cut)
        return LoopState(
            y=core.y,
            step=core.step,
            history=hs,
            solver_state=core.solver_state,
            coupling=core.coupling,
        )


class Drawn(eqx.Module):
    """The per-step inputs of a stretch of steps when an input tabulates ahead:
    the noise increments (or None) and each input's tabulated values
    (`System.tabulate`), with a leading step axis."""

    noise: object
    given: tuple


def _tabulated_at(cfg) -> tuple[float, ...] | None:
    """The stage offsets (steps) at which inputs are tabulated ahead: the
    stepper's, with 0 (the start of the step, for values held over it); None when
    the stages are not known at trace time (a solver's own `step`)."""
    offsets = cfg.stepper.offsets(cfg.solver)
    if offsets is None:
        return None
    return tuple(sorted({0.0, *map(float, offsets)}))


def draw_noise(key, cfg, names, start, count):
    """The Brownian increments of `count` steps from step `start` of the state
    variables `names` (None without noise, `key` None): a function of the key and
    the step index only, so that blocks of steps draw theirs at once."""
    if key is None:
        return None
    space_time = levy_area_for(cfg.solver) is diffrax.SpaceTimeLevyArea
    steps = start + jnp.arange(count, dtype=start.dtype)
    return jax.vmap(
        lambda st: increments(
            key, st, names, cfg.n_nodes, cfg.dtype, cfg.dt, space_time
        )
    )(steps)


def _dtype(y):
    return jax.tree.leaves(y)[0].dtype
