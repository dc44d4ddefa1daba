"""`simulate()`: integrate a network (or a single node), compiled once per structure.

`simulate` is a thin Python function around one compiled program (`_solve`, an
`eqx.filter_jit`, as `diffrax.diffeqsolve` is). Before calling it, it validates the
arguments and derives, from the network's values, the static structure of the loop
(`_delay/_structure.py`): that structure, the time grid and the option objects are
the program's static key, and every array (parameters, weights, delays, initial
state, key) is an argument. So a second call with new parameter values, a new `k`,
new weights with the same non-zero pattern or a new `speed` with the same history
length runs the compiled program again without tracing.
"""

import dataclasses
import math
from collections.abc import Callable

import diffrax
import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
from jax.custom_batching import custom_vmap
from jax.custom_derivatives import SymbolicZero

from .._custom_types import Key, State
from .._delay._adjoint import AbstractDelayAdjoint, get_delay_adjoint
from .._delay._plan import check_no_delays, check_weights
from .._delay._structure import DelayStructure, concrete, derive, history_length
from .._delay.interpolation import AbstractInterpolation, get_interpolation
from .._network import Network
from .._solution import Solution
from ..coupling._base import AbstractLinearCoupling
from ..models import AbstractNode
from ..monitors import AbstractMonitor
from ..noise import AbstractNoise, OrnsteinUhlenbeck
from ._blocked_loop import blocked_sweep
from ._driver import loop_period, monitor_strides
from ._grid import TimeGrid, steps_of
from ._history import history_states
from ._loop import delayed_loop
from ._ode import solve_ode
from ._stepper import AbstractStepper, TableauStepper
from ._strategy import AbstractLoop, get_loop


@dataclasses.dataclass(frozen=True)
class LoopConfig:
    """The static configuration of the fixed-step loop (hashable: part of the key of
    the compiled program)."""

    solver: diffrax.AbstractSolver
    grid: TimeGrid
    interpolation: AbstractInterpolation
    coupling_evaluation: str
    adjoint: AbstractDelayAdjoint
    stepper: AbstractStepper
    structure: DelayStructure
    horizon: int | None  # gradient horizon in steps


@dataclasses.dataclass(frozen=True)
class _Static:
    """Everything static about one call (with the `LoopConfig`)."""

    cfg: LoopConfig
    ode: bool  # plain diffrax path (no delays, no loop-only features)
    block: int  # steps read per block (0: step by step)
    batch_block: int  # the same for a batch under vmap run as one loop
    variables: tuple[str, ...]
    default_y0: bool
    t1: float
    max_steps: int | None


def _as_network(model) -> Network:
    if isinstance(model, Network):
        return model
    if isinstance(model, AbstractNode):
        return Network(model, jnp.zeros((1, 1)))
    raise TypeError(
        "`model` must be an `nm.Network` or a node model such as "
        f"`nm.models.Hopf()`; got {type(model).__name__}."
    )


def _arrays(tree, dtype):
    """Python floats and weakly typed float arrays in `tree` as arrays of `dtype`
    (the network's), so that they are traced arguments of the compiled program
    rather than part of its key, and a value set with `eqx.tree_at` (`0.3`) runs the
    program compiled for the value it replaced (`jnp.asarray(0.2, float32)`)."""

    def strong(x):
        if isinstance(x, float):
            return jnp.asarray(x, dtype)
        if (
            isinstance(x, jax.Array)
            and x.weak_type
            and jnp.issubdtype(x.dtype, jnp.floating)
        ):
            return x.astype(dtype)
        return x

    return jax.tree.map(strong, tree, is_leaf=lambda x: isinstance(x, float))


