"""`simulate()`: integrate a network (or a single node), compiled once per structure.

`simulate` is a thin Python function around one compiled program (`_solve`, an
`eqx.filter_jit`, as `diffrax.diffeqsolve` is). Before calling it, it validates the
arguments and derives, from the network's values, the static structure of the loop
(`_delay/_structure.py`): that structure, the time grid and the option objects are
the program's static key, and every array (parameters, weights, delays, initial
state, key) is an argument. So a second call with new parameter values, a new `k`,
new weights with the same non-zero pattern or a new `speed` with the same history
length runs the compiled program again without tracing.

The data path of one call: `simulate` checks the arguments, derives the
`DelayStructure` and the static `LoopConfig`; `_solve` (compiled) builds the
`System` (the node and its inputs: the long-range coupling, external inputs,
noise), the initial state and the history, then runs either `diffrax.diffeqsolve`
(no delay history: `_ode.py`) or the loop strategy (`_loop/`), which steps the
stepper (`_stepper/`) over the driver's time grid (`_driver.py`) and reads and
writes the delay history through the delay adjoint's operations (`_delay/`).
"""

import warnings
from collections.abc import Callable

import diffrax
import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np

from .._custom_types import Key, State
from .._delay._adjoint import AbstractDelayAdjoint, get_delay_adjoint
from .._delay._structure import concrete, derive
from .._delay.interpolation import AbstractInterpolation, get_interpolation
from .._inputs._stimulus import StimulusInput
from .._inputs._system import extra_names
from .._network import AbstractNetwork, Network
from .._solution import Solution
from .._surface import SurfaceNetwork
from ..coupling._base import AbstractLinearCoupling
from ..models import AbstractNode
from ..monitors import AbstractMonitor
from ..noise import AbstractNoise
from ..stimuli import AbstractStimulus
from ._driver import loop_period, monitor_strides, records_coupling
from ._grid import TimeGrid, steps_of
from ._history import history_states
from ._loop import AbstractLoop, StepByStepLoop, get_loop
from ._solve import Static, solve
from ._state import LoopConfig
from ._stepper import AbstractStepper, TableauStepper


def _as_network(model) -> AbstractNetwork:
    if isinstance(model, AbstractNetwork):
        return model
    if isinstance(model, AbstractNode):
        return Network(model, jnp.zeros((1, 1)))
    raise TypeError(
        "`model` must be an `nm.Network`, an `nm.SurfaceNetwork` or a node model "
        "such as "
        f"`nm.models.Hopf()`; got {type(model).__name__}."
    )


def _check_state(name: str, y, net: AbstractNetwork) -> State:
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
    n = net.n_nodes
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


def _check_key(key):
    if key is None:
        return None
    if not (
        isinstance(key, jax.Array)
        and (
            jax.dtypes.issubdtype(key.dtype, jax.dtypes.prng_key)
            or (key.dtype == jnp.uint32 and key.shape[-1:] == (2,))
        )
    ):
        raise TypeError(
            f"`key` must be a JAX random key such as `jax.random.key(0)`; got {key!r}."
        )
    return key


