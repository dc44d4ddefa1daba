"""`simulate()`: integrate a network (or a single node) with Diffrax."""

import math
from collections.abc import Callable

import diffrax
import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
from jax.custom_batching import custom_vmap

from . import _adjoint as adj, _blocked as blk, _history as hist
from ._custom_types import Key, State
from ._network import Network, _concrete
from ._solution import Solution
from .coupling._base import AbstractLinearCoupling, sum_edges
from .models import AbstractNode
from .monitors import AbstractMonitor, MonitorOutput
from .noise import AbstractNoise


class _StepIncrement(diffrax.AbstractBrownianPath):
    """A Brownian path that only knows one step: the increment drawn for it."""

    W: dict
    H: dict | None
    dt: float = eqx.field(static=True)
    levy_area: type = eqx.field(static=True)

    @property
    def t0(self):
        return -jnp.inf

    @property
    def t1(self):
        return jnp.inf

    def evaluate(self, t0, t1=None, left=True, use_levy=False):
        if not use_levy:
            return self.W
        dt = jnp.asarray(self.dt, dtype=jax.tree_util.tree_leaves(self.W)[0].dtype)
        if self.levy_area is diffrax.SpaceTimeLevyArea:
            return diffrax.SpaceTimeLevyArea(dt=dt, W=self.W, H=self.H)
        return diffrax.BrownianIncrement(dt=dt, W=self.W)


def _levy_area_for(solver) -> type:
    minimal = getattr(solver, "minimal_levy_area", diffrax.BrownianIncrement)
    if minimal in (diffrax.BrownianIncrement, diffrax.AbstractBrownianIncrement):
        return diffrax.BrownianIncrement
    if issubclass(diffrax.SpaceTimeLevyArea, minimal):
        return diffrax.SpaceTimeLevyArea
    raise ValueError(
        f"Solver {type(solver).__name__} needs Lévy area {minimal.__name__}, which "
        "neuromass does not generate; use Euler, EulerHeun, Heun, SRA1 or ShARK."
    )


def _as_network(model) -> Network:
    if isinstance(model, Network):
        return model
    if isinstance(model, AbstractNode):
        return Network(model, jnp.zeros((1, 1)))
    raise TypeError(
        "`model` must be an `nm.Network` or a node model such as "
        f"`nm.models.Hopf()`; got {type(model).__name__}."
    )


def _check_state(name: str, y, net: Network) -> State:
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
        x = jnp.asarray(y[v], dtype=net.weights.dtype)
        if x.shape not in ((), (1,), (n,)):
            raise ValueError(
                f"`{name}[{v!r}]` has shape {x.shape}; expected a scalar or ({n},)."
            )
        c = _concrete(x)
        if c is not None and not np.all(np.isfinite(c)):
            raise ValueError(f"`{name}[{v!r}]` contains NaN or inf.")
        out[v] = jnp.broadcast_to(x, (n,))
    return out


