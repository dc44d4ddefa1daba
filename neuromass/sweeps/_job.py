"""What a chunk of a sweep computes: the traced per-point call, vmapped and jitted."""

from collections.abc import Callable
from typing import Any

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
from jax.sharding import Mesh, PartitionSpec
from jaxtyping import Array, PRNGKeyArray, PyTree

from ._space import _leaves_with_paths, apply_point


class Job(eqx.Module):
    """Everything a worker needs to evaluate points, except the point values.

    The fixed leaves of the space, the model and the key travel as (dynamic) array
    leaves; the function, the tree structure and the flags are static.
    """

    fn: Callable
    model: PyTree
    fixed: tuple[Any, ...]
    key: PRNGKeyArray | None
    treedef: Any = eqx.field(static=True)
    slots: tuple[int, ...] = eqx.field(static=True)
    has_model: bool = eqx.field(static=True)
    pass_key: bool = eqx.field(static=True)
    vectorized: bool = eqx.field(static=True, default=False)


def _normalise(out: Any) -> dict[str, Array]:
    if isinstance(out, jax.Array | np.ndarray | np.generic | float | int | bool):
        return {"value": jnp.asarray(out)}
    paths, leaves, _ = _leaves_with_paths(out)
    result = {}
    for path, leaf in zip(paths, leaves):
        if not isinstance(leaf, jax.Array | np.ndarray | np.generic | float | int):
            raise TypeError(
                f"A sweep function must return arrays or numbers; output "
                f"`{path or 'value'}` is a {type(leaf).__name__}."
            )
        result[path or "value"] = jnp.asarray(leaf)
    return result


def call_point(job: Job, axis_values: list[Any], index: Any) -> dict[str, Array]:
    """Evaluate one point (traceable; vmapped over `axis_values` and `index`).

    For a vectorized job, `axis_values` and `index` carry a leading batch axis and
    the function is called once on the whole batch.
    """
    leaves = list(job.fixed)
    for slot, value in zip(job.slots, axis_values):
        leaves[slot] = value
    point = jax.tree_util.tree_unflatten(job.treedef, leaves)
    arg = apply_point(job.model, point) if job.has_model else point
    if job.pass_key:
        if job.vectorized:
            key = jax.vmap(jax.random.fold_in, in_axes=(None, 0))(job.key, index)
        else:
            key = jax.random.fold_in(job.key, index)
        out = job.fn(arg, key=key)
    else:
        out = job.fn(arg)
    return _normalise(out)


def _vmapped(job: Job, axis_batch: list[Any], indices: Any) -> dict[str, Array]:
    if job.vectorized:
        return call_point(job, axis_batch, indices)
    return eqx.filter_vmap(call_point, in_axes=(None, 0, 0))(job, axis_batch, indices)


@eqx.filter_jit
def run_batch(
    job: Job, axis_batch: list[Any], indices: Any, mesh: Mesh | None
) -> dict[str, Array]:
    """A chunk under `filter_jit(filter_vmap(...))`, optionally split over a mesh.

    With a mesh, `shard_map` gives each device its slice of the chunk (the batch
    axis is sharded over the mesh axis `"points"`; the job is replicated).
    """
    if mesh is None:
        return _vmapped(job, axis_batch, indices)
    dynamic, static = eqx.partition(job, eqx.is_array)

    def body(dynamic, axis_batch, indices):
        return _vmapped(eqx.combine(dynamic, static), axis_batch, indices)

    spec = PartitionSpec("points")
    return jax.shard_map(
        body,
        mesh=mesh,
        in_specs=(PartitionSpec(), spec, spec),
        out_specs=spec,
        check_vma=False,
    )(dynamic, axis_batch, indices)


def default_lanes() -> int:
    """Points per compiled call on each device when `sweep(lanes=None)`: 16 on a
    CPU (as fast as wider calls there), 256 on a GPU or TPU."""
    return 16 if jax.default_backend() == "cpu" else 256


def run_points(
    job: Job,
    values_at: Callable[[np.ndarray], list[np.ndarray]],
    flat: np.ndarray,
    lanes: int,
    mesh: Mesh | None = None,
    sharding: Any = None,
) -> dict[str, np.ndarray]:
    """Evaluate the points `flat` through the one compiled program of the sweep.

    The program always has `lanes * n_devices` rows ("lanes"), whatever the chunk:
    point `i` always runs in lane `i % (lanes * n_devices)` of a call (so on its
    device in lane `i % lanes`), beside copies of a point of the same call in the
    lanes that hold no point of `flat`. Every executor evaluates points only through
    this function, so a point meets the same compiled code, in the same lane, with
    the same inputs whatever the batch size, the executor or the chunking: its
    result is the same bytes. Calls are dispatched asynchronously, then gathered.
    """
    n_devices = 1 if mesh is None else mesh.devices.size
    width = lanes * n_devices
    flat = np.asarray(flat, np.int64)
    groups = flat // width
    calls = []
    for g in dict.fromkeys(groups.tolist()):  # first-appearance order
        where = np.flatnonzero(groups == g)
        members = flat[where]
        padded = np.full(width, members[0], np.int64)
        padded[members % width] = members
        values = values_at(padded)
        indices: Any = padded
        if sharding is not None:
            values = jax.device_put(values, sharding)
            indices = jax.device_put(padded, sharding)
        calls.append((where, members % width, run_batch(job, values, indices, mesh)))
    result: dict[str, np.ndarray] = {}
    for where, slots, out in calls:
        for name, value in out.items():
            value = np.asarray(value)
            if value.shape[:1] != (width,):
                raise ValueError(
                    f"Output `{name}` has shape {value.shape}; a vectorized function "
                    f"must return a leading axis of one entry per point ({width})."
                )
            if name not in result:
                result[name] = np.empty((len(flat),) + value.shape[1:], value.dtype)
            result[name][where] = value[slots]
    return result