def _check_state(name: str, y, net: Network) -> State:
    """`y` validated (variables, shapes, finite values); its leaves as arrays."""
    if not isinstance(y, dict):
        raise TypeError(
            f"`{name}` must be a dict {{variable: (N,) array}} with variables "
            f"{net.node.state_names}; got {type(y).__name__}."
        )
    names = net.node.state_names
    unknown = sorted(set(y) - set(names))
    missing = [v for v in names if v not in y]
    if unknown or missing:
        raise ValueError(
            f"`{name}` has unknown variable(s) {unknown} and lacks {missing}; "
            f"{type(net.node).__name__} has state variables {names}."
        )
    n = net.n_regions
    out = {}
    for v in names:
        x = y[v]
        shape = np.shape(x)
        if shape not in ((), (1,), (n,)):
            raise ValueError(
                f"`{name}[{v!r}]` has shape {shape}; expected a scalar or ({n},)."
            )
        c = concrete(x)
        if c is not None and not np.all(np.isfinite(c)):
            raise ValueError(f"`{name}[{v!r}]` contains NaN or inf.")
        out[v] = x if isinstance(x, jax.Array) else jnp.asarray(x, net.weights.dtype)
    return out


def simulate(
    model: Network | AbstractNode,
    *,
    t1: float,
    dt: float,
    t0: float = 0.0,
    y0: State | None = None,
    history: Callable | dict | None = None,
    solver: diffrax.AbstractSolver | None = None,
    save_every: float | None = None,
    transient: float = 0.0,
    variables: tuple[str, ...] | None = None,
    noise: AbstractNoise | None = None,
    key: Key | None = None,
    interpolation: str | AbstractInterpolation = "linear",
    coupling_evaluation: str = "stage",
    stepsize_controller: diffrax.AbstractStepSizeController | None = None,
    max_steps: int | None = None,
    monitors: list[AbstractMonitor] | tuple = (),
    checkpoint: bool | None = None,
    gradient_horizon: float | None = None,
    delay_adjoint: str | AbstractDelayAdjoint = "pulled",
    loop: AbstractLoop | None = None,
    stepper: AbstractStepper | None = None,
) -> Solution:
    r"""Integrate a network (or a single node) from `t0` to `t1`.

    - **Without delays** the system goes to `diffrax.diffeqsolve`: any Diffrax solver,
      a fixed step `dt` or an adaptive one (`stepsize_controller=diffrax.PIDController
      (...)`, `dt` is then the initial step).
    - **With noise** (here or in the network) the system is the Itô SDE
      `MultiTerm(ODETerm(drift), ControlTerm(diffusion, brownian))`, the Brownian path
      built from `key` (the same key gives the same trajectory).
    - **With delays** a fixed-step loop advances the Diffrax solver (see `stepper`).
      At every stage time $t$ the delayed values $x_j(t - \tau_{ij})$ are
      interpolated from a ring buffer of past states (`interpolation`). Zero delays
      are instantaneous coupling (the stage's own state); delays strictly between 0
      and `dt` are refused. Any explicit Runge-Kutta solver works (Euler, Heun,
      Midpoint, Ralston, Bosh3, Tsit5, ...), and for SDEs Euler, EulerHeun, Heun,
      SRA1 and ShARK.

    **Compiled once.** `simulate` runs one compiled program per *structure*: the
    network's edge pattern and history length (derived from its values at each call,
    see [`neuromass.Network`][]), the time grid, the solver and the options. Calling
    it again with new parameter values (a new `k`, node parameters, weights with the
    same non-zero edges, a `speed` with the same history length, a new `y0` or `key`)
    costs run time only, with or without a `jax.jit` around it.

    Decimation (`save_every`) and the transient happen inside the loop: memory grows
    with the saved samples, not with the steps. The saved samples are at
    `t0 + transient + k * save_every` (the first is the state at the end of the
    transient, the initial state when `transient = 0`) up to `t1`.

    **Arguments:**

    - `model`: an [`neuromass.Network`][] or a node model (simulated as one region).
    - `t1`, `dt`, `t0`: end time, step and start time in ms.
    - `y0`: initial state `{variable: scalar or (N,)}`; default: the history's value at
      `t0`, or the node's `initial_state(N)`.
    - `history`: the state on $t \le t_0$ for delayed networks: a callable
      `history(t) -> {variable: (N,)}`, or a dict `{variable: (M, N)}` of the last M
      states sampled every `dt`, the last one at `t0` (earlier times repeat the first
      sample), or [`neuromass.RandomHistory`][]`(key)` (drawn from the node's
      `state_ranges`). Default: constant, equal to `y0`.
    - `solver`: a Diffrax solver (default `diffrax.Heun()`).
    - `save_every`: sampling interval of the output in ms, a multiple of `dt` and at
      most `t1 - t0 - transient` (default `dt`).
    - `transient`: initial time (ms) simulated but not saved.
    - `variables`: the state variables to save (default: all).
    - `noise`: overrides the network's noise model.
    - `key`: a `jax.random` key, required with noise.
    - `interpolation`: how delayed states are read between grid points:
      [`neuromass.LinearInterpolation`][] (`"linear"`, default),
      [`neuromass.NearestInterpolation`][] (`"nearest"`: whole-step delays as TVB),
      [`neuromass.CubicInterpolation`][] (`"cubic"`).
    - `coupling_evaluation`: `"stage"` (default) evaluates the coupling at every solver
      stage from the history interpolated at that stage's time; `"step"` evaluates it
      once at the start of each step (delayed values at $t_n - \tau_{ij}$, local values
      $x_i(t_n)$) and holds it across the stages, as The Virtual Brain does. With
      `interpolation="nearest"` and `diffrax.Heun()` this is the TVB-parity mode (see
      the docs); it is first-order accurate in the coupling.
    - `stepsize_controller`: Diffrax step-size controller (non-delayed systems only).
    - `max_steps`: step budget for adaptive solves.
    - `monitors`: observation models stepped inside the loop (see
      `neuromass.monitors.AbstractMonitor`); their outputs are in
      `Solution.monitors[name]`.
    - `delay_adjoint`: how reverse-mode AD goes back through the delay history:
      [`neuromass.PulledDelayAdjoint`][] (`"pulled"`, default) or
      [`neuromass.AutodiffDelayAdjoint`][] (`"autodiff"`, also forward mode); each
      takes the options `checkpoint` and `gradient_horizon` of long gradients.
    - `checkpoint`, `gradient_horizon`: shorthands for the delay adjoint's options
      when `delay_adjoint` is a string.
    - `loop`: [`neuromass.BlockedLoop`][] (default where it applies) or
      [`neuromass.StepByStepLoop`][].
    - `stepper`: [`neuromass.TableauStepper`][] (default) or
      [`neuromass.SolverStepper`][].

    Monitors, `checkpoint` and `gradient_horizon` use the fixed-step loop (also for
    networks without delays), so they need a fixed step.

    **Returns:** a [`neuromass.Solution`][] with `ts` (T,), `ys` `{variable: (T, N)}`.

    !!! example

        ```python
        import neuromass as nm

        conn = nm.datasets.load_connectome()
        net = nm.Network(nm.models.Hopf(), conn.weights, lengths=conn.lengths,
                         speed=10.0, coupling="diffusive", k=0.5)
        sol = nm.simulate(net, t1=500.0, dt=0.1, save_every=1.0, transient=100.0)
        sol["x"].shape  # (401, 76)
        ```
    """
    net = _as_network(model)
    solver = diffrax.Heun() if solver is None else solver
    if not isinstance(solver, diffrax.AbstractSolver):
        raise TypeError(
            "`solver` must be a Diffrax solver such as `diffrax.Heun()`; got "
            f"{solver!r}."
        )
    interp = get_interpolation(interpolation)
    if coupling_evaluation not in ("stage", "step"):
        raise ValueError(
            "`coupling_evaluation` must be 'stage' or 'step'; got "
            f"{coupling_evaluation!r}."
        )
    adjoint = get_delay_adjoint(delay_adjoint, checkpoint, gradient_horizon)
    loop = get_loop(loop, interp)
    stepper = TableauStepper() if stepper is None else stepper
    if not isinstance(stepper, AbstractStepper):
        raise ValueError(
            "`stepper` must be `nm.TableauStepper()` or `nm.SolverStepper()`; got "
            f"{stepper!r}."
        )
    grid = TimeGrid.make(t0, t1, dt, save_every, transient)
    net.check()
    names = net.node.state_names
    noise = net.noise if noise is None else noise
    savable = names
    if isinstance(noise, OrnsteinUhlenbeck):
        savable = names + tuple(f"ou_{v}" for v in noise.names(net.node))
    if variables is None:
        variables = names
    variables = (variables,) if isinstance(variables, str) else tuple(variables)
    unknown = [v for v in variables if v not in savable]
    if unknown:
        raise ValueError(
            f"Cannot save unknown variable(s) {unknown}; state variables are {savable}."
        )
    if noise is not None:
        if not isinstance(noise, AbstractNoise):
            raise TypeError(
                f"`noise` must be an `nm.noise.AbstractNoise`; got {noise!r}."
            )
        if key is None:
            raise ValueError(
                "This simulation has noise, so it needs a random key: pass "
                "`key=jax.random.key(0)` (the same key gives the same trajectory)."
            )
    structure = derive(net, dt, interp.whole_steps)
    monitors = _check_monitors(monitors, net, savable)
    horizon = None
    if adjoint.gradient_horizon is not None:
        horizon = steps_of("`gradient_horizon`", adjoint.gradient_horizon, dt)
    loop_only = bool(monitors) or adjoint.checkpoint or horizon is not None
    ode = not structure.has_delays and coupling_evaluation == "stage" and not loop_only
    past = None
    if history is not None:
        if not structure.has_delays:
            raise ValueError("`history` was given but the network has no delays.")
        past = history_states(net, history, t0, dt, structure.length, _check_state)
    if y0 is not None:
        y0 = _check_state("y0", y0, net)
    if isinstance(noise, OrnsteinUhlenbeck):  # its processes as extra variables
        if y0 is None:
            y0 = (
                {v: past[v][-1] for v in names}
                if past is not None
                else net.node.initial_state(net.n_regions)
            )
        net, noise, y0 = noise.augment(net, y0, key)
    if not ode:
        if stepsize_controller is not None and not isinstance(
            stepsize_controller, diffrax.ConstantStepSize
        ):
            raise ValueError(
                "Delayed networks, monitors, `checkpoint` and `gradient_horizon` use "
                "a fixed step `dt`; adaptive `stepsize_controller`s are only "
                "supported for plain runs without delays."
            )
        if isinstance(solver, diffrax.AbstractImplicitSolver):
            raise ValueError(
                f"{type(solver).__name__} is implicit; delayed networks need an "
                "explicit solver (Euler, Heun, Midpoint, Ralston, Bosh3, Tsit5, ...)."
            )
    if not structure.has_delays and not ode:
        # the loop still needs a (one-slot) history: a zero-length delay plan
        structure = dataclasses.replace(structure, length=history_length(0.0))
    cfg = LoopConfig(
        solver=solver,
        grid=grid,
        interpolation=interp,
        coupling_evaluation=coupling_evaluation,
        adjoint=adjoint,
        stepper=stepper,
        structure=structure,
        horizon=horizon,
    )
    block = batch_block = 0
    if not ode:
        tableau = stepper.tableau(solver)
        why = _blocked_not_applicable(
            net, structure, interp, coupling_evaluation, tableau
        )
        g = loop_period(grid.stride, monitor_strides(monitors, dt))
        period = math.gcd(g, grid.n_trans)
        block = loop.block(structure.min_lag, period, why)
        batch_block = loop.batch_block(structure.min_lag, period, why)
    static = _Static(
        cfg=cfg,
        ode=ode,
        block=block,
        batch_block=batch_block,
        variables=variables,
        default_y0=y0 is None,
        t1=float(t1),
        max_steps=max_steps,
    )
    dtype = net.weights.dtype
    ts, ys, y_final, num_steps, monitor_out = _solve(
        _arrays(net, dtype),
        _arrays(y0, dtype),
        past,
        _arrays(noise, dtype),
        key,
        monitors,
        solver,
        stepsize_controller,
        static,
    )
    stats = dict(
        dt=dt,
        saved_every=grid.stride * dt,
        solver=type(solver).__name__,
        interpolation=interp.name if structure.has_delays else None,
        max_delay=structure.max_delay,
        loop="blocked" if block else ("ode" if ode else "step-by-step"),
        block=block,
        batch_block=batch_block,
    )
    return Solution(
        ts=ts,
        ys=ys,
        y_final=y_final,
        num_steps=num_steps,
        monitors=monitor_out,
        stats=stats,
    )


