"""Executors: how the chunks of a sweep are evaluated."""

import abc
import contextlib
from collections.abc import Callable, Iterator, Sequence
from typing import Any

import equinox as eqx
import jax
import numpy as np
from jax.sharding import Mesh, NamedSharding, PartitionSpec

from ._job import Job, call_point, run_points


#: `values_at(flat_indices) -> list of per-axis value arrays` (leading axis = points).
ValuesAt = Callable[[np.ndarray], list[np.ndarray]]
#: What an executor yields per chunk: (chunk number, outputs or the exception).
Outcome = tuple[int, "dict[str, np.ndarray] | Exception"]

_DISTRIBUTED_HINT = 'pip install "neuromass[distributed]"'


class AbstractExecution(eqx.Module):
    """Base class of the executors given to `neuromass.sweep`.

    An executor receives the chunks of a sweep (arrays of flat point indices) and
    yields each chunk's outputs as NumPy arrays, in any order. Results must not
    depend on the executor: every point goes through the same compiled program
    of `lanes` rows per device, in the same lane, with the same inputs and key,
    whatever runs it.
    """

    batch_size: eqx.AbstractVar[int | None]

    def points_per_call(self, lanes: int) -> int:
        """Points one compiled call evaluates (`lanes` rows per device): chunk sizes
        are rounded up to a multiple of this, so that no call runs partly empty."""
        return lanes

    @abc.abstractmethod
    def run(
        self,
        job: Job,
        values_at: ValuesAt,
        chunks: Sequence[np.ndarray],
        lanes: int,
        tick: Callable[[int], None],
    ) -> Iterator[Outcome]:
        """Evaluate `chunks` (arrays of flat point indices) through
        `run_points(job, values_at, chunk, lanes, ...)`, the one compiled program of
        the sweep; call `tick(n)` as points finish; yield `(chunk number, outputs)`
        or `(chunk number, exception)`."""


def _check_batch_size(where: str, batch_size: Any) -> None:
    if batch_size is None:
        return
    if (
        isinstance(batch_size, bool)
        or not isinstance(batch_size, int | np.integer)
        or batch_size < 1
    ):
        raise ValueError(
            f"`{where}(batch_size=...)` must be an integer >= 1 (points per chunk) or "
            f"None for the default; got {batch_size!r}."
        )


def _device_context(device: Any):
    if device is None:
        return contextlib.nullcontext()
    return jax.default_device(device)


class SequentialExecution(AbstractExecution):
    """Evaluate one point at a time: for debugging and for functions that do not vmap.

    With `jit=True` (default) each point is one call of the sweep's compiled
    program (the same one `neuromass.sweeps.ParallelExecution` runs, `lanes`
    rows wide, the point in its own lane), so the results are the same bytes as
    with any other executor; a call costs about as much as `lanes` points. With
    `jit=False` the function runs eagerly, one point at a time, so `print`,
    breakpoints and NumPy code on concrete values work (its results may differ
    from compiled ones in the last bits). Chunks (of `batch_size` points, default
    that of `sweep`) only matter for the store and for error reporting.

    !!! example

        ```python
        from neuromass.sweeps import GridAxis, SequentialExecution, Space, sweep

        space = Space({"x": GridAxis(0.0, 1.0, 5)})
        res = sweep(lambda p: {"y": p["x"] ** 2}, space,
                    executor=SequentialExecution(jit=False), progress=False)
        ```
    """

    batch_size: int | None = None
    jit: bool = eqx.field(default=True, static=True)

    def __check_init__(self):
        _check_batch_size("SequentialExecution", self.batch_size)

    def points_per_call(self, lanes: int) -> int:
        return 1  # one point per call, whatever the chunk

    def run(self, job, values_at, chunks, lanes, tick):
        for c, flat in enumerate(chunks):
            try:
                rows = []
                for i, index in enumerate(flat):
                    if self.jit:  # one point per call of the sweep's program
                        out = run_points(job, values_at, flat[i : i + 1], lanes)
                        out = {k: v[0] for k, v in out.items()}
                    elif job.vectorized:  # an eager batch of one
                        values = values_at(flat[i : i + 1])
                        out = call_point(job, values, flat[i : i + 1])
                        out = {k: v[0] for k, v in out.items()}
                    else:
                        values = [v[0] for v in values_at(flat[i : i + 1])]
                        out = call_point(job, values, np.int64(index))
                    rows.append({k: np.asarray(v) for k, v in out.items()})
                    tick(1)
                outputs = {k: np.stack([r[k] for r in rows]) for k in rows[0]}
            except Exception as e:  # reported by `sweep`, which names the chunk
                yield c, e
                continue
            yield c, outputs


