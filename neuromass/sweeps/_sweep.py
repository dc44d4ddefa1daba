"""`sweep`: evaluate a function over a Space in chunks, with stores and resume."""

import functools
import hashlib
import inspect
import os
import warnings
from collections.abc import Callable
from typing import Any, Literal

import jax
import numpy as np
from jaxtyping import PRNGKeyArray, PyTree

from ._bounds import widen_bounds
from ._executors import AbstractExecution, ParallelExecution, _check_batch_size
from ._identity import describe, function_code
from ._job import Job, default_lanes
from ._result import SweepError, SweepResult
from ._space import Space, _is_arraylike, _leaves_with_paths, apply_point
from ._store import ChunkStore


_DEFAULT_BATCH = 64


def _accepts_key(fn: Callable) -> tuple[bool, bool]:
    """(accepts a `key` keyword, requires it)."""
    try:
        sig = inspect.signature(fn)
    except (TypeError, ValueError):
        return False, False
    param = sig.parameters.get("key")
    if param is None or param.kind not in (
        inspect.Parameter.POSITIONAL_OR_KEYWORD,
        inspect.Parameter.KEYWORD_ONLY,
    ):
        return False, False
    return True, param.default is inspect.Parameter.empty


def _fn_name(fn: Callable) -> str:
    """`module.qualname` of a function; of the wrapped function for partials; of
    the class for callable objects (e.g. an `eqx.Module`)."""
    if isinstance(fn, functools.partial):
        return "functools.partial(" + _fn_name(fn.func) + ")"
    target = fn if inspect.isfunction(fn) or inspect.ismethod(fn) else type(fn)
    module = getattr(target, "__module__", None) or "?"
    return f"{module}.{getattr(target, '__qualname__', repr(target))}"


def _hash_tree(tree: PyTree) -> str | None:
    if tree is None:
        return None
    h = hashlib.sha256()
    paths, leaves, _ = _leaves_with_paths(tree)
    for path, leaf in zip(paths, leaves):
        h.update(path.encode())
        if isinstance(leaf, jax.Array) and jax.dtypes.issubdtype(
            leaf.dtype, jax.dtypes.prng_key
        ):
            leaf = jax.random.key_data(leaf)
        if _is_arraylike(leaf):
            arr = np.asarray(leaf)
            h.update(f"{arr.dtype.str}{arr.shape}".encode())
            h.update(np.ascontiguousarray(arr).tobytes())
        else:
            h.update(type(leaf).__qualname__.encode())
    return h.hexdigest()


def _describe_params(space: Space, flat: np.ndarray, limit: int = 8) -> str:
    parts = []
    for path, values in zip(space.axis_names, space._axis_batch(flat)):
        if values.ndim == 1:
            vals = np.unique(values)
            if len(vals) <= limit:
                shown = ", ".join(f"{v:.6g}" for v in vals.tolist())
                parts.append(f"{path} in [{shown}]")
            else:
                parts.append(f"{path} from {vals.min():.6g} to {vals.max():.6g}")
        else:
            parts.append(f"{path}: {len(values)} values of shape {values.shape[1:]}")
    return "; ".join(parts) if parts else "no swept parameters"


def _summary(error: Exception, limit: int = 500) -> str:
    """`Type: message` in one line (the message line of long, framed reports)."""
    name = type(error).__name__
    lines = [ln.strip() for ln in str(error).splitlines() if ln.strip()]
    text = lines[0] if lines else ""
    for ln in lines:  # e.g. Equinox frames its message with tracebacks
        if f"{name}: " in ln:
            text = ln.split(f"{name}: ", 1)[1]
    text = text if len(text) <= limit else text[:limit] + "..."
    return f"{name}: {text}"


def _status(outputs: dict[str, np.ndarray], n: int) -> np.ndarray:
    finite = np.ones(n, dtype=bool)
    for col in outputs.values():
        if col.dtype.kind in "fc":
            finite &= np.isfinite(col.reshape(n, -1)).all(axis=1)
    return np.where(finite, "ok", "nonfinite").astype("<U9")