@eqx.filter_jit
def _solve(net, y0, past, noise, key, monitors, solver, controller, static: _Static):
    """The compiled program of one structure (see the module docstring)."""
    cfg = static.cfg
    structure = cfg.structure
    n = net.n_regions
    dtype = net.weights.dtype
    net = check_weights(net, structure)
    if static.default_y0:
        y0 = (
            {v: past[v][-1] for v in net.node.state_names}
            if past is not None
            else net.node.initial_state(n)
        )
    y0 = {v: jnp.broadcast_to(jnp.asarray(x, dtype), (n,)) for v, x in y0.items()}
    y0 = net.node.apply_bounds(y0)
    if past is not None:
        past = net.node.apply_bounds(past)
    if static.ode:
        net = check_no_delays(net, structure)
        ys, y_final, num_steps = solve_ode(
            net,
            structure.pattern,
            solver,
            y0,
            cfg.grid,
            static.t1,
            noise,
            key,
            controller,
            static.max_steps,
        )
        monitor_out = {}
    else:
        ys, y_final, monitor_out = _solve_delayed(
            net, y0, past, noise, key, monitors, cfg, static.block, static.batch_block
        )
        num_steps = jnp.asarray(cfg.grid.n_total)
    ys = {v: ys[v] for v in static.variables}
    return cfg.grid.ts(dtype), ys, y_final, num_steps, monitor_out