SequentialExecution.__init__.__doc__ = """**Arguments:**

- `batch_size`: points per chunk (store granularity); default: `sweep`'s.
- `jit`: run each point through the compiled program (`True`) or eagerly
    (`False`).
"""


class ParallelExecution(AbstractExecution):
    """Evaluate chunks with `eqx.filter_vmap` under `eqx.filter_jit`, split over
    devices.

    The sweep's program vmaps over `lanes` points per device (see
    `neuromass.sweep`); a chunk of `batch_size` points is evaluated by as
    many calls of it as the chunk spans groups of `lanes * n_devices` consecutive
    point indices, dispatched together. The program is compiled once. With several
    devices (`devices=None` uses `jax.devices()`), each call is sharded over a
    one-dimensional mesh with `jax.shard_map`: every device vmaps over its `lanes`
    points. `batch_size` is rounded up to a multiple of `lanes * n_devices`, so
    that every call but the last fills all its lanes (a chunk of 16 points on 2
    devices of 16 lanes would otherwise fill 16 of 32 rows per call, and the next
    chunk would run the same call again for the other 16). Rounding changes no
    result: a point always runs in the same lane. This is the default executor of
    `sweep`.

    On a multi-core CPU, XLA sees one device; to use all cores, start Python with
    `XLA_FLAGS=--xla_force_host_platform_device_count=<cores>` (set before `jax` is
    imported) and every core becomes a device.

    !!! example

        ```python
        import jax
        from neuromass.sweeps import GridAxis, ParallelExecution, Space, sweep

        space = Space({"x": GridAxis(0.0, 1.0, 1000)})
        res = sweep(lambda p: {"y": p["x"] ** 2}, space,
                    executor=ParallelExecution(batch_size=256, devices=jax.devices()),
                    progress=False)
        ```
    """

    batch_size: int | None = None
    devices: tuple[Any, ...] | None = eqx.field(
        default=None, static=True, converter=lambda d: None if d is None else tuple(d)
    )

    def __check_init__(self):
        _check_batch_size("ParallelExecution", self.batch_size)
        if self.devices is not None and len(self.devices) == 0:
            raise ValueError("`ParallelExecution(devices=...)` is empty.")

    def _devices(self) -> tuple[Any, ...]:
        return self.devices if self.devices is not None else tuple(jax.devices())

    def points_per_call(self, lanes: int) -> int:
        return lanes * len(self._devices())

    def run(self, job, values_at, chunks, lanes, tick):
        devices = self._devices()
        if len(devices) > 1:
            mesh = Mesh(np.array(devices), ("points",))
            sharding = NamedSharding(mesh, PartitionSpec("points"))
            device = None
        else:
            mesh = sharding = None
            device = devices[0] if self.devices is not None else None
        for c, flat in enumerate(chunks):
            try:
                with _device_context(device):
                    outputs = run_points(job, values_at, flat, lanes, mesh, sharding)
            except Exception as e:  # reported by `sweep`, which names the chunk
                yield c, e
                continue
            tick(len(flat))
            yield c, outputs


ParallelExecution.__init__.__doc__ = """**Arguments:**

- `batch_size`: points per chunk (store and error granularity), rounded up to a
    multiple of `lanes` × devices; default: `sweep`'s.
- `devices`: the devices to shard each chunk over; default all of `jax.devices()`.
"""