def _time_grid(t0, t1, dt, save_every, transient):
    for name, val in (("t0", t0), ("t1", t1), ("dt", dt), ("transient", transient)):
        if not isinstance(val, int | float) or not math.isfinite(val):
            raise ValueError(
                f"`{name}` must be a finite Python number (ms); got {val!r}."
            )
    if dt <= 0:
        raise ValueError(f"`dt` must be positive (ms); got {dt}.")
    if t1 <= t0:
        raise ValueError(f"`t1` ({t1}) must be later than `t0` ({t0}).")
    n_total = int(math.floor((t1 - t0) / dt + 1e-6))
    if n_total < 1:
        raise ValueError(
            f"`dt`={dt} ms is longer than the simulated span {t1 - t0} ms."
        )
    if transient < 0 or transient > t1 - t0:
        raise ValueError(
            f"`transient` must be in [0, t1 - t0] = [0, {t1 - t0}] ms; got {transient}."
        )
    save_every = dt if save_every is None else save_every
    stride = round(save_every / dt)
    if stride < 1 or abs(stride * dt - save_every) > 1e-6 * max(save_every, dt):
        raise ValueError(
            f"`save_every`={save_every} ms must be a positive multiple of `dt`={dt} ms."
        )
    n_trans = int(math.ceil(transient / dt - 1e-6))
    n_save = (n_total - n_trans) // stride + 1
    return n_total, n_trans, stride, n_save


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
    interpolation: str = "linear",
    coupling_evaluation: str = "stage",
    stepsize_controller: diffrax.AbstractStepSizeController | None = None,
    max_steps: int | None = None,
    monitors: list[AbstractMonitor] | tuple = (),
    checkpoint: bool = False,
    gradient_horizon: float | None = None,
    delay_adjoint: str = "pulled",
) -> Solution:
    r"""Integrate a network (or a single node) from `t0` to `t1`.

    - **Without delays** the system goes to `diffrax.diffeqsolve`: any Diffrax solver,
      a fixed step `dt` or an adaptive one (`stepsize_controller=diffrax.PIDController
      (...)`, `dt` is then the initial step).
    - **With noise** (here or in the network) the system is the Itô SDE
      `MultiTerm(ODETerm(drift), ControlTerm(diffusion, brownian))`, the Brownian path
      built from `key` (the same key gives the same trajectory).
    - **With delays** a fixed-step loop advances the Diffrax solver: explicit
      Runge-Kutta solvers by unrolling the Butcher tableau read from the solver (the
      same update as its `step`, tested), others (EulerHeun, SRA1, ShARK, ...)
      through the solver's own `step`. At every
      stage time $t$ the delayed values $x_j(t - \tau_{ij})$ are interpolated from a
      ring buffer of past states (`interpolation="nearest" | "linear" | "cubic"`).
      Zero delays are instantaneous coupling (the stage's own state); delays strictly
      between 0 and `dt` are refused. Any explicit Runge-Kutta solver works (Euler,
      Heun, Midpoint, Ralston, Bosh3, Tsit5, ...), and for SDEs Euler, EulerHeun, Heun,
      SRA1 and ShARK.

    Decimation (`save_every`) and the transient happen inside the loop: memory grows
    with the saved samples, not with the steps.

    With `interpolation="nearest"`, a coupling linear in the delayed value and Euler
    or Heun, the delayed reads of several steps are computed at once (blocks of up
    to the shortest delay, dividing `save_every`), and under `jax.vmap` a batch runs
    as one loop; the results, and the reverse-mode gradients, are those of the
    step-by-step loop (docs: Delays → Performance notes).

    **Arguments:**

    - `model`: an [`neuromass.Network`][] or a node model (simulated as one region).
    - `t1`, `dt`, `t0`: end time, step and start time in ms.
    - `y0`: initial state `{variable: scalar or (N,)}`; default: the history's value at
      `t0`, or the node's `initial_state(N)`.
    - `history`: the state on $t \le t_0$ for delayed networks: a callable
      `history(t) -> {variable: (N,)}`, or a dict `{variable: (M, N)}` of the last M
      states sampled every `dt`, the last one at `t0` (earlier times repeat the first
      sample). Default: constant, equal to `y0`.
    - `solver`: a Diffrax solver (default `diffrax.Heun()`).
    - `save_every`: sampling interval of the output in ms, a multiple of `dt`
      (default `dt`).
    - `transient`: initial time (ms) simulated but not saved.
    - `variables`: the state variables to save (default: all).
    - `noise`: overrides the network's noise model.
    - `key`: a `jax.random` key, required with noise.
    - `interpolation`: how delayed states are read between grid points.
    - `coupling_evaluation`: `"stage"` (default) evaluates the coupling at every solver
      stage from the history interpolated at that stage's time; `"step"` evaluates it
      once at the start of each step (delayed values at $t_n - \tau_{ij}$, local values
      $x_i(t_n)$) and holds it across the stages, as The Virtual Brain does. With
      `interpolation="nearest"` and `diffrax.Heun()` this is the TVB-parity mode (see
      the docs); it is first-order accurate in the coupling.
    - `stepsize_controller`: Diffrax step-size controller (non-delayed systems only).
    - `max_steps`: step budget for adaptive solves.
    - `monitors`: observation models stepped inside the loop (see
      [`neuromass.monitors`][]); their outputs are in `Solution.monitors[name]`.
    - `checkpoint`: for reverse-mode gradients of long runs: store the loop state only
      once per block of steps (the saving interval, or the greatest common period of
      the monitors) and recompute inside each block during the backward pass, so
      memory grows with the number of blocks instead of steps. The stored state
      includes the delay history, so with the pulled delay adjoint (below), whose
      steps keep no history at all, checkpointing costs memory rather than saving it.
    - `gradient_horizon`: truncated backpropagation through time: gradients flow back
      at most this many ms (a multiple of the block) before being cut, which keeps
      gradients of long chaotic runs bounded. The forward solution is unchanged.
    - `delay_adjoint`: how reverse-mode AD goes back through the delay history of a
      coupling linear in the delayed value (`Linear`, `Diffusive`, ...) with Euler or
      Heun and `"nearest"`/`"linear"` interpolation. `"pulled"` (default): a
      hand-written adjoint that pulls each state's cotangent from the later reads
      that used it, through its out-edges (no scatter-add into the history; several
      times faster than plain AD); it defines reverse mode only. `"autodiff"`: plain
      JAX AD through the loop, which also supports forward mode (`jax.jvp`,
      `jax.jacfwd`). The forward solution is the same either way; other couplings
      and solvers always use plain AD.

    Monitors, `checkpoint` and `gradient_horizon` use the fixed-step loop (also for
    networks without delays), so they need a fixed step.

    **Returns:** a [`neuromass.Solution`][] with `ts` (T,), `ys` `{variable: (T, N)}`.

    !!! example

        ```python
        import jax
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
    if interpolation not in hist.INTERPOLATIONS:
        raise ValueError(
            f"`interpolation` must be one of {hist.INTERPOLATIONS}; got "
            f"{interpolation!r}."
        )
    if coupling_evaluation not in ("stage", "step"):
        raise ValueError(
            "`coupling_evaluation` must be 'stage' or 'step'; got "
            f"{coupling_evaluation!r}."
        )
    if delay_adjoint not in ("pulled", "autodiff"):
        raise ValueError(
            f"`delay_adjoint` must be 'pulled' or 'autodiff'; got {delay_adjoint!r}."
        )
    n_total, n_trans, stride, n_save = _time_grid(t0, t1, dt, save_every, transient)
    names = net.node.state_names
    if variables is None:
        variables = names
    variables = (variables,) if isinstance(variables, str) else tuple(variables)
    unknown = [v for v in variables if v not in names]
    if unknown:
        raise ValueError(
            f"Cannot save unknown variable(s) {unknown}; state variables are {names}."
        )
    noise = net.noise if noise is None else noise
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
    past = _history_states(net, history, t0, dt) if history is not None else None
    if y0 is None:
        y0 = (
            {v: past[v][-1] for v in names}
            if past is not None
            else net.node.initial_state(net.n_regions)
        )
    y0 = net.node.apply_bounds(_check_state("y0", y0, net))
    if past is not None:
        past = net.node.apply_bounds(past)
    ts = t0 + (n_trans + stride * jnp.arange(n_save)) * dt
    stats = dict(
        dt=dt,
        saved_every=stride * dt,
        solver=type(solver).__name__,
        interpolation=interpolation if net.has_delays else None,
        max_delay=net.max_delay,
    )
    monitors = _check_monitors(monitors, net, dt)
    horizon = None
    if gradient_horizon is not None:
        horizon = _stride_of("`gradient_horizon`", gradient_horizon, dt)
    loop_only = bool(monitors) or checkpoint or horizon is not None
    monitor_out = {}
    if not net.has_delays and coupling_evaluation == "stage" and not loop_only:
        if history is not None:
            raise ValueError("`history` was given but the network has no delays.")
        ys, y_final, steps = _solve_diffrax(
            net, solver, y0, t0, t1, dt, ts, noise, key, stepsize_controller, max_steps
        )
        num_steps = steps
    else:
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
        ys, y_final, monitor_out = _solve_delayed(
            net,
            solver,
            y0,
            past,
            t0,
            dt,
            n_trans,
            stride,
            n_save,
            noise,
            key,
            interpolation,
            coupling_evaluation,
            monitors,
            checkpoint,
            horizon,
            delay_adjoint,
        )
        num_steps = jnp.asarray(n_total)
    ys = {v: ys[v] for v in variables}
    return Solution(
        ts=ts,
        ys=ys,
        y_final=y_final,
        num_steps=num_steps,
        monitors=monitor_out,
        stats=stats,
    )


def _check_monitors(monitors, net: Network, dt: float) -> tuple:
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
        used = getattr(m, "variables", None) or ()
        unknown = [v for v in used if v not in net.node.state_names]
        if unknown:
            raise ValueError(
                f"Monitor {m.name!r} observes unknown variable(s) {unknown}; "
                f"{type(net.node).__name__} has {net.node.state_names}."
            )
    return monitors


# --------------------------------------------------------------------------- helpers
def _history_states(net: Network, history, t0, dt) -> State:
    """History as `{variable: (M, N)}` on the grid ending at t0."""
    names = net.node.state_names
    n = net.n_regions
    if not net.has_delays:
        raise ValueError("`history` was given but the network has no delays.")
    length = int(np.ceil(net.max_delay / dt + hist._SNAP)) + 5
    if callable(history):
        times = t0 + dt * jnp.arange(-length + 1, 1)
        out = jax.vmap(history)(times)
        if not isinstance(out, dict):
            raise TypeError("`history(t)` must return a dict {variable: (N,) array}.")
        out = {v: jnp.broadcast_to(jnp.asarray(x), (length, n)) for v, x in out.items()}
        _check_state("history(t)", {v: x[-1] for v, x in out.items()}, net)
        return out
    if isinstance(history, dict):
        _check_state(
            "history", {v: jnp.asarray(x)[-1] for v, x in history.items()}, net
        )
        out = {}
        for v in names:
            x = jnp.asarray(history[v], dtype=net.weights.dtype)
            if x.ndim != 2 or x.shape[1] != n:
                raise ValueError(
                    f"`history[{v!r}]` must have shape (M, {n}) (M past samples every "
                    f"dt, the last at t0); got {x.shape}."
                )
            out[v] = x
        return out
    raise TypeError(
        "`history` must be a callable `history(t) -> state dict` or a dict of "
        "(M, N) arrays."
    )


def _diffusion_term(net: Network, noise: AbstractNoise, path):
    import lineax as lx

    def g(t, y, args):
        return lx.DiagonalLinearOperator(noise.diffusion(t, y))

    return diffrax.ControlTerm(g, path)


def _solve_diffrax(net, solver, y0, t0, t1, dt, ts, noise, key, controller, max_steps):
    drift = diffrax.ODETerm(net.vector_field)
    n_fixed = int(math.floor((t1 - t0) / dt + 1e-6))
    t_end = t0 + n_fixed * dt
    if noise is not None:
        shape = {v: jax.ShapeDtypeStruct(x.shape, x.dtype) for v, x in y0.items()}
        bm = diffrax.VirtualBrownianTree(
            t0,
            t_end,
            tol=dt / 4,
            shape=shape,
            key=key,
            levy_area=_levy_area_for(solver),
        )
        terms = diffrax.MultiTerm(drift, _diffusion_term(net, noise, bm))
    else:
        terms = drift
    if controller is None:
        controller = diffrax.ConstantStepSize()
    if max_steps is None:
        adaptive = not isinstance(controller, diffrax.ConstantStepSize)
        max_steps = 16**4 if adaptive else n_fixed + 1
    sol = diffrax.diffeqsolve(
        terms,
        solver,
        t0,
        t_end,
        dt,
        y0,
        saveat=diffrax.SaveAt(ts=ts, t1=True),
        stepsize_controller=controller,
        max_steps=max_steps,
    )
    out = net.node.apply_bounds(sol.ys)
    ys = {v: x[:-1] for v, x in out.items()}
    y_final = {v: x[-1] for v, x in out.items()}
    return ys, y_final, sol.stats["num_steps"]


def _solve_delayed(
    net,
    solver,
    y0,
    past,
    t0,
    dt,
    n_trans,
    stride,
    n_save,
    noise,
    key,
    interpolation,
    coupling_evaluation="stage",
    monitors=(),
    checkpoint=False,
    horizon=None,
    delay_adjoint="pulled",
):
    """The fixed-step loop of a delayed network (or of monitors, checkpointing, ...).

    Nearest reads of a linear coupling with Euler or Heun are computed in blocks of
    steps (`_blocked`). That forward pass has a `custom_vmap` rule, which runs a
    vmapped batch as one loop (`_blocked_sweep`). Reverse mode (`custom_vjp`)
    differentiates the blocked loop itself, whose history goes through the blocked
    pulled adjoint (`_blocked.write`/`route`/`init_pulled`); with
    `delay_adjoint="autodiff"`, `custom_jvp` differentiates the step-by-step loop
    with plain AD (forward mode included)."""
    settings = (solver, t0, dt, n_trans, stride, n_save, interpolation)
    settings += (coupling_evaluation, checkpoint, horizon, delay_adjoint)
    size = _blocked_size(net, solver, dt, interpolation, coupling_evaluation)
    if size:
        g = _loop_period(stride, _monitor_strides(monitors, dt))
        size = blk.block_steps(
            hist.make_plan(net, dt, interpolation),
            net.pattern.valid,
            math.gcd(g, n_trans),
            round(net.min_delay / dt),
        )
    inputs = (net, y0, past, noise, key, monitors)
    if not size:
        return _delayed_loop(*inputs, *settings)
    dyn, static = eqx.partition(inputs, eqx.is_array)

    @custom_vmap
    def loop(dyn):
        return _delayed_loop(*eqx.combine(dyn, static), *settings, block=size)

    @loop.def_vmap
    def _(axis_size, in_batched, dyn):
        """Under vmap (a sweep or an ensemble), one loop runs all the points with
        the sweep as the trailing axis of the delay ring (`_blocked_sweep`),
        unless the delays themselves are swept."""
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
            out = _blocked_sweep(dyn, static, axes, axis_size, settings, size)
        return out, jax.tree.map(lambda _: True, out)

    def stepwise(dyn):
        return _delayed_loop(*eqx.combine(dyn, static), *settings)

    if delay_adjoint == "pulled":  # reverse mode only, like the pulled adjoint
        # the blocked loop itself, its history through the blocked pulled adjoint
        blocked = jax.custom_vjp(loop)
        blocked.defvjp(lambda dyn: jax.vjp(loop.fun, dyn), lambda pull, ct: pull(ct))
    else:
        blocked = jax.custom_jvp(loop)
        blocked.defjvp(lambda primals, tangents: jax.jvp(stepwise, primals, tangents))
    return blocked(dyn)


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


def _blocked_sweep(dyn, static, axes, size, settings, block):
    """The blocked loop (`_blocked`) of `size` points at once: the batched inputs
    `dyn` (sweep as the leading axis where `axes` is 0) run through one loop whose
    delay ring keeps the sweep as its trailing axis, so that each edge's window is
    one contiguous slice for all points; the per-point arithmetic is vmapped.
    Returns the outputs of `_delayed_loop` with the sweep as their leading axis."""
    solver, t0, dt, n_trans, stride, n_save, interpolation = settings[:7]
    checkpoint, horizon = settings[8], settings[9]
    net_d, y0, past, noise_d, key, mon_d = dyn
    net_s, _, _, noise_s, _, mon_s = static
    ax_net, ax_y0, ax_past, ax_noise, ax_key, ax_mon = axes

    def net_of(d):
        return eqx.combine(d, net_s)

    def per_point(fn, ax, *args):
        return jax.vmap(fn, in_axes=ax, axis_size=size)(*args)

    template = net_of(net_d)  # static structure only (its leaves may be batched)
    cv, names = template.coupled_vars, template.node.state_names
    valid = template.pattern.valid
    plan = jax.vmap(
        lambda d: hist.make_plan(net_of(d), dt, interpolation),
        in_axes=(ax_net,),
        out_axes=None,
        axis_size=size,
    )(net_d)
    swept = ax_net.weights is not None
    w_edges = per_point(lambda d: net_of(d).edge_weights(), (ax_net,), net_d)
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
        lambda y, p: _coupled_past(y, p, cv, plan.length), (0, ax_past), y0, past
    )  # (B, L, N, V)
    dtype = template.weights.dtype
    past_c = jnp.moveaxis(past_c.astype(dtype), 0, -1)
    ring = blk.init(bplan, past_c)
    first = jnp.moveaxis(blk.sums(bplan, ring, -1, swept_weights)[0], -1, 0)
    cached0 = jnp.broadcast_to(first[:, None], (size, block + 1) + first.shape[1:])
    tableau = _explicit_tableau(solver)
    t0_ = jnp.asarray(t0, dtype)
    noise = None if noise_d is None and noise_s is None else (noise_d, noise_s)

    def begin(core):
        y, sstate, ring, pending, step, cached = core
        ring, sums = blk.exchange(bplan, ring, step, pending, swept_weights)
        sums = jnp.concatenate([cached[:, -1:], jnp.moveaxis(sums, -1, 0)], axis=1)
        return (y, sstate, ring, None, step, sums), sums

    def advance(y, step, wh, s, sums):
        tn = t0_ + step.astype(dtype) * dt
        W = None if noise is None else wh[0]

        def one(net_d, noise_d, rs, y, r0, r1, W):
            nz = None if noise is None else eqx.combine(noise_d, noise[1])
            reads = {0.0: r0, 1.0: r1}
            return _block_step(net_of(net_d), nz, rs, tableau, dt, tn, y, reads, W)

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
        _, sstate, ring, _, _, cached = core
        pending = jnp.stack([states[v] for v in cv], axis=-1)  # (S, B, N, V)
        return (y, sstate, ring, jnp.moveaxis(pending, 1, -1), step, cached)

    space_time = _levy_area_for(solver) is diffrax.SpaceTimeLevyArea
    n = template.pattern.idx.shape[1]

    def draw(start, count):
        if noise is None:
            return None
        steps = start + jnp.arange(count, dtype=start.dtype)

        def of_key(k):
            return jax.vmap(
                lambda st: _increments(k, st, names, n, dtype, dt, space_time)
            )(steps)

        if ax_key is None:
            return of_key(key)
        return jax.vmap(of_key, out_axes=1)(key)

    monitors = tuple(
        _SweptMonitor(d, s, a)
        for d, s, a in zip(mon_d or (), mon_s or (), ax_mon or ())
    )
    core0 = (y0, None, ring, past_c[-block:], jnp.asarray(0, jnp.int32), cached0)
    ys, y_final, results = _drive(
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
        (block, begin, end),
    )
    ys = {v: jnp.moveaxis(x, 1, 0) for v, x in ys.items()}
    for name, out in results.items():
        if out.ts is not None:
            data = jax.tree.map(lambda x: jnp.moveaxis(x, 1, 0), out.data)
            ts = jnp.broadcast_to(out.ts, (size,) + out.ts.shape)
            results[name] = MonitorOutput(ts=ts, data=data)
    return ys, y_final, results


def _blocked_size(net, solver, dt, interpolation, coupling_evaluation) -> bool:
    """Whether the loop can read the delays in blocks of steps (see `_blocked`)."""
    tableau = _explicit_tableau(solver) if _UNROLL_TABLEAU else None
    return (
        blk.ENABLED
        and interpolation == "nearest"
        and coupling_evaluation == "stage"
        and net.has_delays
        and not net.pattern.has_zero_delay
        and isinstance(net.coupling, AbstractLinearCoupling)
        and tableau is not None
        and set(tableau[0].tolist()) <= {0.0, 1.0}
    )


def _delayed_loop(
    net,
    y0,
    past,
    noise,
    key,
    monitors,
    solver,
    t0,
    dt,
    n_trans,
    stride,
    n_save,
    interpolation,
    coupling_evaluation,
    checkpoint,
    horizon,
    delay_adjoint,
    block=0,
):
    plan = hist.make_plan(net, dt, interpolation)
    cv = net.coupled_vars
    L = plan.length
    n = net.n_regions

    def coupled(y):
        return jnp.stack([y[v] for v in cv], axis=-1)

    past_c = _coupled_past(y0, past, cv, L)
    w_edges = net.edge_weights()

    hold = coupling_evaluation == "step"

    tableau = _explicit_tableau(solver) if _UNROLL_TABLEAU else None
    # Stage offsets known at trace time (unrolled tableaus, held coupling): their
    # interpolation weights are computed once here, outside the loop.
    coefficients = {}
    if plan.uses_window:
        offsets = {0.0} if hold else set()
        if tableau is not None and not hold:
            offsets |= {float(c) for c in tableau[0]}
        coefficients = {c: hist.window_coefficients(plan, c) for c in offsets}

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
    pulled = linear and delay_adjoint == "pulled" and set(coefficients) <= {0.0, 1.0}
    past_c = past_c.astype(net.weights.dtype)
    oplan = None
    if block:
        bplan = blk.make_block_plan(plan, net.pattern.valid, w_edges, block)
        if pulled:  # the blocked form of the pulled adjoint
            oplan = blk.make_out_plan(
                plan, net.pattern.idx, net.pattern.valid, w_edges, block
            )
            buf = blk.init_pulled(oplan, past_c)
        else:
            buf = blk.init(bplan, past_c)
        pulled = False  # the step-by-step operations below are not used
    elif pulled:
        out_edges = adj.out_edges(plan, net.pattern.idx, net.pattern.valid, w_edges)
        buf = adj.init(out_edges, past_c)
    else:
        buf = hist.init_buffer(plan, past_c)
    # Nearest reads of a linear coupling need one history value per edge and read:
    # gathered directly from the buffer, with no window to keep.
    direct = linear and plan.mode == "nearest"
    store0 = None
    # cached history values (not differentiated)
    if plan.uses_window and not direct and not block:
        store0 = hist.init_window(plan, jax.lax.stop_gradient(buf) if pulled else buf)

    def write(buf, n, x):
        return (
            adj.write(out_edges, buf, n, x) if pulled else hist.write(plan, buf, n, x)
        )

    def reduced_reads(buf, win, step, cached, only=None, route=True):
        """The reduced delayed sums of each stage offset (or of `only`). Each read
        is computed once: with the pulled adjoint a read's time must be unique
        (`route=False`: a read whose cotangent does not go back to the states)."""
        out = {}
        if not direct:
            win = hist.window_values(win, step)
        for c, coef in weighted.items():
            if only is not None and c != only:
                continue
            if c == 0.0 and reuse and cached is not None:
                out[c] = cached
                continue
            if direct:  # window value q is the state of step n - m - 1 + q
                src = jax.lax.stop_gradient(buf) if pulled else buf
                x_j = hist.gather(plan, src, step, coef[0] - 1 - plan.m)
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
            x_j = hist.read_window(hist.window_values(store, step), coefficients[c])
        else:
            x_j = hist.read(plan, store, step, (t - tn) / dt if c is None else c)
        if plan.zero is not None:
            x_j = jnp.where(plan.zero[..., None], xc[plan.idx], x_j)
        return net.afferent(x_j, xc, w_edges)

    def drift(t, y, args, c=None):
        store, step, tn, held, reads = args
        cpl = held if hold else afferent(t, y, store, step, tn, c, reads)
        return net.local_vector_field(t, y, cpl)

    drift_term = diffrax.ODETerm(drift)
    levy = _levy_area_for(solver) if noise is not None else None
    names = tuple(y0)

    space_time = levy is diffrax.SpaceTimeLevyArea

    def increments(step):
        return _increments(key, step, names, n, net.weights.dtype, dt, space_time)

    def terms_at(step, wh=None):
        if noise is None:
            return drift_term
        W, H = increments(step) if wh is None else wh
        path = _StepIncrement(W=W, H=H, dt=dt, levy_area=levy)
        return diffrax.MultiTerm(drift_term, _diffusion_term(net, noise, path))

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

        return _erk_step(tableau, increment, tn, y, dt)

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

    def one_step(carry, wh):
        y, sstate, buf, win, step, cached = carry
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
            win = hist.advance_window(plan, win, src, nxt)
        return (y1, sstate, buf, win, nxt, cached), None

    core0 = (y0, sstate0, buf, store0, step0, cached0)

    def block_begin(core):
        """Store the previous block's states, then compute the delayed sums of
        virtual times n0 ... n0 + S (carried, so that they are computed once):
        stage c of step n0 + s reads virtual time n0 + s + c."""
        y, sstate, ring, pending, step, cached = core
        ring, sums = blk.exchange(bplan, ring, step, pending, out=oplan)
        sums = jnp.concatenate([cached[-1:], sums])
        return (y, sstate, ring, None, step, sums), sums

    def block_step(y, step, wh, s, sums):
        tn = t0_ + step.astype(dtype) * dt
        reads = {0.0: sums[s], 1.0: sums[s + 1]}
        W = None if noise is None else wh[0]
        return _block_step(net, noise, row_sums, tableau, dt, tn, y, reads, W)

    def block_end(core, y, step, states):
        """The block's states are stored at the start of the next block."""
        _, sstate, ring, _, _, cached = core
        return (y, sstate, ring, coupled(states), step, cached)

    def draw(start, count):
        if noise is None:
            return None
        return jax.vmap(increments)(start + jnp.arange(count, dtype=start.dtype))

    def rejoin(core, cut):
        """At a `gradient_horizon` cut (the carry's gradients stopped): the delayed
        sum that the next step reuses from the carry is read again from the cut
        history, so that its gradient still reaches the weights (not the states
        before the cut), as that of a read taken inside the step does."""
        y, sstate, buf, win, step, cached = core
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
        return (y, sstate, buf, win, step, cached)

    return _drive(
        block_step if block else (lambda core, wh: one_step(core, wh)[0]),
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
        (block, block_begin, block_end) if block else None,
        rejoin,
    )