def _blocked_not_applicable(net, structure, interp, coupling_evaluation, tableau):
    """None when blocked reads apply (`BlockedLoop`), else the reason why not."""
    if not structure.has_delays:
        return "the network has no delays"
    if not interp.grid_taps:
        return (
            f"the {interp.name} interpolation has no fixed grid taps (use "
            "`interpolation='nearest'` or `'linear'`)"
        )
    if coupling_evaluation != "stage":
        return "it needs `coupling_evaluation='stage'`"
    if structure.has_zero:
        return "some delays are zero (instantaneous coupling)"
    if not isinstance(net.coupling, AbstractLinearCoupling):
        return (
            f"the coupling {type(net.coupling).__name__} is not linear in the "
            "delayed value"
        )
    if tableau is None or not set(tableau[0].tolist()) <= {0.0, 1.0}:
        return "the solver's stages must all be at c = 0 or 1 (Euler, Heun)"
    return None


def _solve_delayed(net, y0, past, noise, key, monitors, cfg, block, batch_block):
    """The fixed-step loop of a delayed network (or of monitors, checkpointing, ...).

    With `batch_block > 0` (blocked reads, `BlockedLoop`) the forward pass has a
    `custom_vmap` rule, which runs a vmapped batch as one loop of blocks of
    `batch_block` steps (`blocked_sweep`); a single run reads blocks of `block`
    steps (0: step by step). Reverse mode (`custom_vjp`) differentiates the
    single-run loop itself, whose history goes through the (blocked) pulled adjoint;
    with `AutodiffDelayAdjoint`, `custom_jvp` differentiates the step-by-step loop
    with plain AD (forward mode included)."""
    inputs = (net, y0, past, noise, key, monitors)
    if not batch_block:
        return delayed_loop(*inputs, cfg)
    dyn, static = eqx.partition(inputs, eqx.is_array)

    @custom_vmap
    def loop(dyn):
        return delayed_loop(*eqx.combine(dyn, static), cfg, block=block)

    @loop.def_vmap
    def _(axis_size, in_batched, dyn):
        """Under vmap (a sweep or an ensemble), one loop runs all the points with
        the sweep as the trailing axis of the delay ring (`blocked_sweep`), unless
        the delays themselves are swept."""
        axes = jax.tree.map(lambda b: 0 if b else None, in_batched[0])
        ax_net = axes[0]
        swept_delays = any(
            a is not None
            for a in jax.tree.leaves(
                (ax_net.lengths, ax_net.speed, ax_net.explicit_delays)
            )
        )
        if swept_delays:
            out = jax.vmap(loop.fun, in_axes=(axes,))(dyn)
        else:
            out = blocked_sweep(dyn, static, axes, axis_size, cfg, batch_block)
        return out, jax.tree.map(lambda _: True, out)

    def stepwise(dyn):
        return delayed_loop(*eqx.combine(dyn, static), cfg)

    if cfg.adjoint.pulled:  # reverse mode only, like the pulled adjoint
        # the single-run loop itself, its history through the pulled adjoint
        blocked = jax.custom_vjp(loop)
        blocked.defvjp(_pulled_fwd(loop.fun), _pulled_bwd, symbolic_zeros=True)
    else:
        blocked = jax.custom_jvp(loop)
        blocked.defjvp(lambda primals, tangents: jax.jvp(stepwise, primals, tangents))
    return blocked(dyn)