def _host_tree(job: Job) -> Job:
    """Job with plain (non-key) JAX arrays as NumPy, so it unpickles under any x64
    setting without casting."""

    def to_host(x):
        if isinstance(x, jax.Array) and not jax.dtypes.issubdtype(
            x.dtype, jax.dtypes.prng_key
        ):
            return np.asarray(x)
        return x

    return jax.tree_util.tree_map(to_host, job)


def _dask_chunk(
    job: Job, values: list[np.ndarray], flat: np.ndarray, lanes: int, x64: bool
) -> dict[str, np.ndarray]:
    """Runs on a Dask worker: one chunk through the local compiled program."""
    jax.config.update("jax_enable_x64", x64)
    row = {int(i): r for r, i in enumerate(flat)}

    def values_at(indices: np.ndarray) -> list[np.ndarray]:
        rows = np.array([row[int(i)] for i in indices])
        return [v[rows] for v in values]

    return run_points(job, values_at, flat, lanes)


class DaskExecution(AbstractExecution):
    """Send chunks to a `dask.distributed` cluster.

    Each chunk becomes one task; a worker runs it through the same compiled
    program of `lanes` rows as `neuromass.sweeps.ParallelExecution` (one device
    per worker), so results are the same bytes as a local run on the same
    platform. The function, model and fixed values are
    sent to every worker once (`client.scatter`); the function must be picklable by
    `cloudpickle` (module-level functions need their module importable on the
    workers; functions defined in `__main__` or locally are sent by value). Workers
    use the client's `jax_enable_x64` setting. At most `max_pending` chunks are
    queued at a time (default: twice the number of worker threads), so memory on
    the client stays bounded. Needs the `distributed` extra:
    `pip install "neuromass[distributed]"`.

    !!! example

        ```python
        from dask.distributed import Client, LocalCluster
        from neuromass.sweeps import DaskExecution, GridAxis, Space, sweep

        with LocalCluster(n_workers=4, threads_per_worker=1) as cluster:
            with Client(cluster) as client:
                res = sweep(fn, Space({"k": GridAxis(0.0, 1.5, 256)}),
                            executor=DaskExecution(client, batch_size=32))
        ```

        On a SLURM machine, use a `dask_jobqueue.SLURMCluster` instead of the
        `LocalCluster` (see the sweeps guide).
    """

    client: Any
    batch_size: int | None = None
    max_pending: int | None = eqx.field(default=None, static=True)

    def __check_init__(self):
        _check_batch_size("DaskExecution", self.batch_size)

    def run(self, job, values_at, chunks, lanes, tick):
        try:
            from distributed import as_completed
        except ImportError as e:
            raise ImportError(
                "`DaskExecution` needs dask.distributed, which is not installed: "
                f"{_DISTRIBUTED_HINT}"
            ) from e
        client = self.client
        x64 = bool(jax.config.jax_enable_x64)
        job_future = client.scatter(_host_tree(job), broadcast=True, hash=False)
        limit = self.max_pending
        if limit is None:
            threads = sum(client.nthreads().values()) or 1
            limit = max(2, 2 * threads)
        by_future: dict[Any, int] = {}
        queue = iter(enumerate(chunks))
        pending = as_completed()

        def submit_next() -> None:
            for c, flat in queue:
                fut = client.submit(
                    _dask_chunk,
                    job_future,
                    values_at(flat),
                    flat,
                    lanes,
                    x64,
                    pure=False,
                )
                by_future[fut] = c
                pending.add(fut)
                return

        try:
            for _ in range(limit):
                submit_next()
            for fut in pending:
                c = by_future.pop(fut)
                try:
                    outputs = fut.result()
                except Exception as e:  # reported by `sweep`, which names the chunk
                    yield c, e
                else:
                    tick(len(chunks[c]))
                    yield c, outputs
                finally:
                    fut.release()
                submit_next()
        finally:
            for fut in by_future:
                fut.cancel()
            job_future.cancel()


DaskExecution.__init__.__doc__ = """**Arguments:**

- `client`: a `distributed.Client` connected to the cluster.
- `batch_size`: points per task, rounded up to a multiple of `lanes` (the points
    of one compiled call); default: `sweep`'s.
- `max_pending`: chunks queued at once; default twice the cluster's threads.
"""