def _check_outputs(
    reference: dict[str, np.ndarray] | None, outputs: dict[str, np.ndarray], where: str
) -> None:
    if reference is None:
        return
    ref = {k: (v.shape[1:], v.dtype) for k, v in reference.items()}
    new = {k: (v.shape[1:], v.dtype) for k, v in outputs.items()}
    if ref != new:
        raise ValueError(
            f"Outputs of {where} do not match the other chunks: {new} vs {ref}. If the "
            "function changed, use a new store or a new `fingerprint=` (or delete "
            "that chunk file to recompute it)."
        )


def sweep(
    fn: Callable[..., Any],
    space: Space | PyTree,
    *,
    batch_size: int | None = None,
    executor: AbstractExecution | None = None,
    store: str | os.PathLike | None = None,
    progress: bool = True,
    key: PRNGKeyArray | None = None,
    model: PyTree | None = None,
    fingerprint: str | None = None,
    on_error: Literal["raise", "record"] = "raise",
    vectorized: bool = False,
    lanes: int | None = None,
) -> SweepResult:
    """Evaluate `fn` at every point of `space`.

    The points are split into chunks of `batch_size`; the executor evaluates each
    chunk (by default `neuromass.sweeps.ParallelExecution`, sharded over the
    devices). Only one chunk's inputs and outputs are in device memory at a time.

    **Bit-identical results.** Every executor evaluates points through one
    compiled `filter_jit(filter_vmap(fn))` program of `lanes` rows per device, and
    point `i` always runs in row `i % lanes` (the rows holding no point of the call
    hold copies of one of its points, and are dropped). XLA may compile a vmapped
    reduction differently for different widths (measured: a mean over time differs
    in the last bit between widths 7 and 16), so fixing the width and the row
    makes a point's result the same bytes whatever the `batch_size` (including 1),
    the executor (sequential with `jit=True`, parallel, several devices, Dask),
    the chunking and resuming. It still depends on `lanes`, the platform and the
    x64 setting, which a store records.

    **The function.** `fn(point)` gets one point of the space (the tree with every
    axis replaced by a value). With `model=`, it gets `apply_point(model, point)`
    instead: the model with the attributes named by the point's paths set, e.g.
    `Space({"k": GridAxis(...), "node.a": GridAxis(...)})` over a network. It returns
    a dict (or any tree) of arrays/numbers; a bare array is named `"value"`. If `fn`
    takes a `key` keyword and `key=` is given, each point gets
    `jax.random.fold_in(key, index)` where `index` is its flat index in the unsliced
    space, so results do not depend on the batch size, the executor, the number of
    devices, or on which slice of the space is swept.

    **Vectorized functions.** With `vectorized=True`, `fn` is called once per
    compiled call with all its lanes instead of being vmapped: every swept leaf has a
    leading axis of `lanes` points (fixed values stay unbatched), the `key`
    is a batch of per-point keys, and each output must have that leading axis.
    Use it when `fn` has a faster batched implementation than `vmap` (e.g. a
    simulator that puts the sweep on a trailing axis).

    **Failures.** A point whose outputs contain NaN or inf gets status
    `"nonfinite"` and is kept like the others. If a chunk raises:

    - `on_error="raise"` (default): a `neuromass.sweeps.SweepError` is raised
      naming the chunk and its parameter values, with the original exception as
      its cause and `.partial` holding every finished point. Other chunks still in
      flight are cancelled.
    - `on_error="record"`: the failing chunk is re-run one point at a time (the
      same program, so the good points keep their bytes); a warning names the
      chunk and the points that failed, which alone get status `"error"`
      (outputs NaN), and the sweep goes on.

    Failed points are never written to the store, so a re-run retries them.

    **Stores.** With `store=DIR`, each finished chunk is written atomically to
    `DIR` as one `.npz` whose name holds its SHA-256, after a checksummed
    `manifest.json` that fingerprints the space (axes, values, fixed values), the
    function (its qualified name and the SHA-256 of its code, closure and the
    functions of its module it reads; or `fingerprint` instead, when given), the
    model's whole structure (classes, static fields such as `coupled_vars`, and
    array values), the key, the x64 setting and `lanes`. Re-running
    the same call after an interruption (even `kill -9`) loads the finished
    chunks and computes only the rest; a store written by a different sweep is
    refused with a `ValueError` saying what differs (e.g. "the model's `noise`
    class differs: stored Additive, now Multiplicative"); a damaged chunk is named
    in a warning, deleted
    and recomputed; a damaged manifest is rewritten if every chunk belongs to
    this sweep. One process writes to a store at a time (a lock file): a second
    one is refused with a `ValueError` naming the first. Points are keyed by
    index, so a point stored twice counts once. Files are read with
    `np.load(..., allow_pickle=False)`: nothing is unpickled. The guarantees and
    the tests behind them are listed in the sweeps guide ("Guarantees").

    **Arguments:**

    - `fn`: `fn(point)` or `fn(point, key=...)` returning arrays/numbers.
    - `space`: a `neuromass.sweeps.Space`, or a tree of axes (then
        `Space(space)`, product mode).
    - `batch_size`: points per chunk: the unit of the store, of progress and of
        error reports (default: the executor's, else 64, at most `len(space)`),
        rounded up to a multiple of the points of one compiled call (`lanes` ×
        devices with `neuromass.sweeps.ParallelExecution`), so that no call runs
        partly empty. It does not change results.
    - `executor`: `neuromass.sweeps.ParallelExecution` (default),
        `neuromass.sweeps.SequentialExecution` or
        `neuromass.sweeps.DaskExecution`.
    - `store`: a directory for finished chunks, to make the sweep resumable.
    - `progress`: show a tqdm progress bar (points/s, ETA). It reads
        "sweep (compiling…)" until the first chunk is done: that chunk compiles
        the program, which can take longer than the chunks after it.
    - `key`: a JAX PRNG key for functions that take `key`.
    - `model`: a model to which each point is applied with `apply_point`. The
        bounds of its networks (`max_delay`, `min_delay`, `edge_mask`, which apply
        to traced values) are first widened to cover every point's delays and
        weights, so each point runs as a freshly built network would.
    - `fingerprint`: names the function in the store instead of its qualified name
        and code (which are then not compared); change it when what the function
        computes changes.
    - `on_error`: `"raise"` or `"record"`, see above.
    - `vectorized`: `fn` takes and returns whole batches, see above.
    - `lanes`: points per compiled call on each device (the vmap width), see
        above; default 16 on a CPU, 256 on a GPU or TPU. Raise it on a large GPU
        for throughput; results are bit-identical only between runs with the same
        `lanes`.

    **Returns:**

    A `neuromass.sweeps.SweepResult` with one row per point, in space order.

    !!! example

        ```python
        import jax.numpy as jnp
        from neuromass.sweeps import GridAxis, Space, sweep

        def fn(p):
            return {"r": jnp.sqrt(p["x"] ** 2 + p["y"] ** 2)}

        space = Space({"x": GridAxis(-1.0, 1.0, 21), "y": GridAxis(-1.0, 1.0, 11)})
        res = sweep(fn, space, batch_size=64, store="runs/radius", progress=False)
        res.grid("r").shape   # (21, 11)
        ```
    """
    if not callable(fn):
        raise TypeError(
            "`sweep(fn, space, ...)`: `fn` must be a function of one point (or of "
            f"the model with `model=`); got {type(fn).__name__} {fn!r:.80}. Pass "
            "the function first and the space second."
        )
    if not isinstance(space, Space):
        space = Space(space)
    if executor is None:
        executor = ParallelExecution()
    if not isinstance(executor, AbstractExecution):
        raise TypeError(
            "`sweep(executor=...)` must be SequentialExecution, ParallelExecution or "
            f"DaskExecution; got {type(executor).__name__}."
        )
    if on_error not in ("raise", "record"):
        raise ValueError(f'`on_error` must be "raise" or "record"; got {on_error!r}.')
    _check_batch_size("sweep", batch_size)
    if (
        batch_size is not None
        and executor.batch_size is not None
        and batch_size != executor.batch_size
    ):
        raise ValueError(
            f"`sweep(batch_size={batch_size})` disagrees with the executor's "
            f"`batch_size={executor.batch_size}`; give one of them."
        )
    if lanes is None:
        lanes = default_lanes()
    if isinstance(lanes, bool) or not isinstance(lanes, int | np.integer) or lanes < 1:
        raise ValueError(
            f"`sweep(lanes=...)` must be an integer >= 1 (points per compiled call "
            f"and device) or None for the default; got {lanes!r}."
        )
    lanes = int(lanes)
    # A chunk is a whole number of compiled calls (lanes x devices points each), so
    # that no call runs partly empty; a point's lane, hence its result, does not
    # depend on the chunking.
    width = executor.points_per_call(lanes)
    size = batch_size or executor.batch_size or _DEFAULT_BATCH
    size = -(-int(size) // width) * width
    if batch_size is None and executor.batch_size is None:
        size = max(1, min(len(space), size))

    takes_key, needs_key = _accepts_key(fn)
    if needs_key and key is None:
        raise ValueError(
            f"`{_fn_name(fn)}` requires a `key` argument: pass `key=` to `sweep`."
        )
    if model is not None and len(space):
        apply_point(model, space[0])  # fail early, naming any unknown path
        # traced delays and weights stay within bounds that cover every point
        model = widen_bounds(model, space)

    job = Job(
        fn=fn,
        model=model,
        fixed=space._fixed,
        key=key,
        treedef=space._treedef,
        slots=space._slots,
        has_model=model is not None,
        pass_key=takes_key and key is not None,
        vectorized=bool(vectorized),
    )

    indices = space.indices
    pieces: list[_Piece] = []
    reference: dict[str, np.ndarray] | None = None

    chunk_store = None
    if store is not None:
        identity = {
            "space": space.fingerprint(),
            "function": fingerprint if fingerprint is not None else _fn_name(fn),
            "function_code": None if fingerprint is not None else function_code(fn),
            "model": describe(model),
            "key": _hash_tree(key),
            "jax_enable_x64": bool(jax.config.jax_enable_x64),
            "lanes": lanes,
        }
        chunk_store = ChunkStore(store, identity)  # holds the store's lock
        try:
            for chunk in chunk_store.load(indices):
                _check_outputs(reference, chunk["outputs"], f"{chunk['path']!r}")
                reference = reference or chunk["outputs"]
                pieces.append((chunk["index"], chunk["status"], chunk["outputs"]))
        except BaseException:
            chunk_store.close()
            raise

    loaded = np.concatenate([p[0] for p in pieces]) if pieces else np.zeros(0, int)
    todo = indices[~np.isin(indices, loaded)]
    chunks = [todo[s : s + size] for s in range(0, len(todo), size)]

    from tqdm.auto import tqdm

    bar = tqdm(
        total=len(space),
        initial=len(space) - len(todo),
        disable=not progress,
        unit="pt",
        desc="sweep (compiling…)" if chunks else "sweep",
        dynamic_ncols=True,
    )
    try:
        runner = executor.run(job, space._axis_batch, chunks, lanes, bar.update)
        compiling = bool(chunks)
        try:
            for c, outcome in runner:
                if compiling:  # the first chunk compiled the program
                    bar.desc, compiling = "sweep", False
                flat = chunks[c]
                if isinstance(outcome, Exception):
                    what = (
                        f"chunk {c} of {len(chunks)} (points {flat[0]}..{flat[-1]}, "
                        f"{_describe_params(space, flat)})"
                    )
                    message = f"{what} failed: {_summary(outcome)}"
                    if on_error == "raise":
                        partial = _assemble(space, pieces)
                        raise SweepError("Sweep " + message, partial, c, flat) from (
                            outcome
                        )
                    good, bad, _ = _point_by_point(executor, job, space, flat, lanes)
                    failed = ", ".join(
                        f"{i} ({_describe_params(space, np.array([i]))})"
                        for i in bad[:5]
                    ) + (f" and {len(bad) - 5} more" if len(bad) > 5 else "")
                    warnings.warn(
                        f"Sweep {message}. Re-run point by point, {len(bad)} of "
                        f"{len(flat)} points failed and are marked 'error': "
                        f"{failed or 'none'}.",
                        stacklevel=2,
                    )
                    if len(bad):
                        pieces.append((bad, np.full(len(bad), "error", "<U9"), None))
                    bar.update(len(flat))
                    if good is None:
                        continue
                    flat, outcome = good
                _check_outputs(reference, outcome, f"chunk {c}")
                reference = reference or outcome
                status = _status(outcome, len(flat))
                if chunk_store is not None:
                    chunk_store.write(flat, status, outcome)
                pieces.append((flat, status, outcome))
        finally:
            runner.close()
    finally:
        bar.close()
        if chunk_store is not None:
            chunk_store.close()
    return _assemble(space, pieces)


def _point_by_point(
    executor: AbstractExecution,
    job: Job,
    space: Space,
    flat: np.ndarray,
    lanes: int,
) -> tuple[
    "tuple[np.ndarray, dict[str, np.ndarray]] | None", np.ndarray, Exception | None
]:
    """Re-run a failed chunk one point per chunk (the same compiled program, so
    the points that succeed get the bytes they would have had): ((indices,
    outputs) of the good points or None, indices of the failing points, the first
    failure)."""
    singles = [flat[i : i + 1] for i in range(len(flat))]
    rows: dict[int, dict[str, np.ndarray]] = {}
    bad = []
    first = None
    runner = executor.run(job, space._axis_batch, singles, lanes, lambda n: None)
    try:
        for c, outcome in runner:
            if isinstance(outcome, Exception):
                bad.append(int(singles[c][0]))
                first = first or outcome
            else:
                rows[c] = outcome
    finally:
        runner.close()
    bad_idx = np.array(sorted(bad), np.int64)
    if not rows:
        return None, bad_idx, first
    order = sorted(rows)
    good_idx = np.array([int(singles[c][0]) for c in order], np.int64)
    names = rows[order[0]]
    outputs = {k: np.concatenate([rows[c][k] for c in order]) for k in names}
    return (good_idx, outputs), bad_idx, first


#: (flat indices, status per point, outputs or None for failed chunks)
_Piece = tuple[np.ndarray, np.ndarray, "dict[str, np.ndarray] | None"]


def _assemble(space: Space, pieces: list[_Piece]) -> SweepResult:
    """Concatenate chunks into one result, rows in the order of the space."""
    indices = space.indices
    if pieces:
        flat = np.concatenate([p[0] for p in pieces]).astype(np.int64)
        status = np.concatenate([p[1] for p in pieces]).astype("<U9")
    else:
        flat = np.zeros(0, np.int64)
        status = np.zeros(0, "<U9")
    sorter = np.argsort(indices, kind="stable")
    position = sorter[np.searchsorted(indices, flat, sorter=sorter)]
    position, first = np.unique(position, return_index=True)
    index = indices[position]
    outputs: dict[str, np.ndarray] = {}
    example = next((p[2] for p in pieces if p[2] is not None), {})
    failed = any(p[2] is None for p in pieces)
    for name, value in example.items():
        dtype = value.dtype
        if failed and dtype.kind not in "fc":
            dtype = np.result_type(dtype, np.float32)
        cols = []
        for p_flat, _, p_out in pieces:
            if p_out is None:
                cols.append(np.full((len(p_flat),) + value.shape[1:], np.nan, dtype))
            else:
                cols.append(p_out[name].astype(dtype, copy=False))
        outputs[name] = np.concatenate(cols)[first]
    params = dict(zip(space.axis_names, space._axis_batch(index)))
    return SweepResult(
        index=index,
        status=status[first],
        params=params,
        outputs=outputs,
        coords=space.coords,
        grid_shape=space.grid_shape,
    )
