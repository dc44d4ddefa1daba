"""Multi-start fitting: every start's whole optimisation in one compiled program,
vectorised over starts by the sweep engine."""

import math
import os
import warnings
from collections.abc import Callable
from typing import Any

import jax
import jax.numpy as jnp
import jax.tree_util as jtu
import numpy as np
import optax
from jaxtyping import PRNGKeyArray, PyTree

from ..sweeps._executors import AbstractExecution
from ..sweeps._space import Space, _getter, _leaves_with_paths
from ._diagnostics import RuggedLossWarning, rugged_message
from ._engine import (
    check_engine_args,
    describe,
    fingerprint,
    leaf_name,
    point_space,
    point_theta,
    run_sweep,
    wrap_key,
)
from ._problem import Problem, _Label, make_step, strong
from ._trace import GlobalTrace, MultiStartTrace


# ------------------------------------------------------------------ start points
def draw_starts(problem: Problem, n: int, key: PRNGKeyArray) -> list[np.ndarray]:
    """`n` constrained starting points inside the `Bounded` box of every trained
    leaf, by Latin hypercube sampling: each element's interval is cut into `n`
    equal strata, each stratum holds one start (at a uniform position inside it),
    and the strata are shuffled independently per element."""
    boxes = problem.bounds("starts")
    out = []
    for j, (lo, hi) in enumerate(boxes):
        size = int(np.prod(lo.shape))
        kp, ku = jax.random.split(jax.random.fold_in(key, j))
        perms = jax.vmap(lambda k: jax.random.permutation(k, n))(
            jax.random.split(kp, size)
        )  # (size, n)
        u = jax.random.uniform(ku, (size, n), minval=0.05, maxval=0.95)
        frac = (np.asarray(perms) + np.asarray(u)) / n  # strictly inside (0, 1)
        frac = frac.T.reshape((n,) + lo.shape)
        values = lo + (hi - lo) * frac
        out.append(values.astype(problem.dtypes[j]))
    return out


def starts_from_space(problem: Problem, space: Space) -> list[np.ndarray]:
    """Constrained starting points from a Space whose paths name trained leaves
    (leaves it does not name start at the model's value)."""
    n = len(space)
    if n < 1:
        raise ValueError("`starts`: the Space holds no point.")
    paths, values, _ = _leaves_with_paths(space.stacked())
    where = {}
    for path, value in zip(paths, values):
        try:
            label = _getter(path)(problem.labels)
        except ValueError as e:
            raise ValueError(f"`starts`: {e}") from None
        if not isinstance(label, _Label):
            raise ValueError(
                f"`starts`: the path `{path}` names a part of the model with several "
                "leaves; name one parameter (e.g. `node.a`)."
            )
        if label.index not in problem.train:
            raise ValueError(
                f"`starts` sets `{problem.paths[label.index]}`, which is not trained: "
                "add it to `params` or remove it from the Space."
            )
        where[problem.train.index(label.index)] = (path, np.asarray(value))
    out = []
    for j, i in enumerate(problem.train):
        shape, dtype = problem.shapes[j], problem.dtypes[j]
        if j not in where:
            base = np.asarray(problem.leaves[i], dtype=dtype)
            out.append(np.broadcast_to(base, (n,) + shape).copy())
            continue
        path, value = where[j]
        try:
            per_point = value.shape[1:]
            pad = max(0, len(shape) - len(per_point))
            value = value.reshape((n,) + (1,) * pad + per_point)
            value = np.broadcast_to(value, (n,) + shape)
        except ValueError:
            raise ValueError(
                f"`starts`: the values of `{path}` have shape {value.shape[1:]} per "
                f"point, which does not broadcast to the parameter's shape {shape}."
            ) from None
        out.append(value.astype(dtype))
    for j, i in enumerate(problem.train):
        c = problem.constraint_list[j]
        if c is None:
            continue
        for s in range(n):
            why = c.violation(out[j][s])
            if why is not None:
                raise ValueError(
                    f"`starts`: start {s} of `{problem.paths[i]}` violates its "
                    f"constraint {c!r}: {why}."
                )
    return out


def to_unconstrained(problem: Problem, values: list[np.ndarray]) -> list[np.ndarray]:
    """Constrained `(n, *shape)` values to unconstrained ones, checked finite."""
    u = problem.to_unconstrained(tuple(jnp.asarray(v) for v in values))
    out = []
    for j, x in enumerate(u):
        x = np.asarray(x)
        if not np.isfinite(x).all():
            bad = int(np.flatnonzero(~np.isfinite(x.reshape(len(x), -1)).all(1))[0])
            raise ValueError(
                f"`starts`: start {bad} of `{problem.train_paths[j]}` is too close to "
                "a bound of its constraint to be represented; start further inside."
            )
        out.append(x.astype(problem.dtypes[j]))
    return out