def simulate(
    model: AbstractNetwork | AbstractNode,
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
    stimulus: AbstractStimulus | None = None,
    stimulus_evaluation: str = "stage",
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
    see `neuromass.Network`), the time grid, the solver and the options. Calling
    it again with new parameter values (a new `k`, node parameters, weights with the
    same non-zero edges, a `speed` with the same history length, a new `y0` or `key`)
    costs run time only, with or without a `jax.jit` around it.

    Decimation (`save_every`) and the transient happen inside the loop: memory grows
    with the saved samples, not with the steps. The saved samples are at
    `t0 + transient + k * save_every` (the first is the state at the end of the
    transient, the initial state when `transient = 0`) up to `t1`.

    **Arguments:**

    - `model`: an `neuromass.Network` or a node model (simulated as one region).
    - `t1`, `dt`, `t0`: end time, step and start time in ms.
    - `y0`: initial state `{variable: scalar or (N,)}`; default: the history's value at
      `t0`, or the node's `initial_state(N)`.
    - `history`: the state on $t \le t_0$ for delayed networks: a callable
      `history(t) -> {variable: (N,)}`, or a dict `{variable: (M, N)}` of the last M
      states sampled every `dt`, the last one at `t0` (earlier times repeat the first
      sample), or `neuromass.RandomHistory``(key)` (drawn from the node's
      `state_ranges`). Default: constant, equal to `y0`.
    - `solver`: a Diffrax solver (default `diffrax.Heun()`).
    - `save_every`: sampling interval of the output in ms, a multiple of `dt` and at
      most `t1 - t0 - transient` (default `dt`).
    - `transient`: initial time (ms) simulated but not saved.
    - `variables`: the state variables to save (default: all).
    - `noise`: overrides the network's noise model.
    - `key`: a `jax.random` key, required with noise.
    - `interpolation`: how delayed states are read between grid points:
      `neuromass.LinearInterpolation` (`"linear"`, default),
      `neuromass.NearestInterpolation` (`"nearest"`: whole-step delays as TVB),
      `neuromass.CubicInterpolation` (`"cubic"`).
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
      `neuromass.PulledDelayAdjoint` (`"pulled"`, default) or
      `neuromass.AutodiffDelayAdjoint` (`"autodiff"`, also forward mode); each
      takes the options `checkpoint` and `gradient_horizon` of long gradients.
    - `checkpoint`, `gradient_horizon`: shorthands for the delay adjoint's options
      when `delay_adjoint` is a string.
    - `loop`: `neuromass.BlockedLoop` (default where it applies) or
      `neuromass.StepByStepLoop`.
    - `stepper`: `neuromass.TableauStepper` (default) or
      `neuromass.SolverStepper`.
    - `stimulus`: a stimulus of `neuromass.stimuli` (e.g.
      `neuromass.stimuli.RegionStimulus`), added to the derivatives of the
      variables it stimulates (by default the coupled variables, TVB's `stvar`).
    - `stimulus_evaluation`: `"stage"` (default) evaluates the stimulus at every
      stage time; `"step"` evaluates it at the start of each step and holds it over
      the step, as tvb-library's integrators add `dt * S` (the TVB-parity form).

    Monitors, `checkpoint` and `gradient_horizon` use the fixed-step loop (also for
    networks without delays), so they need a fixed step.

    **Returns:** a `neuromass.Solution` with `ts` (T,), `ys` `{variable: (T, N)}`.

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
    stepper = stepper.for_solver(solver)
    grid = TimeGrid.make(t0, t1, dt, save_every, transient)
    net.check()
    noise = net.noise if noise is None else noise
    if noise is not None and not isinstance(noise, AbstractNoise):
        raise TypeError(f"`noise` must be an `nm.noise.AbstractNoise`; got {noise!r}.")
    extra_inputs = () if noise is None else (noise,)
    if stimulus_evaluation not in ("stage", "step"):
        raise ValueError(
            "`stimulus_evaluation` must be 'stage' or 'step'; got "
            f"{stimulus_evaluation!r}."
        )
    if stimulus is not None:
        if not isinstance(stimulus, AbstractStimulus):
            raise TypeError(
                "`stimulus` must be a stimulus of `nm.stimuli`, e.g. "
                "`nm.stimuli.RegionStimulus(weights, nm.equations.PulseTrain())`; got "
                f"{type(stimulus).__name__}."
            )
        stimulus.check_covers(t0, t1)
        extra_inputs += (
            StimulusInput(
                stimulus,
                net.coupled_vars,
                held=stimulus_evaluation == "step",
                span=jnp.asarray([t0, t1]),
            ),
        )
    for inp in extra_inputs:
        inp.check(net.node, net.n_nodes)
    names = net.node.state_names
    savable = names + extra_names(net.node, extra_inputs)
    if variables is None:
        variables = names
    variables = (variables,) if isinstance(variables, str) else tuple(variables)
    unknown = [v for v in variables if v not in savable]
    if unknown:
        raise ValueError(
            f"Cannot save unknown variable(s) {unknown}; state variables are {savable}."
        )
    key = _check_key(key)
    if noise is not None and key is None:
        raise ValueError(
            "This simulation has noise, so it needs a random key: pass "
            "`key=jax.random.key(0)` (the same key gives the same trajectory)."
        )
    if noise is None:
        key = None  # nothing random: the key does not enter the program
    structure = derive(net, dt, interp.whole_steps)
    if y0 is None and history is None and not extra_inputs:
        _warn_if_symmetric(net, structure)
    monitors = _check_monitors(monitors, net, savable)
    if adjoint.gradient_horizon is not None:
        steps_of("`gradient_horizon`", adjoint.gradient_horizon, dt)
    loop_only = bool(monitors) or adjoint.checkpoint or adjoint.gradient_horizon
    hold = coupling_evaluation == "step"
    held = hold or (stimulus is not None and stimulus_evaluation == "step")
    ode = not structure.has_delays and not held and not loop_only
    past = None
    if history is not None:
        if not structure.has_delays:
            raise ValueError("`history` was given but the network has no delays.")
        past = history_states(net, history, t0, dt, structure.length, _check_state)
    if y0 is not None:
        y0 = _check_state("y0", y0, net)
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
    g = loop_period(grid.stride, monitor_strides(monitors, dt))
    config = LoopConfig(
        solver=solver,
        stepper=stepper,
        loop=StepByStepLoop() if ode or not structure.has_delays else loop,
        adjoint=adjoint,
        grid=grid,
        period=int(np.gcd(g, grid.n_trans)),
        interpolation=interp,
        structure=structure,
        hold=hold,
        linear=net.coupling_is_linear,
        n_nodes=net.n_nodes,
        nodes=net.node_map() if isinstance(net, SurfaceNetwork) else None,
        records_coupling=records_coupling(monitors),
        dtype=np.dtype(net.weights.dtype),
    )
    block, batch_block = (0, 0) if ode else config.loop.sizes(config)
    static = Static(
        config=config,
        ode=ode,
        variables=variables,
        default_y0=y0 is None,
        max_steps=max_steps,
    )
    ts, ys, y_final, num_steps, monitor_out = solve(
        net.canonical(structure),
        y0,
        past,
        extra_inputs,
        key,
        monitors,
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


class SymmetricStartWarning(UserWarning):
    """Every region of a deterministic network starts in the same state and nothing
    breaks the symmetry: they all follow the same trajectory."""


def _warn_if_symmetric(net, structure) -> None:
    """Warn when every region starts in the node's default state (the same for all)
    and nothing can make their trajectories differ: no noise, stimulus or external
    input, every node parameter a scalar, and a coupling that gives every region
    the same input while the states are equal (k = 0 or no edges; or, without
    delays, a difference coupling, or equal in-strengths). The Virtual Brain
    starts from a random history, so its users expect differing regions (an
    exploration at k = 0 gave FC = 1 everywhere)."""
    if not isinstance(net, Network) or net.n_regions < 2 or net.inputs is not None:
        return  # an external input may differ between regions
    params = list(net.node.parameters().values()) + [net.k]
    if any(np.ndim(p) > 0 and np.size(p) > 1 for p in params if eqx.is_array(p)):
        c = [concrete(p) for p in params if eqx.is_array(p) and np.size(p) > 1]
        if any(x is None or np.ptp(x) > 0 for x in c):
            return
    k, w = concrete(net.k), concrete(net.weights)
    if k is None or w is None:
        return
    mask = structure.pattern.mask
    silent = not np.any(k) or not mask.any()
    if not silent:
        if structure.has_delays:
            return
        rows = (w * mask).sum(axis=1)
        local = getattr(net.coupling, "local", None)
        silent = (
            isinstance(net.coupling, AbstractLinearCoupling) and local == 1.0
        ) or np.ptp(rows) == 0
    if silent:
        warnings.warn(
            "Every region starts in the same state (the node's default) and nothing "
            "breaks the symmetry (no noise or stimulus, equal parameters, a "
            "coupling that gives every region the same input): every region will "
            "follow the same trajectory (FC = 1). Start from differing states, e.g. "
            "`y0=net.node.initial_state(net.n_regions, key=jax.random.key(0))` or "
            "`history=nm.RandomHistory(key)` (as TVB's random initial history), or "
            "add noise.",
            SymmetricStartWarning,
            stacklevel=3,
        )


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
        if getattr(m, "observes", "state") == "coupling":
            unknown = [v for v in m.variables or () if v not in net.coupled_vars]
            if unknown:
                raise ValueError(
                    f"Monitor {m.name!r} records the coupling of {unknown}, which "
                    f"are not coupled variables; the network couples "
                    f"{net.coupled_vars}."
                )
            continue
        unknown = [v for v in m.variables or () if v not in state_names]
        if unknown:
            raise ValueError(
                f"Monitor {m.name!r} observes unknown variable(s) {unknown}; "
                f"{type(net.node).__name__} has {state_names}."
            )
    return monitors
