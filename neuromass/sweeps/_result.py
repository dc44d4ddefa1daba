"""SweepResult: the tidy outcome of a sweep, and SweepError."""

import json
import math
import os
from collections.abc import Sequence
from typing import Any

import equinox as eqx
import numpy as np


_TABLES_HINT = 'pip install "neuromass[tables]"'
_FORMAT = "neuromass-sweep-result"
_VERSION = 2  # 2: the file ends with the SHA-256 of its bytes (its zip comment)
_WHAT = "sweep result"
_FIX = (
    "run the sweep again and save it (with its `store=`, the finished points are "
    "reloaded, not recomputed)"
)


def _require(module: str, what: str):
    try:
        return __import__(module)
    except ImportError as e:
        raise ImportError(
            f"`SweepResult.{what}()` needs {module}, which is not installed: "
            f"{_TABLES_HINT}"
        ) from e


class SweepResult(eqx.Module):
    """The outcome of `neuromass.sweep`, one row per point.

    - `index`: each point's flat index in the unsliced space (for a product space,
      its position in the C-ordered grid);
    - `status`: `"ok"`, `"nonfinite"` (an output holds NaN or inf) or `"error"`
      (its chunk raised, see `sweep(on_error=...)`);
    - `params[path]`: the value of each swept parameter at each point (leading
      axis = points; array-valued parameters keep their shape);
    - `outputs[name]`: every output of the function (leading axis = points);
    - `coords[path]`: the values of each axis (for grids and plots);
    - `grid_shape`: the product grid shape, or `None` for zip spaces.

    `table` is a long-format dict of NumPy columns (`"index"`, one per scalar
    parameter, one per scalar output, `"status"`); `to_pandas()` and `to_xarray()`
    convert it. Rows can be selected with `result[i]`, `result[a:b]`, an index array
    or a boolean mask such as `result[result.ok]`.

    !!! example

        ```python
        import jax.numpy as jnp
        from neuromass.sweeps import GridAxis, Space, sweep

        space = Space({"a": GridAxis(0.0, 1.0, 3), "b": GridAxis(1.0, 2.0, 2)})
        res = sweep(lambda p: {"s": p["a"] * p["b"]}, space, progress=False)
        res.table["s"]         # 6 values, one per point
        res.grid("s").shape    # (3, 2)
        res[res.ok].to_pandas()
        ```
    """

    index: np.ndarray
    status: np.ndarray
    params: dict[str, np.ndarray]
    outputs: dict[str, np.ndarray]
    coords: dict[str, np.ndarray]
    grid_shape: tuple[int, ...] | None = eqx.field(static=True)

    def __check_init__(self):
        n = len(self.index)
        for kind, cols in (("params", self.params), ("outputs", self.outputs)):
            for name, col in cols.items():
                if col.shape[:1] != (n,):
                    raise ValueError(
                        f"`SweepResult.{kind}[{name!r}]` has {col.shape[:1]} rows; "
                        f"expected {n}."
                    )
        if self.status.shape != (n,):
            raise ValueError("`SweepResult.status` must have one entry per row.")

    def __len__(self) -> int:
        return len(self.index)

    @property
    def axis_names(self) -> tuple[str, ...]:
        """The swept parameter paths, in the order of the grid dimensions."""
        return tuple(self.coords)

    @property
    def ok(self) -> np.ndarray:
        """Boolean mask of the rows whose status is `"ok"`."""
        return self.status == "ok"

    @property
    def table(self) -> dict[str, np.ndarray]:
        """Long-format columns: `index`, scalar parameters, scalar outputs, `status`.

        Array-valued parameters and outputs are left out; find them in `params` and
        `outputs`.
        """
        cols: dict[str, np.ndarray] = {"index": self.index}
        for name, col in self.params.items():
            if col.ndim == 1:
                cols[name] = col
        for name, col in self.outputs.items():
            if col.ndim == 1 and name not in cols:
                cols[name] = col
        cols["status"] = self.status
        return cols

    def __getitem__(self, item: int | slice | Sequence[int] | np.ndarray):
        """Select rows: an int (negative counts from the end), a slice, an integer
        array or a boolean mask. Returns a smaller `SweepResult`."""
        if isinstance(item, int | np.integer) and not isinstance(item, bool):
            n = len(self)
            i = int(item)
            if not -n <= i < n:
                raise IndexError(f"SweepResult index {i} out of range for {n} rows.")
            sel: Any = np.array([i % n])
        elif isinstance(item, slice):
            sel = item
        else:
            sel = np.asarray(item)
            if sel.dtype != bool and not np.issubdtype(sel.dtype, np.integer):
                raise TypeError(
                    "SweepResult rows are selected with an int, a slice, an integer "
                    f"array or a boolean mask; got {item!r}."
                )
        return SweepResult(
            index=self.index[sel],
            status=self.status[sel],
            params={k: v[sel] for k, v in self.params.items()},
            outputs={k: v[sel] for k, v in self.outputs.items()},
            coords=self.coords,
            grid_shape=self.grid_shape,
        )

    # ---------------------------------------------------------------------- grid
    def _grid_of(self, col: np.ndarray) -> np.ndarray:
        if self.grid_shape is None:
            raise ValueError(
                "`SweepResult.grid` needs a product space; this sweep used "
                'mode="zip". Use `table` or `outputs` instead.'
            )
        n_full = math.prod(self.grid_shape)
        trailing = col.shape[1:]
        if len(self) == n_full and np.array_equal(self.index, np.arange(n_full)):
            return col.reshape(self.grid_shape + trailing)
        if col.dtype.kind in "fc":
            dtype = col.dtype
        else:
            dtype = np.result_type(col.dtype, np.float32)
        out = np.full((n_full,) + trailing, np.nan, dtype=dtype)
        out[self.index] = col
        return out.reshape(self.grid_shape + trailing)

    def grid(self, name: str) -> np.ndarray:
        """An output (or parameter) reshaped to the product grid.

        **Arguments:**

        - `name`: an output name, or a parameter path.

        **Returns:**

        An array of shape `grid_shape + value_shape`, dimensions in the order of
        `axis_names`. Points missing from this result (sliced spaces, partial
        results) are NaN.
        """
        if name in self.outputs:
            return self._grid_of(self.outputs[name])
        if name in self.params:
            return self._grid_of(self.params[name])
        raise KeyError(
            f"No output or parameter named {name!r}; outputs are "
            f"{sorted(self.outputs)}, parameters {sorted(self.params)}."
        )

    # --------------------------------------------------------------- conversions
    def to_pandas(self):
        """The `table` as a `pandas.DataFrame` (needs the `tables` extra)."""
        pd = _require("pandas", "to_pandas")
        return pd.DataFrame(self.table)

    def _coord_values(self, path: str) -> np.ndarray:
        c = self.coords[path]
        return c if c.ndim == 1 else np.arange(c.shape[0])

    def to_xarray(self):
        """The outputs as an `xarray.Dataset` (needs the `tables` extra).

        For a product space the dimensions are the axis paths with the axis values
        as coordinates (array-valued axes use their positions `0..size-1`); each
        output becomes a variable over those dimensions, plus `<name>_dim_<k>`
        dimensions for array outputs, and `status` is a variable too. For a zip
        space the single dimension is `"point"`, with the scalar parameters and the
        flat `index` as coordinates.
        """
        xr = _require("xarray", "to_xarray")
        if self.grid_shape is not None:
            dims = list(self.axis_names)
            coords = {p: self._coord_values(p) for p in dims}
            data = {}
            for name, col in self.outputs.items():
                extra = [f"{name}_dim_{k}" for k in range(col.ndim - 1)]
                data[name] = (dims + extra, self._grid_of(col))
            status = np.full(math.prod(self.grid_shape), "missing", dtype="<U9")
            status[self.index] = self.status
            data["status"] = (dims, status.reshape(self.grid_shape))
            return xr.Dataset(data, coords=coords)
        data = {}
        for name, col in self.outputs.items():
            extra = [f"{name}_dim_{k}" for k in range(col.ndim - 1)]
            data[name] = (["point"] + extra, col)
        data["status"] = (["point"], self.status)
        coords: dict[str, Any] = {"index": ("point", self.index)}
        for p, col in self.params.items():
            if col.ndim == 1:
                coords[p] = ("point", col)
        return xr.Dataset(data, coords=coords)

    # ------------------------------------------------------------------- storage
    def save(self, path: str | os.PathLike) -> None:
        """Write the result to one `.npz` file, atomically.

        Arrays are stored as NumPy arrays and the names and layout as a JSON
        string inside the same file; nothing is pickled. The archive's comment
        holds the SHA-256 of the file's bytes, which `load` verifies. Read it back
        with `neuromass.sweeps.SweepResult.load`.
        """
        from .._io._npz import write_npz

        arrays: dict[str, np.ndarray] = {
            "index": self.index,
            "status": self.status.astype(str),
        }
        meta: dict[str, Any] = {
            "format": _FORMAT,
            "version": _VERSION,
            "params": list(self.params),
            "outputs": list(self.outputs),
            "coords": list(self.coords),
            "grid_shape": None if self.grid_shape is None else list(self.grid_shape),
        }
        for kind, prefix in (("params", "p"), ("outputs", "o"), ("coords", "c")):
            for i, col in enumerate(getattr(self, kind).values()):
                if col.dtype.kind == "O":
                    raise TypeError(f"Cannot save object arrays ({kind}).")
                arrays[f"{prefix}{i}"] = col
        arrays["meta"] = np.array(json.dumps(meta))
        write_npz(os.fspath(path), arrays, compress=False)

    @classmethod
    def load(cls, path: str | os.PathLike) -> "SweepResult":
        """Read a result written by `save` (with `allow_pickle=False`).

        The file's SHA-256 checksum is verified before anything is read. A file
        that is not a saved result, or is damaged (truncated, modified), raises a
        `ValueError` naming it; a missing file, `FileNotFoundError`. Files saved
        before checksums were added (version 1) are read without one.
        """
        from .._io._checksum import MISSING, damaged
        from .._io._npz import read_npz

        where = os.fspath(path)
        files, check = read_npz(where, _WHAT, _FIX)
        meta = files.get("meta")
        try:
            meta = json.loads(str(meta[()])) if meta is not None else None
        except (ValueError, IndexError):
            meta = None
        if not isinstance(meta, dict) or meta.get("format") != _FORMAT:
            raise ValueError(f"{where!r} is not a saved SweepResult.")
        if meta.get("version", 1) >= 2 and check != "verified":
            raise damaged(where, _WHAT, _FIX, MISSING)
        try:
            cols = {}
            for kind, prefix in (("params", "p"), ("outputs", "o"), ("coords", "c")):
                cols[kind] = {
                    name: files[f"{prefix}{i}"] for i, name in enumerate(meta[kind])
                }
            grid = meta["grid_shape"]
            return cls(
                index=files["index"],
                status=files["status"],
                params=cols["params"],
                outputs=cols["outputs"],
                coords=cols["coords"],
                grid_shape=None if grid is None else tuple(grid),
            )
        except (KeyError, TypeError, ValueError) as e:
            raise ValueError(
                f"Cannot read the sweep result {where!r}: its layout is not that of "
                f"`SweepResult.save` ({type(e).__name__}: {e}). Restore it from a "
                f"copy, or {_FIX}."
            ) from None

    def __repr__(self) -> str:
        counts = {str(s): int(np.sum(self.status == s)) for s in np.unique(self.status)}
        return (
            f"SweepResult(points={len(self)}, params={list(self.params)}, "
            f"outputs={list(self.outputs)}, status={counts})"
        )


SweepResult.__init__.__doc__ = """Usually built by `sweep`; see the class docstring.

**Arguments:**

- `index`: flat index of each row in the unsliced space, shape `(n,)`.
- `status`: `"ok"`, `"nonfinite"` or `"error"` per row.
- `params`: parameter path -> values per row.
- `outputs`: output name -> values per row.
- `coords`: axis path -> axis values.
- `grid_shape`: shape of the product grid, or `None` (zip spaces).
"""


class SweepError(RuntimeError):
    """A chunk of a sweep raised an exception.

    The message names the failing chunk and the parameter values it held; the
    original exception is chained as `__cause__`.

    **Attributes:**

    - `partial`: a `neuromass.sweeps.SweepResult` with every point finished
      before the failure (and those loaded from the store). With a `store`, those
      chunks are also on disk and a re-run resumes from them.
    - `chunk`: the number of the failing chunk.
    - `indices`: the flat indices of the failing chunk's points.
    """

    def __init__(
        self,
        message: str,
        partial: SweepResult,
        chunk: int,
        indices: np.ndarray,
    ):
        super().__init__(message)
        self.partial = partial
        self.chunk = chunk
        self.indices = indices
