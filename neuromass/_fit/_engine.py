"""Many points of a fit on the sweep engine: the Space of unconstrained points,
the sweep call, and what identifies a fit in a store."""

import functools
import hashlib
import inspect
import os
from collections.abc import Callable
from typing import Any

import equinox as eqx
import jax
import numpy as np
from jaxtyping import PRNGKeyArray

from ..sweeps._axes import DataAxis
from ..sweeps._executors import AbstractExecution
from ..sweeps._job import default_lanes
from ..sweeps._result import SweepResult
from ..sweeps._space import Space
from ._problem import Problem


def leaf_name(j: int) -> str:
    """Name of the j-th trained leaf in a point (zero-padded: dict keys sort)."""
    return f"p{j:04d}"


def key_data(key: PRNGKeyArray | None):
    """A key as raw data (a plain array a Space can hold and hash), or None."""
    if key is None:
        return None
    if jax.dtypes.issubdtype(key.dtype, jax.dtypes.prng_key):
        return jax.random.key_data(key)
    return key


def wrap_key(data):
    """Undo `key_data` inside a traced function."""
    if data is None:
        return None
    if jax.dtypes.issubdtype(data.dtype, jax.dtypes.prng_key):
        return data
    return jax.random.wrap_key_data(data)


def point_space(problem: Problem, u: list[np.ndarray], key: Any) -> Space:
    """A zip Space whose point `i` holds the unconstrained values `u[j][i]` of
    every trained leaf, with the frozen leaves and the key as fixed values (so
    they are inputs of the compiled program, and part of a store's identity)."""
    tree = {
        "u": {leaf_name(j): DataAxis(v) for j, v in enumerate(u)},
        "frozen": list(problem.frozen),
        "key": key_data(key),
    }
    return Space(tree, mode="zip")


def point_theta(point) -> tuple:
    """The unconstrained trained values of a point of `point_space`."""
    u = point["u"]
    return tuple(u[name] for name in sorted(u))


def check_engine_args(executor, lanes, n_points: int) -> int:
    """Validate `executor` and `lanes`; the lanes to use (default: the sweep's,
    at most the number of points, so that no lane computes a copy)."""
    if executor is not None and not isinstance(executor, AbstractExecution):
        raise TypeError(
            "`executor` must be an `nm.ParallelExecution`, `nm.SequentialExecution` "
            f"or `nm.DaskExecution`; got {type(executor).__name__}."
        )
    if lanes is None:
        return max(1, min(default_lanes(), n_points))
    if isinstance(lanes, bool) or not isinstance(lanes, int | np.integer) or lanes < 1:
        raise ValueError(
            "`lanes` must be an integer >= 1 (points per compiled call and device) "
            f"or None; got {lanes!r}."
        )
    return int(lanes)


def run_sweep(
    fn: Callable,
    space: Space,
    *,
    executor: AbstractExecution | None,
    store: str | os.PathLike | None,
    lanes: int,
    progress: bool,
    fingerprint: str,
) -> SweepResult:
    from ..sweeps._sweep import sweep

    return sweep(
        fn,
        space,
        executor=executor,
        store=store,
        lanes=lanes,
        progress=progress,
        fingerprint=fingerprint,
    )


# ---------------------------------------------------------------- fingerprints
def fn_name(fn: Callable) -> str:
    if isinstance(fn, functools.partial):
        return "functools.partial(" + fn_name(fn.func) + ")"
    target = fn if inspect.isfunction(fn) or inspect.ismethod(fn) else type(fn)
    module = getattr(target, "__module__", None) or "?"
    return f"{module}.{getattr(target, '__qualname__', repr(target))}"


def _collect(obj: Any, out: list, seen: set, depth: int) -> None:
    """Numbers, strings, arrays and function names reachable from `obj` through
    closures, defaults, partials, tuples and Modules (what makes one optax
    optimiser or one loss differ from another; mutable containers are skipped)."""
    if depth > 12 or id(obj) in seen:
        return
    seen.add(id(obj))
    if obj is None or isinstance(obj, bool | int | float | complex | str):
        out.append(repr(obj))
    elif isinstance(obj, np.ndarray | np.generic | jax.Array):
        arr = np.asarray(key_data(obj) if isinstance(obj, jax.Array) else obj)
        out.append(
            f"{arr.dtype}{arr.shape}:{hashlib.sha256(arr.tobytes()).hexdigest()}"
        )
    elif isinstance(obj, functools.partial):
        out.append("partial")
        _collect(obj.func, out, seen, depth + 1)
        for a in obj.args:
            _collect(a, out, seen, depth + 1)
        for k in sorted(obj.keywords):
            out.append(k)
            _collect(obj.keywords[k], out, seen, depth + 1)
    elif inspect.isfunction(obj):
        out.append(fn_name(obj))
        for cell in obj.__closure__ or ():
            try:
                _collect(cell.cell_contents, out, seen, depth + 1)
            except ValueError:  # an empty cell
                pass
        for d in obj.__defaults__ or ():
            _collect(d, out, seen, depth + 1)
    elif isinstance(obj, eqx.Module):
        out.append(type(obj).__module__ + "." + type(obj).__qualname__)
        for x in jax.tree_util.tree_leaves(obj):
            _collect(x, out, seen, depth + 1)
    elif isinstance(obj, tuple):
        out.append(f"tuple[{len(obj)}]")
        for x in obj:
            _collect(x, out, seen, depth + 1)
    elif isinstance(obj, list | dict | set):
        # mutable state (a cache, a counter) that may change between runs of the
        # same fit: only its type identifies it
        out.append(type(obj).__name__)
    elif callable(obj):
        out.append(type(obj).__module__ + "." + type(obj).__qualname__)
        for name in sorted(getattr(obj, "__dict__", {})):
            _collect(obj.__dict__[name], out, seen, depth + 1)
    else:
        out.append(type(obj).__module__ + "." + type(obj).__qualname__)


def describe(obj: Any) -> str:
    """A short hash of what `_collect` finds in `obj`."""
    out: list[str] = []
    try:
        _collect(obj, out, set(), 0)
    except Exception:  # an object that cannot be inspected: its type stands in
        out.append(type(obj).__module__ + "." + type(obj).__qualname__)
    return hashlib.sha256("|".join(out).encode()).hexdigest()[:16]


def fingerprint(what: str, problem: Problem, loss: Callable, **extra: Any) -> str:
    """The name of a fit's sweep in a store: the mode, the loss's qualified name
    (and the values its closure holds), the trained leaves, their constraints and
    `extra` (optimiser, steps, strategy, ...)."""
    parts = [
        f"neuromass.fit {what}",
        f"loss={fn_name(loss)}#{describe(loss)}",
        f"params={problem.train_paths}",
        f"constraints={[repr(c) for c in problem.constraint_list]}",
    ]
    parts += [f"{k}={v}" for k, v in sorted(extra.items())]
    return "; ".join(parts)