def _coupled_past(y0, past, cv, length):
    """The coupled variables at steps `-(length-1) ... 0`, `(length, N, V)`: the
    constant `y0`, or the history array (padded with its first sample) ending at
    `y0`."""

    def coupled(y):
        return jnp.stack([y[v] for v in cv], axis=-1)

    if past is None:
        c = coupled(y0)
        return jnp.broadcast_to(c, (length,) + c.shape)
    pc = jnp.stack([past[v] for v in cv], axis=-1)
    pc = pc[-length:]
    if pc.shape[0] < length:
        pad = jnp.broadcast_to(pc[:1], (length - pc.shape[0],) + pc.shape[1:])
        pc = jnp.concatenate([pad, pc], axis=0)
    return pc.at[-1].set(coupled(y0))


def _increments(key, step, names, n, dtype, dt, space_time):
    """The Brownian increment (and space-time Lévy area) of step `step`: a function
    of the key and the step index only, so blocks of steps can draw theirs at once
    (vmapped) with the same values."""
    z = jax.random.normal(
        jax.random.fold_in(key, step), (2 if space_time else 1, len(names), n), dtype
    )
    sq = math.sqrt(dt)
    W = {v: sq * z[0, i] for i, v in enumerate(names)}
    H = None
    if space_time:
        H = {v: sq / math.sqrt(12.0) * z[1, i] for i, v in enumerate(names)}
    return W, H


