"""The compiled program of `simulate`: one per static structure."""

import collections
import dataclasses
import threading

import equinox as eqx
import jax
import jax.numpy as jnp

from ._ode import solve_ode
from ._state import LoopConfig, LoopProblem


@dataclasses.dataclass(frozen=True)
class Static:
    """Everything static about one call besides the `LoopConfig`: whether it runs
    `diffrax.diffeqsolve` (`ode`: no delay history, no loop-only features), the
    variables to save, whether `y0` is the default, and the step budget of adaptive
    solves."""

    config: LoopConfig
    ode: bool
    variables: tuple[str, ...]
    default_y0: bool
    max_steps: int | None


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


# The compiled programs kept, one per static structure, least recently used first.
# Each new structure (edge pattern, history length, grid, options) compiles a program
# of its own (several MB): a long session that runs many structures keeps only the
# latest `MAX_PROGRAMS`; an evicted one is compiled again when it comes back.
MAX_PROGRAMS = 64
_PROGRAMS: collections.OrderedDict = collections.OrderedDict()
_LOCK = threading.Lock()


def _program(static: Static):
    """The compiled program (an `eqx.filter_jit` of `_solve`) of `static`."""
    with _LOCK:
        fn = _PROGRAMS.pop(static, None)
        if fn is None:
            fn = eqx.filter_jit(_solve)
            while len(_PROGRAMS) >= MAX_PROGRAMS:
                _PROGRAMS.popitem(last=False)
        _PROGRAMS[static] = fn
        return fn


def solve(model, y0, past, inputs, key, monitors, controller, static: Static):
    """Run the compiled program of `static` (the floats of the dynamic arguments
    made arrays of the network's dtype first)."""
    dtype = static.config.dtype
    return _program(static)(
        _arrays(model, dtype),
        _arrays(y0, dtype),
        past,
        _arrays(inputs, dtype),
        key,
        monitors,
        controller,
        static,
    )


def _solve(model, y0, past, inputs, key, monitors, controller, static: Static):
    """The compiled program of one structure (see `simulate`): `inputs` are the
    inputs besides the model's own (noise, stimuli)."""
    cfg = static.config
    n, dtype = cfg.n_nodes, cfg.dtype
    system = model.system(cfg.structure, inputs, nodes=cfg.nodes).checked()
    node = system.node
    if static.default_y0:
        y0 = (
            {v: past[v][-1] for v in node.state_names}
            if past is not None
            else node.initial_state(n)
        )
    y0 = {v: jnp.broadcast_to(jnp.asarray(x, dtype), (n,)) for v, x in y0.items()}
    y0 = system.bounded(y0)
    if past is not None:
        past = system.bounded(past)
    extra = system.initial_extra(n, dtype, key)
    if extra:
        y0 = {**y0, **{v: jnp.asarray(x, dtype) for v, x in extra.items()}}
    if static.ode:
        ys, y_final, num_steps = solve_ode(
            system, cfg.solver, y0, cfg.grid, key, controller, static.max_steps
        )
        monitor_out = {}
    else:
        problem = LoopProblem(
            system=system, y0=y0, past=past, key=key, monitors=monitors, config=cfg
        )
        ys, y_final, monitor_out = cfg.loop.run(problem)
        num_steps = jnp.asarray(cfg.grid.n_total)
    ys = {v: ys[v] for v in static.variables}
    return cfg.grid.ts(dtype), ys, y_final, num_steps, monitor_out