def _pulled_fwd(fun):
    """The forward rule of the blocked loop's `custom_vjp`: a VJP of `fun` with
    respect to the *perturbed* inputs only (`symbolic_zeros`). Differentiating every
    input kept, for example, each block's delay windows as residuals for the
    gradient of the weights even when nothing asked for it. Inside one compiled
    program XLA removed them again, but a plain (eager) `jax.grad` runs this forward
    rule as a program of its own, which wrote them all out (W3 nearest: 2.4x the
    jitted gradient)."""

    def fwd(dyn):
        values = jax.tree.map(lambda p: p.value, dyn, is_leaf=_is_primal)
        perturbed = jax.tree.map(lambda p: p.perturbed, dyn, is_leaf=_is_primal)
        diff, fixed = eqx.partition(values, perturbed)
        out, pull = jax.vjp(lambda d: fun(eqx.combine(d, fixed)), diff)
        return out, pull

    return fwd


def _pulled_bwd(pull, ct):
    """The backward rule: the cotangents of unused outputs (symbolic zeros) as
    zeros, then the pullback of `_pulled_fwd`'s VJP."""

    def zeros(c):
        if not isinstance(c, SymbolicZero):
            return c
        if c.dtype == jax.dtypes.float0:  # (integer outputs)
            return np.zeros(c.shape, c.dtype)
        return jnp.zeros(c.shape, c.dtype)

    return pull(jax.tree.map(zeros, ct, is_leaf=lambda c: isinstance(c, SymbolicZero)))


def _is_primal(x) -> bool:
    return isinstance(x, jax.custom_derivatives.CustomVJPPrimal)


def _check_monitors(monitors, net: Network, state_names) -> tuple:
    if monitors is None:
        return ()
    if isinstance(monitors, AbstractMonitor):
        monitors = (monitors,)
    monitors = tuple(monitors)
    names = set()
    for m in monitors:
        if not isinstance(m, AbstractMonitor):
            raise TypeError(
                "`monitors` must be a list of `nm.monitors` objects, e.g. "
                f"`[nm.monitors.Bold('x')]`; got {type(m).__name__}."
            )
        if m.name in names:
            raise ValueError(
                f"Two monitors are named {m.name!r}; give them distinct `name=`s."
            )
        names.add(m.name)
        unknown = [v for v in m.variables or () if v not in state_names]
        if unknown:
            raise ValueError(
                f"Monitor {m.name!r} observes unknown variable(s) {unknown}; "
                f"{type(net.node).__name__} has {state_names}."
            )
    return monitors