def _block_step(net, noise, row_sums, tableau, dt, tn, y, reads, W):
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

    z = _erk_step(tableau, increment, tn, jnp.stack([y[v] for v in names], -1), dt)
    return net.node.apply_bounds({v: z[..., i] for i, v in enumerate(names)})


def _drive(
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

    `advance(core, noise) -> core` performs one step; `core[0]` is the state and
    `core[4]` the step counter; `draw(start, count)` returns the noise increments of
    `count` steps from step `start` at once (or None without noise). Returns
    `(ys, y_final, monitor_outputs)`.

    With `blocked=(S, begin, end)` the steps run in blocks of `S` (which divides the
    transient and `g`): `begin(core) -> (core, ctx)` prepares a block,
    `advance(y, step, noise, s, ctx) -> y` performs its step `s` and
    `end(core, y, step, states) -> core` closes it with the block's `S` states.
    `rejoin(core, cut) -> core` repairs the core after a `horizon` cut (which stops
    the gradients of everything the loop carries).
    """
    periodic = [m for m in monitors if m.period(dt) is not None]
    strides = _monitor_strides(monitors, dt)
    g = _loop_period(stride, strides)
    n_blocks = (n_save - 1) * stride // g
    if horizon is not None and horizon % g:
        raise ValueError(
            f"`gradient_horizon` must be a multiple of {g * dt:g} ms (the loop's "
            "block of steps, from `save_every` and the monitor periods)."
        )
    y0 = core0[0]

    def observe(mst, y, step):
        t = t0 + step.astype(_dtype_of(y)) * dt
        return tuple(m.update(s, t, y, dt) for m, s in zip(monitors, mst))

    def step_all(state, wh):
        core, mst = state
        core = advance(core, wh)
        return (core, observe(mst, core[0], core[4])), None

    def run(state, steps, xs=None):
        """`steps` steps; their noise `xs` is drawn here in one go unless given."""
        if steps == 0:
            return state
        if xs is None:
            xs = draw(state[0][4], steps)
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
            y, step, mst, states = local(core[0], core[4], mst, xb, ctx)
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
        s if m.warm_through_transient else m.init(core[0], dt)
        for m, s in zip(monitors, mst)
    )
    state = (core, mst)
    first = core[0]
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
                observed = m.observe(s, core[0])
                s = observed if s_m == g else _select(due, observed, s)
            new_mst.append(s)
        if stride == g:
            out["__ys__"] = core[0]
        else:
            due = n_done % stride == 0
            slot = jnp.maximum(n_done // stride - 1, 0)
            bufs["__ys__"] = jax.tree.map(
                lambda bb, x: bb.at[slot].set(jnp.where(due, x, bb[slot])),
                bufs["__ys__"],
                core[0],
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
        xs = draw(carry[0][0][4], count * g)
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
    return ys, core[0], results


def _monitor_strides(monitors, dt) -> dict:
    """Each monitor's period (or sampling interval) in steps."""
    strides = {}
    for m in monitors:
        every = m.period(dt)
        every = m.sample_every(dt) if every is None else every
        strides[m.name] = _stride_of(f"monitor {m.name!r} period", every, dt)
    return strides


def _loop_period(stride, strides) -> int:
    """The steps of one block of the loop: the greatest common period of the saved
    samples and the monitors."""
    return math.gcd(stride, *strides.values()) if strides else stride


def _dtype_of(y):
    """The floating dtype of a state dict."""
    return jax.tree.leaves(y)[0].dtype


def _select(pred, a, b):
    return jax.tree.map(lambda x, y: jnp.where(pred, x, y), a, b)


def _stride_of(what, every, dt):
    stride = round(every / dt)
    if stride < 1 or abs(stride * dt - every) > 1e-6 * max(every, dt):
        raise ValueError(
            f"The {what} ({every} ms) must be a positive multiple of `dt`={dt} ms."
        )
    return stride


# Explicit Runge-Kutta solvers are stepped by unrolling their Butcher tableau (read
# from the Diffrax solver) rather than through `solver.step`, whose generic stage
# loop costs more than the whole vector field of a small network. The result is the
# same update (tested against `solver.step`); set False to use `solver.step`.
_UNROLL_TABLEAU = True


def _explicit_tableau(solver):
    """`(c, a_lower, b_sol)` of an explicit RK solver, or None for other solvers."""
    if type(solver) is diffrax.Euler:
        return (np.zeros(1), (), np.ones(1))
    if isinstance(solver, diffrax.AbstractERK):
        tab = getattr(solver, "tableau", None)
        if isinstance(tab, diffrax.ButcherTableau):
            c = np.concatenate([[0.0], np.asarray(tab.c, dtype=float)])
            a = tuple(np.asarray(row, dtype=float) for row in tab.a_lower)
            return (c, a, np.asarray(tab.b_sol, dtype=float))
    return None


def _erk_step(tableau, increment, t, y, dt):
    """One explicit RK step: `increment(c_s, t_s, y_s)` returns the stage increment
    (`f dt`, plus `g dW` for an SDE, as Diffrax applies a tableau to a MultiTerm)."""
    c, a, b = tableau
    n_stages = len(b)
    needed = [
        b[j] != 0 or any(a[i - 1][j] != 0 for i in range(j + 1, n_stages))
        for j in range(n_stages)
    ]
    ks = []
    for s in range(n_stages):
        if not needed[s]:
            ks.append(None)
            continue
        ys = y
        if s > 0:
            ys = _combine(y, [(a[s - 1][j], ks[j]) for j in range(s) if a[s - 1][j]])
        ks.append(increment(float(c[s]), t + c[s] * dt, ys))
    return _combine(y, [(b[j], ks[j]) for j in range(n_stages) if b[j]])


def _combine(y, terms):
    """`y + sum(a * k for a, k in terms)` for a state dict or a stacked array."""
    if isinstance(y, dict):
        return {v: y[v] + sum(a * k[v] for a, k in terms) for v in y}
    return y + sum(a * k for a, k in terms)