# ----------------------------------------------------------------------- runner
def make_runner(
    problem: Problem,
    loss: Callable,
    optimizer: optax.GradientTransformation,
    steps: int,
    use_key: bool,
) -> Callable:
    """The sweep function of a multi-start fit: one start's whole optimisation
    (`steps` steps of `make_step` in a `lax.scan`), from the unconstrained point."""
    step_fn = make_step(problem, loss, optimizer, use_key)

    def run(point):
        theta0 = jtu.tree_map(strong, point_theta(point))
        frozen = point["frozen"]
        key = wrap_key(point["key"])
        opt_state = jtu.tree_map(strong, optimizer.init(theta0))

        def body(carry, s):
            theta, state = carry
            theta_n, state_n, value, finite, values, grads = step_fn(
                theta, state, frozen, s, key
            )
            return (theta_n, state_n), (value, finite, values, grads, theta)

        (theta, _), (losses, finite, values, grads, thetas) = jax.lax.scan(
            body, (theta0, opt_state), jnp.arange(steps, dtype=jnp.int32)
        )
        last = problem.to_constrained(theta)
        out = {"loss": losses, "finite": finite}
        for j in range(len(problem.train)):
            name = leaf_name(j)
            out[f"x.{name}"] = values[j]
            out[f"g.{name}"] = grads[j]
            out[f"u.{name}"] = thetas[j]
            out[f"last.{name}"] = last[j]
        return out

    return run


def run_multistart(
    problem: Problem,
    loss: Callable,
    *,
    optimizer: optax.GradientTransformation,
    steps: int,
    key: PRNGKeyArray | None,
    start_values: list[np.ndarray],
    executor: AbstractExecution | None,
    store: str | os.PathLike | None,
    lanes: int | None,
    progress: bool,
    global_phase: GlobalTrace | None = None,
) -> tuple[PyTree, MultiStartTrace]:
    """Fit from every start (constrained `(n, *shape)` values per trained leaf)."""
    n = len(start_values[0])
    lanes = check_engine_args(executor, lanes, n)
    u0 = to_unconstrained(problem, start_values)
    use_key = key is not None
    run = make_runner(problem, loss, optimizer, steps, use_key)
    space = point_space(problem, u0, key)
    result = run_sweep(
        run,
        space,
        executor=executor,
        store=store,
        lanes=lanes,
        progress=progress,
        fingerprint=fingerprint(
            "multi-start",
            problem,
            loss,
            steps=steps,
            optimizer=describe(optimizer),
        ),
    )
    out = result.outputs
    losses = np.asarray(out["loss"])
    skipped = ~np.asarray(out["finite"], dtype=bool)
    k = len(problem.train)
    xs = [np.asarray(out[f"x.{leaf_name(j)}"]) for j in range(k)]
    finite = np.where(np.isfinite(losses) & ~skipped, losses, np.inf)
    if np.isfinite(finite).any():
        best_start, best_step = np.unravel_index(np.argmin(finite), finite.shape)
        best_start, best_step = int(best_start), int(best_step)
        best_loss = float(losses[best_start, best_step])
        best_values = [jnp.asarray(x[best_start, best_step]) for x in xs]
    else:
        best_start = best_step = -1
        best_loss = math.nan
        best_values = [jnp.asarray(v[0]) for v in start_values]
    template = problem.build(problem.frozen, [jnp.asarray(v[0]) for v in start_values])
    trace = MultiStartTrace(
        loss=losses,
        params=problem.record(xs),
        starts=problem.record([np.asarray(v) for v in start_values]),
        last=problem.record(
            [np.asarray(out[f"last.{leaf_name(j)}"]) for j in range(k)]
        ),
        skipped=skipped,
        status=np.asarray(result.status),
        best_start=best_start,
        best_step=best_step,
        best_loss=best_loss,
        global_phase=global_phase,
        template=template,
    )
    _warn(problem, out, losses, skipped, use_key)
    return problem.build(problem.frozen, best_values), trace


def _warn(problem: Problem, out: dict, losses, skipped, use_key: bool) -> None:
    n, steps = losses.shape
    with_skips = int(skipped.any(axis=1).sum())
    if with_skips:
        warnings.warn(
            f"`fit`: {with_skips} of {n} starts had steps with a non-finite loss or "
            f"gradient ({int(skipped.sum())} of {n * steps} steps in all), which were "
            "skipped (no update); see `trace.skipped`. Narrow the bounds of the "
            "starts, lower the learning rate, or make the loss robust.",
            RuntimeWarning,
            stacklevel=4,
        )
    if use_key:
        return
    k = len(problem.train)
    flagged = []
    first = None
    for s in range(n):
        message = rugged_message(
            losses[s],
            [np.asarray(out[f"u.{leaf_name(j)}"][s]) for j in range(k)],
            [np.asarray(out[f"g.{leaf_name(j)}"][s]) for j in range(k)],
            skipped[s],
            where=f"`fit`, start {s}",
        )
        if message is not None:
            flagged.append(s)
            first = first or message
    if flagged and 2 * len(flagged) >= n:
        warnings.warn(
            f"In {len(flagged)} of {n} starts the loss changed against its gradient. "
            + first,
            RuggedLossWarning,
            stacklevel=4,
        )


def starts_of(
    problem: Problem, starts: Any, search_key: PRNGKeyArray
) -> list[np.ndarray]:
    """Constrained starting points from `fit`'s `starts=` (an int or a Space)."""
    if isinstance(starts, Space):
        return starts_from_space(problem, starts)
    if isinstance(starts, bool) or not isinstance(starts, int | np.integer):
        raise TypeError(
            "`starts` must be a number of starts (drawn inside the `Bounded` "
            "constraints of the trained parameters) or an `nm.Space` of starting "
            f"points; got {type(starts).__name__}."
        )
    if starts < 1:
        raise ValueError(f"`starts` must be >= 1; got {starts}.")
    return draw_starts(problem, int(starts), jax.random.fold_in(search_key, 0))
